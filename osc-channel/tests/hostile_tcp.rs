//! A TCP server under hostile load on loopback: idle and partial connections cannot
//! lock newcomers out, one host cannot take every place, stalled frames time out,
//! buffered memory stays within the server's budget, and a flooding connection gets
//! the same turn as the others. Timing-heavy versions of these attacks (hundreds of
//! connections, latency of a fresh client) are in `scripts/floods.sh`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{collect, local, recorder, settle};
use osc_channel::{DropReason, Reactor, StreamFraming, StreamLimits, TcpServerConfig};

fn frame(p: &[u8]) -> Vec<u8> {
    let mut v = (p.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(p);
    v
}

const PING: &[u8] = b"/ping\0\0\0,\0\0\0";
const FRESH: &[u8] = b"/fresh\0\0,\0\0\0";

fn drops(r: &Reactor, id: osc_channel::ChannelId, why: DropReason) -> u64 {
    r.stats(id).unwrap().snapshot().drops(why)
}

#[test]
fn idle_partial_connections_cannot_lock_a_newcomer_out() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.max_connections = 20;
    cfg.max_connections_per_source = 100;
    let (events, log) = recorder(false);
    cfg.events = Some(events);
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    // The attacker fills every place with two bytes of a length prefix each.
    let mut attackers: Vec<TcpStream> =
        (0..20).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let attacker_addrs: Vec<_> = attackers.iter().map(|a| a.local_addr().unwrap()).collect();
    for a in &mut attackers {
        a.write_all(&[0, 0]).unwrap();
    }
    settle(&mut r, Duration::from_millis(50));
    assert_eq!(r.connections(srv).len(), 20);
    // A well-behaved client still gets in and is served.
    let mut good = TcpStream::connect(addr).unwrap();
    good.write_all(&frame(PING)).unwrap();
    let got = collect(&mut r, 1);
    assert_eq!(got.len(), 1, "the newcomer was not served");
    assert_eq!(got[0].data, PING);
    assert_eq!(r.connections(srv).len(), 20);
    assert_eq!(drops(&r, srv, DropReason::Evicted), 1);
    // The eviction reached the event handler too, naming one of the attackers.
    let log = log.lock().unwrap();
    let evicted: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("dropped (evicted)"))
        .collect();
    assert_eq!(evicted.len(), 1, "{log:?}");
    assert!(
        attacker_addrs
            .iter()
            .any(|a| evicted[0].ends_with(&format!("dropped (evicted) from {a}"))),
        "{evicted:?}"
    );
}

#[test]
fn one_host_cannot_take_every_place() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.max_connections_per_source = 3;
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let _held: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(addr).unwrap()).collect();
    settle(&mut r, Duration::from_millis(50));
    assert_eq!(r.connections(srv).len(), 3);
    assert_eq!(drops(&r, srv, DropReason::TooManyConnections), 2);
}

#[test]
fn a_stalled_frame_and_a_silent_connection_time_out() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.limits.frame_timeout = Some(Duration::from_millis(150));
    cfg.first_packet_timeout = Some(Duration::from_millis(700));
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let mut stalled = TcpStream::connect(addr).unwrap();
    stalled.write_all(&frame(PING)[..6]).unwrap();
    let _silent = TcpStream::connect(addr).unwrap();
    let mut good = TcpStream::connect(addr).unwrap();
    good.write_all(&frame(PING)).unwrap();
    settle(&mut r, Duration::from_millis(100));
    assert_eq!(r.connections(srv).len(), 3);
    settle(&mut r, Duration::from_millis(250));
    assert_eq!(
        r.connections(srv).len(),
        2,
        "the stalled frame is closed first"
    );
    assert_eq!(drops(&r, srv, DropReason::TimedOut), 1);
    settle(&mut r, Duration::from_millis(500));
    assert_eq!(r.connections(srv).len(), 1, "then the silent connection");
    assert_eq!(drops(&r, srv, DropReason::TimedOut), 2);
    good.write_all(&frame(PING)).unwrap();
    assert_eq!(collect(&mut r, 1).len(), 1);
}

