//! osc4rs facade bench processes: receivers (a plain-socket baseline, the facade in each
//! scheduling mode, osc4py3 1.0.8 when installed), a sender, an idle-CPU probe and a
//! ping-pong pair, plus drivers that run them as separate processes, interleaved, and
//! print Markdown tables of medians. `scripts/bench-facade.sh` builds and runs it; see
//! `docs/performance.md`, section "The facade bench".
//!
//! ```text
//! osc4rs_facade_bench throughput [COUNT [RUNS [KINDS]]]  # driver: every receiver (or KINDS, comma-separated), RUNS times
//! osc4rs_facade_bench idle-all [SECS [RUNS]]              # driver: idle CPU of each mode
//! osc4rs_facade_bench latency [ROUNDS [RUNS [split|same]]]  # driver: ping-pong per mode
//! osc4rs_facade_bench latency-layers [ROUNDS [RUNS]]     # driver: a plain ping against pongs of each layer, on one CPU
//! osc4rs_facade_bench sending [COUNT [RUNS]]             # driver: sender CPU per mode
//! osc4rs_facade_bench fanout [TOTAL [RUNS [NS]]]         # driver: sender CPU per datagram, each message to N destinations (NS: 1,10,100)
//! osc4rs_facade_bench empty-pass [COUNT]                 # the cost of a process() that finds nothing
//! osc4rs_facade_bench recv KIND COUNT IDLE_MS            # KIND: baseline|eventloop|comthreads|allthreads, +view: a borrowed handler,
//!                                                        # comthreads+away[+view]: process() every 2 ms (the I/O thread reads)
//! osc4rs_facade_bench send PORT COUNT RATE
//! osc4rs_facade_bench send-as KIND PORT COUNT           # KIND: baseline or a mode
//! osc4rs_facade_bench fanout-as KIND PORTS COUNT        # PORTS: comma-separated, each message to all of them
//! osc4rs_facade_bench idle KIND SECS
//! osc4rs_facade_bench ping KIND ROUNDS           # KIND: plain|plain+epoll|eventloop|comthreads|allthreads, MODE+busy: busy polling 50 µs,
//!                                                 # allthreads+wait: the application thread waits for each reply
//! osc4rs_facade_bench pong KIND PING_PORT      # KIND: a ping's, or reactor|dispatch (latency-layers)
//! ```
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod drive;
mod fanout;
mod latency;
mod measure;
mod recv;

use std::time::Duration;

use osc4rs_benches::measure::arg;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map_or("", String::as_str);
    let text = |i: usize| args.get(i).cloned().unwrap_or_default();
    match cmd {
        "throughput" => drive::throughput(arg(&args, 1, 100_000), arg(&args, 2, 3), &text(3)),
        "idle-all" => drive::idle(arg(&args, 1, 2.0), arg(&args, 2, 3)),
        "latency" => drive::latency(arg(&args, 1, 2000), arg(&args, 2, 3), &text(3)),
        "latency-layers" => drive::latency_layers(arg(&args, 1, 2000), arg(&args, 2, 3)),
        "sending" => drive::sending(arg(&args, 1, 100_000), arg(&args, 2, 3)),
        "fanout" => fanout::fanout(
            arg(&args, 1, 200_000),
            arg(&args, 2, 3),
            &args
                .get(3)
                .cloned()
                .unwrap_or_else(|| "1,10,100".to_owned()),
        ),
        "fanout-as" => fanout::fanout_as(&text(1), &text(2), arg(&args, 3, 1000)),
        "empty-pass" => recv::empty_pass(arg(&args, 1, 2_000_000)),
        "recv" => recv::recv(
            &text(1),
            arg(&args, 2, 100_000),
            Duration::from_millis(arg(&args, 3, 1000)),
        ),
        "send" => recv::send(arg(&args, 1, 0), arg(&args, 2, 100_000), arg(&args, 3, 0)),
        "send-as" => recv::send_as(&text(1), arg(&args, 2, 0), arg(&args, 3, 100_000)),
        "idle" => recv::idle(&text(1), arg(&args, 2, 2.0)),
        "ping" => latency::ping(&text(1)),
        "pong" => latency::pong(&text(1), arg(&args, 2, 0)),
        _ => {
            eprintln!(
                "usage: osc4rs_facade_bench throughput [COUNT [RUNS [KINDS]]] | idle-all [SECS [RUNS]] \
                 | latency [ROUNDS [RUNS [split|same]]] | sending [COUNT [RUNS]] | fanout [TOTAL [RUNS [NS]]] \
                 | empty-pass [COUNT] | recv KIND COUNT IDLE_MS | send PORT COUNT RATE \
                 | send-as KIND PORT COUNT | fanout-as KIND PORTS COUNT | idle KIND SECS | ping KIND ROUNDS \
                 | pong KIND PING_PORT"
            );
            std::process::exit(2);
        }
    }
}
