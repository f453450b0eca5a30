//! The stream codec: every type in both framings, splits at every byte, bad input,
//! and `Framed` over real TCP on both runtime flavours.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use osc_codec::{Message, Packet};
use osc4rs_tokio::{Error, OscCodec, StreamFraming};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Decoder, Encoder, Framed, FramedRead};

fn wire(framing: StreamFraming, packets: &[Packet]) -> BytesMut {
    let mut codec = OscCodec::new(framing);
    let mut out = BytesMut::new();
    for p in packets {
        codec.encode(p, &mut out).unwrap();
    }
    out
}

/// Feeds `chunks` one after the other, collecting every item.
fn feed(codec: &mut OscCodec, chunks: &[&[u8]]) -> Vec<Result<Packet, Error>> {
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        while let Some(item) = codec.decode(&mut buf).unwrap() {
            got.push(item);
        }
    }
    got
}

fn packets(items: Vec<Result<Packet, Error>>) -> Vec<Packet> {
    items.into_iter().map(|r| r.unwrap()).collect()
}

#[test]
fn every_type_in_both_framings_split_at_every_byte() {
    let sent = common::every_type_packets();
    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let bytes = wire(framing, &sent);
        for read_as in [framing, StreamFraming::Auto] {
            for at in 0..=bytes.len() {
                let (a, b) = bytes.split_at(at);
                let mut codec = OscCodec::new(read_as);
                let got = packets(feed(&mut codec, &[a, b]));
                assert_eq!(got, sent, "{framing:?} read as {read_as:?}, split at {at}");
            }
            let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
            let got = packets(feed(&mut OscCodec::new(read_as), &one_by_one));
            assert_eq!(got, sent, "{framing:?} byte by byte");
        }
    }
}

#[test]
fn auto_replies_in_the_detected_framing() {
    let mut codec = OscCodec::new(StreamFraming::Auto);
    let mut before = BytesMut::new();
    codec
        .encode(Packet::from(Message::new("/x")), &mut before)
        .unwrap();
    assert_eq!(
        &before[..4],
        &[0, 0, 0, 8],
        "length prefix before detection"
    );
    let mut slip = wire(StreamFraming::Slip, &[Message::new("/a").into()]);
    assert!(codec.decode(&mut slip).unwrap().is_some());
    assert_eq!(codec.detected(), Some(StreamFraming::Slip));
    let mut after = BytesMut::new();
    codec
        .encode(Packet::from(Message::new("/x")), &mut after)
        .unwrap();
    assert_eq!(after[0], 0xc0);
}

#[test]
fn absurd_length_prefix_is_skipped_and_the_stream_goes_on() {
    let good = wire(StreamFraming::LengthPrefix, &[Message::new("/ok").into()]);
    let mut codec = OscCodec::with_limit(StreamFraming::LengthPrefix, 64);
    // Announces 100 bytes (over the limit of 64), then sends them.
    let mut bad = vec![0, 0, 0, 100];
    bad.extend_from_slice(&[b'z'; 100]);
    let items = feed(&mut codec, &[&bad[..50], &bad[50..], &good]);
    assert_eq!(items.len(), 2);
    assert!(matches!(
        items[0],
        Err(Error::FrameTooLarge {
            size: 100,
            limit: 64
        })
    ));
    assert_eq!(
        items[1].as_ref().unwrap(),
        &Packet::from(Message::new("/ok"))
    );
    // 2 GB announced: one error, and nothing buffered while it is skipped.
    let mut codec = OscCodec::with_limit(StreamFraming::LengthPrefix, 64);
    let items = feed(&mut codec, &[&[0x7f, 0xff, 0xff, 0xff], &[0; 4096]]);
    assert!(matches!(items[..], [Err(Error::FrameTooLarge { .. })]));
    assert_eq!(codec.buffered(), 0);
}

#[test]
fn endless_slip_frame_is_bounded_and_the_stream_goes_on() {
    let mut codec = OscCodec::with_limit(StreamFraming::Slip, 256);
    let mut buf = BytesMut::new();
    let mut errors = 0;
    for _ in 0..100 {
        buf.extend_from_slice(&[b'/'; 1000]);
        while let Some(item) = codec.decode(&mut buf).unwrap() {
            assert!(matches!(item, Err(Error::FrameTooLarge { limit: 256, .. })));
            errors += 1;
        }
        assert!(codec.buffered() <= 256);
        assert!(buf.is_empty());
    }
    assert_eq!(errors, 1, "one error per oversized frame");
    buf.extend_from_slice(&[0xc0]);
    buf.extend_from_slice(&wire(StreamFraming::Slip, &[Message::new("/ok").into()]));
    let item = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(item.unwrap(), Packet::from(Message::new("/ok")));
}

