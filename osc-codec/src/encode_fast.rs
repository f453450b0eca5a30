//! The fast path of encoding owned packets.
//!
//! [`packet`] writes a packet straight from the [`Value`]s, each slot taken off the
//! front of the output buffer once: no measuring pass for messages without arrays, no
//! conversion to [`ArgRef`](crate::ArgRef), no error values. It answers "done" (the
//! size) or "look closer" (`None`): then the reference encoder (`encode_owned.rs`) runs
//! from the start and gives the exact error, or the bytes for the options this path
//! does not handle. So the fast path must write exactly the reference's bytes and fail
//! wherever the reference fails.

use core::mem::take;

use crate::read::{pad4, str_size};
use crate::swar::{LO, address_bad, zero_bytes};
use crate::{
    BUNDLE_TAG, Bundle, CharLayout, Message, Options, Packet, StringPolicy, TagSet, Value,
};

/// Encodes `p` into the front of `buf`; `None` means "let the reference encoder decide".
#[inline]
pub(crate) fn packet(buf: &mut [u8], p: &Packet, opts: &Options) -> Option<usize> {
    if opts.allowed_tags != TagSet::ALL
        || !matches!(opts.strings, StringPolicy::Utf8 | StringPolicy::Raw)
    {
        return None;
    }
    packet_at(buf, p, opts, 0)
}

fn packet_at(buf: &mut [u8], p: &Packet, opts: &Options, depth: usize) -> Option<usize> {
    match p {
        Packet::Message(m) => message(buf, m, opts, depth),
        Packet::Bundle(b) => bundle(buf, b, opts, depth),
    }
}

fn bundle(buf: &mut [u8], b: &Bundle, opts: &Options, depth: usize) -> Option<usize> {
    if depth >= opts.depth_limit() {
        return None;
    }
    let (tag, rest) = buf.split_first_chunk_mut::<8>()?;
    *tag = *BUNDLE_TAG;
    let (timetag, mut rest) = rest.split_first_chunk_mut::<8>()?;
    *timetag = b.timetag.to_bits().to_be_bytes();
    let mut n = 16;
    for e in &b.content {
        let (size, tail) = rest.split_first_chunk_mut::<4>()?;
        let len = packet_at(tail, e, opts, depth + 1)?;
        *size = i32::try_from(len).ok()?.to_be_bytes();
        rest = tail.get_mut(len..)?;
        n += 4 + len;
    }
    Some(n)
}

/// Encodes a message at the front of `buf`.
#[inline]
pub(crate) fn message(buf: &mut [u8], m: &Message, opts: &Options, depth: usize) -> Option<usize> {
    let address = m.address.as_bytes();
    let (slot, rest) = buf.split_at_mut_checked(str_size(address.len()))?;
    if opts.check_address {
        if address.first() != Some(&b'/') {
            return None;
        }
        copy_str::<true>(slot, address)?;
    } else {
        copy_str::<false>(slot, address)?;
    }
    let body = match body::<false>(rest, &m.args, m.args.len(), opts) {
        Some(n) => n,
        None => {
            // Arrays (or a real failure): count the tags, checking the depth, and retry.
            let tags = count_tags(&m.args, depth, opts.depth_limit())?;
            if tags == m.args.len() {
                return None;
            }
            body::<true>(rest, &m.args, tags, opts)?
        }
    };
    Some(slot.len() + body)
}

/// Counts the tags of `args`, array brackets included; `None` when arrays nest too deep.
fn count_tags(args: &[Value], depth: usize, limit: usize) -> Option<usize> {
    let mut n = 0;
    for a in args {
        n += match a {
            Value::Array(inner) if depth < limit => 2 + count_tags(inner, depth + 1, limit)?,
            Value::Array(_) => return None,
            _ => 1,
        };
    }
    Some(n)
}

