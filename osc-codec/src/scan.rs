//! Finding OSC strings many bytes at a time, and the codec's only `unsafe` code.
//!
//! Strings are 4-aligned inside a message, so a string ends in the 4-byte word that
//! holds its NUL, and that word also holds the padding. [`scan`] finds the NUL, checks
//! the padding, and on the way notes whether any byte is >= 0x80 (not ASCII) and, for
//! addresses, whether any byte is forbidden there. On x86-64 it reads 16 bytes at a time
//! with SSE2 (part of every x86-64 CPU) whenever the buffer holds 16 bytes; elsewhere,
//! and for shorter buffers, it reads 8-byte words (SWAR). Both give the same answers
//! (a unit test compares them on every small input shape).
//!
//! A string that [`scan`] found to be ASCII is valid UTF-8 by definition, so
//! [`Scanned::ascii`] turns it into `&str` without validating it again: that skips
//! core's UTF-8 check, measured at about 3 ns of a 20 ns decode of a typical message.
//! The proof travels with the bytes: [`Scanned`]'s fields are private to this module,
//! and only its scanners build one ([`scan`], [`scan_validated`], [`scan_pair`] and the
//! two they share).
//!
//! The lazy argument iterator's runs of `i` and `f` tags ([`word_run`]) are counted
//! here too, 16 tags per SSE2 compare, for the same reason: the vector code stays in
//! this one module.
#![allow(unsafe_code)]

use crate::swar::{HI, LO, address_bad, nonzero_bytes, zero_bytes};

/// An OSC string found by one of this module's scanners.
#[derive(Clone, Copy)]
pub(crate) struct Scanned<'a> {
    /// The input from the string's first byte on.
    rest: &'a [u8],
    /// Length without the NUL.
    len: usize,
    /// Non-zero when a byte of the string is >= 0x80.
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
        // SAFETY: `high` has a bit set for every byte >= 0x80 among the string's bytes
        // (the first `len` bytes of `rest`): the OR of those bytes masked to each
        // byte's top bit in `scan_words`, the OR of their top-bit masks in `scan_16`.
        // In `scan_validated` it is the OR of the top bits of the word's bytes below
        // the NUL, which are the string's bytes; in `scan_pair`, the window's
        // high-byte mask cut to the string's bytes. So it is zero only when every one of
        // them is below 0x80, and ASCII is valid UTF-8. `rest`, `len` and `high` are
        // private to this module and set together by those four functions alone (unit
        // tests check them against a byte loop and against each other).
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    }
}

/// Scans the OSC string at `pos`: finds its NUL, checks that the padding is within
/// `buf` and, when `strict`, zero. `None` when any of that fails.
#[inline(always)]
pub(crate) fn scan<const ADDR: bool>(buf: &[u8], pos: usize, strict: bool) -> Option<Scanned<'_>> {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if buf.len() >= 16 {
        return scan_16(buf, pos, strict, sse2::masks::<ADDR>);
    }
    scan_words::<ADDR>(buf, pos, strict)
}

/// [`scan`] of a string at the front of a validated message's data (not strict, no
/// address checks), with one word read when the string ends in its first 8 bytes, as
/// most argument strings do; longer strings go through [`scan`]. On data that was not
/// validated it may find a different split, never read out of `buf`.
#[inline(always)]
pub(crate) fn scan_validated(buf: &[u8]) -> Option<Scanned<'_>> {
    if let Some(c) = buf.first_chunk::<8>() {
        let w = u64::from_le_bytes(*c);
        let z = zero_bytes(w);
        if z != 0 {
            // The first NUL is byte k (shift = 8k); the string is the k bytes before it,
            // and its padding ends the word half that holds the NUL.
            let shift = z.trailing_zeros() & !7;
            let below = (1u64 << shift) - 1;
            return Some(Scanned {
                rest: buf,
                len: (shift / 8) as usize,
                high: w & below & HI,
                next: if shift < 32 { 4 } else { 8 },
                bad: 0,
            });
        }
    }
    scan::<false>(buf, 0, false)
}

