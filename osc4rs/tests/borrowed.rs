//! Borrowed handlers (`Handler::borrowed`, `Handler::typed_ref`) through the runtime in
//! every mode, over UDP and TCP: beside owned handlers on one address, inside bundles,
//! replying through the runtime from the handler, typed argument errors, and malformed
//! messages on the path that keeps messages as bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::{Bundle, Handler, Message, Mode, Osc, TimeTag};

type Log = Arc<Mutex<Vec<String>>>;

/// Processes until `n` entries are logged (or 5 s pass); returns them sorted (in
/// allthreads the pool may run two handlers of one message at once).
fn wait_for(osc: &Osc, log: &Log, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while log.lock().unwrap().len() < n && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(5)).unwrap();
    }
    let mut got = std::mem::take(&mut *log.lock().unwrap());
    got.sort();
    got
}

fn scenario(mode: Mode, tcp: bool) {
    let what = format!("{mode:?} over {}", if tcp { "TCP" } else { "UDP" });
    let osc = Osc::builder().mode(mode).exec_threads(2).start().unwrap();
    let log: Log = Arc::new(Mutex::new(Vec::new()));

    let l = Arc::clone(&log);
    osc.method("/t/*", move |m: &Message| {
        l.lock().unwrap().push(format!("owned {m}"));
    })
    .unwrap();
    let l = Arc::clone(&log);
    osc.method(
        "/t/v",
        Handler::borrowed(move |m, ctx| {
            let args: Vec<String> = m.args().map(|a| format!("{a:?}")).collect();
            let in_bundle = ctx.bundle_timetag.is_some();
            l.lock().unwrap().push(format!(
                "view {} {} {} bundle={in_bundle}",
                m.address(),
                m.type_tags(),
                args.join(",")
            ));
        }),
    )
    .unwrap();
    let l = Arc::clone(&log);
    osc.method(
        "/typed",
        Handler::typed_ref(move |f: f32, i: i32| l.lock().unwrap().push(format!("typed {f} {i}"))),
    )
    .unwrap();
    // A borrowed handler that calls the runtime: its reply comes back to `/t/*`.
    let h = osc.handle();
    osc.method(
        "/echo",
        Handler::typed_ref(move |x: i32| {
            h.send(Message::new("/t/reply").arg(x), "out").unwrap();
        }),
    )
    .unwrap();

    if tcp {
        osc.tcp_server("in", "127.0.0.1:0").unwrap();
    } else {
        osc.udp_server("in", "127.0.0.1:0").unwrap();
    }
    let at = osc.local_addr("in").unwrap();
    if tcp {
        osc.tcp_client("out", ("127.0.0.1", at.port())).unwrap();
    } else {
        osc.udp_client("out", ("127.0.0.1", at.port())).unwrap();
    }

    osc.send(Message::new("/t/v").arg(1).arg("x"), "out")
        .unwrap();
    assert_eq!(
        wait_for(&osc, &log, 2),
        [
            "owned /t/v ,is 1 \"x\"",
            "view /t/v ,is Int(1),Str(\"x\") bundle=false"
        ],
        "{what}"
    );

    osc.send(Message::new("/typed").arg(2).arg(3), "out")
        .unwrap();
    assert_eq!(wait_for(&osc, &log, 1), ["typed 2 3"], "{what}");
    // Does not fit: not called (an argument error), and what follows still is.
    osc.send(Message::new("/typed").arg("x"), "out").unwrap();
    osc.send(Message::new("/typed").arg(4.5f32).arg(5), "out")
        .unwrap();
    assert_eq!(wait_for(&osc, &log, 1), ["typed 4.5 5"], "{what}");

    let b = Bundle::immediate().add(Message::new("/t/v").arg(7));
    osc.send(b, "out").unwrap();
    assert_eq!(
        wait_for(&osc, &log, 2),
        ["owned /t/v ,i 7", "view /t/v ,i Int(7) bundle=true"],
        "{what}"
    );
    let later = Bundle::new(TimeTag::now() + Duration::from_millis(50)).add(Message::new("/t/v"));
    osc.send(later, "out").unwrap();
    assert_eq!(
        wait_for(&osc, &log, 2),
        ["owned /t/v ,", "view /t/v ,  bundle=true"],
        "{what}"
    );
    // Run at once from its view, with a nested bundle due later: held, then run.
    let inner =
        Bundle::new(TimeTag::now() + Duration::from_millis(50)).add(Message::new("/t/v").arg(9));
    let outer = Bundle::immediate()
        .add(Message::new("/t/v").arg(8))
        .add(inner)
        .add(Message::new("/echo").arg(6));
    osc.send(outer, "out").unwrap();
    assert_eq!(
        wait_for(&osc, &log, 5),
        [
            "owned /t/reply ,i 6",
            "owned /t/v ,i 8",
            "owned /t/v ,i 9",
            "view /t/v ,i Int(8) bundle=true",
            "view /t/v ,i Int(9) bundle=true"
        ],
        "{what}"
    );

    osc.send(Message::new("/echo").arg(5), "out").unwrap();
    assert_eq!(wait_for(&osc, &log, 1), ["owned /t/reply ,i 5"], "{what}");

    if !tcp {
        // A message cut short: counted as a decode error on the path that keeps
        // messages as bytes, and no handler runs.
        let bad = Message::new("/t/v").arg(1).to_bytes().unwrap();
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.send_to(&bad[..bad.len() - 4], at).unwrap();
        sock.send_to(&Message::new("/t/after").to_bytes().unwrap(), at)
            .unwrap();
        assert_eq!(wait_for(&osc, &log, 1), ["owned /t/after ,"], "{what}");
        assert_eq!(osc.stats().decode_errors, 1, "{what}");
        // A bundle cut short: the same, on the path that keeps bundles as bytes.
        let bad = osc4rs::Packet::from(Bundle::immediate().add(Message::new("/t/v").arg(1)))
            .to_bytes()
            .unwrap();
        sock.send_to(&bad[..bad.len() - 4], at).unwrap();
        sock.send_to(&Message::new("/t/after").to_bytes().unwrap(), at)
            .unwrap();
        assert_eq!(wait_for(&osc, &log, 1), ["owned /t/after ,"], "{what}");
        assert_eq!(osc.stats().decode_errors, 2, "{what}");
    }
    osc.terminate().unwrap();
}

#[test]
fn eventloop_udp() {
    scenario(Mode::EventLoop, false);
}

#[test]
fn eventloop_tcp() {
    scenario(Mode::EventLoop, true);
}

#[test]
fn comthreads_udp() {
    scenario(Mode::CommThreads, false);
}

#[test]
fn comthreads_tcp() {
    scenario(Mode::CommThreads, true);
}

#[test]
fn allthreads_udp() {
    scenario(Mode::AllThreads, false);
}

#[test]
fn allthreads_tcp() {
    scenario(Mode::AllThreads, true);
}
