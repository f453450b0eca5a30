//! Text notation as the packet source: whatever parses must encode, decode back to the
//! same packet and survive SLIP framing. Decoding uses the `Raw` string policy, under
//! which strings that are not UTF-8 (`<hex>` in the notation) come back as raw bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osc_codec::framing::{SlipDecoder, slip_encode};
use osc_codec::{Options, Packet, StringPolicy, decode_with};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(p) = text.parse::<Packet>() else { return };
    let Ok(bytes) = p.to_bytes() else { return };
    let raw = Options {
        strings: StringPolicy::Raw,
        ..Options::DEFAULT
    };
    assert_eq!(Packet::decode_with(&bytes, &raw).ok(), Some(p.clone()));
    assert_eq!(decode_with(&bytes, &raw).map(|v| v.to_owned()).ok(), Some(p));
    let mut wire = Vec::new();
    slip_encode(&bytes, &mut wire);
    let mut dec = SlipDecoder::new(1 << 20);
    let mut input = &wire[..];
    assert_eq!(dec.decode(&mut input).ok().flatten(), Some(&bytes[..]));
});
