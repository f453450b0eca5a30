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
