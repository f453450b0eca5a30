//! osc4py3's `speedudpcli`: send N messages `/test/here/<i> ,si "message" i` over UDP
//! to `speedudpsrv`, as fast as possible or at a given rate.
//!
//! ```text
//! cargo run --release -p osc4rs --example speedudpcli -- [MODE] [COUNT] [PORT] [RATE]
//! ```
//!
//! MODE is `eventloop` (default), `comthreads` or `allthreads`; COUNT defaults to
//! 100000; PORT to 3721 on 127.0.0.1; RATE (messages per second, 0 = as fast as
//! possible) to 0. `send` writes the datagram at once in every mode (from the calling
//! thread); in eventloop mode the client also calls `process()` after each send, as
//! osc4py3's does, to handle whatever arrives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use osc4rs::{Message, Mode, Osc};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.first().map_or("eventloop", String::as_str) {
        "eventloop" => Mode::EventLoop,
        "comthreads" => Mode::CommThreads,
        "allthreads" => Mode::AllThreads,
        _ => {
            eprintln!("usage: speedudpcli [eventloop|comthreads|allthreads] [COUNT] [PORT] [RATE]");
            return ExitCode::from(2);
        }
    };
    let num = |i: usize, default: u64| -> u64 {
        args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
    };
    let count = num(1, 100_000);
    let port = u16::try_from(num(2, 3721)).unwrap_or(3721);
    let rate = num(3, 0);

    let osc = Osc::builder()
        .mode(mode)
        .start()
        .expect("start the runtime");
    osc.udp_client("speedcli", ("127.0.0.1", port))
        .expect("open the UDP client");
    let interval = (rate > 0).then(|| Duration::from_secs_f64(1.0 / rate as f64));
    let start = Instant::now();
    for i in 0..count {
        let msg = Message::new(format!("/test/here/{i}"))
            .arg("message")
            .arg(i32::try_from(i).unwrap_or(i32::MAX));
        // A full send queue is an error value, never a silent loss: let it drain.
        while osc.send(msg.clone(), "speedcli").is_err() {
            osc.process_timeout(Duration::from_millis(1))
                .expect("process");
        }
        if mode == Mode::EventLoop {
            osc.process().expect("process");
        }
        if let Some(iv) = interval {
            let due = start + iv.mul_f64((i + 1) as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
    // terminate() flushes what is still queued.
    osc.terminate().expect("terminate");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "speedudpcli: sent {count} messages in {secs:.3} s: {:.0} messages/s ({mode:?} mode)",
        count as f64 / secs.max(1e-9)
    );
    ExitCode::SUCCESS
}
