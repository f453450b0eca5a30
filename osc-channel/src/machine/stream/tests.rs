//! The stream machine without a socket: framings, limits, timeouts.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::DropReason;

fn peer() -> SocketAddr {
    "127.0.0.1:9".parse().unwrap()
}

fn small_limits() -> StreamLimits {
    StreamLimits {
        max_packet_size: 64,
        max_write_buffer: 100,
        nodelay: true,
        frame_timeout: None,
    }
}

fn packets() -> Vec<Vec<u8>> {
    vec![
        b"/a\0\0,\0\0\0".to_vec(),
        b"/bb\0,i\0\0\0\0\0\x07".to_vec(),
        // Bytes SLIP must escape.
        b"/c\0\0,b\0\0\0\0\0\x04\xc0\xdb\xc0\xdb".to_vec(),
    ]
}

/// Frames `packets` as the sending side of this framing would.
fn wire(framing: StreamFraming, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut sender = StreamMachine::new(peer(), framing, StreamLimits::default());
    for p in packets {
        sender.queue(p).unwrap();
    }
    sender.to_write().to_vec()
}

fn deliver(m: &mut StreamMachine, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Deframed) {
    let mut got = Vec::new();
    let mut total = Deframed::default();
    for c in chunks {
        let r = m.on_bytes(Instant::now(), c, usize::MAX, |p| got.push(p.to_vec()));
        total.packets += r.packets;
        total.oversized += r.oversized;
        total.malformed = total.malformed.or(r.malformed);
    }
    (got, total)
}

#[test]
fn every_framing_survives_a_split_at_every_byte() {
    for (send, recv) in [
        (StreamFraming::LengthPrefix, StreamFraming::LengthPrefix),
        (StreamFraming::Slip, StreamFraming::Slip),
        (StreamFraming::LengthPrefix, StreamFraming::Auto),
        (StreamFraming::Slip, StreamFraming::Auto),
    ] {
        let bytes = wire(send, &packets());
        for cut in 0..=bytes.len() {
            for cut2 in cut..=bytes.len() {
                let mut m = StreamMachine::new(peer(), recv, StreamLimits::default());
                let (got, report) =
                    deliver(&mut m, &[&bytes[..cut], &bytes[cut..cut2], &bytes[cut2..]]);
                assert_eq!(got, packets(), "{send:?}->{recv:?} cut at {cut},{cut2}");
                assert_eq!(report.packets, 3);
                assert_eq!(m.buffered(), 0);
                assert_eq!(m.framing(), send);
            }
        }
    }
}

#[test]
fn whole_length_frames_are_handed_out_in_place_and_the_rest_decoded() {
    let frame = |body: &[u8]| {
        let mut f = (body.len() as u32).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        f
    };
    let [a, b, c]: [Vec<u8>; 3] = packets().try_into().unwrap();
    // A whole frame, an empty one, one over the limit (64), a whole one, then the
    // start of one that the next read completes.
    let mut bytes = frame(&a);
    bytes.extend(frame(&[]));
    bytes.extend(frame(&[0; 65]));
    bytes.extend(frame(&b));
    let split = frame(&c);
    bytes.extend_from_slice(&split[..6]);
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
    let (got, report) = deliver(&mut m, &[&bytes]);
    assert_eq!(got, [a.clone(), b.clone()]);
    assert_eq!(report.oversized, 1);
    assert_eq!(m.buffered(), 6);
    let (got, _) = deliver(&mut m, &[&split[6..], &frame(&a)]);
    assert_eq!(got, [c, a]);
    assert_eq!(m.buffered(), 0);
    // A frame read whole is never copied: the connection holds no buffer for it.
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
    let (got, _) = deliver(&mut m, &[&frame(&b)]);
    assert_eq!(got, [b]);
    assert_eq!(m.held(), 0);
}

#[test]
fn single_end_slip_frames_are_accepted() {
    let mut m = StreamMachine::new(peer(), StreamFraming::Slip, StreamLimits::default());
    let (got, _) = deliver(&mut m, &[b"/a\0\0,\0\0\0\xc0/b\0\0,\0\0\0\xc0"]);
    assert_eq!(got.len(), 2);
}

#[test]
fn an_oversized_packet_is_skipped_and_the_stream_goes_on() {
    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let big = vec![b'x'; 100];
        let mut all = packets();
        all.insert(1, big);
        let bytes = wire(framing, &all);
        let mut m = StreamMachine::new(peer(), framing, small_limits());
        for chunk_size in [1, 3, bytes.len()] {
            let chunks: Vec<&[u8]> = bytes.chunks(chunk_size).collect();
            let (got, report) = deliver(&mut m, &chunks);
            assert_eq!(got, packets(), "{framing:?} in chunks of {chunk_size}");
            assert_eq!(report.oversized, 1);
            assert_eq!(
                report.drops().collect::<Vec<_>>(),
                [(DropReason::Oversized, 1)]
            );
        }
    }
}

