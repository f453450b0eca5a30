//! The examples as a user runs them: `rundemo` in every scheduling mode must receive
//! everything it sends and exit 0. The examples are built by `cargo test` (they are
//! compiled with the test targets), so the test runs the built binaries directly
//! rather than going through `cargo run`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// The command that runs an example: the built binary, or (not built: a filtered test
/// run) `cargo run`.
fn example_command(name: &str) -> Command {
    osc_test_support::cargo_built(
        &format!("examples/{name}"),
        &["-p", "osc4rs", "--example", name],
    )
}

fn run_example(name: &str, args: &[&str]) -> std::process::Output {
    example_command(name).args(args).output().unwrap()
}

#[test]
fn rundemo_receives_everything_in_every_mode() {
    for mode in ["eventloop", "comthreads", "allthreads"] {
        let out = run_example("rundemo", &[mode, "--non-interactive"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "rundemo {mode} failed: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("16/16 messages received"), "{stdout}");
        assert!(stdout.contains("in a timed bundle"), "{stdout}");
        assert!(stdout.contains("(_local"), "{stdout}");
    }
}

#[test]
fn logger_warns_about_a_malformed_datagram_with_its_peer() {
    let out = run_example("logger", &["eventloop"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("malformed packet from 127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("handler got /log/after"), "{stderr}");
    assert!(stderr.contains("osc4rs runtime started"), "{stderr}");
}

/// The `osc4rs` command-line tool, built beside this test by `cargo test --workspace`
/// (else through `cargo run`).
fn osc4rs_tool() -> Command {
    osc_test_support::cargo_built("osc4rs", &["-p", "osc4rs-cli"])
}

/// The `/status` example answers peers nobody here wrote, in every mode: python-osc
/// from a `connect()`ed socket, and `osc4rs send --wait-reply` over UDP and TCP.
#[test]
fn status_server_answers_python_osc_and_osc4rs_send_in_every_mode() {
    let Some(py) = osc_test_support::python() else {
        return;
    };
    for mode in ["eventloop", "comthreads", "allthreads"] {
        let port = osc_test_support::free_port();
        let child = example_command("status_server")
            .args([mode, &port.to_string()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let _server = osc_test_support::Reaped(child);
        let out = Command::new(&py)
            .arg(osc_test_support::peer_script())
            .args(["ask-udp", "127.0.0.1", &port.to_string(), "/status"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{mode}: python-osc got no reply: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.starts_with("/status.reply 'running' "),
            "{mode}: {stdout}"
        );
        for proto in ["udp", "tcp"] {
            let out = osc4rs_tool()
                .args([
                    "send",
                    "--proto",
                    proto,
                    "--port",
                    &port.to_string(),
                    "--wait-reply",
                    "1",
                    "/status",
                ])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{mode} {proto}: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.contains("/status.reply ,sf \"running\""),
                "{mode} {proto}: {stdout}"
            );
        }
    }
}

#[test]
fn status_server_answers_a_connected_client_in_every_mode() {
    use std::time::Duration;
    for mode in ["eventloop", "comthreads", "allthreads"] {
        let port = osc_test_support::free_port();
        let mut cmd = example_command("status_server");
        let child = cmd
            .args([mode, &port.to_string(), "--once"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut server = osc_test_support::Reaped(child);
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(("127.0.0.1", port)).unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let request = osc4rs::Packet::from(osc4rs::Message::new("/status"))
            .to_bytes()
            .unwrap();
        let mut buf = [0u8; 128];
        let mut reply = None;
        for _ in 0..50 {
            let _ = client.send(&request);
            match client.recv(&mut buf) {
                Ok(n) => {
                    reply = Some(osc4rs::Message::decode(&buf[..n]).unwrap());
                    break;
                }
                // Not listening yet: the kernel answers "refused" at once.
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        let reply = reply.unwrap_or_else(|| panic!("{mode}: no reply"));
        assert_eq!(reply.address, "/status.reply");
        assert_eq!(reply.args[0].as_str(), Some("running"));
        assert!(server.0.wait().unwrap().success(), "{mode}");
    }
}

#[test]
fn fader_bridge_relays_timed_bundles_from_oscsend_to_oscdump() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    if !osc_test_support::liblo() {
        return;
    }
    let (faders, synth) = (osc_test_support::free_port(), osc_test_support::free_port());
    let mut dump = osc_test_support::Reaped(
        Command::new("oscdump")
            .args(["-L", &synth.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut cmd = example_command("fader_bridge");
    let mut bridge = osc_test_support::Reaped(
        cmd.args([&faders.to_string(), &synth.to_string(), "--count", "2"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Wait until the bridge listens, then move two faders with liblo's oscsend.
    let mut banner = String::new();
    BufReader::new(bridge.0.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    assert!(banner.starts_with("faders on udp port"), "{banner}");
    std::thread::sleep(Duration::from_millis(200)); // oscdump binds too
    for (n, v) in [("1", "0.5"), ("7", "0.25")] {
        let st = Command::new("oscsend")
            .args([
                "localhost",
                &faders.to_string(),
                &format!("/fader/{n}"),
                "f",
                v,
            ])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = std::sync::Arc::clone(&lines);
    let out = dump.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            l.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while lines.lock().unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let got = lines.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    // oscdump prints a bundled message after its bundle's timetag (SSSSSSSS.FFFFFFFF).
    assert!(got[0].ends_with(" /synth/1/amp f 0.500000"), "{got:?}");
    assert!(got[1].ends_with(" /synth/7/amp f 0.250000"), "{got:?}");
    assert_eq!(got[0].split(' ').next().unwrap().len(), 17, "{got:?}");
    assert!(bridge.0.wait().unwrap().success());
}

/// osc4py3's "Simple use" through `as_eventloop` (`examples/simple_use.rs`) receives
/// its own message and the same message from liblo's `oscsend` and from python-osc.
#[test]
fn simple_use_receives_from_itself_liblo_and_python_osc() {
    use std::io::BufRead;
    use std::time::Duration;
    let (Some(py), true) = (osc_test_support::python(), osc_test_support::liblo()) else {
        return;
    };
    let port = osc_test_support::free_port();
    let mut child = osc_test_support::Reaped(
        example_command("simple_use")
            .args([&port.to_string(), "--count", "3"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = std::io::BufReader::new(child.0.stdout.take().unwrap()).lines();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        format!("listening on udp port {port}")
    );
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "/test received: \"text\" 672 8.871"
    );
    let st = Command::new("oscsend")
        .args([
            "localhost",
            &port.to_string(),
            "/test",
            "sif",
            "liblo",
            "1",
            "0.5",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "/test received: \"liblo\" 1 0.5"
    );
    std::thread::sleep(Duration::from_millis(50));
    let st = Command::new(py)
        .arg(osc_test_support::peer_script())
        .args([
            "send-udp",
            "127.0.0.1",
            &port.to_string(),
            "/test",
            "python",
            "2",
            "0.25",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "/test received: \"python\" 2 0.25"
    );
    assert!(child.0.wait().unwrap().success());
}
