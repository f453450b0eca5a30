//! TCP channels on loopback: both framings, auto-detection, limits, refusals,
//! disconnections, back-pressure and reconnection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::{collect, local, pkt, recorder, settle};
use osc_channel::{
    Backoff, ChannelError, DropReason, Reactor, StreamFraming, TcpClientConfig, TcpServerConfig,
};
use osc_codec::framing::{length_prefix, slip_encode};

fn server(r: &mut Reactor, framing: StreamFraming) -> (osc_channel::ChannelId, SocketAddr) {
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.framing = framing;
    let id = r.open_tcp_server("srv", cfg).unwrap();
    (id, r.local_addr(id).unwrap())
}

fn length_framed(packets: &[&[u8]]) -> Vec<u8> {
    let mut w = Vec::new();
    for p in packets {
        w.extend_from_slice(&length_prefix(p.len()).unwrap());
        w.extend_from_slice(p);
    }
    w
}

fn slip_framed(packets: &[&[u8]], leading_end: bool) -> Vec<u8> {
    let mut w = Vec::new();
    for p in packets {
        let start = w.len();
        slip_encode(p, &mut w);
        if !leading_end {
            w.remove(start);
        }
    }
    w
}

#[test]
fn client_and_server_both_framings_both_directions() {
    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let mut r = Reactor::new().unwrap();
        let (srv, addr) = server(&mut r, framing);
        let mut cfg = TcpClientConfig::new(addr);
        cfg.framing = framing;
        let cli = r.open_tcp_client("cli", cfg).unwrap();
        // Sent before the connection completes: buffered, then written.
        for i in 0..5 {
            r.send(cli, pkt(&format!("/up/{i}")), None).unwrap();
        }
        let got = collect(&mut r, 5);
        assert_eq!(got.len(), 5, "{framing:?}");
        assert!(got[0].name.starts_with("srv/127.0.0.1:"));
        assert_eq!(got[4].data, pkt("/up/4").to_vec());
        // Reply on the connection channel, and through the server to one peer.
        let conn = r.id_of(&got[0].name).unwrap();
        r.send(conn, pkt("/down/a"), None).unwrap();
        r.send(srv, pkt("/down/b"), got[0].peer).unwrap();
        let back = collect(&mut r, 2);
        assert_eq!(
            back.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["cli", "cli"]
        );
        assert_eq!(back[1].data, pkt("/down/b").to_vec());
        assert_eq!(r.connections(srv), vec![conn]);
    }
}

#[test]
fn every_split_position_both_framings() {
    let a = pkt("/a/first");
    let b: Vec<u8> = vec![0xC0, 0xDB, 0, 0, 0xDB, 0xDC, 0xC0, 0];
    let c = pkt("/c");
    let packets: [&[u8]; 3] = [&a, &b, &c];
    let cases = [
        (StreamFraming::LengthPrefix, length_framed(&packets)),
        (StreamFraming::Slip, slip_framed(&packets, true)),
        (StreamFraming::Slip, slip_framed(&packets, false)),
        (StreamFraming::Auto, length_framed(&packets)),
        (StreamFraming::Auto, slip_framed(&packets, true)),
    ];
    for (framing, wire) in cases {
        let mut r = Reactor::new().unwrap();
        let (_, addr) = server(&mut r, framing);
        for cut in 0..=wire.len() {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            s.write_all(&wire[..cut]).unwrap();
            let mut got = settle(&mut r, Duration::from_millis(2));
            s.write_all(&wire[cut..]).unwrap();
            let more = 3usize.saturating_sub(got.len());
            got.extend(collect(&mut r, more));
            let data: Vec<Vec<u8>> = got.iter().map(|g| g.data.clone()).collect();
            assert_eq!(
                data,
                vec![a.to_vec(), b.clone(), c.to_vec()],
                "{framing:?} cut {cut}"
            );
        }
    }
}

#[test]
fn auto_detection_answers_in_the_peer_framing() {
    let mut r = Reactor::new().unwrap();
    let (_, addr) = server(&mut r, StreamFraming::Auto);
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&slip_framed(&[&pkt("/hello")], false)).unwrap();
    let got = collect(&mut r, 1);
    let conn = r.id_of(&got[0].name).unwrap();
    r.send(conn, pkt("/reply"), None).unwrap();
    settle(&mut r, Duration::from_millis(20));
    let mut buf = vec![0u8; 64];
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let n = s.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], &slip_framed(&[&pkt("/reply")], true)[..]);
}

