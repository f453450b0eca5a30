//! Owned building: [`Packet::decode`] and the views' `to_owned`, which validate the
//! whole packet first and then build owned values from the checked view (each scalar
//! through the tag table's [`push_owned`], arrays with an explicit stack).

use alloc::vec::Vec;

use crate::decoder::{check_packet_size, validated};
use crate::tags::push_owned;
use crate::trusted::element_count;
use crate::views::{BundleRef, MessageRef, PacketRef};
use crate::{ArgRef, Bundle, Error, Message, Options, Packet, Result, Value};

impl Message {
    /// Decodes a message (owned), with default options.
    pub fn decode(bytes: &[u8]) -> Result<Message> {
        match Packet::decode(bytes)? {
            Packet::Message(m) => Ok(m),
            Packet::Bundle(_) => Err(Error::NotAPacket { offset: 0 }),
        }
    }
}

impl Packet {
    /// Decodes an owned packet with the default options.
    ///
    /// ```
    /// use osc_codec::{Message, Packet};
    /// let p = Packet::decode(b"/a\0\0,i\0\0\0\0\0\x07")?;
    /// assert_eq!(p, Packet::Message(Message::new("/a").arg(7)));
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Packet> {
        Packet::decode_with(bytes, &Options::DEFAULT)
    }

    /// Decodes an owned packet with the given options.
    pub fn decode_with(bytes: &[u8], opts: &Options) -> Result<Packet> {
        check_packet_size(bytes, opts)?;
        decode_owned(bytes, 0, opts, 0)
    }
}

/// Validates the whole packet, then builds the owned values from the checked view.
/// Inlined into [`Packet::decode_with`]: as a function of its own (which the compiler
/// chose once this code moved out of `packet.rs`) the owned decode of a message with
/// arrays took ~5% longer.
#[inline(always)]
fn decode_owned(raw: &[u8], base: usize, opts: &Options, depth: usize) -> Result<Packet> {
    Ok(packet_ref_to_owned(&validated(raw, base, opts, depth)?))
}

pub(crate) fn bundle_ref_to_owned(b: &BundleRef<'_>) -> Bundle {
    let mut content = Vec::with_capacity(element_count(b.element_bytes()));
    content.extend(b.elements().map(|e| packet_ref_to_owned(&e)));
    Bundle {
        timetag: b.timetag(),
        content,
    }
}

pub(crate) fn packet_ref_to_owned(p: &PacketRef<'_>) -> Packet {
    match p {
        PacketRef::Message(m) => Packet::Message(message_to_owned(m)),
        PacketRef::Bundle(b) => Packet::Bundle(bundle_ref_to_owned(b)),
    }
}

/// Builds owned arguments from a validated message, with an explicit stack for arrays.
pub(crate) fn message_to_owned(m: &MessageRef<'_>) -> Message {
    let args = if m.tags().contains(&b'[') {
        nested_args(m)
    } else {
        // No arrays: one value per tag, in a vector of exactly that size.
        flat_args(m)
    };
    Message {
        address: m.address().into(),
        args,
    }
}

/// The arguments of a message with arrays, nested with an explicit stack.
fn nested_args(m: &MessageRef<'_>) -> Vec<Value> {
    let mut stack: Vec<Vec<Value>> = Vec::new();
    let mut current: Vec<Value> = Vec::with_capacity(m.tag_count());
    for arg in m.args() {
        match arg {
            ArgRef::ArrayOpen => stack.push(core::mem::take(&mut current)),
            ArgRef::ArrayClose => {
                let inner = core::mem::take(&mut current);
                current = stack.pop().unwrap_or_default();
                current.push(Value::Array(inner));
            }
            other => push_arg(&mut current, other),
        }
    }
    current
}

/// The arguments of a validated message without arrays, read straight from the data
/// into a vector of exactly the right size (no `ArgRef` in between).
fn flat_args(m: &MessageRef<'_>) -> Vec<Value> {
    let tags = m.tags();
    let mut out = Vec::with_capacity(tags.len());
    let mut data = m.data();
    let strings = m.policy.strings;
    for &tag in tags {
        let Some(rest) = push_owned(&mut out, tag, data, strings) else {
            break;
        };
        data = rest;
    }
    out
}

/// Pushes the owned form of a scalar argument. Each arm builds its value in place:
/// going through `Value::from_arg` puts every value through a temporary.
#[inline(always)]
fn push_arg(out: &mut Vec<Value>, arg: ArgRef<'_>) {
    use ArgRef as A;
    match arg {
        A::Int(v) => out.push(Value::Int(v)),
        A::Float(v) => out.push(Value::Float(v)),
        A::Str(s) => out.push(Value::String(s.into())),
        A::Blob(b) => out.push(Value::Blob(b.into())),
        A::Long(v) => out.push(Value::Long(v)),
        A::TimeTag(v) => out.push(Value::TimeTag(v)),
        A::Double(v) => out.push(Value::Double(v)),
        A::Symbol(s) => out.push(Value::Symbol(s.into())),
        A::Char(c) => out.push(Value::Char(c)),
        A::Rgba(v) => out.push(Value::Rgba(v)),
        A::Midi(v) => out.push(Value::Midi(v)),
        A::Bool(b) => out.push(Value::Bool(b)),
        A::Nil => out.push(Value::Nil),
        A::Inf => out.push(Value::Inf),
        A::RawStr(b) => out.push(Value::RawString(b.into())),
        A::RawSymbol(b) => out.push(Value::RawSymbol(b.into())),
        A::ArrayOpen | A::ArrayClose => {}
    }
}

impl MessageRef<'_> {
    /// An owned copy of this message.
    pub fn to_owned(&self) -> Message {
        message_to_owned(self)
    }
}

impl BundleRef<'_> {
    /// An owned copy of this bundle.
    pub fn to_owned(&self) -> Bundle {
        bundle_ref_to_owned(self)
    }
}

impl PacketRef<'_> {
    /// An owned copy of this packet.
    ///
    /// ```
    /// use osc_codec::{decode, Message, Packet};
    /// let bytes = Packet::from(Message::new("/x").arg("hi")).to_bytes()?;
    /// let owned: Packet = decode(&bytes)?.to_owned();
    /// assert_eq!(owned, Packet::Message(Message::new("/x").arg("hi")));
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn to_owned(&self) -> Packet {
        packet_ref_to_owned(self)
    }
}
