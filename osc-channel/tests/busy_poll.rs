//! Busy polling (`ReactorConfig::busy_poll`): while a pass spins it reads the datagram
//! sockets itself and asks `epoll` only now and then, so it must still deliver what
//! every other source brings: datagrams on every UDP and Unix socket, TCP data, and
//! sends queued by other threads. Loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Got, collect, local};
use osc_channel::{Reactor, ReactorConfig, TcpServerConfig, UdpConfig};

fn spinning() -> Reactor {
    Reactor::with_options(ReactorConfig {
        busy_poll: Duration::from_millis(50),
        ..ReactorConfig::default()
    })
    .unwrap()
}

fn names(got: &[Got]) -> Vec<&str> {
    got.iter().map(|g| g.name.as_str()).collect()
}

#[test]
fn a_spinning_pass_reads_every_datagram_socket_and_tcp() {
    let mut r = spinning();
    let a = r.open_udp("a", UdpConfig::server(local(0))).unwrap();
    let b = r.open_udp("b", UdpConfig::server(local(0))).unwrap();
    let (a, b) = (r.local_addr(a).unwrap(), r.local_addr(b).unwrap());
    let t = r
        .open_tcp_server("t", TcpServerConfig::new(local(0)))
        .unwrap();
    let t = r.local_addr(t).unwrap();
    // Each source in turn, sent while the reactor spins: a datagram to a, one to b,
    // a framed packet over TCP.
    let packet = common::pkt("/x");
    let sent = packet.clone();
    let sender = std::thread::spawn(move || {
        let tx = UdpSocket::bind(local(0)).unwrap();
        let mut tcp = TcpStream::connect(t).unwrap();
        for round in 0..30 {
            std::thread::sleep(Duration::from_millis(3));
            match round % 3 {
                0 => drop(tx.send_to(&sent, a).unwrap()),
                1 => drop(tx.send_to(&sent, b).unwrap()),
                _ => {
                    let len = u32::try_from(sent.len()).unwrap().to_be_bytes();
                    tcp.write_all(&len).unwrap();
                    tcp.write_all(&sent).unwrap();
                }
            }
        }
        tcp
    });
    let mut got = Vec::new();
    while got.len() < 30 {
        let more = collect(&mut r, 1);
        assert!(!more.is_empty(), "after {:?}: nothing more", names(&got));
        got.extend(more);
    }
    let _tcp = sender.join().unwrap();
    // Nothing lost, nothing twice, and no source left behind: at every point each
    // source has delivered about as many packets as the others (sent in turn 3 ms
    // apart, they come in turn, but a host too busy to run the reactor for a while
    // lets two sources queue, and a pass reads its sockets in its own order). A TCP
    // server's connections are channels of their own, named after it.
    assert_eq!(got.len(), 30);
    let mut counts = [0usize; 3];
    for (round, g) in got.iter().enumerate() {
        let source = ["a", "b", "t"].iter().position(|s| g.name.starts_with(s));
        let Some(source) = source else {
            panic!("round {round}: {:?}", names(&got));
        };
        counts[source] += 1;
        let (least, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(most - least <= 2, "round {round}: {:?}", names(&got));
        assert_eq!(g.data, packet.to_vec());
    }
    assert_eq!(counts, [10, 10, 10]);
}

#[test]
fn a_spinning_pass_sends_what_other_threads_queue() {
    let mut r = spinning();
    let rx = UdpSocket::bind(local(0)).unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    let out = r
        .open_udp("out", UdpConfig::client(rx.local_addr().unwrap()))
        .unwrap();
    // Something to read keeps the spin on the direct-read path.
    r.open_udp("in", UdpConfig::server(local(0))).unwrap();
    let handle = r.handle();
    let sender = std::thread::spawn(move || {
        for i in 0..10u8 {
            std::thread::sleep(Duration::from_millis(5));
            handle.send(out, Arc::from(vec![i; 8]), None).unwrap();
        }
    });
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while seen.len() < 10 && Instant::now() < deadline {
        r.poll(Some(Duration::from_millis(1)), |_| {}).unwrap();
        if let Ok(n) = rx.recv(&mut buf) {
            seen.push(buf[..n].to_vec());
        }
    }
    sender.join().unwrap();
    let want: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 8]).collect();
    assert_eq!(seen, want);
}

