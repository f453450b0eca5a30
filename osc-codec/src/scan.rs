//! Finding OSC strings 8 bytes at a time, and the codec's only `unsafe` block.
//!
//! Strings are 4-aligned inside a message, so a string ends in the 4-byte word that
//! holds its NUL, and that word also holds the padding. [`scan`] reads 8-byte words:
//! it finds the NUL, checks the padding, and on the way notes whether any byte is
//! >= 0x80 (not ASCII) and, for addresses, whether any byte is forbidden there.
//!
//! A string that [`scan`] found to be ASCII is valid UTF-8 by definition, so
//! [`Scanned::ascii`] turns it into `&str` without validating it again: that skips
//! core's UTF-8 check, measured at about 3 ns of a 20 ns decode of a typical message.
//! The proof travels with the bytes: [`Scanned`]'s fields are private to this module,
//! and only [`scan`] builds one.
#![allow(unsafe_code)]

use crate::swar::{HI, LO, address_bad, zero_bytes};

/// An OSC string found by [`scan`].
#[derive(Clone, Copy)]
pub(crate) struct Scanned<'a> {
    /// The input from the string's first byte on.
    rest: &'a [u8],
    /// Length without the NUL.
    len: usize,
    /// Non-zero when a byte of `bytes` is >= 0x80.
    high: u64,
    /// Position after the NUL and the padding.
    pub(crate) next: usize,
    /// With `ADDR`: non-zero when a byte is forbidden in an address.
    pub(crate) bad: u64,
}

impl<'a> Scanned<'a> {
    /// Length without the NUL.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether every byte is ASCII.
    #[inline(always)]
    pub(crate) fn is_ascii(&self) -> bool {
        self.high == 0
    }

    /// The string as text when every byte is ASCII; `None` otherwise (the caller then
    /// validates it as UTF-8 or applies its string policy).
    #[inline(always)]
    pub(crate) fn ascii(&self) -> Option<&'a str> {
        if self.high != 0 {
            return None;
        }
        let bytes = self.rest.get(..self.len)?;
        debug_assert!(bytes.is_ascii());
        // SAFETY: `high` is the OR of the string's bytes (the first `len` bytes of
        // `rest`) masked to the top bit of each byte (see `scan`), so it is zero only
        // when every one of them is below 0x80, and ASCII is valid UTF-8. `rest`, `len`
        // and `high` are private to this module and set together by `scan` alone.
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    }
}

/// Scans the OSC string at `pos` 8 bytes at a time: finds its NUL, checks that the
/// padding is within `buf` and, when `strict`, zero. `None` when any of that fails.
///
/// The string's end is 4-aligned from `pos`, so it ends in the word holding the NUL:
/// at byte 4 of it when the NUL is in its first half, else at byte 8.
#[inline(always)]
pub(crate) fn scan<const ADDR: bool>(buf: &[u8], pos: usize, strict: bool) -> Option<Scanned<'_>> {
    let rest = buf.get(pos..)?;
    let mut high = 0u64;
    let mut bad = 0u64;
    let mut off = 0usize;
    let mut chunks = rest.chunks_exact(8);
    let w = loop {
        match chunks.next() {
            Some(c) => {
                let w = u64::from_le_bytes(<[u8; 8]>::try_from(c).ok()?);
                if zero_bytes(w) != 0 {
                    break w;
                }
                high |= w;
                if ADDR {
                    bad |= address_bad(w);
                }
                off += 8;
            }
            None => {
                // Fewer than 8 bytes left: the string must end within the next 4.
                let (c, _) = chunks.remainder().split_first_chunk::<4>()?;
                break u64::from(u32::from_le_bytes(*c)) | ((LO * 0x41) << 32);
            }
        }
    };
    let z = zero_bytes(w);
    if z == 0 {
        return None;
    }
    // The NUL is byte k of this word (shift = 8k); the bytes after it are the padding.
    let shift = z.trailing_zeros() & !7;
    let (end, used) = if shift < 32 {
        (4, 0xffff_ffff)
    } else {
        (8, u64::MAX)
    };
    if strict && (w & used) >> shift != 0 {
        return None;
    }
    // Bytes from the NUL on are replaced by a harmless 'A' for the checks.
    let below = (1u64 << shift) - 1;
    let w = (w & below) | ((LO * 0x41) & !below);
    high |= w;
    if ADDR {
        bad |= address_bad(w);
    }
    Some(Scanned {
        rest,
        len: off + (shift / 8) as usize,
        high: high & HI,
        next: pos + off + end,
        bad,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn words_find_the_nul_and_check_the_padding() {
        let s = scan::<true>(b"/ab\0", 0, true).unwrap();
        assert_eq!((s.len(), s.next, s.high, s.bad), (3, 4, 0, 0));
        let s = scan::<true>(b"/abc\0\0\0\0", 0, true).unwrap();
        assert_eq!((s.len(), s.next), (4, 8));
        let s = scan::<true>(b"xx\0\0/a b\0\0\0\0", 4, true).unwrap();
        assert_eq!((s.len(), s.next), (4, 12));
        assert_ne!(s.bad, 0);
        assert!(scan::<true>(b"/a\0x", 0, true).is_none());
        assert!(scan::<true>(b"/a\0x", 0, false).is_some());
        assert!(scan::<true>(b"/abc\0\0", 0, true).is_none());
        let s = scan::<false>(b"\xc3\xa9\0\0", 0, true).unwrap();
        assert_ne!(s.high, 0);
        assert_eq!(s.ascii(), None);
        // Bytes after the NUL take no part in the checks.
        let s = scan::<true>(b"/\0#\x80", 0, false).unwrap();
        assert_eq!((s.len(), s.high, s.bad), (1, 0, 0));
        assert_eq!(s.ascii(), Some("/"));
    }

    #[test]
    fn ascii_is_reported_only_when_every_byte_is_ascii() {
        // A byte >= 0x80 at every position of strings of every length up to 24.
        for len in 1..24 {
            let mut buf = [b'a'; 32];
            if let Some(x) = buf.get_mut(len) {
                *x = 0;
            }
            let padded = (len + 4) & !3;
            let s = scan::<false>(buf.get(..padded).unwrap(), 0, false).unwrap();
            assert_eq!(s.ascii(), Some(&"aaaaaaaaaaaaaaaaaaaaaaaa"[..len]));
            for at in 0..len {
                let mut bad = buf;
                bad[at] = 0x80 | (at as u8);
                let s = scan::<false>(bad.get(..padded).unwrap(), 0, false).unwrap();
                assert_eq!(s.ascii(), None, "len {len}, byte {at}");
                assert!(!s.is_ascii());
            }
        }
    }
}
