//! The views' fast readers on arbitrary bytes, under options taken from the input's
//! first byte: what a decode accepts, every reader reads whole. The lazy iterator gives
//! one argument per type tag, `fold` (its run-at-a-time path) reads what `next` reads,
//! `decode_messages` accepts what `decode_with` accepts and finds the messages the
//! view holds, and `next_as` with each argument's own type reads what `next` reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use osc_codec::{
    ArgRef, MessageRef, Options, PacketRef, StringPolicy, decode_messages, decode_with,
};

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, data)) = input.split_first() else {
        return;
    };
    let opts = options(knobs);
    let view = decode_with(data, &opts);
    let mut found = Vec::new();
    let kept = decode_messages(data, &opts, &mut found);
    assert_eq!(
        view.is_ok(),
        kept.is_ok(),
        "decode_messages accepts what decode does"
    );
    let Ok(view) = view else {
        return;
    };
    let mut walked = Vec::new();
    walk(&view, &mut walked);
    assert_eq!(
        found.len(),
        walked.len(),
        "the messages decode_messages found"
    );
    for (f, w) in found.iter().zip(&walked) {
        assert_eq!(f.as_bytes(), w.as_bytes());
        assert_eq!(args(f), args(w));
    }
    for m in &walked {
        let one_by_one = args(m);
        assert_eq!(one_by_one.len(), m.tag_count(), "one argument per type tag");
        let folded = m.args().fold(Vec::new(), |mut v, a| {
            v.push(format!("{a:?}"));
            v
        });
        assert_eq!(folded, one_by_one, "fold reads what next reads");
        typed_walk(m);
    }
});

/// Options from one byte: the string policy, strict padding, missing type tags and the
/// address check.
fn options(knobs: u8) -> Options {
    Options {
        strings: [
            StringPolicy::Utf8,
            StringPolicy::Ascii,
            StringPolicy::AsciiReplace,
            StringPolicy::Raw,
        ][usize::from(knobs & 3)],
        strict_padding: knobs & 4 != 0,
        allow_missing_typetags: knobs & 8 != 0,
        check_address: knobs & 16 != 0,
        ..Options::DEFAULT
    }
}

/// Every message of `p`, bundles' elements parsed again.
fn walk<'a>(p: &PacketRef<'a>, out: &mut Vec<MessageRef<'a>>) {
    match p {
        PacketRef::Message(m) => out.push(m.clone()),
        PacketRef::Bundle(b) => b.elements().for_each(|e| walk(&e, out)),
    }
}

/// The arguments read one at a time, written out (a NaN equals itself in writing).
fn args(m: &MessageRef<'_>) -> Vec<String> {
    let by_next: Vec<ArgRef<'_>> = m.args().collect();
    by_next.iter().map(|a| format!("{a:?}")).collect()
}

/// Reads every argument a second time with `next_as` and the type `next` gave it:
/// the typed reads take the same values off the same data.
fn typed_walk(m: &MessageRef<'_>) {
    let mut typed = m.args();
    for arg in m.args() {
        let same = match arg {
            ArgRef::Int(v) => typed.next_as::<i32>() == Some(v),
            ArgRef::Float(v) => typed.next_as::<f32>().map(f32::to_bits) == Some(v.to_bits()),
            ArgRef::Double(v) => typed.next_as::<f64>().map(f64::to_bits) == Some(v.to_bits()),
            ArgRef::Long(v) => typed.next_as::<i64>() == Some(v),
            ArgRef::TimeTag(v) => typed.next_as() == Some(v),
            ArgRef::Char(v) => typed.next_as::<char>() == Some(v),
            ArgRef::Rgba(v) => typed.next_as() == Some(v),
            ArgRef::Midi(v) => typed.next_as() == Some(v),
            ArgRef::Bool(v) => typed.next_as::<bool>() == Some(v),
            ArgRef::Str(v) | ArgRef::Symbol(v) => typed.next_as::<&str>() == Some(v),
            ArgRef::Blob(v) => typed.next_as::<&[u8]>() == Some(v),
            // No typed form (or not text): `next_as::<&str>` refuses raw bytes and
            // leaves the iterator where it was.
            ArgRef::RawStr(_) | ArgRef::RawSymbol(_) => {
                typed.next_as::<&str>().is_none() && typed.next() == Some(arg)
            }
            _ => typed.next() == Some(arg),
        };
        assert!(same, "next_as reads {arg:?} as next does");
    }
    assert_eq!(typed.next(), None);
}
