//! Threads: registry changes during dispatch, the pool under panics, blocking handlers,
//! per-method locks and shutdown with jobs queued.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use osc_codec::{Message, TimeTag};
use osc_dispatch::{
    Context, Dispatcher, DispatcherConfig, Executor, Handler, MethodOptions, PoolConfig,
    ShutdownOptions,
};

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

fn pooled(threads: usize, capacity: usize) -> Dispatcher {
    Dispatcher::new(DispatcherConfig {
        default_executor: Executor::Pool,
        pool: PoolConfig {
            threads,
            queue_capacity: capacity,
            ..PoolConfig::default()
        },
        ..DispatcherConfig::default()
    })
}

fn send(d: &Dispatcher, addr: &str) {
    d.dispatch_message(&Message::new(addr), &Context::new(T0))
        .unwrap();
}

fn wait_for(cond: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < end, "timed out");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn register_and_unregister_while_dispatching_from_several_threads() {
    let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    d.register("/stable", move |_: &Message| {
        c.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for _ in 0..3 {
        let (d, stop) = (d.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                send(&d, "/stable");
                send(&d, "/churn/1");
                send(&d, "/churn/*");
                n += 1;
            }
            n
        }));
    }
    let churn = {
        let d = d.clone();
        std::thread::spawn(move || {
            for i in 0..500 {
                let h = d
                    .register(&format!("/churn/{}", i % 7), |_: &Message| {})
                    .unwrap();
                let f = d.register("/churn/*", |_: &Message| {}).unwrap();
                assert!(d.unregister(h));
                assert!(d.unregister(f));
            }
        })
    };
    churn.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    let sent: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(calls.load(Ordering::Relaxed), sent);
    assert_eq!(d.method_count(), 1);
}

#[test]
fn a_handler_may_register_methods_without_deadlock() {
    let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let weak = Arc::downgrade(&d);
    d.register("/add", move |_: &Message| {
        if let Some(d) = weak.upgrade() {
            d.register("/added", |_: &Message| {}).unwrap();
            d.dispatch_local(Message::new("/added").into(), T0).unwrap();
        }
    })
    .unwrap();
    send(&d, "/add");
    assert_eq!(d.method_count(), 2);
}

