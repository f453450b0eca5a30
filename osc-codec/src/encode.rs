//! Encoding into a caller's buffer (no allocation) or appending to a `Vec`.
//!
//! Encoding takes two passes: the number of type tags is counted first (so the data
//! can be written right after them), then tags and data are written in one walk. When
//! the buffer is too small the error says how many bytes are needed.

use crate::address::check_outgoing_address;
use crate::read::{pad4, str_size};
use crate::{ArgRef, CharLayout, Error, Options, Result, StringPolicy};
#[cfg(feature = "alloc")]
use crate::{BUNDLE_TAG, TimeTag};

/// A marker error for "the output buffer is full"; replaced at the top by the real size.
const FULL: Error = Error::BufferTooSmall {
    needed: 0,
    available: 0,
};

/// The output buffer with bounds-checked writes.
pub(crate) struct Out<'b> {
    buf: &'b mut [u8],
}

impl<'b> Out<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Out { buf }
    }

    #[inline]
    fn slot(&mut self, pos: usize, len: usize) -> Result<&mut [u8]> {
        let end = pos.checked_add(len).ok_or(FULL)?;
        self.buf.get_mut(pos..end).ok_or(FULL)
    }

    #[inline]
    pub(crate) fn put(&mut self, pos: usize, bytes: &[u8]) -> Result<usize> {
        self.slot(pos, bytes.len())?.copy_from_slice(bytes);
        Ok(pos + bytes.len())
    }

    #[inline]
    fn byte(&mut self, pos: usize, b: u8) -> Result<usize> {
        *self.buf.get_mut(pos).ok_or(FULL)? = b;
        Ok(pos + 1)
    }

    #[inline]
    fn zeros(&mut self, pos: usize, n: usize) -> Result<usize> {
        self.slot(pos, n)?.fill(0);
        Ok(pos + n)
    }

    /// Writes an OSC string (bytes, NUL, padding).
    #[inline]
    pub(crate) fn str_bytes(&mut self, pos: usize, bytes: &[u8]) -> Result<usize> {
        let end = self.put(pos, bytes)?;
        self.zeros(end, str_size(bytes.len()) - bytes.len())
    }

    /// Writes a string under a policy. `index` is the argument index for errors.
    #[inline]
    fn string(&mut self, pos: usize, s: &str, policy: StringPolicy, index: usize) -> Result<usize> {
        let bytes = s.as_bytes();
        if bytes.contains(&0) {
            return Err(Error::InvalidString {
                offset: index,
                expected: "NUL-free",
            });
        }
        match policy {
            StringPolicy::Utf8 | StringPolicy::Raw => self.str_bytes(pos, bytes),
            _ if bytes.is_ascii() => self.str_bytes(pos, bytes),
            StringPolicy::Ascii => Err(Error::InvalidString {
                offset: index,
                expected: "ASCII",
            }),
            StringPolicy::AsciiReplace => {
                let mut p = pos;
                for c in s.chars() {
                    p = self.byte(p, if c.is_ascii() { c as u8 } else { b'?' })?;
                }
                self.zeros(p, str_size(p - pos) - (p - pos))
            }
        }
    }

    fn raw_string(&mut self, pos: usize, bytes: &[u8], index: usize) -> Result<usize> {
        if bytes.contains(&0) {
            return Err(Error::InvalidString {
                offset: index,
                expected: "NUL-free",
            });
        }
        self.str_bytes(pos, bytes)
    }
}

/// Size on the wire of a string under a policy (before policy errors).
#[inline]
fn string_size(s: &str, policy: StringPolicy) -> usize {
    match policy {
        StringPolicy::AsciiReplace if !s.is_ascii() => str_size(s.chars().count()),
        _ => str_size(s.len()),
    }
}

/// Size of a scalar argument's data.
#[inline]
pub(crate) fn arg_data_size(a: &ArgRef<'_>, policy: StringPolicy) -> usize {
    match a {
        ArgRef::Str(s) | ArgRef::Symbol(s) => string_size(s, policy),
        ArgRef::RawStr(b) | ArgRef::RawSymbol(b) => str_size(b.len()),
        ArgRef::Blob(b) => 4 + pad4(b.len()),
        other => other.tag().fixed_size().unwrap_or(0),
    }
}

