//! osc-channel bench processes: a UDP receiver (plain blocking loop, reactor, reactor
//! with `recvmmsg`), a UDP sender (`send_to` or `sendmmsg`), a TCP receiver and sender,
//! and drivers that run them as separate processes side by side and print Markdown
//! tables. `scripts/bench-udp.sh` builds and runs it; see `docs/performance.md`.
//!
//! ```text
//! osc_channel_bench udp [COUNT [RUNS [BATCH [PERIOD_US]]]]  # driver: every mode, RUNS times
//! osc_channel_bench tcp [COUNT [RUNS]]              # driver: both framings
//! osc_channel_bench udp-drain [BURST [CYCLES [BATCH]]]  # one process: drain cost only
//! osc_channel_bench scale [COUNT [ROUNDS [tcp|udp]]] # CPU and memory with 1-1,000 TCP connections (and a plain loop), 1-10,000 UDP sources (and a plain loop)
//! osc_channel_bench scale-one reactor|floor CONNS COUNT  # one TCP round (to profile)
//! osc_channel_bench udp-recv MODE COUNT IDLE_MS BATCH PERIOD_US
//! osc_channel_bench udp-send MODE PORT COUNT
//! osc_channel_bench tcp-recv FRAMING COUNT IDLE_MS
//! osc_channel_bench tcp-send FRAMING PORT COUNT
//! osc_channel_bench kernel [ROUNDS]                  # connected sends, sockets in epoll sets
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod drain;
mod kernel;
mod measure;
mod scale;
mod tcp;
mod udp;

use std::time::Duration;

use osc4rs_benches::measure::arg;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map_or("", String::as_str);
    let text = |i: usize| args.get(i).cloned().unwrap_or_default();
    match cmd {
        "udp" => udp::drive(
            arg(&args, 1, 200_000),
            arg(&args, 2, 3),
            arg(&args, 3, 32),
            arg(&args, 4, 0),
        ),
        "udp-drain" => drain::drive(arg(&args, 1, 2000), arg(&args, 2, 200), arg(&args, 3, 32)),
        "tcp" => tcp::drive(arg(&args, 1, 1_000_000), arg(&args, 2, 3)),
        "scale" => scale::drive(arg(&args, 1, 200_000), arg(&args, 2, 3), &text(3)),
        "scale-one" => scale::one(&text(1), arg(&args, 2, 1), arg(&args, 3, 200_000)),
        "scale-mem" => scale::memory(&text(1), arg(&args, 2, 1)),
        "udp-recv" => udp::recv(
            &text(1),
            arg(&args, 2, 200_000),
            Duration::from_millis(arg(&args, 3, 1000)),
            arg(&args, 4, 32),
            Duration::from_micros(arg(&args, 5, 0)),
        ),
        "udp-send" => udp::send(&text(1), arg(&args, 2, 0), arg(&args, 3, 200_000)),
        "tcp-recv" => tcp::recv(
            &text(1),
            arg(&args, 2, 1_000_000),
            Duration::from_millis(arg(&args, 3, 1000)),
        ),
        "tcp-send" => tcp::send(&text(1), arg(&args, 2, 0), arg(&args, 3, 1_000_000)),
        "kernel" => kernel::drive(arg(&args, 1, 5)),
        _ => {
            eprintln!(
                "usage: osc_channel_bench udp [COUNT [RUNS [BATCH [PERIOD_US]]]] | tcp [COUNT [RUNS]] \
                 | udp-drain [BURST [CYCLES [BATCH]]] | scale [COUNT [ROUNDS [tcp|udp]]] \
                 | udp-recv MODE COUNT IDLE_MS BATCH PERIOD_US | udp-send MODE PORT COUNT \
                 | tcp-recv FRAMING COUNT IDLE_MS | tcp-send FRAMING PORT COUNT | kernel [ROUNDS]"
            );
            std::process::exit(2);
        }
    }
}
