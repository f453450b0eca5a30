//! Real peers against the tokio driver: liblo's `oscsend`/`oscdump` and python-osc
//! (`scripts/peer.py`), over UDP and TCP (both framings) on loopback. Installed by
//! `scripts/install-peers.sh`; each test is skipped with a message when its peer is
//! missing (and fails instead under `OSC4RS_INTEROP=require`, as in CI).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use osc_codec::{Message, Packet};
use osc_dispatch::{Dispatcher, DispatcherConfig, Handler, MethodOptions};
use osc_test_support::{Reaped, free_port, liblo, listening_on_tcp, local, peer_script, python};
use osc4rs_tokio::{OscCodec, OscServer, OscSocket, StreamFraming};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_util::codec::Framed;

/// A server on UDP and TCP (auto framing) whose fallback forwards every message.
async fn collecting_server() -> (
    OscServer,
    SocketAddr,
    SocketAddr,
    mpsc::UnboundedReceiver<(String, Message)>,
) {
    let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let (tx, rx) = mpsc::unbounded_channel();
    d.set_fallback(
        Some(Handler::with_context(move |msg, ctx| {
            let _ = tx.send((
                ctx.channel.as_deref().unwrap_or_default().to_owned(),
                msg.clone(),
            ));
        })),
        MethodOptions::default(),
    );
    let mut server = OscServer::new(d);
    let udp = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (ua, ta) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
    server.add_udp("udp", &udp);
    server.add_tcp("tcp", tcp, StreamFraming::Auto, 1 << 20);
    (server, ua, ta, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Message)>) -> (String, Message) {
    timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the peer's message arrived")
        .unwrap()
}

