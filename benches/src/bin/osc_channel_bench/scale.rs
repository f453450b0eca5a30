//! How the reactor's cost grows with the work (issue #22's scale curves): CPU per
//! received message with 1 to 1,000 TCP connections and 1 to 10,000 UDP sources, and
//! the memory each idle connection or source holds.
//!
//! Both tables also measure the floor: a plain mio loop over the same sockets that
//! only reads (and, for TCP, cuts frames): `Floor` and `UdpFloor`. So the growth the
//! kernel and the cache cause with many sockets or sources is told apart from the
//! reactor's own.
//!
//! One thread: a turn writes 40-byte messages round-robin over the connections (32
//! per connection) or sources (500 datagrams), then the reactor drains them; only
//! the draining is timed, with the thread's CPU clock (so the senders' cost is not in
//! it, and no turn is large enough for a socket buffer to drop). Memory per
//! idle connection is the growth of the process's resident set while the
//! connections are accepted and sit idle, divided by their number (kernel socket
//! buffers are not in it: they are not the process's memory).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use osc_channel::{Reactor, StreamFraming, TcpServerConfig, UdpConfig};

use crate::measure::{median, message};

/// Resident set size of this process, in KiB (`/proc/self/status`).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// UDP datagrams per turn (each is its own read whatever the number of sources).
const BURST: u64 = 500;

/// TCP messages per connection per turn.
const PER_CONNECTION: u64 = 32;

/// What drains the connections of a TCP round: the reactor, or the floor.
enum Receiver {
    Reactor(Box<Reactor>),
    Floor(Box<Floor>),
    UdpFloor(Box<UdpFloor>),
}

impl Receiver {
    /// A receiver listening on loopback, ready for `conns` connections.
    fn new(conns: usize, floor: bool) -> (Receiver, SocketAddr) {
        if floor {
            let f = Floor::new();
            let addr = f.addr;
            return (Receiver::Floor(Box::new(f)), addr);
        }
        let mut cfg = TcpServerConfig::new("127.0.0.1:0".parse().expect("address"));
        cfg.framing = StreamFraming::LengthPrefix;
        cfg.max_connections = conns + 16;
        cfg.max_connections_per_source = conns + 16;
        let mut r = Reactor::new().expect("reactor");
        let id = r.open_tcp_server("in", cfg).expect("listen");
        let addr = r.local_addr(id).expect("addr");
        (Receiver::Reactor(Box::new(r)), addr)
    }

    /// One pass (at most 5 ms of waiting): each packet adds one to `received`.
    fn pass(&mut self, received: &AtomicU64) {
        match self {
            Receiver::Reactor(r) => {
                r.poll(Some(Duration::from_millis(5)), |_| {
                    received.fetch_add(1, Ordering::Relaxed);
                })
                .expect("poll");
            }
            Receiver::Floor(f) => f.pass(received),
            Receiver::UdpFloor(f) => f.pass(received),
        }
    }
}

/// The floor: a plain edge-triggered mio loop over the same sockets that reads, cuts
/// the length-prefixed frames and counts them, which is all the reactor does for this
/// bench's sink, with nothing else (no limits, timeouts, counters, events, memory
/// budget or per-event bound; connections in a `Vec` indexed by token). What it
/// costs per message as connections grow is the kernel's and the cache's share.
struct Floor {
    poll: mio::Poll,
    events: mio::Events,
    listener: mio::net::TcpListener,
    addr: SocketAddr,
    /// Each connection and the start of a frame its last read cut.
    conns: Vec<(mio::net::TcpStream, Vec<u8>)>,
    buf: Vec<u8>,
}

/// The floor's listener token (connections are their index in `Floor::conns`).
const LISTENER: mio::Token = mio::Token(usize::MAX);

impl Floor {
    fn new() -> Floor {
        let poll = mio::Poll::new().expect("poll");
        let mut listener =
            mio::net::TcpListener::bind("127.0.0.1:0".parse().expect("address")).expect("listen");
        poll.registry()
            .register(&mut listener, LISTENER, mio::Interest::READABLE)
            .expect("register");
        let addr = listener.local_addr().expect("addr");
        Floor {
            poll,
            // The reactor's default capacity.
            events: mio::Events::with_capacity(256),
            listener,
            addr,
            conns: Vec::new(),
            buf: vec![0; 1 << 16],
        }
    }

