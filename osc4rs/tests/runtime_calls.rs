//! Calls into the runtime from handlers and from other threads, hooks that panic, one
//! TCP connection as a target, and how much one `process()` call reads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use osc4rs::channel::DropReason;
use osc4rs::{ChannelHooks, Decoded, Handler, Message, Mode, Osc, OscError, Packet};

fn start(mode: Mode) -> Arc<Osc> {
    Arc::new(Osc::builder().mode(mode).exec_threads(2).start().unwrap())
}

type Seen = Arc<Mutex<Vec<String>>>;

/// A `/t/*` method that records each message as text.
fn record(osc: &Osc) -> Seen {
    let seen: Seen = Arc::default();
    let s = Arc::clone(&seen);
    osc.method("/t/*", move |m: &Message| {
        s.lock().unwrap().push(m.to_string())
    })
    .unwrap();
    seen
}

/// Processes (where the mode needs it) until `done` or 5 s.
fn until(osc: &Osc, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        osc.process_timeout(Duration::from_millis(5)).unwrap();
    }
    true
}

fn bytes(m: Message) -> Vec<u8> {
    Packet::from(m).to_bytes().unwrap()
}

#[test]
fn handlers_may_open_close_and_query_channels() {
    for mode in Mode::ALL {
        let osc = start(mode);
        let seen = record(&osc);
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        let port = osc.local_addr("in").unwrap().port();
        osc.udp_client("gone", ("127.0.0.1", port)).unwrap();
        let me: Arc<OnceLock<Arc<Osc>>> = Arc::default();
        let me2 = Arc::clone(&me);
        let answers: Seen = Arc::default();
        let a = Arc::clone(&answers);
        osc.method("/ctl", move |_m: &Message| {
            let osc = me2.get().unwrap();
            let port = osc.local_addr("in").unwrap().port();
            osc.udp_client("extra", ("127.0.0.1", port)).unwrap();
            osc.close("gone").unwrap();
            osc.send(Message::new("/t/from-handler"), "extra").unwrap();
            a.lock().unwrap().push(format!("port {port}"));
        })
        .unwrap();
        me.set(Arc::clone(&osc)).unwrap();
        let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
        raw.send_to(&bytes(Message::new("/ctl")), ("127.0.0.1", port))
            .unwrap();
        assert!(
            until(&osc, || seen.lock().unwrap().len() == 1),
            "{mode:?}: the handler's send never arrived"
        );
        assert_eq!(*answers.lock().unwrap(), [format!("port {port}")]);
        assert!(matches!(
            osc.send(Message::new("/t/x"), "gone"),
            Err(OscError::UnknownTarget(_))
        ));
        osc.terminate().unwrap();
    }
}

#[test]
fn calls_from_another_thread_do_not_wait_for_process_timeout() {
    for mode in [Mode::EventLoop, Mode::CommThreads] {
        let osc = start(mode);
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        let o = Arc::clone(&osc);
        let looper =
            std::thread::spawn(
                move || {
                    while o.process_timeout(Duration::from_secs(30)).is_ok() {}
                },
            );
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        assert!(osc.local_addr("in").is_some());
        osc.udp_client("out", osc.local_addr("in").unwrap())
            .unwrap();
        osc.close("out").unwrap();
        osc.terminate().unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{mode:?}: calls took {:?}",
            t.elapsed()
        );
        looper.join().unwrap();
    }
}