async fn run_ok(cmd: &mut Command) {
    let status = timeout(Duration::from_secs(20), cmd.status())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{cmd:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liblo_sends_to_our_udp_and_tcp_server() {
    if !liblo() {
        return;
    }
    let (server, ua, ta, mut rx) = collecting_server().await;
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    run_ok(Command::new("oscsend").args([
        "localhost",
        &ua.port().to_string(),
        "/liblo/udp",
        "ifsThdS",
        "42",
        "2.5",
        "hello",
        "-7",
        "0.25",
        "sym",
    ]))
    .await;
    let expected = Message::new("/liblo/udp")
        .arg(42)
        .arg(2.5f32)
        .arg("hello")
        .arg(true)
        .arg(-7i64)
        .arg(0.25f64)
        .arg(osc_codec::Symbol("sym".into()));
    assert_eq!(next(&mut rx).await, ("udp".to_owned(), expected));
    run_ok(Command::new("oscsend").args([
        &format!("osc.tcp://localhost:{}", ta.port()),
        "/liblo/tcp",
        "is",
        "7",
        "over tcp",
    ]))
    .await;
    assert_eq!(
        next(&mut rx).await,
        (
            "tcp".to_owned(),
            Message::new("/liblo/tcp").arg(7).arg("over tcp")
        )
    );
    stopper.stop();
    run.await.unwrap();
}

/// Spawns a printing peer and returns it with a channel of its stdout lines.
fn printing(cmd: &mut std::process::Command) -> (Reaped, mpsc::UnboundedReceiver<String>) {
    let mut child = Reaped(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let lines = lines_of(&mut child.0);
    (child, lines)
}

/// The lines a child prints on its piped stdout, as they come.
fn lines_of(child: &mut std::process::Child) -> mpsc::UnboundedReceiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Sends with `send` every 50 ms (the peer may not listen yet) until it prints a line.
async fn until_printed<F, Fut>(lines: &mut mpsc::UnboundedReceiver<String>, mut send: F) -> String
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..200 {
        send().await;
        if let Ok(Some(line)) = timeout(Duration::from_millis(50), lines.recv()).await {
            return line;
        }
    }
    panic!("the peer printed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_send_to_liblo_over_udp_and_both_tcp_framings() {
    if !liblo() {
        return;
    }
    let msg = Message::new("/osc4rs/out")
        .arg(5)
        .arg(1.5f32)
        .arg("x y")
        .arg(false);
    let port = free_port();
    let (_dump, mut lines) =
        printing(std::process::Command::new("oscdump").args(["-L", &port.to_string()]));
    let socket = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let line = until_printed(&mut lines, || {
        let mut s = socket.clone();
        let p = Packet::from(msg.clone());
        async move {
            s.send_to(&p, local(port)).await.unwrap();
        }
    })
    .await;
    assert!(
        line.ends_with("/osc4rs/out ifsF 5 1.500000 \"x y\" #F"),
        "{line}"
    );

    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let (mut dump, port) = listening_on_tcp(|port| {
            let mut c = std::process::Command::new("oscdump");
            c.args(["-L", &format!("osc.tcp://:{port}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            c
        })
        .expect("oscdump listens on TCP");
        let mut lines = lines_of(&mut dump.0);
        let mut conn: Option<Framed<TcpStream, OscCodec>> = None;
        let mut line = None;
        for _ in 0..200 {
            if conn.is_none() {
                conn = TcpStream::connect(local(port))
                    .await
                    .ok()
                    .map(|s| Framed::new(s, OscCodec::new(framing)));
            }
            if let Some(c) = conn.as_mut() {
                if c.send(Packet::from(msg.clone())).await.is_err() {
                    conn = None;
                }
            }
            if let Ok(Some(l)) = timeout(Duration::from_millis(50), lines.recv()).await {
                line = Some(l);
                break;
            }
        }
        let line = line.expect("oscdump printed a line");
        assert!(
            line.ends_with("/osc4rs/out ifsF 5 1.500000 \"x y\" #F"),
            "{framing:?}: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_osc_sends_to_our_server_over_udp_and_both_tcp_modes() {
    let Some(py) = python() else { return };
    let (server, ua, ta, mut rx) = collecting_server().await;
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let expected = |addr: &str| Message::new(addr).arg(3).arg(0.5f32).arg("py");
    run_ok(Command::new(&py).arg(peer_script()).args([
        "send-udp",
        "127.0.0.1",
        &ua.port().to_string(),
        "/py/udp",
        "3",
        "0.5",
        "py",
    ]))
    .await;
    assert_eq!(next(&mut rx).await, ("udp".to_owned(), expected("/py/udp")));
    for mode in ["1.0", "1.1"] {
        let addr = format!("/py/tcp{}", mode.replace('.', "_"));
        run_ok(Command::new(&py).arg(peer_script()).args([
            "send-tcp",
            "127.0.0.1",
            &ta.port().to_string(),
            mode,
            &addr,
            "3",
            "0.5",
            "py",
        ]))
        .await;
        assert_eq!(
            next(&mut rx).await,
            ("tcp".to_owned(), expected(&addr)),
            "mode {mode}"
        );
    }
    stopper.stop();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_send_to_python_osc_over_udp_and_both_tcp_modes() {
    let Some(py) = python() else { return };
    let msg = Message::new("/to/py").arg(9).arg(0.75f32).arg("rust");
    for (kind, mode) in [("udp", ""), ("tcp", "1.0"), ("tcp", "1.1")] {
        let mut cmd = tokio::process::Command::new(&py);
        cmd.arg(peer_script()).arg(format!("serve-{kind}"));
        if !mode.is_empty() {
            cmd.arg(mode);
        }
        cmd.arg("1").stdout(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let port: u16 = ready.strip_prefix("READY ").unwrap().parse().unwrap();
        if kind == "udp" {
            let mut s = OscSocket::bind("127.0.0.1:0").await.unwrap();
            s.send_to(&msg.clone().into(), local(port)).await.unwrap();
        } else {
            let framing = if mode == "1.1" {
                StreamFraming::Slip
            } else {
                StreamFraming::LengthPrefix
            };
            let mut c = Framed::new(
                TcpStream::connect(local(port)).await.unwrap(),
                OscCodec::new(framing),
            );
            c.send(Packet::from(msg.clone())).await.unwrap();
        }
        let line = timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap_or_default();
        assert_eq!(line, "/to/py 9 0.75 'rust'", "{kind} {mode}");
        let _ = child.kill().await;
    }
}
