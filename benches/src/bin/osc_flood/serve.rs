//! A facade server for the floods: TCP (framing detected per connection) and UDP on
//! one port, printing the address of every message except the flood's `/a`, and a
//! count line every second.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use osc4rs::{Message, Mode, Osc};

pub(crate) fn run(mode: &str, port: u16) {
    let mode = match mode {
        "eventloop" => Mode::EventLoop,
        "comthreads" => Mode::CommThreads,
        "allthreads" => Mode::AllThreads,
        other => panic!("unknown mode {other}"),
    };
    let osc = Osc::builder().mode(mode).start().unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    osc.tcp_server("tcp", addr).unwrap();
    osc.udp_server("udp", addr).unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&seen);
    osc.method("/*", move |m: &Message| {
        count.fetch_add(1, Ordering::Relaxed);
        if m.address != "/a" {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", m.address);
            let _ = out.flush();
        }
    })
    .unwrap();
    eprintln!("serving on {port} ({mode:?})");
    loop {
        let _ = osc.process_timeout(Duration::from_millis(100));
    }
}
