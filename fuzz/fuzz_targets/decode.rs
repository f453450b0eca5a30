//! Decoding arbitrary bytes: borrowed and owned decoders agree, never panic, and what
//! decodes re-encodes to the same bytes (but for `c` in osc4py3's layout) and prints
//! text that parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osc_codec::{Options, Packet, StringPolicy, decode, decode_with};

fuzz_target!(|data: &[u8]| {
    let borrowed = decode(data).map(|p| p.to_owned());
    let owned = Packet::decode(data);
    assert_eq!(borrowed, owned);
    if let Ok(p) = owned {
        // The same bytes, except that a `c` read in osc4py3's layout (`41 00 00 00`,
        // accepted under any options) is written back in the standard one.
        let again = p.to_bytes().expect("re-encodes");
        let word = |w: &[u8]| u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        assert_eq!(again.len(), data.len());
        for (a, o) in again.chunks_exact(4).zip(data.chunks_exact(4)) {
            assert!(a == o || (word(o) & 0x00ff_ffff == 0 && word(a) == word(o) >> 24));
        }
        let text = p.to_string();
        assert_eq!(text.parse::<Packet>().ok(), Some(p));
    }
    let lax = Options {
        strings: StringPolicy::Raw,
        strict_padding: false,
        allow_missing_typetags: true,
        check_address: false,
        ..Options::DEFAULT
    };
    if let Ok(p) = decode_with(data, &lax) {
        let _ = p.to_string();
        let _ = p.to_owned();
    }
    let _ = osc_codec::text::parse_packet(&String::from_utf8_lossy(data));
});
