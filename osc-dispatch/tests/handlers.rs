//! Handlers: kinds, fallback, panics, argument errors, locks, local and byte dispatch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use osc_codec::{Message, Packet, TimeTag};
use osc_dispatch::{Context, DispatchError, Dispatcher, DispatcherConfig, Handler, MethodOptions};

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

fn send(d: &Dispatcher, m: Message) {
    d.dispatch_packet(m.into(), Context::new(T0), T0).unwrap();
}

#[test]
fn every_matching_method_is_called_once_in_registration_order() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log = Arc::new(Mutex::new(Vec::new()));
    for (i, addr) in ["/a/b", "/a/*", "/a/b", "//b"].into_iter().enumerate() {
        let l = log.clone();
        d.register(addr, move |_: &Message| l.lock().unwrap().push(i))
            .unwrap();
    }
    send(&d, Message::new("/a/b"));
    assert_eq!(*log.lock().unwrap(), [0, 1, 2, 3]);
    log.lock().unwrap().clear();
    // An incoming pattern selects literal methods only (osc-pattern's rule).
    send(&d, Message::new("/a/?"));
    assert_eq!(*log.lock().unwrap(), [0, 2]);
    assert_eq!(d.stats().matched, 2);
}

#[test]
fn fallback_gets_unmatched_and_bad_addresses() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    d.set_fallback(
        Some(Handler::new(move |m| {
            s.lock().unwrap().push(m.address.clone())
        })),
        MethodOptions::new(),
    );
    send(&d, Message::new("/nobody"));
    send(&d, Message::new("/bad/[pattern"));
    assert_eq!(*seen.lock().unwrap(), ["/nobody", "/bad/[pattern"]);
    let st = d.stats();
    assert_eq!((st.unmatched, st.bad_address), (2, 1));
    d.set_fallback(None, MethodOptions::new());
    send(&d, Message::new("/nobody"));
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_panicking_handler_is_counted_and_dispatch_continues() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let after = Arc::new(Mutex::new(0));
    d.register("/p", |_: &Message| panic!("handler bug"))
        .unwrap();
    let a = after.clone();
    d.register("/p", move |_: &Message| *a.lock().unwrap() += 1)
        .unwrap();
    for _ in 0..3 {
        send(&d, Message::new("/p"));
    }
    assert_eq!(*after.lock().unwrap(), 3);
    let s = d.stats();
    assert_eq!((s.handler_panics, s.handler_calls), (3, 3));
}

#[test]
fn typed_handlers_and_context() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    d.register(
        "/t",
        Handler::typed_with_context(
            move |(name, n, flag): (String, i64, Option<bool>), m, ctx| {
                g.lock().unwrap().push(format!(
                    "{} {name} {n} {flag:?} {:?} {:?}",
                    m.address,
                    ctx.channel.as_deref(),
                    ctx.peer
                ));
            },
        ),
    )
    .unwrap();
    let ctx = Context::new(T0)
        .with_channel("udp-in")
        .with_peer("10.0.0.1:7000".parse().unwrap());
    d.dispatch_packet(Message::new("/t").arg("x").arg(3).into(), ctx, T0)
        .unwrap();
    d.dispatch_local(Message::new("/t").arg("y").arg(4i64).arg(true).into(), T0)
        .unwrap();
    send(&d, Message::new("/t").arg(1.5f32).arg(4)); // float where a String is wanted
    send(&d, Message::new("/t").arg("z").arg(1).arg(true).arg(0)); // too many
    assert_eq!(
        *got.lock().unwrap(),
        [
            "/t x 3 None Some(\"udp-in\") Some(10.0.0.1:7000)",
            "/t y 4 Some(true) Some(\"_local\") None"
        ]
    );
    assert_eq!(d.stats().arg_errors, 2);
}

#[test]
fn extra_data_and_fallible_handlers() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let out = Arc::new(Mutex::new(Vec::new()));
    let o = out.clone();
    d.register(
        "/voice",
        Handler::with_extra(7u8, move |_, _, voice: &u8| o.lock().unwrap().push(*voice)),
    )
    .unwrap();
    d.register(
        "/voice",
        Handler::fallible(|m, _| {
            let (_x,): (i32,) = osc_dispatch::FromArgs::from_args(&m.args)?;
            Ok(())
        }),
    )
    .unwrap();
    send(&d, Message::new("/voice"));
    assert_eq!(*out.lock().unwrap(), [7]);
    assert_eq!(d.stats().arg_errors, 1);
}

#[test]
fn bytes_malformed_packet_is_an_error_for_that_packet_only() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let n = Arc::new(Mutex::new(0));
    let c = n.clone();
    d.register("/ok", move |_: &Message| *c.lock().unwrap() += 1)
        .unwrap();
    let err = d
        .dispatch_bytes(b"/ok\0,i\0\0\0", Context::new(T0), T0)
        .unwrap_err();
    assert!(matches!(err, DispatchError::Decode(_)));
    let good = Packet::from(Message::new("/ok")).to_bytes().unwrap();
    d.dispatch_bytes(&good, Context::new(T0), T0).unwrap();
    assert_eq!(*n.lock().unwrap(), 1);
    assert_eq!(d.stats().decode_errors, 1);
}

