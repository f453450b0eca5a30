//! Checked primitive reads over a byte slice. Every read is bounds-checked and returns
//! an error carrying the absolute offset; nothing here can panic.

use crate::{Error, Options, Result, StringPolicy};

/// How strings and padding are read: the part of the [`Options`] that the views keep,
/// so that their lazy iterators re-read data the way it was validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) strings: StringPolicy,
    pub(crate) strict_padding: bool,
}

impl Policy {
    pub(crate) fn of(opts: &Options) -> Self {
        Policy {
            strings: opts.strings,
            strict_padding: opts.strict_padding,
        }
    }
}

/// Rounds `n` up to a multiple of 4.
#[inline]
pub(crate) const fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

/// The size of an OSC string of `len` bytes with its NUL and padding.
#[inline]
pub(crate) const fn str_size(len: usize) -> usize {
    (len + 4) & !3
}

/// The character held by a `c` argument's four bytes, in either layout: a big-endian
/// int32 code point (`00 00 00 41`: the specification, liblo, python-osc) or osc4py3's
/// character in the first byte (`41 00 00 00`). The two cannot be confused: osc4py3's
/// form with a non-zero first byte is above 0x10FFFF, which is never a code point, and
/// `00 00 00 00` is U+0000 in both. `None` when the bytes are neither (a surrogate, a
/// value above 0x10FFFF with other bytes set).
#[inline(always)]
pub(crate) const fn wire_char(raw: u32) -> Option<char> {
    if raw & 0x00ff_ffff == 0 {
        Some((raw >> 24) as u8 as char)
    } else {
        char::from_u32(raw)
    }
}

/// A string as read from the wire: checked text, or bytes kept raw by the policy.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WireStr<'a> {
    Text(&'a str),
    Raw(&'a [u8]),
}

/// A cursor over a packet or part of one. `base` is the absolute offset of `data[0]`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) fn new(data: &'a [u8], base: usize) -> Self {
        Reader { data, pos: 0, base }
    }

    /// Absolute offset of the cursor.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n);
        match end.and_then(|end| self.data.get(self.pos..end)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(Error::UnexpectedEnd {
                offset: self.offset(),
                needed: n,
                available: self.remaining(),
            }),
        }
    }

    #[inline]
    pub(crate) fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.read_array()?))
    }

    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.read_array()?))
    }

    /// Reads padding of `n` bytes, checking it is zero when `strict`.
    #[inline]
    fn padding(&mut self, n: usize, strict: bool) -> Result<()> {
        let start = self.offset();
        let pad = self.take(n)?;
        if strict {
            if let Some(i) = pad.iter().position(|&b| b != 0) {
                return Err(Error::NonZeroPadding { offset: start + i });
            }
        }
        Ok(())
    }

    /// Reads a NUL-terminated, padded OSC string and returns its bytes (no NUL).
    #[inline]
    pub(crate) fn str_bytes(&mut self, strict_padding: bool) -> Result<&'a [u8]> {
        let start = self.offset();
        let rest = self.rest();
        let Some(len) = rest.iter().position(|&b| b == 0) else {
            return Err(Error::MissingTerminator { offset: start });
        };
        let bytes = self.take(len + 1)?;
        self.padding(str_size(len) - len - 1, strict_padding)?;
        Ok(bytes.get(..len).unwrap_or(&[]))
    }

    /// Reads a string and checks it against the policy.
    #[inline]
    pub(crate) fn string(
        &mut self,
        policy: StringPolicy,
        strict_padding: bool,
    ) -> Result<WireStr<'a>> {
        let start = self.offset();
        let bytes = self.str_bytes(strict_padding)?;
        check_str(bytes, policy, start)
    }

    /// Reads a string that must be text (an address or the type tags).
    pub(crate) fn text(&mut self, policy: StringPolicy, strict_padding: bool) -> Result<&'a str> {
        let start = self.offset();
        match self.string(policy, strict_padding)? {
            WireStr::Text(s) => Ok(s),
            WireStr::Raw(_) => Err(Error::InvalidString {
                offset: start,
                expected: "UTF-8",
            }),
        }
    }

    /// Reads a blob: int32 length, bytes, padding.
    #[inline]
    pub(crate) fn blob(&mut self, strict_padding: bool) -> Result<&'a [u8]> {
        let offset = self.offset();
        let size = self.u32()? as i32;
        let remaining = self.remaining();
        let len = usize::try_from(size).ok().filter(|&n| pad4(n) <= remaining);
        let Some(len) = len else {
            return Err(Error::BadBlobSize {
                offset,
                size: i64::from(size),
                remaining,
            });
        };
        let bytes = self.take(len)?;
        self.padding(pad4(len) - len, strict_padding)?;
        Ok(bytes)
    }
}