#[test]
fn panics_on_the_pool_are_caught_and_workers_survive() {
    let d = pooled(2, 1024);
    let ok = Arc::new(AtomicUsize::new(0));
    d.register("/boom", |_: &Message| panic!("pool handler bug"))
        .unwrap();
    let o = ok.clone();
    d.register("/ok", move |_: &Message| {
        o.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    for _ in 0..10 {
        send(&d, "/boom");
        send(&d, "/ok");
    }
    // Generous deadline: printing ten panic backtraces can be slow.
    let opts = ShutdownOptions {
        deadline: Duration::from_secs(20),
        ..ShutdownOptions::default()
    };
    let summary = d.shutdown(opts, T0);
    assert_eq!(summary.pool.joined_threads, 2);
    assert_eq!(ok.load(Ordering::SeqCst), 10);
    assert_eq!(d.stats().handler_panics, 10);
}

#[test]
fn a_blocking_handler_does_not_stop_the_others() {
    let d = pooled(4, 1024);
    let release = Arc::new(Barrier::new(2));
    let r = release.clone();
    d.register("/block", move |_: &Message| {
        r.wait();
    })
    .unwrap();
    let fast = Arc::new(AtomicUsize::new(0));
    let f = fast.clone();
    d.register("/fast", move |_: &Message| {
        f.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    send(&d, "/block");
    for _ in 0..100 {
        send(&d, "/fast");
    }
    wait_for(|| fast.load(Ordering::SeqCst) == 100);
    release.wait();
    d.shutdown(ShutdownOptions::default(), T0);
}

#[test]
fn a_method_lock_serializes_its_handlers() {
    let d = pooled(4, 1024);
    let lock = Arc::new(parking_lot::Mutex::new(()));
    let inside = Arc::new(AtomicUsize::new(0));
    let overlap = Arc::new(AtomicBool::new(false));
    for addr in ["/l/a", "/l/b"] {
        let (inside, overlap) = (inside.clone(), overlap.clone());
        d.register_with(
            addr,
            Handler::new(move |_| {
                if inside.fetch_add(1, Ordering::SeqCst) > 0 {
                    overlap.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_micros(200));
                inside.fetch_sub(1, Ordering::SeqCst);
            }),
            MethodOptions::new().lock(lock.clone()),
        )
        .unwrap();
    }
    for _ in 0..50 {
        send(&d, "/l/a");
        send(&d, "/l/b");
    }
    d.shutdown(ShutdownOptions::default(), T0);
    assert!(!overlap.load(Ordering::SeqCst));
    assert_eq!(d.stats().handler_calls, 100);
}

/// One worker blocked on a gate; `n` more jobs queued behind it.
fn blocked_with_queue(n: usize) -> (Dispatcher, Arc<AtomicUsize>, Arc<Barrier>) {
    let d = pooled(1, 1024);
    let gate = Arc::new(Barrier::new(2));
    let g = gate.clone();
    let started = Arc::new(AtomicBool::new(false));
    let s = started.clone();
    d.register("/gate", move |_: &Message| {
        s.store(true, Ordering::SeqCst);
        g.wait();
    })
    .unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let c = done.clone();
    d.register("/job", move |_: &Message| {
        c.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    send(&d, "/gate");
    wait_for(|| started.load(Ordering::SeqCst));
    for _ in 0..n {
        send(&d, "/job");
    }
    (d, done, gate)
}

#[test]
fn shutdown_finishes_queued_jobs() {
    let (d, done, gate) = blocked_with_queue(20);
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        gate.wait();
    });
    let s = d.shutdown(ShutdownOptions::default(), T0);
    opener.join().unwrap();
    assert_eq!((done.load(Ordering::SeqCst), s.pool.dropped_jobs), (20, 0));
    assert_eq!((s.pool.joined_threads, s.pool.detached_threads), (1, 0));
}

#[test]
fn shutdown_can_drop_queued_jobs() {
    let (d, done, gate) = blocked_with_queue(20);
    let opener = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        gate.wait();
    });
    let opts = ShutdownOptions {
        finish_queued: false,
        ..ShutdownOptions::default()
    };
    let s = d.shutdown(opts, T0);
    opener.join().unwrap();
    assert_eq!((done.load(Ordering::SeqCst), s.pool.dropped_jobs), (0, 20));
    assert_eq!(d.stats().pool_dropped, 20);
}

#[test]
fn shutdown_deadline_detaches_a_stuck_worker() {
    let (d, done, gate) = blocked_with_queue(5);
    let opts = ShutdownOptions {
        deadline: Duration::from_millis(50),
        ..ShutdownOptions::default()
    };
    let started = Instant::now();
    let s = d.shutdown(opts, T0);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(s.pool.detached_threads, 1);
    gate.wait(); // let the detached worker go: it discards the rest
    wait_for(|| d.pool_stats().dropped == 5);
    assert_eq!(done.load(Ordering::SeqCst), 0);
}

#[test]
fn pool_overflow_is_counted_not_blocking() {
    let (d, _done, gate) = {
        let d = pooled(1, 4);
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        d.register("/gate", move |_: &Message| {
            g.wait();
        })
        .unwrap();
        d.register("/job", |_: &Message| {}).unwrap();
        (d, (), gate)
    };
    send(&d, "/gate");
    let started = Instant::now();
    for _ in 0..20 {
        send(&d, "/job");
    }
    assert!(started.elapsed() < Duration::from_millis(500));
    // 4 places; the gate job may or may not have left the queue yet: 16 or 17 refused.
    let overflow = d.stats().pool_overflow;
    assert!((16..=17).contains(&overflow), "{overflow}");
    gate.wait();
    d.shutdown(ShutdownOptions::default(), T0);
}

#[test]
fn inline_and_pool_methods_each_get_the_message_in_any_order() {
    // Inline then pool (the pool job takes the message itself), pool then inline and
    // two pool methods (the jobs share it), owned and borrowed handlers.
    let d = pooled(2, 64);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let inline = MethodOptions::new().executor(Executor::Inline);
    let on_pool = MethodOptions::new().executor(Executor::Pool);
    let log = |tag: &'static str| {
        let seen = Arc::clone(&seen);
        move |m: &Message| seen.lock().unwrap().push(format!("{tag} {:?}", m.args[0]))
    };
    d.register_with("/a", log("a inline"), inline.clone())
        .unwrap();
    d.register_with("/a", log("a pool"), on_pool.clone())
        .unwrap();
    d.register_with("/b", log("b pool"), on_pool.clone())
        .unwrap();
    d.register_with("/b", log("b inline"), inline).unwrap();
    d.register_with("/c", log("c pool 1"), on_pool.clone())
        .unwrap();
    d.register_with("/c", log("c pool 2"), on_pool.clone())
        .unwrap();
    let s = Arc::clone(&seen);
    let view = Handler::borrowed(move |m, _ctx| {
        s.lock()
            .unwrap()
            .push(format!("d view {}", m.args().count()));
    });
    d.register_with("/d", view, on_pool).unwrap();
    for (addr, n) in [("/a", 1), ("/b", 2), ("/c", 3), ("/d", 4)] {
        d.dispatch_message(&Message::new(addr).arg(n), &Context::new(T0))
            .unwrap();
    }
    wait_for(|| seen.lock().unwrap().len() == 7);
    let mut got = seen.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        got,
        [
            "a inline Int(1)",
            "a pool Int(1)",
            "b inline Int(2)",
            "b pool Int(2)",
            "c pool 1 Int(3)",
            "c pool 2 Int(3)",
            "d view 1"
        ]
    );
}

