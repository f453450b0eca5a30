//! Owned packets: [`Message`], [`Bundle`], [`Packet`], their builders and owned decoding.

use alloc::string::String;
use alloc::vec::Vec;

use crate::borrowed::{BundleRef, MessageRef, PacketRef, check_packet_size};

use crate::value::coerce;
use crate::{Error, Options, Result, Tag, TimeTag, Value};

/// An owned OSC message: an address (or address pattern) and its arguments.
///
/// The type tags are those of the values (see [`value`](crate::value) for the automatic
/// mapping); [`Message::with_tags`] checks and applies an explicit type-tag string.
///
/// ```
/// use osc_codec::{Message, Value};
/// let msg = Message::new("/synth/1/freq").arg(440).arg(0.5f32).arg("sine");
/// assert_eq!(msg.type_tags(), ",ifs");
/// assert_eq!(msg.args[2], Value::String("sine".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The address or address pattern.
    pub address: String,
    /// The arguments, arrays nested as [`Value::Array`].
    pub args: Vec<Value>,
}

impl Message {
    /// A message with no arguments.
    pub fn new(address: impl Into<String>) -> Self {
        Message {
            address: address.into(),
            args: Vec::new(),
        }
    }

    /// Appends one argument, typed automatically (builder style).
    #[must_use]
    pub fn arg(mut self, v: impl Into<Value>) -> Self {
        self.args.push(v.into());
        self
    }

    /// Appends one argument, typed automatically.
    pub fn push(&mut self, v: impl Into<Value>) {
        self.args.push(v.into());
    }

    /// A message whose arguments are checked against an explicit type-tag string
    /// (with or without the leading `,`) and converted where that loses nothing.
    ///
    /// ```
    /// use osc_codec::{Error, Message, Value};
    /// let m = Message::with_tags("/a", ",hdS", vec![1.into(), 2.into(), "x".into()])?;
    /// assert_eq!(m.args, [Value::Long(1), Value::Double(2.0), Value::Symbol("x".into())]);
    /// assert_eq!(m.type_tags(), ",hdS");
    ///
    /// let err = Message::with_tags("/a", ",i", vec!["x".into()]).unwrap_err();
    /// assert!(matches!(err, Error::TagMismatch { index: 0, expected: 'i', found: "string" }));
    /// let err = Message::with_tags("/a", ",ii", vec![1.into()]).unwrap_err();
    /// assert!(matches!(err, Error::ArgCount { tags: 2, values: 1 }));
    /// let err = Message::with_tags("/a", ",x", vec![1.into()]).unwrap_err();
    /// assert!(matches!(err, Error::UnknownTag { tag: 'x', .. }));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_tags(address: impl Into<String>, tags: &str, args: Vec<Value>) -> Result<Self> {
        let tags = tags.strip_prefix(',').unwrap_or(tags);
        let mut parsed = Vec::with_capacity(tags.len());
        for (i, c) in tags.char_indices() {
            let tag = u8::try_from(c)
                .ok()
                .and_then(Tag::from_byte)
                .ok_or(Error::UnknownTag { offset: i, tag: c })?;
            parsed.push(tag);
        }
        let mut tag_iter = parsed.into_iter();
        let mut index = 0;
        let args = apply_tags(&mut tag_iter, args, &mut index, 0)?;
        let rest = tag_iter.count();
        if rest > 0 {
            return Err(Error::ArgCount {
                tags: index + rest,
                values: index,
            });
        }
        Ok(Message {
            address: address.into(),
            args,
        })
    }

    /// The type-tag string, with its leading `,`.
    pub fn type_tags(&self) -> String {
        let mut s = String::with_capacity(self.args.len() + 1);
        s.push(',');
        push_tags(&self.args, &mut s);
        s
    }

    /// Decodes a message (owned), with default options.
    pub fn decode(bytes: &[u8]) -> Result<Message> {
        match Packet::decode(bytes)? {
            Packet::Message(m) => Ok(m),
            Packet::Bundle(_) => Err(Error::NotAPacket { offset: 0 }),
        }
    }
}

