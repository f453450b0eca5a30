//! `DispatchBatch::dispatch_bundle_ref`: a bundle dispatched from its view calls the
//! same handlers, in the same order, with the same contexts, and leaves the scheduler
//! and the counters as the owned bundle's dispatch does, whatever its timetags, its
//! nesting and the scheduling rules.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use osc_codec::{Bundle, Message, Packet, PacketRef, TimeTag, decode};
use osc_dispatch::{
    Context, Dispatcher, DispatcherConfig, Executor, Handler, LatePolicy, MethodOptions,
    NestedPolicy, SchedulerConfig, ShutdownOptions, Verdict,
};
use proptest::prelude::*;

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

type Log = Arc<Mutex<Vec<String>>>;

/// Where the borrowed handlers' messages were: for each call, whether the view it got
/// lay in the datagram being dispatched (`frame`, its address range) or in a copy.
#[derive(Default)]
struct Borrowing {
    frame: Mutex<std::ops::Range<usize>>,
    in_frame: Mutex<Vec<bool>>,
}

impl Borrowing {
    fn note(&self, view: &[u8]) {
        let at = view.as_ptr() as usize;
        let inside = self.frame.lock().unwrap().contains(&at);
        self.in_frame.lock().unwrap().push(inside);
    }

    fn dispatching(&self, datagram: &[u8]) {
        let range = datagram.as_ptr_range();
        *self.frame.lock().unwrap() = range.start as usize..range.end as usize;
    }

    fn taken(&self) -> Vec<bool> {
        std::mem::take(&mut *self.in_frame.lock().unwrap())
    }
}

/// A dispatcher whose methods write what they get into a log: a borrowed handler on
/// `/a`, an owned one on `/b`, a borrowed filter on `/c/*`, an owned filter on `/*`
/// (which `/a`, `/b` and `/z` also select) and a borrowed fallback (`/c/1/x`); the last
/// three on the worker pool when `pooled`. The borrowed ones also note in `borrowing`
/// where their views lay.
fn recording(
    rules: SchedulerConfig,
    borrowing: &Arc<Borrowing>,
    pooled: bool,
) -> (Dispatcher, Log) {
    let d = Dispatcher::new(DispatcherConfig {
        scheduler: rules,
        ..DispatcherConfig::default()
    });
    let log: Log = Arc::default();
    let view = |name: &'static str| {
        let (l, b) = (log.clone(), borrowing.clone());
        Handler::borrowed(move |m, ctx| {
            b.note(m.as_bytes());
            let args: Vec<String> = m.args().map(|a| format!("{a:?}")).collect();
            l.lock().unwrap().push(format!(
                "{name} {} {args:?} in {:?} at {:?} from {:?} on {:?}",
                m.address(),
                ctx.bundle_timetag,
                ctx.arrival,
                ctx.peer,
                ctx.channel
            ));
        })
    };
    let owned = |name: &'static str| {
        let l = log.clone();
        move |m: &Message, ctx: &Context| {
            l.lock().unwrap().push(format!(
                "{name} {} {:?} in {:?} at {:?} from {:?} on {:?}",
                m.address, m.args, ctx.bundle_timetag, ctx.arrival, ctx.peer, ctx.channel
            ));
        }
    };
    d.register("/a", view("view")).unwrap();
    d.register("/b", owned("owned")).unwrap();
    let executor = if pooled {
        Executor::Pool
    } else {
        Executor::Inline
    };
    d.register_with(
        "/c/*",
        view("view filter"),
        MethodOptions::new().executor(executor),
    )
    .unwrap();
    d.register_with(
        "/*",
        owned("owned filter"),
        MethodOptions::new().executor(executor),
    )
    .unwrap();
    d.set_fallback(
        Some(view("fallback")),
        MethodOptions::new().executor(executor),
    );
    (d, log)
}

/// Element addresses: each selects a different set of the methods above.
const ADDRESSES: [&str; 5] = ["/a", "/b", "/c/1", "/z", "/c/1/x"];