#[test]
fn several_clients_at_once() {
    let mut r = Reactor::new().unwrap();
    let (srv, addr) = server(&mut r, StreamFraming::LengthPrefix);
    let clients: Vec<_> = (0..8)
        .map(|i| {
            r.open_tcp_client(&format!("c{i}"), TcpClientConfig::new(addr))
                .unwrap()
        })
        .collect();
    for (i, &c) in clients.iter().enumerate() {
        for j in 0..10 {
            r.send(c, pkt(&format!("/c/{i}/{j}")), None).unwrap();
        }
    }
    let got = collect(&mut r, 80);
    assert_eq!(got.len(), 80);
    assert_eq!(r.connections(srv).len(), 8);
    // A send to the server reaches every connection.
    r.send(srv, pkt("/all"), None).unwrap();
    let back = collect(&mut r, 8);
    assert_eq!(back.len(), 8);
}

#[test]
fn refused_by_the_connection_request_handler() {
    let mut r = Reactor::new().unwrap();
    let (events, log) = recorder(true);
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.events = Some(events);
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    settle(&mut r, Duration::from_millis(50));
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "closed by the server");
    assert!(r.connections(srv).is_empty());
    assert_eq!(
        r.stats(srv).unwrap().snapshot().drops(DropReason::Refused),
        1
    );
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("srv: connection request from"))
    );
}

#[test]
fn max_connections_limit() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.max_connections = 2;
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let mut _a = TcpStream::connect(addr).unwrap();
    let mut _b = TcpStream::connect(addr).unwrap();
    // Both are active (each sent a packet), so neither is evicted for a newcomer.
    for s in [&mut _a, &mut _b] {
        s.write_all(&length_framed(&[b"/a\0\0,\0\0\0"])).unwrap();
    }
    settle(&mut r, Duration::from_millis(30));
    let mut c = TcpStream::connect(addr).unwrap();
    settle(&mut r, Duration::from_millis(30));
    assert_eq!(r.connections(srv).len(), 2);
    assert_eq!(
        r.stats(srv)
            .unwrap()
            .snapshot()
            .drops(DropReason::TooManyConnections),
        1
    );
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(c.read(&mut [0u8; 4]).unwrap_or(0), 0);
    // When one leaves, a new one is accepted.
    drop(_a);
    settle(&mut r, Duration::from_millis(30));
    let _d = TcpStream::connect(addr).unwrap();
    settle(&mut r, Duration::from_millis(30));
    assert_eq!(r.connections(srv).len(), 2);
}

#[test]
fn oversized_packets_are_skipped_and_the_connection_goes_on() {
    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let mut r = Reactor::new().unwrap();
        let mut cfg = TcpServerConfig::new(local(0));
        cfg.framing = framing;
        cfg.limits.max_packet_size = 64;
        let srv = r.open_tcp_server("srv", cfg).unwrap();
        let addr = r.local_addr(srv).unwrap();
        let big = vec![b'x'; 200];
        let small = pkt("/ok");
        let wire = match framing {
            StreamFraming::Slip => slip_framed(&[&big, &small], true),
            _ => length_framed(&[&big, &small]),
        };
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&wire).unwrap();
        let got = collect(&mut r, 1);
        assert_eq!(got[0].data, small.to_vec(), "{framing:?}");
        let conn = r.id_of(&got[0].name).unwrap();
        assert_eq!(
            r.stats(conn)
                .unwrap()
                .snapshot()
                .drops(DropReason::Oversized),
            1
        );
        // And we refuse to send one.
        assert!(matches!(
            r.send(conn, std::sync::Arc::from(big), None),
            Err(ChannelError::PacketTooLarge { .. })
        ));
    }
}

