//! The type-tag table: one line per OSC type tag, from which every per-tag part of
//! decoding is generated.
//!
//! A line gives the tag byte, its [`Tag`](crate::Tag), its wire kind, the [`ArgRef`] it
//! reads as and the [`Value`] it builds. The wire kind says how big the data is, how it
//! is aligned and how it is checked; everything is 4-byte aligned, as OSC requires:
//!
//! | kind | data on the wire | checked |
//! |---|---|---|
//! | `none` | nothing | |
//! | `word` | 4 bytes, a big-endian `u32` | present |
//! | `dword` | 8 bytes, a big-endian `u64` | present |
//! | `char` | 4 bytes | a character in either layout ([`wire_char`]) |
//! | `string` | the bytes, a NUL, zeros to a multiple of 4 | terminator, padding, [`StringPolicy`] |
//! | `blob` | an int32 size, the bytes, zeros to a multiple of 4 | size within the data, padding |
//! | `open` / `close` | nothing | brackets balance, depth |
//!
//! Each consumer is a `match` on the tag byte with one arm per line, written once per
//! wire kind and expanded here:
//!
//! - [`read_checked`]: the reference reader (`reference.rs`): every read checked, the
//!   exact error;
//! - [`read_trusted`]: the lazy iterator [`Args`](crate::Args) over validated data;
//! - [`push_owned`]: owned building (`owned.rs`), straight to a `Value` with no `ArgRef`
//!   in between;
//! - [`KIND`]: the fast validator's table (`fast.rs`): each byte's wire kind.
//!
//! A macro that expands to match arms compiles to the same code as the match written
//! by hand, so the generated functions are as fast as the ones they replace.

use crate::read::{Policy, Reader, WireStr, wire_char};
use crate::trusted;
use crate::{ArgRef, Error, Midi, Result, Rgba, StringPolicy, TimeTag};
#[cfg(feature = "alloc")]
use {crate::Value, alloc::vec::Vec};

/// The table. `$gen` receives the scalar tags (byte, `Tag` variant, wire kind, a
/// binding for what the wire kind reads, the `ArgRef` and the `Value` built from it),
/// then the brackets (byte, `Tag` and `ArgRef` variant, wire kind).
macro_rules! tag_table {
    ($gen:ident) => {
        $gen! {
            scalars {
                // byte    Tag         wire     read   ArgRef, Value
                b'i' => Int,       word,   |v| ArgRef::Int(v as i32), Value::Int(v as i32);
                b'f' => Float,     word,   |v| ArgRef::Float(f32::from_bits(v)),
                                               Value::Float(f32::from_bits(v));
                b's' => String,    string, |v| v.map(ArgRef::Str, ArgRef::RawStr),
                                               v.map(|s| Value::String(s.into()),
                                                     |b| Value::RawString(b.into()));
                b'b' => Blob,      blob,   |v| ArgRef::Blob(v), Value::Blob(v.into());
                b'h' => Long,      dword,  |v| ArgRef::Long(v as i64), Value::Long(v as i64);
                b't' => TimeTag,   dword,  |v| ArgRef::TimeTag(TimeTag::from_bits(v)),
                                               Value::TimeTag(TimeTag::from_bits(v));
                b'd' => Double,    dword,  |v| ArgRef::Double(f64::from_bits(v)),
                                               Value::Double(f64::from_bits(v));
                b'S' => Symbol,    string, |v| v.map(ArgRef::Symbol, ArgRef::RawSymbol),
                                               v.map(|s| Value::Symbol(s.into()),
                                                     |b| Value::RawSymbol(b.into()));
                b'c' => Char,      char,   |v| ArgRef::Char(v), Value::Char(v);
                b'r' => Rgba,      word,   |v| ArgRef::Rgba(Rgba::from_u32(v)),
                                               Value::Rgba(Rgba::from_u32(v));
                b'm' => Midi,      word,   |v| ArgRef::Midi(Midi::from_u32(v)),
                                               Value::Midi(Midi::from_u32(v));
                b'T' => True,      none,   |_v| ArgRef::Bool(true), Value::Bool(true);
                b'F' => False,     none,   |_v| ArgRef::Bool(false), Value::Bool(false);
                b'N' => Nil,       none,   |_v| ArgRef::Nil, Value::Nil;
                b'I' => Inf,       none,   |_v| ArgRef::Inf, Value::Inf;
            }
            brackets {
                b'[' => ArrayOpen,  open;
                b']' => ArrayClose, close;
            }
        }
    };
}

