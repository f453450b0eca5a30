//! Replying to whoever asked, in every mode: from a UDP server's own socket (so a
//! client that `connect()`ed its socket sees the answer), on the TCP connection the
//! request came on, through a handle that does not keep the runtime alive, and to a
//! real python-osc client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use osc4rs::{Context, Handler, Message, Mode, Osc, OscError, Packet};

fn status_server(mode: Mode) -> Osc {
    let osc = Osc::builder().mode(mode).start().unwrap();
    osc.udp_server("udp", "127.0.0.1:0").unwrap();
    osc.tcp_server("tcp", "127.0.0.1:0").unwrap();
    let h = osc.handle();
    osc.method(
        "/status",
        Handler::with_context(move |m: &Message, ctx: &Context| {
            let n = m.args.first().and_then(|a| a.as_i32()).unwrap_or(0);
            h.reply(ctx, Message::new("/status.reply").arg(n + 1))
                .unwrap();
        }),
    )
    .unwrap();
    osc
}

fn bytes(m: Message) -> Vec<u8> {
    Packet::from(m).to_bytes().unwrap()
}

/// Runs `process` (where the mode needs it) until `done` says so or 5 s pass.
fn pump(osc: &Osc, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(5)).unwrap();
    }
}

#[test]
fn a_connected_udp_client_gets_the_reply_in_every_mode() {
    for mode in Mode::ALL {
        let osc = status_server(mode);
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(osc.local_addr("udp").unwrap()).unwrap();
        client.set_nonblocking(true).unwrap();
        client
            .send(&bytes(Message::new("/status").arg(41)))
            .unwrap();
        let mut buf = [0u8; 64];
        let mut got = None;
        pump(&osc, || {
            got = client.recv(&mut buf).ok();
            got.is_some()
        });
        let n = got.unwrap_or_else(|| panic!("{mode:?}: no reply"));
        let reply = Message::decode(&buf[..n]).unwrap();
        assert_eq!(reply.address, "/status.reply", "{mode:?}");
        assert_eq!(reply.args[0].as_i32(), Some(42), "{mode:?}");
        osc.terminate().unwrap();
    }
}

#[test]
fn a_tcp_request_is_answered_on_its_connection_in_every_mode() {
    for mode in Mode::ALL {
        let osc = status_server(mode);
        let mut c = TcpStream::connect(osc.local_addr("tcp").unwrap()).unwrap();
        let req = bytes(Message::new("/status").arg(1));
        c.write_all(&(req.len() as u32).to_be_bytes()).unwrap();
        c.write_all(&req).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
        let mut got = Vec::new();
        pump(&osc, || {
            let mut buf = [0u8; 64];
            if let Ok(n) = c.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
            got.len() >= 4
                && got.len() >= 4 + u32::from_be_bytes(got[..4].try_into().unwrap()) as usize
        });
        assert!(got.len() > 4, "{mode:?}: no reply");
        let reply = Message::decode(&got[4..]).unwrap();
        assert_eq!(reply.args[0].as_i32(), Some(2), "{mode:?}");
        osc.terminate().unwrap();
    }
}

#[test]
fn send_to_and_the_handle_outside_handlers() {
    for mode in Mode::ALL {
        let osc = Osc::builder().mode(mode).start().unwrap();
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let h = osc.handle();
        h.send_to(Message::new("/x"), "in", peer.local_addr().unwrap())
            .unwrap();
        let mut buf = [0u8; 32];
        let (_, from) = peer.recv_from(&mut buf).unwrap();
        assert_eq!(from, osc.local_addr("in").unwrap(), "{mode:?}");
        assert!(matches!(
            osc.send_to(Message::new("/x"), "nobody", from),
            Err(OscError::UnknownTarget(_))
        ));
        assert!(matches!(
            osc.send_to(Message::new("/x"), "_all", from),
            Err(OscError::UnknownTarget(_))
        ));
        // A handle lends the runtime without owning it.
        drop(h.get().unwrap());
        assert!(
            h.get().is_some(),
            "{mode:?}: a lent Osc terminated the runtime"
        );
        drop(osc);
        assert!(h.get().is_none());
        assert!(matches!(
            h.send(Message::new("/x"), "in"),
            Err(OscError::Terminated)
        ));
    }
}

#[test]
fn a_connected_python_osc_client_gets_the_reply() {
    let Some(py) = osc_test_support::python() else {
        return;
    };
    for mode in Mode::ALL {
        let osc = status_server(mode);
        let port = osc.local_addr("udp").unwrap().port();
        let script = format!(
            r#"
import socket
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_message import OscMessage
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", {port}))
s.settimeout(5)
b = OscMessageBuilder("/status"); b.add_arg(9)
s.send(b.build().dgram)
m = OscMessage(s.recv(1024))
print(m.address, m.params[0])
"#
        );
        let child = Command::new(&py)
            .args(["-c", &script])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut reaped = osc_test_support::Reaped(child);
        // The handler answers while we pump; python exits once it has the reply.
        pump(&osc, || !matches!(reaped.0.try_wait(), Ok(None)));
        let mut out = String::new();
        reaped
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out.trim(), "/status.reply 10", "{mode:?}");
        osc.terminate().unwrap();
    }
}
