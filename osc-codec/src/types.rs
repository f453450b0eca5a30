//! Small value types shared by the borrowed and owned forms: type tags, colors, MIDI.

use core::fmt;

/// The eight bytes that start a bundle.
pub const BUNDLE_TAG: &[u8; 8] = b"#bundle\0";

/// One OSC type tag.
///
/// ```
/// use osc_codec::Tag;
/// assert_eq!(Tag::from_byte(b'f'), Some(Tag::Float));
/// assert_eq!(Tag::Float.as_char(), 'f');
/// assert_eq!(Tag::from_byte(b'x'), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tag {
    /// `i`: 32-bit signed integer.
    Int,
    /// `f`: 32-bit IEEE float.
    Float,
    /// `s`: string.
    String,
    /// `b`: blob.
    Blob,
    /// `h`: 64-bit signed integer.
    Long,
    /// `t`: timetag.
    TimeTag,
    /// `d`: 64-bit IEEE float.
    Double,
    /// `S`: symbol (alternate string).
    Symbol,
    /// `c`: character.
    Char,
    /// `r`: 32-bit RGBA color.
    Rgba,
    /// `m`: 4-byte MIDI message.
    Midi,
    /// `T`: true (no data).
    True,
    /// `F`: false (no data).
    False,
    /// `N`: nil (no data).
    Nil,
    /// `I`: infinitum / impulse (no data).
    Inf,
    /// `[`: array start (no data).
    ArrayOpen,
    /// `]`: array end (no data).
    ArrayClose,
}

impl Tag {
    /// Every tag, in the order the OSC 1.0 and 1.1 documents list them.
    pub const ALL: [Tag; 17] = [
        Tag::Int,
        Tag::Float,
        Tag::String,
        Tag::Blob,
        Tag::Long,
        Tag::TimeTag,
        Tag::Double,
        Tag::Symbol,
        Tag::Char,
        Tag::Rgba,
        Tag::Midi,
        Tag::True,
        Tag::False,
        Tag::Nil,
        Tag::Inf,
        Tag::ArrayOpen,
        Tag::ArrayClose,
    ];

    /// The tag for a type-tag byte, or `None` if OSC does not define it.
    #[inline]
    pub const fn from_byte(b: u8) -> Option<Tag> {
        Some(match b {
            b'i' => Tag::Int,
            b'f' => Tag::Float,
            b's' => Tag::String,
            b'b' => Tag::Blob,
            b'h' => Tag::Long,
            b't' => Tag::TimeTag,
            b'd' => Tag::Double,
            b'S' => Tag::Symbol,
            b'c' => Tag::Char,
            b'r' => Tag::Rgba,
            b'm' => Tag::Midi,
            b'T' => Tag::True,
            b'F' => Tag::False,
            b'N' => Tag::Nil,
            b'I' => Tag::Inf,
            b'[' => Tag::ArrayOpen,
            b']' => Tag::ArrayClose,
            _ => return None,
        })
    }

    /// The type-tag byte.
    #[inline]
    pub const fn as_byte(self) -> u8 {
        match self {
            Tag::Int => b'i',
            Tag::Float => b'f',
            Tag::String => b's',
            Tag::Blob => b'b',
            Tag::Long => b'h',
            Tag::TimeTag => b't',
            Tag::Double => b'd',
            Tag::Symbol => b'S',
            Tag::Char => b'c',
            Tag::Rgba => b'r',
            Tag::Midi => b'm',
            Tag::True => b'T',
            Tag::False => b'F',
            Tag::Nil => b'N',
            Tag::Inf => b'I',
            Tag::ArrayOpen => b'[',
            Tag::ArrayClose => b']',
        }
    }

    /// The type-tag character.
    #[inline]
    pub const fn as_char(self) -> char {
        self.as_byte() as char
    }

    /// Size of the fixed-width data this tag carries (0 for `T F N I [ ]`),
    /// or `None` for the variable-width `s S b`.
    #[inline]
    pub const fn fixed_size(self) -> Option<usize> {
        match self {
            Tag::Int | Tag::Float | Tag::Char | Tag::Rgba | Tag::Midi => Some(4),
            Tag::Long | Tag::TimeTag | Tag::Double => Some(8),
            Tag::True | Tag::False | Tag::Nil | Tag::Inf | Tag::ArrayOpen | Tag::ArrayClose => {
                Some(0)
            }
            Tag::String | Tag::Symbol | Tag::Blob => None,
        }
    }

