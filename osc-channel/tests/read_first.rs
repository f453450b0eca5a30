//! Reading first (`ReactorConfig::read_first`): a pass reads the datagram sockets that
//! delivered in the pass before, before it waits in `epoll`. It must lose nothing,
//! keep order, and never leave the other channels behind a socket that always has
//! data. Loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::local;
use osc_channel::{Reactor, ReactorConfig, TcpServerConfig, UdpConfig};

fn reactor(read_first: bool) -> Reactor {
    Reactor::with_options(ReactorConfig {
        read_first,
        ..ReactorConfig::default()
    })
    .unwrap()
}

/// Request and reply with an echoing peer: every reply arrives once and in order,
/// with reading first on and off.
#[test]
fn a_ping_pong_loses_and_reorders_nothing() {
    for read_first in [true, false] {
        let mut r = reactor(read_first);
        let echo = UdpSocket::bind(local(0)).unwrap();
        let echo_addr = echo.local_addr().unwrap();
        let id = r.open_udp("c", UdpConfig::server(local(0))).unwrap();
        let peer = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            for _ in 0..500 {
                let (n, from) = echo.recv_from(&mut buf).unwrap();
                echo.send_to(&buf[..n], from).unwrap();
            }
        });
        for i in 0..500u32 {
            r.send(id, Arc::from(i.to_be_bytes().to_vec()), Some(echo_addr))
                .unwrap();
            let mut got = None;
            let deadline = Instant::now() + Duration::from_secs(5);
            while got.is_none() && Instant::now() < deadline {
                r.poll(Some(Duration::from_millis(50)), |p| {
                    assert!(got.is_none(), "two replies in one round");
                    got = Some(p.data.to_vec());
                })
                .unwrap();
            }
            assert_eq!(
                got,
                Some(i.to_be_bytes().to_vec()),
                "round {i}, read_first {read_first}"
            );
        }
        peer.join().unwrap();
    }
}

/// A UDP socket that always has data keeps reading first busy; a TCP connection and
/// a send queued by another thread are still served promptly.
#[test]
fn a_busy_socket_does_not_starve_the_others() {
    let mut r = reactor(true);
    let udp = r.open_udp("u", UdpConfig::server(local(0))).unwrap();
    let udp = r.local_addr(udp).unwrap();
    let tcp = r
        .open_tcp_server("t", TcpServerConfig::new(local(0)))
        .unwrap();
    let tcp = r.local_addr(tcp).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let tx = UdpSocket::bind(local(0)).unwrap();
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..16 {
                    let _ = tx.send_to(b"/flood\0\0,\0\0\0", udp);
                }
                std::thread::yield_now();
            }
        })
    };
    // Reading first follows a send (it looks for the reply): the reactor sends a
    // datagram to a silent peer before each pass, so reading first stays on.
    let silent = UdpSocket::bind(local(0)).unwrap();
    let out = r
        .open_udp("o", UdpConfig::client(silent.local_addr().unwrap()))
        .unwrap();
    let poll = |r: &mut Reactor, f: &mut dyn FnMut(&[u8])| {
        r.send(out, Arc::from(&b"/x\0\0,\0\0\0"[..]), None).unwrap();
        r.poll(Some(Duration::from_millis(10)), |p| f(p.data))
            .unwrap();
    };
    let mut conn = TcpStream::connect(tcp).unwrap();
    let packet = b"/tcp\0\0\0\0,\0\0\0";
    let mut tcp_seen = 0;
    let mut udp_seen = 0u64;
    // The flood first, until reading first keeps finding data.
    let deadline = Instant::now() + Duration::from_secs(5);
    while udp_seen < 2_000 && Instant::now() < deadline {
        poll(&mut r, &mut |_| udp_seen += 1);
    }
    assert!(udp_seen >= 2_000, "the flood was not read");
    let started = Instant::now();
    for k in 0..10 {
        conn.write_all(&u32::try_from(packet.len()).unwrap().to_be_bytes())
            .unwrap();
        conn.write_all(packet).unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while tcp_seen <= k && Instant::now() < deadline {
            poll(&mut r, &mut |data| {
                if data == packet {
                    tcp_seen += 1;
                } else {
                    udp_seen += 1;
                }
            });
        }
        assert!(tcp_seen > k, "TCP packet {k} not served within 2 s");
    }
    stop.store(true, Ordering::Relaxed);
    flood.join().unwrap();
    assert_eq!(tcp_seen, 10);
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A one-way stream long enough for many policy windows (`machine::ReadFirstChooser`
/// tries both policies, switching between windows): every datagram arrives once and
/// in order, with a send from the reactor now and then so that both policies read
/// first at times.
#[test]
fn a_long_stream_across_policy_windows_loses_and_reorders_nothing() {
    use osc_channel::machine::{PROBE_WINDOWS, WINDOW_PASSES};
    let mut r = reactor(true);
    let id = r.open_udp("in", UdpConfig::server(local(0))).unwrap();
    let dest = r.local_addr(id).unwrap();
    let silent = UdpSocket::bind(local(0)).unwrap();
    let out = r
        .open_udp("o", UdpConfig::client(silent.local_addr().unwrap()))
        .unwrap();
    // Bursts of 4, each sent once the one before has arrived: at least one pass per
    // burst whatever the machine's load, and a receive buffer that never overflows.
    let total = 30_000u32;
    let received = Arc::new(AtomicU32::new(0));
    let sender = {
        let received = Arc::clone(&received);
        std::thread::spawn(move || {
            let tx = UdpSocket::bind(local(0)).unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            for burst in (0..total).step_by(4) {
                while received.load(Ordering::Acquire) < burst && Instant::now() < deadline {
                    std::thread::yield_now();
                }
                for seq in burst..(burst + 4).min(total) {
                    tx.send_to(&seq.to_be_bytes(), dest).unwrap();
                }
            }
        })
    };
    let mut next = 0u32;
    let mut passes = 0u32;
    let deadline = Instant::now() + Duration::from_secs(30);
    while next < total && Instant::now() < deadline {
        if passes % 16 == 0 {
            r.send(out, Arc::from(&b"/x\0\0,\0\0\0"[..]), None).unwrap();
        }
        r.poll(Some(Duration::from_millis(50)), |p| {
            if p.channel == id {
                assert_eq!(p.data, next.to_be_bytes(), "datagram {next}");
                next += 1;
            }
        })
        .unwrap();
        received.store(next, Ordering::Release);
        passes += 1;
    }
    sender.join().unwrap();
    assert_eq!(next, total);
    assert!(
        passes >= WINDOW_PASSES * (PROBE_WINDOWS + 2),
        "only {passes} passes: too few windows to switch"
    );
}
