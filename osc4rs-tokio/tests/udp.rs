//! `OscSocket` over loopback UDP: every type, borrowed views, bad datagrams, relays,
//! on both runtime flavours.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use osc_codec::{Message, Packet, PacketRef};
use osc4rs_tokio::{Error, MAX_DATAGRAM, OscSocket};

async fn every_type_through_udp(local: &str) {
    let a = OscSocket::bind(local).await.unwrap();
    let mut b = OscSocket::bind(local).await.unwrap();
    let to = a.local_addr().unwrap();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    for p in common::every_type_packets() {
        let n = b.send_to(&p, to).await.unwrap();
        let (got, from) = a.recv(&mut buf).await.unwrap();
        assert_eq!(got.as_bytes().len(), n);
        assert_eq!(from, b.local_addr().unwrap());
        assert_eq!(got.to_owned(), p);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_type_current_thread() {
    every_type_through_udp("127.0.0.1:0").await;
    if std::net::UdpSocket::bind("[::1]:0").is_ok() {
        every_type_through_udp("[::1]:0").await;
    } else {
        osc_test_support::skip("IPv6 loopback");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_multi_thread() {
    every_type_through_udp("127.0.0.1:0").await;
}

#[tokio::test]
async fn malformed_datagram_is_an_error_and_the_socket_goes_on() {
    let a = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = a.local_addr().unwrap();
    raw.send_to(b"not osc at all", to).unwrap();
    raw.send_to(&Message::new("/ok").to_bytes().unwrap(), to)
        .unwrap();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let err = a.recv(&mut buf).await.unwrap_err();
    assert!(
        matches!(err, Error::Malformed { peer: Some(p), .. } if p == raw.local_addr().unwrap()),
        "{err}"
    );
    let (PacketRef::Message(m), _) = a.recv(&mut buf).await.unwrap() else {
        panic!()
    };
    assert_eq!(m.address(), "/ok");
}

#[tokio::test]
async fn a_small_buffer_is_reported_not_silently_truncated() {
    let a = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let mut b = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let big = Packet::from(Message::new("/big").arg(vec![7u8; 200]));
    b.send_to(&big, a.local_addr().unwrap()).await.unwrap();
    let mut small = [0u8; 64];
    assert!(matches!(
        a.recv(&mut small).await,
        Err(Error::MaybeTruncated { len: 64, .. })
    ));
}

#[tokio::test]
async fn relay_a_borrowed_packet_and_share_the_socket_between_tasks() {
    let relay = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let sink = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let mut src = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let (relay_addr, sink_addr) = (relay.local_addr().unwrap(), sink.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let (p, _) = relay.recv(&mut buf).await.unwrap();
        relay.send_ref_to(p, sink_addr).await.unwrap();
    });
    let msg = common::every_type_message();
    src.send_to(&msg.clone().into(), relay_addr).await.unwrap();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let (got, from) = sink.recv(&mut buf).await.unwrap();
    assert_eq!(from, relay_addr);
    assert_eq!(got.to_owned(), Packet::from(msg));
    task.await.unwrap();
}

/// `recv_batch`: every datagram of a burst, in order, each validated on its own; a
/// malformed one in the middle is an error item with its sender, and the rest arrive.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_batch_holds_a_burst_in_order_and_a_bad_datagram_costs_only_itself() {
    let socket = osc4rs_tokio::OscSocket::bind("127.0.0.1:0").await.unwrap();
    let to = socket.local_addr().unwrap();
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let me = sender.local_addr().unwrap();
    for i in 0..10 {
        if i == 4 {
            sender.send_to(b"not osc", to).unwrap();
        }
        let bytes = osc_codec::Message::new("/n").arg(i).to_bytes().unwrap();
        sender.send_to(&bytes, to).unwrap();
    }
    let mut batch = osc4rs_tokio::RecvBatch::new(4);
    let (mut good, mut bad) = (Vec::new(), 0);
    while good.len() + bad < 11 {
        for item in socket.recv_batch(&mut batch).await.unwrap() {
            match item {
                Ok((packet, from)) => {
                    assert_eq!(from, me);
                    good.push(packet.to_string());
                }
                Err(osc4rs_tokio::Error::Malformed { peer, .. }) => {
                    assert_eq!(peer, Some(me));
                    bad += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
    let want: Vec<String> = (0..10).map(|i| format!("/n ,i {i}")).collect();
    assert_eq!((good, bad), (want, 1));
}
