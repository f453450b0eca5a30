//! The `osc4rs` binary as a shell user runs it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::UdpSocket;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use osc_test_support::free_port;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_osc4rs"))
}

fn cmd(args: &[&str]) -> Command {
    let mut c = bin();
    c.args(args);
    c
}

fn corpus() -> Vec<String> {
    let path = osc_test_support::testdata("text/corpus.txt");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn run_with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn encode_then_decode_gives_the_corpus_back() {
    let text = corpus().join("\n") + "\n";
    let enc = run_with_stdin(cmd(&["encode"]), &text);
    assert!(
        enc.status.success(),
        "{}",
        String::from_utf8_lossy(&enc.stderr)
    );
    let hex = String::from_utf8(enc.stdout).unwrap();
    assert_eq!(hex.lines().count(), corpus().len());
    let dec = run_with_stdin(cmd(&["decode"]), &hex);
    assert!(dec.status.success());
    assert_eq!(
        String::from_utf8(dec.stdout)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        corpus()
    );
}

#[test]
fn decode_reports_errors_per_line() {
    let out = bin()
        .args(["decode", "2f6100", "2f6100002c780000", "2f7800002c000000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "!error /a size 3 at offset 0 is not a multiple of 4"
    );
    assert_eq!(lines[1], "!error /a unknown type tag 'x' at offset 5");
    assert_eq!(lines[2], "/x ,");
}

#[test]
fn decode_rejects_every_hostile_packet_of_the_shared_corpus() {
    let path = osc_test_support::testdata("hostile/packets.txt");
    let hex: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').nth(1).unwrap().to_owned())
        .collect();
    let out = run_with_stdin(cmd(&["decode"]), &(hex.join("\n") + "\n"));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), hex.len());
    for line in text.lines() {
        assert!(line.starts_with("!error "), "{line}");
    }
}