fn push_tags(args: &[Value], s: &mut String) {
    for a in args {
        match a {
            Value::Array(inner) => {
                s.push('[');
                push_tags(inner, s);
                s.push(']');
            }
            v => s.push(v.tag().as_char()),
        }
    }
}

/// Matches values with tags, recursing into arrays; `index` counts flattened positions.
fn apply_tags(
    tags: &mut impl Iterator<Item = Tag>,
    values: Vec<Value>,
    index: &mut usize,
    depth: usize,
) -> Result<Vec<Value>> {
    let given = values.len();
    let mut out = Vec::with_capacity(given);
    let mut values = values.into_iter();
    loop {
        let Some(tag) = tags.next() else {
            let rest = values.count();
            if rest > 0 {
                return Err(Error::ArgCount {
                    tags: *index,
                    values: *index + rest,
                });
            }
            break;
        };
        if tag == Tag::ArrayClose {
            if depth == 0 {
                return Err(Error::UnbalancedArray { offset: *index });
            }
            let rest = values.count();
            if rest > 0 {
                return Err(Error::ArgCount {
                    tags: *index,
                    values: *index + rest,
                });
            }
            return Ok(out);
        }
        let Some(v) = values.next() else {
            return Err(Error::ArgCount {
                tags: *index + 1 + tags.count(),
                values: *index,
            });
        };
        let this = *index;
        *index += 1;
        if tag == Tag::ArrayOpen {
            let Value::Array(inner) = v else {
                return Err(Error::TagMismatch {
                    index: this,
                    expected: '[',
                    found: v.kind(),
                });
            };
            out.push(Value::Array(apply_tags(tags, inner, index, depth + 1)?));
            continue;
        }
        match coerce(v, tag) {
            Ok(v) => out.push(v),
            Err(v) => {
                return Err(Error::TagMismatch {
                    index: this,
                    expected: tag.as_char(),
                    found: v.kind(),
                });
            }
        }
    }
    if depth > 0 {
        return Err(Error::UnbalancedArray { offset: *index });
    }
    Ok(out)
}

/// An owned OSC bundle: a timetag and its elements (messages and bundles).
///
/// ```
/// use osc_codec::{Bundle, Message, TimeTag};
/// let b = Bundle::immediate()
///     .add(Message::new("/a").arg(1))
///     .add(Bundle::new(TimeTag::new(3_900_000_000, 0)).add(Message::new("/b")));
/// assert_eq!(b.content.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bundle {
    /// When the bundle's content takes effect.
    pub timetag: TimeTag,
    /// The elements, in order.
    pub content: Vec<Packet>,
}

impl Bundle {
    /// An empty bundle for the given time.
    pub fn new(timetag: TimeTag) -> Self {
        Bundle {
            timetag,
            content: Vec::new(),
        }
    }

    /// An empty bundle for "immediately".
    pub fn immediate() -> Self {
        Bundle::new(TimeTag::IMMEDIATELY)
    }

    /// Appends a message or bundle (builder style).
    #[must_use]
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, p: impl Into<Packet>) -> Self {
        self.content.push(p.into());
        self
    }

    /// Appends a message or bundle.
    pub fn push(&mut self, p: impl Into<Packet>) {
        self.content.push(p.into());
    }
}

/// An owned OSC packet: a message or a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A message.
    Message(Message),
    /// A bundle.
    Bundle(Bundle),
}

impl From<Message> for Packet {
    fn from(m: Message) -> Self {
        Packet::Message(m)
    }
}

