//! Failures a user without a logger would not see: each kind is told once on standard
//! error (this test binary installs no logger), and an address receivers would drop is
//! refused at the sender.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;
use std::time::{Duration, Instant};

use osc4rs::{Bundle, Message, Mode, Osc, OscError};

#[test]
fn an_address_receivers_drop_is_refused_at_the_sender() {
    for mode in Mode::ALL {
        let osc = Osc::builder().mode(mode).start().unwrap();
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        osc.udp_client("out", osc.local_addr("in").unwrap())
            .unwrap();
        for bad in ["/test/me/", "/a//b///c", "/a/[b"] {
            assert!(
                matches!(
                    osc.send(Message::new(bad), "out"),
                    Err(OscError::Pattern(_))
                ),
                "{mode:?}: {bad} was sent"
            );
        }
        let nested = Bundle::immediate().add(Bundle::immediate().add(Message::new("/x/")));
        assert!(matches!(osc.send(nested, "out"), Err(OscError::Pattern(_))));
        // Patterns and literal addresses still go.
        osc.send(Message::new("/synth/*/freq"), "out").unwrap();
        osc.send(Message::new("//freq"), "out").unwrap();
        osc.send(Message::new("/test/me"), "out").unwrap();
    }
}

/// The notices, in a child process of this test binary per mode (they print once per
/// process).
#[test]
fn each_kind_of_failure_is_told_once_without_a_logger() {
    if let Ok(mode) = std::env::var("OSC4RS_NOTICE_CHILD") {
        return child(&mode);
    }
    for mode in Mode::ALL {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "each_kind_of_failure_is_told_once_without_a_logger",
                "--nocapture",
            ])
            .env("OSC4RS_NOTICE_CHILD", format!("{mode:?}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{mode:?}: {stderr}");
        for what in [
            "matched no method",
            "malformed packet",
            "could not take a message's arguments",
            "refused as a pattern",
            "a channel dropped a packet or a connection",
        ] {
            assert_eq!(
                stderr.matches(what).count(),
                1,
                "{mode:?}: {what:?} told other than once:\n{stderr}"
            );
        }
    }
}

fn child(mode: &str) {
    let mode = Mode::ALL
        .into_iter()
        .find(|m| format!("{m:?}") == mode)
        .unwrap();
    let osc = Osc::builder().mode(mode).start().unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    osc.tcp_server("tcp", "127.0.0.1:0").unwrap();
    osc.method("/typed", osc4rs::Handler::typed(|(_f,): (f32,)| {}))
        .unwrap();
    let to = osc.local_addr("in").unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        for m in [
            Message::new("/nobody"),
            Message::new("/typed").arg("not a float"),
        ] {
            tx.send_to(&osc4rs::Packet::from(m).to_bytes().unwrap(), to)
                .unwrap();
        }
        tx.send_to(b"garbage!", to).unwrap();
        // A trailing '/': sent raw (osc4rs refuses to send it), refused on receipt.
        tx.send_to(b"/test/me/\0\0\0,\0\0\0", to).unwrap();
    }
    // A TCP frame with a negative length: the channel drops it (malformed frame).
    let mut tcp = std::net::TcpStream::connect(osc.local_addr("tcp").unwrap()).unwrap();
    std::io::Write::write_all(&mut tcp, &0xffff_fff0u32.to_be_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_millis(800);
    while Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(20)).unwrap();
    }
    let d = osc.dispatcher().stats();
    assert_eq!((d.arg_errors, d.bad_address), (3, 3));
    assert!(d.unmatched >= 3);
    assert!(
        osc.channel_stats("tcp").unwrap().total_drops() > 0,
        "{:?}",
        osc.channel_stats("tcp")
    );
}
