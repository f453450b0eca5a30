//! The reference reader: checks a packet step by step with checked reads
//! ([`Reader`]) and gives the exact error, with its offset, for anything wrong.
//!
//! It is the specification the fast path (`fast.rs`) is tested against, and the
//! decoder falls back on it whenever the fast path declines (see `decoder.rs`).

use crate::address::check_incoming_address;
use crate::read::{Policy, Reader};
use crate::tags::read_checked;
use crate::views::{BundleRef, MessageRef, PacketRef, Positions, to_u32};
use crate::{BUNDLE_TAG, Error, Options, Result, TagSet, TimeTag};

/// Parses a packet at `base` in the whole input, `depth` bundles and arrays deep; with
/// `validate`, checks everything and gives the first error, else only finds the parts
/// (as the light parse of a validated packet's elements does).
pub(crate) fn packet<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
    validate: bool,
) -> Result<PacketRef<'a>> {
    match raw.first() {
        Some(b'/') => Ok(PacketRef::Message(message(
            raw, base, opts, depth, validate,
        )?)),
        Some(b'#') => {
            let limit = opts.depth_limit();
            if depth >= limit {
                return Err(Error::LimitExceeded {
                    what: "depth",
                    limit,
                    offset: base,
                });
            }
            Ok(PacketRef::Bundle(bundle(raw, base, opts, depth, validate)?))
        }
        Some(_) => Err(Error::NotAPacket { offset: base }),
        None => Err(Error::UnexpectedEnd {
            offset: base,
            needed: 4,
            available: 0,
        }),
    }
}

/// Parses a message; with `validate`, every argument is checked too.
fn message<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
    validate: bool,
) -> Result<MessageRef<'a>> {
    let policy = Policy::of(opts);
    let mut r = Reader::new(raw, base);
    let address = r.text(opts.strings, opts.strict_padding)?;
    if validate {
        check_incoming_address(address, base, opts)?;
    }
    let tags_offset = r.offset();
    let tags_at = tags_offset - base;
    let tags: &[u8] = if r.is_empty() {
        if !opts.allow_missing_typetags {
            return Err(Error::MissingTypeTags {
                offset: tags_offset,
            });
        }
        &[]
    } else if r.rest().first() == Some(&b',') {
        let t = r.str_bytes(opts.strict_padding)?;
        t.get(1..).unwrap_or(&[])
    } else {
        return Err(Error::MissingTypeTags {
            offset: tags_offset,
        });
    };
    let data_at = r.offset() - base;
    // Without type tags (`allow_missing_typetags`) this is one past the end, and
    // the tags are empty.
    let first_tag = tags_at + 1;
    let msg = MessageRef {
        raw,
        address,
        at: Positions::new(base, first_tag, first_tag + tags.len(), data_at),
        policy,
    };
    if validate {
        message_args(&msg, opts, depth)?;
    }
    Ok(msg)
}

/// Checks every argument of a message, with checked reads: sizes, strings, blobs,
/// chars, allowed tags, brackets and depth, and that nothing follows the last one.
fn message_args(m: &MessageRef<'_>, opts: &Options, depth: usize) -> Result<()> {
    let tags = m.tags();
    if tags.len() > opts.max_args {
        return Err(Error::LimitExceeded {
            what: "argument count",
            limit: opts.max_args,
            offset: m.tags_offset(),
        });
    }
    let limit = opts.depth_limit();
    let mut level = depth;
    let mut r = Reader::new(m.data(), m.data_offset());
    let check_allowed = opts.allowed_tags != TagSet::ALL;
    for (i, &t) in tags.iter().enumerate() {
        let offset = m.tags_offset() + i;
        let arg = read_checked(t, offset, &mut r, m.policy)?;
        if check_allowed && !opts.allowed_tags.contains(arg.tag()) {
            return Err(Error::TagNotAllowed {
                offset,
                tag: arg.tag(),
            });
        }
        match t {
            b'[' => {
                level += 1;
                if level > limit {
                    return Err(Error::LimitExceeded {
                        what: "depth",
                        limit,
                        offset,
                    });
                }
            }
            b']' => {
                if level == depth {
                    return Err(Error::UnbalancedArray { offset });
                }
                level -= 1;
            }
            _ => {}
        }
    }
    if level != depth {
        return Err(Error::UnbalancedArray {
            offset: m.tags_offset() + tags.len(),
        });
    }
    if !r.is_empty() {
        return Err(Error::TrailingBytes {
            offset: r.offset(),
            count: r.remaining(),
        });
    }
    Ok(())
}

/// Parses a bundle (its depth already checked); with `validate`, every element too.
fn bundle<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
    validate: bool,
) -> Result<BundleRef<'a>> {
    let mut r = Reader::new(raw, base);
    let head = r.take(8)?;
    if head != BUNDLE_TAG {
        return Err(Error::NotAPacket { offset: base });
    }
    let timetag = TimeTag::from_bits(r.u64()?);
    let elements_offset = r.offset();
    let elements = r.rest();
    let bundle = BundleRef {
        raw,
        timetag,
        base: to_u32(base),
        depth: to_u32(depth),
        policy: Policy::of(opts),
    };
    if validate {
        let mut er = Reader::new(elements, elements_offset);
        while !er.is_empty() {
            let (element, offset) = next_element(&mut er)?;
            packet(element, offset, opts, depth + 1, true)?;
        }
    }
    Ok(bundle)
}

/// Reads one bundle element's size and bytes.
pub(crate) fn next_element<'a>(r: &mut Reader<'a>) -> Result<(&'a [u8], usize)> {
    let offset = r.offset();
    let size = r.u32()? as i32;
    let remaining = r.remaining();
    match usize::try_from(size) {
        Ok(n) if n > 0 && n <= remaining => {
            if n % 4 != 0 {
                return Err(Error::Misaligned { offset, size: n });
            }
            Ok((r.take(n)?, offset + 4))
        }
        _ => Err(Error::BadBundleElementSize {
            offset,
            size: i64::from(size),
            remaining,
        }),
    }
}
