//! `Dispatcher::batch`: messages dispatched in a row with one look at the methods.
//! Changes made meanwhile (by a handler, or by another thread) apply from the next
//! message on; what the messages count reaches the stats when the batch drops.
//! `Dispatcher::batch_kept`: the same, with a look at the methods kept from batch to
//! batch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, Mutex, OnceLock};

use osc_codec::{Message, MessageRef, PacketRef, TimeTag, decode};
use osc_dispatch::{
    Context, DispatchError, Dispatcher, DispatcherConfig, Handler, KeptMethods, MethodHandle,
    MethodOptions, ShutdownOptions,
};

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

type Log = Arc<Mutex<Vec<String>>>;

fn bytes(address: &str) -> Vec<u8> {
    Message::new(address).arg(1).to_bytes().unwrap()
}

fn view(bytes: &[u8]) -> MessageRef<'_> {
    match decode(bytes).unwrap() {
        PacketRef::Message(m) => m,
        PacketRef::Bundle(_) => panic!("a message"),
    }
}

/// A borrowed handler that logs `tag address`.
fn logging(log: &Log, tag: &'static str) -> Handler {
    let log = log.clone();
    Handler::borrowed(move |m, _ctx| log.lock().unwrap().push(format!("{tag} {}", m.address())))
}

/// A dispatcher whose `/add` handler registers `/new`, a method that logs.
fn registering(log: &Log) -> Arc<Dispatcher> {
    let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let (d2, log2) = (Arc::downgrade(&d), log.clone());
    d.register(
        "/add",
        Handler::borrowed(move |_m, _ctx| {
            let d = d2.upgrade().unwrap();
            d.register("/new", logging(&log2, "new")).unwrap();
        }),
    )
    .unwrap();
    d
}

#[test]
fn a_method_a_handler_registers_serves_the_next_message_of_the_batch() {
    let log: Log = Arc::default();
    let d = registering(&log);
    let (add, new) = (bytes("/add"), bytes("/new"));
    let ctx = Context::new(T0);
    let mut batch = d.batch().unwrap();
    batch.dispatch_message_ref(&view(&new), &ctx).unwrap();
    batch.dispatch_message_ref(&view(&add), &ctx).unwrap();
    batch.dispatch_message_ref(&view(&new), &ctx).unwrap();
    drop(batch);
    assert_eq!(*log.lock().unwrap(), ["new /new"]);
    let s = d.stats();
    assert_eq!((s.matched, s.unmatched, s.handler_calls), (2, 1, 2));
    assert_eq!(d.method_count(), 2);
}

#[test]
fn a_method_removed_by_another_thread_mid_batch_is_not_called_again() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log: Log = Arc::default();
    let h = d.register("/a", logging(&log, "a")).unwrap();
    d.register("/*", logging(&log, "any")).unwrap();
    let a = bytes("/a");
    let ctx = Context::new(T0);
    let mut batch = d.batch().unwrap();
    batch.dispatch_message_ref(&view(&a), &ctx).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| assert!(d.unregister(h)));
    });
    batch.dispatch_message_ref(&view(&a), &ctx).unwrap();
    assert_eq!(*log.lock().unwrap(), ["a /a", "any /a", "any /a"]);
    // Counted when the batch drops.
    assert_eq!(d.stats().handler_calls, 0);
    drop(batch);
    assert_eq!(d.stats().handler_calls, 3);
}

#[test]
fn a_fallback_set_mid_batch_takes_the_unmatched_messages_from_then_on() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log: Log = Arc::default();
    let x = bytes("/x");
    let ctx = Context::new(T0);
    let mut batch = d.batch().unwrap();
    batch.dispatch_message_ref(&view(&x), &ctx).unwrap();
    d.set_fallback(Some(logging(&log, "fallback")), MethodOptions::default());
    batch.dispatch_message_ref(&view(&x), &ctx).unwrap();
    drop(batch);
    assert_eq!(*log.lock().unwrap(), ["fallback /x"]);
    let s = d.stats();
    assert_eq!((s.matched, s.unmatched, s.handler_calls), (0, 2, 1));
}

