//! osc-channel's stream state machine driven by arbitrary interleavings of reads (any
//! bytes, any split, any packet budget), clock steps, sends and partial writes: it
//! never panics, never delivers a packet over its limit, keeps its write buffer and
//! memory bounded, and reports timeouts only after their deadline.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use osc_channel::machine::{StreamMachine, StreamTimeouts};
use osc_channel::{StreamFraming, StreamLimits};

const LIMIT: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut ops)) = data.split_first() else { return };
    let framing = match mode % 3 {
        0 => StreamFraming::LengthPrefix,
        1 => StreamFraming::Slip,
        _ => StreamFraming::Auto,
    };
    let limits = StreamLimits {
        max_packet_size: LIMIT,
        max_write_buffer: 4 * LIMIT,
        nodelay: true,
        frame_timeout: Some(Duration::from_millis(50)),
    };
    let t0 = Instant::now();
    let timeouts = StreamTimeouts {
        frame: limits.frame_timeout,
        first_packet: Some(Duration::from_millis(200)),
        idle: Some(Duration::from_millis(500)),
    };
    let mut m = StreamMachine::new("127.0.0.1:9".parse().unwrap(), framing, limits)
        .with_timeouts(t0, timeouts);
    let mut now = t0;
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        let arg = usize::from(op >> 2);
        match op & 3 {
            0 => {
                let take = arg.min(ops.len());
                let (chunk, rest) = ops.split_at(take);
                ops = rest;
                let budget = arg % 7 + 1;
                let r = m.on_bytes(now, chunk, budget, |p| assert!(p.len() <= LIMIT));
                assert!(r.packets <= budget);
                if r.malformed.is_some() {
                    return;
                }
            }
            1 => {
                now += Duration::from_millis(arg as u64);
                if let (Some(_), Some(d)) = (m.expired(now), m.deadline()) {
                    assert!(d <= now);
                }
            }
            2 => {
                let _ = m.queue(&vec![0; arg * 8]);
                assert!(m.pending() <= limits.max_write_buffer);
            }
            _ => m.wrote(arg.min(m.pending())),
        }
        assert!(m.held() <= 4 * LIMIT + data.len() + 3 * (64 << 10));
    }
});
