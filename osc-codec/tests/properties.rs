//! Property tests: encode/decode and text-notation round trips over arbitrary packets,
//! decoding arbitrary or corrupted bytes never panics, and the stream deframers give
//! back exactly what was framed however the bytes are split.

// Test helpers may panic: a failed expectation is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use osc_codec::framing::{LengthDecoder, SlipDecoder, length_prefix, slip_encode};
use osc_codec::{
    Bundle, Message, Midi, Options, Packet, PacketRef, Rgba, StringPolicy, TimeTag, Value, decode,
    decode_validated, decode_with,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Int),
        any::<u32>().prop_map(|b| Value::Float(f32::from_bits(b))),
        "[^\u{0}]{0,12}".prop_map(Value::String),
        vec(any::<u8>(), 0..20).prop_map(Value::Blob),
        any::<i64>().prop_map(Value::Long),
        (any::<u32>(), any::<u32>()).prop_map(|(s, f)| Value::TimeTag(TimeTag::new(s, f))),
        any::<u64>().prop_map(|b| Value::Double(f64::from_bits(b))),
        "[^\u{0}]{0,6}".prop_map(Value::Symbol),
        any::<char>().prop_map(Value::Char),
        any::<u32>().prop_map(|v| Value::Rgba(Rgba::from_u32(v))),
        any::<u32>().prop_map(|v| Value::Midi(Midi::from_u32(v))),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Nil),
        Just(Value::Inf),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 24, 5, |inner| vec(inner, 0..5).prop_map(Value::Array))
}

/// Reads every part of a view (arguments, and the elements of bundles), as a handler
/// would: on bytes no decode accepted this must not panic either.
fn walk(p: &PacketRef<'_>) -> usize {
    match p {
        PacketRef::Message(m) => m.address().len() + m.type_tags().len() + m.args().count(),
        PacketRef::Bundle(b) => {
            usize::from(b.holds_bundles()) + b.elements().map(|e| walk(&e)).sum::<usize>()
        }
    }
}

/// Whether `BundleRef::holds_bundles` of the view `b` and of every bundle in it says
/// what the bundle it was encoded from, `built`, holds.
fn holds_bundles_as_it_was_built(b: &osc_codec::BundleRef<'_>, built: &Bundle) -> bool {
    let holds = built.content.iter().any(|e| matches!(e, Packet::Bundle(_)));
    b.holds_bundles() == holds
        && b.elements().zip(&built.content).all(|pair| match pair {
            (PacketRef::Bundle(view), Packet::Bundle(inner)) => {
                holds_bundles_as_it_was_built(&view, inner)
            }
            _ => true,
        })
}

/// A message with a long argument list mostly of `i` and `f` (runs of words, broken
/// by other arguments now and then): what `Args::fold` reads a run at a time.
fn long_message() -> impl Strategy<Value = Message> {
    let arg = prop_oneof![
        4 => any::<i32>().prop_map(Value::Int),
        4 => any::<u32>().prop_map(|b| Value::Float(f32::from_bits(b))),
        1 => value(),
    ];
    ("/[a-z]{1,8}", vec(arg, 0..40)).prop_map(|(address, args)| Message { address, args })
}

/// Every argument of a view (and of its bundles' messages), read through `fold` (the
/// path of `for_each`, `collect`, `sum`) and through `next`, written out: the two must
/// agree. A NaN is written the same whatever its payload, so the lists are compared as
/// text.
fn fold_and_next(p: &PacketRef<'_>) -> (String, String) {
    match p {
        PacketRef::Message(m) => {
            let folded = m.args().fold(Vec::new(), |mut v, a| {
                v.push(a);
                v
            });
            // A `for` loop calls `next`.
            let mut one_by_one = Vec::new();
            for a in m.args() {
                one_by_one.push(a);
            }
            (format!("{folded:?}"), format!("{one_by_one:?}"))
        }
        PacketRef::Bundle(b) => b
            .elements()
            .fold((String::new(), String::new()), |(f, n), e| {
                let (ef, en) = fold_and_next(&e);
                (f + &ef, n + &en)
            }),
    }
}