#[test]
fn the_sockets_read_while_spinning_follow_channels_opened_and_closed() {
    let mut r = spinning();
    let gone = r.open_udp("gone", UdpConfig::server(local(0))).unwrap();
    r.close(gone).unwrap();
    let b = r.open_udp("b", UdpConfig::server(local(0))).unwrap();
    let b = r.local_addr(b).unwrap();
    let packet = common::pkt("/x");
    let sent = packet.clone();
    let sender = std::thread::spawn(move || {
        let tx = UdpSocket::bind(local(0)).unwrap();
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(3));
            tx.send_to(&sent, b).unwrap();
        }
    });
    let got = common::collect(&mut r, 10);
    sender.join().unwrap();
    assert_eq!(names(&got), ["b"; 10]);
}

#[test]
fn a_wake_up_ends_a_spin_over_datagram_sockets_alone() {
    // Only datagram sockets and the waker: the spin watches the waker's flag instead
    // of asking epoll, and must still stop at once for another thread's send.
    let mut r = Reactor::with_options(ReactorConfig {
        busy_poll: Duration::from_secs(3),
        ..ReactorConfig::default()
    })
    .unwrap();
    let rx = UdpSocket::bind(local(0)).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let out = r
        .open_udp("out", UdpConfig::client(rx.local_addr().unwrap()))
        .unwrap();
    let inbound = r.open_udp("in", UdpConfig::server(local(0))).unwrap();
    let to_in = r.local_addr(inbound).unwrap();
    let handle = r.handle();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle
            .send(out, Arc::from(&b"/sent\0\0\0,\0\0\0"[..]), None)
            .unwrap();
    });
    let started = Instant::now();
    r.poll(Some(Duration::from_secs(5)), |_| {}).unwrap();
    sender.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the wake-up ended the 3 s spin: {:?}",
        started.elapsed()
    );
    let mut buf = [0u8; 64];
    assert_eq!(rx.recv(&mut buf).unwrap(), 12);
    // Datagrams still arrive one per read while spinning.
    let peer = UdpSocket::bind(local(0)).unwrap();
    for _ in 0..3 {
        peer.send_to(b"/in\0,\0\0\0", to_in).unwrap();
    }
    let mut got = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while got < 3 && Instant::now() < deadline {
        got += r.poll(Some(Duration::from_secs(1)), |_| {}).unwrap();
    }
    assert_eq!(got, 3);
}

#[test]
fn a_spinning_pass_leaves_a_send_only_socket_alone() {
    // A client that does not read is out of the poll, so a reactor that waits in
    // epoll never reads it: the spin must not either (nor spend a `recvfrom` on it
    // each turn).
    let mut r = spinning();
    let rx = UdpSocket::bind(local(0)).unwrap();
    let out = r
        .open_udp("out", UdpConfig::client(rx.local_addr().unwrap()))
        .unwrap();
    let inbound = r.open_udp("in", UdpConfig::server(local(0))).unwrap();
    let to_in = r.local_addr(inbound).unwrap();
    // The client's first send gives its socket a port a stray datagram can reach.
    r.send(out, Arc::from(&b"/hello\0\0,\0\0\0"[..]), None)
        .unwrap();
    let mut buf = [0u8; 64];
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (_, from) = rx.recv_from(&mut buf).unwrap();
    rx.send_to(b"/stray\0\0,\0\0\0", from).unwrap();
    let peer = UdpSocket::bind(local(0)).unwrap();
    peer.send_to(b"/in\0,\0\0\0", to_in).unwrap();
    let got = common::settle(&mut r, Duration::from_millis(300));
    assert_eq!(names(&got), ["in"]);
}
