//! Owned argument values and the automatic typing of Rust values.
//!
//! # Automatic type tags
//!
//! | Rust value | [`Value`] | tag |
//! |---|---|---|
//! | `i32` (and `i8`, `i16`, `u8`, `u16`) | `Int` | `i` |
//! | `i64`, `u32` | `Long` | `h` |
//! | `f32` | `Float` | `f` |
//! | `f64` | `Double` | `d` |
//! | `&str`, `String` | `String` | `s` |
//! | [`Symbol`] | `Symbol` | `S` |
//! | `Vec<u8>`, `&[u8]`, `[u8; N]` | `Blob` | `b` |
//! | [`TimeTag`] | `TimeTag` | `t` |
//! | `char` | `Char` | `c` |
//! | [`Rgba`] / [`Midi`] | `Rgba` / `Midi` | `r` / `m` |
//! | `bool` | `Bool` | `T` / `F` |
//! | `()`, `None` ([`Nil`]) | `Nil` | `N` |
//! | [`Inf`] | `Inf` | `I` |
//! | `Vec<Value>` and other vectors of convertible values | `Array` | `[` ... `]` |
//! | `Option<T>` | `T`'s mapping, or `Nil` | ... or `N` |
//!
//! Nothing is ever truncated: a `u32` becomes an `h` rather than a wrapped `i`. To force
//! a tag, convert the value yourself or use [`Message::with_tags`](crate::Message::with_tags).

use alloc::string::String;
use alloc::vec::Vec;

use crate::{ArgRef, Midi, Rgba, Tag, TimeTag};

/// An owned OSC argument.
///
/// Equality is bitwise for floats: `NaN == NaN` and `0.0 != -0.0`, so that two values
/// are equal exactly when they encode to the same bytes.
///
/// ```
/// use osc_codec::Value;
/// assert_eq!(Value::from(3), Value::Int(3));
/// assert_eq!(Value::from(f32::NAN), Value::Float(f32::NAN));
/// assert_ne!(Value::from(0.0f32), Value::from(-0.0f32));
/// assert_eq!(Value::from(vec![1, 2]).tag(), osc_codec::Tag::ArrayOpen);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Value {
    /// `i`
    Int(i32),
    /// `f`
    Float(f32),
    /// `s`
    String(String),
    /// `b`
    Blob(Vec<u8>),
    /// `h`
    Long(i64),
    /// `t`
    TimeTag(TimeTag),
    /// `d`
    Double(f64),
    /// `S`
    Symbol(String),
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
    /// `[` ... `]`
    Array(Vec<Value>),
    /// `s` holding bytes that are not valid text (see [`StringPolicy`](crate::StringPolicy)).
    RawString(Vec<u8>),
    /// `S` holding bytes that are not valid text.
    RawSymbol(Vec<u8>),
}

impl Value {
    /// The type tag (for an array, `[`).
    pub fn tag(&self) -> Tag {
        match self {
            Value::Int(_) => Tag::Int,
            Value::Float(_) => Tag::Float,
            Value::String(_) | Value::RawString(_) => Tag::String,
            Value::Blob(_) => Tag::Blob,
            Value::Long(_) => Tag::Long,
            Value::TimeTag(_) => Tag::TimeTag,
            Value::Double(_) => Tag::Double,
            Value::Symbol(_) | Value::RawSymbol(_) => Tag::Symbol,
            Value::Char(_) => Tag::Char,
            Value::Rgba(_) => Tag::Rgba,
            Value::Midi(_) => Tag::Midi,
            Value::Bool(true) => Tag::True,
            Value::Bool(false) => Tag::False,
            Value::Nil => Tag::Nil,
            Value::Inf => Tag::Inf,
            Value::Array(_) => Tag::ArrayOpen,
        }
    }

