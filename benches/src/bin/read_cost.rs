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
//! read_cost [ROUNDS]    (default 300; about 4 s per 100 rounds)
//! ```
//!
//! Prints two markdown tables: reads from `decode`'s view, then reads from the messages
//! `decode_messages` kept (decode, `decode_messages`, and the two reads of its messages,
//! alternated the same way). The work per packet is the criterion bench's
//! (`osc4rs_benches::reading`).

// A bench program: a failed setup should stop it loudly.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use osc_codec::{MessageRef, Options, decode, decode_messages};
use osc4rs_benches::measure::{arg, median, percentile};
use osc4rs_benches::reading::{ReadCase, cases, read_all, read_found, walk};

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
    let all = cases();
    for case in &all {
        row(case, rounds);
    }
    println!(
        "\nThe same packets decoded with `decode_messages`, which keeps the view of every \
         message as the validation finds it (a reused `Vec`), so a bundle's messages are \
         read without a second parse; the reads are against that decode, and the decode \
         against `decode` (same alternation):\n"
    );
    println!(
        "| packet | decode | `decode_messages` | keeping the views adds | + read | reading \
         adds | + `args_as` | `args_as` adds | target | met |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for case in &all {
        found_row(case, rounds);
    }
    println!(
        "\nTimes in ns per packet. \"Finding the messages\": decode + each message's \
         address and tag count, no argument read; for a bundle that is parsing its \
         elements again (`BundleRef::elements`), the part of both reads that no argument \
         read can avoid."
    );
}

/// One packet's line of the `decode_messages` table.
fn found_row(case: &ReadCase, rounds: usize) {
    let bytes = case.packet.to_bytes().expect("encodes");
    let typed_found = case.typed_found;
    let opts = Options::DEFAULT;
    let mut loops: [Box<dyn FnMut(u64) -> f64 + '_>; 4] = [
        Box::new(|n| {
            per_op(n, || {
                u64::from(decode(black_box(&bytes)).as_ref().map(black_box).is_ok())
            })
        }),
        kept_loop(&bytes, &opts, |found| found.len() as u64),
        kept_loop(&bytes, &opts, read_found),
        kept_loop(&bytes, &opts, typed_found),
    ];
    let times = alternate(&mut loops, rounds);
    let [d, dm, dr, dt] = times.clone().map(median);
    let (keeping, read, typed) = (
        ratio(&times, 1, 0),
        ratio(&times, 2, 1),
        ratio(&times, 3, 1),
    );
    println!(
        "| `{}` | {d:.1} | {dm:.1} | {} | {dr:.1} | {} | {dt:.1} | {} | ≤ +30% | lazy: {}, `args_as`: {} |",
        case.name,
        adds(&keeping),
        adds(&read),
        adds(&typed),
        met(&read),
        met(&typed),
    );
}

/// The loop that decodes `bytes` with `decode_messages` into a list reused through the
/// block (as a receiver reuses it), then `read`s the list.
fn kept_loop<'b>(
    bytes: &'b [u8],
    opts: &'b Options,
    read: impl Fn(&[MessageRef<'_>]) -> u64 + 'b,
) -> Box<dyn FnMut(u64) -> f64 + 'b> {
    Box::new(move |n| {
        let mut found = Vec::new();
        per_op(n, || {
            let p = decode_messages(black_box(bytes), opts, &mut found);
            u64::from(p.as_ref().map(black_box).is_ok()) ^ read(&found)
        })
    })
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
    let times = alternate(&mut loops, rounds);
    let [d, dr, dt, _] = times.clone().map(median);
    let (read, typed, walked) = (
        ratio(&times, 1, 0),
        ratio(&times, 2, 0),
        ratio(&times, 3, 0),
    );
    println!(
        "| `{}` | {d:.1} | {dr:.1} | {} | {dt:.1} | {} | {} | ≤ +30% | lazy: {}, `args_as`: {} |",
        case.name,
        adds(&read),
        adds(&typed),
        adds(&walked),
        met(&read),
        met(&typed),
    );
}

/// Runs the four loops in turns of one block each (each starting a round in turn),
/// `rounds` times; each loop's block times, round by round.
fn alternate(loops: &mut [Box<dyn FnMut(u64) -> f64 + '_>; 4], rounds: usize) -> [Vec<f64>; 4] {
    let n = block_size(&mut loops[0]);
    let mut times: [Vec<f64>; 4] = Default::default();
    for r in 0..rounds {
        for k in 0..4 {
            let i = (r + k) % 4;
            if let (Some(run), Some(v)) = (loops.get_mut(i), times.get_mut(i)) {
                v.push(run(n));
            }
        }
    }
    times
}

/// Loop `i`'s time over loop `j`'s, round by round (blocks run side by side).
fn ratio(times: &[Vec<f64>; 4], i: usize, j: usize) -> Vec<f64> {
    let (Some(a), Some(b)) = (times.get(i), times.get(j)) else {
        return Vec::new();
    };
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// How much a ratio adds: its median, and its 10th-90th percentiles.
fn adds(v: &[f64]) -> String {
    let pct = |q| (percentile(v.to_vec(), q) - 1.0) * 100.0;
    format!("{:+.0}% ({:+.0} to {:+.0})", pct(0.5), pct(0.1), pct(0.9))
}

/// Whether a ratio's median is within the target (+30%).
fn met(v: &[f64]) -> &'static str {
    if median(v.to_vec()) <= 1.3 {
        "yes"
    } else {
        "no"
    }
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
