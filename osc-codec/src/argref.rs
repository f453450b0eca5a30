//! One decoded argument: [`ArgRef`], borrowing strings and blobs from the packet.

use crate::{Midi, Rgba, Tag, TimeTag};

/// One decoded argument, borrowing strings and blobs from the packet.
///
/// Arrays appear flattened, as [`ArgRef::ArrayOpen`] ... [`ArgRef::ArrayClose`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ArgRef<'a> {
    /// `i`
    Int(i32),
    /// `f`
    Float(f32),
    /// `s`
    Str(&'a str),
    /// `b`
    Blob(&'a [u8]),
    /// `h`
    Long(i64),
    /// `t`
    TimeTag(TimeTag),
    /// `d`
    Double(f64),
    /// `S`
    Symbol(&'a str),
    /// `c`
    Char(char),
    /// `r`
    Rgba(Rgba),
    /// `m`
    Midi(Midi),
    /// `T` or `F`
    Bool(bool),
    /// `N`
    Nil,
    /// `I`
    Inf,
    /// `[`
    ArrayOpen,
    /// `]`
    ArrayClose,
    /// `s` whose bytes the `StringPolicy` kept raw (not valid text).
    RawStr(&'a [u8]),
    /// `S` whose bytes the `StringPolicy` kept raw (not valid text).
    RawSymbol(&'a [u8]),
}

impl<'a> ArgRef<'a> {
    /// The type tag of this argument.
    ///
    /// ```
    /// use osc_codec::{ArgRef, Tag};
    /// assert_eq!(ArgRef::Bool(false).tag(), Tag::False);
    /// assert_eq!(ArgRef::Str("x").tag(), Tag::String);
    /// ```
    pub const fn tag(&self) -> Tag {
        match self {
            ArgRef::Int(_) => Tag::Int,
            ArgRef::Float(_) => Tag::Float,
            ArgRef::Str(_) | ArgRef::RawStr(_) => Tag::String,
            ArgRef::Blob(_) => Tag::Blob,
            ArgRef::Long(_) => Tag::Long,
            ArgRef::TimeTag(_) => Tag::TimeTag,
            ArgRef::Double(_) => Tag::Double,
            ArgRef::Symbol(_) | ArgRef::RawSymbol(_) => Tag::Symbol,
            ArgRef::Char(_) => Tag::Char,
            ArgRef::Rgba(_) => Tag::Rgba,
            ArgRef::Midi(_) => Tag::Midi,
            ArgRef::Bool(true) => Tag::True,
            ArgRef::Bool(false) => Tag::False,
            ArgRef::Nil => Tag::Nil,
            ArgRef::Inf => Tag::Inf,
            ArgRef::ArrayOpen => Tag::ArrayOpen,
            ArgRef::ArrayClose => Tag::ArrayClose,
        }
    }

    /// The value if this is an `i`.
    pub const fn as_i32(&self) -> Option<i32> {
        match *self {
            ArgRef::Int(v) => Some(v),
            _ => None,
        }
    }

    /// The value if this is an `h` (or an `i`, widened).
    pub const fn as_i64(&self) -> Option<i64> {
        match *self {
            ArgRef::Long(v) => Some(v),
            ArgRef::Int(v) => Some(v as i64),
            _ => None,
        }
    }

    /// The value if this is an `f`.
    pub const fn as_f32(&self) -> Option<f32> {
        match *self {
            ArgRef::Float(v) => Some(v),
            _ => None,
        }
    }

    /// The value if this is a `d` (or an `f`, widened).
    pub const fn as_f64(&self) -> Option<f64> {
        match *self {
            ArgRef::Double(v) => Some(v),
            ArgRef::Float(v) => Some(v as f64),
            _ => None,
        }
    }

    /// The text if this is an `s` or `S` holding valid text.
    ///
    /// ```
    /// # use osc_codec::ArgRef;
    /// assert_eq!(ArgRef::Symbol("sine").as_str(), Some("sine"));
    /// ```
    pub const fn as_str(&self) -> Option<&'a str> {
        match *self {
            ArgRef::Str(s) | ArgRef::Symbol(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes if this is a `b`.
    pub const fn as_blob(&self) -> Option<&'a [u8]> {
        match *self {
            ArgRef::Blob(b) => Some(b),
            _ => None,
        }
    }

    /// The value if this is a `T` or `F`.
    pub const fn as_bool(&self) -> Option<bool> {
        match *self {
            ArgRef::Bool(b) => Some(b),
            _ => None,
        }
    }
}