#[test]
fn a_negative_length_is_malformed_and_stops_reading() {
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
    let mut got = 0;
    let r = m.on_bytes(
        Instant::now(),
        b"\xff\xff\xff\xf0/a\0\0,\0\0\0",
        usize::MAX,
        |_| got += 1,
    );
    assert!(r.malformed.is_some());
    assert_eq!(got, 0);
    assert_eq!(
        r.drops().collect::<Vec<_>>(),
        [(DropReason::MalformedFrame, 1)]
    );
}

#[test]
fn eof_reports_the_bytes_of_an_incomplete_packet() {
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
    m.on_bytes(Instant::now(), b"\0\0\0\x08/a\0", usize::MAX, |_| {});
    assert_eq!(m.on_eof(), 7);
    let mut m = StreamMachine::new(peer(), StreamFraming::Auto, small_limits());
    assert_eq!(m.on_eof(), 0);
    assert_eq!(m.framing(), StreamFraming::Auto);
}

#[test]
fn the_write_buffer_is_bounded_and_refusals_carry_the_limit() {
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
    assert_eq!(
        m.queue(&[0; 65]),
        Err(Refusal::TooLarge {
            size: 65,
            limit: 64
        })
    );
    m.queue(&[0; 60]).unwrap();
    assert_eq!(
        m.queue(&[0; 40]),
        Err(Refusal::QueueFull {
            limit: 100,
            unit: "bytes"
        })
    );
    assert_eq!(m.pending(), 64);
    // Partly written: the rest stays in order and room comes back.
    m.wrote(50);
    assert_eq!(m.pending(), 14);
    m.queue(&[1; 32]).unwrap();
    assert_eq!(m.pending(), 50);
    assert_eq!(&m.to_write()[14..18], &[0, 0, 0, 32]);
    m.wrote(usize::MAX);
    assert_eq!((m.pending(), m.to_write()), (0, &[][..]));
}

#[test]
fn replies_use_the_detected_framing() {
    let mut m = StreamMachine::new(peer(), StreamFraming::Auto, StreamLimits::default());
    m.queue(b"/r\0\0,\0\0\0").unwrap();
    assert_eq!(&m.to_write()[..4], &[0, 0, 0, 8]);
    m.wrote(12);
    m.on_bytes(Instant::now(), b"\xc0/a\0\0,\0\0\0\xc0", usize::MAX, |_| {});
    m.queue(b"/r\0\0,\0\0\0").unwrap();
    assert_eq!(m.to_write(), b"\xc0/r\0\0,\0\0\0\xc0");
}

fn frames(n: usize) -> Vec<u8> {
    wire(
        StreamFraming::LengthPrefix,
        &(0..n)
            .map(|i| {
                let mut p = b"/n\0\0,i\0\0".to_vec();
                p.extend_from_slice(&(i as u32).to_be_bytes());
                p
            })
            .collect::<Vec<_>>(),
    )
}

#[test]
fn the_packet_budget_keeps_the_rest_for_the_next_turn_in_order() {
    let t = Instant::now();
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
    let bytes = frames(100);
    let mut got = Vec::new();
    let r = m.on_bytes(t, &bytes[..700], 10, |p| got.push(p[11]));
    assert_eq!((r.packets, r.more, m.has_leftover()), (10, true, true));
    // Later input queues behind what was kept.
    let r = m.on_bytes(t, &bytes[700..], 25, |p| got.push(p[11]));
    assert_eq!((r.packets, r.more), (25, true));
    while m.has_leftover() {
        let r = m.on_bytes(t, &[], 30, |p| got.push(p[11]));
        assert!(r.packets <= 30);
    }
    assert_eq!(got, (0..100).map(|i| i as u8).collect::<Vec<_>>());
    assert_eq!(m.packets(), 100);
}

#[test]
fn a_turn_without_new_input_does_not_copy_what_is_kept() {
    // Copying the rest of a large read on every turn of 64 packets cost a busy
    // connection about 10 ns per packet; the kept buffer stays, its position moves.
    let t = Instant::now();
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
    let bytes = frames(100);
    let mut got = 0;
    m.on_bytes(t, &bytes, 10, |_| got += 1);
    let held = m.held();
    while m.has_leftover() {
        m.on_bytes(t, &[], 10, |_| got += 1);
        if m.has_leftover() {
            assert_eq!(m.held(), held, "the kept input was copied");
        }
    }
    assert_eq!(got, 100);
    // Once drained, the kept buffer is given back.
    assert!(m.held() < held);
}