#[test]
fn peer_disconnecting_mid_packet() {
    let mut r = Reactor::new().unwrap();
    let (events, log) = recorder(false);
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.events = Some(events);
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let whole = pkt("/whole");
    let mut wire = length_framed(&[&whole, &pkt("/cut/short")]);
    wire.truncate(wire.len() - 5);
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&wire).unwrap();
    drop(s);
    let got = collect(&mut r, 1);
    assert_eq!(got[0].data, whole.to_vec());
    settle(&mut r, Duration::from_millis(50));
    assert!(r.connections(srv).is_empty());
    let log = log.lock().unwrap().clone();
    assert!(
        log.iter()
            .any(|l| l.contains("dropped (truncated by disconnect)")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.contains("disconnected from")),
        "{log:?}"
    );
}

#[test]
fn negative_length_closes_the_connection_only() {
    let mut r = Reactor::new().unwrap();
    let (srv, addr) = server(&mut r, StreamFraming::LengthPrefix);
    let mut bad = TcpStream::connect(addr).unwrap();
    let mut good = TcpStream::connect(addr).unwrap();
    bad.write_all(&[0xff, 0xff, 0xff, 0xf0, 1, 2, 3, 4])
        .unwrap();
    good.write_all(&length_framed(&[&pkt("/fine")])).unwrap();
    let got = collect(&mut r, 1);
    assert_eq!(got[0].data, pkt("/fine").to_vec());
    settle(&mut r, Duration::from_millis(50));
    assert_eq!(r.connections(srv).len(), 1);
    bad.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(bad.read(&mut [0u8; 4]).unwrap_or(0), 0);
}

#[test]
fn a_slow_reader_gets_back_pressure() {
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.limits.max_write_buffer = 64 << 10;
    let srv = r.open_tcp_server("srv", cfg).unwrap();
    let addr = r.local_addr(srv).unwrap();
    let s = TcpStream::connect(addr).unwrap(); // never reads
    settle(&mut r, Duration::from_millis(30));
    let conn = r.connections(srv)[0];
    let chunk = std::sync::Arc::from(vec![0u8; 8 << 10]);
    let mut refused = 0;
    for _ in 0..2000 {
        match r.send(conn, std::sync::Arc::clone(&chunk), None) {
            Ok(()) => {}
            Err(ChannelError::QueueFull { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(refused > 0, "kernel buffers plus 64 KiB cannot hold 16 MB");
    assert!(r.pending_output() <= 64 << 10);
    assert_eq!(
        r.stats(conn)
            .unwrap()
            .snapshot()
            .drops(DropReason::QueueFull),
        refused
    );
    drop(s);
}

#[test]
fn client_reconnects_with_back_off() {
    let mut r = Reactor::new().unwrap();
    // A port nobody listens on yet.
    let port = std::net::TcpListener::bind(local(0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = TcpClientConfig::new(local(port));
    cfg.reconnect = Some(Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(80),
    });
    let cli = r.open_tcp_client("cli", cfg).unwrap();
    settle(&mut r, Duration::from_millis(100));
    let mut scfg = TcpServerConfig::new(local(port));
    scfg.framing = StreamFraming::Auto;
    let srv = r.open_tcp_server("srv", scfg).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while r.connections(srv).is_empty() && std::time::Instant::now() < deadline {
        settle(&mut r, Duration::from_millis(20));
    }
    assert_eq!(r.connections(srv).len(), 1, "the client came back");
    r.send(cli, pkt("/back"), None).unwrap();
    assert_eq!(collect(&mut r, 1)[0].data, pkt("/back").to_vec());
    // Server gone: the client notices and reconnects when it returns.
    r.close(srv).unwrap();
    settle(&mut r, Duration::from_millis(50));
    let srv = r
        .open_tcp_server("srv", TcpServerConfig::new(local(port)))
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while r.connections(srv).is_empty() && std::time::Instant::now() < deadline {
        settle(&mut r, Duration::from_millis(20));
    }
    assert_eq!(r.connections(srv).len(), 1);
}

#[test]
fn ipv6_tcp() {
    let mut r = Reactor::new().unwrap();
    let Ok(srv) = r.open_tcp_server("srv6", TcpServerConfig::new("[::1]:0".parse().unwrap()))
    else {
        eprintln!("skipping: no IPv6 loopback here");
        return;
    };
    let addr = r.local_addr(srv).unwrap();
    let cli = r
        .open_tcp_client("cli6", TcpClientConfig::new(addr))
        .unwrap();
    r.send(cli, pkt("/v6"), None).unwrap();
    let got = collect(&mut r, 1);
    assert!(got[0].peer.unwrap().is_ipv6());
}
