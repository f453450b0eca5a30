//! osc4py3's "Simple use" chapter with osc4rs's `as_eventloop` module: the same
//! calls, in Rust syntax. A UDP server receives `/test` messages (a string, an
//! integer and a float, as the chapter's `handlerfunction` takes them) from any
//! sender and prints each one; a client sends one too.
//!
//! ```sh
//! cargo run -p osc4rs --example simple_use -- 3721       # then, from another terminal:
//! oscsend localhost 3721 /test sif text 672 8.871        # liblo
//! ```
//! With `--count N` it stops after N messages (the tests use it), else after 60 s.

use std::time::{Duration, Instant};

use osc4rs::Handler;
use osc4rs::as_eventloop::*;
use osc4rs::codec::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = args.first().and_then(|p| p.parse().ok()).unwrap_or(3721);
    let count: Option<usize> = args
        .iter()
        .position(|a| a == "--count")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok());

    // osc_startup()
    osc_startup()?;
    // osc_udp_server("0.0.0.0", 3724, "anotherserver") (loopback here)
    osc_udp_server("127.0.0.1", port, "aservername")?;
    // osc_udp_client("192.168.0.4", 2781, "aclientname") (ourselves here)
    osc_udp_client("127.0.0.1", port, "aclientname")?;

    // def handlerfunction(s, x, y): ...   osc_method("/test/*", handlerfunction)
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&seen);
    osc_method(
        "/test",
        Handler::typed(move |s: String, x: i32, y: f32| {
            println!("/test received: {s:?} {x} {y}");
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }),
    )?;
    println!("listening on udp port {port}");

    // msg = oscbuildparse.OSCMessage("/test", ",sif", ["text", 672, 8.871])
    // osc_send(msg, "aclientname")
    let msg = Message::with_tags(
        "/test",
        ",sif",
        vec!["text".into(), 672.into(), 8.871.into()],
    )?;
    osc_send(msg, "aclientname")?;

    // finished = False
    // while not finished:
    //     osc_process()
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline
        && count.is_none_or(|n| seen.load(std::sync::atomic::Ordering::SeqCst) < n)
    {
        osc_process()?;
        std::thread::sleep(Duration::from_millis(1));
    }

    // osc_terminate()
    osc_terminate()?;
    Ok(())
}
