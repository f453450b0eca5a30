//! Real packets exchanged with software nobody here wrote: liblo's `oscsend`/`oscdump`
//! and python-osc, over UDP and TCP (both framings) on loopback. The peers are
//! installed by `scripts/install-peers.sh` (CI runs it); each test is skipped with a
//! message when its peer is missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{collect, local, settle};
use osc_channel::{Backoff, Reactor, StreamFraming, TcpClientConfig, TcpServerConfig, UdpConfig};
use osc_codec::{Message, Packet};
use osc_test_support::{Reaped, free_port, liblo, peer_script, python};

fn decoded(data: &[u8]) -> Packet {
    Packet::decode(data).expect("the peer sent a valid packet")
}

fn bytes(m: Message) -> Arc<[u8]> {
    Arc::from(Packet::from(m).to_bytes().unwrap())
}

#[test]
fn liblo_sends_to_our_udp_and_tcp_servers() {
    if !liblo() {
        return;
    }
    let mut r = Reactor::new().unwrap();
    let udp = r.open_udp("udp-in", UdpConfig::server(local(0))).unwrap();
    let mut tcfg = TcpServerConfig::new(local(0));
    tcfg.framing = StreamFraming::Auto;
    let tcp = r.open_tcp_server("tcp-in", tcfg).unwrap();
    let (up, tp) = (
        r.local_addr(udp).unwrap().port(),
        r.local_addr(tcp).unwrap().port(),
    );
    let status = Command::new("oscsend")
        .args([
            "localhost",
            &up.to_string(),
            "/liblo/udp",
            "ifsThdS",
            "42",
            "2.5",
            "hello",
            "-7",
            "0.25",
            "sym",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let got = collect(&mut r, 1);
    let expected = Message::new("/liblo/udp")
        .arg(42)
        .arg(2.5f32)
        .arg("hello")
        .arg(true)
        .arg(-7i64)
        .arg(0.25f64)
        .arg(osc_codec::Symbol("sym".into()));
    assert_eq!(decoded(&got[0].data), Packet::from(expected));

    let status = Command::new("oscsend")
        .args([
            &format!("osc.tcp://localhost:{tp}"),
            "/liblo/tcp",
            "is",
            "7",
            "over tcp",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let got = collect(&mut r, 1);
    assert!(got[0].name.starts_with("tcp-in/"));
    assert_eq!(
        decoded(&got[0].data),
        Packet::from(Message::new("/liblo/tcp").arg(7).arg("over tcp"))
    );
}

fn oscdump(url: &str) -> Reaped {
    let child = Command::new("oscdump")
        .args(["-L", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Reaped(child)
}

/// Sends until the receiver printed a line (it may not be listening yet).
fn send_until_printed(
    r: &mut Reactor,
    id: osc_channel::ChannelId,
    pkt: Arc<[u8]>,
    dump: &mut Reaped,
) -> String {
    let out = dump.0.stdout.take().unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let _ = r.send(id, Arc::clone(&pkt), None);
        settle(r, Duration::from_millis(50));
        if let Ok(line) = rx.try_recv() {
            return line.trim_end().to_owned();
        }
    }
    panic!("the peer printed nothing");
}

#[test]
fn we_send_to_liblo_over_udp_tcp_and_slip() {
    if !liblo() {
        return;
    }
    let msg = Message::new("/osc4rs/out")
        .arg(5)
        .arg(1.5f32)
        .arg("x y")
        .arg(false);
    let port = free_port();
    let mut dump = oscdump(&port.to_string());
    let mut r = Reactor::new().unwrap();
    let cli = r.open_udp("out", UdpConfig::client(local(port))).unwrap();
    let line = send_until_printed(&mut r, cli, bytes(msg.clone()), &mut dump);
    assert!(
        line.ends_with("/osc4rs/out ifsF 5 1.500000 \"x y\" #F"),
        "{line}"
    );

    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let port = free_port();
        let mut dump = oscdump(&format!("osc.tcp://:{port}"));
        let mut cfg = TcpClientConfig::new(local(port));
        cfg.framing = framing;
        cfg.reconnect = Some(Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(100),
        });
        let name = format!("tcp-{framing:?}");
        let cli = r.open_tcp_client(&name, cfg).unwrap();
        let line = send_until_printed(&mut r, cli, bytes(msg.clone()), &mut dump);
        assert!(
            line.ends_with("/osc4rs/out ifsF 5 1.500000 \"x y\" #F"),
            "{framing:?}: {line}"
        );
    }
}

#[test]
fn python_osc_sends_over_udp_and_both_tcp_modes() {
    let Some(py) = python() else { return };
    let mut r = Reactor::new().unwrap();
    let udp = r.open_udp("udp-in", UdpConfig::server(local(0))).unwrap();
    let mut tcfg = TcpServerConfig::new(local(0));
    tcfg.framing = StreamFraming::Auto;
    let tcp = r.open_tcp_server("tcp-in", tcfg).unwrap();
    let (up, tp) = (
        r.local_addr(udp).unwrap().port(),
        r.local_addr(tcp).unwrap().port(),
    );
    let expected = |addr: &str| Packet::from(Message::new(addr).arg(3).arg(0.5f32).arg("py"));

    let st = Command::new(&py)
        .arg(peer_script())
        .args([
            "send-udp",
            "127.0.0.1",
            &up.to_string(),
            "/py/udp",
            "3",
            "0.5",
            "py",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(decoded(&collect(&mut r, 1)[0].data), expected("/py/udp"));
    for mode in ["1.0", "1.1"] {
        let addr = format!("/py/tcp{}", mode.replace('.', "_"));
        let st = Command::new(&py)
            .arg(peer_script())
            .args([
                "send-tcp",
                "127.0.0.1",
                &tp.to_string(),
                mode,
                &addr,
                "3",
                "0.5",
                "py",
            ])
            .status()
            .unwrap();
        assert!(st.success());
        let got = collect(&mut r, 1);
        assert_eq!(got.len(), 1, "mode {mode}");
        assert_eq!(decoded(&got[0].data), expected(&addr), "mode {mode}");
    }
}

#[test]
fn we_send_to_python_osc_over_udp_and_both_tcp_modes() {
    let Some(py) = python() else { return };
    let msg = Message::new("/to/py").arg(9).arg(0.75f32).arg("rust");
    let mut r = Reactor::new().unwrap();
    for (kind, mode) in [("udp", ""), ("tcp", "1.0"), ("tcp", "1.1")] {
        let mut args = vec![format!("serve-{kind}")];
        if !mode.is_empty() {
            args.push(mode.to_owned());
        }
        args.push("1".to_owned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = Command::new(&py)
            .arg(peer_script())
            .args(&args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let _reaped = Reaped(child);
        let mut lines = BufReader::new(out).lines();
        let ready = lines.next().unwrap().unwrap();
        let port: u16 = ready.strip_prefix("READY ").unwrap().parse().unwrap();
        let id = match kind {
            "udp" => r
                .open_udp(&format!("py-{kind}{mode}"), UdpConfig::client(local(port)))
                .unwrap(),
            _ => {
                let mut cfg = TcpClientConfig::new(local(port));
                cfg.framing = if mode == "1.1" {
                    StreamFraming::Slip
                } else {
                    StreamFraming::LengthPrefix
                };
                r.open_tcp_client(&format!("py-{kind}{mode}"), cfg).unwrap()
            }
        };
        r.send(id, bytes(msg.clone()), None).unwrap();
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let _ = tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let line = loop {
            settle(&mut r, Duration::from_millis(20));
            if let Ok(l) = rx.try_recv() {
                break l;
            }
            assert!(
                Instant::now() < deadline,
                "python-osc printed nothing ({kind} {mode})"
            );
        };
        assert_eq!(line, "/to/py 9 0.75 'rust'", "{kind} {mode}");
    }
}
