//! The crate's only `unsafe` code: the body of [`is_literal_address`] 16 bytes at a
//! time with SSE2 (part of every x86-64 CPU).
//!
//! Every incoming message and every sent one asks whether its address is literal, and
//! the byte loop costs about 7 instructions a byte (117 for `/test/here/12345`); SSE2
//! compares 16 bytes with about 25. The answer is the byte loop's: a unit test compares
//! the two for every byte value at every position and on every short length, and on
//! other targets the byte loop is all there is.
//!
//! [`is_literal_address`]: crate::is_literal_address
#![allow(unsafe_code)]

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
use core::arch::x86_64::{
    __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
    _mm_set1_epi8,
};

/// Whether `bytes` hold no byte reserved in an address (`` #*,?[]{}``) and no `/`
/// right after a `/`; `None` when this target or length has no vector code for it
/// (fewer than 8 bytes, or not x86-64). The leading `/` and the last byte are the
/// caller's to check.
#[inline(always)]
pub(crate) fn no_reserved_byte_or_empty_part(bytes: &[u8]) -> Option<bool> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        if bytes.len() >= 16 {
            return Some(sse2::long(bytes));
        }
        if bytes.len() >= 8 {
            return Some(sse2::short(bytes));
        }
    }
    let _ = bytes;
    None
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use super::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8,
    };

    /// Bit `i` set when byte `i` of `v` is reserved, or is a `/` that another `/`
    /// follows within `v`.
    #[inline(always)]
    fn faults(v: __m128i) -> u32 {
        // SAFETY: SSE2, which every intrinsic here needs, is enabled (the module's
        // `cfg`); none of them touches memory.
        let (reserved, slash) = unsafe {
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            // `[` and `{`, `]` and `}` differ only in 0x20: one compare for each pair.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let brackets = _mm_or_si128(
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)),
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)),
            );
            let punctuation = _mm_or_si128(
                _mm_or_si128(eq(b' '), eq(b'#')),
                _mm_or_si128(_mm_or_si128(eq(b'*'), eq(b',')), eq(b'?')),
            );
            (
                _mm_movemask_epi8(_mm_or_si128(brackets, punctuation)) as u32,
                _mm_movemask_epi8(eq(b'/')) as u32,
            )
        };
        reserved | (slash & (slash >> 1))
    }

    /// At least 16 bytes: 16-byte windows that start 15 apart (so every pair of
    /// neighbours is inside one), the last one ending at the last byte.
    #[inline(always)]
    pub(super) fn long(bytes: &[u8]) -> bool {
        let last = bytes.len().saturating_sub(16);
        let mut start = 0;
        let mut found = 0;
        loop {
            let at = start.min(last);
            let Some(chunk) = bytes.get(at..).and_then(|b| b.first_chunk::<16>()) else {
                return false;
            };
            // SAFETY: the unaligned load reads exactly the 16 bytes `chunk` refers to.
            found |= faults(unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) });
            if at == last {
                return found == 0;
            }
            start += 15;
        }
    }

    /// 8 to 15 bytes, in a vector built from two overlapping words and zeros after
    /// the end (a zero byte is neither reserved nor `/`).
    #[inline(always)]
    pub(super) fn short(bytes: &[u8]) -> bool {
        let len = bytes.len();
        let (Some(low), Some(tail)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) else {
            return false;
        };
        // The bytes from 8 to the end: the tail word moved down past the overlap.
        let high = u64::from_le_bytes(*tail)
            .checked_shr(8 * (16 - len) as u32)
            .unwrap_or(0);
        // SAFETY: SSE2 is enabled (the module's `cfg`); the intrinsic touches no memory.
        let v = unsafe { _mm_set_epi64x(high as i64, u64::from_le_bytes(*low) as i64) };
        faults(v) == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The definition: no reserved byte, no `/` right after a `/`.
    fn bytewise(bytes: &[u8]) -> bool {
        !bytes
            .iter()
            .any(|&b| crate::RESERVED_ADDRESS_CHARS.as_bytes().contains(&b))
            && !bytes.windows(2).any(|w| w == b"//")
    }

    /// Every byte value; under Miri (slow) the reserved ones, `/` and a few others.
    fn test_bytes() -> Vec<u8> {
        if cfg!(miri) {
            let mut bytes = b" #*,?[]{}/".to_vec();
            bytes.extend([0, 0x2d, 0x5c, 0x7f, 0xdb]);
            bytes
        } else {
            (0..=255).collect()
        }
    }

    #[test]
    fn vectors_agree_with_the_bytes_for_every_byte_at_every_position() {
        let values = test_bytes();
        let longest = if cfg!(miri) { 33 } else { 40 };
        for len in 0..=longest {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            for at in 0..len {
                for &b in &values {
                    let mut s = base.clone();
                    s[at] = b;
                    if let Some(v) = no_reserved_byte_or_empty_part(&s) {
                        assert_eq!(v, bytewise(&s), "len {len}, byte {b:#x} at {at}");
                    }
                }
                // A `/` after a `/` at every place, including across windows.
                if at + 1 < len {
                    let mut s = base.clone();
                    s[at] = b'/';
                    s[at + 1] = b'/';
                    if let Some(v) = no_reserved_byte_or_empty_part(&s) {
                        assert!(!v, "len {len}, // at {at}");
                    }
                    s[at + 1] = b'x';
                    if let Some(v) = no_reserved_byte_or_empty_part(&s) {
                        assert!(v, "len {len}, / at {at}");
                    }
                }
            }
        }
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn every_length_from_8_has_vector_code() {
        for len in 8..=64 {
            assert!(no_reserved_byte_or_empty_part(&vec![b'a'; len]).is_some());
        }
        assert!(no_reserved_byte_or_empty_part(b"/abcdef").is_none());
    }
}
