//! Borrowed handlers (`Handler::borrowed`, `Handler::typed_ref`) and
//! `Dispatcher::dispatch_message_ref`: argument errors, patterns, fallbacks, bundles,
//! the pool, and borrowed and owned handlers on one address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use osc_codec::{ArgRef, Bundle, Message, MessageRef, PacketRef, TimeTag, decode};
use osc_dispatch::{
    Context, Dispatcher, DispatcherConfig, Executor, FromArgRefs, Handler, MethodOptions,
};

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn taken(l: &Log) -> Vec<String> {
    std::mem::take(&mut *l.lock().unwrap())
}

/// Dispatches `m` from its view, as the facade's receive path does.
fn send_view(d: &Dispatcher, m: Message) {
    let bytes = m.to_bytes().unwrap();
    let PacketRef::Message(v) = decode(&bytes).unwrap() else {
        unreachable!()
    };
    d.dispatch_message_ref(&v, &Context::new(T0).with_channel("in"))
        .unwrap();
}

fn viewer(l: &Log, tag: &'static str) -> Handler {
    let l = l.clone();
    Handler::borrowed(move |m: &MessageRef<'_>, ctx: &Context| {
        let args: Vec<String> = m.args().map(|a| format!("{a:?}")).collect();
        l.lock().unwrap().push(format!(
            "{tag} {} {} [{}] {:?} {:?}",
            m.address(),
            m.type_tags(),
            args.join(" "),
            ctx.channel.as_deref(),
            ctx.bundle_timetag.is_some()
        ));
    })
}

#[test]
fn typed_ref_extraction_errors_count_as_argument_errors() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let h = Handler::typed_ref(move |f: f32, a: i32| g.lock().unwrap().push((f, a)));
    assert_eq!(h.osc_types(), Some("fi"));
    d.register("/s", h).unwrap();
    send_view(&d, Message::new("/s").arg(1).arg(2)); // i -> f32 allowed
    send_view(&d, Message::new("/s").arg(1.5f32).arg(2.5f32)); // f -> i32 refused
    send_view(&d, Message::new("/s").arg(1.5f32)); // too few
    send_view(&d, Message::new("/s").arg(1.5f32).arg(1).arg(1)); // too many
    send_view(&d, Message::new("/s").arg(1.5f32).arg(1i64 << 40)); // out of range
    assert_eq!(*got.lock().unwrap(), [(1.0, 2)]);
    let s = d.stats();
    assert_eq!((s.arg_errors, s.handler_calls), (4, 5));
}

#[test]
fn borrowed_fallible_uses_from_arg_refs() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    d.register(
        "/t",
        Handler::borrowed_fallible(move |m, _| {
            let (s, x): (String, Option<f64>) = FromArgRefs::from_arg_refs(m.args())?;
            g.lock().unwrap().push((s, x));
            Ok(())
        }),
    )
    .unwrap();
    send_view(&d, Message::new("/t").arg("a"));
    send_view(&d, Message::new("/t").arg("b").arg(2.0f64));
    send_view(&d, Message::new("/t").arg(3));
    assert_eq!(
        *got.lock().unwrap(),
        [("a".to_owned(), None), ("b".to_owned(), Some(2.0))]
    );
    assert_eq!(d.stats().arg_errors, 1);
}