#[test]
fn malformed_packet_is_an_item_and_the_stream_goes_on() {
    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let mut codec = OscCodec::new(framing);
        let mut buf = BytesMut::new();
        // A frame of 8 bytes that is not OSC, then a good packet.
        let mut w = OscCodec::new(framing);
        w.encode(
            osc_codec::decode(&Message::new("/aaa").to_bytes().unwrap()).unwrap(),
            &mut buf,
        )
        .unwrap();
        let good = wire(framing, &[Message::new("/ok").into()]);
        let mut bad = buf.clone();
        // Corrupt the type tag string's comma (byte 4 of the packet).
        let at = bad.iter().position(|&b| b == b',').unwrap();
        bad[at] = b'x';
        let items = feed(&mut codec, &[&bad, &good]);
        assert!(
            matches!(items[0], Err(Error::Malformed { .. })),
            "{framing:?}: {:?}",
            items[0]
        );
        assert_eq!(
            items[1].as_ref().unwrap(),
            &Packet::from(Message::new("/ok"))
        );
    }
}

#[test]
fn negative_length_and_unknown_first_byte_are_fatal() {
    let mut codec = OscCodec::new(StreamFraming::LengthPrefix);
    let err = codec
        .decode(&mut BytesMut::from(&[0xff, 0xff, 0xff, 0xfe][..]))
        .unwrap_err();
    assert!(matches!(err, Error::BadFrameSize { size: -2 }) && err.is_fatal());
    let mut codec = OscCodec::new(StreamFraming::Auto);
    let err = codec
        .decode(&mut BytesMut::from(&b"GET / HTTP/1.1"[..]))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownFraming { first: b'G' }) && err.is_fatal());
}

#[test]
fn eof_inside_a_frame_reports_the_loss_once() {
    let bytes = wire(
        StreamFraming::LengthPrefix,
        &[Message::new("/cut").arg(1).into()],
    );
    let mut codec = OscCodec::new(StreamFraming::LengthPrefix);
    let mut buf = BytesMut::from(&bytes[..7]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    let item = codec.decode_eof(&mut buf).unwrap().unwrap();
    assert!(matches!(item, Err(Error::TruncatedFrame { buffered: 7 })));
    assert!(codec.decode_eof(&mut buf).unwrap().is_none());
}

#[test]
fn outgoing_packet_over_the_limit_is_refused() {
    let mut codec = OscCodec::with_limit(StreamFraming::Slip, 16);
    let big = Packet::from(Message::new("/big").arg(vec![0u8; 64]));
    let mut out = BytesMut::new();
    assert!(matches!(
        codec.encode(&big, &mut out),
        Err(Error::FrameTooLarge { limit: 16, .. })
    ));
    assert!(out.is_empty());
}

async fn tcp_round_trip(framing: StreamFraming) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        // Echo every packet back, in the framing detected.
        let mut framed = Framed::new(stream, OscCodec::new(StreamFraming::Auto));
        while let Some(item) = framed.next().await {
            framed.send(item.unwrap().unwrap()).await.unwrap();
        }
    });
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut client = Framed::new(stream, OscCodec::new(framing));
    let sent = common::every_type_packets();
    for p in &sent {
        client.send(p).await.unwrap();
    }
    for p in &sent {
        let got = client.next().await.unwrap().unwrap().unwrap();
        assert_eq!(&got, p);
    }
    drop(client);
    server.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn framed_tcp_every_type_current_thread() {
    tcp_round_trip(StreamFraming::LengthPrefix).await;
    tcp_round_trip(StreamFraming::Slip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framed_tcp_every_type_multi_thread() {
    tcp_round_trip(StreamFraming::LengthPrefix).await;
    tcp_round_trip(StreamFraming::Slip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framed_tcp_bad_input() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let writer = tokio::spawn(async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let mut out = Vec::new();
        out.extend_from_slice(&[0, 0, 0, 200]);
        out.extend_from_slice(&[1; 200]); // over the limit: skipped
        out.extend_from_slice(&wire(
            StreamFraming::LengthPrefix,
            &[Message::new("/after").into()],
        ));
        out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]); // negative: fatal
        out.extend_from_slice(&wire(
            StreamFraming::LengthPrefix,
            &[Message::new("/never").into()],
        ));
        s.write_all(&out).await.unwrap();
        s.shutdown().await.unwrap();
    });
    let (stream, _) = listener.accept().await.unwrap();
    let mut framed = FramedRead::new(
        stream,
        OscCodec::with_limit(StreamFraming::LengthPrefix, 100),
    );
    assert!(matches!(
        framed.next().await,
        Some(Ok(Err(Error::FrameTooLarge { size: 200, .. })))
    ));
    assert_eq!(
        framed.next().await.unwrap().unwrap().unwrap(),
        Packet::from(Message::new("/after"))
    );
    assert!(matches!(
        framed.next().await,
        Some(Err(Error::BadFrameSize { size: -1 }))
    ));
    assert!(
        framed.next().await.is_none(),
        "the stream ends after a fatal error"
    );
    writer.await.unwrap();
}
