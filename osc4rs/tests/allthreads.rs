//! Allthreads mode: the I/O thread that read a message runs its pool jobs itself (no
//! worker wake-up per message, see `src/relay.rs`), yet a slow handler never holds back
//! the messages read with it or after it: the other I/O thread takes over reading and
//! hands the waiting jobs to the workers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use osc4rs::{Message, Mode, Osc};

/// An allthreads runtime with a UDP server `in`, a `/slow` handler that blocks until
/// the test says so, and a `/fast` handler that reports its argument.
struct Rig {
    osc: Osc,
    tx: UdpSocket,
    to: std::net::SocketAddr,
    slow_started: Receiver<()>,
    release_slow: Sender<()>,
    fast: Receiver<i32>,
}

fn rig() -> Rig {
    let osc = Osc::builder().mode(Mode::AllThreads).start().unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    let to = osc.local_addr("in").unwrap();
    let (started_tx, slow_started) = crossbeam_channel::unbounded();
    let (release_slow, release_rx) = crossbeam_channel::unbounded::<()>();
    osc.method("/slow", move |_m: &Message| {
        started_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(Duration::from_secs(30));
    })
    .unwrap();
    let (fast_tx, fast) = crossbeam_channel::unbounded();
    osc.method("/fast", move |m: &Message| {
        fast_tx.send(m.args[0].as_i32().unwrap()).unwrap();
    })
    .unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    Rig {
        osc,
        tx,
        to,
        slow_started,
        release_slow,
        fast,
    }
}

impl Rig {
    fn send(&self, packet: impl Into<osc4rs::Packet>) {
        let bytes = packet.into().to_bytes().unwrap();
        self.tx.send_to(&bytes, self.to).unwrap();
    }

    fn fast_ones(&self, n: usize) -> Vec<i32> {
        let mut got: Vec<i32> = (0..n)
            .map(|_| self.fast.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        got.sort_unstable();
        got
    }
}

#[test]
fn messages_read_with_a_slow_one_are_handled_while_it_runs() {
    let r = rig();
    // One TCP write of six length-prefixed packets: one read, so one I/O thread
    // dispatches them all in one pass, the slow one first. (The messages of one bundle
    // would run one after another by design: bundles are never interleaved.)
    r.osc.tcp_server("tcp", "127.0.0.1:0").unwrap();
    let mut stream = TcpStream::connect(r.osc.local_addr("tcp").unwrap()).unwrap();
    let mut bytes = Vec::new();
    let slow = std::iter::once(Message::new("/slow"));
    for m in slow.chain((0..5).map(|i| Message::new("/fast").arg(i))) {
        let packet = m.to_bytes().unwrap();
        bytes.extend_from_slice(&u32::try_from(packet.len()).unwrap().to_be_bytes());
        bytes.extend_from_slice(&packet);
    }
    stream.write_all(&bytes).unwrap();
    r.slow_started.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(r.fast_ones(5), [0, 1, 2, 3, 4]);
    r.release_slow.send(()).unwrap();
    r.osc.terminate().unwrap();
}

#[test]
fn messages_that_arrive_while_a_handler_is_slow_are_handled() {
    let r = rig();
    r.send(Message::new("/slow"));
    r.slow_started.recv_timeout(Duration::from_secs(5)).unwrap();
    for i in 0..20 {
        r.send(Message::new("/fast").arg(i));
    }
    assert_eq!(r.fast_ones(20), (0..20).collect::<Vec<_>>());
    r.release_slow.send(()).unwrap();
    r.osc.terminate().unwrap();
}

#[test]
fn two_slow_handlers_run_at_the_same_time() {
    let r = rig();
    r.send(Message::new("/slow"));
    r.send(Message::new("/slow"));
    // Both start although neither has finished.
    for _ in 0..2 {
        r.slow_started.recv_timeout(Duration::from_secs(5)).unwrap();
    }
    r.release_slow.send(()).unwrap();
    r.release_slow.send(()).unwrap();
    r.osc.terminate().unwrap();
}

#[test]
fn reading_goes_on_while_two_slow_handlers_run() {
    let r = rig();
    // The first runs in the I/O thread that read it; the second is read by the other
    // I/O thread, which must hand it to a worker rather than run it itself, or no
    // thread would be left to read.
    for _ in 0..2 {
        r.send(Message::new("/slow"));
        r.slow_started.recv_timeout(Duration::from_secs(5)).unwrap();
    }
    for i in 0..10 {
        r.send(Message::new("/fast").arg(i));
    }
    assert_eq!(r.fast_ones(10), (0..10).collect::<Vec<_>>());
    r.release_slow.send(()).unwrap();
    r.release_slow.send(()).unwrap();
    r.osc.terminate().unwrap();
}

#[test]
fn many_messages_from_several_senders_are_all_handled() {
    let r = rig();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..3)
        .map(|s| {
            let to = r.to;
            std::thread::spawn(move || {
                let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
                for i in 0..500 {
                    let m = Message::new("/fast").arg(s * 1000 + i);
                    tx.send_to(&m.to_bytes().unwrap(), to).unwrap();
                    if i % 20 == 0 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
            })
        })
        .collect();
    for t in senders {
        t.join().unwrap();
    }
    let end = Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().len() < 1500 && Instant::now() < end {
        if let Ok(v) = r.fast.recv_timeout(Duration::from_millis(100)) {
            seen.lock().unwrap().push(v);
        }
    }
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    let want: Vec<i32> = (0..3)
        .flat_map(|s| (0..500).map(move |i| s * 1000 + i))
        .collect();
    assert_eq!(seen, want);
    r.osc.terminate().unwrap();
}

#[test]
fn terminate_does_not_wait_for_a_stuck_handler() {
    let r = rig();
    r.send(Message::new("/slow"));
    r.slow_started.recv_timeout(Duration::from_secs(5)).unwrap();
    let started = Instant::now();
    r.osc.terminate().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    r.release_slow.send(()).unwrap();
}
