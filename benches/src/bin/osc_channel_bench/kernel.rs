//! What the kernel charges for two socket choices the reactor makes, each measured
//! against the other way in the same run, rounds alternated (`osc_channel_bench
//! kernel`; see docs/performance.md, "What the kernel charged a hop"):
//!
//! - sending to a fixed destination from a connected socket (`send`) or an
//!   unconnected one (`send_to`, a route lookup per datagram);
//! - a ping-pong of two blocking sockets (two threads; run it under `taskset -c 0`
//!   to put both on one CPU) whose sockets are, or are not, in an epoll set that
//!   nobody waits on: a socket in a set pays the set's wake-up for every datagram.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Interest, Poll, Token};

/// Datagrams sent per send measurement, and round trips per ping-pong measurement.
const SENDS: usize = 300_000;
const ROUND_TRIPS: usize = 50_000;

/// `kernel [ROUNDS]`: prints both tables.
pub(crate) fn drive(rounds: usize) {
    let (mut unconnected, mut connected) = (Vec::new(), Vec::new());
    let (mut outside, mut inside) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        unconnected.push(send_cost(false));
        connected.push(send_cost(true));
        outside.push(round_trip(false));
        inside.push(round_trip(true));
    }
    println!(
        "Loopback send of a 16-byte datagram to one destination, drained every 64 sends \
         ({SENDS} sends, {rounds} rounds alternated; median):\n"
    );
    table(
        "socket | ns per send (and its share of the drain)",
        [
            ("unconnected, `send_to`", &mut unconnected),
            ("connected, `send`", &mut connected),
        ],
    );
    println!(
        "\nPing-pong of two blocking UDP sockets in two threads ({ROUND_TRIPS} round trips, \
         {rounds} rounds alternated; median):\n"
    );
    table(
        "sockets | ns per round trip",
        [
            ("in no epoll set", &mut outside),
            ("each in an epoll set", &mut inside),
        ],
    );
}

/// A Markdown table of the rows' medians and their ratio to the first row's.
fn table(head: &str, rows: [(&str, &mut Vec<f64>); 2]) {
    println!("| {head} | ratio |");
    println!("|---|---:|---:|");
    let mut base = None;
    for (name, runs) in rows {
        let m = median(runs);
        let b = *base.get_or_insert(m);
        println!("| {name} | {m:.0} | {:.2}x |", m / b);
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn loopback() -> UdpSocket {
    UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind")
}

/// Nanoseconds per send (with a share of the receiver's drain, the same for both).
fn send_cost(connected: bool) -> f64 {
    let rx = loopback();
    rx.set_nonblocking(true).expect("nonblocking");
    let to = rx.local_addr().expect("addr");
    let tx = loopback();
    if connected {
        tx.connect(to).expect("connect");
    }
    let msg = [0u8; 16];
    let mut buf = [0u8; 64];
    let started = Instant::now();
    for i in 0..SENDS {
        if connected {
            tx.send(&msg).expect("send");
        } else {
            tx.send_to(&msg, to).expect("send_to");
        }
        if i % 64 == 63 {
            while rx.recv(&mut buf).is_ok() {}
        }
    }
    started.elapsed().as_nanos() as f64 / SENDS as f64
}

/// Nanoseconds per round trip between two blocking sockets, each registered in an
/// epoll set of its own (edge-triggered, readable) when `in_set`.
fn round_trip(in_set: bool) -> f64 {
    let (a, b) = (loopback(), loopback());
    let (a_addr, b_addr) = (a.local_addr().expect("addr"), b.local_addr().expect("addr"));
    // Kept alive for the whole measurement; nobody waits on them.
    let sets: Vec<Poll> = if in_set {
        [&a, &b]
            .into_iter()
            .map(|s| {
                let poll = Poll::new().expect("poll");
                let fd = s.as_raw_fd();
                poll.registry()
                    .register(&mut SourceFd(&fd), Token(0), Interest::READABLE)
                    .expect("register");
                poll
            })
            .collect()
    } else {
        Vec::new()
    };
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        for _ in 0..ROUND_TRIPS {
            let (n, _) = b.recv_from(&mut buf).expect("recv");
            b.send_to(buf.get(..n).unwrap_or_default(), a_addr)
                .expect("send");
        }
    });
    let msg = [0u8; 16];
    let mut buf = [0u8; 64];
    let started = Instant::now();
    for _ in 0..ROUND_TRIPS {
        a.send_to(&msg, b_addr).expect("send");
        a.recv_from(&mut buf).expect("recv");
    }
    let took = started.elapsed();
    echo.join().expect("echo thread");
    drop(sets);
    took.as_nanos() as f64 / ROUND_TRIPS as f64
}
