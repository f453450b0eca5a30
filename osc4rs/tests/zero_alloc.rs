//! Allocations per received message, mode by mode, counted by a counting global
//! allocator over every thread of the process, in steady state: UDP datagrams received,
//! decoded (into a view for borrowed handlers: `Handler::typed_ref`,
//! `Handler::borrowed`), matched and handled. The table in
//! `allocations_per_message_in_every_mode` says what each mode may allocate; the test
//! prints what it counted (`cargo test -p osc4rs --test zero_alloc -- --nocapture`).
//!
//! The warm-up rounds are not counted: the first packet from a new channel caches the
//! channel's name, and the batches, their byte arenas and the pool-job slots grow to
//! their working size. parking_lot's table of parked threads, allocated at the first
//! contended lock of the process, is made before counting (`warm_parking_lot`).
//! Allthreads is counted with its handlers inline (run by the I/O thread that read
//! the message) and on the worker pool (its default). `sends_allocate_nothing` counts
//! the sending side.
//!
//! The allocator is the suites' shared one (`osc_test_support::counting`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use osc_codec::{ArgRef, Bundle, Message, Packet};
use osc_test_support::counting::{CountingAllocator, allocations_everywhere};
use osc4rs::{Executor, Handler, MethodOptions, Mode, Osc, Target};

// Counted in every thread: comthreads' I/O thread reads and queues.
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

const BATCH: u64 = 64;
const ROUNDS: u64 = 30;
const WARM_UP: u64 = 5;
/// The messages of each bundle in the bundled rows.
const BUNDLED: u64 = 3;

/// Receives `ROUNDS` rounds of `BATCH` datagrams, each handled by a typed borrowed
/// handler on its literal address and a borrowed handler on a filter (or, with
/// `owned`, their owned counterparts; without `both`, only the one on the filter), run
/// inline or, with `pool`, on the worker pool; each datagram is one message, or with
/// `bundled` an immediate bundle of [`BUNDLED`] messages. Returns the allocations
/// counted after the warm-up and the messages they cover.
fn run(c: &Case) -> (usize, u64) {
    let Case {
        mode,
        io_thread: let_io_thread_read,
        owned,
        pool,
        both,
        bundled,
        ..
    } = *c;
    let osc = Osc::builder().mode(mode).start().unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    let to = osc.local_addr("in").unwrap();
    let typed = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(AtomicU64::new(0));
    let t = Arc::clone(&typed);
    let add = move |freq: f32, voice: i32, shape: Option<f32>| {
        assert!(shape.is_none());
        t.fetch_add(freq as u64 + voice as u64, Ordering::Relaxed);
    };
    let s = Arc::clone(&seen);
    let count = move |seven: bool| {
        if seven {
            s.fetch_add(1, Ordering::Relaxed);
        }
    };
    // Inline: in allthreads, run by the I/O thread that read the message rather than
    // handed to the pool (the default in eventloop and comthreads).
    let executor = if pool {
        Executor::Pool
    } else {
        Executor::Inline
    };
    let options = || MethodOptions::new().executor(executor);
    if both {
        let h = if owned {
            Handler::typed(add)
        } else {
            Handler::typed_ref(add)
        };
        osc.method_with("/synth/1/freq", h, options()).unwrap();
    }
    if owned {
        let h = move |m: &Message| count(m.args.iter().any(|a| a.as_i32() == Some(7)));
        osc.method_with("/synth/*/freq", h, options()).unwrap();
    } else {
        let h = Handler::borrowed(move |m, ctx| {
            assert!(ctx.peer.is_some() && ctx.channel.is_some());
            count(m.args().any(|a| matches!(a, ArgRef::Int(7))));
        });
        osc.method_with("/synth/*/freq", h, options()).unwrap();
    }
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let message = Message::new("/synth/1/freq").arg(440.0f32).arg(7);
    let (bytes, per_datagram) = if bundled {
        let bundle = (0..BUNDLED).fold(Bundle::immediate(), |b, _| b.add(message.clone()));
        (Packet::from(bundle).to_bytes().unwrap(), BUNDLED)
    } else {
        (message.to_bytes().unwrap(), 1)
    };
    let mut counted = 0;
    let mut messages = 0;
    let mut sent = 0;
    for round in 0..ROUNDS {
        // Warm-up rounds send twice as much, half of them read by comthreads' I/O
        // thread: the batches, their arenas and the pool-job slots reach a size that the
        // counted rounds never exceed, whichever thread reads them.
        let warm_up = round < WARM_UP;
        let burst = if warm_up { 2 * BATCH } else { BATCH };
        let before = allocations_everywhere();
        for _ in 0..burst {
            sender.send_to(&bytes, to).unwrap();
        }
        sent += burst * per_datagram;
        if let_io_thread_read || (warm_up && round % 2 == 0) {
            // Not an assertion: gives comthreads' I/O thread the time to read and
            // queue (the count must be zero whichever thread reads).
            std::thread::sleep(Duration::from_millis(20));
        }
        while seen.load(Ordering::Relaxed) < sent {
            // (allthreads: only sleeps; the I/O threads dispatch)
            osc.process_timeout(Duration::from_millis(5)).unwrap();
        }
        let after = allocations_everywhere();
        if !warm_up {
            counted += after - before;
            messages += BATCH * per_datagram;
            if after != before && !owned && !pool {
                eprintln!("{mode:?} round {round}: {} allocations", after - before);
            }
        }
    }
    if both {
        assert_eq!(typed.load(Ordering::Relaxed), sent * 447);
    }
    assert_eq!(osc.stats().decode_errors, 0);
    osc.terminate().unwrap();
    (counted, messages)
}

