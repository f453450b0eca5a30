//! Rules of the reactor that are easy to get wrong: deadlines that must not
//! overflow, limits reported as configured, and drops of queued sends that reach the
//! event handler.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{collect, pkt, recorder, settle};
use osc_channel::{
    Backoff, ChannelError, DropReason, Reactor, StreamLimits, TcpClientConfig, TcpServerConfig,
    UdpConfig,
};

#[test]
fn duration_max_flushes_and_backoffs_do_not_panic() {
    let mut r = Reactor::new().unwrap();
    // Nothing waits: an endless flush returns at once.
    assert!(r.flush(Duration::MAX, |_| {}).unwrap());
    // A client whose server is down, waiting "forever" between attempts.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dest = closed.local_addr().unwrap();
    drop(closed);
    let mut cfg = TcpClientConfig::new(dest);
    cfg.reconnect = Some(Backoff {
        initial: Duration::MAX,
        max: Duration::MAX,
    });
    r.open_tcp_client("c", cfg).unwrap();
    settle(&mut r, Duration::from_millis(100));
    // From another thread too: the handle's flush wait is the timeout plus a margin.
    let handle = r.handle();
    let t = std::thread::spawn(move || handle.flush(Duration::MAX));
    let started = Instant::now();
    while !t.is_finished() && started.elapsed() < Duration::from_secs(5) {
        r.poll(Some(Duration::from_millis(10)), |_| {}).unwrap();
    }
    assert!(t.join().unwrap().unwrap());
}

#[test]
fn a_stream_send_over_the_limit_reports_the_configured_limit() {
    let mut r = Reactor::new().unwrap();
    let mut scfg = TcpServerConfig::new("127.0.0.1:0".parse().unwrap());
    scfg.limits = StreamLimits {
        max_packet_size: 64,
        ..StreamLimits::default()
    };
    let server = r.open_tcp_server("srv", scfg).unwrap();
    let _peer = TcpStream::connect(r.local_addr(server).unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while r.connections(server).is_empty() && Instant::now() < deadline {
        r.poll(Some(Duration::from_millis(10)), |_| {}).unwrap();
    }
    let conn = r.connections(server)[0];
    let err = r.send(conn, vec![0u8; 100].into(), None).unwrap_err();
    assert!(
        matches!(
            err,
            ChannelError::PacketTooLarge {
                size: 100,
                limit: 64
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        r.stats(conn)
            .unwrap()
            .snapshot()
            .drops(DropReason::Oversized),
        1
    );
}

#[test]
fn a_queued_send_to_a_gone_connection_reaches_the_servers_event_handler() {
    let mut r = Reactor::new().unwrap();
    let (events, log) = recorder(false);
    let mut scfg = TcpServerConfig::new("127.0.0.1:0".parse().unwrap());
    scfg.events = Some(events);
    let server = r.open_tcp_server("srv", scfg).unwrap();
    let handle = r.handle();
    handle
        .send_named("srv/127.0.0.1:9", pkt("/gone"), None)
        .unwrap();
    settle(&mut r, Duration::from_millis(50));
    assert_eq!(
        r.stats(server)
            .unwrap()
            .snapshot()
            .drops(DropReason::NoRoute),
        1
    );
    let log = log.lock().unwrap();
    assert!(
        log.iter()
            .any(|l| l == "srv: dropped (no route) from 127.0.0.1:9"),
        "{log:?}"
    );
}

#[test]
fn a_queued_send_without_destination_reaches_the_event_handler() {
    let mut r = Reactor::new().unwrap();
    let (events, log) = recorder(false);
    let mut cfg = UdpConfig::server("127.0.0.1:0".parse().unwrap());
    cfg.events = Some(events);
    let id = r.open_udp("in", cfg).unwrap();
    r.handle().send(id, pkt("/x"), None).unwrap();
    settle(&mut r, Duration::from_millis(50));
    assert_eq!(
        r.stats(id).unwrap().snapshot().drops(DropReason::NoRoute),
        1
    );
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|l| l == "in: dropped (no route)")
    );
    // The channel still serves.
    let out = r
        .open_udp("out", UdpConfig::client(r.local_addr(id).unwrap()))
        .unwrap();
    r.send(out, pkt("/ok"), None).unwrap();
    assert_eq!(collect(&mut r, 1).len(), 1);
}