/// Scans a message's first two strings at once (its address, and the type tags after
/// it) when both end within the first 48 bytes of `buf`, or within its first 32 when
/// it is shorter: the NUL and high-byte masks of those bytes are taken without waiting
/// for either string's end, so the two scans do not wait on each other. (A window of
/// 64 bytes measured slower on bundles of 16-float messages, whose strings end by 40.)
/// Not strict, no address checks: on any input, what it finds is what [`scan`] at 0 and
/// [`scan`] at the first string's end find; it does not check that the second string
/// starts with `,` (the caller does). `None` when either string ends past the window
/// (or `buf` is shorter than 32 bytes, or the target has no SSE2); the caller then scans
/// them one at a time.
#[inline(always)]
pub(crate) fn scan_pair(buf: &[u8]) -> Option<(Scanned<'_>, Scanned<'_>)> {
    let (nul, high) = window_masks(buf)?;
    let first_len = nul.trailing_zeros();
    let second_at = (first_len + 4) & !3;
    // Zero when the window holds no second NUL (or no first one: the shift fails).
    let rest_nul = nul.checked_shr(second_at).unwrap_or(0);
    if rest_nul == 0 {
        return None;
    }
    let second_len = rest_nul.trailing_zeros();
    // The end of the word that holds the NUL: within the window, which is whole
    // 16-byte chunks of `buf`, so within `buf`.
    let next = second_at + ((second_len + 4) & !3);
    // Both lengths are below 48 here: each has its NUL in the window.
    let below = |n: u32| (1u64 << n) - 1;
    let first = Scanned {
        rest: buf,
        len: first_len as usize,
        high: high & below(first_len),
        next: second_at as usize,
        bad: 0,
    };
    let second = Scanned {
        rest: buf.get(second_at as usize..)?,
        len: second_len as usize,
        high: (high >> second_at) & below(second_len),
        next: next as usize,
        bad: 0,
    };
    Some((first, second))
}

/// The NUL and high-byte masks (bit `i` for byte `i`) of the first 32 or 48 bytes of
/// `buf`, as many as it holds; `None` below 32.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn window_masks(buf: &[u8]) -> Option<(u64, u64)> {
    let chunks = (buf.len() / 16).min(3);
    if chunks < 2 {
        return None;
    }
    let (mut nul, mut high) = (0u64, 0u64);
    for (i, chunk) in buf.chunks_exact(16).take(chunks).enumerate() {
        let m = sse2::masks::<false>(chunk.first_chunk::<16>()?);
        nul |= u64::from(m.nul) << (16 * i);
        high |= u64::from(m.high) << (16 * i);
    }
    Some((nul, high))
}

/// Without SSE2, [`scan_pair`] leaves both strings to [`scan`].
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn window_masks(_: &[u8]) -> Option<(u64, u64)> {
    None
}

/// Bit masks over 16 bytes, bit `i` for byte `i`: the NUL bytes, the bytes >= 0x80, and
/// (for addresses) the bytes forbidden in an address (see [`address_bad`]).
#[derive(Clone, Copy)]
struct Masks {
    nul: u32,
    high: u32,
    bad: u32,
}

impl Masks {
    /// The masks of the bytes from `shift` on, moved to bit 0.
    #[inline(always)]
    fn from(self, shift: usize) -> Masks {
        Masks {
            nul: self.nul >> shift,
            high: self.high >> shift,
            bad: self.bad >> shift,
        }
    }
}

