//! Byte-exact vectors: every line of every `testdata/codec/*.txt` file (at the
//! workspace root, shared with the fuzz seeds) is
//! `NAME<TAB>HEX<TAB>TEXT`. The bytes must decode (borrowed and owned) to the packet the
//! text notation describes, and that packet must encode back to exactly the same bytes.

// Test helpers may panic: a failed expectation is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::Path;

use osc_codec::{Packet, decode};

fn check_file(path: &Path) -> usize {
    let content = fs::read_to_string(path).expect("readable vector file");
    let mut count = 0;
    for (n, line) in content.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let where_ = format!("{}:{}", path.display(), n + 1);
        let mut parts = line.splitn(3, '\t');
        let (Some(name), Some(hex), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("{where_}: expected NAME<TAB>HEX<TAB>TEXT");
        };
        let bytes = osc_codec::from_hex(hex).expect("hex");
        let expected: Packet = text
            .parse()
            .unwrap_or_else(|e| panic!("{where_} {name}: bad text notation: {e}"));
        let view = decode(&bytes).unwrap_or_else(|e| panic!("{where_} {name}: decode: {e}"));
        assert_eq!(
            view.to_owned(),
            expected,
            "{where_} {name}: borrowed decode"
        );
        let owned = Packet::decode(&bytes).unwrap_or_else(|e| panic!("{where_} {name}: {e}"));
        assert_eq!(owned, expected, "{where_} {name}: owned decode");
        let encoded = expected.to_bytes().expect("encodes");
        assert_eq!(hex_of(&encoded), hex, "{where_} {name}: encoding differs");
        // The printed form parses back to the same packet.
        assert_eq!(
            expected.to_string().parse::<Packet>().ok(),
            Some(expected.clone())
        );
        count += 1;
    }
    count
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn all_vector_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/codec");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("vector directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let mut total = 0;
    for f in &files {
        let n = check_file(f);
        eprintln!("{}: {n} vectors", f.display());
        total += n;
    }
    assert!(total > 0, "no vectors found in {}", dir.display());
}