fn timed(t: Instant, timeouts: StreamTimeouts) -> StreamMachine {
    StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits())
        .with_timeouts(t, timeouts)
}

#[test]
fn a_frame_left_unfinished_times_out() {
    let s = Duration::from_secs(1);
    let t0 = Instant::now();
    let mut m = timed(
        t0,
        StreamTimeouts {
            frame: Some(10 * s),
            ..StreamTimeouts::default()
        },
    );
    assert_eq!(m.deadline(), None);
    m.on_bytes(t0 + s, b"\0\0", 64, |_| {});
    assert_eq!(m.deadline(), Some(t0 + 11 * s));
    // More bytes of the same frame do not move the deadline: a trickle is no escape.
    m.on_bytes(t0 + 5 * s, b"\0\x08/a", 64, |_| {});
    assert_eq!(m.expired(t0 + 10 * s), None);
    assert_eq!(m.expired(t0 + 11 * s), Some(Timeout::Frame));
    // Finishing the frame ends the clock.
    m.on_bytes(t0 + 10 * s, b"\0\0,\0\0\0", 64, |_| {});
    assert_eq!((m.deadline(), m.expired(t0 + 100 * s)), (None, None));
}

#[test]
fn first_packet_and_idle_timeouts() {
    let s = Duration::from_secs(1);
    let t0 = Instant::now();
    let limits = StreamTimeouts {
        first_packet: Some(60 * s),
        idle: Some(300 * s),
        ..StreamTimeouts::default()
    };
    let mut silent = timed(t0, limits);
    assert_eq!(silent.deadline(), Some(t0 + 60 * s));
    assert_eq!(silent.expired(t0 + 60 * s), Some(Timeout::FirstPacket));
    let mut m = timed(t0, limits);
    m.on_bytes(t0 + s, &frames(1), 64, |_| {});
    assert_eq!(m.deadline(), Some(t0 + 301 * s));
    assert_eq!(m.expired(t0 + 300 * s), None);
    assert_eq!(m.expired(t0 + 301 * s), Some(Timeout::Idle));
    // Without limits nothing ever expires, and Duration::MAX is "never".
    let never = StreamTimeouts {
        frame: Some(Duration::MAX),
        first_packet: Some(Duration::MAX),
        idle: Some(Duration::MAX),
    };
    silent = timed(t0, never);
    silent.on_bytes(t0, b"\0", 64, |_| {});
    assert_eq!(
        (silent.deadline(), silent.expired(t0 + 1000 * s)),
        (None, None)
    );
}

#[test]
fn eviction_prefers_silent_and_partial_connections() {
    let s = Duration::from_secs(1);
    let t0 = Instant::now();
    let mut fresh = timed(t0, StreamTimeouts::default());
    assert_eq!(fresh.evictable(t0), Some((true, t0)));
    fresh.on_bytes(t0 + s, &frames(1), 64, |_| {});
    // Active: not evictable until silent for EVICT_IDLE_AFTER.
    assert_eq!(fresh.evictable(t0 + 2 * s), None);
    assert_eq!(
        fresh.evictable(t0 + s + EVICT_IDLE_AFTER),
        Some((false, t0 + s))
    );
    fresh.on_bytes(t0 + 2 * s, b"\0\0", 64, |_| {});
    assert_eq!(fresh.evictable(t0 + 3 * s), Some((true, t0 + 2 * s)));
}

#[test]
fn memory_held_goes_back_after_a_large_packet() {
    let limits = StreamLimits {
        max_packet_size: 1 << 20,
        max_write_buffer: 4 << 20,
        ..StreamLimits::default()
    };
    let t = Instant::now();
    let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, limits);
    let big = vec![b'/'; 600 << 10];
    let bytes = wire(StreamFraming::LengthPrefix, std::slice::from_ref(&big));
    m.on_bytes(t, &bytes[..bytes.len() - 1], 64, |_| {});
    assert!(m.held() >= (600 << 10) - 1);
    m.on_bytes(t, &bytes[bytes.len() - 1..], 64, |_| {});
    assert!(m.held() <= RETAINED, "held {}", m.held());
    m.queue(&big).unwrap();
    assert!(m.held() >= 600 << 10);
    m.wrote(m.pending());
    assert!(m.held() <= 2 * RETAINED, "held {}", m.held());
}

#[test]
fn auto_detection_refuses_a_first_byte_that_fits_no_framing() {
    let mut m = StreamMachine::new(peer(), StreamFraming::Auto, StreamLimits::default());
    let r = m.on_bytes(Instant::now(), b"xyz\0", 64, |_| panic!("no packet"));
    assert!(r.malformed.unwrap().contains("0x78"));
    assert_eq!(m.framing(), StreamFraming::Auto);
}
