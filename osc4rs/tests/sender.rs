//! `Osc::sender`: a sender bound to one open channel sends as `Osc::send` to its name
//! does, in every mode and over every kind of channel, and fails once that channel is
//! closed or the runtime is terminated.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::{ChannelHooks, Handler, Message, Mode, Osc, OscError, Packet};

fn start(mode: Mode) -> Osc {
    Osc::builder().mode(mode).exec_threads(2).start().unwrap()
}

/// A plain socket standing for the peer, and a runtime with a UDP client `out` to it.
fn client(mode: Mode) -> (Osc, UdpSocket) {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let osc = start(mode);
    osc.udp_client("out", peer.local_addr().unwrap()).unwrap();
    (osc, peer)
}

fn receive(peer: &UdpSocket) -> Message {
    let mut buf = [0; 1500];
    let n = peer.recv(&mut buf).unwrap();
    match Packet::decode(&buf[..n]).unwrap() {
        Packet::Message(m) => m,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn a_sender_sends_as_a_send_by_name_does() {
    for mode in Mode::ALL {
        let (osc, peer) = client(mode);
        let out = osc.sender("out").unwrap();
        assert_eq!(out.channel(), "out");
        for i in 0..3 {
            out.send(Message::new("/s").arg(i)).unwrap();
            osc.send(Message::new("/n").arg(i), "out").unwrap();
        }
        let got: Vec<Message> = (0..6).map(|_| receive(&peer)).collect();
        let want: Vec<Message> = (0..3)
            .flat_map(|i| [Message::new("/s").arg(i), Message::new("/n").arg(i)])
            .collect();
        assert_eq!(got, want, "{mode:?}");
        // Its address is checked as `send` checks it.
        assert!(out.send(Message::new("/a/")).is_err(), "{mode:?}");
        osc.terminate().unwrap();
    }
}

#[test]
fn a_sender_fails_once_its_channel_is_closed_even_if_the_name_returns() {
    for mode in Mode::ALL {
        let (osc, peer) = client(mode);
        let out = osc.sender("out").unwrap();
        osc.close("out").unwrap();
        assert!(
            matches!(out.send(Message::new("/a")), Err(OscError::UnknownTarget(n)) if n == "out"),
            "{mode:?}"
        );
        // A new channel of the same name is not the sender's.
        osc.udp_client("out", peer.local_addr().unwrap()).unwrap();
        assert!(
            matches!(
                out.send(Message::new("/a")),
                Err(OscError::UnknownTarget(_))
            ),
            "{mode:?}"
        );
        osc.sender("out")
            .unwrap()
            .send(Message::new("/new"))
            .unwrap();
        assert_eq!(receive(&peer).address, "/new", "{mode:?}");
        osc.terminate().unwrap();
        assert!(
            matches!(out.send(Message::new("/a")), Err(OscError::Terminated)),
            "{mode:?}"
        );
    }
}

#[test]
fn a_sender_outlives_no_runtime() {
    let (osc, _peer) = client(Mode::EventLoop);
    let out = osc.sender("out").unwrap();
    drop(osc);
    assert!(matches!(
        out.send(Message::new("/a")),
        Err(OscError::Terminated)
    ));
}

#[test]
fn only_an_open_channel_has_a_sender() {
    let osc = start(Mode::EventLoop);
    for name in ["nowhere", osc4rs::ALL, osc4rs::LOCAL] {
        assert!(
            matches!(osc.sender(name), Err(OscError::UnknownTarget(n)) if n == name),
            "{name}"
        );
    }
    osc.terminate().unwrap();
    assert!(matches!(osc.sender("out"), Err(OscError::Terminated)));
}

#[test]
fn a_sender_runs_its_channels_encode_hook_set_after_it_was_made() {
    for mode in Mode::ALL {
        let (osc, peer) = client(mode);
        let out = osc.sender("out").unwrap();
        out.send(Message::new("/plain")).unwrap();
        let mut buf = [0; 64];
        let n = peer.recv(&mut buf).unwrap();
        assert!(!buf[..n].ends_with(b"SIG!"), "{mode:?}");
        osc.set_hooks(
            "out",
            Some(ChannelHooks {
                encode: Some(Arc::new(|_p, mut bytes: Vec<u8>| {
                    bytes.extend_from_slice(b"SIG!");
                    bytes
                })),
                decode: None,
            }),
        );
        out.send(Message::new("/signed")).unwrap();
        let n = peer.recv(&mut buf).unwrap();
        assert!(buf[..n].ends_with(b"SIG!"), "{mode:?}");
        osc.terminate().unwrap();
    }
}

#[test]
fn a_sender_writes_on_a_tcp_client_too() {
    for mode in Mode::ALL {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let osc = start(mode);
        osc.tcp_client("tcp", listener.local_addr().unwrap())
            .unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        osc.sender("tcp")
            .unwrap()
            .send(Message::new("/over/tcp").arg(7))
            .unwrap();
        // Where the mode needs it, the runtime's own loop writes what was queued.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut len = [0; 4];
        conn.set_nonblocking(true).unwrap();
        loop {
            osc.process().unwrap();
            match conn.read_exact(&mut len) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "{mode:?}: nothing came");
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("{mode:?}: {e}"),
            }
        }
        conn.set_nonblocking(false).unwrap();
        let mut body = vec![0; u32::from_be_bytes(len) as usize];
        conn.read_exact(&mut body).unwrap();
        let Packet::Message(m) = Packet::decode(&body).unwrap() else {
            panic!("{mode:?}: not a message");
        };
        assert_eq!(m, Message::new("/over/tcp").arg(7), "{mode:?}");
        osc.terminate().unwrap();
    }
}

#[test]
fn a_handler_can_reply_through_a_sender_it_owns() {
    for mode in Mode::ALL {
        let (osc, peer) = client(mode);
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        let back = osc.sender("out").unwrap();
        let seen = Arc::new(Mutex::new(0));
        let s = Arc::clone(&seen);
        osc.method(
            "/ping",
            Handler::taking(move |m: Message, _ctx| {
                *s.lock().unwrap() += 1;
                let mut reply = Message::new("/pong");
                reply.args = m.args;
                back.send(reply).unwrap();
            }),
        )
        .unwrap();
        let ping = Packet::from(Message::new("/ping").arg(3))
            .to_bytes()
            .unwrap();
        peer.send_to(&ping, osc.local_addr("in").unwrap()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while *seen.lock().unwrap() == 0 {
            assert!(Instant::now() < deadline, "{mode:?}: no ping handled");
            osc.process_timeout(Duration::from_millis(5)).unwrap();
        }
        assert_eq!(receive(&peer), Message::new("/pong").arg(3), "{mode:?}");
        osc.terminate().unwrap();
    }
}
