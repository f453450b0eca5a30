//! Strict decoding: every malformed input gives the error that says what and where,
//! and the relaxing options do what they say.

// Test helpers may panic: a failed expectation is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use osc_codec::{
    ArgRef, CharLayout, Error, Message, Options, Packet, PacketRef, StringPolicy, Tag, TagSet,
    decode, decode_with,
};

fn msg(bytes: &[u8]) -> Result<Packet, Error> {
    // Borrowed and owned decoding must agree on every input.
    let borrowed = decode(bytes).map(|p| p.to_owned());
    let owned = Packet::decode(bytes);
    assert_eq!(borrowed, owned, "borrowed and owned decoders disagree");
    owned
}

#[test]
fn empty_and_misaligned_packets() {
    assert_eq!(
        msg(b""),
        Err(Error::UnexpectedEnd {
            offset: 0,
            needed: 4,
            available: 0
        })
    );
    assert_eq!(msg(b"/a\0"), Err(Error::Misaligned { offset: 0, size: 3 }));
    assert_eq!(msg(b"xyz\0"), Err(Error::NotAPacket { offset: 0 }));
}

#[test]
fn strings_need_terminators_and_zero_padding() {
    assert_eq!(msg(b"/abc"), Err(Error::MissingTerminator { offset: 0 }));
    assert_eq!(
        msg(b"/a\0\0,s\0\0abcd"),
        Err(Error::MissingTerminator { offset: 8 })
    );
    assert_eq!(
        msg(b"/a\0x,\0\0\0"),
        Err(Error::NonZeroPadding { offset: 3 })
    );
    assert_eq!(
        msg(b"/a\0\0,\0\0x"),
        Err(Error::NonZeroPadding { offset: 7 })
    );
    let lax = Options {
        strict_padding: false,
        ..Options::DEFAULT
    };
    let p = decode_with(b"/a\0x,\0\0\0", &lax).map(|p| p.to_owned());
    assert_eq!(p, Ok(Packet::Message(Message::new("/a"))));
}

#[test]
fn blobs_with_bad_sizes() {
    assert!(matches!(
        msg(b"/a\0\0,b\0\0\xff\xff\xff\xff"),
        Err(Error::BadBlobSize {
            offset: 8,
            size: -1,
            remaining: 0
        })
    ));
    assert!(matches!(
        msg(b"/a\0\0,b\0\0\0\0\0\x05abcd"),
        Err(Error::BadBlobSize {
            offset: 8,
            size: 5,
            remaining: 4
        })
    ));
    assert!(matches!(
        msg(b"/a\0\0,b\0\0\x7f\xff\xff\xf0"),
        Err(Error::BadBlobSize {
            size: 0x7fff_fff0,
            ..
        })
    ));
    assert_eq!(
        msg(b"/a\0\0,b\0\0\0\0\0\x01a\0\x01\0"),
        Err(Error::NonZeroPadding { offset: 14 })
    );
}

#[test]
fn truncated_arguments() {
    assert_eq!(
        msg(b"/a\0\0,ih\0\0\0\0\x01\0\0\0\x02"),
        Err(Error::UnexpectedEnd {
            offset: 12,
            needed: 8,
            available: 4
        })
    );
    assert_eq!(
        msg(b"/a\0\0,i\0\0"),
        Err(Error::UnexpectedEnd {
            offset: 8,
            needed: 4,
            available: 0
        })
    );
}

#[test]
fn trailing_bytes_are_rejected() {
    assert_eq!(
        msg(b"/a\0\0,\0\0\0\0\0\0\x01"),
        Err(Error::TrailingBytes {
            offset: 8,
            count: 4
        })
    );
}

#[test]
fn unknown_tags_and_unbalanced_arrays() {
    assert_eq!(
        msg(b"/a\0\0,ix\0\0\0\0\x01"),
        Err(Error::UnknownTag {
            offset: 6,
            tag: 'x'
        })
    );
    assert_eq!(
        msg(b"/a\0\0,[\0\0"),
        Err(Error::UnbalancedArray { offset: 6 })
    );
    assert_eq!(
        msg(b"/a\0\0,]\0\0"),
        Err(Error::UnbalancedArray { offset: 5 })
    );
    assert_eq!(
        msg(b"/a\0\0,[]]\0\0\0\0"),
        Err(Error::UnbalancedArray { offset: 7 })
    );
}