/// Writes the type tags (`tags` of them) and the data; returns their size.
#[inline(always)]
fn body<const NESTED: bool>(
    buf: &mut [u8],
    args: &[Value],
    tags: usize,
    opts: &Options,
) -> Option<usize> {
    let (slot, data) = buf.split_at_mut_checked(str_size(tags + 1))?;
    let tags_size = slot.len();
    // The last word holds the NUL and padding; the tags overwrite what they cover.
    slot.split_last_chunk_mut::<4>()?.1.fill(0);
    let (comma, slot) = slot.split_first_mut()?;
    *comma = b',';
    let data_size = data.len();
    let mut w = Writer {
        tags: slot.get_mut(..tags)?,
        data,
        char_layout: opts.char_layout,
    };
    w.values::<NESTED>(args)?;
    if !w.tags.is_empty() {
        return None;
    }
    Some(tags_size + data_size - w.data.len())
}

/// Writes tags and data, taking each slot off the front of what is left.
struct Writer<'b> {
    tags: &'b mut [u8],
    data: &'b mut [u8],
    char_layout: CharLayout,
}

impl Writer<'_> {
    #[inline(always)]
    fn tag(&mut self, t: u8) -> Option<()> {
        let (slot, rest) = take(&mut self.tags).split_first_mut()?;
        *slot = t;
        self.tags = rest;
        Some(())
    }

    #[inline(always)]
    fn put<const N: usize>(&mut self, t: u8, bytes: [u8; N]) -> Option<()> {
        self.tag(t)?;
        let (slot, rest) = take(&mut self.data).split_first_chunk_mut::<N>()?;
        *slot = bytes;
        self.data = rest;
        Some(())
    }

    #[inline(always)]
    fn slot(&mut self, n: usize) -> Option<&mut [u8]> {
        let (slot, rest) = take(&mut self.data).split_at_mut_checked(n)?;
        self.data = rest;
        Some(slot)
    }

    #[inline(always)]
    fn string(&mut self, t: u8, s: &[u8]) -> Option<()> {
        self.tag(t)?;
        copy_str::<false>(self.slot(str_size(s.len()))?, s)
    }

    #[inline(always)]
    fn blob(&mut self, b: &[u8]) -> Option<()> {
        self.put(b'b', i32::try_from(b.len()).ok()?.to_be_bytes())?;
        let slot = self.slot(pad4(b.len()))?;
        if let Some((_, last)) = slot.split_last_chunk_mut::<4>() {
            *last = [0; 4];
        }
        slot.get_mut(..b.len())?.copy_from_slice(b);
        Some(())
    }

    fn values<const NESTED: bool>(&mut self, args: &[Value]) -> Option<()> {
        for a in args {
            match a {
                Value::Int(v) => self.put(b'i', v.to_be_bytes())?,
                Value::Float(v) => self.put(b'f', v.to_bits().to_be_bytes())?,
                Value::String(s) => self.string(b's', s.as_bytes())?,
                Value::Blob(b) => self.blob(b)?,
                Value::Long(v) => self.put(b'h', v.to_be_bytes())?,
                Value::TimeTag(t) => self.put(b't', t.to_bits().to_be_bytes())?,
                Value::Double(v) => self.put(b'd', v.to_bits().to_be_bytes())?,
                Value::Symbol(s) => self.string(b'S', s.as_bytes())?,
                Value::Char(c) => {
                    let code = u32::from(*c);
                    let bytes = match self.char_layout {
                        CharLayout::Int32 => code.to_be_bytes(),
                        CharLayout::FirstByte => [u8::try_from(code).ok()?, 0, 0, 0],
                    };
                    self.put(b'c', bytes)?;
                }
                Value::Rgba(v) => self.put(b'r', v.to_u32().to_be_bytes())?,
                Value::Midi(v) => self.put(b'm', v.to_u32().to_be_bytes())?,
                Value::Bool(true) => self.tag(b'T')?,
                Value::Bool(false) => self.tag(b'F')?,
                Value::Nil => self.tag(b'N')?,
                Value::Inf => self.tag(b'I')?,
                Value::Array(inner) => {
                    // Without NESTED the tag area was sized for no arrays: retry.
                    if !NESTED {
                        return None;
                    }
                    self.tag(b'[')?;
                    self.values::<true>(inner)?;
                    self.tag(b']')?;
                }
                Value::RawString(b) => self.string(b's', b)?,
                Value::RawSymbol(b) => self.string(b'S', b)?,
            }
        }
        Some(())
    }
}

