//! Unix domain socket channels through the facade, in every mode: a stream server and
//! a client, a request answered on its connection, and endpoint URLs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::{Context, Handler, Message, Mode, Osc};

#[test]
fn a_unix_stream_request_is_answered_on_its_connection_in_every_mode() {
    let dir = std::env::temp_dir().join(format!("osc4rs-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, mode) in Mode::ALL.into_iter().enumerate() {
        let path = dir.join(format!("s{i}.sock"));
        let osc = Osc::builder().mode(mode).start().unwrap();
        osc.unix_server("in", &path).unwrap();
        osc.endpoint(
            "out",
            &format!("osc.unix+stream://{}", path.display()),
            false,
        )
        .unwrap();
        let h = osc.handle();
        osc.method(
            "/ping",
            Handler::with_context(move |m: &Message, ctx: &Context| {
                assert!(ctx.channel.as_deref().unwrap().starts_with("in/"));
                h.reply(
                    ctx,
                    Message::new("/pong").arg(m.args[0].as_i32().unwrap() + 1),
                )
                .unwrap();
            }),
        )
        .unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = Arc::clone(&got);
        osc.method("/pong", move |m: &Message| {
            g.lock().unwrap().push(m.args[0].as_i32().unwrap())
        })
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        // The client connects in the background: send once it takes the packet.
        while osc.send(Message::new("/ping").arg(1), "out").is_err() && Instant::now() < deadline {
            osc.process_timeout(Duration::from_millis(5)).unwrap();
        }
        while got.lock().unwrap().is_empty() && Instant::now() < deadline {
            osc.process_timeout(Duration::from_millis(5)).unwrap();
        }
        assert_eq!(*got.lock().unwrap(), [2], "{mode:?}");
        osc.terminate().unwrap();
        assert!(!path.exists(), "{mode:?}: the socket file stayed");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Unix datagram server (liblo's `osc.unix://`) answers whoever asked, at the path
/// the asker's socket is bound to, in every mode; liblo's `oscsend` can reach it too.
#[test]
fn a_unix_datagram_request_is_answered_at_the_senders_path_in_every_mode() {
    use std::os::unix::net::UnixDatagram;
    let dir = std::env::temp_dir().join(format!("osc4rs-unix-dgram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, mode) in Mode::ALL.into_iter().enumerate() {
        let server = dir.join(format!("server{i}.sock"));
        let osc = Osc::builder().mode(mode).start().unwrap();
        osc.endpoint("in", &format!("osc.unix://{}", server.display()), true)
            .unwrap();
        let h = osc.handle();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let a = Arc::clone(&asked);
        osc.method(
            "/status",
            Handler::with_context(move |_m: &Message, ctx: &Context| {
                a.lock().unwrap().push(ctx.peer_path.is_some());
                if ctx.peer_path.is_some() {
                    h.reply(ctx, Message::new("/status.reply").arg("ok"))
                        .unwrap();
                }
            }),
        )
        .unwrap();
        let asker_path = dir.join(format!("asker{i}.sock"));
        let asker = UnixDatagram::bind(&asker_path).unwrap();
        asker
            .set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        let request = osc4rs::Packet::from(Message::new("/status"))
            .to_bytes()
            .unwrap();
        asker.send_to(&request, &server).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 64];
        let reply = loop {
            assert!(Instant::now() < deadline, "{mode:?}: no reply");
            osc.process_timeout(Duration::from_millis(5)).unwrap();
            if let Ok((n, from)) = asker.recv_from(&mut buf) {
                assert_eq!(from.as_pathname(), Some(server.as_path()), "{mode:?}");
                break Message::decode(&buf[..n]).unwrap();
            }
        };
        assert_eq!(reply.address, "/status.reply", "{mode:?}");
        assert_eq!(reply.args[0].as_str(), Some("ok"));

        // liblo's oscsend (an unbound socket: nothing to answer, and no error).
        if osc_test_support::liblo() {
            let url = format!("osc.unix://{}", server.display());
            let out = std::process::Command::new("oscsend")
                .args([url.as_str(), "/status"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            while asked.lock().unwrap().len() < 2 && Instant::now() < deadline {
                osc.process_timeout(Duration::from_millis(5)).unwrap();
            }
            assert_eq!(
                asked.lock().unwrap().len(),
                2,
                "{mode:?}: oscsend's request"
            );
        }
        osc.terminate().unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