    /// A short name of the kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "int32",
            Value::Float(_) => "float32",
            Value::String(_) | Value::RawString(_) => "string",
            Value::Blob(_) => "blob",
            Value::Long(_) => "int64",
            Value::TimeTag(_) => "timetag",
            Value::Double(_) => "float64",
            Value::Symbol(_) | Value::RawSymbol(_) => "symbol",
            Value::Char(_) => "char",
            Value::Rgba(_) => "rgba",
            Value::Midi(_) => "midi",
            Value::Bool(_) => "bool",
            Value::Nil => "nil",
            Value::Inf => "infinitum",
            Value::Array(_) => "array",
        }
    }

    /// The value if this is an `i`.
    pub fn as_i32(&self) -> Option<i32> {
        match *self {
            Value::Int(v) => Some(v),
            _ => None,
        }
    }
    /// The value if this is an `h` or an `i` (widened).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Long(v) => Some(v),
            Value::Int(v) => Some(v.into()),
            _ => None,
        }
    }
    /// The value if this is an `f`.
    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            Value::Float(v) => Some(v),
            _ => None,
        }
    }
    /// The value if this is a `d` or an `f` (widened).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Double(v) => Some(v),
            Value::Float(v) => Some(v.into()),
            _ => None,
        }
    }
    /// The text if this is an `s` or `S`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Symbol(s) => Some(s),
            _ => None,
        }
    }
    /// The bytes if this is a `b`.
    pub fn as_blob(&self) -> Option<&[u8]> {
        match self {
            Value::Blob(b) => Some(b),
            _ => None,
        }
    }
    /// The value if this is a `T`/`F`.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
    /// The elements if this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The owned form of a borrowed scalar argument; `None` for array brackets.
    #[inline]
    pub fn from_arg(arg: ArgRef<'_>) -> Option<Value> {
        Some(match arg {
            ArgRef::Int(v) => Value::Int(v),
            ArgRef::Float(v) => Value::Float(v),
            ArgRef::Str(s) => Value::String(s.into()),
            ArgRef::Blob(b) => Value::Blob(b.into()),
            ArgRef::Long(v) => Value::Long(v),
            ArgRef::TimeTag(v) => Value::TimeTag(v),
            ArgRef::Double(v) => Value::Double(v),
            ArgRef::Symbol(s) => Value::Symbol(s.into()),
            ArgRef::Char(c) => Value::Char(c),
            ArgRef::Rgba(v) => Value::Rgba(v),
            ArgRef::Midi(v) => Value::Midi(v),
            ArgRef::Bool(b) => Value::Bool(b),
            ArgRef::Nil => Value::Nil,
            ArgRef::Inf => Value::Inf,
            ArgRef::RawStr(b) => Value::RawString(b.into()),
            ArgRef::RawSymbol(b) => Value::RawSymbol(b.into()),
            ArgRef::ArrayOpen | ArgRef::ArrayClose => return None,
        })
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (String(a), String(b)) | (Symbol(a), Symbol(b)) => a == b,
            (Blob(a), Blob(b)) | (RawString(a), RawString(b)) | (RawSymbol(a), RawSymbol(b)) => {
                a == b
            }
            (Long(a), Long(b)) => a == b,
            (TimeTag(a), TimeTag(b)) => a == b,
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (Char(a), Char(b)) => a == b,
            (Rgba(a), Rgba(b)) => a == b,
            (Midi(a), Midi(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Nil, Nil) | (Inf, Inf) => true,
            (Array(a), Array(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

/// A marker that converts to [`Value::Nil`] (`N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Nil;

/// A marker that converts to [`Value::Inf`] (`I`, infinitum or impulse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Inf;

/// A string to be sent as a symbol (`S`) rather than a string (`s`).
///
/// ```
/// use osc_codec::{Symbol, Value};
/// assert_eq!(Value::from(Symbol("sine".into())), Value::Symbol("sine".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Symbol(pub String);

macro_rules! value_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            #[inline]
            fn from($v: $t) -> Value { $e }
        })*
    };
}

