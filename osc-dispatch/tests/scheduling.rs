//! End-to-end scheduling through the `Dispatcher`, on virtual time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use osc_codec::{Bundle, Message, Packet, TimeTag};
use osc_dispatch::{
    Clock, Context, DispatchError, Dispatcher, DispatcherConfig, Executor, Handler, LatePolicy,
    MethodOptions, NestedPolicy, SchedulerConfig, ShutdownOptions, VirtualClock,
};

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Log = Arc<Mutex<Vec<String>>>;

/// A dispatcher whose `/r/*` filter records "address arg0" of each message.
fn recording(config: DispatcherConfig, executor: Executor) -> (Dispatcher, Log) {
    let d = Dispatcher::new(config);
    let log: Log = Arc::default();
    let l = log.clone();
    d.register_with(
        "/r/*",
        Handler::new(move |m| {
            let arg = m.args.first().and_then(|v| v.as_i32()).unwrap_or(-1);
            l.lock().unwrap().push(format!("{} {arg}", m.address));
        }),
        MethodOptions::new().executor(executor),
    )
    .unwrap();
    (d, log)
}

fn msg(name: &str, i: i32) -> Message {
    Message::new(format!("/r/{name}")).arg(i)
}

fn seq(name: &str, at: TimeTag, n: i32) -> Packet {
    let mut b = Bundle::new(at);
    for i in 0..n {
        b.push(msg(name, i));
    }
    b.into()
}

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn messages_and_immediate_bundles_run_at_once() {
    let (d, log) = recording(DispatcherConfig::default(), Executor::Inline);
    let ctx = Context::new(T0);
    d.dispatch_packet(msg("m", 1).into(), ctx.clone(), T0)
        .unwrap();
    d.dispatch_packet(seq("i", TimeTag::IMMEDIATELY, 2), ctx.clone(), T0)
        .unwrap();
    d.dispatch_packet(seq("t", T0 + ms(1), 1), ctx, T0).unwrap(); // within tolerance
    assert_eq!(taken(&log), ["/r/m 1", "/r/i 0", "/r/i 1", "/r/t 0"]);
    assert_eq!(d.pending(), 0);
}

#[test]
fn future_bundles_wait_and_release_in_order_as_units() {
    let (d, log) = recording(DispatcherConfig::default(), Executor::Inline);
    let clock = VirtualClock::new(T0);
    let ctx = Context::new(T0);
    d.dispatch_packet(seq("b", T0 + ms(20), 3), ctx.clone(), T0)
        .unwrap();
    d.dispatch_packet(seq("a", T0 + ms(10), 3), ctx.clone(), T0)
        .unwrap();
    d.dispatch_packet(seq("c", T0 + ms(20), 3), ctx, T0)
        .unwrap();
    assert_eq!(d.pending(), 3);
    assert_eq!(d.next_due(), Some(T0 + ms(10)));
    assert_eq!(d.run_due(clock.now()), 0);
    assert!(taken(&log).is_empty());
    clock.advance(ms(10));
    assert_eq!(d.run_due(clock.now()), 1);
    assert_eq!(taken(&log), ["/r/a 0", "/r/a 1", "/r/a 2"]);
    clock.advance(ms(10));
    assert_eq!(d.run_due(clock.now()), 2);
    // Same timetag: arrival order, and one bundle's messages all before the other's.
    assert_eq!(
        taken(&log),
        ["/r/b 0", "/r/b 1", "/r/b 2", "/r/c 0", "/r/c 1", "/r/c 2"]
    );
    let s = d.stats();
    assert_eq!((s.bundles_held, s.bundles_run), (3, 3));
}

