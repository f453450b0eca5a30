//! The stream state machine under arbitrary interleavings of reads (split anywhere,
//! with any packet budget), clock steps, sends, partial writes and connection closes:
//! it never panics, delivers exactly the packets sent, in order, and holds bounded
//! memory; at a close every complete packet was delivered and only the partial one is
//! lost (then a new connection's machine goes on from the next packet). Garbage
//! input ends in an error value, never a panic. (The same driver runs as the
//! `stream_machine` fuzz target for longer.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use osc_channel::machine::{StreamMachine, StreamTimeouts};
use osc_channel::{StreamFraming, StreamLimits};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Read {
        len: usize,
        budget: usize,
    },
    Tick(u64),
    Send(usize),
    Wrote(usize),
    /// The peer closes; it connects again and sends from the next whole packet.
    Eof,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..200, 1usize..8).prop_map(|(len, budget)| Op::Read { len, budget }),
        1 => (0u64..3000).prop_map(Op::Tick),
        1 => (0usize..300).prop_map(Op::Send),
        1 => (0usize..400).prop_map(Op::Wrote),
        1 => Just(Op::Eof),
    ]
}

fn packet(i: usize, len: usize) -> Vec<u8> {
    let mut p = format!("/p{i}").into_bytes();
    p.resize((p.len() / 4 + 1) * 4, 0);
    p.extend_from_slice(b",b\0\0");
    p.extend_from_slice(&(len as u32).to_be_bytes());
    p.extend((0..len).map(|b| (b % 251) as u8));
    p.resize(p.len().div_ceil(4) * 4, 0);
    p
}

fn limits() -> StreamLimits {
    StreamLimits {
        max_packet_size: 4096,
        max_write_buffer: 16 << 10,
        nodelay: true,
        frame_timeout: Some(Duration::from_secs(3600)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn any_interleaving_delivers_every_packet_in_order(
        sizes in prop::collection::vec(0usize..600, 1..30),
        ops in prop::collection::vec(op(), 1..200),
        slip in any::<bool>(),
        auto in any::<bool>(),
    ) {
        let framing = if slip { StreamFraming::Slip } else { StreamFraming::LengthPrefix };
        let sent: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, &n)| packet(i, n)).collect();
        let mut sender = StreamMachine::new("127.0.0.1:1".parse().unwrap(), framing, StreamLimits::default());
        // Where each packet's frame ends on the wire (bounds[i + 1] for packet i).
        let mut bounds = vec![0];
        for p in &sent {
            sender.queue(p).unwrap();
            bounds.push(sender.pending());
        }
        let wire = sender.to_write().to_vec();
        let t0 = Instant::now();
        let mut now = t0;
        let recv_framing = if auto { StreamFraming::Auto } else { framing };
        let machine = |now: Instant| {
            StreamMachine::new("127.0.0.1:2".parse().unwrap(), recv_framing, limits())
                .with_timeouts(now, StreamTimeouts { frame: Some(Duration::from_secs(3600)), ..StreamTimeouts::default() })
        };
        let mut m = machine(t0);
        let mut got: Vec<Vec<u8>> = Vec::new();
        // Packets lost to a close in their middle.
        let mut lost_packets: Vec<usize> = Vec::new();
        let mut pos = 0;
        for op in ops {
            match op {
                Op::Read { len, budget } => {
                    let end = (pos + len).min(wire.len());
                    let r = m.on_bytes(now, &wire[pos..end], budget, |p| got.push(p.to_vec()));
                    prop_assert!(r.packets <= budget);
                    prop_assert!(r.malformed.is_none());
                    pos = end;
                }
                Op::Tick(ms) => now += Duration::from_millis(ms),
                Op::Send(n) => {
                    let _ = m.queue(&vec![0u8; n]);
                }
                Op::Wrote(n) => m.wrote(n.min(m.pending())),
                Op::Eof => {
                    // As the driver does: what was read whole is delivered, then the
                    // machine says how much of a partial packet is lost.
                    let r = m.on_bytes(now, &[], usize::MAX, |p| got.push(p.to_vec()));
                    prop_assert!(!r.more);
                    prop_assert!(r.malformed.is_none());
                    let lost = m.on_eof();
                    // Packets 0..k ended at or before `pos`: all delivered (but those
                    // lost to earlier closes).
                    let k = bounds.partition_point(|&b| b <= pos) - 1;
                    prop_assert_eq!(got.len() + lost_packets.len(), k);
                    if bounds[k] == pos {
                        prop_assert_eq!(lost, 0, "closed between packets");
                    } else {
                        prop_assert!(lost <= pos - bounds[k], "{} lost of {}", lost, pos - bounds[k]);
                        // The new connection sends from the next whole packet.
                        lost_packets.push(k);
                        pos = bounds[k + 1];
                    }
                    m = machine(now);
                }
            }
            prop_assert!(m.pending() <= limits().max_write_buffer);
            // Deframer, input kept for later (at most what was fed) and write buffer.
            prop_assert!(m.held() <= 2 * limits().max_packet_size + wire.len() + 2 * (64 << 10) + limits().max_write_buffer);
            let expected = sent.iter().enumerate().filter(|(i, _)| !lost_packets.contains(i)).map(|(_, p)| p);
            prop_assert!(got.iter().zip(expected).all(|(a, b)| a == b));
        }
        let r = m.on_bytes(now, &wire[pos..], usize::MAX, |p| got.push(p.to_vec()));
        prop_assert!(!r.more);
        let expected: Vec<Vec<u8>> = sent.iter().enumerate().filter(|(i, _)| !lost_packets.contains(i)).map(|(_, p)| p.clone()).collect();
        prop_assert_eq!(got, expected);
        prop_assert!(m.expired(now).is_none());
        prop_assert_eq!(m.on_eof(), 0, "everything was delivered");
    }

    #[test]
    fn garbage_ends_in_an_error_value_never_a_panic(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..20),
        framing in prop_oneof![Just(StreamFraming::LengthPrefix), Just(StreamFraming::Slip), Just(StreamFraming::Auto)],
    ) {
        let t0 = Instant::now();
        let mut m = StreamMachine::new("127.0.0.1:2".parse().unwrap(), framing, limits())
            .with_timeouts(t0, StreamTimeouts { frame: Some(Duration::from_millis(10)), first_packet: Some(Duration::from_millis(50)), idle: None });
        let mut now = t0;
        for c in &chunks {
            let r = m.on_bytes(now, c, 4, |p| assert!(p.len() <= 4096));
            if r.malformed.is_some() {
                break;
            }
            now += Duration::from_millis(7);
            let _ = m.expired(now);
            let _ = m.deadline();
        }
        prop_assert!(m.held() <= 2 * 4096 + 20 * 64 + 2 * (64 << 10));
    }
}
