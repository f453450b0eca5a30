//! The osc4py3 vocabulary (`as_eventloop`, `as_comthreads`, `as_allthreads`) over the
//! global runtime: one test, since the modules share that runtime.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::{Message, OscError};

/// osc4py3's demo, line by line: a server, a client to it, a method that answers
/// through `osc_send` to `_local`, sends, and `osc_process` until the answer is in.
macro_rules! demo {
    ($module:ident) => {{
        use osc4rs::$module::*;
        assert!(matches!(osc_process(), Err(OscError::NotStarted)));
        osc_startup().unwrap();
        osc_udp_server("127.0.0.1", 0, "aservername").unwrap();
        let port = osc_runtime()
            .unwrap()
            .local_addr("aservername")
            .unwrap()
            .port();
        osc_udp_client("127.0.0.1", port, "aclientname").unwrap();
        osc_tcp_server("127.0.0.1", 0, "tcpserver").unwrap();
        let tcp_port = osc_runtime()
            .unwrap()
            .local_addr("tcpserver")
            .unwrap()
            .port();
        osc_tcp_client("127.0.0.1", tcp_port, "tcpclient").unwrap();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let s = Arc::clone(&seen);
        osc_method("/test/*", move |m: &Message| {
            s.lock().unwrap().push(m.to_string());
            if m.address == "/test/me" {
                osc_send(Message::new("/test/answer"), "_local").unwrap();
            }
        })
        .unwrap();
        osc_send(Message::new("/test/me").arg(1), "aclientname").unwrap();
        osc_send(Message::new("/test/tcp"), "tcpclient").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.lock().unwrap().len() < 3 && Instant::now() < deadline {
            osc_process().unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut got = seen.lock().unwrap().clone();
        got.sort();
        assert_eq!(
            got,
            ["/test/answer ,", "/test/me ,i 1", "/test/tcp ,"],
            stringify!($module)
        );
        // osc4py3 matches a registered pattern against the start of the address;
        // osc_method_spec matches the whole address, as the specification says.
        let prefixed: Arc<Mutex<Vec<String>>> = Arc::default();
        let (p, q) = (Arc::clone(&prefixed), Arc::clone(&prefixed));
        osc_method("/pre", move |m: &Message| {
            p.lock().unwrap().push(m.address.clone())
        })
        .unwrap();
        osc_method_spec("/spec/*", move |m: &Message| {
            q.lock().unwrap().push(m.address.clone())
        })
        .unwrap();
        for a in ["/pre/x/y", "/prefix", "/pr", "/spec/a", "/spec/a/b"] {
            osc_send(Message::new(a), "aclientname").unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while prefixed.lock().unwrap().len() < 3 && Instant::now() < deadline {
            osc_process().unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        for _ in 0..20 {
            osc_process().unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut got = prefixed.lock().unwrap().clone();
        got.sort();
        assert_eq!(got, ["/pre/x/y", "/prefix", "/spec/a"], stringify!($module));
        osc_terminate().unwrap();
        assert!(matches!(
            osc_send(Message::new("/test/late"), "aclientname"),
            Err(OscError::NotStarted)
        ));
    }};
}

#[test]
fn every_osc4py3_module_runs_the_demo() {
    demo!(as_eventloop);
    demo!(as_comthreads);
    demo!(as_allthreads);
}

/// osc4py3's "Simple use" message with explicit tags, written as a Rust user writes it:
/// `8.871` is an `f64`, and `,f` takes it because the nearest `f32` prints the same.
#[test]
fn explicit_tags_take_f64_literals_that_fit_an_f32() {
    let m = Message::with_tags(
        "/test/me",
        ",sif",
        vec!["text".into(), 672.into(), 8.871.into()],
    )
    .unwrap();
    assert_eq!(m.args[2], osc4rs::Value::Float(8.871));
    // More digits than an f32 holds: refused, and the error says what to do.
    let err = Message::with_tags("/pi", ",f", vec![std::f64::consts::PI.into()]).unwrap_err();
    assert!(
        err.to_string().contains("give a value of that type"),
        "{err}"
    );
}

#[test]
fn pattern_errors_convert_with_the_question_mark() -> osc4rs::Result<()> {
    fn filter(p: &str) -> osc4rs::Result<osc4rs::pattern::Filter> {
        Ok(osc4rs::pattern::Filter::osc4py3_prefix(p)?)
    }
    assert!(filter("/test").is_ok());
    assert!(matches!(filter("/a/[b"), Err(OscError::Pattern(_))));
    Ok(())
}
