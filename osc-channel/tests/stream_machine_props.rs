//! The stream state machine under arbitrary interleavings of reads (split anywhere,
//! with any packet budget), clock steps, sends and partial writes: it never panics,
//! delivers exactly the packets sent, in order, and holds bounded memory. Garbage
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
    Read { len: usize, budget: usize },
    Tick(u64),
    Send(usize),
    Wrote(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..200, 1usize..8).prop_map(|(len, budget)| Op::Read { len, budget }),
        1 => (0u64..3000).prop_map(Op::Tick),
        1 => (0usize..300).prop_map(Op::Send),
        1 => (0usize..400).prop_map(Op::Wrote),
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
        for p in &sent {
            sender.queue(p).unwrap();
        }
        let wire = sender.to_write().to_vec();
        let t0 = Instant::now();
        let mut now = t0;
        let recv_framing = if auto { StreamFraming::Auto } else { framing };
        let mut m = StreamMachine::new("127.0.0.1:2".parse().unwrap(), recv_framing, limits())
            .with_timeouts(t0, StreamTimeouts { frame: Some(Duration::from_secs(3600)), ..StreamTimeouts::default() });
        let mut got: Vec<Vec<u8>> = Vec::new();
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
            }
            prop_assert!(m.pending() <= limits().max_write_buffer);
            // Deframer, input kept for later (at most what was fed) and write buffer.
            prop_assert!(m.held() <= 2 * limits().max_packet_size + wire.len() + 2 * (64 << 10) + limits().max_write_buffer);
            prop_assert!(got.iter().zip(&sent).all(|(a, b)| a == b));
        }
        let r = m.on_bytes(now, &wire[pos..], usize::MAX, |p| got.push(p.to_vec()));
        prop_assert!(!r.more);
        prop_assert_eq!(got, sent);
        prop_assert!(m.expired(now).is_none());
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