/// Timetags around `T0`, for the rules to run, hold, drop or clamp.
fn timetag(choice: u8) -> TimeTag {
    match choice % 8 {
        0 => TimeTag::IMMEDIATELY,
        1 => T0,
        2 => T0 - Duration::from_secs(5),
        3 => T0 - Duration::from_micros(500),
        4 => T0 + Duration::from_secs(2),
        5 => T0 + Duration::from_secs(7200),
        6 => TimeTag::new(1, 0),
        _ => T0 + Duration::from_secs(1),
    }
}

#[derive(Debug, Clone)]
enum Node {
    Message(usize, i32),
    Bundle(u8, Vec<Node>),
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = (0..ADDRESSES.len(), any::<i32>()).prop_map(|(a, v)| Node::Message(a, v));
    leaf.prop_recursive(3, 24, 4, |inner| {
        (any::<u8>(), prop::collection::vec(inner, 0..4)).prop_map(|(t, e)| Node::Bundle(t, e))
    })
}

fn bundle_tree() -> impl Strategy<Value = Bundle> {
    (any::<u8>(), prop::collection::vec(node(), 0..5)).prop_map(|(t, e)| bundle(t, &e))
}

fn bundle(t: u8, elements: &[Node]) -> Bundle {
    elements
        .iter()
        .fold(Bundle::new(timetag(t)), |b, e| match e {
            Node::Message(a, v) => b.add(Message::new(ADDRESSES[*a]).arg(*v)),
            Node::Bundle(t, inner) => b.add(bundle(*t, inner)),
        })
}

fn rules() -> impl Strategy<Value = SchedulerConfig> {
    (any::<bool>(), 0..3u8, 0..3u8, 1..4usize).prop_map(|(honor, late, nested, pending)| {
        SchedulerConfig {
            honor_timetags: honor || late == 2,
            late: match late {
                0 => LatePolicy::Run,
                1 => LatePolicy::Drop {
                    after: Duration::ZERO,
                },
                _ => LatePolicy::Drop {
                    after: Duration::from_secs(10),
                },
            },
            nested: match nested {
                0 => NestedPolicy::OwnTimetag,
                1 => NestedPolicy::ClampToParent,
                _ => NestedPolicy::Drop,
            },
            max_pending: pending,
            ..SchedulerConfig::default()
        }
    })
}

/// What a dispatcher did: the calls so far, its counters, the bundles waiting.
fn outcome(d: &Dispatcher, log: &Log) -> (Vec<String>, osc_dispatch::Stats, usize) {
    let calls = std::mem::take(&mut *log.lock().unwrap());
    (calls, d.stats(), d.pending())
}

/// Starts the worker pool of a dispatcher from [`recording`] with a pool method: a
/// message to it, run on a worker, waited for, its log line dropped. Then
/// [`Dispatcher::caller_runs`] runs the pool's jobs in the calling thread, so a test
/// sees them done when it returns.
fn start_pool(d: &Dispatcher, log: &Log) {
    d.dispatch_message(&Message::new("/c/0"), &Context::new(T0))
        .unwrap();
    wait_for_calls(d, 1);
    log.lock().unwrap().clear();
}