#[test]
fn bad_notation_points_at_the_column() {
    let out = bin().args(["encode", "/a ,if 1 x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("line 1, column 10: expected a number"),
        "{err}"
    );
    assert!(err.contains("  /a ,if 1 x\n           ^"), "{err}");
}

#[test]
fn match_prints_matches_and_fails_on_none() {
    let out = bin()
        .args([
            "match",
            "/synth/{1,2}/[a-f]*",
            "/synth/1/freq",
            "/synth/3/freq",
            "/synth/2/amp",
            "/synth/2/zoom",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "/synth/1/freq\n/synth/2/amp\n"
    );
    let none = bin().args(["match", "//freq", "/a/amp"]).output().unwrap();
    assert_eq!(none.status.code(), Some(1));
    let prefix = bin()
        .args([
            "match",
            "--prefix",
            "/test",
            "/testing",
            "/test/x/y",
            "/tes",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(prefix.stdout).unwrap(),
        "/testing\n/test/x/y\n"
    );
    let regex = bin()
        .args(["match", "--regex", "^/ch/[0-9]+$", "/ch/12", "/ch/x"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(regex.stdout).unwrap(), "/ch/12\n");
    let bad = bin().args(["match", "/a/[b", "/a/b"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

struct Dump(Child);
impl Drop for Dump {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_dump(args: &[&str]) -> Dump {
    start_dump_like("dump", args)
}

/// `dump` or `record` (same options), listening after a short settle.
fn start_dump_like(command: &str, args: &[&str]) -> Dump {
    let child = bin()
        .arg(command)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Dump(child)
}

fn finish(d: Dump) -> String {
    let mut d = d;
    let out = std::mem::replace(&mut d.0, Command::new("true").spawn().unwrap())
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn send_to_dump_over_udp_tcp_and_slip_packet_per_line() {
    let text = corpus().join("\n") + "\n";
    for proto in ["udp", "tcp", "slip"] {
        let port = free_port().to_string();
        let dump = start_dump(&[
            "--proto",
            proto,
            "--port",
            &port,
            "--packets",
            "--timeout",
            "2",
        ]);
        let sent = run_with_stdin(cmd(&["send", "--proto", proto, "--port", &port]), &text);
        assert!(
            sent.status.success(),
            "{proto}: {}",
            String::from_utf8_lossy(&sent.stderr)
        );
        let got = finish(dump);
        assert_eq!(got.lines().collect::<Vec<_>>(), corpus(), "{proto}");
    }
}

#[test]
fn dump_prints_one_line_per_message_with_bundle_prefixes() {
    let port = free_port().to_string();
    let dump = start_dump(&["--port", &port, "--timeout", "1.5"]);
    let packets = [
        "/solo ,i 1",
        "#bundle(00000000.00000001) { /a ,i 1 ; #bundle(eeb00000.00000000) { /b ,s \"x\" } ; /c , }",
    ];
    let st = bin()
        .args(["send", "--port", &port])
        .args(packets)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        finish(dump),
        "/solo ,i 1\n\
         #bundle(00000000.00000001) /a ,i 1\n\
         #bundle(00000000.00000001) #bundle(eeb00000.00000000) /b ,s \"x\"\n\
         #bundle(00000000.00000001) /c ,\n"
    );
}

#[test]
fn dump_prints_an_error_line_for_every_dropped_frame() {
    use std::io::Write as _;
    let port = free_port();
    let dump = start_dump(&[
        "--proto",
        "tcp",
        "--auto",
        "--port",
        &port.to_string(),
        "--timeout",
        "1.5",
    ]);
    // A stream that is neither framing, and one with a negative length prefix.
    let mut x = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    x.write_all(b"xxxxxxxx").unwrap();
    let mut neg = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    neg.write_all(b"\xff\xff\xff\xf0/a\0\0,\0\0\0").unwrap();
    let got = finish(dump);
    let errors: Vec<&str> = got
        .lines()
        .filter(|l| l.starts_with("!error ? dropped (malformed frame) from 127.0.0.1:"))
        .collect();
    assert_eq!(errors.len(), 2, "{got}");
}

#[test]
fn dump_output_per_packet_is_bounded() {
    // 30 nested bundles around 1,500 empty messages: printing each message with its
    // 30 prefixes would take about 70 times the datagram's size.
    let mut inner = Vec::new();
    for _ in 0..1500 {
        inner.extend_from_slice(&8u32.to_be_bytes());
        inner.extend_from_slice(b"/\0\0\0,\0\0\0");
    }
    let mut packet = [b"#bundle\0".as_slice(), &[0, 0, 0, 0, 0, 0, 0, 1], &inner].concat();
    for _ in 0..29 {
        packet = [
            b"#bundle\0".as_slice(),
            &[0, 0, 0, 0, 0, 0, 0, 1],
            &(packet.len() as u32).to_be_bytes(),
            &packet,
        ]
        .concat();
    }
    let port = free_port();
    let dump = start_dump(&["--port", &port.to_string(), "--timeout", "1.5"]);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(&packet, ("127.0.0.1", port)).unwrap();
    let got = finish(dump);
    assert!(
        got.len() <= 16 * packet.len() + 4096 + 200,
        "{} bytes printed for a {}-byte packet",
        got.len(),
        packet.len()
    );
    let last = got.lines().last().unwrap();
    assert!(last.starts_with("!note "), "{last}");
    assert!(last.contains("more messages of this"), "{last}");
}

#[test]
fn dump_survives_garbage_filters_and_hexdumps() {
    let port = free_port();
    let dump = start_dump(&[
        "--port",
        &port.to_string(),
        "--timeout",
        "1.5",
        "--filter",
        "/keep/*",
        "--source",
    ]);
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let me = s.local_addr().unwrap();
    s.send_to(b"/bad\0\0\0\0,x\0\0", ("127.0.0.1", port))
        .unwrap();
    s.send_to(b"garbage!", ("127.0.0.1", port)).unwrap();
    let st = bin()
        .args([
            "send",
            "--port",
            &port.to_string(),
            "/keep/this ,i 1",
            "/drop/that ,i 2",
            "/keep/too ,",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let out = finish(dump);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("{me} !error /bad unknown type tag 'x' at offset 9")
    );
    assert_eq!(
        lines[1],
        format!(
            "{me} !error ? data at offset 0 is neither a message (`/...`) nor a bundle (`#bundle`)"
        )
    );
    assert!(lines[2].ends_with(" /keep/this ,i 1"));
    assert!(lines[3].ends_with(" /keep/too ,"));
    assert_eq!(lines.len(), 4);

    let port = free_port().to_string();
    let dump = start_dump(&["--port", &port, "--timeout", "1", "--hex"]);
    bin()
        .args(["send", "--port", &port, "/hex ,i 7"])
        .status()
        .unwrap();
    assert_eq!(
        finish(dump),
        "/hex ,i 7\n000:2f686578 00000000 2c690000 00000007     /hex .... ,i.. ....\n"
    );
}

#[test]
fn send_repeat_rate_and_file() {
    let port = free_port().to_string();
    let dump = start_dump(&["--port", &port, "--timeout", "2"]);
    let file = std::env::temp_dir().join(format!("osc4rs-send-{port}.txt"));
    std::fs::write(&file, "/f ,i 1\n\n/f ,i 2\n").unwrap();
    let start = std::time::Instant::now();
    let st = bin()
        .args([
            "send", "--port", &port, "--repeat", "3", "--rate", "20", "--file",
        ])
        .arg(&file)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        start.elapsed() >= Duration::from_millis(200),
        "6 packets at 20/s take 250 ms"
    );
    assert_eq!(finish(dump).lines().count(), 6);
    let _ = std::fs::remove_file(file);
}

#[test]
fn errors_a_shell_user_can_act_on() {
    let port = free_port();
    let _busy = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let out = bin()
        .args(["dump", "--port", &port.to_string(), "--timeout", "0.1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("port is already in use"));
    let out = bin()
        .args([
            "send",
            "--host",
            "no-such-host.invalid",
            "--port",
            "9",
            "/a ,",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot resolve host"));
    let closed = free_port().to_string();
    let out = bin()
        .args(["send", "--proto", "tcp", "--port", &closed, "/a ,"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

#[test]
fn send_waits_for_replies() {
    // A tiny echo peer: replies to the source of every datagram.
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = echo.local_addr().unwrap().port().to_string();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        echo.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        if let Ok((n, from)) = echo.recv_from(&mut buf) {
            let _ = echo.send_to(&buf[..n], from);
        }
    });
    let out = bin()
        .args(["send", "--port", &port, "--wait-reply", "0.5", "/status ,"])
        .output()
        .unwrap();
    t.join().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "/status ,\n");
}

#[test]
fn demo_runs_in_every_mode() {
    for mode in ["eventloop", "comthreads", "allthreads"] {
        for tcp in [false, true] {
            let mut c = cmd(&["demo", "--mode", mode]);
            if tcp {
                c.arg("--tcp");
            }
            let out = c.output().unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(out.status.success(), "{mode} tcp={tcp}: {text}");
            assert!(text.lines().last().unwrap().contains(", ok)"), "{text}");
            assert!(text.contains("(delayed bundle)"), "{text}");
        }
    }
}

#[test]
fn bench_reports_every_mode_in_one_and_two_processes() {
    let out = cmd(&["bench", "--count", "500", "--rounds", "20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for mode in ["eventloop", "comthreads", "allthreads"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {mode} | 1 | 500 | 500 | 0 |")))
            .unwrap_or_else(|| panic!("no complete {mode} row in\n{stdout}"));
        assert!(row.contains(" µs |"), "{row}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("latency"));

    let out = cmd(&[
        "bench",
        "--count",
        "300",
        "--rounds",
        "10",
        "--mode",
        "comthreads",
        "--two-processes",
    ])
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| comthreads | 2 | 300 | 300 | 0 |"),
        "{stdout}"
    );
}

#[test]
fn dump_exits_cleanly_on_sigint_and_sigterm() {
    for signal in ["INT", "TERM"] {
        let port = free_port().to_string();
        let mut dump = start_dump(&["--port", &port]);
        let pid = dump.0.id().to_string();
        let st = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(st.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let status = loop {
            if let Some(s) = dump.0.try_wait().unwrap() {
                break s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "dump ignored SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "SIG{signal}");
    }
}

/// Multicast and broadcast never leave a private network namespace (`unshare -n`,
/// root); skipped with a message where one cannot be made.
#[test]
fn dump_joins_multicast_and_receives_broadcast_in_a_private_namespace() {
    let probe = Command::new("unshare")
        .args(["-n", "--", "ip", "link", "set", "lo", "up"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: cannot create a network namespace (needs root, unshare and ip)");
        return;
    }
    let bin = env!("CARGO_BIN_EXE_osc4rs");
    let script = format!(
        "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo || exit 77
         {bin} dump --port 9700 --group 239.255.1.1 --timeout 1.5 & sleep 0.4
         {bin} send --host 239.255.1.1 --port 9700 --ttl 1 '/mc ,i 1'; wait
         {bin} dump --host 0.0.0.0 --port 9701 --broadcast --timeout 1.5 & sleep 0.4
         {bin} send --broadcast --host 127.255.255.255 --port 9701 '/bc ,i 2'; wait"
    );
    let out = Command::new("unshare")
        .args(["-n", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    if out.status.code() == Some(77) {
        eprintln!("skipping: the namespace could not be set up");
        return;
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "/mc ,i 1\n/bc ,i 2\n"
    );
}

#[test]
fn a_bare_address_is_a_message_without_arguments() {
    let out = bin().args(["encode", "/status"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "2f737461747573002c000000"
    );
}

#[test]
fn wait_reply_without_a_reply_exits_non_zero() {
    // A socket that receives and never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let out = bin()
        .args(["send", "--port", &port, "--wait-reply", "0.3", "/status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no reply within 0.3 s"));
    // ...and zero when the reply comes (the first request still waits in the socket).
    let mut buf = [0u8; 64];
    silent.set_nonblocking(true).unwrap();
    while silent.recv(&mut buf).is_ok() {}
    silent.set_nonblocking(false).unwrap();
    let responder = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = silent.recv_from(&mut buf).unwrap();
        silent.send_to(&buf[..n], from).unwrap();
    });
    let out = bin()
        .args(["send", "--port", &port, "--wait-reply", "2", "/status"])
        .output()
        .unwrap();
    responder.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("/status ,"));
}

#[test]
fn record_then_replay_gives_the_same_bytes_in_order_with_the_same_gaps() {
    let dir = std::env::temp_dir().join(format!("osc4rs-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("show.rec");
    let port = free_port();
    let recorder = start_dump_like(
        "record",
        &[
            "--port",
            &port.to_string(),
            "--out",
            file.to_str().unwrap(),
            "--timeout",
            "2",
        ],
    );
    // 20 packets 20 ms apart, a bundle and a malformed one among them.
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut sent = Vec::new();
    for i in 0..20u8 {
        let data = match i {
            7 => b"not osc!".to_vec(),
            9 => osc4rs::Packet::from(
                osc4rs::Bundle::immediate().add(osc4rs::Message::new("/in/bundle").arg(9)),
            )
            .to_bytes()
            .unwrap(),
            _ => osc4rs::Packet::from(osc4rs::Message::new(format!("/n/{i}")).arg(i32::from(i)))
                .to_bytes()
                .unwrap(),
        };
        tx.send_to(&data, ("127.0.0.1", port)).unwrap();
        sent.push(data);
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = finish(recorder);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# osc4rs recording 1\n# started "),
        "{text}"
    );
    assert_eq!(text.lines().count(), 22, "{text}");
    // `osc4rs decode` reads a recording.
    let decoded = bin()
        .args(["decode"])
        .arg(text.lines().nth(2).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&decoded.stdout).trim(), "/n/0 ,i 0");

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let to = rx.local_addr().unwrap().port().to_string();
    let replay = bin()
        .args(["replay", file.to_str().unwrap(), "--port", &to])
        .spawn()
        .unwrap();
    let mut got = Vec::new();
    let mut times = Vec::new();
    let mut buf = [0u8; 256];
    for _ in 0..20 {
        let n = rx.recv(&mut buf).unwrap();
        got.push(buf[..n].to_vec());
        times.push(std::time::Instant::now());
    }
    let mut replay = replay;
    assert!(replay.wait().unwrap().success());
    assert_eq!(got, sent, "not the same bytes in the same order");
    // The gaps are the recorded ones (20 ms) within a loose bound for a loaded
    // machine; the measured jitter is in docs/performance.md.
    let gaps: Vec<f64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
        .collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!(
        (15.0..30.0).contains(&median),
        "median gap {median} ms: {gaps:?}"
    );

    // A damaged file: an error with the line number, or the good part with --skip-bad.
    let damaged = dir.join("damaged.rec");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "0.5 - in zz";
    std::fs::write(&damaged, lines.join("\n") + "\n").unwrap();
    let out = bin()
        .args([
            "replay",
            damaged.to_str().unwrap(),
            "--port",
            &to,
            "--speed",
            "50",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 4"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args([
            "replay",
            damaged.to_str().unwrap(),
            "--port",
            &to,
            "--speed",
            "50",
            "--skip-bad",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("replayed 19 packets"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `replay --retime` moves bundle timetags to the time of the replay, keeping each
/// bundle's lead over its arrival; without it the bytes are the recorded ones; a
/// recording without its `# started` line cannot be retimed.
#[test]
fn replay_retime_keeps_each_bundles_lead_over_its_arrival() {
    use osc4rs::record::{Record, write_header, write_record, write_started};
    use osc4rs::{Bundle, Message, Packet, TimeTag};
    let dir = std::env::temp_dir().join(format!("osc4rs-retime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Recorded an hour ago: a bundle that arrived 0.1 s in, due 0.5 s after arriving,
    // holding an immediate bundle.
    let started = TimeTag::now() - Duration::from_secs(3600);
    let due = started + Duration::from_millis(600);
    let inner = Bundle::immediate().add(Message::new("/inner"));
    let bundle = Packet::from(
        Bundle::new(due)
            .add(Message::new("/note").arg(60))
            .add(inner),
    );
    let record = Record {
        at: Duration::from_millis(100),
        peer: None,
        channel: "in".into(),
        data: bundle.to_bytes().unwrap(),
    };
    let mut text = Vec::new();
    write_header(&mut text).unwrap();
    write_started(&mut text, started).unwrap();
    write_record(&mut text, &record).unwrap();
    let file = dir.join("bundle.rec");
    std::fs::write(&file, &text).unwrap();

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let to = rx.local_addr().unwrap().port().to_string();
    let replay = |extra: &[&str]| {
        let out = bin()
            .args(["replay", file.to_str().unwrap(), "--port", &to])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut buf = [0u8; 256];
        let n = rx.recv(&mut buf).unwrap();
        (TimeTag::now(), Packet::decode(&buf[..n]).unwrap())
    };
    let (_, as_recorded) = replay(&[]);
    assert_eq!(as_recorded, bundle);
    let (arrived, retimed) = replay(&["--retime"]);
    let Packet::Bundle(b) = retimed else {
        panic!("not a bundle: {retimed:?}")
    };
    let lead = b.timetag.duration_since(arrived).unwrap_or_default();
    assert!(
        (Duration::from_millis(400)..=Duration::from_millis(500)).contains(&lead),
        "lead {lead:?}"
    );
    let Packet::Bundle(inner) = &b.content[1] else {
        panic!("{b:?}")
    };
    assert!(inner.timetag.is_immediate());

    let mut bare = Vec::new();
    write_header(&mut bare).unwrap();
    write_record(&mut bare, &record).unwrap();
    let old = dir.join("old.rec");
    std::fs::write(&old, &bare).unwrap();
    let out = bin()
        .args(["replay", old.to_str().unwrap(), "--port", &to, "--retime"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no '# started' line"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dump_and_send_take_endpoint_urls_unix_and_udp() {
    let dir = std::env::temp_dir().join(format!("osc4rs-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let udp_port = free_port();
    let cases = [
        format!("osc.unix://{}", dir.join("d.sock").display()),
        format!("osc.unix+stream://{}", dir.join("s.sock").display()),
        format!("osc.udp://127.0.0.1:{udp_port}"),
        format!("osc.tcp://127.0.0.1:{udp_port}"),
    ];
    for url in &cases {
        let dump = start_dump(&["--url", url, "--packets", "--timeout", "1.5"]);
        let sent = bin()
            .args(["send", "--url", url, "/via/url ,i 7"])
            .output()
            .unwrap();
        assert!(
            sent.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&sent.stderr)
        );
        assert_eq!(finish(dump).trim(), "/via/url ,i 7", "{url}");
    }
    // liblo's oscsend speaks osc.unix:// too.
    if osc_test_support::liblo() {
        let url = format!("osc.unix://{}", dir.join("liblo.sock").display());
        let dump = start_dump(&["--url", &url, "--timeout", "1.5"]);
        let st = Command::new("oscsend")
            .args([url.as_str(), "/from/liblo", "i", "5"])
            .status()
            .unwrap();
        assert!(st.success());
        assert_eq!(finish(dump).trim(), "/from/liblo ,i 5");
    }
    let bad = bin()
        .args(["send", "--url", "osc.udp://127.0.0.1", "/a"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad --url"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn osc_bytes(text: &str) -> Vec<u8> {
    text.parse::<osc4rs::Packet>().unwrap().to_bytes().unwrap()
}

#[test]
fn bridge_relays_udp_both_ways_with_a_filter_and_counts() {
    // The synth binds a port of its own choosing: a port found free a moment ago
    // can be taken by another test in between.
    let synth = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (a, b) = (free_port(), synth.local_addr().unwrap().port());
    synth
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let bridge = bin()
        .args([
            "bridge",
            &format!("listen:osc.udp://127.0.0.1:{a}"),
            &format!("osc.udp://127.0.0.1:{b}"),
            "--filter",
            "/keep/*",
            "--timeout",
            "2",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let surface = UdpSocket::bind("127.0.0.1:0").unwrap();
    surface
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    surface
        .send_to(&osc_bytes("/drop/me ,"), ("127.0.0.1", a))
        .unwrap();
    surface
        .send_to(&osc_bytes("/keep/fader ,f 0.5"), ("127.0.0.1", a))
        .unwrap();
    let mut buf = [0u8; 128];
    let (n, bridge_addr) = synth.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], &osc_bytes("/keep/fader ,f 0.5")[..]);
    // The synth answers the bridge; the surface that spoke gets it.
    synth
        .send_to(&osc_bytes("/keep/ack ,i 1"), bridge_addr)
        .unwrap();
    let n = surface.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], &osc_bytes("/keep/ack ,i 1")[..]);
    let out = bridge.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "listen:osc.udp://127.0.0.1:{a} -> osc.udp://127.0.0.1:{b}: 1 relayed, 0 dropped"
        )),
        "{err}"
    );
}

#[test]
fn bridge_joins_a_websocket_page_and_a_udp_synth() {
    let synth = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (w, b) = (free_port(), synth.local_addr().unwrap().port());
    synth
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let bridge = bin()
        .args([
            "bridge",
            &format!("listen:ws://127.0.0.1:{w}/"),
            &format!("osc.udp://127.0.0.1:{b}"),
            "--timeout",
            "3",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The page: a WebSocket client.
    let mut page = osc_channel::Reactor::new().unwrap();
    let mut cfg = osc_channel::TcpClientConfig::new(format!("127.0.0.1:{w}").parse().unwrap());
    cfg.framing = osc_channel::StreamFraming::WebSocket;
    let id = page.open_tcp_client("page", cfg).unwrap();
    page.send(id, osc_bytes("/page/slider ,f 0.75").into(), None)
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let mut buf = [0u8; 128];
    synth.set_nonblocking(true).unwrap();
    let (n, bridge_addr) = loop {
        page.poll(Some(Duration::from_millis(10)), |_| {}).unwrap();
        if let Ok(x) = synth.recv_from(&mut buf) {
            break x;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the synth got nothing"
        );
    };
    assert_eq!(&buf[..n], &osc_bytes("/page/slider ,f 0.75")[..]);
    synth
        .send_to(&osc_bytes("/synth/level ,f 0.2"), bridge_addr)
        .unwrap();
    let mut back = Vec::new();
    while back.is_empty() && std::time::Instant::now() < deadline {
        page.poll(Some(Duration::from_millis(10)), |p| {
            back.push(p.data.to_vec())
        })
        .unwrap();
    }
    assert_eq!(back, [osc_bytes("/synth/level ,f 0.2")]);
    let out = bridge.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real browser in the loop: liblo's oscsend (UDP) -> osc4rs bridge -> a page in
/// headless Chromium (osc.js over WebSocket) -> the bridge -> liblo's oscdump (UDP).
#[test]
fn liblo_to_a_browser_page_and_back_through_the_bridge() {
    use std::io::BufRead;
    let (Some(chromium), true) = (osc_test_support::chromium(), osc_test_support::liblo()) else {
        return;
    };
    if osc_test_support::oscjs().is_none() {
        return;
    }
    let (a, w, d) = (free_port(), free_port(), free_port());
    let mut dump = osc_test_support::Reaped(
        Command::new("oscdump")
            .args(["-L", &d.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let _bridge = bridge(&[
        &format!("listen:osc.udp://127.0.0.1:{a}"),
        &format!("listen:ws://127.0.0.1:{w}/"),
        &format!("osc.udp://127.0.0.1:{d}"),
    ]);
    let page = osc_test_support::testdata("browser/echo.html");
    let profile = std::env::temp_dir().join(format!("osc4rs-chromium-{}", std::process::id()));
    let url = format!("file://{}#ws://127.0.0.1:{w}/", page.display());
    let _browser = osc_test_support::headless(&chromium, &url, &profile).unwrap();
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let l = std::sync::Arc::clone(&lines);
    let out = dump.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            l.lock().unwrap().push(line);
        }
    });
    // Until the page has connected and answered: liblo sends again every half second.
    let deadline = std::time::Instant::now() + Duration::from_secs(25);
    let echoed = loop {
        let st = Command::new("oscsend")
            .args(["localhost", &a.to_string(), "/from/liblo", "is", "42", "hi"])
            .status()
            .unwrap();
        assert!(st.success());
        std::thread::sleep(Duration::from_millis(500));
        let seen = lines.lock().unwrap().clone();
        // oscdump prints each message after a timestamp (SSSSSSSS.FFFFFFFF).
        if let Some(line) = seen.iter().find(|l| l.contains(" /page/")) {
            break line.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the page never answered; oscdump saw {seen:?}"
        );
    };
    let message = |l: &str| l.split_once(' ').map(|(_, m)| m.to_owned());
    assert_eq!(
        message(&echoed).as_deref(),
        Some("/page/from/liblo is 42 \"hi\"")
    );
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| message(l).as_deref() == Some("/from/liblo is 42 \"hi\""))
    );
    let _ = std::fs::remove_dir_all(&profile);
}

/// The example control surface of the docs (examples/browser/faders.html) in headless
/// Chromium: its fader, moved by the page's `demo` option through the same input
/// event a hand makes, reaches liblo's oscdump through the bridge.
#[test]
fn the_example_fader_page_reaches_a_synth_through_the_bridge() {
    let (Some(chromium), true) = (osc_test_support::chromium(), osc_test_support::liblo()) else {
        return;
    };
    if osc_test_support::oscjs().is_none() {
        return;
    }
    let (w, d) = (free_port(), free_port());
    let (mut dump, lines) = printing_oscdump(d);
    let _bridge = bridge(&[
        &format!("listen:ws://127.0.0.1:{w}/"),
        &format!("osc.udp://127.0.0.1:{d}"),
    ]);
    let page = osc_test_support::workspace_root().join("examples/browser/faders.html");
    let profile = std::env::temp_dir().join(format!("osc4rs-faders-{}", std::process::id()));
    let url = format!("file://{}?url=ws://127.0.0.1:{w}/&demo", page.display());
    let _browser = osc_test_support::headless(&chromium, &url, &profile).unwrap();
    let line = lines
        .recv_timeout(Duration::from_secs(25))
        .expect("oscdump printed the fader's message");
    assert!(line.ends_with(" /fader/1 f 0.500000"), "{line}");
    let _ = dump.0.kill();
    let _ = std::fs::remove_dir_all(&profile);
}

/// liblo's oscdump listening on UDP `port`, and the lines it prints, as they come.
fn printing_oscdump(port: u16) -> (osc_test_support::Reaped, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut dump = osc_test_support::Reaped(
        Command::new("oscdump")
            .args(["-L", &port.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let out = dump.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (dump, rx)
}

/// Record and replay over the stream transports: packets sent over TCP (length
/// prefix), SLIP and WebSocket are recorded, then replayed over the same transport
/// to a dump, which sees every packet, in order, in the exact notation.
#[test]
fn record_and_replay_over_tcp_slip_and_websocket() {
    let dir = std::env::temp_dir().join(format!("osc4rs-rec-streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let packets: Vec<String> = corpus().into_iter().take(12).collect();
    let text = packets.join("\n") + "\n";
    for scheme in ["osc.tcp", "osc.slip", "ws"] {
        let file = dir.join(format!("{}.rec", scheme.replace('.', "-")));
        let url = format!("{scheme}://127.0.0.1:{}", free_port());
        let recorder = start_dump_like(
            "record",
            &[
                "--url",
                &url,
                "--out",
                file.to_str().unwrap(),
                "--timeout",
                "2",
            ],
        );
        let sent = run_with_stdin(cmd(&["send", "--url", &url]), &text);
        assert!(
            sent.status.success(),
            "{scheme}: {}",
            String::from_utf8_lossy(&sent.stderr)
        );
        let _ = finish(recorder);
        let recording = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            recording.lines().count(),
            2 + packets.len(),
            "{scheme}: {recording}"
        );

        let url = format!("{scheme}://127.0.0.1:{}", free_port());
        let dump = start_dump(&["--url", &url, "--packets", "--timeout", "2"]);
        let replay = bin()
            .args([
                "replay",
                file.to_str().unwrap(),
                "--url",
                &url,
                "--speed",
                "10",
            ])
            .output()
            .unwrap();
        assert!(
            replay.status.success(),
            "{scheme}: {}",
            String::from_utf8_lossy(&replay.stderr)
        );
        assert_eq!(
            finish(dump).lines().collect::<Vec<_>>(),
            packets,
            "{scheme}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `osc4rs bridge` between `endpoints`, for at most 30 s.
fn bridge(endpoints: &[&str]) -> osc_test_support::Reaped {
    osc_test_support::Reaped(
        bin()
            .arg("bridge")
            .args(endpoints)
            .args(["--timeout", "30"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Runs `args` to completion within 10 s (killed otherwise); its output.
fn run_bounded(args: &[&str]) -> Output {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn huge_and_infinite_durations_are_accepted_or_refused_without_a_panic() {
    // `inf` is "never": dump runs until stopped and prints what comes.
    let port = free_port().to_string();
    let mut dump = start_dump(&["--port", &port, "--timeout", "inf"]);
    let sent = run_bounded(&["send", "--port", &port, "--rate", "1e-300", "/inf ,i 1"]);
    assert!(
        sent.status.success(),
        "send --rate 1e-300: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        dump.0.try_wait().unwrap().is_none(),
        "dump --timeout inf ended"
    );
    let st = Command::new("kill")
        .args(["-TERM", &dump.0.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(finish(dump), "/inf ,i 1\n");
    // Values no `Duration` holds are bad input: exit 2 with the flag named.
    for args in [
        vec!["dump", "--port", &port, "--timeout", "1e20"],
        vec!["dump", "--port", &port, "--timeout", "nan"],
        vec!["send", "--port", &port, "--wait-reply", "1e20", "/a ,"],
        vec!["send", "--port", &port, "--wait-reply", "NaN", "/a ,"],
    ] {
        let out = run_bounded(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let flag = args.iter().find(|a| a.starts_with("--") && **a != "--port");
        assert!(err.contains(flag.unwrap()), "{args:?}: {err}");
    }
    let (a, b) = (free_port(), free_port());
    let (la, lb) = (
        format!("listen:osc.udp://127.0.0.1:{a}"),
        format!("osc.udp://127.0.0.1:{b}"),
    );
    for flag in ["--timeout", "--status-every"] {
        let out = run_bounded(&["bridge", &la, &lb, flag, "1e300"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "bridge {flag}: {err}");
        assert!(err.contains(flag), "{err}");
    }
}

#[test]
fn dump_prints_an_error_line_for_an_oversized_tcp_or_slip_frame() {
    use std::io::Write as _;
    // One byte over the default limit (1 MiB), then a good packet: the big one is
    // skipped with an `!error` line and the stream goes on.
    let big = vec![b'a'; (1 << 20) + 4];
    let ok = osc_bytes("/ok ,");
    for proto in ["tcp", "slip"] {
        let port = free_port();
        let dump = start_dump(&[
            "--proto",
            proto,
            "--port",
            &port.to_string(),
            "--timeout",
            "3",
        ]);
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let mut wire = Vec::new();
        for p in [&big, &ok] {
            if proto == "tcp" {
                wire.extend_from_slice(&u32::try_from(p.len()).unwrap().to_be_bytes());
                wire.extend_from_slice(p);
            } else {
                // Neither packet holds END (0xc0) or ESC (0xdb).
                wire.push(0xc0);
                wire.extend_from_slice(p);
                wire.push(0xc0);
            }
        }
        s.write_all(&wire).unwrap();
        let got = finish(dump);
        // The error line may come before or after the packet read in the same pass.
        let (errors, packets): (Vec<&str>, Vec<&str>) =
            got.lines().partition(|l| l.starts_with("!error"));
        assert_eq!(packets, ["/ok ,"], "{proto}: {got}");
        assert_eq!(errors.len(), 1, "{proto}: {got}");
        assert!(
            errors[0].starts_with("!error ? dropped (oversized) from 127.0.0.1:"),
            "{proto}: {got}"
        );
    }
}

#[test]
fn dump_broadcast_does_not_share_its_port_unless_asked() {
    // Without --reuse-addr a second socket cannot bind the port (with SO_REUSEADDR
    // on both, another local socket could take the unicast traffic).
    let port = free_port().to_string();
    let first = start_dump(&["--port", &port, "--broadcast", "--timeout", "3"]);
    let second = run_bounded(&["dump", "--port", &port, "--broadcast", "--timeout", "0.2"]);
    assert_eq!(
        second.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("port is already in use"));
    drop(first);
    // Asked for on both, the port is shared.
    let port = free_port().to_string();
    let first = start_dump(&[
        "--port",
        &port,
        "--broadcast",
        "--reuse-addr",
        "--timeout",
        "3",
    ]);
    let second = run_bounded(&[
        "dump",
        "--port",
        &port,
        "--broadcast",
        "--reuse-addr",
        "--timeout",
        "0.2",
    ]);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    drop(first);
}