    /// A bit for this tag in a [`TagSet`].
    #[inline]
    const fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}'", self.as_char())
    }
}

/// A set of type tags, used to restrict what a codec accepts (osc4py3's
/// restricted typetags option).
///
/// ```
/// use osc_codec::{Tag, TagSet};
/// let set = TagSet::OSC_1_0;
/// assert!(set.contains(Tag::Blob));
/// assert!(!set.contains(Tag::Long));
/// assert!(TagSet::ALL.contains(Tag::Long));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TagSet(u32);

impl TagSet {
    /// Every tag.
    pub const ALL: TagSet = TagSet((1 << 17) - 1);
    /// No tag at all.
    pub const EMPTY: TagSet = TagSet(0);
    /// The four tags OSC 1.0 requires: `i f s b`.
    pub const OSC_1_0: TagSet =
        TagSet(Tag::Int.bit() | Tag::Float.bit() | Tag::String.bit() | Tag::Blob.bit());
    /// The tags OSC 1.1 requires: `i f s b T F N I t`.
    pub const OSC_1_1: TagSet = TagSet(
        TagSet::OSC_1_0.0
            | Tag::True.bit()
            | Tag::False.bit()
            | Tag::Nil.bit()
            | Tag::Inf.bit()
            | Tag::TimeTag.bit(),
    );

    /// This set plus `tag`.
    #[must_use]
    pub const fn with(self, tag: Tag) -> TagSet {
        TagSet(self.0 | tag.bit())
    }

    /// This set without `tag`.
    #[must_use]
    pub const fn without(self, tag: Tag) -> TagSet {
        TagSet(self.0 & !tag.bit())
    }

    /// Whether `tag` is in the set.
    #[inline]
    pub const fn contains(self, tag: Tag) -> bool {
        self.0 & tag.bit() != 0
    }
}

impl Default for TagSet {
    fn default() -> Self {
        TagSet::ALL
    }
}

impl FromIterator<Tag> for TagSet {
    fn from_iter<I: IntoIterator<Item = Tag>>(iter: I) -> Self {
        iter.into_iter().fold(TagSet::EMPTY, TagSet::with)
    }
}

/// An `r` argument: a 32-bit RGBA color, one byte per channel.
///
/// ```
/// use osc_codec::Rgba;
/// let c = Rgba::new(255, 128, 0, 255);
/// assert_eq!(c.to_u32(), 0xff8000ff);
/// assert_eq!(Rgba::from_u32(0xff8000ff), c);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rgba {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha.
    pub a: u8,
}

impl Rgba {
    /// A color from its four channels.
    pub const fn new(r: u8, g: u8, b: u8, a: u8) -> Self {
        Rgba { r, g, b, a }
    }
    /// The wire form as a big-endian `u32` (`0xRRGGBBAA`).
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes([self.r, self.g, self.b, self.a])
    }
    /// A color from its wire form (`0xRRGGBBAA`).
    pub const fn from_u32(v: u32) -> Self {
        let [r, g, b, a] = v.to_be_bytes();
        Rgba { r, g, b, a }
    }
}

/// An `m` argument: a 4-byte MIDI message (port id, status byte, data1, data2).
///
/// ```
/// use osc_codec::Midi;
/// let note_on = Midi::new(0, 0x90, 60, 100);
/// assert_eq!(note_on.to_u32(), 0x0090_3c64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Midi {
    /// Port id.
    pub port: u8,
    /// Status byte.
    pub status: u8,
    /// First data byte.
    pub data1: u8,
    /// Second data byte.
    pub data2: u8,
}

impl Midi {
    /// A MIDI message from its four bytes.
    pub const fn new(port: u8, status: u8, data1: u8, data2: u8) -> Self {
        Midi {
            port,
            status,
            data1,
            data2,
        }
    }
    /// The wire form as a big-endian `u32`.
    pub const fn to_u32(self) -> u32 {
        u32::from_be_bytes([self.port, self.status, self.data1, self.data2])
    }
    /// A MIDI message from its wire form.
    pub const fn from_u32(v: u32) -> Self {
        let [port, status, data1, data2] = v.to_be_bytes();
        Midi {
            port,
            status,
            data1,
            data2,
        }
    }
}
