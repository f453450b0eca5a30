//! The packets the codec benches decode and read, and the ways they read them: shared
//! by the criterion bench (`benches/codec.rs`) and the alternating `read_cost` program,
//! so both measure the same work.

use osc_codec::{ArgRef, Bundle, Message, MessageRef, Packet, PacketRef, TimeTag};

/// A packet to decode and read, with its typed read.
#[derive(Debug)]
pub struct ReadCase {
    /// The criterion group's name: `typical_ifs`, `floats16`, `bundle10x16f`, `blob1k`.
    pub name: &'static str,
    /// The packet.
    pub packet: Packet,
    /// Reads every argument with the types known (`MessageRef::args_as`) into a digest.
    pub typed: fn(&PacketRef<'_>) -> u64,
    /// The same read of the messages a decode found ([`osc_codec::decode_messages`]).
    pub typed_found: fn(&[MessageRef<'_>]) -> u64,
}

/// The four packets: a typical message, a message of 16 floats, a bundle of 10 such
/// messages, and a message with a 1 KiB blob.
///
/// ```
/// let cases = osc4rs_benches::reading::cases();
/// assert_eq!(cases.len(), 4);
/// for case in &cases {
///     let bytes = case.packet.to_bytes().unwrap();
///     let view = osc_codec::decode(&bytes).unwrap();
///     assert_ne!((case.typed)(&view), 0, "{} reads with its own types", case.name);
///     let mut found = Vec::new();
///     let view = osc_codec::decode_messages(&bytes, &Default::default(), &mut found).unwrap();
///     assert_eq!((case.typed_found)(&found), (case.typed)(&view));
/// }
/// ```
pub fn cases() -> Vec<ReadCase> {
    let typical = Message::new("/synth/1/freq")
        .arg(440)
        .arg(0.5f32)
        .arg("sine");
    let mut bundle = Bundle::new(TimeTag::new(3_900_000_000, 0x8000_0000));
    for i in 0..10 {
        bundle = bundle.add(floats_message(i));
    }
    let blob: Vec<u8> = (0..1024).map(|i| (i % 251) as u8).collect();
    vec![
        ReadCase {
            name: "typical_ifs",
            packet: typical.into(),
            typed: typed_ifs,
            typed_found: found_ifs,
        },
        ReadCase {
            name: "floats16",
            packet: floats_message(0).into(),
            typed: typed_floats16,
            typed_found: found_floats16,
        },
        ReadCase {
            name: "bundle10x16f",
            packet: bundle.into(),
            typed: typed_floats16,
            typed_found: found_floats16,
        },
        ReadCase {
            name: "blob1k",
            packet: Message::new("/data/blob").arg(blob).into(),
            typed: typed_blob,
            typed_found: found_blob,
        },
    ]
}

/// `/mixer/channel/I/eq` with 16 floats.
fn floats_message(i: usize) -> Message {
    (0..16).fold(Message::new(format!("/mixer/channel/{i}/eq")), |m, k| {
        m.arg((i * 16 + k) as f32 * 0.25)
    })
}

/// Reads every argument of a decoded view (the messages of bundles too) the way a
/// handler uses them: each argument's value goes into a digest, which is returned.
///
/// ```
/// let bytes = osc_codec::Message::new("/a").arg(1).arg(2).to_bytes().unwrap();
/// let view = osc_codec::decode(&bytes).unwrap();
/// assert_eq!(osc4rs_benches::reading::read_all(&view), 1 ^ 2);
/// ```
pub fn read_all(p: &PacketRef<'_>) -> u64 {
    each_message(p, read_args)
}

/// `read` of every message of `p`, combined: a bundle's messages are read where its
/// elements are found, as a handler of a flat bundle reads them; only a nested bundle
/// is a call. (A call per element hands each view over through memory, which costs
/// more than finding it: see docs/performance.md, "Reading a decoded view".)
#[inline(always)]
fn each_message(p: &PacketRef<'_>, read: impl Fn(&MessageRef<'_>) -> u64 + Copy) -> u64 {
    match p {
        PacketRef::Message(m) => read(m),
        PacketRef::Bundle(b) => b.elements().fold(0, |acc, e| {
            acc ^ match e {
                PacketRef::Message(m) => read(&m),
                PacketRef::Bundle(_) => nested(&e, read),
            }
        }),
    }
}

/// [`each_message`] of a nested bundle, out of line (it recurses).
#[inline(never)]
fn nested(p: &PacketRef<'_>, read: impl Fn(&MessageRef<'_>) -> u64 + Copy) -> u64 {
    each_message(p, read)
}

/// Finds every message of a decoded view (the elements of bundles parsed again) and
/// reads its address and tag count, but no argument: the part of [`read_all`] that
/// is not reading arguments.
///
/// ```
/// use osc_codec::{Bundle, Message, Packet};
/// let bytes = Packet::from(Bundle::immediate().add(Message::new("/ab").arg(1)))
///     .to_bytes()
///     .unwrap();
/// let view = osc_codec::decode(&bytes).unwrap();
/// assert_eq!(osc4rs_benches::reading::walk(&view), 3 ^ 1);
/// ```
pub fn walk(p: &PacketRef<'_>) -> u64 {
    each_message(p, |m| (m.address().len() ^ m.tag_count()) as u64)
}

/// An argument's value as a number (a string or blob: where it is and how long).
fn weigh(a: ArgRef<'_>) -> u64 {
    match a {
        ArgRef::Int(i) => u64::from(i as u32),
        ArgRef::Float(f) => u64::from(f.to_bits()),
        ArgRef::Str(s) | ArgRef::Symbol(s) => s.as_ptr() as u64 ^ s.len() as u64,
        ArgRef::Blob(b) | ArgRef::RawStr(b) | ArgRef::RawSymbol(b) => {
            b.as_ptr() as u64 ^ b.len() as u64
        }
        ArgRef::Long(l) => l as u64,
        ArgRef::TimeTag(t) => t.to_bits(),
        ArgRef::Double(d) => d.to_bits(),
        ArgRef::Char(c) => u64::from(c),
        ArgRef::Rgba(c) => u64::from(c.to_u32()),
        ArgRef::Midi(m) => u64::from(m.to_u32()),
        ArgRef::Bool(b) => u64::from(b),
        _ => 1,
    }
}

/// `read` of every message in `messages` (as [`osc_codec::decode_messages`] gives
/// them), combined.
#[inline(always)]
fn each_found(messages: &[MessageRef<'_>], read: impl Fn(&MessageRef<'_>) -> u64) -> u64 {
    messages.iter().fold(0, |acc, m| acc ^ read(m))
}

/// [`read_all`] of the messages a decode found ([`osc_codec::decode_messages`]).
///
/// ```
/// use osc_codec::{Bundle, Message, Options, Packet};
/// let bytes = Packet::from(Bundle::immediate().add(Message::new("/a").arg(1).arg(2)))
///     .to_bytes()
///     .unwrap();
/// let mut found = Vec::new();
/// let view = osc_codec::decode_messages(&bytes, &Options::DEFAULT, &mut found).unwrap();
/// let from_view = osc4rs_benches::reading::read_all(&view);
/// assert_eq!(osc4rs_benches::reading::read_found(&found), from_view);
/// ```
pub fn read_found(messages: &[MessageRef<'_>]) -> u64 {
    each_found(messages, read_args)
}

/// Every argument of one message into a digest, through the lazy iterator.
#[inline(always)]
fn read_args(m: &MessageRef<'_>) -> u64 {
    m.args().fold(0, |acc, a| acc ^ weigh(a))
}

#[inline(always)]
fn ifs(m: &MessageRef<'_>) -> u64 {
    m.args_as::<(i32, f32, &str)>().map_or(0, |(i, f, s)| {
        u64::from(i as u32) ^ u64::from(f.to_bits()) ^ s.as_ptr() as u64 ^ s.len() as u64
    })
}

#[inline(always)]
fn floats16(m: &MessageRef<'_>) -> u64 {
    m.args_as::<[f32; 16]>().map_or(0, |fs| {
        fs.iter().fold(0, |acc, f| acc ^ u64::from(f.to_bits()))
    })
}

#[inline(always)]
fn blob(m: &MessageRef<'_>) -> u64 {
    m.args_as::<(&[u8],)>()
        .map_or(0, |(b,)| b.as_ptr() as u64 ^ b.len() as u64)
}

fn typed_ifs(p: &PacketRef<'_>) -> u64 {
    each_message(p, ifs)
}

fn typed_floats16(p: &PacketRef<'_>) -> u64 {
    each_message(p, floats16)
}

fn typed_blob(p: &PacketRef<'_>) -> u64 {
    each_message(p, blob)
}

fn found_ifs(messages: &[MessageRef<'_>]) -> u64 {
    each_found(messages, ifs)
}

fn found_floats16(messages: &[MessageRef<'_>]) -> u64 {
    each_found(messages, floats16)
}

fn found_blob(messages: &[MessageRef<'_>]) -> u64 {
    each_found(messages, blob)
}