/// The options `decode_validated` is checked under: each string policy, and packets
/// without type tags.
fn options() -> impl Strategy<Value = Options> {
    (
        prop_oneof![
            Just(StringPolicy::Utf8),
            Just(StringPolicy::Ascii),
            Just(StringPolicy::AsciiReplace),
            Just(StringPolicy::Raw),
        ],
        any::<bool>(),
    )
        .prop_map(|(strings, allow_missing_typetags)| Options {
            strings,
            allow_missing_typetags,
            ..Options::DEFAULT
        })
}

fn message() -> impl Strategy<Value = Message> {
    ("/[a-zA-Z0-9_/*?{},!.-]{0,16}", vec(value(), 0..8))
        .prop_map(|(address, args)| Message { address, args })
}

fn packet() -> impl Strategy<Value = Packet> {
    message()
        .prop_map(Packet::Message)
        .prop_recursive(3, 12, 4, |inner| {
            (any::<u64>(), vec(inner, 0..4)).prop_map(|(t, content)| {
                Packet::Bundle(Bundle {
                    timetag: TimeTag::from_bits(t),
                    content,
                })
            })
        })
}

/// Whether `again` equals `original` but for words that held a character in osc4py3's
/// first-byte layout and now hold it in the standard int32 one.
fn same_but_char_layout(again: &[u8], original: &[u8]) -> bool {
    let word = |w: &[u8]| u32::from_be_bytes(w.try_into().unwrap());
    again.len() == original.len()
        && again
            .chunks_exact(4)
            .zip(original.chunks_exact(4))
            .all(|(a, o)| a == o || (word(o) & 0x00ff_ffff == 0 && word(a) == word(o) >> 24))
}