#[test]
fn missing_type_tags() {
    assert_eq!(msg(b"/a\0\0"), Err(Error::MissingTypeTags { offset: 4 }));
    assert_eq!(
        msg(b"/a\0\0\0\0\0\x01"),
        Err(Error::MissingTypeTags { offset: 4 })
    );
    let lax = Options {
        allow_missing_typetags: true,
        ..Options::DEFAULT
    };
    let p = decode_with(b"/a\0\0", &lax).map(|p| p.to_owned());
    assert_eq!(p, Ok(Packet::Message(Message::new("/a"))));
}

#[test]
fn bundle_element_sizes() {
    let head = b"#bundle\0\0\0\0\0\0\0\0\x01";
    let with = |tail: &[u8]| [&head[..], tail].concat();
    assert!(matches!(
        msg(&with(b"\xff\xff\xff\xfc/a\0\0")),
        Err(Error::BadBundleElementSize {
            offset: 16,
            size: -4,
            ..
        })
    ));
    assert!(matches!(
        msg(&with(b"\0\0\0\0")),
        Err(Error::BadBundleElementSize { size: 0, .. })
    ));
    assert!(matches!(
        msg(&with(b"\0\0\0\x10/a\0\0")),
        Err(Error::BadBundleElementSize {
            size: 16,
            remaining: 4,
            ..
        })
    ));
    assert_eq!(
        msg(&with(b"\0\0\0\x06/a\0\0,\0\0\0")),
        Err(Error::Misaligned {
            offset: 16,
            size: 6
        })
    );
    // Errors inside an element report offsets in the whole packet.
    assert_eq!(
        msg(&with(b"\0\0\0\x08/a\0\0,x\0\0")),
        Err(Error::UnknownTag {
            offset: 25,
            tag: 'x'
        })
    );
    assert_eq!(
        msg(b"#bundlX\0\0\0\0\0\0\0\0\x01"),
        Err(Error::NotAPacket { offset: 0 })
    );
    assert!(matches!(
        msg(b"#bundle\0\0\0\0\0"),
        Err(Error::UnexpectedEnd { offset: 8, .. })
    ));
}

/// 3,000 nested bundles in one 60 KB datagram (what crashes rosc and python-osc).
fn nested_bundles(levels: usize) -> Vec<u8> {
    let mut inner = b"/a\0\0,\0\0\0".to_vec();
    for _ in 0..levels {
        let mut b = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
        b.extend_from_slice(&(inner.len() as i32).to_be_bytes());
        b.extend_from_slice(&inner);
        inner = b;
    }
    inner
}

#[test]
fn deep_nesting_hits_the_limit_not_the_stack() {
    let deep = nested_bundles(3000);
    assert!(deep.len() > 60_000);
    assert!(matches!(
        msg(&deep),
        Err(Error::LimitExceeded {
            what: "depth",
            limit: 32,
            ..
        })
    ));
    assert!(msg(&nested_bundles(32)).is_ok());
    assert!(matches!(
        msg(&nested_bundles(33)),
        Err(Error::LimitExceeded { what: "depth", .. })
    ));
    // Even a huge configured limit is capped, so the stack is safe.
    let huge = Options {
        max_depth: usize::MAX,
        ..Options::DEFAULT
    };
    assert!(matches!(
        decode_with(&deep, &huge),
        Err(Error::LimitExceeded { limit: 128, .. })
    ));

    let mut arrays = b"/a\0\0,".to_vec();
    arrays.extend(std::iter::repeat_n(b'[', 40));
    arrays.extend(std::iter::repeat_n(b']', 40));
    arrays.push(0);
    while arrays.len() % 4 != 0 {
        arrays.push(0);
    }
    assert!(matches!(
        msg(&arrays),
        Err(Error::LimitExceeded { what: "depth", .. })
    ));
}