#[test]
fn buffered_partial_packets_stay_within_the_memory_budget() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.memory_budget = 1 << 20;
    cfg.limits = StreamLimits {
        max_packet_size: 256 << 10,
        ..StreamLimits::default()
    };
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    // Ten connections each start a 256 KiB packet and send all of it but one byte:
    // 2.5 MiB in all if nothing held it back.
    let body = vec![b'/'; 256 << 10];
    let mut conns = Vec::new();
    for _ in 0..10 {
        let mut c = TcpStream::connect(addr).unwrap();
        let f = frame(&body);
        c.write_all(&f[..f.len() - 1]).unwrap();
        conns.push(c);
        settle(&mut r, Duration::from_millis(30));
    }
    settle(&mut r, Duration::from_millis(100));
    let closed = drops(&r, srv, DropReason::MemoryBudget);
    assert!(closed >= 5, "only {closed} closed for the budget");
    assert!(r.connections(srv).len() <= 5);
    // The server still serves a newcomer.
    let mut good = TcpStream::connect(addr).unwrap();
    good.write_all(&frame(PING)).unwrap();
    assert!(collect(&mut r, 1).iter().any(|g| g.data == PING));
}

#[test]
fn a_flooding_connection_gets_the_same_turn_as_the_others() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.framing = StreamFraming::LengthPrefix;
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let burst: Vec<u8> = (0..5000).flat_map(|_| frame(PING)).collect();
    let mut floods: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    settle(&mut r, Duration::from_millis(30));
    for f in &mut floods {
        f.write_all(&burst).unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
    // One pass gives each connection at most its packet budget (64 by default).
    let mut per_channel: HashMap<String, usize> = HashMap::new();
    r.poll(Some(Duration::from_millis(100)), |p| {
        *per_channel.entry(p.name.to_owned()).or_default() += 1;
    })
    .unwrap();
    assert!(!per_channel.is_empty());
    assert!(per_channel.values().all(|&n| n <= 64), "{per_channel:?}");
    assert!(r.has_more_to_read());
    // A fresh client arriving now is served within a few turns of the floods (its
    // accept, then its read), long before they run dry: counted in packets, not time.
    let before = per_channel.clone();
    let mut fresh = TcpStream::connect(addr).unwrap();
    fresh.write_all(&frame(FRESH)).unwrap();
    let mut served = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !served && Instant::now() < deadline {
        r.poll(Some(Duration::from_millis(20)), |p| {
            if p.data == FRESH {
                served = true;
            } else {
                *per_channel.entry(p.name.to_owned()).or_default() += 1;
            }
        })
        .unwrap();
    }
    assert!(served, "the fresh client was never served");
    let turns = 8 * 64;
    for (name, n) in &per_channel {
        let more = n - before.get(name).copied().unwrap_or(0);
        assert!(
            more <= turns,
            "{name} was served {more} packets (more than 8 turns) before the fresh client"
        );
    }
    // Everything arrives in the end.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut total: usize = per_channel.values().sum();
    while total < 10_000 && Instant::now() < deadline {
        total += r.poll(Some(Duration::from_millis(20)), |_| {}).unwrap();
    }
    assert_eq!(total, 10_000);
}

#[test]
fn auto_detection_closes_a_stream_that_is_neither_framing() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.framing = StreamFraming::Auto;
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(b"xxxxxxxx").unwrap();
    settle(&mut r, Duration::from_millis(100));
    assert!(r.connections(srv).is_empty());
}

#[test]
fn a_quick_reconnect_from_the_same_port_keeps_its_name() {
    use socket2::{Domain, SockAddr, Socket, Type};
    let mut r = Reactor::new().unwrap();
    let srv = r
        .open_tcp_server("srv", TcpServerConfig::new(local(0)))
        .unwrap();
    let addr = r.local_addr(srv).unwrap();
    let connect_from = |port: u16| {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        s.set_reuse_address(true).unwrap();
        s.bind(&SockAddr::from(local(port))).unwrap();
        s.connect(&SockAddr::from(addr)).unwrap();
        s
    };
    let first = connect_from(0);
    let port = first.local_addr().unwrap().as_socket().unwrap().port();
    settle(&mut r, Duration::from_millis(50));
    let name = format!("srv/127.0.0.1:{port}");
    assert!(r.id_of(&name).is_some());
    // Reset, and connect again from the same port before the reactor sees the reset.
    first.set_linger(Some(Duration::ZERO)).unwrap();
    drop(first);
    let mut second: TcpStream = connect_from(port).into();
    settle(&mut r, Duration::from_millis(100));
    let id = r.id_of(&name).expect("the new connection lost its name");
    assert_eq!(r.connections(srv), [id]);
    second.write_all(&frame(PING)).unwrap();
    let got = collect(&mut r, 1);
    assert_eq!(got[0].name, name);
}
