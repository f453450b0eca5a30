//! Logging: osc4rs logs through the `log` crate and never prints; the application picks
//! a logger. This example installs `env_logger` at debug level (override with
//! `RUST_LOG`, e.g. `RUST_LOG=osc4rs=trace`), exchanges a few messages over UDP and
//! then sends a malformed datagram from a plain socket: the runtime logs a warning
//! naming the peer address, counts it, and goes on dispatching.
//!
//! ```text
//! cargo run -p osc4rs --example logger -- [eventloop|comthreads|allthreads]
//! ```
//!
//! osc4py3 takes a `logger` argument in `osc_startup(logger=...)`; in Rust the global
//! `log` facade plays that part, so there is nothing to pass to the runtime.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use osc4rs::{Bundle, Message, Mode, Osc};

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("debug"))
        .format_timestamp_millis()
        .init();
    let mode = match std::env::args().nth(1).as_deref() {
        Some("comthreads") => Mode::CommThreads,
        Some("allthreads") => Mode::AllThreads,
        _ => Mode::EventLoop,
    };
    log::info!("logger example: {mode:?} mode");

    let osc = Osc::builder()
        .mode(mode)
        .exec_threads(2)
        .start()
        .expect("start");
    osc.udp_server("in", "127.0.0.1:0").expect("server");
    let addr = osc.local_addr("in").expect("bound");
    osc.udp_client("out", addr).expect("client");

    let got = Arc::new(AtomicUsize::new(0));
    let g = Arc::clone(&got);
    osc.method("/log/*", move |m: &Message| {
        log::info!("handler got {m}");
        g.fetch_add(1, Ordering::SeqCst);
    })
    .expect("method");

    osc.send(Message::new("/log/hello").arg("world"), "out")
        .expect("send");
    osc.send(
        Bundle::immediate()
            .add(Message::new("/log/a").arg(1))
            .add(Message::new("/log/b").arg(2.5f32)),
        "out",
    )
    .expect("send");
    wait(&osc, &got, 3);

    // Not OSC: an address without its terminating NUL and padding.
    let rogue = UdpSocket::bind("127.0.0.1:0").expect("bind");
    log::info!(
        "sending a malformed datagram from {}",
        rogue.local_addr().expect("addr")
    );
    rogue.send_to(b"/log/broken", addr).expect("send_to");
    // A message after it shows that dispatch goes on.
    osc.send(Message::new("/log/after").arg("still working"), "out")
        .expect("send");
    wait(&osc, &got, 4);

    log::info!(
        "decode errors counted by the runtime: {}",
        osc.stats().decode_errors
    );
    osc.terminate().expect("terminate");
}

/// Processes (where the mode needs it) until `n` messages were handled or 5 s passed.
fn wait(osc: &Osc, got: &AtomicUsize, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.load(Ordering::SeqCst) < n && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(10))
            .expect("process");
    }
}
