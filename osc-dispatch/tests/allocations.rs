//! What dispatching a bundle from its view allocates, counted by a counting global
//! allocator: nothing for a bundle that runs at once, nor for one the rules drop as late,
//! at the top or nested (a flood of late bundles costs no memory); with a method on the
//! worker pool, a few allocations per bundle, however many messages it holds. One test:
//! the counter is process-wide. No logger is installed: the drops' warnings are not formatted
//! (an installed logger allocates what it allocates for any log line).
//!
//! The allocator is the suites' shared one (`osc_test_support::counting`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use osc_codec::{Bundle, Message, Packet, PacketRef, TimeTag, decode};
use osc_dispatch::{
    Context, Dispatcher, DispatcherConfig, Executor, Handler, LatePolicy, MethodOptions,
    PoolConfig, SchedulerConfig,
};
use osc_test_support::counting::{CountingAllocator, allocations_everywhere};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const NOW: TimeTag = TimeTag::new(3_900_000_000, 0);

/// Allocations of dispatching `bytes` (a bundle) 100 times from its view, after a
/// warm-up, and the handler calls made meanwhile. The pool's jobs, if any, run in this
/// thread ([`Dispatcher::caller_runs`]).
fn allocations(d: &Dispatcher, calls: &AtomicU64, bytes: &[u8]) -> (usize, u64) {
    let ctx = Context::new(NOW).with_channel("in");
    let PacketRef::Bundle(view) = decode(bytes).unwrap() else {
        panic!("a bundle")
    };
    let dispatch = || {
        d.caller_runs(|| {
            d.batch()
                .unwrap()
                .dispatch_bundle_ref(&view, &ctx, NOW)
                .unwrap();
        });
    };
    dispatch();
    let (before, calls_before) = (allocations_everywhere(), calls.load(Ordering::SeqCst));
    for _ in 0..100 {
        dispatch();
    }
    let after = allocations_everywhere();
    (after - before, calls.load(Ordering::SeqCst) - calls_before)
}

#[test]
fn bundles_run_or_dropped_from_their_views_allocate_nothing() {
    let d = Dispatcher::new(DispatcherConfig {
        scheduler: SchedulerConfig {
            late: LatePolicy::Drop {
                after: Duration::ZERO,
            },
            ..SchedulerConfig::default()
        },
        ..DispatcherConfig::default()
    });
    let calls = Arc::new(AtomicU64::new(0));
    let c = calls.clone();
    d.register(
        "/synth/*/freq",
        Handler::typed_ref(move |f: f32, _voice: i32| {
            c.fetch_add(f as u64, Ordering::Relaxed);
        }),
    )
    .unwrap();
    let bundle = |timetag: TimeTag| {
        let b = (0..4).fold(Bundle::new(timetag), |b, i| {
            b.add(Message::new(format!("/synth/{i}/freq")).arg(1.0f32).arg(i))
        });
        Packet::from(b).to_bytes().unwrap()
    };
    let run = allocations(&d, &calls, &bundle(TimeTag::IMMEDIATELY));
    assert_eq!(run, (0, 400), "an immediate bundle: allocations, calls");
    let late = NOW - Duration::from_secs(5);
    let dropped = allocations(&d, &calls, &bundle(late));
    assert_eq!(
        dropped,
        (0, 0),
        "a late bundle, dropped: allocations, calls"
    );
    assert_eq!(d.stats().dropped_late, 101);
    // Nested in an immediate bundle: its siblings run, it is dropped.
    let nested = Bundle::immediate()
        .add(Message::new("/synth/9/freq").arg(1.0f32).arg(9))
        .add(Packet::decode(&bundle(late)).unwrap());
    let nested = Packet::from(nested).to_bytes().unwrap();
    let dropped = allocations(&d, &calls, &nested);
    assert_eq!(
        dropped,
        (0, 100),
        "a late nested bundle: allocations, calls"
    );
    assert_eq!(d.stats().dropped_late, 202);

    // A borrowed method on the pool (of one worker): the bundle's calls are gathered
    // and run as a unit on the pool's lane, reading one copy of the bundle's bytes.
    let pooled = Dispatcher::new(DispatcherConfig {
        pool: PoolConfig {
            threads: 1,
            ..PoolConfig::default()
        },
        ..DispatcherConfig::default()
    });
    let elsewhere = Arc::new(AtomicU64::new(0));
    let (c, e) = (calls.clone(), elsewhere.clone());
    pooled
        .register_with(
            "/synth/*/freq",
            Handler::typed_ref(move |f: f32, _voice: i32| {
                c.fetch_add(f as u64, Ordering::Relaxed);
                if !ON_TEST_THREAD.with(Cell::get) {
                    e.fetch_add(1, Ordering::SeqCst);
                }
            }),
            MethodOptions::new().executor(Executor::Pool),
        )
        .unwrap();
    ON_TEST_THREAD.with(|here| here.set(true));
    lane_runs_here(&pooled, &bundle(TimeTag::IMMEDIATELY), &elsewhere);
    let away = elsewhere.load(Ordering::SeqCst);
    let four = allocations(&pooled, &calls, &bundle(TimeTag::IMMEDIATELY));
    let sixteen = (0..16).fold(Bundle::immediate(), |b, i| {
        b.add(Message::new(format!("/synth/{i}/freq")).arg(1.0f32).arg(i))
    });
    let sixteen = allocations(&pooled, &calls, &Packet::from(sixteen).to_bytes().unwrap());
    assert_eq!((four.1, sixteen.1), (400, 1600), "calls");
    assert_eq!(
        elsewhere.load(Ordering::SeqCst),
        away,
        "all run in this thread"
    );
    // Per bundle: the copy of its bytes, and the job that drains the idle lane (a few
    // more allowed in all for the worker's first wait for work, which may fall here).
    for (n, (allocs, _)) in [(4, four), (16, sixteen)] {
        assert!(
            (200..=203).contains(&allocs),
            "{n} messages: {allocs} allocations per 100 bundles"
        );
    }
}

thread_local! {
    /// True in the test's thread: a handler tells where it runs without allocating.
    static ON_TEST_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Dispatches `bytes` (a bundle of 4 messages to the pool's method) until its calls
/// all run in this thread: the pool starts at its first job, which its worker runs;
/// once the worker has left the lane, `caller_runs` drains it here. `elsewhere`
/// counts the calls made in other threads.
fn lane_runs_here(d: &Dispatcher, bytes: &[u8], elsewhere: &AtomicU64) {
    let ctx = Context::new(NOW);
    let PacketRef::Bundle(view) = decode(bytes).unwrap() else {
        panic!("a bundle")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (calls, away) = (d.stats().handler_calls, elsewhere.load(Ordering::SeqCst));
        d.caller_runs(|| {
            d.batch()
                .unwrap()
                .dispatch_bundle_ref(&view, &ctx, NOW)
                .unwrap();
        });
        // A handler notes where it ran before its call is counted.
        let here = d.stats().handler_calls == calls + 4;
        if here && elsewhere.load(Ordering::SeqCst) == away {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the lane ran here");
        std::thread::sleep(Duration::from_millis(1));
    }
}