/// An event loop that only sends has nothing in its poll, and its `process()` skips
/// the pass: sends from other threads, a closed and reopened client and bundles that
/// fall due must still be seen to by those calls.
#[test]
fn a_sending_only_event_loop_still_runs_queued_work() {
    let osc = start(Mode::EventLoop);
    let seen = record(&osc);
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    osc.udp_client("out", sink.local_addr().unwrap()).unwrap();
    // Sent from this thread: written at once, then `process()` finds nothing to do.
    osc.send(Message::new("/t/direct"), "out").unwrap();
    assert_eq!(osc.process().unwrap(), 0);
    // Sent from other threads while this one spins on `process()`.
    let handle = osc.handle();
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let h = handle.clone();
            std::thread::spawn(move || h.send(Message::new(format!("/t/from/{i}")), "out"))
        })
        .collect();
    let due =
        osc4rs::TimeTag::from_system_time(std::time::SystemTime::now() + Duration::from_millis(50));
    osc.send(
        osc4rs::Bundle::new(due).add(Message::new("/t/due")),
        osc4rs::LOCAL,
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    sink.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while (got.len() < 5 || seen.lock().unwrap().is_empty()) && Instant::now() < deadline {
        osc.process().unwrap();
        if let Ok(n) = sink.recv(&mut buf) {
            got.push(osc4rs::codec::decode(&buf[..n]).unwrap().to_string());
        }
    }
    for s in senders {
        s.join().unwrap().unwrap();
    }
    got.sort();
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(got[0].contains("/t/direct"), "{got:?}");
    assert_eq!(*seen.lock().unwrap(), ["/t/due ,"]);
}

#[test]
fn a_panicking_decode_hook_drops_only_its_packet() {
    for mode in Mode::ALL {
        let osc = start(mode);
        let seen = record(&osc);
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        let port = osc.local_addr("in").unwrap().port();
        osc.set_hooks(
            "in",
            Some(ChannelHooks {
                decode: Some(Arc::new(|b: &[u8]| {
                    assert!(!b.starts_with(b"/t/boom"), "decode hook failure on purpose");
                    Decoded::default()
                })),
                ..ChannelHooks::default()
            }),
        );
        let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
        raw.send_to(&bytes(Message::new("/t/boom")), ("127.0.0.1", port))
            .unwrap();
        for i in 0..3 {
            raw.send_to(&bytes(Message::new("/t/ok").arg(i)), ("127.0.0.1", port))
                .unwrap();
        }
        assert!(
            until(&osc, || seen.lock().unwrap().len() == 3),
            "{mode:?}: got {:?}",
            seen.lock().unwrap()
        );
        assert_eq!(osc.stats().hook_dropped, 1);
        // The thread that reads is still there.
        raw.send_to(&bytes(Message::new("/t/after")), ("127.0.0.1", port))
            .unwrap();
        assert!(until(&osc, || seen.lock().unwrap().len() == 4), "{mode:?}");
        osc.terminate().unwrap();
    }
}

#[test]
fn a_panicking_encode_hook_fails_that_channel_only() {
    for mode in Mode::ALL {
        let osc = start(mode);
        let seen = record(&osc);
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        let addr = osc.local_addr("in").unwrap();
        osc.udp_client("bad", addr).unwrap();
        osc.udp_client("good", addr).unwrap();
        osc.set_hooks(
            "bad",
            Some(ChannelHooks {
                encode: Some(Arc::new(|_p: &Packet, _b: Vec<u8>| -> Vec<u8> {
                    panic!("encode hook failure on purpose")
                })),
                ..ChannelHooks::default()
            }),
        );
        assert!(matches!(
            osc.send(Message::new("/t/a"), "bad"),
            Err(OscError::HookPanicked(name)) if name == "bad"
        ));
        assert_eq!(osc.stats().send_errors, 1);
        osc.send(Message::new("/t/b"), "good").unwrap();
        assert!(until(&osc, || seen.lock().unwrap().len() == 1), "{mode:?}");
        assert_eq!(*seen.lock().unwrap(), ["/t/b ,"]);
        osc.terminate().unwrap();
    }
}

#[test]
fn closing_a_channel_forgets_its_hooks() {
    let osc = start(Mode::EventLoop);
    let seen = record(&osc);
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    osc.set_hooks(
        "in",
        Some(ChannelHooks {
            decode: Some(Arc::new(|_b: &[u8]| Decoded {
                drop: true,
                ..Decoded::default()
            })),
            ..ChannelHooks::default()
        }),
    );
    osc.close("in").unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.send_to(
        &bytes(Message::new("/t/kept")),
        osc.local_addr("in").unwrap(),
    )
    .unwrap();
    assert!(until(&osc, || seen.lock().unwrap().len() == 1));
    assert_eq!(osc.stats().hook_dropped, 0);
}