#[test]
fn size_and_argument_limits() {
    let small = Options {
        max_packet_size: 8,
        ..Options::DEFAULT
    };
    assert!(matches!(
        decode_with(b"/a\0\0,i\0\0\0\0\0\x01", &small),
        Err(Error::LimitExceeded {
            what: "packet size",
            limit: 8,
            ..
        })
    ));
    let few = Options {
        max_args: 1,
        ..Options::DEFAULT
    };
    assert!(matches!(
        decode_with(b"/a\0\0,ii\0\0\0\0\x01\0\0\0\x02", &few),
        Err(Error::LimitExceeded {
            what: "argument count",
            limit: 1,
            ..
        })
    ));
}

#[test]
fn string_policies_on_decode() {
    let bytes = b"/a\0\0,s\0\0\xff\xfe\0\0";
    assert_eq!(
        msg(bytes),
        Err(Error::InvalidString {
            offset: 8,
            expected: "UTF-8"
        })
    );
    let raw = Options {
        strings: StringPolicy::Raw,
        ..Options::DEFAULT
    };
    let PacketRef::Message(m) = decode_with(bytes, &raw).expect("raw policy accepts") else {
        panic!("a message")
    };
    assert_eq!(m.args().next(), Some(ArgRef::RawStr(b"\xff\xfe")));
    // The raw bytes survive an owned round trip exactly.
    let owned = Packet::Message(m.to_owned());
    assert_eq!(owned.to_bytes_with(&raw).as_deref(), Ok(&bytes[..]));

    let utf8 = "/a\0\0,s\0\0é\0\0".as_bytes();
    let ascii = Options {
        strings: StringPolicy::Ascii,
        ..Options::DEFAULT
    };
    assert_eq!(
        decode_with(utf8, &ascii),
        Err(Error::InvalidString {
            offset: 8,
            expected: "ASCII"
        })
    );
    let replace = Options {
        strings: StringPolicy::AsciiReplace,
        ..Options::DEFAULT
    };
    let PacketRef::Message(m) = decode_with(utf8, &replace).expect("kept raw") else {
        panic!()
    };
    assert_eq!(m.args().next(), Some(ArgRef::RawStr("é".as_bytes())));
}

#[test]
fn char_layouts() {
    let std_bytes = b"/c\0\0,c\0\0\0\0\0A";
    let py_bytes = b"/c\0\0,c\0\0A\0\0\0";
    let m = Packet::Message(Message::new("/c").arg('A'));
    assert_eq!(m.to_bytes().as_deref(), Ok(&std_bytes[..]));
    assert_eq!(msg(std_bytes), Ok(m.clone()));
    let py = Options {
        char_layout: CharLayout::FirstByte,
        ..Options::DEFAULT
    };
    assert_eq!(m.to_bytes_with(&py).as_deref(), Ok(&py_bytes[..]));
    assert_eq!(Packet::decode_with(py_bytes, &py), Ok(m));
    // Unicode chars travel in the int32 layout, not in the first-byte one.
    let euro = Packet::Message(Message::new("/c").arg('€'));
    assert_eq!(
        Packet::decode(&euro.to_bytes().expect("int32 layout")),
        Ok(euro.clone())
    );
    assert!(matches!(
        euro.to_bytes_with(&py),
        Err(Error::InvalidChar { value: 0x20ac, .. })
    ));
    assert!(matches!(
        msg(b"/c\0\0,c\0\0\0\0\xd8\0"),
        Err(Error::InvalidChar {
            offset: 8,
            value: 0xd800
        })
    ));
}

