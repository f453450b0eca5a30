//! Differential tests: the fast paths (`fast.rs`, `encode_fast.rs`) against the
//! reference reader (`reference.rs`) and encoder, on mangled packets and under every
//! option; and the tag table's generated readers against each other.
//!
//! Whenever a fast path accepts, the reference must accept with an equal result; the
//! lazy iterators must give what the reference reader gives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use alloc::vec::Vec;

use proptest::collection::vec;
use proptest::prelude::*;

use crate::decoder::validated;
use crate::read::{Policy, Reader};
use crate::reference::{self, next_element as next_element_reference};
use crate::tags::{push_owned, read_checked, read_trusted};
use crate::{
    ArgRef, Bundle, CharLayout, Message, Midi, Options, Packet, PacketRef, Rgba, StringPolicy,
    TagSet, TimeTag, Value, fast,
};

fn options() -> impl Strategy<Value = Options> {
    (
        0..4u8,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0..5usize,
        prop_oneof![Just(16384usize), 0..6usize],
        0..8u8,
    )
        .prop_map(
            |(strings, first_byte, check, strict, missing, depth, max_args, allowed)| Options {
                strings: [
                    StringPolicy::Utf8,
                    StringPolicy::Ascii,
                    StringPolicy::AsciiReplace,
                    StringPolicy::Raw,
                ][usize::from(strings)],
                char_layout: if first_byte {
                    CharLayout::FirstByte
                } else {
                    CharLayout::Int32
                },
                allowed_tags: if allowed == 0 {
                    TagSet::ALL.without(crate::Tag::Char)
                } else {
                    TagSet::ALL
                },
                check_address: check,
                strict_padding: strict,
                allow_missing_typetags: missing,
                max_depth: depth,
                max_packet_size: 1 << 20,
                max_args,
            },
        )
}

/// An OSC string (NUL and padding included) from interesting bytes.
fn osc_string(prefix: &'static [u8], alphabet: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    (vec(proptest::sample::select(alphabet), 0..10), 0..6u8).prop_map(move |(body, pad)| {
        let mut s = prefix.to_vec();
        s.extend(body);
        s.push(0);
        while s.len() % 4 != 0 {
            s.push(0);
        }
        // Sometimes one byte too many.
        if pad == 0 {
            s.push(b'x');
        }
        s
    })
}

const ADDRESS_BYTES: &[u8] = b"abz/09 #\x7f\x01\t\x80\xc3\xa9\xff*?,";
const TAG_BYTES: &[u8] = b"ifsbhtdScrmTFNI[]x";
const WORDS: &[u32] = &[
    0,
    1,
    4,
    5,
    7,
    0x6162_6300,
    0x6100_0000,
    0x6162_6364,
    0xc3a9_0000,
    0xff00_0000,
    0x4100_0000,
    0x41,
    0xd800,
    0x7fff_ffff,
    0xffff_ffff,
    0x2362_756e,
];

/// A message from plausible parts, often valid, often a little wrong.
fn message_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        osc_string(b"/", ADDRESS_BYTES),
        prop_oneof![osc_string(b",", TAG_BYTES), Just(Vec::new())],
        vec(proptest::sample::select(WORDS), 0..12),
    )
        .prop_map(|(a, t, words)| {
            let mut m = a;
            m.extend(t);
            for w in words {
                m.extend(w.to_be_bytes());
            }
            m
        })
}

fn bundle_of(elements: Vec<Vec<u8>>, bad_size: Option<(usize, u32)>) -> Vec<u8> {
    let mut b = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
    for (i, e) in elements.into_iter().enumerate() {
        let size = match bad_size {
            Some((j, s)) if j == i => s,
            _ => e.len() as u32,
        };
        b.extend(size.to_be_bytes());
        b.extend(e);
    }
    b
}

fn packet_bytes() -> impl Strategy<Value = Vec<u8>> {
    let leaf = message_bytes();
    let tree = leaf.prop_recursive(3, 10, 4, |inner| {
        (
            vec(inner, 0..4),
            proptest::option::weighted(0.1, (0..4usize, proptest::sample::select(WORDS))),
        )
            .prop_map(|(els, bad)| bundle_of(els, bad))
    });
    // Then, sometimes, a byte overwritten or the end cut off.
    (tree, vec((any::<usize>(), any::<u8>()), 0..2), any::<u8>()).prop_map(
        |(mut bytes, edits, cut)| {
            for (at, b) in edits {
                if !bytes.is_empty() {
                    let n = bytes.len();
                    bytes[at % n] = b;
                }
            }
            if cut < 8 && bytes.len() > usize::from(cut) {
                bytes.truncate(bytes.len() - usize::from(cut));
            }
            bytes
        },
    )
}