#[test]
fn bundles_on_the_pool_keep_order_and_never_interleave() {
    let config = DispatcherConfig::default();
    let (d, log) = recording(config, Executor::Pool);
    let at = T0 + ms(5);
    for name in ["a", "b", "c", "d", "e", "f"] {
        d.dispatch_packet(seq(name, at, 20), Context::new(T0), T0)
            .unwrap();
    }
    assert_eq!(d.run_due(at), 6);
    d.shutdown(ShutdownOptions::default(), at);
    let got = taken(&log);
    let want: Vec<String> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .flat_map(|n| (0..20).map(move |i| format!("/r/{n} {i}")))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn concurrent_dispatchers_never_interleave_bundles() {
    let (d, log) = recording(DispatcherConfig::default(), Executor::Inline);
    let d = Arc::new(d);
    let threads: Vec<_> = ["x", "y", "z", "w"]
        .into_iter()
        .map(|name| {
            let d = d.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    d.dispatch_packet(seq(name, TimeTag::IMMEDIATELY, 5), Context::new(T0), T0)
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let got = taken(&log);
    assert_eq!(got.len(), 4 * 50 * 5);
    for chunk in got.chunks(5) {
        let name = &chunk[0][..4];
        for (i, line) in chunk.iter().enumerate() {
            assert_eq!(line, &format!("{name} {i}"), "interleaved: {chunk:?}");
        }
    }
}

#[test]
fn nested_bundles_keep_their_own_timetags() {
    let (d, log) = recording(DispatcherConfig::default(), Executor::Inline);
    let tags: Arc<Mutex<Vec<Option<TimeTag>>>> = Arc::default();
    let t = tags.clone();
    d.register(
        "/tag",
        Handler::with_context(move |_, ctx| t.lock().unwrap().push(ctx.bundle_timetag)),
    )
    .unwrap();
    let outer = T0 + ms(10);
    let inner = T0 + ms(30);
    let b = Bundle::new(outer)
        .add(msg("o", 0))
        .add(
            Bundle::new(inner)
                .add(msg("in", 0))
                .add(Message::new("/tag")),
        )
        .add(Bundle::immediate().add(msg("imm", 0)))
        .add(Message::new("/tag"))
        .add(msg("o", 1));
    d.dispatch_packet(b.into(), Context::new(T0), T0).unwrap();
    d.run_due(outer);
    assert_eq!(taken(&log), ["/r/o 0", "/r/imm 0", "/r/o 1"]);
    assert_eq!(d.pending(), 1);
    assert_eq!(d.next_due(), Some(inner));
    d.run_due(inner);
    assert_eq!(taken(&log), ["/r/in 0"]);
    assert_eq!(*tags.lock().unwrap(), [Some(outer), Some(inner)]);
}

#[test]
fn nested_earlier_than_parent_can_be_dropped() {
    let config = DispatcherConfig {
        scheduler: SchedulerConfig {
            nested: NestedPolicy::Drop,
            ..SchedulerConfig::default()
        },
        ..DispatcherConfig::default()
    };
    let (d, log) = recording(config, Executor::Inline);
    let b = Bundle::new(T0 + ms(10))
        .add(msg("a", 0))
        .add(Bundle::new(T0 + ms(5)).add(msg("early", 0)));
    d.dispatch_packet(b.into(), Context::new(T0), T0).unwrap();
    d.run_due(T0 + ms(10));
    assert_eq!(taken(&log), ["/r/a 0"]);
    assert_eq!(d.stats().dropped_nested_order, 1);
}

#[test]
fn late_bundles_run_or_drop_by_policy() {
    let (d, log) = recording(DispatcherConfig::default(), Executor::Inline);
    d.dispatch_packet(seq("late", T0 - ms(500), 1), Context::new(T0), T0)
        .unwrap();
    assert_eq!(taken(&log), ["/r/late 0"]);

    let config = DispatcherConfig {
        scheduler: SchedulerConfig {
            late: LatePolicy::Drop { after: ms(100) },
            ..SchedulerConfig::default()
        },
        ..DispatcherConfig::default()
    };
    let (d, log) = recording(config, Executor::Inline);
    d.dispatch_packet(seq("late", T0 - ms(500), 1), Context::new(T0), T0)
        .unwrap();
    d.dispatch_packet(seq("slightly", T0 - ms(50), 1), Context::new(T0), T0)
        .unwrap();
    assert_eq!(taken(&log), ["/r/slightly 0"]);
    assert_eq!(d.stats().dropped_late, 1);
}

#[test]
fn horizon_and_pending_limits_drop_and_count() {
    let config = DispatcherConfig {
        scheduler: SchedulerConfig {
            max_horizon: Some(Duration::from_secs(10)),
            max_pending: 3,
            ..SchedulerConfig::default()
        },
        ..DispatcherConfig::default()
    };
    let (d, _log) = recording(config, Executor::Inline);
    let ctx = Context::new(T0);
    d.dispatch_packet(seq("far", T0 + Duration::from_secs(11), 1), ctx.clone(), T0)
        .unwrap();
    for i in 0..5 {
        d.dispatch_packet(seq("p", T0 + ms(10 + i), 1), ctx.clone(), T0)
            .unwrap();
    }
    let s = d.stats();
    assert_eq!(
        (s.dropped_horizon, s.dropped_pending_full, d.pending()),
        (1, 2, 3)
    );
    assert_eq!(s.bundles_dropped(), 3);
}

#[test]
fn clock_offset_applies_to_dispatch() {
    let config = DispatcherConfig {
        scheduler: SchedulerConfig {
            timetag_offset: osc_dispatch::TimetagOffset::Add(ms(100)),
            ..SchedulerConfig::default()
        },
        ..DispatcherConfig::default()
    };
    let (d, log) = recording(config, Executor::Inline);
    d.dispatch_packet(seq("o", T0, 1), Context::new(T0), T0)
        .unwrap();
    assert!(taken(&log).is_empty());
    assert_eq!(d.poll_timeout(T0), Some(ms(99)));
    d.run_due(T0 + ms(100));
    assert_eq!(taken(&log), ["/r/o 0"]);
}

#[test]
fn shutdown_drops_or_flushes_pending_without_waiting() {
    for flush in [false, true] {
        let (d, log) = recording(DispatcherConfig::default(), Executor::Inline);
        d.dispatch_packet(
            seq("b", T0 + Duration::from_secs(3000), 1),
            Context::new(T0),
            T0,
        )
        .unwrap();
        let nested = Bundle::new(T0 + ms(10)).add(Bundle::new(T0 + ms(20)).add(msg("n", 0)));
        d.dispatch_packet(nested.into(), Context::new(T0), T0)
            .unwrap();
        let opts = ShutdownOptions {
            flush_pending: flush,
            ..ShutdownOptions::default()
        };
        let started = std::time::Instant::now();
        let summary = d.shutdown(opts, T0);
        assert!(started.elapsed() < Duration::from_secs(1));
        if flush {
            assert_eq!(taken(&log), ["/r/n 0", "/r/b 0"]);
            assert_eq!(summary.flushed_bundles, 3);
        } else {
            assert!(taken(&log).is_empty());
            assert_eq!(
                (summary.dropped_bundles, d.stats().dropped_shutdown),
                (2, 2)
            );
        }
        assert!(matches!(
            d.dispatch_packet(msg("x", 0).into(), Context::new(T0), T0),
            Err(DispatchError::ShutDown)
        ));
    }
}

#[test]
fn waker_fires_when_a_new_bundle_becomes_the_earliest() {
    let (d, _log) = recording(DispatcherConfig::default(), Executor::Inline);
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    d.set_waker(move || {
        w.fetch_add(1, Ordering::SeqCst);
    });
    let ctx = Context::new(T0);
    d.dispatch_packet(seq("a", T0 + ms(50), 1), ctx.clone(), T0)
        .unwrap();
    d.dispatch_packet(seq("b", T0 + ms(80), 1), ctx.clone(), T0)
        .unwrap();
    d.dispatch_packet(seq("c", T0 + ms(20), 1), ctx, T0)
        .unwrap();
    assert_eq!(wakes.load(Ordering::SeqCst), 2);
}

#[test]
fn honor_timetags_off_runs_bundles_at_once() {
    let config = DispatcherConfig {
        scheduler: SchedulerConfig {
            honor_timetags: false,
            ..SchedulerConfig::default()
        },
        ..DispatcherConfig::default()
    };
    let (d, log) = recording(config, Executor::Inline);
    d.dispatch_packet(
        seq("f", T0 + Duration::from_secs(5), 1),
        Context::new(T0),
        T0,
    )
    .unwrap();
    assert_eq!(taken(&log), ["/r/f 0"]);
}
