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

/// The notices, in a child process of this test binary (they print once per process).
#[test]
fn each_kind_of_failure_is_told_once_without_a_logger() {
    if std::env::var("OSC4RS_NOTICE_CHILD").is_ok() {
        return child();
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "each_kind_of_failure_is_told_once_without_a_logger",
            "--nocapture",
        ])
        .env("OSC4RS_NOTICE_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for what in [
        "matched no method",
        "malformed packet",
        "could not take a message's arguments",
    ] {
        assert_eq!(
            stderr.matches(what).count(),
            1,
            "{what:?} told other than once:\n{stderr}"
        );
    }
}

fn child() {
    let osc = Osc::builder().start().unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
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
    }
    let deadline = Instant::now() + Duration::from_millis(500);
    while Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(20)).unwrap();
    }
    let d = osc.dispatcher().stats();
    assert_eq!((d.unmatched, d.arg_errors), (3, 3));
}
