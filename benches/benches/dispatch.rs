//! osc-dispatch benches: one decoded message dispatched to one of 1,000 methods
//! (inline, and through the worker pool up to the handler's completion), the bytes of
//! one message decoded, dispatched and its two floats read by an owned typed handler
//! against a borrowed one (`Handler::typed` over `Packet::decode`, `Handler::typed_ref`
//! over the view), and scheduling then releasing 100,000 future bundles.
//!
//! Run: `cargo bench -p osc4rs-benches --bench dispatch -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use osc_codec::{Bundle, Message, Packet, TimeTag};
use osc_dispatch::{
    Context, Dispatcher, DispatcherConfig, Executor, Handler, OverflowPolicy, PoolConfig,
    SchedulerConfig, ShutdownOptions,
};

const PARAMS: [&str; 4] = ["freq", "amp", "pan", "gate"];
const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

/// A dispatcher with 1,000 methods `/synth/N/param`, each counting its calls.
fn thousand(config: DispatcherConfig) -> (Dispatcher, Arc<AtomicU64>) {
    let d = Dispatcher::new(config);
    let hits = Arc::new(AtomicU64::new(0));
    for (i, param) in (0..1_000).zip(PARAMS.iter().cycle()) {
        let h = hits.clone();
        let addr = format!("/synth/{}/{param}", i / 4);
        d.register(
            &addr,
            Handler::new(move |m| {
                black_box(m);
                h.fetch_add(1, Ordering::Relaxed);
            }),
        )
        .expect("register");
    }
    (d, hits)
}

fn message() -> Message {
    Message::new("/synth/137/freq").arg(440.0f32).arg(0.5f32)
}

fn dispatch_one(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch");
    let msg = message();
    let ctx = Context::new(T0).with_channel("in");

    let (d, _) = thousand(DispatcherConfig::default());
    group.bench_function("1 of 1,000 methods, inline (borrowed message)", |b| {
        b.iter(|| d.dispatch_message(black_box(&msg), &ctx).expect("dispatch"));
    });
    group.bench_function("1 of 1,000 methods, inline (owned packet)", |b| {
        b.iter_batched(
            || Packet::from(msg.clone()),
            |p| d.dispatch_packet(p, ctx.clone(), T0).expect("dispatch"),
            BatchSize::SmallInput,
        );
    });

    let (pooled, hits) = thousand(DispatcherConfig {
        default_executor: Executor::Pool,
        pool: PoolConfig {
            threads: 10,
            queue_capacity: 65_536,
            overflow: OverflowPolicy::Block {
                timeout: Duration::from_secs(60),
            },
            ..PoolConfig::default()
        },
        ..DispatcherConfig::default()
    });
    // Time from the first submission to the last handler's completion.
    group.bench_function("1 of 1,000 methods, pool of 10 (to completion)", |b| {
        b.iter_custom(|iters| {
            let target = hits.load(Ordering::Relaxed) + iters;
            let start = Instant::now();
            for _ in 0..iters {
                pooled.dispatch_message(&msg, &ctx).expect("dispatch");
            }
            while hits.load(Ordering::Relaxed) < target {
                std::thread::yield_now();
            }
            start.elapsed()
        });
    });
    pooled.shutdown(ShutdownOptions::default(), T0);
    group.finish();
}

/// Bytes to handler: decode, match among 1,000 methods, read `(f32, f32)`.
fn bytes_to_handler(c: &mut Criterion) {
    let mut group = c.benchmark_group("bytes to handler");
    let bytes = message().to_bytes().expect("encode");
    let ctx = Context::new(T0).with_channel("in");
    let sum = Arc::new(AtomicU64::new(0));
    let one = |typed_ref: bool| {
        let d = Dispatcher::new(DispatcherConfig::default());
        for (i, param) in (0..1_000).zip(PARAMS.iter().cycle()) {
            let addr = format!("/synth/{}/{param}", i / 4);
            let s = sum.clone();
            let add = move |f: f32, a: f32| {
                s.fetch_add((f + a) as u64, Ordering::Relaxed);
            };
            let h = if typed_ref {
                Handler::typed_ref(add)
            } else {
                Handler::typed(add)
            };
            d.register(&addr, h).expect("register");
        }
        d
    };
    let owned = one(false);
    group.bench_function("owned: Packet::decode + dispatch_packet + typed", |b| {
        b.iter(|| {
            let p = Packet::decode(black_box(&bytes)).expect("decode");
            owned.dispatch_packet(p, ctx.clone(), T0).expect("dispatch");
        });
    });
    let borrowed = one(true);
    group.bench_function("borrowed: decode + dispatch_message_ref + typed_ref", |b| {
        b.iter(|| {
            let Ok(osc_codec::PacketRef::Message(m)) = osc_codec::decode(black_box(&bytes)) else {
                unreachable!()
            };
            borrowed.dispatch_message_ref(&m, &ctx).expect("dispatch");
        });
    });
    // What a driver does with a burst: one look at the methods for four messages.
    group.bench_function(
        "borrowed, 4 messages: decode + DispatchBatch::dispatch_message_ref + typed_ref",
        |b| {
            b.iter(|| {
                let mut batch = borrowed.batch().expect("open");
                for _ in 0..4 {
                    let Ok(osc_codec::PacketRef::Message(m)) = osc_codec::decode(black_box(&bytes))
                    else {
                        unreachable!()
                    };
                    batch.dispatch_message_ref(&m, &ctx).expect("dispatch");
                }
            });
        },
    );
    group.finish();
}

fn schedule_release(c: &mut Criterion) {
    const N: u64 = 100_000;
    let mut group = c.benchmark_group("scheduler");
    group.sample_size(10);
    group.bench_function("schedule and release 100,000 future bundles", |b| {
        b.iter_batched(
            || {
                let (d, hits) = thousand(DispatcherConfig {
                    scheduler: SchedulerConfig {
                        max_pending: 200_000,
                        ..SchedulerConfig::default()
                    },
                    ..DispatcherConfig::default()
                });
                // Due times spread over 10 s, in a scrambled order.
                let bundles: Vec<Packet> = (0..N)
                    .map(|i| {
                        let at = T0
                            + Duration::from_millis(10)
                            + Duration::from_micros((i * 7_919) % N * 100);
                        Bundle::new(at).add(message()).into()
                    })
                    .collect();
                (d, hits, bundles)
            },
            |(d, hits, bundles)| {
                for p in bundles {
                    d.dispatch_packet(p, Context::new(T0), T0)
                        .expect("dispatch");
                }
                assert_eq!(d.pending(), N as usize);
                d.run_due(T0 + Duration::from_secs(11));
                assert_eq!(hits.load(Ordering::Relaxed), N);
                d
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, dispatch_one, bytes_to_handler, schedule_release);
criterion_main!(benches);
