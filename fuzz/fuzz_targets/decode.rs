//! Decoding arbitrary bytes: borrowed and owned decoders agree, never panic, and what
//! decodes re-encodes to the same bytes and prints text that parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osc_codec::{Options, Packet, StringPolicy, decode, decode_with};

fuzz_target!(|data: &[u8]| {
    let borrowed = decode(data).map(|p| p.to_owned());
    let owned = Packet::decode(data);
    assert_eq!(borrowed, owned);
    if let Ok(p) = owned {
        assert_eq!(p.to_bytes().ok().as_deref(), Some(data));
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