value_from! {
    i32 => |v| Value::Int(v),
    i16 => |v| Value::Int(v.into()),
    i8 => |v| Value::Int(v.into()),
    u16 => |v| Value::Int(v.into()),
    u8 => |v| Value::Int(v.into()),
    i64 => |v| Value::Long(v),
    u32 => |v| Value::Long(v.into()),
    f32 => |v| Value::Float(v),
    f64 => |v| Value::Double(v),
    &str => |v| Value::String(v.into()),
    String => |v| Value::String(v),
    &String => |v| Value::String(v.clone()),
    Symbol => |v| Value::Symbol(v.0),
    Vec<u8> => |v| Value::Blob(v),
    &[u8] => |v| Value::Blob(v.into()),
    TimeTag => |v| Value::TimeTag(v),
    char => |v| Value::Char(v),
    Rgba => |v| Value::Rgba(v),
    Midi => |v| Value::Midi(v),
    bool => |v| Value::Bool(v),
    () => |_v| Value::Nil,
    Nil => |_v| Value::Nil,
    Inf => |_v| Value::Inf,
    Vec<Value> => |v| Value::Array(v),
}

impl<const N: usize> From<[u8; N]> for Value {
    fn from(v: [u8; N]) -> Value {
        Value::Blob(v.into())
    }
}

impl<const N: usize> From<&[u8; N]> for Value {
    fn from(v: &[u8; N]) -> Value {
        Value::Blob(v.as_slice().into())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Nil, Into::into)
    }
}

macro_rules! array_from {
    ($($t:ty),*) => {
        $(impl From<Vec<$t>> for Value {
            fn from(v: Vec<$t>) -> Value {
                Value::Array(v.into_iter().map(Value::from).collect())
            }
        })*
    };
}

array_from!(i32, i64, f32, f64, String, &str, bool, char);

impl From<ArgRef<'_>> for Option<Value> {
    fn from(arg: ArgRef<'_>) -> Self {
        Value::from_arg(arg)
    }
}

/// Converts `v` to fit an explicit tag, or says why it does not. Conversions are
/// lossless only: `i` <-> `h` <-> `f`/`d` when the number is exactly representable,
/// `s` <-> `S`, `c` from a one-character string, `T`/`F` only from the matching bool.
/// Whether `d` narrows to an `f32` without losing what the writer meant: exactly, or
/// to the `f32` that prints as the same shortest decimal (`8.871` written in Rust is an
/// `f64`; the `f32` nearest to it prints as `8.871` too, so `,f` takes it). A value
/// with more digits than an `f32` holds (`3.141592653589793`) is refused.
fn same_decimal_as_f32(d: f64) -> bool {
    let f = d as f32;
    if f64::from(f) == d || d.is_nan() {
        return true;
    }
    f.is_finite() && alloc::format!("{f}").parse::<f64>() == Ok(d)
}

pub(crate) fn coerce(v: Value, tag: Tag) -> core::result::Result<Value, Value> {
    use Value as V;
    let ok = match (v, tag) {
        (v, t) if v.tag() == t => v,
        (V::Int(i), Tag::Long) => V::Long(i.into()),
        (V::Int(i), Tag::Double) => V::Double(i.into()),
        (V::Int(i), Tag::Float) if (i as f32) as i32 == i && i != i32::MAX => V::Float(i as f32),
        (V::Long(i), Tag::Int) if i32::try_from(i).is_ok() => V::Int(i as i32),
        (V::Long(i), Tag::Double) if (i as f64) as i64 == i && i != i64::MAX => V::Double(i as f64),
        (V::Long(i), Tag::Float) if (i as f32) as i64 == i && i != i64::MAX => V::Float(i as f32),
        (V::Float(f), Tag::Double) => V::Double(f.into()),
        (V::Double(d), Tag::Float) if same_decimal_as_f32(d) => V::Float(d as f32),
        (V::String(s), Tag::Symbol) => V::Symbol(s),
        (V::Symbol(s), Tag::String) => V::String(s),
        (V::RawString(s), Tag::Symbol) => V::RawSymbol(s),
        (V::RawSymbol(s), Tag::String) => V::RawString(s),
        (V::String(s), Tag::Char) if s.chars().count() == 1 => {
            V::Char(s.chars().next().unwrap_or('\0'))
        }
        (V::Nil, Tag::Nil) => V::Nil,
        (v, _) => return Err(v),
    };
    Ok(ok)
}
