//! The fast path of decoding, and the trusted re-reads behind the lazy iterators.
//!
//! [`packet`] checks a packet in one pass per message without building arguments or
//! errors: it answers "valid" (with the view) or "look closer" (`None`). On "look
//! closer" the reference decoder (`PacketRef::parse` in `borrowed.rs`) runs from the
//! start and produces the exact error, or the view for the rare valid inputs the fast
//! path leaves to it (options it does not handle). So the fast path may be conservative,
//! but it must never accept what the reference rejects, and the views it returns are
//! equal to the reference's.
//!
//! Strings are 4-aligned inside a message, so they are scanned by 4-byte words: the
//! word holding the NUL also holds the padding. ASCII and the address syntax are checked
//! on whole words (SWAR); UTF-8 is validated only when a byte is >= 0x80.

use crate::borrowed::{BundleRef, MessageRef, PacketRef, Policy, Positions, to_u32};
use crate::read::{WireStr, check_str, pad4, wire_char};
use crate::scan::scan;
use crate::{BUNDLE_TAG, Options, StringPolicy, TagSet, TimeTag};

/// The first `len` bytes of `region` as text. `region` holds the string and what
/// follows it (padding, type tags): core validates UTF-8 16 bytes at a time once the
/// input is that long, and byte by byte below, so a longer prefix is faster to check.
#[inline(always)]
pub(crate) fn text(region: &[u8], len: usize) -> Option<&str> {
    if region.len() >= 16 {
        if let Some(s) = core::str::from_utf8(region).ok().and_then(|s| s.get(..len)) {
            return Some(s);
        }
    }
    core::str::from_utf8(region.get(..len)?).ok()
}

/// The big-endian `u32` at `pos`.
#[inline(always)]
fn be32(buf: &[u8], pos: usize) -> Option<u32> {
    let (head, _) = buf.get(pos..)?.split_first_chunk::<4>()?;
    Some(u32::from_be_bytes(*head))
}

// Kinds of type tags for the validation loop: sizes 0, 4 and 8 are fixed-size data.
const K_STR: u8 = 9;
const K_BLOB: u8 = 10;
const K_CHAR: u8 = 11;
const K_OPEN: u8 = 12;
const K_CLOSE: u8 = 13;
const K_BAD: u8 = 255;

// Evaluated at compile time: an index out of bounds would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
static KIND: [u8; 256] = {
    let mut k = [K_BAD; 256];
    k[b'i' as usize] = 4;
    k[b'f' as usize] = 4;
    k[b'r' as usize] = 4;
    k[b'm' as usize] = 4;
    k[b'h' as usize] = 8;
    k[b't' as usize] = 8;
    k[b'd' as usize] = 8;
    k[b'T' as usize] = 0;
    k[b'F' as usize] = 0;
    k[b'N' as usize] = 0;
    k[b'I' as usize] = 0;
    k[b's' as usize] = K_STR;
    k[b'S' as usize] = K_STR;
    k[b'b' as usize] = K_BLOB;
    k[b'c' as usize] = K_CHAR;
    k[b'[' as usize] = K_OPEN;
    k[b']' as usize] = K_CLOSE;
    k
};

/// Validates a whole packet; `None` means "let the reference decoder decide".
#[inline(always)]
pub(crate) fn packet<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
) -> Option<PacketRef<'a>> {
    if opts.allowed_tags != TagSet::ALL {
        return None;
    }
    let policy = Policy::of(opts);
    match raw.first()? {
        b'/' => {
            let m = message(raw, opts, depth)?;
            Some(PacketRef::Message(MessageRef {
                raw,
                address: m.address,
                at: Positions::new(base, m.tags_at + 1, m.tags_at + 1 + m.tags.len(), m.data_at),
                policy,
            }))
        }
        b'#' if depth < opts.depth_limit() => {
            let timetag = bundle(raw, opts, depth)?;
            Some(PacketRef::Bundle(BundleRef {
                raw,
                timetag,
                base: to_u32(base),
                depth: to_u32(depth),
                policy,
            }))
        }
        _ => None,
    }
}

