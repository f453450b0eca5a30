//! The fast path of decoding: validation without building arguments or errors.
//!
//! [`packet`] checks a packet in one pass per message without building arguments or
//! errors: it answers "valid" (with the view) or "look closer" (`None`). On "look
//! closer" the reference reader (`reference.rs`) runs from the
//! start and produces the exact error, or the view for the rare valid inputs the fast
//! path leaves to it (options it does not handle). So the fast path may be conservative,
//! but it must never accept what the reference rejects, and the views it returns are
//! equal to the reference's.
//!
//! Strings are 4-aligned inside a message, so they are scanned by 4-byte words: the
//! word holding the NUL also holds the padding. ASCII and the address syntax are checked
//! on whole words (SWAR); UTF-8 is validated only when a byte is >= 0x80.

use crate::read::{Policy, pad4, wire_char};
use crate::scan::scan;
use crate::tags::{K_BAD, K_BLOB, K_CHAR, K_CLOSE, K_OPEN, K_STR, KIND};
use crate::trusted::{bundle_head, text};
use crate::views::{BundleRef, MessageRef, PacketRef, Positions, to_u32};
use crate::{Options, StringPolicy, TagSet, TimeTag};

/// The big-endian `u32` at `pos`.
#[inline(always)]
fn be32(buf: &[u8], pos: usize) -> Option<u32> {
    let (head, _) = buf.get(pos..)?.split_first_chunk::<4>()?;
    Some(u32::from_be_bytes(*head))
}

/// Validates a whole packet; `None` means "let the reference decoder decide".
#[inline(always)]
pub(crate) fn packet<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
) -> Option<PacketRef<'a>> {
    packet_found(raw, base, opts, depth, &mut ())
}

/// What a validation does with each message it finds, in order, bundles' messages
/// included: a plain decode keeps nothing (`()`, which compiles to nothing);
/// [`decode_messages`](crate::decode_messages) keeps their views, so that reading them
/// needs no second parse. A validation that declines may have reported some messages
/// before it did.
pub(crate) trait Found<'a> {
    /// Takes the view of the next message found.
    fn message(&mut self, m: MessageRef<'a>);
}

impl<'a> Found<'a> for () {
    #[inline(always)]
    fn message(&mut self, _: MessageRef<'a>) {}
}

#[cfg(feature = "alloc")]
impl<'a> Found<'a> for alloc::vec::Vec<MessageRef<'a>> {
    #[inline]
    fn message(&mut self, m: MessageRef<'a>) {
        self.push(m);
    }
}

/// [`packet`], reporting each message it validates to `found`.
#[inline(always)]
pub(crate) fn packet_found<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
    found: &mut impl Found<'a>,
) -> Option<PacketRef<'a>> {
    if opts.allowed_tags != TagSet::ALL {
        return None;
    }
    let policy = Policy::of(opts);
    match raw.first()? {
        b'/' => {
            let m = message_ref(raw, base, opts, depth, policy)?;
            found.message(m);
            Some(PacketRef::Message(m))
        }
        b'#' if depth < opts.depth_limit() => {
            let timetag = bundle(raw, base, opts, depth, found)?;
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

/// Validates a message that starts with `/` and gives its view.
#[inline(always)]
fn message_ref<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
    policy: Policy,
) -> Option<MessageRef<'a>> {
    let m = message(raw, opts, depth)?;
    Some(MessageRef {
        raw,
        address: m.address,
        at: Positions::new(base, m.tags_at + 1, m.tags_at + 1 + m.tags.len(), m.data_at),
        policy,
    })
}

/// Validates a bundle (its depth already checked) and every element in it, reporting
/// its messages to `found`. `base` is the bundle's position in the packet.
fn bundle<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
    found: &mut impl Found<'a>,
) -> Option<TimeTag> {
    let (timetag, elements) = bundle_head(raw)?;
    let policy = Policy::of(opts);
    let mut rest = elements;
    while let Some((size, tail)) = rest.split_first_chunk::<4>() {
        let n = usize::try_from(u32::from_be_bytes(*size) as i32).ok()?;
        if n == 0 || n % 4 != 0 {
            return None;
        }
        let at = base + (raw.len() - tail.len());
        let (element, tail) = tail.split_at_checked(n)?;
        match element.first()? {
            b'/' => {
                let m = message_ref(element, at, opts, depth + 1, policy)?;
                found.message(m);
            }
            b'#' if depth + 1 < opts.depth_limit() => {
                bundle(element, at, opts, depth + 1, found)?;
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
/// exactly with the last argument. Positions are from the start of the message. Each
/// tag's wire kind comes from the tag table ([`KIND`]); this loop checks each kind.
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