/// Writes one scalar argument's data at `pos`; returns the new position.
#[inline]
pub(crate) fn write_arg_data(
    out: &mut Out<'_>,
    pos: usize,
    a: &ArgRef<'_>,
    opts: &Options,
    index: usize,
) -> Result<usize> {
    match *a {
        ArgRef::Int(v) => out.put(pos, &v.to_be_bytes()),
        ArgRef::Float(v) => out.put(pos, &v.to_bits().to_be_bytes()),
        ArgRef::Str(s) | ArgRef::Symbol(s) => out.string(pos, s, opts.strings, index),
        ArgRef::RawStr(b) | ArgRef::RawSymbol(b) => out.raw_string(pos, b, index),
        ArgRef::Blob(b) => {
            let len = i32::try_from(b.len()).map_err(|_| Error::FrameTooLarge {
                size: b.len(),
                limit: i32::MAX as usize,
            })?;
            let p = out.put(pos, &len.to_be_bytes())?;
            let p = out.put(p, b)?;
            out.zeros(p, pad4(b.len()) - b.len())
        }
        ArgRef::Long(v) => out.put(pos, &v.to_be_bytes()),
        ArgRef::TimeTag(t) => out.put(pos, &t.to_bits().to_be_bytes()),
        ArgRef::Double(v) => out.put(pos, &v.to_bits().to_be_bytes()),
        ArgRef::Char(c) => {
            let bytes = match opts.char_layout {
                CharLayout::Int32 => (c as u32).to_be_bytes(),
                CharLayout::FirstByte => {
                    let b = u8::try_from(c as u32).map_err(|_| Error::InvalidChar {
                        offset: index,
                        value: c as u32,
                    })?;
                    [b, 0, 0, 0]
                }
            };
            out.put(pos, &bytes)
        }
        ArgRef::Rgba(v) => out.put(pos, &v.to_u32().to_be_bytes()),
        ArgRef::Midi(v) => out.put(pos, &v.to_u32().to_be_bytes()),
        ArgRef::Bool(_) | ArgRef::Nil | ArgRef::Inf | ArgRef::ArrayOpen | ArgRef::ArrayClose => {
            Ok(pos)
        }
    }
}

/// The parts every message encoder needs: positions of the address, tags and data.
pub(crate) struct Layout {
    pub(crate) tags_pos: usize,
    pub(crate) data_pos: usize,
}

/// Writes the address and the `,` of the type tags; zero-fills the tag area.
pub(crate) fn begin_message(
    out: &mut Out<'_>,
    pos: usize,
    address: &str,
    tag_count: usize,
    opts: &Options,
) -> Result<Layout> {
    check_outgoing_address(address, opts)?;
    let p = out.string(pos, address, opts.strings, 0)?;
    let tags_size = str_size(tag_count + 1);
    out.zeros(p, tags_size)?;
    out.byte(p, b',')?;
    Ok(Layout {
        tags_pos: p + 1,
        data_pos: p + tags_size,
    })
}

