//! WebSocket channels through the facade, in every mode: a page-like client and a
//! server, a request answered on its connection, and a ws:// endpoint URL.
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
fn a_websocket_request_is_answered_on_its_connection_in_every_mode() {
    for mode in Mode::ALL {
        let osc = Osc::builder().mode(mode).start().unwrap();
        osc.ws_server("web", "127.0.0.1:0").unwrap();
        let addr = osc.local_addr("web").unwrap();
        osc.endpoint("page", &format!("ws://{addr}/osc"), false)
            .unwrap();
        let h = osc.handle();
        osc.method(
            "/fader/*",
            Handler::with_context(move |m: &Message, ctx: &Context| {
                assert!(ctx.channel.as_deref().unwrap().starts_with("web/"));
                let v = m.args[0].as_f32().unwrap();
                h.reply(ctx, Message::new("/fader/echo").arg(v)).unwrap();
            }),
        )
        .unwrap();
        let echoed = Arc::new(Mutex::new(Vec::new()));
        let e = Arc::clone(&echoed);
        osc.method("/fader/echo", move |m: &Message| {
            e.lock().unwrap().push(m.args[0].as_f32().unwrap())
        })
        .unwrap();
        osc.send(Message::new("/fader/1").arg(0.25f32), "page")
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while echoed.lock().unwrap().is_empty() && Instant::now() < deadline {
            osc.process_timeout(Duration::from_millis(5)).unwrap();
        }
        assert_eq!(*echoed.lock().unwrap(), [0.25], "{mode:?}");
        osc.terminate().unwrap();
    }
}
