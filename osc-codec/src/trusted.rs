//! Re-reads of data that was already validated: the lazy iterators, owned building and
//! the views' light parse use these. They check nothing they need not (bounds stay
//! checked, so nothing can panic); on data that was not validated they may give
//! `None` or a different split, never undefined behaviour.

use crate::read::{WireStr, check_str, pad4};
use crate::scan::scan_validated;
use crate::{BUNDLE_TAG, StringPolicy, TimeTag};

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

/// The header of a bundle: its timetag and elements.
#[inline(always)]
pub(crate) fn bundle_head(raw: &[u8]) -> Option<(TimeTag, &[u8])> {
    let (head, rest) = raw.split_first_chunk::<8>()?;
    if head != BUNDLE_TAG {
        return None;
    }
    let (tt, elements) = rest.split_first_chunk::<8>()?;
    Some((TimeTag::from_bits(u64::from_be_bytes(*tt)), elements))
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

/// Splits the next element off validated bundle content: its bytes and the rest.
#[inline]
pub(crate) fn next_element(elements: &[u8]) -> Option<(&[u8], &[u8])> {
    let (size, rest) = elements.split_first_chunk::<4>()?;
    let n = usize::try_from(u32::from_be_bytes(*size) as i32).ok()?;
    if n == 0 {
        return None;
    }
    rest.split_at_checked(n)
}

/// Takes a big-endian `u32` off the front of `data`.
#[inline(always)]
pub(crate) fn word(data: &mut &[u8]) -> Option<u32> {
    let (head, rest) = data.split_first_chunk::<4>()?;
    *data = rest;
    Some(u32::from_be_bytes(*head))
}

/// Takes a big-endian `u64` off the front of `data`.
#[inline(always)]
pub(crate) fn dword(data: &mut &[u8]) -> Option<u64> {
    let (head, rest) = data.split_first_chunk::<8>()?;
    *data = rest;
    Some(u64::from_be_bytes(*head))
}

/// Takes a string of a validated message off the front of `data`, as the policy gives it.
#[inline(always)]
pub(crate) fn string<'a>(data: &mut &'a [u8], strings: StringPolicy) -> Option<WireStr<'a>> {
    let (s, rest) = trusted_string(data, strings)?;
    *data = rest;
    Some(s)
}

/// Takes a blob of a validated message off the front of `data`.
#[inline(always)]
pub(crate) fn blob<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (b, rest) = trusted_blob(data)?;
    *data = rest;
    Some(b)
}

/// Reads a string of a validated message: its bytes as the policy gives them, and the
/// data after it.
#[inline(always)]
pub(crate) fn trusted_string(data: &[u8], strings: StringPolicy) -> Option<(WireStr<'_>, &[u8])> {
    let s = scan_validated(data)?;
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