#[test]
fn panics_and_argument_errors_are_counted_as_one_message_at_a_time() {
    let d = Dispatcher::new(DispatcherConfig::default());
    d.register("/boom", Handler::borrowed(|_m, _ctx| panic!("boom")))
        .unwrap();
    d.register("/f", Handler::typed_ref(|_a: i32, _b: i32| {}))
        .unwrap();
    let (boom, f) = (bytes("/boom"), bytes("/f"));
    let ctx = Context::new(T0);
    let mut batch = d.batch().unwrap();
    for _ in 0..3 {
        batch.dispatch_message_ref(&view(&boom), &ctx).unwrap();
        batch.dispatch_message_ref(&view(&f), &ctx).unwrap();
    }
    drop(batch);
    let s = d.stats();
    // A panicking call is not a handler call; a call that refuses its arguments is.
    assert_eq!(
        (s.matched, s.handler_calls, s.handler_panics, s.arg_errors),
        (6, 3, 3, 3)
    );
}

#[test]
fn registering_while_a_batch_lives_copies_the_table_and_loses_nothing() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log: Log = Arc::default();
    let first = d.register("/m/0", logging(&log, "m")).unwrap();
    let ctx = Context::new(T0);
    let packets: Vec<Vec<u8>> = (0..50).map(|i| bytes(&format!("/m/{i}"))).collect();
    let mut handles: Vec<MethodHandle> = vec![first];
    let mut batch = d.batch().unwrap();
    for (i, p) in packets.iter().enumerate() {
        if i > 0 {
            handles.push(d.register(&format!("/m/{i}"), logging(&log, "m")).unwrap());
        }
        batch.dispatch_message_ref(&view(p), &ctx).unwrap();
    }
    drop(batch);
    assert_eq!(log.lock().unwrap().len(), 50);
    assert_eq!(d.method_count(), 50);
    let listed: Vec<_> = d.methods().into_iter().map(|m| m.handle).collect();
    assert_eq!(listed, handles);
}

#[test]
fn a_batch_refuses_after_shutdown() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let called = Arc::new(OnceLock::new());
    let c = called.clone();
    d.register(
        "/a",
        Handler::borrowed(move |_m, _ctx| {
            c.set(()).unwrap();
        }),
    )
    .unwrap();
    let a = bytes("/a");
    let ctx = Context::new(T0);
    let mut batch = d.batch().unwrap();
    d.shutdown(ShutdownOptions::default(), T0);
    assert!(matches!(
        batch.dispatch_message_ref(&view(&a), &ctx),
        Err(DispatchError::ShutDown)
    ));
    drop(batch);
    assert!(matches!(d.batch(), Err(DispatchError::ShutDown)));
    assert!(called.get().is_none());
}