/// [`scan`] 16 bytes at a time; `buf` must hold at least 16 bytes. When fewer than 16
/// bytes are left from the current position, the last 16 bytes of `buf` are read and
/// their masks shifted, so no read ever goes past `buf`.
#[cfg_attr(
    not(all(target_arch = "x86_64", target_feature = "sse2")),
    allow(dead_code)
)]
#[inline(always)]
fn scan_16(
    buf: &[u8],
    pos: usize,
    strict: bool,
    masks: impl Fn(&[u8; 16]) -> Masks,
) -> Option<Scanned<'_>> {
    let rest = buf.get(pos..)?;
    let last = buf.len().checked_sub(16)?;
    let mut high = 0u32;
    let mut bad = 0u32;
    let mut off = 0usize;
    loop {
        let at = pos + off;
        let (start, shift) = if at <= last {
            (at, 0)
        } else {
            (last, at - last)
        };
        let m = masks(buf.get(start..)?.first_chunk::<16>()?).from(shift);
        if m.nul != 0 {
            // The NUL is byte k; the string's padding runs to the end of k's word, so
            // k is followed by 4 - k % 4 NULs when the padding is zero.
            let k = m.nul.trailing_zeros();
            let below = (1u32 << k) - 1;
            if strict && (m.nul >> k).trailing_ones() < 4 - (k & 3) {
                return None;
            }
            let next = at + ((k + 4) & !3) as usize;
            if next > buf.len() {
                return None;
            }
            return Some(Scanned {
                rest,
                len: off + k as usize,
                high: u64::from(high | (m.high & below)),
                next,
                bad: u64::from(bad | (m.bad & below)),
            });
        }
        if shift > 0 {
            return None;
        }
        high |= m.high;
        bad |= m.bad;
        off += 16;
    }
}

/// Whether an argument tagged `tag` is a 4-byte word read as it is (`i` or `f`).
#[inline(always)]
pub(crate) fn is_word(tag: u8) -> bool {
    tag == b'i' || tag == b'f'
}

/// How many of the first `tags` are words (`i` or `f`): 16 tags per SSE2 compare on
/// x86-64, then 8 per 64-bit word (SWAR), then one at a time.
#[inline(always)]
pub(crate) fn word_run(tags: &[u8]) -> usize {
    let mut run = 0;
    let mut rest = tags;
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while let Some((sixteen, tail)) = rest.split_first_chunk::<16>() {
        let other = sse2::other_than_words(sixteen);
        if other != 0 {
            return run + other.trailing_zeros() as usize;
        }
        run += 16;
        rest = tail;
    }
    while let Some((eight, tail)) = rest.split_first_chunk::<8>() {
        let w = u64::from_le_bytes(*eight);
        let other =
            nonzero_bytes(w ^ (LO * u64::from(b'i'))) & nonzero_bytes(w ^ (LO * u64::from(b'f')));
        if other != 0 {
            return run + (other.trailing_zeros() / 8) as usize;
        }
        run += 8;
        rest = tail;
    }
    run + rest.iter().take_while(|&&t| is_word(t)).count()
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use super::Masks;
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_setzero_si128,
    };

    /// The [`Masks`] of 16 bytes, with SSE2 compares.
    #[inline(always)]
    pub(super) fn masks<const ADDR: bool>(chunk: &[u8; 16]) -> Masks {
        // SAFETY: the unaligned load reads exactly the 16 bytes `chunk` refers to, and
        // SSE2, which every intrinsic here needs, is enabled (the module's `cfg`).
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            let nul = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) as u32;
            let high = _mm_movemask_epi8(v) as u32;
            let bad = if ADDR {
                // Signed compare: below 0x21 are the controls, space, and every byte
                // >= 0x80, which `high` then removes.
                let control = _mm_cmplt_epi8(v, _mm_set1_epi8(0x21));
                let hash = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x23));
                let del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
                (_mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(hash, del))) as u32) & !high
            } else {
                0
            };
            Masks { nul, high, bad }
        }
    }

    /// A bit for each of the 16 tags that is neither `i` nor `f`.
    #[inline(always)]
    pub(super) fn other_than_words(chunk: &[u8; 16]) -> u32 {
        // SAFETY: the unaligned load reads exactly the 16 bytes `chunk` refers to, and
        // SSE2, which every intrinsic here needs, is enabled (the module's `cfg`).
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            let i = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'i' as i8));
            let f = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'f' as i8));
            !(_mm_movemask_epi8(_mm_or_si128(i, f)) as u32) & 0xffff
        }
    }
}

