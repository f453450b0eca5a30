//! The runtime in every mode against real peers over loopback, both directions:
//! liblo (`oscsend`, `oscdump`) and python-osc (UDP, TCP 1.0 and 1.1). The peers are
//! installed by `scripts/install-peers.sh`; each part is skipped with a message when
//! its peer is missing, unless `OSC4RS_INTEROP=require` (set by `.ci/run` once the
//! peers are installed) makes a missing peer a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc_test_support::{Reaped, liblo, listening_on_tcp, peer_script, python};
use osc4rs::channel::{ChannelSpec, StreamFraming, TcpClientConfig};
use osc4rs::{Message, Mode, Osc};

/// A runtime with a UDP and a TCP server and a handler recording `/peer/*` messages.
fn receiver(mode: Mode) -> (Osc, Arc<Mutex<Vec<String>>>, u16, u16) {
    let osc = Osc::builder().mode(mode).exec_threads(2).start().unwrap();
    osc.udp_server("udp-in", "127.0.0.1:0").unwrap();
    osc.tcp_server("tcp-in", "127.0.0.1:0").unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    osc.method("/peer/*", move |m: &Message| {
        s.lock().unwrap().push(m.to_string())
    })
    .unwrap();
    let up = osc.local_addr("udp-in").unwrap().port();
    let tp = osc.local_addr("tcp-in").unwrap().port();
    (osc, seen, up, tp)
}

fn wait_for(osc: &Osc, seen: &Arc<Mutex<Vec<String>>>, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().len() < n && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(5)).unwrap();
    }
    seen.lock().unwrap().clone()
}

#[test]
fn peers_send_to_us_in_every_mode() {
    let liblo = liblo();
    let py = python();
    for mode in Mode::ALL {
        let (osc, seen, up, tp) = receiver(mode);
        let mut expected = Vec::new();
        if liblo {
            let st = Command::new("oscsend")
                .args([
                    "localhost",
                    &up.to_string(),
                    "/peer/liblo",
                    "ifs",
                    "1",
                    "2.5",
                    "udp",
                ])
                .status()
                .unwrap();
            assert!(st.success());
            expected.push("/peer/liblo ,ifs 1 2.5 \"udp\"".to_owned());
            wait_for(&osc, &seen, expected.len());
            let st = Command::new("oscsend")
                .args([
                    &format!("osc.tcp://localhost:{tp}"),
                    "/peer/liblo",
                    "s",
                    "tcp",
                ])
                .status()
                .unwrap();
            assert!(st.success());
            expected.push("/peer/liblo ,s \"tcp\"".to_owned());
            wait_for(&osc, &seen, expected.len());
        }
        if let Some(py) = &py {
            let st = Command::new(py)
                .arg(peer_script())
                .args([
                    "send-udp",
                    "127.0.0.1",
                    &up.to_string(),
                    "/peer/py",
                    "7",
                    "udp",
                ])
                .status()
                .unwrap();
            assert!(st.success());
            expected.push("/peer/py ,is 7 \"udp\"".to_owned());
            wait_for(&osc, &seen, expected.len());
            for mode_str in ["1.0", "1.1"] {
                let st = Command::new(py)
                    .arg(peer_script())
                    .args([
                        "send-tcp",
                        "127.0.0.1",
                        &tp.to_string(),
                        mode_str,
                        "/peer/py",
                        mode_str,
                    ])
                    .status()
                    .unwrap();
                assert!(st.success());
                expected.push(format!("/peer/py ,f {mode_str}"));
                wait_for(&osc, &seen, expected.len());
            }
        }
        assert_eq!(wait_for(&osc, &seen, expected.len()), expected, "{mode:?}");
        osc.terminate().unwrap();
    }
}

/// Sends `msg` on `chan` until the child prints a line (it may not listen yet).
fn send_until_printed(osc: &Osc, chan: &str, msg: &Message, child: &mut Child) -> String {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if !line.starts_with("READY") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let _ = osc.send(msg.clone(), chan);
        osc.process_timeout(Duration::from_millis(50)).unwrap();
        if let Ok(line) = rx.try_recv() {
            return line;
        }
    }
    panic!("the peer printed nothing");
}

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn we_send_to_peers_in_every_mode() {
    let liblo = liblo();
    let py = python();
    let msg = Message::new("/from/osc4rs").arg(3).arg(0.5f32).arg("hi");
    for mode in Mode::ALL {
        let osc = Osc::builder().mode(mode).exec_threads(2).start().unwrap();
        if liblo {
            let port = free_port();
            let mut dump = Reaped(
                Command::new("oscdump")
                    .args(["-L", &port.to_string()])
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
            osc.udp_client("liblo", ("127.0.0.1", port)).unwrap();
            let line = send_until_printed(&osc, "liblo", &msg, &mut dump.0);
            assert!(
                line.ends_with("/from/osc4rs ifs 3 0.500000 \"hi\""),
                "{mode:?}: {line}"
            );
            // TCP (liblo's length-prefix framing), once oscdump listens.
            let (mut dump, port) = listening_on_tcp(|port| {
                let mut c = Command::new("oscdump");
                c.args(["-L", &format!("osc.tcp://:{port}")])
                    .stdout(Stdio::piped());
                c
            })
            .expect("oscdump listens on TCP");
            osc.tcp_client("liblo-tcp", ("127.0.0.1", port)).unwrap();
            let line = send_until_printed(&osc, "liblo-tcp", &msg, &mut dump.0);
            assert!(
                line.ends_with("/from/osc4rs ifs 3 0.500000 \"hi\""),
                "{mode:?} TCP: {line}"
            );
        }
        if let Some(py) = &py {
            for (kind, framing) in [("udp", ""), ("tcp", "1.0"), ("tcp", "1.1")] {
                let mut args = vec![format!("serve-{kind}")];
                if !framing.is_empty() {
                    args.push(framing.to_owned());
                }
                args.push("1".into());
                let mut child = Command::new(py)
                    .arg(peer_script())
                    .args(&args)
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut out = BufReader::new(child.stdout.take().unwrap());
                let mut ready = String::new();
                out.read_line(&mut ready).unwrap();
                let port: u16 = ready
                    .trim()
                    .strip_prefix("READY ")
                    .unwrap()
                    .parse()
                    .unwrap();
                // Hand the rest of stdout back to the child for `send_until_printed`.
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    let mut line = String::new();
                    let _ = out.read_line(&mut line);
                    let _ = tx.send(line.trim_end().to_owned());
                });
                let _reaped = Reaped(child);
                let name = format!("py-{kind}{framing}");
                match (kind, framing) {
                    ("udp", _) => osc.udp_client(&name, ("127.0.0.1", port)).unwrap(),
                    (_, "1.1") => {
                        let mut cfg = TcpClientConfig::new(([127, 0, 0, 1], port).into());
                        cfg.framing = StreamFraming::Slip;
                        osc.channel(&name, ChannelSpec::TcpClient(cfg)).unwrap();
                    }
                    _ => osc.tcp_client(&name, ("127.0.0.1", port)).unwrap(),
                }
                osc.send(msg.clone(), name.as_str()).unwrap();
                let deadline = Instant::now() + Duration::from_secs(10);
                let line = loop {
                    osc.process_timeout(Duration::from_millis(20)).unwrap();
                    if let Ok(l) = rx.try_recv() {
                        break l;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "{mode:?} {kind}: python-osc printed nothing"
                    );
                };
                assert_eq!(line, "/from/osc4rs 3 0.5 'hi'", "{mode:?} {kind} {framing}");
            }
        }
        osc.terminate().unwrap();
    }
}
