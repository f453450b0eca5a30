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
    if opts.check_address {
        if address.first() != Some(&b'/') || !address_ok(address) {
            return None;
        }
    } else if address.contains(&0) {
        return None;
    }
    let (slot, rest) = buf.split_at_mut_checked(str_size(address.len()))?;
    put_str(slot, address)?;
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
        if s.contains(&0) {
            return None;
        }
        self.tag(t)?;
        put_str(self.slot(str_size(s.len()))?, s)
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

/// Writes string bytes and their NUL and padding into `slot` (`str_size(s.len())` long).
#[inline(always)]
fn put_str(slot: &mut [u8], s: &[u8]) -> Option<()> {
    slot.split_last_chunk_mut::<4>()?.1.fill(0);
    slot.get_mut(..s.len())?.copy_from_slice(s);
    Some(())
}

/// Whether an address holds no ASCII control character, space, `#` or DEL (8 bytes at a time).
#[inline]
fn address_ok(a: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const fn zero(w: u64) -> u64 {
        w.wrapping_sub(LO) & !w & HI
    }
    let mut bad = 0u64;
    let mut chunks = a.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(c).unwrap_or([0; 8]));
        bad |=
            (w.wrapping_sub(LO * 0x21) & !w & HI) | zero(w ^ (LO * 0x23)) | zero(w ^ (LO * 0x7f));
    }
    for &b in chunks.remainder() {
        bad |= u64::from(b <= b' ' || b == b'#' || b == 0x7f);
    }
    bad == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_bytes() {
        for b in 0..=255u8 {
            let forbidden = b <= b' ' || b == b'#' || b == 0x7f;
            for at in 0..12 {
                let mut a = *b"/abcdefghijk";
                if let Some(x) = a.get_mut(at) {
                    *x = b;
                }
                assert_eq!(address_ok(&a), !forbidden, "byte {b:#x} at {at}");
            }
        }
    }
}