impl<'a> WireStr<'a> {
    /// Text or raw bytes, each through its own constructor.
    #[inline(always)]
    fn map<T>(self, text: impl FnOnce(&'a str) -> T, raw: impl FnOnce(&'a [u8]) -> T) -> T {
        match self {
            WireStr::Text(s) => text(s),
            WireStr::Raw(b) => raw(b),
        }
    }
}

// ------------------------------------------------------------ the reference reader

/// A checked read of one wire kind from the `Reader` `$r`.
macro_rules! read_checked_kind {
    (none, $r:ident, $p:ident) => {
        ()
    };
    (word, $r:ident, $p:ident) => {
        $r.u32()?
    };
    (dword, $r:ident, $p:ident) => {
        $r.u64()?
    };
    (char, $r:ident, $p:ident) => {{
        let offset = $r.offset();
        let raw = $r.u32()?;
        wire_char(raw).ok_or(Error::InvalidChar { offset, value: raw })?
    }};
    (string, $r:ident, $p:ident) => {
        $r.string($p.strings, $p.strict_padding)?
    };
    (blob, $r:ident, $p:ident) => {
        $r.blob($p.strict_padding)?
    };
}

macro_rules! gen_read_checked {
    (
        scalars { $($byte:literal => $tag:ident, $wire:ident, |$v:ident| $arg:expr, $value:expr;)* }
        brackets { $($bbyte:literal => $btag:ident, $bwire:ident;)* }
    ) => {
        /// Reads the data of one argument whose tag byte is `tag`, at `tag_offset` in
        /// the packet, checking everything.
        #[inline]
        pub(crate) fn read_checked<'a>(
            tag: u8,
            tag_offset: usize,
            r: &mut Reader<'a>,
            p: Policy,
        ) -> Result<ArgRef<'a>> {
            Ok(match tag {
                $($byte => {
                    let $v = read_checked_kind!($wire, r, p);
                    $arg
                })*
                $($bbyte => ArgRef::$btag,)*
                other => {
                    return Err(Error::UnknownTag {
                        offset: tag_offset,
                        tag: other as char,
                    });
                }
            })
        }
    };
}

tag_table!(gen_read_checked);

// ------------------------------------------------------------ trusted re-reads

/// A read of one wire kind from validated data `$d` (a `&mut &[u8]`); `None` ends.
macro_rules! read_trusted_kind {
    (none, $d:ident, $s:ident) => {
        ()
    };
    (word, $d:ident, $s:ident) => {
        trusted::word($d)?
    };
    (dword, $d:ident, $s:ident) => {
        trusted::dword($d)?
    };
    (char, $d:ident, $s:ident) => {
        wire_char(trusted::word($d)?)?
    };
    (string, $d:ident, $s:ident) => {
        trusted::string($d, $s)?
    };
    (blob, $d:ident, $s:ident) => {
        trusted::blob($d)?
    };
}

macro_rules! gen_read_trusted {
    (
        scalars { $($byte:literal => $tag:ident, $wire:ident, |$v:ident| $arg:expr, $value:expr;)* }
        brackets { $($bbyte:literal => $btag:ident, $bwire:ident;)* }
    ) => {
        /// Reads the argument tagged `tag` off the front of `data`, which was validated
        /// (the lazy iterator [`Args`](crate::Args)). `None` if a read fails (it cannot
        /// on validated data) or the tag is unknown.
        #[inline(always)]
        pub(crate) fn read_trusted<'a>(
            tag: u8,
            data: &mut &'a [u8],
            strings: StringPolicy,
        ) -> Option<ArgRef<'a>> {
            Some(match tag {
                $($byte => {
                    let $v = read_trusted_kind!($wire, data, strings);
                    $arg
                })*
                $($bbyte => ArgRef::$btag,)*
                _ => return None,
            })
        }
    };
}

tag_table!(gen_read_trusted);