/// [`scan`] 8 bytes at a time.
///
/// The string's end is 4-aligned from `pos`, so it ends in the word holding the NUL:
/// at byte 4 of it when the NUL is in its first half, else at byte 8.
#[inline(always)]
fn scan_words<const ADDR: bool>(buf: &[u8], pos: usize, strict: bool) -> Option<Scanned<'_>> {
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

    /// [`Masks`] one byte at a time: the definition the vector code must match.
    fn masks_bytewise<const ADDR: bool>(chunk: &[u8; 16]) -> Masks {
        let mut m = Masks {
            nul: 0,
            high: 0,
            bad: 0,
        };
        for (i, &b) in chunk.iter().enumerate() {
            m.nul |= u32::from(b == 0) << i;
            m.high |= u32::from(b >= 0x80) << i;
            m.bad |= u32::from(ADDR && (b <= b' ' || b == b'#' || b == 0x7f)) << i;
        }
        m
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn sse2_masks_match_the_bytewise_definition() {
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut chunk = *b"/abcdefghijklmno";
                chunk[at] = b;
                let (v, want) = (sse2::masks::<true>(&chunk), masks_bytewise::<true>(&chunk));
                assert_eq!((v.nul, v.high, v.bad), (want.nul, want.high, want.bad));
                let (v, want) = (
                    sse2::masks::<false>(&chunk),
                    masks_bytewise::<false>(&chunk),
                );
                assert_eq!((v.nul, v.high, v.bad), (want.nul, want.high, want.bad));
            }
        }
    }

    #[test]
    fn word_runs_end_at_the_first_other_tag() {
        // Every length up to 40 and every place for one other tag (or none), with each
        // kind of other byte: a run is counted by the 16-, 8- and 1-tag steps alike.
        for len in 0..40 {
            for at in 0..=len {
                for other in [b's', b'h', b'[', 0, b'i' ^ 0x80, b'f' + 1] {
                    let mut tags: [u8; 40] = core::array::from_fn(|k| [b'i', b'f'][k % 3 % 2]);
                    if let Some(t) = tags.get_mut(at) {
                        *t = other;
                    }
                    let tags = &tags[..len];
                    let want = tags.iter().take_while(|&&t| is_word(t)).count();
                    assert_eq!(word_run(tags), want, "{len} {at} {other:#x}");
                }
            }
        }
    }

    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[test]
    fn sse2_other_than_words_marks_each_tag_alone() {
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut chunk = *b"ififififififffii";
                chunk[at] = b;
                let want = if is_word(b) { 0 } else { 1 << at };
                assert_eq!(sse2::other_than_words(&chunk), want, "{b:#x} at {at}");
            }
        }
    }

    /// What a scan found, in a form two scanners can be compared on.
    fn summary(s: Option<Scanned<'_>>) -> Option<(usize, usize, bool, bool)> {
        s.map(|s| (s.len(), s.next, s.is_ascii(), s.bad != 0))
    }

    /// A fixed pseudo-random sequence (xorshift64) from `seed`, so the shape tests
    /// repeat.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn both_scanners_agree_on_every_small_shape() {
        // Bytes that matter to a scanner: NUL, a control, space, '#', DEL, ASCII
        // letters, and bytes >= 0x80. A fixed pseudo-random sequence keeps it repeatable.
        const ALPHABET: [u8; 10] = [0, 0, 1, b' ', b'#', 0x7f, b'a', b'/', 0x80, 0xff];
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        // Miri (`cargo +nightly miri test -p osc-codec --lib scan`) checks the
        // vector loads on a sample.
        let rounds = if cfg!(miri) { 300 } else { 40_000 };
        let mut found = [0usize; 2];
        for _ in 0..rounds {
            let len = 16 + (next() % 80) as usize;
            let mut buf = [b'a'; 96];
            for byte in buf.iter_mut().take(len) {
                // Mostly letters, so that long strings occur.
                let r = next();
                if r % 4 == 0 {
                    *byte = ALPHABET[(r / 4 % 10) as usize];
                }
            }
            let buf = &buf[..len];
            let pos = (next() % (len as u64 + 1)) as usize & !3;
            for strict in [false, true] {
                let words = summary(scan_words::<true>(buf, pos, strict));
                let sixteen = summary(scan_16(buf, pos, strict, masks_bytewise::<true>));
                assert_eq!(words, sixteen, "{buf:?} at {pos}, strict {strict}");
                let words = summary(scan_words::<false>(buf, pos, strict));
                let sixteen = summary(scan_16(buf, pos, strict, masks_bytewise::<false>));
                assert_eq!(words, sixteen, "{buf:?} at {pos}, strict {strict}");
                assert_eq!(summary(scan::<false>(buf, pos, strict)), words);
                found[usize::from(words.is_some())] += 1;
            }
        }
        // Both outcomes are well represented.
        assert!(found[0] > rounds / 4 && found[1] > rounds / 4, "{found:?}");
    }

    #[test]
    fn the_pair_scan_finds_what_two_scans_find() {
        // Two padded strings and data after them, over the bytes that matter, cut
        // anywhere: the pair scan answers exactly when both strings end in its window
        // (the first 32 or 48 bytes), and then finds what two scans find, text included.
        const ALPHABET: [u8; 6] = [b'a', b'/', b',', 0x7f, 0x80, 0xff];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        let rounds = if cfg!(miri) { 200 } else { 20_000 };
        let mut found = [0usize; 2];
        for _ in 0..rounds {
            let mut buf = [b'x'; 96];
            for b in buf.iter_mut() {
                let r = next();
                if r % 4 == 0 {
                    *b = ALPHABET[(r / 4 % 6) as usize];
                }
            }
            let mut at = 0;
            for _ in 0..2 {
                let len = (next() % 40) as usize;
                for b in buf.iter_mut().skip(at).take(len) {
                    let r = next();
                    *b = if r % 8 == 0 {
                        ALPHABET[(r / 8 % 6) as usize]
                    } else {
                        b'a'
                    };
                }
                let end = (at + len + 4) & !3;
                buf[(at + len).min(96)..end.min(96)].fill(0);
                at = end;
            }
            // Cut anywhere: a string's padding may then run past the end.
            let len = (next() % 97) as usize;
            let buf = &buf[..len];
            let one = scan::<false>(buf, 0, false);
            let two = one.and_then(|a| scan::<false>(buf, a.next, false));
            let window = 16 * (len / 16).min(3);
            let both_in_window = matches!((one, two), (Some(a), Some(b))
                if a.len() < window && a.next + b.len() < window);
            let answers = both_in_window
                && len >= 32
                && cfg!(all(target_arch = "x86_64", target_feature = "sse2"));
            let pair = scan_pair(buf);
            assert_eq!(pair.is_some(), answers, "{buf:?}");
            let Some((first, second)) = pair else {
                found[0] += 1;
                continue;
            };
            found[1] += 1;
            assert_eq!(summary(Some(first)), summary(one), "{buf:?}");
            assert_eq!(summary(Some(second)), summary(two), "{buf:?}");
            assert_eq!(first.ascii(), one.and_then(|s| s.ascii()), "{buf:?}");
            assert_eq!(second.ascii(), two.and_then(|s| s.ascii()), "{buf:?}");
        }
        // Both outcomes are well represented on x86-64.
        if cfg!(all(target_arch = "x86_64", target_feature = "sse2")) {
            assert!(found[0] > rounds / 8 && found[1] > rounds / 8, "{found:?}");
        }
    }

    #[test]
    fn the_validated_scan_agrees_with_scan_on_every_short_string() {
        // Every string of 0 to 11 bytes over the bytes that matter, padded as a valid
        // message pads it, followed by more data.
        const BYTES: [u8; 5] = [b'a', b'/', 0x7f, 0x80, 0xff];
        for len in 0..12 {
            for pick in 0..BYTES.len().pow(len.min(3) as u32) {
                let mut buf = [0u8; 24];
                for (i, b) in buf.iter_mut().take(len).enumerate() {
                    *b = BYTES[(pick / BYTES.len().pow(i.min(2) as u32)) % BYTES.len()];
                }
                let padded = (len + 4) & !3;
                buf[padded..].fill(b'x');
                for end in padded..buf.len() {
                    let view = &buf[..end];
                    let s = scan_validated(view);
                    assert_eq!(summary(s), summary(scan::<false>(view, 0, false)));
                    assert_eq!(
                        s.and_then(|s| s.ascii()).map(str::as_bytes),
                        buf.get(..len).filter(|b| b.is_ascii()),
                        "{view:?}"
                    );
                }
            }
        }
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