#[test]
fn runs_here_runs_pool_methods_inline_and_ends_with_its_scope() {
    let d = pooled(2, 64);
    let threads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let t = Arc::clone(&threads);
    d.register("/p", move |_m: &Message| {
        t.lock().unwrap().push(std::thread::current().id());
    })
    .unwrap();
    let here = std::thread::current().id();
    let seen = || {
        threads
            .lock()
            .unwrap()
            .iter()
            .filter(|&&t| t == here)
            .count()
    };
    // Inside the scope: the pool method runs at once, here, from a view dispatch too.
    d.runs_here(|| {
        send(&d, "/p");
        assert_eq!(seen(), 1);
        let bytes = Message::new("/p").to_bytes().unwrap();
        let osc_codec::PacketRef::Message(v) = osc_codec::decode(&bytes).unwrap() else {
            unreachable!()
        };
        d.dispatch_message_ref(&v, &Context::new(T0)).unwrap();
        assert_eq!(seen(), 2);
    });
    // A panic inside leaves the scope too.
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        d.runs_here(|| panic!("inside"));
    }));
    assert!(unwound.is_err());
    // Outside: the pool's workers run it again.
    send(&d, "/p");
    wait_for(|| threads.lock().unwrap().len() == 3);
    assert_ne!(threads.lock().unwrap()[2], here);
    // A bundle keeps to the pool's bundle lane (which keeps bundles in order), even
    // inside a scope.
    d.runs_here(|| {
        let bundle = osc_codec::Bundle::new(TimeTag::IMMEDIATELY).add(Message::new("/p"));
        d.dispatch_packet(bundle.into(), Context::new(T0), T0)
            .unwrap();
    });
    wait_for(|| threads.lock().unwrap().len() == 4);
    assert_ne!(threads.lock().unwrap()[3], here);
}

#[test]
fn a_taking_pool_method_gets_the_message_itself() {
    let d = pooled(1, 64);
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    d.register(
        "/take",
        Handler::taking(move |m, _| {
            let at = match m.args.first() {
                Some(osc_codec::Value::Blob(b)) => b.as_ptr() as usize,
                _ => 0,
            };
            tx.lock().unwrap().send(at).unwrap();
        }),
    )
    .unwrap();
    let m = Message::new("/take").arg(vec![1u8; 32]);
    let Some(osc_codec::Value::Blob(b)) = m.args.first() else {
        unreachable!()
    };
    let at = b.as_ptr() as usize;
    d.dispatch_packet(m.into(), Context::new(T0), T0).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), at);
    wait_for(|| d.stats().handler_calls == 1);
}