/// Encodes a message from a flat list of borrowed arguments (arrays as
/// [`ArgRef::ArrayOpen`]/[`ArgRef::ArrayClose`]) into `buf`, returning the number of
/// bytes written. Needs no allocator.
///
/// ```
/// use osc_codec::{encode_message_into, ArgRef, Options};
/// let mut buf = [0u8; 64];
/// let n = encode_message_into("/a", &[ArgRef::Int(1), ArgRef::Str("hi")], &mut buf, &Options::DEFAULT)?;
/// assert_eq!(&buf[..n], b"/a\0\0,is\0\0\0\0\x01hi\0\0");
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub fn encode_message_into(
    address: &str,
    args: &[ArgRef<'_>],
    buf: &mut [u8],
    opts: &Options,
) -> Result<usize> {
    let available = buf.len();
    let mut out = Out::new(buf);
    write_flat_message(&mut out, 0, address, args, opts)
        .map_err(|e| full_to(e, || flat_message_size(address, args, opts), available))
}

/// The encoded size of a message given as flat borrowed arguments.
pub fn flat_message_size(address: &str, args: &[ArgRef<'_>], opts: &Options) -> usize {
    string_size(address, opts.strings)
        + str_size(args.len() + 1)
        + args
            .iter()
            .map(|a| arg_data_size(a, opts.strings))
            .sum::<usize>()
}

fn write_flat_message(
    out: &mut Out<'_>,
    pos: usize,
    address: &str,
    args: &[ArgRef<'_>],
    opts: &Options,
) -> Result<usize> {
    let Layout {
        mut tags_pos,
        mut data_pos,
    } = begin_message(out, pos, address, args.len(), opts)?;
    let check_allowed = opts.allowed_tags != crate::TagSet::ALL;
    let mut depth = 0usize;
    for (i, a) in args.iter().enumerate() {
        let tag = a.tag();
        if check_allowed && !opts.allowed_tags.contains(tag) {
            return Err(Error::TagNotAllowed { offset: i, tag });
        }
        match a {
            ArgRef::ArrayOpen => depth += 1,
            ArgRef::ArrayClose => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(Error::UnbalancedArray { offset: i })?;
            }
            _ => {}
        }
        tags_pos = out.byte(tags_pos, tag.as_byte())?;
        data_pos = write_arg_data(out, data_pos, a, opts, i)?;
    }
    if depth != 0 {
        return Err(Error::UnbalancedArray { offset: args.len() });
    }
    Ok(data_pos)
}

#[cfg(feature = "alloc")]
/// Writes a bundle header (`#bundle`, timetag) at `pos`.
pub(crate) fn write_bundle_head(out: &mut Out<'_>, pos: usize, t: TimeTag) -> Result<usize> {
    let p = out.put(pos, BUNDLE_TAG)?;
    out.put(p, &t.to_bits().to_be_bytes())
}

#[cfg(feature = "alloc")]
/// Writes an element size at `size_pos` once the element is written up to `end`.
pub(crate) fn patch_element_size(out: &mut Out<'_>, size_pos: usize, end: usize) -> Result<()> {
    let size = end - size_pos - 4;
    let size = i32::try_from(size).map_err(|_| Error::FrameTooLarge {
        size,
        limit: i32::MAX as usize,
    })?;
    out.put(size_pos, &size.to_be_bytes()).map(|_| ())
}

/// Maps the internal "buffer full" marker to a real error.
pub(crate) fn full_to(e: Error, needed: impl FnOnce() -> usize, available: usize) -> Error {
    if e == FULL {
        Error::BufferTooSmall {
            needed: needed(),
            available,
        }
    } else {
        e
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn flat_encoding_and_errors() {
        let mut buf = [0u8; 8];
        let err = encode_message_into("/abc", &[ArgRef::Int(1)], &mut buf, &Options::DEFAULT);
        assert_eq!(
            err,
            Err(Error::BufferTooSmall {
                needed: 16,
                available: 8
            })
        );
        let mut buf = [0u8; 64];
        let err = encode_message_into("/a", &[ArgRef::ArrayClose], &mut buf, &Options::DEFAULT);
        assert_eq!(err, Err(Error::UnbalancedArray { offset: 0 }));
        let err = encode_message_into("/a", &[ArgRef::ArrayOpen], &mut buf, &Options::DEFAULT);
        assert_eq!(err, Err(Error::UnbalancedArray { offset: 1 }));
        let err = encode_message_into("a", &[], &mut buf, &Options::DEFAULT);
        assert!(matches!(err, Err(Error::InvalidAddress { .. })));
        let err = encode_message_into("/a", &[ArgRef::Str("a\0b")], &mut buf, &Options::DEFAULT);
        assert!(matches!(
            err,
            Err(Error::InvalidString {
                expected: "NUL-free",
                ..
            })
        ));
    }

    #[test]
    fn ascii_replace_writes_question_marks() {
        let opts = Options {
            strings: StringPolicy::AsciiReplace,
            ..Options::DEFAULT
        };
        let mut buf = [0u8; 64];
        let args = [ArgRef::Str("héllo")];
        let n = encode_message_into("/a", &args, &mut buf, &opts).unwrap();
        assert_eq!(n, flat_message_size("/a", &args, &opts));
        assert_eq!(&buf[8..n], b"h?llo\0\0\0");
        let ascii = Options {
            strings: StringPolicy::Ascii,
            ..Options::DEFAULT
        };
        assert!(encode_message_into("/a", &args, &mut buf, &ascii).is_err());
    }
}