#[test]
fn one_process_call_reads_everything_pending() {
    let osc = start(Mode::EventLoop);
    let seen = record(&osc);
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    let addr = osc.local_addr("in").unwrap();
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    // More than a pass reads from one socket (64 by default).
    for i in 0..300 {
        raw.send_to(&bytes(Message::new("/t/n").arg(i)), addr)
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(osc.process().unwrap(), 300);
    assert_eq!(seen.lock().unwrap().len(), 300);
}

/// Reads one length-prefixed OSC packet, or `None` on timeout.
fn read_framed(s: &mut TcpStream) -> Option<Message> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).ok()?;
    Some(Message::decode(&body).unwrap())
}

fn write_framed(s: &mut TcpStream, m: Message) {
    let b = bytes(m);
    s.write_all(&(b.len() as u32).to_be_bytes()).unwrap();
    s.write_all(&b).unwrap();
}

#[test]
fn a_send_can_target_one_tcp_connection() {
    for mode in Mode::ALL {
        let osc = start(mode);
        let from: Seen = Arc::default();
        let f = Arc::clone(&from);
        osc.method(
            "/hello",
            Handler::with_context(move |_m, ctx| {
                f.lock()
                    .unwrap()
                    .push(ctx.channel.as_deref().unwrap_or("?").to_owned());
            }),
        )
        .unwrap();
        osc.tcp_server("srv", "127.0.0.1:0").unwrap();
        let addr = osc.local_addr("srv").unwrap();
        let mut one = TcpStream::connect(addr).unwrap();
        write_framed(&mut one, Message::new("/hello"));
        assert!(until(&osc, || from.lock().unwrap().len() == 1), "{mode:?}");
        let mut two = TcpStream::connect(addr).unwrap();
        write_framed(&mut two, Message::new("/hello"));
        assert!(until(&osc, || from.lock().unwrap().len() == 2), "{mode:?}");
        let names = from.lock().unwrap().clone();
        assert!(
            names[0].starts_with("srv/") && names[0] != names[1],
            "{names:?}"
        );

        osc.send(Message::new("/to/one"), names[0].as_str())
            .unwrap();
        one.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(
            read_framed(&mut one),
            Some(Message::new("/to/one")),
            "{mode:?}"
        );
        two.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        assert_eq!(
            read_framed(&mut two),
            None,
            "{mode:?}: the other connection got it"
        );

        // A connection that is not there: an error where the caller's thread can tell
        // (event loop), a drop counted on the server otherwise.
        let ghost = "srv/127.0.0.1:1";
        match osc.send(Message::new("/to/ghost"), ghost) {
            Err(OscError::UnknownTarget(name)) => {
                assert_eq!(mode, Mode::EventLoop);
                assert_eq!(name, ghost);
            }
            Ok(()) => {
                assert_ne!(mode, Mode::EventLoop);
                assert!(
                    until(&osc, || osc
                        .channel_stats("srv")
                        .unwrap()
                        .drops(DropReason::NoRoute)
                        == 1),
                    "{mode:?}: the drop was not counted"
                );
            }
            Err(e) => panic!("{mode:?}: {e}"),
        }
        osc.terminate().unwrap();
    }
}

#[test]
fn terminate_flushes_queued_tcp_sends() {
    for mode in Mode::ALL {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let osc = start(mode);
        osc.tcp_client("out", listener.local_addr().unwrap())
            .unwrap();
        for i in 0..200 {
            osc.send(Message::new("/q").arg(i), "out").unwrap();
        }
        osc.terminate().unwrap();
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        for i in 0..200 {
            assert_eq!(
                read_framed(&mut conn),
                Some(Message::new("/q").arg(i)),
                "{mode:?}: packet {i}"
            );
        }
    }
}