    fn pass(&mut self, received: &AtomicU64) {
        if let Err(e) = self
            .poll
            .poll(&mut self.events, Some(Duration::from_millis(5)))
        {
            assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "poll: {e}");
        }
        let mut count = |_: &[u8]| {
            received.fetch_add(1, Ordering::Relaxed);
        };
        for ev in self.events.iter() {
            if ev.token() == LISTENER {
                while let Ok((mut s, _)) = self.listener.accept() {
                    let token = mio::Token(self.conns.len());
                    self.poll
                        .registry()
                        .register(&mut s, token, mio::Interest::READABLE)
                        .expect("register");
                    self.conns.push((s, Vec::new()));
                }
                continue;
            }
            let Some((stream, partial)) = self.conns.get_mut(ev.token().0) else {
                continue;
            };
            loop {
                let n = match stream.read(&mut self.buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let chunk = self.buf.get(..n).unwrap_or_default();
                if partial.is_empty() {
                    let used = frames(chunk, &mut count);
                    partial.extend_from_slice(chunk.get(used..).unwrap_or_default());
                } else {
                    partial.extend_from_slice(chunk);
                    let used = frames(partial, &mut count);
                    partial.drain(..used);
                }
                // A short read emptied the socket (the reactor stops there too).
                if n < self.buf.len() {
                    break;
                }
            }
        }
    }
}

/// Hands each whole length-prefixed frame of `data` to `on_packet`; the bytes used.
fn frames(mut data: &[u8], on_packet: &mut impl FnMut(&[u8])) -> usize {
    let start = data.len();
    while let Some((len, rest)) = data.split_first_chunk::<4>() {
        let Some((packet, rest)) = rest.split_at_checked(u32::from_be_bytes(*len) as usize) else {
            break;
        };
        on_packet(packet);
        data = rest;
    }
    start - data.len()
}

