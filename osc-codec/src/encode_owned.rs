//! Encoding of owned packets.

use alloc::vec::Vec;

use crate::encode::{
    Layout, Out, arg_data_size, begin_message, full_to, patch_element_size, write_arg_data,
    write_bundle_head,
};
use crate::read::str_size;
use crate::{ArgRef, Bundle, Error, Message, Options, Packet, Result, Tag, Value};

impl Value {
    /// A borrowed view of a scalar value; `None` for an array.
    pub fn as_arg(&self) -> Option<ArgRef<'_>> {
        Some(match self {
            Value::Int(v) => ArgRef::Int(*v),
            Value::Float(v) => ArgRef::Float(*v),
            Value::String(s) => ArgRef::Str(s),
            Value::Blob(b) => ArgRef::Blob(b),
            Value::Long(v) => ArgRef::Long(*v),
            Value::TimeTag(t) => ArgRef::TimeTag(*t),
            Value::Double(v) => ArgRef::Double(*v),
            Value::Symbol(s) => ArgRef::Symbol(s),
            Value::Char(c) => ArgRef::Char(*c),
            Value::Rgba(v) => ArgRef::Rgba(*v),
            Value::Midi(v) => ArgRef::Midi(*v),
            Value::Bool(b) => ArgRef::Bool(*b),
            Value::Nil => ArgRef::Nil,
            Value::Inf => ArgRef::Inf,
            Value::RawString(b) => ArgRef::RawStr(b),
            Value::RawSymbol(b) => ArgRef::RawSymbol(b),
            Value::Array(_) => return None,
        })
    }
}

/// Counts tags (brackets included) and data bytes, checking the depth.
fn measure_args(
    args: &[Value],
    opts: &Options,
    depth: usize,
    tags: &mut usize,
    data: &mut usize,
) -> Result<()> {
    for a in args {
        match a {
            Value::Array(inner) => {
                let limit = opts.depth_limit();
                if depth + 1 > limit {
                    return Err(Error::LimitExceeded {
                        what: "depth",
                        limit,
                        offset: *tags,
                    });
                }
                *tags += 2;
                measure_args(inner, opts, depth + 1, tags, data)?;
            }
            v => {
                *tags += 1;
                if let Some(arg) = v.as_arg() {
                    *data += arg_data_size(&arg, opts.strings);
                }
            }
        }
    }
    Ok(())
}

fn count_tags(args: &[Value], opts: &Options, depth: usize) -> Result<usize> {
    let (mut tags, mut data) = (0, 0);
    measure_args(args, opts, depth, &mut tags, &mut data)?;
    Ok(tags)
}

fn message_size(m: &Message, opts: &Options, depth: usize) -> Result<usize> {
    let (mut tags, mut data) = (0, 0);
    measure_args(&m.args, opts, depth, &mut tags, &mut data)?;
    Ok(str_size(m.address.len()) + str_size(tags + 1) + data)
}

fn packet_size(p: &Packet, opts: &Options, depth: usize) -> Result<usize> {
    match p {
        Packet::Message(m) => message_size(m, opts, depth),
        Packet::Bundle(b) => {
            let limit = opts.depth_limit();
            if depth >= limit {
                return Err(Error::LimitExceeded {
                    what: "depth",
                    limit,
                    offset: 0,
                });
            }
            let mut size = 16;
            for e in &b.content {
                size += 4 + packet_size(e, opts, depth + 1)?;
            }
            Ok(size)
        }
    }
}

struct ArgWriter<'o, 'b> {
    out: &'o mut Out<'b>,
    opts: &'o Options,
    tags_pos: usize,
    data_pos: usize,
    index: usize,
    check_allowed: bool,
}

impl ArgWriter<'_, '_> {
    fn tag(&mut self, tag: Tag) -> Result<()> {
        if self.check_allowed && !self.opts.allowed_tags.contains(tag) {
            return Err(Error::TagNotAllowed {
                offset: self.index,
                tag,
            });
        }
        self.tags_pos = self.out.put(self.tags_pos, &[tag.as_byte()])?;
        self.index += 1;
        Ok(())
    }