impl From<Bundle> for Packet {
    fn from(b: Bundle) -> Self {
        Packet::Bundle(b)
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

    /// The message, if this is one.
    pub fn as_message(&self) -> Option<&Message> {
        match self {
            Packet::Message(m) => Some(m),
            Packet::Bundle(_) => None,
        }
    }

    /// The bundle, if this is one.
    pub fn as_bundle(&self) -> Option<&Bundle> {
        match self {
            Packet::Bundle(b) => Some(b),
            Packet::Message(_) => None,
        }
    }
}

/// Validates the whole packet, then builds the owned values from the checked view.
fn decode_owned(raw: &[u8], base: usize, opts: &Options, depth: usize) -> Result<Packet> {
    Ok(packet_ref_to_owned(&PacketRef::validated(
        raw, base, opts, depth,
    )?))
}

pub(crate) fn bundle_ref_to_owned(b: &BundleRef<'_>) -> Bundle {
    let mut content = Vec::with_capacity(crate::validate::element_count(b.element_bytes()));
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
            crate::ArgRef::ArrayOpen => stack.push(core::mem::take(&mut current)),
            crate::ArgRef::ArrayClose => {
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

/// Reads the argument tagged `tag` at the front of `data`, pushes its owned form and
/// returns the data after it.
#[inline(always)]
fn push_owned<'a>(
    out: &mut Vec<Value>,
    tag: u8,
    data: &'a [u8],
    strings: crate::StringPolicy,
) -> Option<&'a [u8]> {
    use crate::read::WireStr;
    use crate::validate::{trusted_blob, trusted_string};
    fn word(data: &[u8]) -> Option<(u32, &[u8])> {
        let (w, rest) = data.split_first_chunk::<4>()?;
        Some((u32::from_be_bytes(*w), rest))
    }
    fn dword(data: &[u8]) -> Option<(u64, &[u8])> {
        let (w, rest) = data.split_first_chunk::<8>()?;
        Some((u64::from_be_bytes(*w), rest))
    }
    Some(match tag {
        b'i' => {
            let (v, rest) = word(data)?;
            out.push(Value::Int(v as i32));
            rest
        }
        b'f' => {
            let (v, rest) = word(data)?;
            out.push(Value::Float(f32::from_bits(v)));
            rest
        }
        b's' | b'S' => {
            let (s, rest) = trusted_string(data, strings)?;
            out.push(match (s, tag) {
                (WireStr::Text(s), b's') => Value::String(s.into()),
                (WireStr::Text(s), _) => Value::Symbol(s.into()),
                (WireStr::Raw(b), b's') => Value::RawString(b.into()),
                (WireStr::Raw(b), _) => Value::RawSymbol(b.into()),
            });
            rest
        }
        b'b' => {
            let (b, rest) = trusted_blob(data)?;
            out.push(Value::Blob(b.into()));
            rest
        }
        b'h' => {
            let (v, rest) = dword(data)?;
            out.push(Value::Long(v as i64));
            rest
        }
        b't' => {
            let (v, rest) = dword(data)?;
            out.push(Value::TimeTag(TimeTag::from_bits(v)));
            rest
        }
        b'd' => {
            let (v, rest) = dword(data)?;
            out.push(Value::Double(f64::from_bits(v)));
            rest
        }
        b'c' => {
            let (raw, rest) = word(data)?;
            out.push(Value::Char(crate::read::wire_char(raw)?));
            rest
        }
        b'r' => {
            let (v, rest) = word(data)?;
            out.push(Value::Rgba(crate::Rgba::from_u32(v)));
            rest
        }
        b'm' => {
            let (v, rest) = word(data)?;
            out.push(Value::Midi(crate::Midi::from_u32(v)));
            rest
        }
        b'T' => {
            out.push(Value::Bool(true));
            data
        }
        b'F' => {
            out.push(Value::Bool(false));
            data
        }
        b'N' => {
            out.push(Value::Nil);
            data
        }
        b'I' => {
            out.push(Value::Inf);
            data
        }
        _ => return None,
    })
}

/// Pushes the owned form of a scalar argument. Each arm builds its value in place:
/// going through `Value::from_arg` puts every value through a temporary.
#[inline(always)]
fn push_arg(out: &mut Vec<Value>, arg: crate::ArgRef<'_>) {
    use crate::ArgRef as A;
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