/// The header of a bundle: its timetag and elements.
#[inline(always)]
fn bundle_head(raw: &[u8]) -> Option<(TimeTag, &[u8])> {
    let (head, rest) = raw.split_first_chunk::<8>()?;
    if head != BUNDLE_TAG {
        return None;
    }
    let (tt, elements) = rest.split_first_chunk::<8>()?;
    Some((TimeTag::from_bits(u64::from_be_bytes(*tt)), elements))
}

/// Validates a bundle (its depth already checked) and every element in it.
fn bundle(raw: &[u8], opts: &Options, depth: usize) -> Option<TimeTag> {
    let (timetag, elements) = bundle_head(raw)?;
    let mut rest = elements;
    while let Some((size, tail)) = rest.split_first_chunk::<4>() {
        let n = usize::try_from(u32::from_be_bytes(*size) as i32).ok()?;
        if n == 0 || n % 4 != 0 {
            return None;
        }
        let (element, tail) = tail.split_at_checked(n)?;
        match element.first()? {
            b'/' => {
                message(element, opts, depth + 1)?;
            }
            b'#' if depth + 1 < opts.depth_limit() => {
                bundle(element, opts, depth + 1)?;
            }
            _ => return None,
        }
        rest = tail;
    }
    rest.is_empty().then_some(timetag)
}

/// Where the parts of a valid message are.
struct Parts<'a> {
    address: &'a str,
    tags: &'a [u8],
    /// Position of the `,`.
    tags_at: usize,
    data_at: usize,
}

/// Validates a message that starts with `/`.
#[inline(always)]
fn message<'a>(raw: &'a [u8], opts: &Options, depth: usize) -> Option<Parts<'a>> {
    let strict = opts.strict_padding;
    let a = scan::<true>(raw, 0, strict)?;
    if opts.check_address && a.bad != 0 {
        return None;
    }
    let address_bytes = raw.get(..a.len())?;
    if address_bytes.first() != Some(&b'/') {
        return None;
    }
    if !a.is_ascii()
        && matches!(
            opts.strings,
            StringPolicy::Ascii | StringPolicy::AsciiReplace
        )
    {
        return None;
    }
    let tags_at = a.next;
    let (tags, data_at) = match raw.get(tags_at) {
        None if opts.allow_missing_typetags => (&[][..], tags_at),
        Some(b',') => {
            let t = scan::<false>(raw, tags_at, strict)?;
            (raw.get(tags_at + 1..tags_at + t.len())?, t.next)
        }
        _ => return None,
    };
    let address = match a.ascii() {
        Some(address) => address,
        None => text(raw.get(..data_at.min(tags_at.max(16)))?, a.len())?,
    };
    if tags.len() > opts.max_args {
        return None;
    }
    args(tags, raw, data_at, opts, depth)?;
    Some(Parts {
        address,
        tags,
        tags_at,
        data_at,
    })
}

/// Checks the argument data (from `data_at` to the end of the message) against the
/// type tags: sizes, strings, blobs, chars, brackets and depth, and that the data ends
/// exactly with the last argument. Positions are from the start of the message.
#[inline(always)]
fn args(tags: &[u8], data: &[u8], data_at: usize, opts: &Options, depth: usize) -> Option<()> {
    let strict = opts.strict_padding;
    let mut level = depth;
    let mut p = data_at;
    for &t in tags {
        let k = KIND.get(usize::from(t)).copied().unwrap_or(K_BAD);
        if k <= 8 {
            // Fixed size: bounds are checked once, by the final position.
            p += usize::from(k);
            continue;
        }
        match k {
            K_STR => {
                let s = scan::<false>(data, p, strict)?;
                if !s.is_ascii() {
                    match opts.strings {
                        StringPolicy::Utf8 => {
                            core::str::from_utf8(data.get(p..p + s.len())?).ok()?;
                        }
                        StringPolicy::Ascii => return None,
                        StringPolicy::AsciiReplace | StringPolicy::Raw => {}
                    }
                }
                p = s.next;
            }
            K_BLOB => {
                let len = usize::try_from(be32(data, p)? as i32).ok()?;
                let start = p + 4;
                let end = start.checked_add(pad4(len))?;
                if end > data.len() {
                    return None;
                }
                if strict
                    && end - start != len
                    && data.get(start + len..end)?.iter().any(|&b| b != 0)
                {
                    return None;
                }
                p = end;
            }
            K_CHAR => {
                wire_char(be32(data, p)?)?;
                p += 4;
            }
            K_OPEN => {
                level += 1;
                if level > opts.depth_limit() {
                    return None;
                }
            }
            K_CLOSE => {
                if level == depth {
                    return None;
                }
                level -= 1;
            }
            _ => return None,
        }
    }
    (level == depth && p == data.len()).then_some(())
}

