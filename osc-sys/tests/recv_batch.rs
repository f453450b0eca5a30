//! A `RecvBatch` reused call after call: each call reports exactly what its own
//! datagrams were (data, sender, cut or not), whatever the calls before it filled.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use osc_sys::RecvBatch;

type Got = Vec<(Vec<u8>, Option<SocketAddr>, bool)>;

/// Receives exactly `want` datagrams, waiting up to 5 s for them.
fn take(batch: &mut RecvBatch, socket: &UdpSocket, max: usize, want: usize) -> Got {
    let mut got = Got::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < want {
        assert!(std::time::Instant::now() < deadline, "{got:?}");
        let n = match batch.recv(socket.as_raw_fd(), max) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        got.extend(
            (0..n)
                .filter_map(|i| batch.get(i))
                .map(|d| (d.data.to_vec(), d.peer, d.truncated)),
        );
    }
    got
}

fn sockets(local: &str) -> (UdpSocket, UdpSocket, UdpSocket) {
    let rx = UdpSocket::bind(local).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    (
        rx,
        UdpSocket::bind(local).unwrap(),
        UdpSocket::bind(local).unwrap(),
    )
}

#[test]
fn each_call_reports_its_own_datagrams() {
    for local in ["127.0.0.1:0", "[::1]:0"] {
        let Ok(probe) = UdpSocket::bind(local) else {
            continue; // no IPv6 loopback on this machine
        };
        drop(probe);
        let (rx, a, b) = sockets(local);
        let to = rx.local_addr().unwrap();
        let (pa, pb) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut batch = RecvBatch::new(4, 8);
        // Three in one call, one cut to its slot.
        a.send_to(b"12345678cut", to).unwrap();
        b.send_to(b"bb", to).unwrap();
        a.send_to(b"aaa", to).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let got = take(&mut batch, &rx, 4, 3);
        assert_eq!(
            got,
            [
                (b"12345678".to_vec(), Some(pa), true),
                (b"bb".to_vec(), Some(pb), false),
                (b"aaa".to_vec(), Some(pa), false),
            ]
        );
        // The slots reused: the first one is not cut now, and its sender changed.
        b.send_to(b"x", to).unwrap();
        assert_eq!(
            take(&mut batch, &rx, 4, 1),
            [(b"x".to_vec(), Some(pb), false)]
        );
        // More than the last call filled, and a smaller limit after that.
        for i in 0..4u8 {
            a.send_to(&[i; 5], to).unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
        let got = take(&mut batch, &rx, 4, 4);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, d)| *d == (vec![i as u8; 5], Some(pa), false)),
            "{got:?}"
        );
        b.send_to(b"123456789", to).unwrap();
        a.send_to(b"z", to).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            take(&mut batch, &rx, 1, 2),
            [
                (b"12345678".to_vec(), Some(pb), true),
                (b"z".to_vec(), Some(pa), false)
            ]
        );
    }
}

#[test]
fn an_empty_socket_is_would_block_and_the_next_call_still_works() {
    let (rx, a, _) = sockets("127.0.0.1:0");
    rx.set_nonblocking(true).unwrap();
    let mut batch = RecvBatch::new(8, 64);
    let err = batch.recv(rx.as_raw_fd(), 8).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    assert!(batch.get(0).is_none());
    a.send_to(b"/a\0\0,\0\0\0", rx.local_addr().unwrap())
        .unwrap();
    let got = take(&mut batch, &rx, 8, 1);
    assert_eq!(got[0].0, b"/a\0\0,\0\0\0");
    assert_eq!(got[0].1, Some(a.local_addr().unwrap()));
}