#[test]
fn chars_decode_in_either_layout_under_any_option() {
    let std_bytes = b"/c\0\0,cc\0\0\0\0A\0\0\0\xe9";
    let py_bytes = b"/c\0\0,cc\0A\0\0\0\xe9\0\0\0";
    let expected = Packet::Message(Message::new("/c").arg('A').arg('é'));
    let py = Options {
        char_layout: CharLayout::FirstByte,
        ..Options::DEFAULT
    };
    for opts in [&Options::DEFAULT, &py, &Options::OSC4PY3] {
        for bytes in [&std_bytes[..], &py_bytes[..]] {
            assert_eq!(Packet::decode_with(bytes, opts), Ok(expected.clone()));
            let PacketRef::Message(m) = decode_with(bytes, opts).unwrap() else {
                panic!()
            };
            let args: Vec<_> = m.args().collect();
            assert_eq!(args, [ArgRef::Char('A'), ArgRef::Char('é')]);
            assert_eq!(m.to_owned(), *expected.as_message().unwrap());
        }
    }
    // Both layouts in one message, and a code point above U+00FF with osc4py3's options.
    let mixed = b"/c\0\0,cc\0A\0\0\0\0\0\x20\xac";
    let euro = Packet::Message(Message::new("/c").arg('A').arg('€'));
    assert_eq!(msg(mixed), Ok(euro.clone()));
    assert_eq!(Packet::decode_with(mixed, &Options::OSC4PY3), Ok(euro));
    // Encoding keeps the int32 layout unless the option asks for osc4py3's.
    assert_eq!(expected.to_bytes().as_deref(), Ok(&std_bytes[..]));
    assert_eq!(expected.to_bytes_with(&py).as_deref(), Ok(&py_bytes[..]));
}

#[test]
fn chars_in_neither_layout_are_an_error() {
    let py = Options {
        char_layout: CharLayout::FirstByte,
        ..Options::DEFAULT
    };
    // 'A' in the first byte with a stray byte after it; above U+10FFFF; a surrogate.
    for (word, value) in [
        (*b"A\0\0B", 0x4100_0042u32),
        (*b"\0\x11\0\0", 0x0011_0000),
        (*b"\xff\xff\xff\xff", 0xffff_ffff),
        (*b"\0\0\xdc\0", 0xdc00),
    ] {
        let mut bytes = b"/c\0\0,ic\0\0\0\0\x07".to_vec();
        bytes.extend(word);
        let expected = Err(Error::InvalidChar { offset: 12, value });
        assert_eq!(msg(&bytes), expected);
        assert_eq!(Packet::decode_with(&bytes, &py), expected);
        assert_eq!(decode_with(&bytes, &py).map(|p| p.to_owned()), expected);
    }
    let e = msg(b"/c\0\0,c\0\0A\0\0B").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid `c` value 0x41000042 at offset 8: neither an int32 code point nor osc4py3's first-byte form (which holds at most U+00FF)"
    );
}

#[test]
fn allowed_tags_restrict_both_directions() {
    let only_osc10 = Options {
        allowed_tags: TagSet::OSC_1_0,
        ..Options::DEFAULT
    };
    let m = Packet::Message(Message::new("/a").arg(1).arg(2i64));
    assert_eq!(
        m.to_bytes_with(&only_osc10),
        Err(Error::TagNotAllowed {
            offset: 1,
            tag: Tag::Long
        })
    );
    let bytes = m.to_bytes().expect("all tags allowed by default");
    assert_eq!(
        decode_with(&bytes, &only_osc10),
        Err(Error::TagNotAllowed {
            offset: 6,
            tag: Tag::Long
        })
    );
}

#[test]
fn address_checks() {
    assert_eq!(
        msg(b"/a b,\0\0\0"),
        Err(Error::InvalidAddress {
            offset: 0,
            reason: "contains a space"
        })
    );
    let lax = Options {
        check_address: false,
        ..Options::DEFAULT
    };
    assert!(decode_with(b"/a b\0\0\0\0,\0\0\0", &lax).is_ok());
    let m = Packet::Message(Message::new("no/slash"));
    assert!(matches!(m.to_bytes(), Err(Error::InvalidAddress { .. })));
    // Patterns are legal addresses to send.
    assert!(
        Packet::Message(Message::new("/synth/*/{freq,amp}"))
            .to_bytes()
            .is_ok()
    );
}

#[test]
fn encode_reports_buffer_size() {
    let m = Packet::Message(Message::new("/abc").arg("hello"));
    let mut small = [0u8; 10];
    assert_eq!(
        m.encode_into(&mut small),
        Err(Error::BufferTooSmall {
            needed: 20,
            available: 10
        })
    );
    assert_eq!(m.encoded_len(), Ok(20));
}
