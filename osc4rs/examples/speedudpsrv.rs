//! osc4py3's `speedudpsrv`: receive N messages `/test/here/<i> ,si "message" i` over
//! UDP, count them in a handler, and report messages per second and loss. Start it,
//! then run `speedudpcli` with the same count.
//!
//! ```text
//! cargo run --release -p osc4rs --example speedudpsrv -- [MODE] [COUNT] [PORT] [IDLE_MS]
//! cargo run --release -p osc4rs --example speedudpcli -- [MODE] [COUNT] [PORT] [RATE]
//! ```
//!
//! MODE is `eventloop` (default), `comthreads` or `allthreads`; COUNT defaults to
//! 100000; PORT to 3721 on 127.0.0.1. The server stops when it has COUNT messages or
//! after IDLE_MS (default 2000) without one once the first has arrived, and prints one
//! summary line. The exit status is 0 when nothing was lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use osc4rs::{Message, Mode, Osc};

fn mode_arg(s: Option<&str>) -> Option<Mode> {
    match s.unwrap_or("eventloop") {
        "eventloop" => Some(Mode::EventLoop),
        "comthreads" => Some(Mode::CommThreads),
        "allthreads" => Some(Mode::AllThreads),
        _ => None,
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(mode) = mode_arg(args.first().map(String::as_str)) else {
        eprintln!("usage: speedudpsrv [eventloop|comthreads|allthreads] [COUNT] [PORT] [IDLE_MS]");
        return ExitCode::from(2);
    };
    let num = |i: usize, default: u64| -> u64 {
        args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
    };
    let count = num(1, 100_000);
    let port = u16::try_from(num(2, 3721)).unwrap_or(3721);
    let idle = Duration::from_millis(num(3, 2000));

    let osc = Osc::builder()
        .mode(mode)
        .start()
        .expect("start the runtime");
    osc.udp_server("speedsrv", ("127.0.0.1", port))
        .expect("open the UDP server");
    let received = Arc::new(AtomicU64::new(0));
    let r = Arc::clone(&received);
    osc.method("/test/here/*", move |_m: &Message| {
        r.fetch_add(1, Ordering::Relaxed);
    })
    .expect("register the handler");
    println!(
        "speedudpsrv: {mode:?} mode, waiting for {count} messages on {}",
        osc.local_addr("speedsrv").expect("bound")
    );

    // Wait for the first message, then count until all arrived or the line goes quiet.
    let mut first: Option<Instant> = None;
    let mut last_change = Instant::now();
    let mut last_seen = 0;
    loop {
        osc.process_timeout(Duration::from_millis(50))
            .expect("process");
        let n = received.load(Ordering::Relaxed);
        if n != last_seen {
            if first.is_none() {
                first = Some(Instant::now());
            }
            last_seen = n;
            last_change = Instant::now();
        }
        if n >= count || (first.is_some() && last_change.elapsed() >= idle) {
            break;
        }
    }
    let end = if last_seen >= count {
        Instant::now()
    } else {
        last_change
    };
    let n = received.load(Ordering::Relaxed);
    let secs = first.map_or(0.0, |f| end.duration_since(f).as_secs_f64());
    let lost = count.saturating_sub(n);
    println!(
        "speedudpsrv: received {n}/{count} in {secs:.3} s: {:.0} messages/s, lost {lost} ({:.2}%), {mode:?} mode",
        if secs > 0.0 { n as f64 / secs } else { 0.0 },
        lost as f64 * 100.0 / count.max(1) as f64,
    );
    osc.terminate().expect("terminate");
    if lost == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