/// Waits until `d` counts `calls` handler calls (a handler writes its log line before
/// its call is counted).
fn wait_for_calls(d: &Dispatcher, calls: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while d.stats().handler_calls < calls {
        assert!(
            std::time::Instant::now() < deadline,
            "the pool ran the calls"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// With a method on the pool (`pooled`), the calls of a bundle that runs now are
    /// gathered first from its view and run as a unit (on the pool's lane when one of
    /// them is the pool method), as the owned bundle's are: its borrowed handlers read a
    /// copy of its bytes.
    #[test]
    fn a_bundle_from_its_view_runs_as_its_owned_copy_does(
        bundles in prop::collection::vec(bundle_tree(), 1..4),
        rules in rules(),
        pooled in any::<bool>(),
    ) {
        let borrowing = Arc::new(Borrowing::default());
        let (owned, owned_log) = recording(rules, &Arc::default(), pooled);
        let (viewed, viewed_log) = recording(rules, &borrowing, pooled);
        if pooled {
            start_pool(&owned, &owned_log);
            start_pool(&viewed, &viewed_log);
            borrowing.taken();
        }
        let mut ctx = Context::new(T0).with_channel("in");
        ctx.peer = Some("127.0.0.1:9000".parse().unwrap());
        for b in bundles {
            let runs_now = matches!(rules.verdict(b.timetag, None, T0), Verdict::Run { .. });
            let bytes = Packet::from(b).to_bytes().unwrap();
            owned.caller_runs(|| {
                owned
                    .dispatch_packet(Packet::decode(&bytes).unwrap(), ctx.clone(), T0)
                    .unwrap();
            });
            let PacketRef::Bundle(view) = decode(&bytes).unwrap() else {
                unreachable!()
            };
            borrowing.dispatching(&bytes);
            viewed.caller_runs(|| {
                viewed.batch().unwrap().dispatch_bundle_ref(&view, &ctx, T0).unwrap();
            });
            prop_assert_eq!(outcome(&viewed, &viewed_log), outcome(&owned, &owned_log));
            // A bundle that runs now went to the borrowed handlers from the datagram
            // (one held or dropped called none yet), or from a copy with a pool method.
            let in_frame = borrowing.taken();
            let from_frame = runs_now && !pooled;
            prop_assert!(in_frame.iter().all(|&inside| inside == from_frame), "{:?}", in_frame);
        }
        // What was held runs alike when due, from a copy (no datagram now).
        borrowing.dispatching(&[]);
        let later = T0 + Duration::from_secs(3);
        let run = viewed.caller_runs(|| viewed.run_due(later));
        prop_assert_eq!(run, owned.caller_runs(|| owned.run_due(later)));
        prop_assert_eq!(outcome(&viewed, &viewed_log), outcome(&owned, &owned_log));
        prop_assert!(!borrowing.taken().contains(&true));
    }
}

/// The messages of a bundle run from its view go to the methods as they were when the
/// bundle began, as those of an owned bundle (whose calls are gathered first) do: a
/// handler that removes another method does not stop that method's call in the same
/// bundle, only in the next.
#[test]
fn a_method_removed_by_a_handler_still_runs_for_the_rest_of_its_bundle() {
    let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let log: Log = Arc::default();
    let l = log.clone();
    let second = d
        .register(
            "/second",
            Handler::borrowed(move |m, _| l.lock().unwrap().push(m.address().to_owned())),
        )
        .unwrap();
    let handle = Arc::new(Mutex::new(Some(second)));
    let (weak, l) = (Arc::downgrade(&d), log.clone());
    d.register(
        "/first",
        Handler::borrowed(move |m, _| {
            l.lock().unwrap().push(m.address().to_owned());
            if let (Some(d), Some(h)) = (weak.upgrade(), handle.lock().unwrap().take()) {
                assert!(d.unregister(h));
            }
        }),
    )
    .unwrap();
    let bundle = || {
        let b = Bundle::immediate()
            .add(Message::new("/first"))
            .add(Message::new("/second"));
        Packet::from(b).to_bytes().unwrap()
    };
    let ctx = Context::new(T0);
    let mut batch = d.batch().unwrap();
    for bytes in [bundle(), bundle()] {
        let PacketRef::Bundle(view) = decode(&bytes).unwrap() else {
            unreachable!()
        };
        batch.dispatch_bundle_ref(&view, &ctx, T0).unwrap();
    }
    drop(batch);
    assert_eq!(
        *log.lock().unwrap(),
        ["/first", "/second", "/first"],
        "the second bundle sees the removal"
    );
}

/// With a method on the worker pool, a bundle runs as a unit on the pool's bundle lane,
/// as an owned bundle does: every borrowed handler gets its message, read from a copy,
/// in a worker thread.
#[test]
fn a_bundle_meeting_a_pool_method_runs_on_the_pool_as_a_unit() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log: Log = Arc::default();
    let borrowing = Arc::new(Borrowing::default());
    let here = std::thread::current().id();
    let handler = || {
        let (l, b) = (log.clone(), borrowing.clone());
        Handler::borrowed(move |m, ctx| {
            b.note(m.as_bytes());
            let tag = ctx.bundle_timetag.is_some();
            let args: Vec<String> = m.args().map(|a| format!("{a:?}")).collect();
            let elsewhere = std::thread::current().id() != here;
            l.lock()
                .unwrap()
                .push(format!("{} {args:?} {tag} {elsewhere}", m.address()));
        })
    };
    d.register("/inline", handler()).unwrap();
    let pool = MethodOptions::new().executor(Executor::Pool);
    d.register_with("/pooled", handler(), pool).unwrap();
    let b = Bundle::immediate()
        .add(Message::new("/inline").arg(1))
        .add(Message::new("/pooled").arg("two"))
        .add(Message::new("/inline").arg(3.5f32));
    let bytes = Packet::from(b).to_bytes().unwrap();
    let PacketRef::Bundle(view) = decode(&bytes).unwrap() else {
        unreachable!()
    };
    borrowing.dispatching(&bytes);
    d.batch()
        .unwrap()
        .dispatch_bundle_ref(&view, &Context::new(T0), T0)
        .unwrap();
    wait_for_calls(&d, 3);
    assert_eq!(
        *log.lock().unwrap(),
        [
            r#"/inline ["Int(1)"] true true"#,
            r#"/pooled ["Str(\"two\")"] true true"#,
            r#"/inline ["Float(3.5)"] true true"#
        ]
    );
    assert_eq!(borrowing.taken(), [false; 3], "copies, not the datagram");
    let stats = d.stats();
    assert_eq!(
        (stats.bundles_run, stats.matched, stats.handler_calls),
        (1, 3, 3)
    );
}

/// On the pool's lane, a borrowed handler reads its message from the bundle's copy
/// with the string policy the bundle was decoded with: a string that is not UTF-8,
/// kept raw by `StringPolicy::Raw`, arrives raw.
#[test]
fn a_pool_bundle_reads_its_strings_with_the_decode_policy() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log: Log = Arc::default();
    let l = log.clone();
    let read = Handler::borrowed(move |m, _| {
        let args: Vec<String> = m.args().map(|a| format!("{a:?}")).collect();
        l.lock().unwrap().push(format!("{} {args:?}", m.address()));
    });
    let pool = MethodOptions::new().executor(Executor::Pool);
    d.register_with("/s", read, pool).unwrap();
    let b = Bundle::immediate().add(Message::new("/s").arg("cafe").arg(1));
    let mut bytes = Packet::from(b).to_bytes().unwrap();
    let at = bytes.windows(4).position(|w| w == b"cafe").unwrap();
    bytes[at + 3] = 0xe9;
    let raw = osc_codec::Options {
        strings: osc_codec::StringPolicy::Raw,
        ..osc_codec::Options::DEFAULT
    };
    let PacketRef::Bundle(view) = osc_codec::decode_with(&bytes, &raw).unwrap() else {
        unreachable!()
    };
    d.batch()
        .unwrap()
        .dispatch_bundle_ref(&view, &Context::new(T0), T0)
        .unwrap();
    wait_for_calls(&d, 1);
    assert_eq!(
        *log.lock().unwrap(),
        [r#"/s ["RawStr([99, 97, 102, 233])", "Int(1)"]"#]
    );
}

/// A nested bundle due later is held before any handler of its parent runs, as the
/// owned path holds it while it gathers the calls: a handler that shuts the dispatcher
/// down then finds it pending, and the shutdown drops it (counted), on both paths.
#[test]
fn a_nested_bundle_is_held_before_its_parents_handlers_run() {
    let outcome_of = |from_view: bool| {
        let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
        let weak = Arc::downgrade(&d);
        let dropped = Arc::new(Mutex::new(None));
        let seen = dropped.clone();
        d.register(
            "/stop",
            Handler::borrowed(move |_, _| {
                if let Some(d) = weak.upgrade() {
                    let summary = d.shutdown(ShutdownOptions::default(), T0);
                    seen.lock().unwrap().get_or_insert(summary.dropped_bundles);
                }
            }),
        )
        .unwrap();
        let inner = Bundle::new(T0 + Duration::from_secs(2)).add(Message::new("/stop"));
        let outer = Bundle::immediate().add(Message::new("/stop")).add(inner);
        let bytes = Packet::from(outer).to_bytes().unwrap();
        let ctx = Context::new(T0);
        if from_view {
            let PacketRef::Bundle(view) = decode(&bytes).unwrap() else {
                unreachable!()
            };
            d.batch()
                .unwrap()
                .dispatch_bundle_ref(&view, &ctx, T0)
                .unwrap();
        } else {
            let packet = Packet::decode(&bytes).unwrap();
            d.dispatch_packet(packet, ctx, T0).unwrap();
        }
        let dropped = *dropped.lock().unwrap();
        (dropped, d.pending(), d.stats().dropped_shutdown)
    };
    assert_eq!(outcome_of(false), (Some(1), 0, 1), "the owned path");
    assert_eq!(outcome_of(true), outcome_of(false), "from the view");
}

/// The deepest nesting a decode accepts (`osc_codec::DEPTH_CAP` levels) runs from its
/// view, every level due at once, in a thread with a small stack: the recursion over
/// nested bundles stays within what any dispatching thread has, whether the bundle runs
/// as it is read or (with a method on the pool, here one the bundle does not select)
/// has its calls gathered first. 256 KiB in an optimized build; 1 MiB in a debug one,
/// whose decode of this packet alone needs more than 512 KiB (Rust's threads get 2 MiB).
#[test]
fn the_deepest_bundle_a_decode_accepts_runs_from_its_view_on_a_small_stack() {
    let depth = osc_codec::DEPTH_CAP;
    let mut packet = Packet::from(Message::new("/a").arg(1));
    // The message is one level, each bundle another.
    for _ in 1..depth {
        packet = Bundle::immediate()
            .add(packet)
            .add(Message::new("/a").arg(2))
            .into();
    }
    let opts = osc_codec::Options {
        max_depth: depth,
        ..osc_codec::Options::DEFAULT
    };
    let bytes = Arc::new(packet.to_bytes_with(&opts).unwrap());
    for pooled in [false, true] {
        let (bytes, opts) = (bytes.clone(), opts.clone());
        let ran = std::thread::Builder::new()
            .stack_size(if cfg!(debug_assertions) { 1024 } else { 256 } * 1024)
            .spawn(move || {
                let d = Dispatcher::new(DispatcherConfig::default());
                let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let c = calls.clone();
                d.register(
                    "/a",
                    Handler::borrowed(move |_, _| {
                        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }),
                )
                .unwrap();
                if pooled {
                    let pool = MethodOptions::new().executor(Executor::Pool);
                    d.register_with("/pooled", |_m: &Message| {}, pool).unwrap();
                }
                let PacketRef::Bundle(view) = osc_codec::decode_with(&bytes, &opts).unwrap() else {
                    unreachable!()
                };
                assert!(view.holds_bundles());
                d.batch()
                    .unwrap()
                    .dispatch_bundle_ref(&view, &Context::new(T0), T0)
                    .unwrap();
                (
                    calls.load(std::sync::atomic::Ordering::Relaxed),
                    d.stats().bundles_run,
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(ran, (depth, depth as u64 - 1), "pooled: {pooled}");
    }
}
