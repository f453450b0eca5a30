//! Comthreads mode: the reactor passes between the I/O thread and a thread waiting in
//! `process_timeout` (see `src/relay.rs`). Packets keep their order across every
//! hand-over, the I/O thread reads while the application is away, handlers can call
//! into the reactor, and sends queued from a handler go out without another `process()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::{ChannelHooks, Decoded, Message, Mode, Osc};

fn start() -> Osc {
    Osc::builder().mode(Mode::CommThreads).start().unwrap()
}

/// A UDP server channel `in` and a plain socket that sends to it.
fn udp_in(osc: &Osc) -> (UdpSocket, std::net::SocketAddr) {
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    let to = osc.local_addr("in").unwrap();
    (UdpSocket::bind("127.0.0.1:0").unwrap(), to)
}

fn numbered(i: i32) -> Vec<u8> {
    Message::new("/n").arg(i).to_bytes().unwrap()
}

/// Counts the packets the channel `in` reads (its decode hook runs in the reading
/// thread, whichever it is).
fn count_reads(osc: &Osc) -> Arc<AtomicUsize> {
    let reads = Arc::new(AtomicUsize::new(0));
    let r = Arc::clone(&reads);
    let hooks = ChannelHooks {
        decode: Some(Arc::new(move |_bytes: &[u8]| {
            r.fetch_add(1, Ordering::SeqCst);
            Decoded::default()
        })),
        ..ChannelHooks::default()
    };
    osc.set_hooks("in", Some(hooks));
    reads
}

fn until(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    done()
}

#[test]
fn order_survives_every_hand_over() {
    const N: i32 = 3000;
    let osc = start();
    let (tx, to) = udp_in(&osc);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    osc.method("/n", move |m: &Message| {
        s.lock().unwrap().push(m.args[0].as_i32().unwrap());
    })
    .unwrap();
    let sender = std::thread::spawn(move || {
        // Spread over about half a second, so packets arrive during hand-overs.
        for i in 0..N {
            tx.send_to(&numbered(i), to).unwrap();
            std::thread::sleep(Duration::from_micros(100));
        }
    });
    // Alternate: waiting passes (this thread reads), zero-wait calls (the I/O thread
    // reads), and absences longer than the I/O thread's standby look.
    let end = Instant::now() + Duration::from_secs(10);
    let mut round = 0u32;
    while seen.lock().unwrap().len() < N as usize && Instant::now() < end {
        match round % 3 {
            0 => {
                for _ in 0..3 {
                    osc.process_timeout(Duration::from_millis(1)).unwrap();
                }
            }
            1 => {
                for _ in 0..3 {
                    osc.process().unwrap();
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            _ => std::thread::sleep(Duration::from_millis(7)),
        }
        round += 1;
    }
    sender.join().unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), N as usize, "every packet dispatched once");
    assert!(
        seen.windows(2).all(|w| w[0] + 1 == w[1]),
        "in the order sent"
    );
    osc.terminate().unwrap();
}

