//! Every packet of `testdata/hostile/packets.txt` (malformed and hostile input shared
//! with the CLI tests and the fuzz seeds) is rejected by every decoding entry point
//! with an error that says something, and deep nesting is bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use osc_codec::{Packet, decode};

#[test]
fn every_hostile_packet_is_rejected_with_a_clear_error() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/hostile/packets.txt");
    let text = std::fs::read_to_string(&path).expect("the shared hostile corpus");
    let mut count = 0;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, '\t');
        let (Some(name), Some(hex), Some(why)) = (parts.next(), parts.next(), parts.next()) else {
            panic!(
                "{}:{}: expected NAME<TAB>HEX<TAB>WHY",
                path.display(),
                n + 1
            );
        };
        let bytes = osc_codec::from_hex(hex).expect("hex");
        let borrowed = decode(&bytes);
        assert!(borrowed.is_err(), "{name} ({why}): decoded as {borrowed:?}");
        let owned = Packet::decode(&bytes);
        assert!(owned.is_err(), "{name} ({why}): decoded as {owned:?}");
        let message = borrowed.unwrap_err().to_string();
        assert!(!message.is_empty(), "{name}: an empty error message");
        count += 1;
    }
    assert!(count >= 20, "only {count} hostile packets");
}

#[test]
fn a_3000_deep_bundle_is_rejected_not_a_stack_overflow() {
    let mut packet = Packet::from(osc_codec::Message::new("/x"))
        .to_bytes()
        .unwrap();
    for _ in 0..3000 {
        let mut outer = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
        outer.extend_from_slice(&(packet.len() as i32).to_be_bytes());
        outer.extend_from_slice(&packet);
        packet = outer;
    }
    assert!(decode(&packet).is_err());
    assert!(Packet::decode(&packet).is_err());
}