#[test]
fn patterns_filters_and_fallback_reach_borrowed_handlers() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let l = log();
    d.register("/a/b", viewer(&l, "lit")).unwrap();
    d.register("/a/*", viewer(&l, "filter")).unwrap();
    d.set_fallback(Some(viewer(&l, "fallback")), MethodOptions::default());
    assert!(d.takes_views());
    send_view(&d, Message::new("/a/b").arg(1));
    assert_eq!(
        taken(&l),
        [
            "lit /a/b ,i [Int(1)] Some(\"in\") false",
            "filter /a/b ,i [Int(1)] Some(\"in\") false"
        ]
    );
    // An incoming pattern selects the literal method.
    send_view(&d, Message::new("/a/?"));
    assert_eq!(taken(&l), ["lit /a/? , [] Some(\"in\") false"]);
    send_view(&d, Message::new("/nowhere").arg("x"));
    assert_eq!(
        taken(&l),
        ["fallback /nowhere ,s [Str(\"x\")] Some(\"in\") false"]
    );
    // Owned dispatch reaches them too, through a view of the encoding.
    d.dispatch_packet(
        Message::new("/a/b").arg(2.5f32).into(),
        Context::new(T0),
        T0,
    )
    .unwrap();
    assert_eq!(
        taken(&l),
        [
            "lit /a/b ,f [Float(2.5)] None false",
            "filter /a/b ,f [Float(2.5)] None false"
        ]
    );
    d.set_fallback(None, MethodOptions::default());
}

#[test]
fn borrowed_and_owned_handlers_on_one_address_run_in_registration_order() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let l = log();
    d.register("/m", viewer(&l, "view1")).unwrap();
    let o = l.clone();
    d.register("/m", move |m: &Message| {
        o.lock()
            .unwrap()
            .push(format!("owned {} {:?}", m.address, m.args));
    })
    .unwrap();
    d.register("/m", viewer(&l, "view2")).unwrap();
    send_view(&d, Message::new("/m").arg(4));
    assert_eq!(
        taken(&l),
        [
            "view1 /m ,i [Int(4)] Some(\"in\") false",
            "owned /m [Int(4)]",
            "view2 /m ,i [Int(4)] Some(\"in\") false"
        ]
    );
    assert_eq!(d.stats().handler_calls, 3);
}

#[test]
fn every_kind_of_method_on_one_address_runs_once_in_registration_order() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let l = log();
    let pool = MethodOptions::new().executor(Executor::Pool);
    let owned = |tag: &'static str| {
        let o = l.clone();
        move |m: &Message| {
            o.lock()
                .unwrap()
                .push(format!("{tag} {} {:?}", m.address, m.args));
        }
    };
    d.register("/m", viewer(&l, "view1")).unwrap();
    d.register("/m", Handler::borrowed(|_, _| panic!("boom")))
        .unwrap();
    d.register("/m", owned("owned1")).unwrap();
    d.register_with("/m", viewer(&l, "pool-view"), pool.clone())
        .unwrap();
    d.register_with("/m", owned("pool-owned"), pool).unwrap();
    d.register("/*", owned("owned2")).unwrap();
    d.register("/m", viewer(&l, "view2")).unwrap();
    // Inside `runs_here` the pool methods run inline, in their turn.
    d.runs_here(|| send_view(&d, Message::new("/m").arg(4)));
    assert_eq!(
        taken(&l),
        [
            "view1 /m ,i [Int(4)] Some(\"in\") false",
            "owned1 /m [Int(4)]",
            "pool-view /m ,i [Int(4)] Some(\"in\") false",
            "pool-owned /m [Int(4)]",
            "owned2 /m [Int(4)]",
            "view2 /m ,i [Int(4)] Some(\"in\") false",
        ]
    );
    let stats = d.stats();
    assert_eq!((stats.handler_calls, stats.handler_panics), (6, 1));
    assert_eq!(stats.matched, 1);
}

#[test]
fn bundles_keep_their_semantics_for_borrowed_handlers() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let l = log();
    d.register("/b", viewer(&l, "v")).unwrap();
    let later = T0 + Duration::from_secs(1);
    let bundle = Bundle::new(later).add(Message::new("/b").arg(1));
    // Through dispatch_bytes, which takes the view path for messages.
    d.dispatch_bytes(&bundle.to_bytes().unwrap(), Context::new(T0), T0)
        .unwrap();
    assert!(taken(&l).is_empty());
    assert_eq!(d.pending(), 1);
    assert_eq!(d.run_due(later), 1);
    assert_eq!(taken(&l), ["v /b ,i [Int(1)] None true"]);
    d.dispatch_bytes(
        &Message::new("/b").to_bytes().unwrap(),
        Context::new(T0),
        T0,
    )
    .unwrap();
    assert_eq!(taken(&l), ["v /b , [] None false"]);
}