#[test]
fn the_io_thread_reads_while_the_application_is_away() {
    let osc = start();
    let (tx, to) = udp_in(&osc);
    let reads = count_reads(&osc);
    let got = Arc::new(AtomicUsize::new(0));
    let g = Arc::clone(&got);
    osc.method("/n", move |_m: &Message| {
        g.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    // This thread reads first (a waiting pass), then goes away.
    tx.send_to(&numbered(0), to).unwrap();
    assert!(until(Duration::from_secs(5), || {
        osc.process_timeout(Duration::from_millis(5)).unwrap();
        got.load(Ordering::SeqCst) == 1
    }));
    for i in 1..=10 {
        tx.send_to(&numbered(i), to).unwrap();
    }
    // Read (and decoded) by the I/O thread, but dispatched only in `process()`.
    assert!(until(Duration::from_secs(5), || reads
        .load(Ordering::SeqCst)
        == 11));
    assert_eq!(got.load(Ordering::SeqCst), 1);
    assert_eq!(osc.process().unwrap(), 10);
    assert_eq!(got.load(Ordering::SeqCst), 11);
    osc.terminate().unwrap();
}

#[test]
fn what_the_io_thread_hands_over_is_bounded() {
    let config = osc4rs::Config {
        mode: Mode::CommThreads,
        incoming_queue: 4,
        ..osc4rs::Config::default()
    };
    let osc = Osc::builder().config(config).start().unwrap();
    let (tx, to) = udp_in(&osc);
    let got = Arc::new(AtomicUsize::new(0));
    let g = Arc::clone(&got);
    osc.method("/n", move |_m: &Message| {
        g.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    // The application away: the I/O thread reads and hands over at most 4 packets.
    for i in 0..10 {
        tx.send_to(&numbered(i), to).unwrap();
    }
    assert!(until(Duration::from_secs(5), || osc
        .stats()
        .incoming_dropped
        == 6));
    assert_eq!(osc.process().unwrap(), 4);
    assert_eq!(got.load(Ordering::SeqCst), 4);
    osc.terminate().unwrap();
}

#[test]
fn handlers_can_use_calls_that_need_the_reactor() {
    let osc = Arc::new(start());
    let (tx, to) = udp_in(&osc);
    let answers = Arc::new(Mutex::new(Vec::new()));
    let (o, a) = (Arc::downgrade(&osc), Arc::clone(&answers));
    osc.method("/n", move |m: &Message| {
        let Some(osc) = o.upgrade() else { return };
        let started = Instant::now();
        let name = format!("extra{}", m.args[0].as_i32().unwrap());
        osc.udp_server(&name, "127.0.0.1:0").unwrap();
        let port = osc.local_addr(&name).map(|a| a.port());
        osc.close(&name).unwrap();
        a.lock().unwrap().push((port, started.elapsed()));
    })
    .unwrap();
    for i in 0..3 {
        tx.send_to(&numbered(i), to).unwrap();
        assert!(until(Duration::from_secs(10), || {
            osc.process_timeout(Duration::from_millis(20)).unwrap();
            answers.lock().unwrap().len() == i as usize + 1
        }));
    }
    for (port, took) in answers.lock().unwrap().iter() {
        assert!(port.is_some_and(|p| p != 0), "the new channel has a port");
        // Answered by the I/O thread at once, not after a reply timeout.
        assert!(*took < Duration::from_secs(1), "took {took:?}");
    }
    osc.terminate().unwrap();
}

#[test]
fn a_send_queued_by_a_handler_goes_out_without_another_process_call() {
    let peer = TcpListener::bind("127.0.0.1:0").unwrap();
    let osc = Arc::new(start());
    osc.tcp_client("out", peer.local_addr().unwrap()).unwrap();
    let (mut conn, _) = peer.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (tx, to) = udp_in(&osc);
    let handled = Arc::new(AtomicUsize::new(0));
    let (o, h) = (Arc::downgrade(&osc), Arc::clone(&handled));
    osc.method("/n", move |_m: &Message| {
        if let Some(osc) = o.upgrade() {
            osc.send(Message::new("/pong"), "out").unwrap();
        }
        h.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    tx.send_to(&numbered(7), to).unwrap();
    assert!(until(Duration::from_secs(5), || {
        osc.process_timeout(Duration::from_millis(20)).unwrap();
        handled.load(Ordering::SeqCst) == 1
    }));
    // No more `process()` calls: the reply must still be written.
    let want = Message::new("/pong").to_bytes().unwrap();
    let mut got = vec![0u8; 4 + want.len()];
    conn.read_exact(&mut got).unwrap();
    assert_eq!(&got[4..], &want[..]);
    osc.terminate().unwrap();
}

#[test]
fn terminate_from_another_thread_ends_a_long_wait() {
    let osc = Arc::new(start());
    let _ = udp_in(&osc);
    let o = Arc::clone(&osc);
    let waiter = std::thread::spawn(move || {
        let started = Instant::now();
        // Holds the reactor for up to 30 s unless something ends the pass.
        let _ = o.process_timeout(Duration::from_secs(30));
        started.elapsed()
    });
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    osc.terminate().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "terminate returned"
    );
    assert!(
        waiter.join().unwrap() < Duration::from_secs(5),
        "the wait ended"
    );
    assert!(osc.process().is_err(), "terminated");
}
