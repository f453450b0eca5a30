//! osc-channel's stream state machine driven by arbitrary interleavings of reads (any
//! bytes, any split, any packet budget), clock steps, sends, partial writes and
//! closes (`on_eof`, then the same machine fed on or a new one for the next
//! connection): it never panics, never delivers a packet over its limit, keeps its
//! write buffer and memory bounded, reports timeouts only after their deadline, and
//! at a close loses at most one partial packet.
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
    let machine = |now: Instant| {
        StreamMachine::new("127.0.0.1:9".parse().unwrap(), framing, limits)
            .with_timeouts(now, timeouts)
    };
    let mut m = machine(t0);
    let mut now = t0;
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        let arg = usize::from(op >> 2);
        // One op in 16 closes the connection (in place of a partial write).
        if op & 3 == 3 && arg >= 48 {
            // As the driver does: what was read whole is delivered, then the rest
            // of a partial packet is lost.
            let r = m.on_bytes(now, &[], usize::MAX, |p| assert!(p.len() <= LIMIT));
            assert!(!r.more);
            if r.malformed.is_some() {
                return;
            }
            let lost = m.on_eof();
            // A partial packet: its frame header and at most the limit (an oversized
            // frame being skipped holds nothing).
            assert!(lost <= LIMIT + 4, "{lost} bytes lost at a close");
            assert_eq!(lost, m.buffered());
            if arg % 2 == 0 {
                // The next connection: a new machine.
                m = machine(now);
            }
            // Else the same machine is fed on (a driver must not need to, but the
            // machine must not break if it does).
            continue;
        }
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
