//! What reading a decoded view's arguments adds to its decode (issue 22: at most 30%),
//! measured so that the host's moods cancel out: the four loops of a packet (decode
//! alone, decode + read every argument through the lazy iterator, decode + `args_as`,
//! decode + find each message without reading its arguments)
//! take turns in blocks of about half a millisecond, and each ratio is the median of
//! the ratios of blocks run side by side. Criterion runs its benches one after
//! another, and on this shared host the same decode loop moves by more than 30% from
//! one to the next.
//!
//! ```text
//! read_cost [ROUNDS]    (default 300; about 2 s per 100 rounds)
//! ```
//!
//! Prints a markdown table. The work per packet is the criterion bench's
//! (`osc4rs_benches::reading`).

// A bench program: a failed setup should stop it loudly.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use osc_codec::decode;
use osc4rs_benches::measure::{arg, median, percentile};
use osc4rs_benches::reading::{ReadCase, cases, read_all, walk};

/// About how long one block of one loop runs.
const BLOCK_NS: f64 = 500_000.0;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = arg(&args, 1, 300);
    println!(
        "Decode alone, decode + every argument read through the lazy iterator \
         (`args().fold`), decode + `args_as` with the packet's types, decode + finding \
         each message without reading its arguments: the four loops in turns of \
         ~0.5 ms blocks, {rounds} rounds; times are medians of the blocks (the fourth \
         loop's ratio only), \"adds\" the median (and 10th-90th percentiles) of the \
         ratios of blocks run side by side:\n"
    );
    println!(
        "| packet | decode (view) | decode + read | reading adds | decode + `args_as` \
         | `args_as` adds | finding the messages adds | target | met |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|---|");
    for case in cases() {
        row(&case, rounds);
    }
    println!(
        "\nTimes in ns per packet. \"Finding the messages\": decode + each message's \
         address and tag count, no argument read; for a bundle that is parsing its \
         elements again (`BundleRef::elements`), the part of both reads that no argument \
         read can avoid."
    );
}

/// One packet's line of the table.
fn row(case: &ReadCase, rounds: usize) {
    let bytes = case.packet.to_bytes().expect("encodes");
    let typed = case.typed;
    let mut loops: [Box<dyn FnMut(u64) -> f64>; 4] = [
        Box::new(|n| {
            per_op(n, || {
                u64::from(decode(black_box(&bytes)).as_ref().map(black_box).is_ok())
            })
        }),
        Box::new(|n| per_op(n, || decode(black_box(&bytes)).as_ref().map_or(0, read_all))),
        Box::new(|n| per_op(n, || decode(black_box(&bytes)).as_ref().map_or(0, typed))),
        Box::new(|n| per_op(n, || decode(black_box(&bytes)).as_ref().map_or(0, walk))),
    ];
    let n = block_size(&mut loops[0]);
    let mut times: [Vec<f64>; 4] = Default::default();
    let mut ratios: [Vec<f64>; 3] = Default::default();
    for r in 0..rounds {
        let mut t = [0.0; 4];
        // Each loop starts a round in turn.
        for k in 0..4 {
            let i = (r + k) % 4;
            if let (Some(run), Some(slot)) = (loops.get_mut(i), t.get_mut(i)) {
                *slot = run(n);
            }
        }
        for (v, x) in times.iter_mut().zip(t) {
            v.push(x);
        }
        for (v, x) in ratios.iter_mut().zip(&t[1..]) {
            v.push(x / t[0]);
        }
    }
    let [d, dr, dt, _] = times.map(median);
    let adds = |v: &[f64]| {
        let pct = |q| (percentile(v.to_vec(), q) - 1.0) * 100.0;
        format!("{:+.0}% ({:+.0} to {:+.0})", pct(0.5), pct(0.1), pct(0.9))
    };
    let met = |v: &[f64]| {
        if median(v.to_vec()) <= 1.3 {
            "yes"
        } else {
            "no"
        }
    };
    println!(
        "| `{}` | {d:.1} | {dr:.1} | {} | {dt:.1} | {} | {} | ≤ +30% | lazy: {}, `args_as`: {} |",
        case.name,
        adds(&ratios[0]),
        adds(&ratios[1]),
        adds(&ratios[2]),
        met(&ratios[0]),
        met(&ratios[1]),
    );
}

/// Runs `f` `n` times; nanoseconds per run.
fn per_op(n: u64, mut f: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// How many runs of the decode loop make a block of about [`BLOCK_NS`] (after a warm-up).
fn block_size(decode_loop: &mut impl FnMut(u64) -> f64) -> u64 {
    decode_loop(10_000);
    let ns = decode_loop(10_000).max(1.0);
    ((BLOCK_NS / ns) as u64).max(100)
}
