//! The cost of dispatching one received message, without I/O: views decoded once, then
//! dispatched in turn to one counting handler, as the facade's receive path does.
//!
//! ```text
//! dispatch_cost KIND [COUNT]
//!   KIND: literal   /test/here/7 to a borrowed method at /test/here/7
//!         filter    /test/here/<0..16> to a borrowed method at the filter /test/here/*
//!         owned     Message /synth/137/freq to 1 of 1,000 literal owned methods
//!   +batch4 (literal, filter): four messages per Dispatcher::batch()
//!         bundle    an immediate bundle of 10 messages /test/here/<0..10>, decoded
//!                   from its bytes and dispatched from its view to a borrowed
//!                   method at /test/here/* (DispatchBatch::dispatch_bundle_ref)
//!         bundle-owned  the same bundle decoded owned and dispatched
//!                   (Dispatcher::dispatch_packet), as before dispatch_bundle_ref
//!   +pool (bundle, bundle-owned): the method runs on the worker pool, so the
//!         bundle runs as one job on the pool's bundle lane (in this thread:
//!         Dispatcher::caller_runs)
//! ```
//!
//! The bundle kinds count the decode too, and time per message of the bundle.
//!
//! Prints the wall time per message. On a noisy machine count instructions instead,
//! which do not depend on the neighbours: run it under `valgrind --tool=cachegrind
//! --cache-sim=no` at two counts (say 100,000 and 300,000) and divide the difference of
//! the `I refs` totals by the difference of the counts (setup cancels out). See
//! docs/performance.md, "Dispatch".

// A bench program: a failed setup should stop it loudly.
#![allow(clippy::expect_used, clippy::print_stdout, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use osc_codec::{Bundle, Message, MessageRef, Packet, PacketRef, TimeTag, decode};
use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Executor, Handler, MethodOptions};

const PARAMS: [&str; 4] = ["freq", "amp", "pan", "gate"];

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "filter".into());
    let count: u64 = args
        .next()
        .map_or(10_000_000, |s| s.parse().expect("COUNT"));
    let hits = Arc::new(AtomicU64::new(0));
    let ctx = Context::new(TimeTag::new(3_900_000_000, 0));
    let started = Instant::now();
    match kind.as_str() {
        "owned" => owned(count, &hits, &ctx),
        "bundle" | "bundle-owned" | "bundle+pool" | "bundle-owned+pool" => {
            let (base, pool) = kind
                .strip_suffix("+pool")
                .map_or((kind.as_str(), false), |k| (k, true));
            bundles(base == "bundle", pool, count, &hits, &ctx);
        }
        _ => {
            let (base, batch) = kind
                .strip_suffix("+batch4")
                .map_or((kind.as_str(), false), |k| (k, true));
            views(base, batch, count, &hits, &ctx);
        }
    }
    let ns = started.elapsed().as_nanos() as f64 / count.max(1) as f64;
    println!(
        "{kind}: {ns:.1} ns per message ({} handler calls)",
        hits.load(Ordering::Relaxed)
    );
}

fn counting(hits: &Arc<AtomicU64>) -> Handler {
    let h = Arc::clone(hits);
    Handler::borrowed(move |_m, _ctx| {
        h.fetch_add(1, Ordering::Relaxed);
    })
}

fn views(kind: &str, batch: bool, count: u64, hits: &Arc<AtomicU64>, ctx: &Context) {
    let d = Dispatcher::new(DispatcherConfig::default());
    let (method, address): (&str, fn(usize) -> String) = match kind {
        "literal" => ("/test/here/7", |_| "/test/here/7".into()),
        "filter" => ("/test/here/*", |i| format!("/test/here/{i}")),
        other => panic!("unknown kind {other}"),
    };
    d.register(method, counting(hits)).expect("register");
    let bytes: Vec<Vec<u8>> = (0..16)
        .map(|i| {
            Message::new(address(i))
                .arg("message")
                .arg(i as i32)
                .to_bytes()
                .expect("encode")
        })
        .collect();
    let views: Vec<MessageRef<'_>> = bytes
        .iter()
        .map(|b| match decode(b).expect("decode") {
            PacketRef::Message(m) => m,
            PacketRef::Bundle(_) => unreachable!("messages only"),
        })
        .collect();
    let view = |i: u64| views.get((i % 16) as usize).expect("16 views");
    if batch {
        let mut i = 0;
        while i < count {
            let mut b = d.batch().expect("open");
            for _ in 0..4 {
                b.dispatch_message_ref(black_box(view(i)), ctx)
                    .expect("dispatch");
                i += 1;
            }
        }
    } else {
        for i in 0..count {
            d.dispatch_message_ref(black_box(view(i)), ctx)
                .expect("dispatch");
        }
    }
}

fn owned(count: u64, hits: &Arc<AtomicU64>, ctx: &Context) {
    let d = Dispatcher::new(DispatcherConfig::default());
    for (i, param) in (0..1_000).zip(PARAMS.iter().cycle()) {
        let h = Arc::clone(hits);
        d.register(&format!("/synth/{}/{param}", i / 4), move |_m: &Message| {
            h.fetch_add(1, Ordering::Relaxed);
        })
        .expect("register");
    }
    let msg = Message::new("/synth/137/freq").arg(440.0f32).arg(0.5f32);
    for _ in 0..count {
        d.dispatch_message(black_box(&msg), ctx).expect("dispatch");
    }
}

/// Messages per bundle of the bundle kinds.
const IN_BUNDLE: u64 = 10;

fn bundles(from_view: bool, pool: bool, count: u64, hits: &Arc<AtomicU64>, ctx: &Context) {
    let d = Dispatcher::new(DispatcherConfig::default());
    let executor = if pool {
        Executor::Pool
    } else {
        Executor::Inline
    };
    let options = MethodOptions::new().executor(executor);
    d.register_with("/test/here/*", counting(hits), options)
        .expect("register");
    let bundle = (0..IN_BUNDLE).fold(Bundle::immediate(), |b, i| {
        b.add(
            Message::new(format!("/test/here/{i}"))
                .arg("message")
                .arg(i as i32),
        )
    });
    let bytes = Packet::from(bundle).to_bytes().expect("encode");
    let now = ctx.arrival;
    let dispatch = || {
        let bytes = black_box(&bytes[..]);
        if from_view {
            let Ok(PacketRef::Bundle(view)) = decode(bytes) else {
                panic!("a bundle")
            };
            d.batch()
                .expect("open")
                .dispatch_bundle_ref(&view, ctx, now)
                .expect("dispatch");
        } else {
            let packet = Packet::decode(bytes).expect("decode");
            d.dispatch_packet(packet, ctx.clone(), now)
                .expect("dispatch");
        }
    };
    if pool {
        // The pool starts at its first job (run by a worker); then `caller_runs` runs
        // the lane's jobs in this thread.
        dispatch();
        while hits.load(Ordering::Relaxed) < IN_BUNDLE {
            std::thread::yield_now();
        }
        hits.store(0, Ordering::Relaxed);
    }
    for _ in 0..count / IN_BUNDLE {
        d.caller_runs(dispatch);
    }
}
