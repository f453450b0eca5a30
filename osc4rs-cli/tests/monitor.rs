//! `osc4rs monitor` end to end: the binary serves the page; a WebSocket client and a
//! real browser (Debian's headless Chromium driven by playwright-core, through
//! scripts/monitor-browser.js) read it, click it and send from it to liblo's oscdump.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use osc_codec::{Bundle, Message, Packet, TimeTag};
use osc_test_support::{Reaped, free_port, skip, workspace_root};
use serde_json::{Value, json};

/// How long a step may take before the test gives up (not a timing assertion: a
/// stuck browser or monitor would otherwise hang the suite).
const STEP: Duration = Duration::from_secs(60);

/// `osc4rs monitor` on UDP `port`, and the page's URL it printed.
fn monitor(port: u16, extra: &[&str]) -> (Reaped, String) {
    let mut child = Reaped(
        Command::new(env!("CARGO_BIN_EXE_osc4rs"))
            .args([
                "monitor",
                &format!("osc.udp://127.0.0.1:{port}"),
                "--timeout",
                "300",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url:?}"
    );
    (child, url)
}

fn lines_of(out: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn bytes(p: impl Into<Packet>) -> Vec<u8> {
    p.into().to_bytes().unwrap()
}

/// Where test artefacts go: `$CARGO_TARGET_DIR/artefacts` (else `target/artefacts`).
fn artefacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let dir = target.join("artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn playwright() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        && workspace_root()
            .join(".node/node_modules/playwright-core/package.json")
            .exists();
    if !ok {
        skip("monitor browser test: node or playwright-core missing (scripts/install-peers.sh)");
    }
    ok
}

/// The page in a real browser: the table's values and rates as sent, a clicked row's
/// plot draws every point sent since, the send panel reaches liblo's oscdump, a
/// screenshot is kept (`artefacts/monitor.png`), a column header sorts and the
/// filter takes an OSC pattern.
#[test]
fn the_page_in_chromium_shows_plots_and_sends() {
    let Some(chromium) = osc_test_support::chromium() else {
        return;
    };
    if !osc_test_support::liblo() || !playwright() {
        return;
    }
    let osc_port = free_port();
    // A rate window longer than the test: the rates shown are exact.
    let (_monitor, url) = monitor(osc_port, &["--rate-window", "600"]);
    let osc: SocketAddr = format!("127.0.0.1:{osc_port}").parse().unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..30u8 {
        tx.send_to(
            &bytes(Message::new("/fader/1").arg(f32::from(i) / 4.0)),
            osc,
        )
        .unwrap();
    }
    for i in 0..10 {
        tx.send_to(&bytes(Message::new("/knob/2").arg(i).arg("lfo")), osc)
            .unwrap();
    }
    let late = TimeTag::from_unix_secs_f64(osc_monitor_now() - 0.25);
    tx.send_to(
        &bytes(Bundle::new(late).add(Message::new("/cue/go").arg(3))),
        osc,
    )
    .unwrap();
    tx.send_to(b"/broken\0,f\0\0\x3f", osc).unwrap();

    let d = free_port();
    let mut dump = Reaped(
        Command::new("oscdump")
            .args(["-L", &d.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let dumped = lines_of(dump.0.stdout.take().unwrap());
    let shot = artefacts().join("monitor.png");
    let _ = std::fs::remove_file(&shot);
    let mut page = Reaped(
        Command::new("node")
            .arg(workspace_root().join("scripts/monitor-browser.js"))
            .args([&url, "--chromium", chromium.to_str().unwrap()])
            .args([
                "--wait-count",
                "/fader/1=30",
                "--select",
                "/fader/1",
                "--expect-points",
                "40",
            ])
            // A plot window longer than the test: every point sent stays in it.
            .args(["--window", "300"])
            .args([
                "--pause-until",
                "/fader/1=100",
                "--points-after",
                "70",
                "--zoom",
                "1",
            ])
            .args([
                "--send-url",
                &format!("osc.udp://127.0.0.1:{d}"),
                "--send",
                "/from/page ,is 42 \"hi\"",
            ])
            .args(["--screenshot", shot.to_str().unwrap()])
            .args([
                "--sort",
                "count",
                "--filter",
                "/{knob,cue}/*",
                "--filter-count",
                "2",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let steps = lines_of(page.0.stdout.take().unwrap());
    let step = |name: &str| -> Value {
        loop {
            let line = steps
                .recv_timeout(STEP)
                .unwrap_or_else(|_| panic!("the page never reached {name}"));
            let v: Value = serde_json::from_str(&line).unwrap();
            assert_ne!(v["step"], "error", "{v}");
            assert_ne!(v["step"], "pageerror", "{v}");
            if v["step"] == name {
                return v;
            }
        }
    };

    let rows = step("rows");
    let row = |addr: &str| -> Value {
        rows["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == addr)
            .cloned()
            .unwrap()
    };
    let fader = row("/fader/1");
    assert_eq!(
        (
            fader["count"].as_u64(),
            fader["value"].as_str(),
            fader["tags"].as_str()
        ),
        (Some(30), Some("7.25"), Some(",f"))
    );
    assert!(
        (fader["rate"].as_f64().unwrap() - 30.0 / 600.0).abs() < 1e-9,
        "{fader}"
    );
    let knob = row("/knob/2");
    assert_eq!(
        (knob["count"].as_u64(), knob["value"].as_str()),
        (Some(10), Some("9 \"lfo\""))
    );
    assert!(
        (knob["rate"].as_f64().unwrap() - 10.0 / 600.0).abs() < 1e-9,
        "{knob}"
    );
    assert_eq!(row("/cue/go")["count"], 1);

    // The row is selected: from now on its values are plotted.
    step("selected");
    for i in 0..40 {
        let v = (f64::from(i) / 6.0).sin();
        tx.send_to(&bytes(Message::new("/fader/1").arg(v as f32)), osc)
            .unwrap();
    }
    let plot = step("plot");
    assert_eq!(
        (plot["points"].as_u64(), plot["series"].as_u64()),
        (Some(40), Some(1)),
        "{plot}"
    );

    // Paused, the plot keeps its 40 points while the table counts 30 more; resumed,
    // it draws all 70; zoomed to the last second, it shows that window.
    assert_eq!(step("paused")["points"], 40);
    for i in 0..30 {
        tx.send_to(&bytes(Message::new("/fader/1").arg(i as f32)), osc)
            .unwrap();
    }
    let resumed = step("resumed");
    assert_eq!(resumed["whilePaused"], 40, "{resumed}");
    assert_eq!(resumed["after"], 70, "{resumed}");
    assert_eq!(resumed["window"], 1, "{resumed}");

    let sent = step("sent");
    assert_eq!(sent["ok"], true, "{sent}");
    let line = dumped
        .recv_timeout(STEP)
        .expect("oscdump printed the page's message");
    assert!(line.ends_with(" /from/page is 42 \"hi\""), "{line}");

    step("screenshot");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot in {}",
        shot.display()
    );
    let _ = page.0.wait();
    let _ = dump.0.kill();
}

fn osc_monitor_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

type Ws = tungstenite::WebSocket<TcpStream>;

fn ws(url: &str) -> Ws {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(STEP)).unwrap();
    tungstenite::client::client(format!("ws://{addr}/ws"), s)
        .unwrap()
        .0
}

fn next(ws: &mut Ws, kind: &str) -> Value {
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == kind {
                    return v;
                }
            }
            Ok(_) => {}
            // A signal to this process (the other tests' children come and go): read again.
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading the monitor's WebSocket: {e}"),
        }
    }
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("osc4rs-monitor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], stdin: Option<&Path>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_osc4rs"));
    c.args(args);
    if let Some(p) = stdin {
        c.stdin(std::fs::File::open(p).unwrap());
    }
    c.output().unwrap()
}

/// The record button writes a recording that `osc4rs decode` prints and `osc4rs
/// replay` sends again, byte for byte.
#[test]
fn recording_from_the_page_decodes_and_replays() {
    let dir = tempdir("rec");
    let osc_port = free_port();
    let (_monitor, url) = monitor(osc_port, &["--record-dir", dir.to_str().unwrap()]);
    let mut page = ws(&url);
    page.send(tungstenite::Message::text(
        json!({"cmd": "record", "action": "start", "name": "take1.rec"}).to_string(),
    ))
    .unwrap();
    assert_eq!(next(&mut page, "record")["ok"], true);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sent = [
        bytes(Message::new("/a").arg(1)),
        bytes(Bundle::new(TimeTag::IMMEDIATELY).add(Message::new("/b").arg("x"))),
        bytes(Message::new("/c").arg(2.5f64)),
    ];
    for p in &sent {
        tx.send_to(p, ("127.0.0.1", osc_port)).unwrap();
    }
    loop {
        if next(&mut page, "snapshot")["recording"]["records"] == 3 {
            break;
        }
    }
    page.send(tungstenite::Message::text(
        json!({"cmd": "record", "action": "stop"}).to_string(),
    ))
    .unwrap();
    assert_eq!(next(&mut page, "record")["ok"], true);
    let file = dir.join("take1.rec");

    let decoded = run(&["decode"], Some(&file));
    assert!(decoded.status.success());
    assert_eq!(
        String::from_utf8(decoded.stdout).unwrap(),
        "/a ,i 1\n#bundle(00000000.00000001) { /b ,s \"x\" }\n/c ,d 2.5\n"
    );

    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(STEP)).unwrap();
    let to = format!("osc.udp://{}", rx.local_addr().unwrap());
    let mut replay = Reaped(
        Command::new(env!("CARGO_BIN_EXE_osc4rs"))
            .args(["replay", file.to_str().unwrap(), "--url", &to])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut buf = [0u8; 2048];
    for p in &sent {
        let n = loop {
            match rx.recv_from(&mut buf) {
                Ok((n, _)) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("the replayed packets: {e}"),
            }
        };
        assert_eq!(&buf[..n], &p[..]);
    }
    assert!(replay.0.wait().unwrap().success());
}

/// The binary prints the page's URL, serves the page, and refuses a bad endpoint with
/// a usage error.
#[test]
fn monitor_prints_its_url_and_refuses_bad_endpoints() {
    let (_monitor, url) = monitor(free_port(), &[]);
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(STEP)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    std::io::Read::read_to_string(&mut s, &mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("osc4rs monitor"));

    // --url as dump and record take it, and bridge's listen: prefix, are the same.
    let port = free_port();
    let out = run(
        &[
            "monitor",
            "--url",
            &format!("osc.udp://127.0.0.1:{port}"),
            &format!("listen:osc.tcp://127.0.0.1:{port}"),
            "--timeout",
            "0.2",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("listening on osc.udp://127.0.0.1:{port}")),
        "{said}"
    );
    assert!(
        said.contains(&format!("listening on osc.tcp://127.0.0.1:{port}")),
        "{said}"
    );

    let out = run(&["monitor", "gopher://nowhere", "--timeout", "1"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gopher"));
}