/// parking_lot (the runtime's locks) allocates its process-wide table of parked
/// threads at the first contended lock, and grows it with the number of threads: a
/// one-time cost, paid here rather than in whichever round first contends the reactor
/// baton (comthreads' `process_timeout` against its I/O thread). The sleeps only let
/// the threads park.
fn warm_parking_lot() {
    let lock = Arc::new(parking_lot::Mutex::new(()));
    let held = lock.lock();
    let waiters: Vec<_> = (0..8)
        .map(|_| {
            let l = Arc::clone(&lock);
            std::thread::spawn(move || drop(l.lock()))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    drop(held);
    for w in waiters {
        w.join().unwrap();
    }
    // This thread parks once too.
    let (tx, rx) = std::sync::mpsc::channel();
    let l = Arc::clone(&lock);
    let holder = std::thread::spawn(move || {
        let _g = l.lock();
        tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    });
    rx.recv().unwrap();
    drop(lock.lock());
    holder.join().unwrap();
}

/// The allocations each mode may make per message, in steady state.
struct Case {
    mode: Mode,
    /// Comthreads: the I/O thread reads and hands the packets over (else the thread in
    /// `process_timeout` reads them itself).
    io_thread: bool,
    owned: bool,
    /// Allthreads: the handlers run as worker-pool jobs (else inline).
    pool: bool,
    /// Two methods match each message (else one).
    both: bool,
    /// Each datagram is an immediate bundle of [`BUNDLED`] messages (else a message).
    bundled: bool,
    /// The most allocations per message allowed (over a whole run).
    most: f64,
    why: &'static str,
}

const OWNED_DECODE: &str = "the owned decode: the address and the argument list";
const OWNED_SHARED: &str =
    "the owned decode, and the Arc that shares the message among the methods' pool jobs";

const BUNDLE_ON_POOL: &str = "per bundle of 3, a copy of its bytes; per pass, the lane's job";

/// Allocations allowed over a whole pool run beyond the per-message ones.
const POOL_SLOTS_MADE: usize = 16;

/// The tests of this binary run one at a time: the counter is process-wide. (A std
/// mutex: waiting on it allocates nothing, where parking_lot's table could grow.)
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`ONE_AT_A_TIME`], even after a test that held it failed.
fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn allocations_per_message_in_every_mode() {
    let _alone = alone();
    warm_parking_lot();
    let case = |mode, io_thread, owned, pool, most, why| Case {
        mode,
        io_thread,
        owned,
        pool,
        both: true,
        bundled: false,
        most,
        why,
    };
    // An immediate bundle: run at once, so its messages go to borrowed handlers from
    // their views, with no copy of the bundle.
    let bundled = |c: Case| Case { bundled: true, ..c };
    use Mode::{AllThreads, CommThreads, EventLoop};
    let cases = [
        case(EventLoop, false, false, false, 0.0, "nothing"),
        case(EventLoop, false, true, false, 2.0, OWNED_DECODE),
        case(CommThreads, false, false, false, 0.0, "nothing"),
        case(CommThreads, false, true, false, 2.0, OWNED_DECODE),
        case(CommThreads, true, false, false, 0.0, "nothing"),
        case(CommThreads, true, true, false, 2.0, OWNED_DECODE),
        case(AllThreads, false, false, false, 0.0, "nothing"),
        case(AllThreads, false, true, false, 2.0, OWNED_DECODE),
        // A pool job is a reused slot holding the method, the context and the message's
        // bytes (borrowed handlers) or the shared owned message, not a boxed closure.
        case(AllThreads, false, false, true, 0.0, "nothing"),
        case(AllThreads, false, true, true, 3.0, OWNED_SHARED),
        // One method: its job takes the owned message itself.
        Case {
            both: false,
            ..case(AllThreads, false, true, true, 2.0, OWNED_DECODE)
        },
        bundled(case(EventLoop, false, false, false, 0.0, "nothing")),
        bundled(case(CommThreads, false, false, false, 0.0, "nothing")),
        bundled(case(CommThreads, true, false, false, 0.0, "nothing")),
        bundled(case(AllThreads, false, false, false, 0.0, "nothing")),
        // Pool jobs: the bundle runs as one unit on the pool's lane, its borrowed
        // handlers reading one copy of its bytes.
        bundled(case(AllThreads, false, false, true, 0.5, BUNDLE_ON_POOL)),
    ];
    // One test: the counter is global, so the modes must not run at the same time.
    let mut failed = Vec::new();
    for c in cases {
        let (allocs, messages) = run(&c);
        let per = allocs as f64 / messages as f64;
        let line = format!(
            "{:?}{}{}{}{}{}: {allocs} allocations for {messages} messages ({per:.2} each; allowed {}: {})",
            c.mode,
            if c.io_thread {
                " (I/O thread reads)"
            } else {
                ""
            },
            if c.owned { ", owned" } else { ", borrowed" },
            if c.pool { ", pool jobs" } else { "" },
            if c.both { "" } else { ", one method" },
            if c.bundled { ", in bundles" } else { "" },
            c.most,
            c.why,
        );
        eprintln!("{line}");
        // The counter sees the owned decode: owned handlers allocate per message.
        if c.owned {
            assert!(
                allocs >= messages as usize,
                "{line}: the counter missed them"
            );
        }
        // Pool rows: a few slots are made when the other I/O thread hands kept-back jobs
        // to the workers while a new pass needs slots (kept for later: not per message).
        let slack = if c.pool { POOL_SLOTS_MADE } else { 0 };
        if allocs as f64 > c.most * messages as f64 + slack as f64 {
            failed.push(line);
        }
    }
    assert!(failed.is_empty(), "over the limit:\n{}", failed.join("\n"));
}

const SENDS: usize = 2_000;
/// Sends between two drains of the receiving socket, so it never fills (a full socket
/// would make the sender queue, which allocates by design).
const BURST: usize = 50;

fn drain(sink: &UdpSocket) -> usize {
    let mut buf = [0u8; 256];
    let mut n = 0;
    while sink.recv(&mut buf).is_ok() {
        n += 1;
    }
    n
}

/// Allocations of `SENDS` sends beyond those of making their arguments, and the
/// datagrams that arrived.
fn extra_allocations_per_send(mode: Mode) -> (usize, usize) {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_nonblocking(true).unwrap();
    let osc = Osc::builder().mode(mode).start().unwrap();
    osc.udp_client("out", sink.local_addr().unwrap()).unwrap();
    let packet = Packet::from(
        Message::new("/synth/1/freq")
            .arg(440.0f32)
            .arg(1)
            .arg("sine"),
    );
    // The name as it is written (no `Target` made per send), a `Target` built once, and
    // a `Sender` for the channel.
    let named = Target::from("out");
    let sender = osc.sender("out").unwrap();
    let send_all = |count: bool| {
        let mut arrived = 0;
        let mut counted = 0;
        for burst in 0..SENDS / BURST {
            let before = allocations_everywhere();
            for _ in 0..BURST {
                let p = packet.clone();
                if count {
                    match burst % 3 {
                        0 => osc.send(p, "out").unwrap(),
                        1 => osc.send(p, &named).unwrap(),
                        _ => sender.send(p).unwrap(),
                    }
                } else {
                    black_box(p);
                }
            }
            counted += allocations_everywhere() - before;
            std::thread::sleep(std::time::Duration::from_micros(200 * (burst % 2) as u64));
            arrived += drain(&sink);
        }
        (counted, arrived)
    };
    send_all(true); // warm-up: the scratch buffer grows to the packet's size
    let (control, _) = send_all(false);
    let (sending, arrived) = send_all(true);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let arrived = arrived + drain(&sink);
    osc.terminate().unwrap();
    (sending.saturating_sub(control), arrived)
}

/// A send to one UDP channel allocates nothing, in every mode: the packet is encoded
/// into the sending thread's scratch buffer and written by that thread (`Osc::send`'s
/// direct path: the event loop's reactor, the thread modes' `UdpWriter`), with no shared
/// copy of the bytes; the target, a name or a `&Target`, is looked up where it is, and a
/// `Sender` looks nothing up.
/// Counted against the control of making the same packets without sending them.
#[test]
fn sends_allocate_nothing() {
    let _alone = alone();
    for mode in [Mode::EventLoop, Mode::CommThreads, Mode::AllThreads] {
        let (extra, arrived) = extra_allocations_per_send(mode);
        eprintln!("{mode:?}: {extra} allocations beyond the arguments' for {SENDS} sends");
        assert_eq!(
            extra, 0,
            "{mode:?}: allocations beyond the arguments' for {SENDS} sends"
        );
        assert!(
            arrived > SENDS / 2,
            "{mode:?}: {arrived} of {SENDS} arrived"
        );
    }
}

/// Allocations of `sends` sends of one message to `target` on a runtime with `channels`
/// UDP clients named `c0`, `c1`, ... (all to one draining socket), per send, beyond those
/// of making the message.
fn allocations_per_group_send(mode: Mode, channels: usize, target: &Target) -> f64 {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_nonblocking(true).unwrap();
    let osc = Osc::builder().mode(mode).start().unwrap();
    for i in 0..channels {
        osc.udp_client(&format!("c{i}"), sink.local_addr().unwrap())
            .unwrap();
    }
    let packet = Packet::from(Message::new("/synth/1/freq").arg(440.0f32));
    let sends = 200;
    let mut counted = 0;
    for round in 0..2 {
        for _ in 0..sends / 10 {
            // The messages are made before the count starts.
            let batch: Vec<Packet> = (0..10).map(|_| packet.clone()).collect();
            let before = allocations_everywhere();
            for p in batch {
                osc.send(p, target).unwrap();
            }
            if round == 1 {
                counted += allocations_everywhere() - before;
            }
            drain(&sink);
        }
    }
    osc.terminate().unwrap();
    counted as f64 / f64::from(sends)
}

/// A send to several channels encodes once and copies nothing per channel: what it
/// allocates per send (its list of channels, sized once, and the shared encoding) does
/// not grow with the channels, for `_all` (each channel's name is shared, not copied)
/// and for a group kept by the application.
#[test]
fn sends_to_many_channels_allocate_nothing_per_channel() {
    let _alone = alone();
    for mode in [Mode::EventLoop, Mode::CommThreads, Mode::AllThreads] {
        let all = Target::from("_all");
        let group = |n: usize| Target::from((0..n).map(|i| format!("c{i}")).collect::<Vec<_>>());
        let (few, many) = (2, 40);
        for (what, at_few, at_many) in [
            (
                "_all",
                allocations_per_group_send(mode, few, &all),
                allocations_per_group_send(mode, many, &all),
            ),
            (
                "a group",
                allocations_per_group_send(mode, few, &group(few)),
                allocations_per_group_send(mode, many, &group(many)),
            ),
        ] {
            eprintln!(
                "{mode:?} {what}: {at_few} allocations per send to {few} channels, {at_many} to {many}"
            );
            assert!(
                at_many <= at_few,
                "{mode:?} {what}: {at_few} allocations per send to {few} channels, {at_many} to {many}"
            );
        }
    }
}