/// The arguments as the reference reader gives them.
fn reference_args<'a>(m: &crate::MessageRef<'a>) -> Vec<ArgRef<'a>> {
    let mut r = Reader::new(m.data(), m.data_offset());
    let mut out = Vec::new();
    for (i, &t) in m.tags().iter().enumerate() {
        match read_checked(t, m.tags_offset() + i, &mut r, m.policy) {
            Ok(a) => out.push(a),
            Err(_) => break,
        }
    }
    out
}

/// The elements as the reference light parse gives them.
fn reference_elements<'a>(b: &crate::BundleRef<'a>) -> Vec<PacketRef<'a>> {
    let mut r = Reader::new(b.element_bytes(), b.base as usize + 16);
    let opts = Options {
        strings: b.policy.strings,
        strict_padding: b.policy.strict_padding,
        allow_missing_typetags: true,
        ..Options::DEFAULT
    };
    let mut out = Vec::new();
    while !r.is_empty() {
        let Ok((bytes, offset)) = next_element_reference(&mut r) else {
            break;
        };
        match reference::packet(bytes, offset, &opts, 0, false) {
            Ok(p) => out.push(p),
            Err(_) => break,
        }
    }
    out
}

/// Walks a validated packet and checks the lazy iterators against the references.
fn same_iteration(p: &PacketRef<'_>) -> Result<(), TestCaseError> {
    match p {
        PacketRef::Message(m) => {
            // Through `Value` (bitwise float equality: NaN equals NaN).
            let owned = |args: Vec<ArgRef<'_>>| {
                args.into_iter()
                    .map(|a| (a.tag(), Value::from_arg(a)))
                    .collect::<Vec<_>>()
            };
            prop_assert_eq!(owned(m.args().collect()), owned(reference_args(m)));
            prop_assert_eq!(m.args().len(), m.tags().len());
            // The owned form, built from the reference reader the straightforward way.
            let mut stack: Vec<Vec<Value>> = Vec::new();
            let mut current = Vec::new();
            for arg in reference_args(m) {
                match arg {
                    ArgRef::ArrayOpen => stack.push(core::mem::take(&mut current)),
                    ArgRef::ArrayClose => {
                        let inner = core::mem::take(&mut current);
                        current = stack.pop().unwrap_or_default();
                        current.push(Value::Array(inner));
                    }
                    other => current.extend(Value::from_arg(other)),
                }
            }
            prop_assert_eq!(&crate::owned::message_to_owned(m).args, &current);
        }
        PacketRef::Bundle(b) => {
            let ours: Vec<_> = b.elements().collect();
            prop_assert_eq!(&ours, &reference_elements(b));
            for e in &ours {
                same_iteration(e)?;
            }
        }
    }
    Ok(())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Int),
        any::<u32>().prop_map(|b| Value::Float(f32::from_bits(b))),
        prop_oneof![4 => "[a-z\u{e9}]{0,9}", 1 => "[a-z\u{0}]{1,9}"].prop_map(Value::String),
        vec(any::<u8>(), 0..9).prop_map(Value::Blob),
        any::<i64>().prop_map(Value::Long),
        any::<u64>().prop_map(|b| Value::TimeTag(TimeTag::from_bits(b))),
        any::<u64>().prop_map(|b| Value::Double(f64::from_bits(b))),
        prop_oneof![4 => "[a-z]{0,5}", 1 => "[a-z\u{0}]{1,5}"].prop_map(Value::Symbol),
        prop_oneof![Just('A'), Just('\u{ff}'), Just('\u{100}'), any::<char>()]
            .prop_map(Value::Char),
        any::<u32>().prop_map(|v| Value::Rgba(Rgba::from_u32(v))),
        any::<u32>().prop_map(|v| Value::Midi(Midi::from_u32(v))),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Nil),
        Just(Value::Inf),
        vec(proptest::sample::select(b"ab\0\xff".as_slice()), 0..6).prop_map(Value::RawString),
        vec(proptest::sample::select(b"ab\xff".as_slice()), 0..6).prop_map(Value::RawSymbol),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    let value = scalar().prop_recursive(4, 16, 4, |inner| vec(inner, 0..4).prop_map(Value::Array));
    let message = (
        prop_oneof![
            4 => "/[a-z/*\u{e9}]{0,20}",
            1 => "/?[a-z/ #\u{0}\u{7f}\u{e9}*]{0,20}"
        ],
        vec(value, 0..7),
    )
        .prop_map(|(address, args)| Packet::Message(Message { address, args }));
    message.prop_recursive(3, 10, 4, |inner| {
        (any::<u64>(), vec(inner, 0..4)).prop_map(|(t, content)| {
            Packet::Bundle(Bundle {
                timetag: TimeTag::from_bits(t),
                content,
            })
        })
    })
}