/// Re-reads an element of a validated bundle (see [`Elements`](crate::Elements)): a
/// light parse that finds the parts again without checking them.
pub(crate) fn trusted_packet(raw: &[u8], base: usize, policy: Policy) -> Option<PacketRef<'_>> {
    match raw.first()? {
        b'/' => {
            let a = scan::<false>(raw, 0, false)?;
            let tags_at = a.next;
            let (tags, data_at) = match raw.get(tags_at) {
                None => (&[][..], tags_at),
                Some(b',') => {
                    let t = scan::<false>(raw, tags_at, false)?;
                    (raw.get(tags_at + 1..tags_at + t.len())?, t.next)
                }
                Some(_) => return None,
            };
            let address = match a.ascii() {
                Some(address) => address,
                None => text(raw.get(..data_at.min(tags_at.max(16)))?, a.len())?,
            };
            Some(PacketRef::Message(MessageRef {
                raw,
                address,
                at: Positions::new(base, tags_at + 1, tags_at + 1 + tags.len(), data_at),
                policy,
            }))
        }
        b'#' => {
            let (timetag, _) = bundle_head(raw)?;
            Some(PacketRef::Bundle(BundleRef {
                raw,
                timetag,
                base: to_u32(base),
                depth: 0,
                policy,
            }))
        }
        _ => None,
    }
}

/// The number of elements in validated bundle content.
#[cfg(feature = "alloc")]
pub(crate) fn element_count(mut elements: &[u8]) -> usize {
    let mut n = 0;
    while let Some((_, rest)) = next_element(elements) {
        elements = rest;
        n += 1;
    }
    n
}

/// Splits the next element off validated bundle content: its bytes, the absolute
/// offset of its first byte, and the rest.
#[inline]
pub(crate) fn next_element(elements: &[u8]) -> Option<(&[u8], &[u8])> {
    let (size, rest) = elements.split_first_chunk::<4>()?;
    let n = usize::try_from(u32::from_be_bytes(*size) as i32).ok()?;
    if n == 0 {
        return None;
    }
    rest.split_at_checked(n)
}

/// Reads a string of a validated message: its bytes as the policy gives them, and the
/// data after it.
#[inline]
pub(crate) fn trusted_string(data: &[u8], strings: StringPolicy) -> Option<(WireStr<'_>, &[u8])> {
    let s = scan::<false>(data, 0, false)?;
    let bytes = data.get(..s.len())?;
    let rest = data.get(s.next..)?;
    let text = match strings {
        StringPolicy::Utf8 | StringPolicy::Ascii => match s.ascii() {
            Some(ascii) => Some(WireStr::Text(ascii)),
            None => text(data.get(..s.next)?, s.len()).map(WireStr::Text),
        },
        _ => check_str(bytes, strings, 0).ok(),
    }?;
    Some((text, rest))
}

/// Reads a blob of a validated message: its bytes and the data after it.
#[inline]
pub(crate) fn trusted_blob(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (size, rest) = data.split_first_chunk::<4>()?;
    let len = usize::try_from(u32::from_be_bytes(*size) as i32).ok()?;
    let bytes = rest.get(..len)?;
    Some((bytes, rest.get(pad4(len)..)?))
}