#[test]
fn unregister_stops_delivery() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let n = Arc::new(Mutex::new(0));
    let c = n.clone();
    let h = d
        .register("/x", move |_: &Message| *c.lock().unwrap() += 1)
        .unwrap();
    send(&d, Message::new("/x"));
    assert!(d.unregister(h));
    assert!(!d.unregister(h));
    send(&d, Message::new("/x"));
    assert_eq!((*n.lock().unwrap(), d.method_count()), (1, 0));
}

#[test]
fn every_handler_form_is_accepted_directly_or_through_typed() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (a, b, c, e) = (log.clone(), log.clone(), log.clone(), log.clone());
    d.register("/m", move |m: &Message| {
        a.lock().unwrap().push(m.address.clone())
    })
    .unwrap();
    d.register("/ctx", move |m: &Message, ctx: &Context| {
        b.lock()
            .unwrap()
            .push(format!("{} {:?}", m.address, ctx.channel));
    })
    .unwrap();
    d.register(
        "/three",
        Handler::typed(move |v: i32, f: f32, s: String| {
            c.lock().unwrap().push(format!("{v} {f} {s}"));
        }),
    )
    .unwrap();
    d.register(
        "/one",
        Handler::typed(move |f: f32| e.lock().unwrap().push(format!("{f}"))),
    )
    .unwrap();
    send(&d, Message::new("/m"));
    send(&d, Message::new("/ctx"));
    send(&d, Message::new("/three").arg(1).arg(2.5f32).arg("x"));
    send(&d, Message::new("/three").arg(1)); // too few: refused, counted
    send(&d, Message::new("/one").arg(3)); // i widens to f
    assert_eq!(*log.lock().unwrap(), ["/m", "/ctx None", "1 2.5 x", "3"]);
    assert_eq!(d.stats().arg_errors, 1);
}

/// A message with a blob, and where the blob's bytes are: a handler that got the
/// dispatcher's own message sees the same address, a copy another.
fn with_blob() -> (Message, usize) {
    let m = Message::new("/take").arg(vec![7u8; 64]);
    let at = match m.args.first() {
        Some(osc_codec::Value::Blob(b)) => b.as_ptr() as usize,
        _ => unreachable!(),
    };
    (m, at)
}

fn blob_at(m: &Message) -> usize {
    match m.args.first() {
        Some(osc_codec::Value::Blob(b)) => b.as_ptr() as usize,
        _ => 0,
    }
}

#[test]
fn a_taking_handler_gets_the_message_itself_when_it_is_alone() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    d.register(
        "/take",
        Handler::taking(move |m, ctx| s.lock().unwrap().push((blob_at(&m), ctx.arrival))),
    )
    .unwrap();
    let (m, at) = with_blob();
    send(&d, m);
    assert_eq!(*seen.lock().unwrap(), [(at, T0)], "moved, not copied");
    // Another method selected too: each gets the message, the taking one a copy.
    let others = Arc::new(Mutex::new(0));
    let o = others.clone();
    d.register("/t*", move |_: &Message| *o.lock().unwrap() += 1)
        .unwrap();
    let (m, at) = with_blob();
    send(&d, m);
    let (copy_at, _) = seen.lock().unwrap()[1];
    assert_ne!(copy_at, at);
    assert_ne!(copy_at, 0);
    assert_eq!(*others.lock().unwrap(), 1);
    assert_eq!(d.stats().handler_calls, 3);
}

#[test]
fn a_taking_handler_gets_a_copy_from_a_view_and_a_bundle() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    d.register(
        "/take",
        Handler::taking(move |m, _| s.lock().unwrap().push(m)),
    )
    .unwrap();
    // A borrowed handler elsewhere makes the dispatcher decode views.
    d.register("/view", Handler::borrowed(|_, _| {})).unwrap();
    let (m, _) = with_blob();
    let bytes = m.to_bytes().unwrap();
    d.dispatch_bytes(&bytes, Context::new(T0), T0).unwrap();
    let bundle = osc_codec::Bundle::new(TimeTag::IMMEDIATELY).add(m.clone());
    d.dispatch_packet(Packet::from(bundle), Context::new(T0), T0)
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), [m.clone(), m]);
}

#[test]
fn a_taking_handler_that_panics_is_counted_and_named() {
    let d = Dispatcher::new(DispatcherConfig::default());
    d.register("/take", Handler::taking(|_, _| panic!("kept nothing")))
        .unwrap();
    send(&d, Message::new("/take"));
    assert_eq!(d.stats().handler_panics, 1);
    assert_eq!(d.stats().handler_calls, 0);
}