#[test]
fn pool_methods_get_an_owned_copy() {
    let mut pool = DispatcherConfig::default().pool;
    pool.threads = 1;
    let d = Dispatcher::new(DispatcherConfig {
        default_executor: Executor::Pool,
        pool,
        ..DispatcherConfig::default()
    });
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    d.register(
        "/p",
        Handler::borrowed(move |m, _| {
            if let Some(ArgRef::Int(i)) = m.args().next() {
                g.lock().unwrap().push(i);
            }
        }),
    )
    .unwrap();
    d.caller_runs(|| send_view(&d, Message::new("/p").arg(9)));
    assert_eq!(*got.lock().unwrap(), [9]);
}

#[test]
fn a_pool_job_reads_its_view_as_the_first_decode_did() {
    // A worker thread gets the message's bytes and reads them again into a view: with
    // the string policy of the view they came from (here not the dispatcher's own).
    let mut pool = DispatcherConfig::default().pool;
    pool.threads = 1;
    let d = Dispatcher::new(DispatcherConfig {
        default_executor: Executor::Pool,
        pool,
        ..DispatcherConfig::default()
    });
    let l = log();
    d.register("/r", viewer(&l, "pool")).unwrap();
    let m = Message::new("/r")
        .arg(osc_codec::Value::RawString(vec![0xff, 0x41]))
        .arg(7)
        .arg("ok");
    let bytes = m.to_bytes().unwrap();
    let raw = osc_codec::Options {
        strings: osc_codec::StringPolicy::Raw,
        ..osc_codec::Options::DEFAULT
    };
    let PacketRef::Message(v) = osc_codec::decode_with(&bytes, &raw).unwrap() else {
        unreachable!()
    };
    d.dispatch_message_ref(&v, &Context::new(T0).with_channel("in"))
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while d.stats().handler_calls == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        taken(&l),
        ["pool /r ,sis [RawStr([255, 65]) Int(7) Str(\"ok\")] Some(\"in\") false"]
    );
    assert_eq!((d.stats().handler_calls, d.stats().decode_errors), (1, 0));
}

#[test]
fn takes_views_follows_registrations_and_the_fallback() {
    let d = Dispatcher::new(DispatcherConfig::default());
    assert!(!d.takes_views());
    d.set_fallback(Some(Handler::borrowed(|_, _| {})), MethodOptions::default());
    assert!(d.takes_views());
    d.set_fallback(Some(Handler::new(|_| {})), MethodOptions::default());
    assert!(!d.takes_views());
    let h = d.register("/x", Handler::borrowed(|_, _| {})).unwrap();
    let moved = d.readdress(h, "/y").unwrap();
    assert!(d.takes_views());
    assert!(d.unregister(moved));
    assert!(!d.takes_views());
}

#[test]
fn panics_in_borrowed_handlers_are_caught() {
    let d = Dispatcher::new(DispatcherConfig::default());
    d.register("/x", Handler::borrowed(|_, _| panic!("boom")))
        .unwrap();
    send_view(&d, Message::new("/x"));
    assert_eq!(d.stats().handler_panics, 1);
}

#[test]
fn owned_paths_give_borrowed_handlers_what_the_first_decode_accepted() {
    let d = Dispatcher::new(DispatcherConfig::default());
    let l = log();
    d.register("/r", viewer(&l, "v")).unwrap();
    // Not valid UTF-8: kept raw by a lenient decode, then held in a bundle.
    let m = Message::new("/r").arg(osc_codec::Value::RawString(vec![0xff, 0x41]));
    let b = Bundle::immediate().add(m);
    d.dispatch_packet(b.into(), Context::new(T0), T0).unwrap();
    assert_eq!(taken(&l), ["v /r ,s [RawStr([255, 65])] None true"]);
    assert_eq!(d.stats().handler_calls, 1);
}