/// A fallback whose handler state registers a method when it drops: replacing the
/// fallback drops it after the registry's lock, so the registration goes through.
#[test]
fn a_replaced_fallback_may_register_from_its_drop() {
    struct RegistersOnDrop(std::sync::Weak<Dispatcher>);
    impl Drop for RegistersOnDrop {
        fn drop(&mut self) {
            if let Some(d) = self.0.upgrade() {
                d.register("/from/drop", Handler::borrowed(|_m, _ctx| {}))
                    .unwrap();
            }
        }
    }
    let d = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let state = RegistersOnDrop(Arc::downgrade(&d));
    d.set_fallback(
        Some(Handler::borrowed(move |_m, _ctx| {
            let _ = &state;
        })),
        MethodOptions::default(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let d2 = Arc::clone(&d);
    std::thread::spawn(move || {
        d2.set_fallback(None, MethodOptions::default());
        tx.send(()).unwrap();
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("set_fallback returned (no deadlock)");
    assert_eq!(d.method_count(), 1);
}

/// A handler that logs its tag and holds `token` (to see when it is dropped).
fn holding(log: &Log, tag: &'static str, token: &Arc<()>) -> Handler {
    let (log, token) = (log.clone(), token.clone());
    Handler::borrowed(move |m, _ctx| {
        let _held = &token;
        log.lock().unwrap().push(format!("{tag} {}", m.address()));
    })
}

#[test]
fn a_kept_look_follows_every_change_of_the_methods() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log: Log = Arc::default();
    let token = Arc::new(());
    let a = d.register("/a", holding(&log, "a", &token)).unwrap();
    let (ma, mb) = (bytes("/a"), bytes("/b"));
    let ctx = Context::new(T0);
    let mut kept = KeptMethods::new();
    let pass = |kept: &mut KeptMethods| {
        let mut batch = d.batch_kept(kept).unwrap();
        batch.dispatch_message_ref(&view(&ma), &ctx).unwrap();
        batch.dispatch_message_ref(&view(&mb), &ctx).unwrap();
    };
    pass(&mut kept);
    pass(&mut kept);
    d.register("/b", logging(&log, "b")).unwrap();
    pass(&mut kept);
    assert!(d.unregister(a));
    // The kept look holds the table weakly: the removed handler is gone at once.
    assert_eq!(Arc::strong_count(&token), 1);
    pass(&mut kept);
    assert_eq!(
        *log.lock().unwrap(),
        ["a /a", "a /a", "a /a", "b /b", "b /b"]
    );
    assert_eq!((d.stats().matched, d.stats().unmatched), (5, 3));
}

#[test]
fn a_look_kept_from_another_dispatcher_is_replaced() {
    let (one, two) = (
        Dispatcher::new(DispatcherConfig::default()),
        Dispatcher::new(DispatcherConfig::default()),
    );
    let log: Log = Arc::default();
    one.register("/x", logging(&log, "one")).unwrap();
    two.register("/x", logging(&log, "two")).unwrap();
    let x = bytes("/x");
    let ctx = Context::new(T0);
    let mut kept = KeptMethods::new();
    for d in [&one, &two, &one] {
        d.batch_kept(&mut kept)
            .unwrap()
            .dispatch_message_ref(&view(&x), &ctx)
            .unwrap();
    }
    assert_eq!(*log.lock().unwrap(), ["one /x", "two /x", "one /x"]);
}

#[test]
fn a_kept_look_keeps_no_handler_alive_and_is_cleared_at_shutdown() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log: Log = Arc::default();
    let token = Arc::new(());
    let a = d.register("/a", holding(&log, "a", &token)).unwrap();
    let mut kept = KeptMethods::new();
    drop(d.batch_kept(&mut kept).unwrap());
    assert!(!kept.is_empty());
    assert!(d.unregister(a));
    assert_eq!(Arc::strong_count(&token), 1);
    kept.clear();
    assert!(kept.is_empty());
    drop(d.batch_kept(&mut kept).unwrap());
    assert!(!kept.is_empty());
    d.shutdown(ShutdownOptions::default(), T0);
    assert!(matches!(
        d.batch_kept(&mut kept),
        Err(DispatchError::ShutDown)
    ));
    assert!(kept.is_empty());
}

#[test]
fn a_handler_that_registers_mid_batch_is_seen_by_the_kept_look_too() {
    let log: Log = Arc::default();
    let d = registering(&log);
    let (add, new) = (bytes("/add"), bytes("/new"));
    let ctx = Context::new(T0);
    let mut kept = KeptMethods::new();
    let mut batch = d.batch_kept(&mut kept).unwrap();
    batch.dispatch_message_ref(&view(&add), &ctx).unwrap();
    batch.dispatch_message_ref(&view(&new), &ctx).unwrap();
    drop(batch);
    d.batch_kept(&mut kept)
        .unwrap()
        .dispatch_message_ref(&view(&new), &ctx)
        .unwrap();
    assert_eq!(*log.lock().unwrap(), ["new /new", "new /new"]);
}