proptest! {
    #[test]
    fn encode_decode_round_trip(p in packet()) {
        let bytes = p.to_bytes().expect("encodes");
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(p.encoded_len(), Ok(bytes.len()));
        prop_assert_eq!(&Packet::decode(&bytes).expect("owned decode"), &p);
        let view = decode(&bytes).expect("borrowed decode");
        prop_assert_eq!(&view.to_owned(), &p);
        prop_assert_eq!(view.as_bytes(), &bytes[..]);
        if let (PacketRef::Bundle(b), Packet::Bundle(owned)) = (&view, &p) {
            prop_assert!(holds_bundles_as_it_was_built(b, owned));
        }
        // Encoding into a slice gives the same bytes.
        let mut buf = vec![0u8; bytes.len()];
        prop_assert_eq!(p.encode_into(&mut buf), Ok(bytes.len()));
        prop_assert_eq!(buf, bytes);
    }

    #[test]
    fn text_notation_round_trip(p in packet()) {
        let text = p.to_string();
        prop_assert_eq!(text.parse::<Packet>().expect("parses"), p.clone());
        // The borrowed view prints the same text.
        let bytes = p.to_bytes().expect("encodes");
        prop_assert_eq!(decode(&bytes).expect("decodes").to_string(), text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        let a = decode(&bytes).map(|p| p.to_owned());
        let b = Packet::decode(&bytes);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn corrupted_packets_never_panic(p in packet(), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = p.to_bytes().expect("encodes");
        for (i, v) in flips {
            let i = i.index(bytes.len());
            bytes[i] = v;
        }
        let a = decode(&bytes).map(|p| p.to_owned());
        let b = Packet::decode(&bytes);
        prop_assert_eq!(&a, &b);
        if let Ok(p) = b {
            // Whatever decodes re-encodes to the same bytes, except that a `c` read in
            // osc4py3's layout (`41 00 00 00`, accepted under any options) is written
            // back in the standard one (`00 00 00 41`).
            let again = p.to_bytes().expect("re-encodes");
            prop_assert!(same_but_char_layout(&again, &bytes), "{:?} vs {:?}", again, bytes);
        }
    }

    #[test]
    fn validated_bytes_read_again_as_decoded(p in packet(), opts in options(), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 0..3)) {
        // What a decode accepts, `decode_validated` reads again into the same view;
        // on anything else it may say anything but must not panic.
        let mut bytes = p.to_bytes().expect("encodes");
        for (i, v) in flips {
            let i = i.index(bytes.len());
            bytes[i] = v;
        }
        let again = decode_validated(&bytes, &opts);
        match decode_with(&bytes, &opts) {
            Ok(view) => prop_assert_eq!(again, Some(view)),
            Err(_) => {
                let _ = again.map(|v| (walk(&v), v.to_owned()));
            }
        }
    }

    #[test]
    fn folding_the_arguments_reads_what_next_reads(m in prop_oneof![long_message(), message()], opts in options(), flips in vec((any::<prop::sample::Index>(), any::<u8>()), 0..3), cut in any::<prop::sample::Index>()) {
        let mut bytes = Packet::Message(m).to_bytes().expect("encodes");
        let view = decode(&bytes).expect("decodes");
        let (folded, one_by_one) = fold_and_next(&view);
        prop_assert_eq!(folded, one_by_one);
        // Bytes read again without the checks, corrupted, or cut short so that the data
        // ends before the tags do: `fold` and `next` still agree.
        for (i, v) in flips {
            let i = i.index(bytes.len());
            bytes[i] = v;
        }
        let short = &bytes[..cut.index(bytes.len() + 1)];
        for again in [decode_validated(&bytes, &opts), decode_validated(short, &opts)].into_iter().flatten() {
            let (folded, one_by_one) = fold_and_next(&again);
            prop_assert_eq!(folded, one_by_one);
        }
    }

    #[test]
    fn arbitrary_bytes_read_again_never_panic(bytes in vec(any::<u8>(), 0..256)) {
        let again = decode_validated(&bytes, &Options::DEFAULT);
        let _ = again.map(|v| (walk(&v), v.to_owned(), v.to_string()));
        if let Ok(view) = decode(&bytes) {
            prop_assert_eq!(again, Some(view));
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,60}") {
        let _ = s.parse::<Packet>();
    }

    #[test]
    fn slip_round_trip_any_split(packets in vec(vec(any::<u8>(), 1..40), 1..6), cuts in vec(any::<prop::sample::Index>(), 0..8), leading_end in any::<bool>()) {
        let mut wire = Vec::new();
        for p in &packets {
            slip_encode(p, &mut wire);
            if !leading_end {
                // The `pkt END` form: drop the leading END of this frame.
                let start = wire.len() - osc_codec::framing::slip_encoded_len(p);
                wire.remove(start);
            }
        }
        let got = feed_slip(&wire, &cuts);
        prop_assert_eq!(got, packets);
    }

    #[test]
    fn length_prefix_round_trip_any_split(packets in vec(vec(any::<u8>(), 1..40), 1..6), cuts in vec(any::<prop::sample::Index>(), 0..8)) {
        let mut wire = Vec::new();
        for p in &packets {
            wire.extend_from_slice(&length_prefix(p.len()).expect("small"));
            wire.extend_from_slice(p);
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        points.push(0);
        points.push(wire.len());
        points.sort_unstable();
        let mut dec = LengthDecoder::new(1 << 16);
        let mut got = Vec::new();
        for w in points.windows(2) {
            let mut input = &wire[w[0]..w[1]];
            while let Some(p) = dec.decode(&mut input).expect("valid stream") {
                got.push(p.to_vec());
            }
            prop_assert!(input.is_empty());
        }
        prop_assert_eq!(got, packets);
        prop_assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn deframers_survive_garbage(bytes in vec(any::<u8>(), 0..300)) {
        let mut slip = SlipDecoder::new(64);
        let mut len = LengthDecoder::new(64);
        let mut input = &bytes[..];
        loop {
            match slip.decode(&mut input) {
                Ok(Some(p)) => prop_assert!(!p.is_empty() && p.len() <= 64),
                Ok(None) => break,
                Err(_) => {}
            }
            prop_assert!(slip.buffered() <= 64);
        }
        let mut input = &bytes[..];
        for _ in 0..1000 {
            match len.decode(&mut input) {
                Ok(Some(p)) => prop_assert!(p.len() <= 64),
                Ok(None) => break,
                Err(_) => {}
            }
            prop_assert!(len.buffered() <= 68);
        }
    }
}

fn feed_slip(wire: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
    points.push(0);
    points.push(wire.len());
    points.sort_unstable();
    let mut dec = SlipDecoder::new(1 << 16);
    let mut got = Vec::new();
    for w in points.windows(2) {
        let mut input = &wire[w[0]..w[1]];
        while let Some(p) = dec.decode(&mut input).expect("valid stream") {
            got.push(p.to_vec());
        }
    }
    got
}

#[test]
fn slip_split_at_every_byte() {
    let packets: Vec<Vec<u8>> = vec![
        b"/a\0\0,\0\0\0".to_vec(),
        vec![0xC0, 0xDB, 1, 2, 0xDB, 0xDC],
        b"/b\0\0,i\0\0\0\0\0\x01".to_vec(),
    ];
    let mut wire = Vec::new();
    for p in &packets {
        slip_encode(p, &mut wire);
    }
    for cut in 0..=wire.len() {
        let mut dec = SlipDecoder::new(1024);
        let mut got = Vec::new();
        for part in [&wire[..cut], &wire[cut..]] {
            let mut input = part;
            while let Some(p) = dec.decode(&mut input).expect("valid") {
                got.push(p.to_vec());
            }
        }
        assert_eq!(got, packets, "split at {cut}");
    }
    // Byte by byte.
    let mut dec = SlipDecoder::new(1024);
    let mut got = Vec::new();
    for b in &wire {
        let mut input = std::slice::from_ref(b);
        while let Some(p) = dec.decode(&mut input).expect("valid") {
            got.push(p.to_vec());
        }
    }
    assert_eq!(got, packets);
}

#[test]
fn oversized_frames_are_dropped_and_the_stream_goes_on() {
    let mut wire = Vec::new();
    slip_encode(&[7u8; 100], &mut wire);
    slip_encode(b"ok", &mut wire);
    let mut dec = SlipDecoder::new(50);
    let mut input = &wire[..];
    assert!(matches!(
        dec.decode(&mut input),
        Err(osc_codec::Error::FrameTooLarge { limit: 50, .. })
    ));
    assert_eq!(dec.decode(&mut input).expect("goes on"), Some(&b"ok"[..]));

    let mut wire = Vec::new();
    wire.extend_from_slice(&100i32.to_be_bytes());
    wire.extend_from_slice(&[7u8; 100]);
    wire.extend_from_slice(&2i32.to_be_bytes());
    wire.extend_from_slice(b"ok");
    let mut dec = LengthDecoder::new(50);
    let mut input = &wire[..];
    assert!(matches!(
        dec.decode(&mut input),
        Err(osc_codec::Error::FrameTooLarge {
            size: 100,
            limit: 50
        })
    ));
    assert_eq!(dec.decode(&mut input).expect("goes on"), Some(&b"ok"[..]));

    // An absurd length never allocates: only a negative one breaks the stream.
    let mut dec = LengthDecoder::new(1 << 20);
    let mut input: &[u8] = &[0x7f, 0xff, 0xff, 0xff, 1, 2, 3];
    assert!(dec.decode(&mut input).is_err());
    assert_eq!(dec.buffered(), 0);
    let mut dec = LengthDecoder::new(1 << 20);
    let mut input: &[u8] = &[0xff, 0xff, 0xff, 0xfc, 1, 2, 3, 4];
    assert_eq!(
        dec.decode(&mut input),
        Err(osc_codec::Error::BadFrameSize { size: -4 })
    );
    let mut more: &[u8] = &[0, 0, 0, 4, 1, 2, 3, 4];
    assert!(
        dec.decode(&mut more).is_err(),
        "a broken stream stays broken"
    );
}