/// A group kept by the application and lent to every send (`&Target`): each channel
/// it names gets the message once however often and however deep it is named, and a
/// group naming an unknown channel sends nothing at all.
#[test]
fn a_lent_group_sends_once_per_channel_and_nothing_when_a_name_is_unknown() {
    use osc4rs::Target;
    for mode in Mode::ALL {
        let osc = start(mode);
        let seen = record(&osc);
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        let port = osc.local_addr("in").unwrap().port();
        let names: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        for name in &names {
            osc.udp_client(name, ("127.0.0.1", port)).unwrap();
        }
        let flat = |names: &[String]| Target::from(names.to_vec());
        let group = Target::Group(vec![
            flat(&names),
            Target::Group(vec![flat(&names[..5]), flat(&names[15..])]),
            Target::from("c7"),
        ]);
        for i in 0..3 {
            osc.send(Message::new(format!("/t/{i}")), &group).unwrap();
        }
        assert!(
            until(&osc, || seen.lock().unwrap().len() >= 60),
            "{mode:?}: {} of 60 arrived",
            seen.lock().unwrap().len()
        );
        let with_unknown = Target::Group(vec![flat(&names), Target::from("nobody")]);
        assert!(
            matches!(
                osc.send(Message::new("/t/never"), &with_unknown),
                Err(OscError::UnknownTarget(name)) if name == "nobody"
            ),
            "{mode:?}"
        );
        // A marker sent after it: everything before it has been read when it comes.
        osc.send(Message::new("/t/marker"), "c0").unwrap();
        assert!(until(&osc, || seen.lock().unwrap().len() >= 61), "{mode:?}");
        let seen = seen.lock().unwrap();
        for i in 0..3 {
            let n = seen.iter().filter(|s| **s == format!("/t/{i} ,")).count();
            assert_eq!(n, 20, "{mode:?}: /t/{i} arrived {n} times");
        }
        assert_eq!(seen.len(), 61, "{mode:?}: {seen:?}");
        drop(seen);
        osc.terminate().unwrap();
    }
}

/// A runtime with a UDP server, a `/k` method whose handler holds a token, and one
/// message dispatched to it (the dispatching thread keeps a look at the methods).
fn served_once(mode: Mode) -> (Arc<Osc>, osc4rs::MethodHandle, Arc<()>) {
    let osc = start(mode);
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    let token = Arc::new(());
    let (held, got) = (Arc::clone(&token), Arc::new(Mutex::new(0)));
    let g = Arc::clone(&got);
    let k = osc
        .method("/k", move |_m: &Message| {
            let _held = &held;
            *g.lock().unwrap() += 1;
        })
        .unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(&bytes(Message::new("/k")), osc.local_addr("in").unwrap())
        .unwrap();
    assert!(until(&osc, || *got.lock().unwrap() == 1), "{mode:?}");
    (osc, k, token)
}

#[test]
fn a_removed_methods_handler_is_dropped_at_once() {
    // The receive path keeps its look at the methods from pass to pass, weakly: no
    // pass to wait for.
    for mode in Mode::ALL {
        let (osc, k, token) = served_once(mode);
        assert!(osc.remove_method(k));
        // In allthreads the pool's job and the I/O thread's batch let go of the method
        // just after the handler returns.
        assert!(until(&osc, || Arc::strong_count(&token) == 1), "{mode:?}");
        osc.terminate().unwrap();
    }
}

#[test]
fn terminate_drops_the_handlers_a_thread_dispatched_to() {
    for mode in Mode::ALL {
        let (osc, _k, token) = served_once(mode);
        osc.terminate().unwrap();
        // The runtime's own table goes with it; no thread keeps a copy.
        drop(osc);
        assert_eq!(Arc::strong_count(&token), 1, "{mode:?}");
    }
}