/// Checks string bytes against a policy.
#[inline]
pub(crate) fn check_str(bytes: &[u8], policy: StringPolicy, offset: usize) -> Result<WireStr<'_>> {
    match policy {
        StringPolicy::Utf8 => {
            core::str::from_utf8(bytes)
                .map(WireStr::Text)
                .map_err(|_| Error::InvalidString {
                    offset,
                    expected: "UTF-8",
                })
        }
        StringPolicy::Ascii => {
            if bytes.is_ascii() {
                Ok(WireStr::Text(
                    core::str::from_utf8(bytes).unwrap_or_default(),
                ))
            } else {
                Err(Error::InvalidString {
                    offset,
                    expected: "ASCII",
                })
            }
        }
        StringPolicy::AsciiReplace => {
            if bytes.is_ascii() {
                Ok(WireStr::Text(
                    core::str::from_utf8(bytes).unwrap_or_default(),
                ))
            } else {
                Ok(WireStr::Raw(bytes))
            }
        }
        StringPolicy::Raw => Ok(match core::str::from_utf8(bytes) {
            Ok(s) => WireStr::Text(s),
            Err(_) => WireStr::Raw(bytes),
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn string_padding_rules() {
        let mut r = Reader::new(b"abc\0abcd\0\0\0\0\0\0\0\0", 0);
        assert_eq!(r.str_bytes(true).unwrap(), b"abc");
        assert_eq!(r.str_bytes(true).unwrap(), b"abcd");
        assert_eq!(r.str_bytes(true).unwrap(), b"");
        assert!(r.is_empty());
    }

    #[test]
    fn string_errors() {
        let mut r = Reader::new(b"abcd", 8);
        assert_eq!(
            r.str_bytes(true),
            Err(Error::MissingTerminator { offset: 8 })
        );
        let mut r = Reader::new(b"ab\0x", 0);
        assert_eq!(r.str_bytes(true), Err(Error::NonZeroPadding { offset: 3 }));
        let mut r = Reader::new(b"ab\0x", 0);
        assert_eq!(r.str_bytes(false).unwrap(), b"ab");
        let mut r = Reader::new(b"abcd\0\0", 0);
        assert!(matches!(
            r.str_bytes(true),
            Err(Error::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn blob_sizes() {
        let mut r = Reader::new(b"\0\0\0\x05hello\0\0\0", 0);
        assert_eq!(r.blob(true).unwrap(), b"hello");
        let mut r = Reader::new(b"\xff\xff\xff\xff", 0);
        assert!(matches!(
            r.blob(true),
            Err(Error::BadBlobSize { size: -1, .. })
        ));
        let mut r = Reader::new(b"\x7f\xff\xff\xff", 0);
        assert!(matches!(r.blob(true), Err(Error::BadBlobSize { .. })));
        let mut r = Reader::new(b"\0\0\0\0", 0);
        assert_eq!(r.blob(true).unwrap(), b"");
    }

    #[test]
    fn chars_in_both_layouts() {
        // Every code point as an int32.
        for c in [
            '\0',
            'A',
            '\u{7f}',
            '\u{e9}',
            '\u{ff}',
            '\u{100}',
            '\u{20ac}',
            '\u{1f3b5}',
            '\u{10ffff}',
        ] {
            assert_eq!(wire_char(c as u32), Some(c), "{c:?}");
        }
        // osc4py3's form: the first byte, then zeros.
        for b in 0..=255u8 {
            assert_eq!(wire_char(u32::from(b) << 24), Some(char::from(b)), "{b:#x}");
        }
        // Neither: a surrogate, above U+10FFFF with more than the first byte set.
        for raw in [
            0xd800,
            0xdfff,
            0x0011_0000,
            0x4100_0042,
            0x4142_0000,
            0xffff_ffff,
        ] {
            assert_eq!(wire_char(raw), None, "{raw:#x}");
        }
    }
}
