//! The batched UDP paths (`recvmmsg` / `sendmmsg` on Linux, plain calls elsewhere) on
//! loopback (127.0.0.1 and ::1 only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use common::{Got, collect, local};
use osc_channel::{Reactor, ReactorConfig, UdpConfig, send_batch};

/// A payload of `len` bytes whose content says which packet it is.
fn payload(tag: u8, seq: u32, len: usize) -> Vec<u8> {
    let mut v = vec![tag; len];
    let seq = seq.to_be_bytes();
    for (d, s) in v.iter_mut().zip(seq.iter()) {
        *d = *s;
    }
    v
}

/// A reactor that always reads a batch at a time (`adaptive_receive` off: these tests
/// are about the batch path).
fn reactor(batch: usize, per_event: usize) -> Reactor {
    Reactor::with_options(ReactorConfig {
        batch_receive: batch,
        max_datagrams_per_event: per_event,
        adaptive_receive: false,
        ..ReactorConfig::default()
    })
    .unwrap()
}

/// Sends from two sockets to a reactor server and checks every datagram arrives whole,
/// with the right peer, in each sender's order.
fn two_senders(bind: SocketAddr, batch: usize, per_event: usize) {
    two_senders_on(reactor(batch, per_event), bind, batch);
}

fn two_senders_on(mut r: Reactor, bind: SocketAddr, batch: usize) {
    let server = r.open_udp("in", UdpConfig::server(bind)).unwrap();
    let dest = r.local_addr(server).unwrap();
    let a = UdpSocket::bind(SocketAddr::new(bind.ip(), 0)).unwrap();
    let b = UdpSocket::bind(SocketAddr::new(bind.ip(), 0)).unwrap();
    let sizes = [8usize, 40, 1, 0, 1500, 9000, 60_000, 65_000, 40, 12];
    let mut sent: HashMap<SocketAddr, Vec<Vec<u8>>> = HashMap::new();
    let mut seq = 0;
    for round in 0..20 {
        for (tag, sock) in [(b'a', &a), (b'b', &b)] {
            let len = sizes[(round + seq as usize) % sizes.len()];
            let p = payload(tag, seq, len);
            sock.send_to(&p, dest).unwrap();
            sent.entry(sock.local_addr().unwrap()).or_default().push(p);
            seq += 1;
        }
    }
    let total: usize = sent.values().map(Vec::len).sum();
    let got: Vec<Got> = collect(&mut r, total);
    assert_eq!(got.len(), total, "every datagram arrives (batch {batch})");
    let mut by_peer: HashMap<SocketAddr, Vec<Vec<u8>>> = HashMap::new();
    for g in got {
        assert_eq!(g.name, "in");
        by_peer
            .entry(g.peer.expect("a peer"))
            .or_default()
            .push(g.data);
    }
    assert_eq!(by_peer, sent, "same datagrams, sizes, peers and order");
    assert!(sent.values().flatten().any(|p| p.len() == 60_000));
    let s = r.stats(server).unwrap().snapshot();
    assert_eq!(s.packets_in as usize, total);
    assert_eq!(s.total_drops(), 0);
}

#[test]
fn batched_receive_delivers_everything_v4() {
    two_senders(local(0), 32, 64);
}

#[test]
fn batched_receive_respects_the_per_event_cap() {
    // A cap under the batch size and one that is not a multiple of it: the rest is
    // carried over to the next pass, nothing is lost or reordered.
    two_senders(local(0), 32, 5);
    two_senders(local(0), 4, 7);
}

/// The default reactor switches between batches and single reads by their cost: in
/// every mix of the two, nothing is lost, cut or reordered. Many rounds, so that the
/// other way is probed several times.
#[test]
fn adaptive_receive_delivers_everything_whichever_way_it_reads() {
    for _ in 0..8 {
        let r = Reactor::with_options(ReactorConfig {
            batch_receive: 8,
            max_datagrams_per_event: 5,
            ..ReactorConfig::default()
        })
        .unwrap();
        assert!(ReactorConfig::default().adaptive_receive);
        two_senders_on(r, local(0), 8);
    }
}

#[test]
fn plain_receive_still_works() {
    two_senders(local(0), 0, 64);
    two_senders(local(0), 1, 3);
}

#[test]
fn batched_receive_delivers_everything_v6() {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipping: no IPv6 loopback here");
        return;
    }
    two_senders("[::1]:0".parse().unwrap(), 32, 64);
}

#[test]
fn send_batch_reaches_several_destinations() {
    let tx = UdpSocket::bind(local(0)).unwrap();
    let rx1 = UdpSocket::bind(local(0)).unwrap();
    let rx2 = UdpSocket::bind(local(0)).unwrap();
    for rx in [&rx1, &rx2] {
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    }
    let d1 = rx1.local_addr().unwrap();
    let d2 = rx2.local_addr().unwrap();
    let payloads: Vec<Vec<u8>> = (0..150u32).map(|i| payload(b'x', i, 40)).collect();
    let packets: Vec<(&[u8], SocketAddr)> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| (&p[..], if i % 3 == 0 { d2 } else { d1 }))
        .collect();
    let n = send_batch(&tx, &packets).unwrap();
    assert_eq!(n, 150, "more than one sendmmsg call's worth");
    let mut buf = [0u8; 128];
    for (i, p) in payloads.iter().enumerate() {
        let rx = if i % 3 == 0 { &rx2 } else { &rx1 };
        let (len, from) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..len], &p[..]);
        assert_eq!(from, tx.local_addr().unwrap());
    }
}

#[test]
fn send_batch_v6_and_empty() {
    let Ok(tx) = UdpSocket::bind("[::1]:0") else {
        eprintln!("skipping: no IPv6 loopback here");
        return;
    };
    assert_eq!(send_batch(&tx, &[]).unwrap(), 0);
    let rx = UdpSocket::bind("[::1]:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let big = payload(b'y', 7, 60_000);
    let n = send_batch(&tx, &[(&big[..], rx.local_addr().unwrap())]).unwrap();
    assert_eq!(n, 1);
    let mut buf = vec![0u8; 1 << 16];
    let (len, from) = rx.recv_from(&mut buf).unwrap();
    assert_eq!((len, from), (60_000, tx.local_addr().unwrap()));
    assert_eq!(&buf[..len], &big[..]);
}