#[cfg(feature = "alloc")]
macro_rules! gen_push_owned {
    (
        scalars { $($byte:literal => $tag:ident, $wire:ident, |$v:ident| $arg:expr, $value:expr;)* }
        brackets { $($bbyte:literal => $btag:ident, $bwire:ident;)* }
    ) => {
        /// Reads the scalar argument tagged `tag` at the front of validated `data`,
        /// pushes its owned form and returns the data after it. `None` for a bracket
        /// (the caller builds arrays itself) or if a read fails.
        #[inline(always)]
        pub(crate) fn push_owned<'a>(
            out: &mut Vec<Value>,
            tag: u8,
            mut data: &'a [u8],
            strings: StringPolicy,
        ) -> Option<&'a [u8]> {
            let d = &mut data;
            match tag {
                $($byte => {
                    let $v = read_trusted_kind!($wire, d, strings);
                    out.push($value);
                })*
                _ => return None,
            }
            Some(data)
        }
    };
}

#[cfg(feature = "alloc")]
tag_table!(gen_push_owned);

// ------------------------------------------------------------ the fast validator

// Kinds of type tags for the fast validation loop: 0, 4 and 8 are fixed-size data.
/// A string (`string` kind).
pub(crate) const K_STR: u8 = 9;
/// A blob (`blob` kind).
pub(crate) const K_BLOB: u8 = 10;
/// A character (`char` kind).
pub(crate) const K_CHAR: u8 = 11;
/// `[` (`open` kind).
pub(crate) const K_OPEN: u8 = 12;
/// `]` (`close` kind).
pub(crate) const K_CLOSE: u8 = 13;
/// Not a type tag.
pub(crate) const K_BAD: u8 = 255;

macro_rules! kind_code {
    (none) => {
        0
    };
    (word) => {
        4
    };
    (dword) => {
        8
    };
    (char) => {
        K_CHAR
    };
    (string) => {
        K_STR
    };
    (blob) => {
        K_BLOB
    };
    (open) => {
        K_OPEN
    };
    (close) => {
        K_CLOSE
    };
}

macro_rules! gen_kind {
    (
        scalars { $($byte:literal => $tag:ident, $wire:ident, |$v:ident| $arg:expr, $value:expr;)* }
        brackets { $($bbyte:literal => $btag:ident, $bwire:ident;)* }
    ) => {
        /// The wire kind of each byte as a type tag: the size for fixed-size data (0, 4
        /// or 8), else one of the `K_` codes.
        // Evaluated at compile time: an index out of bounds would fail the build, not panic.
        #[allow(clippy::indexing_slicing)]
        pub(crate) static KIND: [u8; 256] = {
            let mut k = [K_BAD; 256];
            $(k[$byte as usize] = kind_code!($wire);)*
            $(k[$bbyte as usize] = kind_code!($bwire);)*
            k
        };
    };
}

tag_table!(gen_kind);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tag;

    /// The size of a wire kind's data, `None` when it varies.
    macro_rules! data_size {
        (none) => {
            Some(0)
        };
        (open) => {
            Some(0)
        };
        (close) => {
            Some(0)
        };
        (word) => {
            Some(4)
        };
        (char) => {
            Some(4)
        };
        (dword) => {
            Some(8)
        };
        (string) => {
            None
        };
        (blob) => {
            None
        };
    }

    macro_rules! gen_lines {
        (
            scalars { $($byte:literal => $tag:ident, $wire:ident, |$v:ident| $arg:expr, $value:expr;)* }
            brackets { $($bbyte:literal => $btag:ident, $bwire:ident;)* }
        ) => {
            /// Each line's byte, tag and data size.
            const LINES: &[(u8, Tag, Option<usize>)] = &[
                $(($byte, Tag::$tag, data_size!($wire)),)*
                $(($bbyte, Tag::$btag, data_size!($bwire)),)*
            ];
        };
    }
    tag_table!(gen_lines);

    #[test]
    fn the_table_agrees_with_tag() {
        // Every tag on exactly one line, with the byte and size `Tag` gives it.
        assert_eq!(LINES.len(), Tag::ALL.len());
        for tag in Tag::ALL {
            assert_eq!(LINES.iter().filter(|l| l.1 == tag).count(), 1, "{tag}");
        }
        for &(byte, tag, size) in LINES {
            assert_eq!(byte, tag.as_byte(), "{tag}");
            assert_eq!(size, tag.fixed_size(), "{tag}");
            let kind = KIND[usize::from(byte)];
            assert_eq!(
                size.filter(|_| kind <= 8),
                (kind <= 8).then_some(usize::from(kind))
            );
        }
        // Every byte: a kind exactly when it is a tag.
        for b in 0..=255u8 {
            assert_eq!(
                KIND[usize::from(b)] != K_BAD,
                Tag::from_byte(b).is_some(),
                "{b}"
            );
        }
    }
}
