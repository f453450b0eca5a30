//! Owned packets: [`Message`], [`Bundle`], [`Packet`] and their builders (decoding
//! into them is in `owned.rs`, encoding in `encode_owned.rs`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::value::coerce;
use crate::{Error, Result, Tag, TimeTag, Value};

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