/// Every tag once (and a nested array), read by each generated reader of the tag table.
#[test]
fn the_tag_table_readers_agree_on_every_tag() {
    let m = Message::new("/all")
        .arg(-7)
        .arg(2.5f32)
        .arg("s")
        .arg(vec![1u8, 2, 3])
        .arg(-9i64)
        .arg(TimeTag::new(1, 2))
        .arg(-0.5f64)
        .arg(crate::Symbol("y".into()))
        .arg('\u{20ac}')
        .arg(Rgba::new(1, 2, 3, 4))
        .arg(Midi::new(5, 6, 7, 8))
        .arg(true)
        .arg(false)
        .arg(())
        .arg(crate::Inf)
        .arg(vec![Value::Int(1), Value::Array(vec![])]);
    let bytes = Packet::from(m.clone()).to_bytes().unwrap();
    let PacketRef::Message(view) = crate::decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(view.type_tags(), ",ifsbhtdScrmTFNI[i[]]");
    let p = Policy::of(&Options::DEFAULT);
    let mut r = Reader::new(view.data(), view.data_offset());
    let mut data = view.data();
    let mut odata = view.data();
    for (i, &t) in view.tags().iter().enumerate() {
        let checked = read_checked(t, i, &mut r, p).unwrap();
        let trusted = read_trusted(t, &mut data, p.strings).unwrap();
        assert_eq!(checked, trusted);
        assert_eq!(checked.tag().as_byte(), t);
        let mut one = Vec::new();
        match push_owned(&mut one, t, odata, p.strings) {
            Some(rest) => {
                odata = rest;
                assert_eq!(one, [Value::from_arg(checked).unwrap()]);
            }
            None => assert!(matches!(t, b'[' | b']') && one.is_empty()),
        }
    }
    assert!(r.is_empty() && data.is_empty() && odata.is_empty());
    assert_eq!(view.to_owned(), m);
    assert_eq!(
        read_checked(b'x', 3, &mut r, p),
        Err(crate::Error::UnknownTag {
            offset: 3,
            tag: 'x'
        })
    );
    assert_eq!(read_trusted(b'x', &mut data, p.strings), None);
}

/// Every message of a view, walking its bundles' elements (each parsed again).
fn messages_by_walking<'a>(p: &PacketRef<'a>, out: &mut Vec<crate::MessageRef<'a>>) {
    match p {
        PacketRef::Message(m) => out.push(*m),
        PacketRef::Bundle(b) => b.elements().for_each(|e| messages_by_walking(&e, out)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn the_messages_a_decode_finds_are_those_its_view_holds(bytes in packet_bytes(), opts in options(), stale in 0..3usize) {
        // Whatever was in the list before (here: earlier messages) is gone; the answer
        // is the decode's; the list is the one the view's elements give, or empty.
        let earlier = Packet::from(Message::new("/earlier")).to_bytes().unwrap();
        let mut messages = Vec::new();
        for _ in 0..stale {
            crate::decode_messages(&earlier, &opts, &mut messages).ok();
        }
        let got = crate::decode_messages(&bytes, &opts, &mut messages);
        prop_assert_eq!(&got, &crate::decode_with(&bytes, &opts));
        let mut walked = Vec::new();
        if let Ok(p) = got {
            messages_by_walking(&p, &mut walked);
        }
        prop_assert_eq!(messages, walked);
    }

    #[test]
    fn fast_decoding_agrees_with_the_reference(bytes in packet_bytes(), opts in options()) {
        let reference = reference::packet(&bytes, 0, &opts, 0, true);
        if let Some(fast) = fast::packet(&bytes, 0, &opts, 0) {
            prop_assert_eq!(Ok(fast), reference.clone());
            same_iteration(&fast)?;
        }
        // The public entry point always gives the reference's answer.
        prop_assert_eq!(validated(&bytes, 0, &opts, 0), reference.clone());
        if let Ok(p) = reference {
            same_iteration(&p)?;
        }
    }

    #[test]
    fn fast_encoding_agrees_with_the_reference(
        p in packet(),
        opts in options(),
        room in prop_oneof![Just(4096usize), 0..200usize],
    ) {
        let mut fast = alloc::vec![0xAAu8; room];
        let mut reference = alloc::vec![0x55u8; room];
        let expected = p.encode_reference(&mut reference, &opts);
        if let Some(n) = crate::encode_fast::packet(&mut fast, &p, &opts) {
            prop_assert_eq!(Ok(n), expected.clone());
            prop_assert_eq!(&fast[..n], &reference[..n]);
        }
        prop_assert_eq!(p.encode_into_with(&mut fast, &opts), expected);
    }
}