/// Polls until `received` reaches `want` (or 10 s pass without progress).
fn drain(r: &mut Receiver, received: &AtomicU64, want: u64) {
    let mut last = (received.load(Ordering::Relaxed), Instant::now());
    while received.load(Ordering::Relaxed) < want {
        r.pass(received);
        let now = received.load(Ordering::Relaxed);
        if now != last.0 {
            last = (now, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(10) {
            panic!("stalled at {now} of {want} messages");
        }
    }
}

/// One measurement of the reactor (or, if `floor`, of the plain loop): (CPU ns per
/// message, KiB per idle connection).
fn tcp_round(conns: usize, count: u64, floor: bool) -> (f64, f64) {
    let (mut r, addr) = Receiver::new(conns, floor);
    let rss0 = rss_kib();
    // Connect in steps the listen backlog holds; each sends one message so that its
    // acceptance is seen; then they sit idle.
    let received = AtomicU64::new(0);
    let hello = framed(&message(0));
    let mut streams: Vec<TcpStream> = Vec::with_capacity(conns);
    while streams.len() < conns {
        let step = (conns - streams.len()).min(64);
        for _ in 0..step {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(&hello).expect("hello");
            streams.push(s);
        }
        drain(&mut r, &received, streams.len() as u64);
    }
    let per_conn = (rss_kib().saturating_sub(rss0)) as f64 / conns as f64;
    received.store(0, Ordering::Relaxed);

    let frames: Vec<Vec<u8>> = (0..64).map(|i| framed(&message(i))).collect();
    // The same number of messages per connection per turn whatever their number, so
    // that the table shows what many connections cost, not fewer messages per read.
    let burst = PER_CONNECTION * conns as u64;
    let count = count.div_ceil(burst) * burst; // 0 stays 0: memory only
    let (mut cpu_ns, mut done, mut i) = (0u128, 0u64, 0usize);
    while done < count {
        for _ in 0..burst {
            let n = streams.len();
            let (Some(stream), Some(frame)) = (streams.get_mut(i % n), frames.get(i % 64)) else {
                unreachable!("indices modulo the lengths")
            };
            stream.write_all(frame).expect("write");
            i += 1;
        }
        done += burst;
        let cpu = ThreadTime::now();
        drain(&mut r, &received, done);
        cpu_ns += cpu.elapsed().as_nanos();
    }
    (cpu_ns as f64 / count.max(1) as f64, per_conn)
}

/// `packet` with OSC 1.0's length prefix.
fn framed(packet: &[u8]) -> Vec<u8> {
    let mut out = osc_codec::framing::length_prefix(packet.len())
        .expect("small")
        .to_vec();
    out.extend_from_slice(packet);
    out
}

/// The UDP floor: a plain edge-triggered mio loop over one socket that reads every
/// datagram with `recv_from` until the socket is empty and counts it, which is all the
/// reactor does for this bench's sink, with nothing else (no batching, limits,
/// counters, events or per-event bound).
struct UdpFloor {
    poll: mio::Poll,
    events: mio::Events,
    socket: mio::net::UdpSocket,
    buf: Vec<u8>,
}

impl UdpFloor {
    fn new() -> (UdpFloor, SocketAddr) {
        let poll = mio::Poll::new().expect("poll");
        let mut socket = mio::net::UdpSocket::from_std(floor_socket());
        poll.registry()
            .register(&mut socket, mio::Token(0), mio::Interest::READABLE)
            .expect("register");
        let addr = socket.local_addr().expect("addr");
        let floor = UdpFloor {
            poll,
            events: mio::Events::with_capacity(256),
            socket,
            buf: vec![0; 1 << 16],
        };
        (floor, addr)
    }

    fn pass(&mut self, received: &AtomicU64) {
        if let Err(e) = self
            .poll
            .poll(&mut self.events, Some(Duration::from_millis(5)))
        {
            assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "poll: {e}");
        }
        if self.events.is_empty() {
            return;
        }
        loop {
            match self.socket.recv_from(&mut self.buf) {
                Ok(_) => {
                    received.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
}

/// A non-blocking UDP socket on loopback with the reactor's receive buffer (the
/// default one holds only a few hundred small datagrams).
fn floor_socket() -> UdpSocket {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).expect("socket");
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&addr.into()).expect("bind");
    osc_sys::set_recv_buffer(
        socket2::SockRef::from(&socket),
        osc_channel::DEFAULT_RECV_BUFFER,
    )
    .expect("SO_RCVBUF");
    socket.set_nonblocking(true).expect("non-blocking");
    socket.into()
}

/// One measurement with `sources` UDP senders of the reactor (or, if `floor`, of the
/// plain loop): (CPU ns per message, KiB per source).
fn udp_round(sources: usize, count: u64, floor: bool) -> (f64, f64) {
    let (mut r, addr) = if floor {
        let (f, addr) = UdpFloor::new();
        (Receiver::UdpFloor(Box::new(f)), addr)
    } else {
        let mut r = Reactor::new().expect("reactor");
        let id = r
            .open_udp(
                "in",
                UdpConfig::server("127.0.0.1:0".parse().expect("addr")),
            )
            .expect("bind");
        let addr: SocketAddr = r.local_addr(id).expect("addr");
        (Receiver::Reactor(Box::new(r)), addr)
    };
    let socks: Vec<UdpSocket> = (0..sources)
        .map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let received = AtomicU64::new(0);
    let rss0 = rss_kib();
    let hello = message(0);
    for (n, s) in socks.iter().enumerate() {
        s.send_to(&hello, addr).expect("hello");
        if n % 500 == 499 {
            drain(&mut r, &received, n as u64 + 1);
        }
    }
    drain(&mut r, &received, sources as u64);
    let per_source = (rss_kib().saturating_sub(rss0)) as f64 / sources as f64;
    received.store(0, Ordering::Relaxed);

    let frames: Vec<Vec<u8>> = (0..64).map(message).collect();
    let mut cpu_ns = 0u128;
    let mut done = 0u64;
    let mut i = 0usize;
    while done < count {
        for _ in 0..BURST {
            let (Some(sock), Some(frame)) = (socks.get(i % sources), frames.get(i % 64)) else {
                unreachable!("indices modulo the lengths")
            };
            sock.send_to(frame, addr).expect("send");
            i += 1;
        }
        done += BURST;
        let cpu = ThreadTime::now();
        drain(&mut r, &received, done);
        cpu_ns += cpu.elapsed().as_nanos();
    }
    (cpu_ns as f64 / count.max(1) as f64, per_source)
}

/// `scale-mem tcp|udp N`: opens N idle connections (or sources) in this fresh process
/// and prints the resident set's growth per connection, in KiB (a process of its own
/// per measurement: memory freed by an earlier round would be reused unseen).
pub(crate) fn memory(kind: &str, n: usize) {
    let per = match kind {
        "tcp" => tcp_round(n, 0, false).1,
        _ => udp_round(n, 0, false).1,
    };
    println!("{per:.2}");
}

/// `scale-one reactor|floor CONNS COUNT`: one TCP round alone (to profile one side),
/// printing the CPU ns per message.
pub(crate) fn one(kind: &str, conns: usize, count: u64) {
    println!("{:.0}", tcp_round(conns.max(1), count, kind == "floor").0);
}

/// The median of three [`memory_of`].
fn memory_median(kind: &str, n: usize) -> f64 {
    median((0..3).map(|_| memory_of(kind, n)).collect())
}

/// The memory each connection (or source) adds from `from` to `to` of them, in KiB,
/// without the one-time costs that [`memory_of`] spreads over them (a page of
/// resident memory is 4 KiB: only a large difference in number measures a small
/// size).
fn added(kind: &str, from: usize, to: usize) -> f64 {
    let total = |n: usize| memory_median(kind, n) * n as f64;
    (total(to) - total(from)) / (to - from) as f64
}

/// [`memory`] in a child process.
fn memory_of(kind: &str, n: usize) -> f64 {
    let out = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["scale-mem", kind, &n.to_string()])
        .output()
        .expect("child");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(f64::NAN)
}

/// `scale [COUNT [ROUNDS [tcp|udp]]]`: both tables (or the one named), medians of
/// ROUNDS.
pub(crate) fn drive(count: u64, rounds: usize, only: &str) {
    let count = count.max(BURST) / BURST * BURST;
    if only != "udp" {
        tcp_table(count, rounds);
    }
    if only != "tcp" {
        udp_table(count, rounds);
    }
}

/// The TCP table: the reactor and the floor at 1 to 1,000 connections.
fn tcp_table(count: u64, rounds: usize) {
    println!(
        "TCP connections (length prefix), at least {count} messages of 40 bytes, {PER_CONNECTION} per connection per turn, medians of {rounds}:\n"
    );
    println!(
        "| connections | reactor CPU ns/message | vs 1 connection | floor CPU ns/message | floor vs 1 connection | reactor / floor | memory per idle connection |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut base = None;
    for conns in [1usize, 10, 100, 1000] {
        // Rounds alternate the reactor and the floor, so that both see the same noise.
        let (mut ours, mut floor) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(tcp_round(conns, count, false).0);
            floor.push(tcp_round(conns, count, true).0);
        }
        let (ns, floor_ns) = (median(ours), median(floor));
        let kib = memory_median("tcp", conns);
        let (b, fb) = *base.get_or_insert((ns, floor_ns));
        println!(
            "| {conns} | {ns:.0} | {:.2}x | {floor_ns:.0} | {:.2}x | {:.2}x | {kib:.2} KiB |",
            ns / b,
            floor_ns / fb,
            ns / floor_ns
        );
    }
    println!(
        "\nEach idle connection added from 1,000 to 4,000: {:.2} KiB",
        added("tcp", 1000, 4000)
    );
}

/// The UDP table: the reactor and the floor at 1 to 10,000 sources.
fn udp_table(count: u64, rounds: usize) {
    println!("\nUDP sources, {count} datagrams of 40 bytes, medians of {rounds}:\n");
    println!(
        "| sources | reactor CPU ns/message | vs 1 source | floor CPU ns/message | floor vs 1 source | reactor / floor | memory per source |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut base = None;
    for sources in [1usize, 10, 100, 1000, 10_000] {
        // Rounds alternate the reactor and the floor, so that both see the same noise.
        let (mut ours, mut floor) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(udp_round(sources, count, false).0);
            floor.push(udp_round(sources, count, true).0);
        }
        let (ns, floor_ns) = (median(ours), median(floor));
        let kib = memory_median("udp", sources);
        let (b, fb) = *base.get_or_insert((ns, floor_ns));
        println!(
            "| {sources} | {ns:.0} | {:.2}x | {floor_ns:.0} | {:.2}x | {:.2}x | {kib:.2} KiB |",
            ns / b,
            floor_ns / fb,
            ns / floor_ns
        );
    }
    println!(
        "\nEach source added from 1,000 to 10,000: {:.2} KiB",
        added("udp", 1000, 10_000)
    );
}