/// The last `r` (< 8) bytes of `s` in the low bytes of a little-endian word, the rest zero.
#[inline(always)]
fn tail_word(s: &[u8], r: usize) -> u64 {
    if r == 0 {
        return 0;
    }
    let n = s.len();
    if let Some(last) = n
        .checked_sub(8)
        .and_then(|i| s.get(i..)?.first_chunk::<8>())
    {
        return u64::from_le_bytes(*last) >> (8 * (8 - r));
    }
    // Shorter than 8 bytes: the tail is the whole string.
    if let (Some(lo), Some(hi)) = (s.first_chunk::<4>(), s.last_chunk::<4>()) {
        let hi = u64::from(u32::from_le_bytes(*hi)) << (8 * (n - 4));
        return u64::from(u32::from_le_bytes(*lo)) | hi;
    }
    let byte = |i: usize| u64::from(s.get(i).copied().unwrap_or(0));
    byte(0) | (byte(1) << 8) | (byte(2) << 16)
}

/// Copies `s` with its NUL and padding into `slot` (`str_size(s.len())` long), 8 bytes
/// at a time, checking each word as it goes: with `ADDR` for bytes an address may not
/// hold, else for NUL. `None` when a check fails.
#[inline(always)]
fn copy_str<const ADDR: bool>(slot: &mut [u8], s: &[u8]) -> Option<()> {
    let check = |w: u64| {
        if ADDR { address_bad(w) } else { zero_bytes(w) }
    };
    let mut rest = slot;
    // A loop that leaves at the first bad word: its trip count is not known up front,
    // so the compiler does not unroll it behind a set-up that costs more than the one
    // or two words of most addresses and strings.
    let mut left = s;
    while let Some((c, more)) = left.split_first_chunk::<8>() {
        if check(u64::from_le_bytes(*c)) != 0 {
            return None;
        }
        let (d, tail) = rest.split_first_chunk_mut::<8>()?;
        *d = *c;
        rest = tail;
        left = more;
    }
    // The last 1 to 7 bytes, then the NUL and padding: 4 or 8 bytes of the slot.
    let r = left.len();
    let w = tail_word(s, r);
    // Bytes past the string take no part in the check.
    let bad = check(w | ((LO * 0x41) << (8 * r)));
    let bytes = w.to_le_bytes();
    if let Ok(d) = <&mut [u8; 8]>::try_from(&mut *rest) {
        *d = bytes;
    } else {
        let d = <&mut [u8; 4]>::try_from(rest).ok()?;
        *d = *bytes.first_chunk::<4>()?;
    }
    (bad == 0).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_copied_and_checked() {
        let text = b"/abcdefghijklmnopq";
        for n in 0..text.len() {
            let s = text.get(..n).unwrap_or_default();
            let size = str_size(n);
            let mut slot = alloc::vec![0xeeu8; size];
            assert_eq!(copy_str::<true>(&mut slot, s), Some(()), "{n}");
            let mut expected = s.to_vec();
            expected.resize(size, 0);
            assert_eq!(slot, expected);
            // One forbidden byte anywhere is found.
            for at in 0..n {
                for (b, forbidden) in [
                    (b' ', true),
                    (0, true),
                    (b'#', true),
                    (0x7f, true),
                    (0xc3, false),
                ] {
                    let mut bad = s.to_vec();
                    if let Some(x) = bad.get_mut(at) {
                        *x = b;
                    }
                    let ok = copy_str::<true>(&mut slot, &bad).is_some();
                    assert_eq!(ok, !forbidden, "{n} {at} {b:#x}");
                    let nul_free = copy_str::<false>(&mut slot, &bad).is_some();
                    assert_eq!(nul_free, b != 0, "{n} {at} {b:#x}");
                }
            }
        }
    }
}