    fn args(&mut self, args: &[Value]) -> Result<()> {
        for a in args {
            match a.as_arg() {
                Some(arg) => {
                    let index = self.index;
                    self.tag(arg.tag())?;
                    self.data_pos =
                        write_arg_data(self.out, self.data_pos, &arg, self.opts, index)?;
                }
                None => {
                    if let Value::Array(inner) = a {
                        self.tag(Tag::ArrayOpen)?;
                        self.args(inner)?;
                        self.tag(Tag::ArrayClose)?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn write_message(
    out: &mut Out<'_>,
    pos: usize,
    m: &Message,
    opts: &Options,
    depth: usize,
) -> Result<usize> {
    let tag_count = count_tags(&m.args, opts, depth)?;
    let Layout { tags_pos, data_pos } = begin_message(out, pos, &m.address, tag_count, opts)?;
    let mut w = ArgWriter {
        out,
        opts,
        tags_pos,
        data_pos,
        index: 0,
        check_allowed: opts.allowed_tags != crate::TagSet::ALL,
    };
    w.args(&m.args)?;
    Ok(w.data_pos)
}

fn write_packet(
    out: &mut Out<'_>,
    pos: usize,
    p: &Packet,
    opts: &Options,
    depth: usize,
) -> Result<usize> {
    match p {
        Packet::Message(m) => write_message(out, pos, m, opts, depth),
        Packet::Bundle(b) => write_bundle(out, pos, b, opts, depth),
    }
}

fn write_bundle(
    out: &mut Out<'_>,
    pos: usize,
    b: &Bundle,
    opts: &Options,
    depth: usize,
) -> Result<usize> {
    let limit = opts.depth_limit();
    if depth >= limit {
        return Err(Error::LimitExceeded {
            what: "depth",
            limit,
            offset: pos,
        });
    }
    let mut p = write_bundle_head(out, pos, b.timetag)?;
    for e in &b.content {
        let size_pos = p;
        let end = write_packet(out, size_pos + 4, e, opts, depth + 1)?;
        patch_element_size(out, size_pos, end)?;
        p = end;
    }
    Ok(p)
}

impl Packet {
    /// The number of bytes this packet encodes to with the default options.
    pub fn encoded_len(&self) -> Result<usize> {
        packet_size(self, &Options::DEFAULT, 0)
    }

    /// Encodes into `buf` with the default options; returns the bytes written.
    /// Does not allocate.
    ///
    /// ```
    /// use osc_codec::{Message, Packet};
    /// let mut buf = [0u8; 128];
    /// let n = Packet::from(Message::new("/a").arg(1)).encode_into(&mut buf)?;
    /// assert_eq!(&buf[..n], b"/a\0\0,i\0\0\0\0\0\x01");
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    #[inline]
    pub fn encode_into(&self, buf: &mut [u8]) -> Result<usize> {
        self.encode_into_with(buf, &Options::DEFAULT)
    }

    /// Encodes into `buf` with the given options; returns the bytes written.
    #[inline]
    pub fn encode_into_with(&self, buf: &mut [u8], opts: &Options) -> Result<usize> {
        match crate::encode_fast::packet(buf, self, opts) {
            Some(n) => Ok(n),
            None => self.encode_reference(buf, opts),
        }
    }

    /// The reference encoder: every check in order, the exact error.
    #[cold]
    #[inline(never)]
    pub(crate) fn encode_reference(&self, buf: &mut [u8], opts: &Options) -> Result<usize> {
        let available = buf.len();
        let mut out = Out::new(buf);
        write_packet(&mut out, 0, self, opts, 0)
            .map_err(|e| full_to(e, || packet_size(self, opts, 0).unwrap_or(0), available))
    }

    /// Appends the encoded packet to `vec` (reusing its capacity); returns the bytes written.
    pub fn encode_to_vec(&self, vec: &mut Vec<u8>, opts: &Options) -> Result<usize> {
        let size = packet_size(self, opts, 0)?;
        let start = vec.len();
        vec.resize(start + size, 0);
        let tail = vec.get_mut(start..).unwrap_or_default();
        match self.encode_into_with(tail, opts) {
            Ok(n) => {
                vec.truncate(start + n);
                Ok(n)
            }
            Err(e) => {
                vec.truncate(start);
                Err(e)
            }
        }
    }

    /// The encoded packet as a new `Vec`, with the default options.
    ///
    /// ```
    /// use osc_codec::{Message, Packet};
    /// let bytes = Packet::from(Message::new("/ping")).to_bytes()?;
    /// assert_eq!(bytes, b"/ping\0\0\0,\0\0\0");
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.to_bytes_with(&Options::DEFAULT)
    }

    /// The encoded packet as a new `Vec`, with the given options.
    pub fn to_bytes_with(&self, opts: &Options) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        self.encode_to_vec(&mut v, opts)?;
        Ok(v)
    }
}

impl Message {
    /// The encoded message as a new `Vec`, with the default options.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.encode_to_vec(&mut out, &Options::DEFAULT)?;
        Ok(out)
    }

    /// Appends the encoded message to `vec`; returns the bytes written.
    pub fn encode_to_vec(&self, vec: &mut Vec<u8>, opts: &Options) -> Result<usize> {
        let size = message_size(self, opts, 0)?;
        let start = vec.len();
        vec.resize(start + size, 0);
        let tail = vec.get_mut(start..).unwrap_or_default();
        let mut out = Out::new(tail);
        match write_message(&mut out, 0, self, opts, 0) {
            Ok(n) => {
                vec.truncate(start + n);
                Ok(n)
            }
            Err(e) => {
                vec.truncate(start);
                Err(full_to(e, || size, size))
            }
        }
    }

    /// Encodes into `buf`; returns the bytes written. Does not allocate.
    pub fn encode_into(&self, buf: &mut [u8], opts: &Options) -> Result<usize> {
        let available = buf.len();
        let mut out = Out::new(buf);
        write_message(&mut out, 0, self, opts, 0)
            .map_err(|e| full_to(e, || message_size(self, opts, 0).unwrap_or(0), available))
    }
}

impl Bundle {
    /// The encoded bundle as a new `Vec`, with the default options.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = Vec::new();
        let size = packet_size_bundle(self)?;
        v.resize(size, 0);
        let mut out = Out::new(&mut v);
        let n = write_bundle(&mut out, 0, self, &Options::DEFAULT, 0)?;
        v.truncate(n);
        Ok(v)
    }
}

fn packet_size_bundle(b: &Bundle) -> Result<usize> {
    let mut size = 16;
    for e in &b.content {
        size += 4 + packet_size(e, &Options::DEFAULT, 1)?;
    }
    Ok(size)
}
