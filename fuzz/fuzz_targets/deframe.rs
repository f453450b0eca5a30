//! The stream deframers on arbitrary bytes, fed in arbitrary chunks: never panic, never
//! buffer more than their limit, and every packet they return is within the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osc_codec::framing::{LengthDecoder, SlipDecoder};

const LIMIT: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut slip = SlipDecoder::new(LIMIT);
    let mut len = LengthDecoder::new(LIMIT);
    for piece in bytes.chunks(chunk) {
        let mut input = piece;
        loop {
            match slip.decode(&mut input) {
                Ok(Some(p)) => assert!(!p.is_empty() && p.len() <= LIMIT),
                Ok(None) => break,
                Err(_) => {}
            }
            assert!(slip.buffered() <= LIMIT);
        }
        let mut input = piece;
        for _ in 0..piece.len() + 2 {
            match len.decode(&mut input) {
                Ok(Some(p)) => assert!(p.len() <= LIMIT),
                Ok(None) => break,
                Err(_) => {}
            }
            assert!(len.buffered() <= LIMIT + 4);
        }
    }
});
