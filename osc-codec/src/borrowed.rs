//! Zero-copy decoding: packets as views of the input buffer.
//!
//! [`decode`] validates the whole packet once; the views it returns then hand out
//! strings and blobs as slices of the input, and arguments through a lazy iterator,
//! without allocating.

use crate::read::{Reader, WireStr, wire_char};
use crate::validate::{self, trusted_blob, trusted_string};
use crate::{ArgRef, Error, Midi, Options, Result, Rgba, StringPolicy, TimeTag};

/// The eight bytes that start a bundle.
pub const BUNDLE_TAG: &[u8; 8] = b"#bundle\0";

/// How the lazy iterators re-read data that [`decode`] already validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    pub(crate) strings: StringPolicy,
    pub(crate) strict_padding: bool,
}

impl Policy {
    pub(crate) fn of(opts: &Options) -> Self {
        Policy {
            strings: opts.strings,
            strict_padding: opts.strict_padding,
        }
    }
}

/// Reads the data of one argument whose tag byte is `tag`, at `tag_offset` in the packet.
#[inline]
pub(crate) fn read_arg<'a>(
    tag: u8,
    tag_offset: usize,
    r: &mut Reader<'a>,
    p: Policy,
) -> Result<ArgRef<'a>> {
    Ok(match tag {
        b'i' => ArgRef::Int(r.u32()? as i32),
        b'f' => ArgRef::Float(f32::from_bits(r.u32()?)),
        b's' => match r.string(p.strings, p.strict_padding)? {
            WireStr::Text(s) => ArgRef::Str(s),
            WireStr::Raw(b) => ArgRef::RawStr(b),
        },
        b'S' => match r.string(p.strings, p.strict_padding)? {
            WireStr::Text(s) => ArgRef::Symbol(s),
            WireStr::Raw(b) => ArgRef::RawSymbol(b),
        },
        b'b' => ArgRef::Blob(r.blob(p.strict_padding)?),
        b'h' => ArgRef::Long(r.u64()? as i64),
        b't' => ArgRef::TimeTag(TimeTag::from_bits(r.u64()?)),
        b'd' => ArgRef::Double(f64::from_bits(r.u64()?)),
        b'c' => {
            let offset = r.offset();
            let raw = r.u32()?;
            ArgRef::Char(wire_char(raw).ok_or(Error::InvalidChar { offset, value: raw })?)
        }
        b'r' => ArgRef::Rgba(Rgba::from_u32(r.u32()?)),
        b'm' => ArgRef::Midi(Midi::from_u32(r.u32()?)),
        b'T' => ArgRef::Bool(true),
        b'F' => ArgRef::Bool(false),
        b'N' => ArgRef::Nil,
        b'I' => ArgRef::Inf,
        b'[' => ArgRef::ArrayOpen,
        b']' => ArgRef::ArrayClose,
        other => {
            return Err(Error::UnknownTag {
                offset: tag_offset,
                tag: other as char,
            });
        }
    })
}

/// A decoded OSC message that borrows from the packet bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageRef<'a> {
    pub(crate) raw: &'a [u8],
    pub(crate) address: &'a str,
    /// Positions in `raw` (packets are at most `u32::MAX` bytes, so they fit, and the
    /// view stays small enough to return in registers-and-a-bit): the first type tag
    /// after the `,`, the end of the tags, the first data byte.
    pub(crate) at: Positions,
    pub(crate) policy: Policy,
}

/// Where a message's parts are, as positions in its bytes, and where those bytes are
/// in the packet (for error offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Positions {
    pub(crate) base: u32,
    pub(crate) tags: u32,
    pub(crate) tags_end: u32,
    pub(crate) data: u32,
}

impl Positions {
    /// Positions from `usize` values that index a packet (at most `u32::MAX` bytes,
    /// checked by [`check_packet_size`]).
    #[inline(always)]
    pub(crate) fn new(base: usize, tags: usize, tags_end: usize, data: usize) -> Self {
        Positions {
            base: to_u32(base),
            tags: to_u32(tags),
            tags_end: to_u32(tags_end),
            data: to_u32(data),
        }
    }
}

/// A position in a packet, which is at most `u32::MAX` bytes long (checked by
/// [`check_packet_size`] before any view is built), so it never truncates.
#[inline(always)]
pub(crate) fn to_u32(x: usize) -> u32 {
    x as u32
}

impl<'a> MessageRef<'a> {
    /// The type tag bytes (without the `,`).
    #[inline(always)]
    pub(crate) fn tags(&self) -> &'a [u8] {
        self.raw
            .get(self.at.tags as usize..self.at.tags_end as usize)
            .unwrap_or(&[])
    }

    /// The argument data.
    #[inline(always)]
    pub(crate) fn data(&self) -> &'a [u8] {
        self.raw.get(self.at.data as usize..).unwrap_or(&[])
    }

    /// Offset of the first type tag in the packet.
    pub(crate) fn tags_offset(&self) -> usize {
        self.at.base as usize + self.at.tags as usize
    }

    /// Offset of the argument data in the packet.
    pub(crate) fn data_offset(&self) -> usize {
        self.at.base as usize + self.at.data as usize
    }

    /// The address (or address pattern).
    pub fn address(&self) -> &'a str {
        self.address
    }

    /// The type tags without the leading `,` (for example `"ifs"`).
    pub fn type_tags(&self) -> &'a str {
        // Validated as ASCII tag characters when decoded.
        core::str::from_utf8(self.tags()).unwrap_or_default()
    }

    /// The number of type tags (array brackets included).
    pub fn tag_count(&self) -> usize {
        (self.at.tags_end - self.at.tags) as usize
    }

    /// A lazy iterator over the arguments, arrays flattened into
    /// [`ArgRef::ArrayOpen`]/[`ArgRef::ArrayClose`].
    ///
    /// ```
    /// use osc_codec::{decode, ArgRef, PacketRef};
    /// let bytes = b"/synth/1/freq\0\0\0,ifs\0\0\0\0\0\0\x01\xb8\x3f\0\0\0sine\0\0\0\0";
    /// let PacketRef::Message(m) = decode(bytes)? else { unreachable!() };
    /// let args: Vec<_> = m.args().collect();
    /// assert_eq!(args, [ArgRef::Int(440), ArgRef::Float(0.5), ArgRef::Str("sine")]);
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn args(&self) -> Args<'a> {
        Args {
            tags: self.tags(),
            data: self.data(),
            policy: self.policy,
        }
    }

    /// The whole message as it was on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Parses a message; with `validate`, every argument is checked too.
    pub(crate) fn parse(
        raw: &'a [u8],
        base: usize,
        opts: &Options,
        depth: usize,
        validate: bool,
    ) -> Result<Self> {
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
            msg.validate_args(opts, depth)?;
        }
        Ok(msg)
    }

    fn validate_args(&self, opts: &Options, depth: usize) -> Result<()> {
        let tags = self.tags();
        if tags.len() > opts.max_args {
            return Err(Error::LimitExceeded {
                what: "argument count",
                limit: opts.max_args,
                offset: self.tags_offset(),
            });
        }
        let limit = opts.depth_limit();
        let mut level = depth;
        let mut r = Reader::new(self.data(), self.data_offset());
        let check_allowed = opts.allowed_tags != crate::TagSet::ALL;
        for (i, &t) in tags.iter().enumerate() {
            let offset = self.tags_offset() + i;
            let arg = read_arg(t, offset, &mut r, self.policy)?;
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
                offset: self.tags_offset() + tags.len(),
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
}

/// Checks a decoded address: a leading `/` always; with `check_address`, no space,
/// `#` or control character.
fn check_incoming_address(address: &str, offset: usize, opts: &Options) -> Result<()> {
    if !address.starts_with('/') {
        return Err(Error::InvalidAddress {
            offset,
            reason: "does not start with '/'",
        });
    }
    if opts.check_address {
        if let Err(reason) = crate::encode::address_syntax(address) {
            return Err(Error::InvalidAddress { offset, reason });
        }
    }
    Ok(())
}

/// Lazy iterator over a message's arguments. See [`MessageRef::args`].
#[derive(Debug, Clone)]
pub struct Args<'a> {
    /// The tags not read yet.
    tags: &'a [u8],
    /// The data not read yet.
    data: &'a [u8],
    policy: Policy,
}

impl<'a> Args<'a> {
    #[inline(always)]
    fn word(&mut self) -> Option<u32> {
        let (head, rest) = self.data.split_first_chunk::<4>()?;
        self.data = rest;
        Some(u32::from_be_bytes(*head))
    }

    #[inline(always)]
    fn dword(&mut self) -> Option<u64> {
        let (head, rest) = self.data.split_first_chunk::<8>()?;
        self.data = rest;
        Some(u64::from_be_bytes(*head))
    }

    #[inline(always)]
    fn string(&mut self) -> Option<WireStr<'a>> {
        let (s, rest) = trusted_string(self.data, self.policy.strings)?;
        self.data = rest;
        Some(s)
    }
}

impl<'a> Iterator for Args<'a> {
    type Item = ArgRef<'a>;

    /// The message was validated when decoded, so reads cannot fail; if one did, the
    /// iterator would stop.
    #[inline]
    fn next(&mut self) -> Option<ArgRef<'a>> {
        let (&tag, tags) = self.tags.split_first()?;
        self.tags = tags;
        Some(match tag {
            b'i' => ArgRef::Int(self.word()? as i32),
            b'f' => ArgRef::Float(f32::from_bits(self.word()?)),
            b's' => match self.string()? {
                WireStr::Text(s) => ArgRef::Str(s),
                WireStr::Raw(b) => ArgRef::RawStr(b),
            },
            b'S' => match self.string()? {
                WireStr::Text(s) => ArgRef::Symbol(s),
                WireStr::Raw(b) => ArgRef::RawSymbol(b),
            },
            b'b' => {
                let (blob, rest) = trusted_blob(self.data)?;
                self.data = rest;
                ArgRef::Blob(blob)
            }
            b'h' => ArgRef::Long(self.dword()? as i64),
            b't' => ArgRef::TimeTag(TimeTag::from_bits(self.dword()?)),
            b'd' => ArgRef::Double(f64::from_bits(self.dword()?)),
            b'c' => ArgRef::Char(wire_char(self.word()?)?),
            b'r' => ArgRef::Rgba(Rgba::from_u32(self.word()?)),
            b'm' => ArgRef::Midi(Midi::from_u32(self.word()?)),
            b'T' => ArgRef::Bool(true),
            b'F' => ArgRef::Bool(false),
            b'N' => ArgRef::Nil,
            b'I' => ArgRef::Inf,
            b'[' => ArgRef::ArrayOpen,
            b']' => ArgRef::ArrayClose,
            _ => return None,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.tags.len();
        (n, Some(n))
    }
}

impl ExactSizeIterator for Args<'_> {}

/// A decoded OSC bundle that borrows from the packet bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BundleRef<'a> {
    /// The whole bundle: `#bundle\0`, the timetag, then the elements.
    pub(crate) raw: &'a [u8],
    pub(crate) timetag: TimeTag,
    /// Offset of `raw` in the packet.
    pub(crate) base: u32,
    pub(crate) depth: u32,
    pub(crate) policy: Policy,
}

impl<'a> BundleRef<'a> {
    /// The elements' bytes (sizes included), after the 16-byte header.
    #[inline(always)]
    pub(crate) fn element_bytes(&self) -> &'a [u8] {
        self.raw.get(16..).unwrap_or(&[])
    }

    /// The bundle's timetag.
    pub fn timetag(&self) -> TimeTag {
        self.timetag
    }

    /// The elements (messages and bundles), in order.
    ///
    /// ```
    /// use osc_codec::{decode, Bundle, Message, Packet, PacketRef, TimeTag};
    /// let bytes = Packet::from(Bundle::new(TimeTag::IMMEDIATELY)
    ///     .add(Message::new("/a").arg(1))
    ///     .add(Message::new("/b"))).to_bytes()?;
    /// let PacketRef::Bundle(b) = decode(&bytes)? else { unreachable!() };
    /// let addrs: Vec<_> = b.elements().map(|p| match p {
    ///     PacketRef::Message(m) => m.address(),
    ///     PacketRef::Bundle(_) => "#bundle",
    /// }).collect();
    /// assert_eq!(addrs, ["/a", "/b"]);
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn elements(&self) -> Elements<'a> {
        Elements {
            rest: self.element_bytes(),
            offset: self.base as usize + 16,
            policy: self.policy,
        }
    }

    /// The whole bundle as it was on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    fn parse(
        raw: &'a [u8],
        base: usize,
        opts: &Options,
        depth: usize,
        validate: bool,
    ) -> Result<Self> {
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
                PacketRef::parse(element, offset, opts, depth + 1, true)?;
            }
        }
        Ok(bundle)
    }

    /// Nesting depth of this bundle (0 for a top-level packet).
    pub fn depth(&self) -> usize {
        self.depth as usize
    }
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

/// Iterator over a bundle's elements. See [`BundleRef::elements`].
#[derive(Debug, Clone)]
pub struct Elements<'a> {
    /// The elements not read yet.
    rest: &'a [u8],
    /// Absolute offset of `rest`.
    offset: usize,
    policy: Policy,
}

impl<'a> Iterator for Elements<'a> {
    type Item = PacketRef<'a>;

    fn next(&mut self) -> Option<PacketRef<'a>> {
        let (bytes, rest) = validate::next_element(self.rest)?;
        let offset = self.offset + 4;
        self.rest = rest;
        self.offset = offset + bytes.len();
        // Validated when the outer packet was decoded: a light parse is enough.
        validate::trusted_packet(bytes, offset, self.policy)
    }
}

/// A decoded packet: a message or a bundle, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PacketRef<'a> {
    /// A message.
    Message(MessageRef<'a>),
    /// A bundle.
    Bundle(BundleRef<'a>),
}

impl<'a> PacketRef<'a> {
    pub(crate) fn parse(
        raw: &'a [u8],
        base: usize,
        opts: &Options,
        depth: usize,
        validate: bool,
    ) -> Result<Self> {
        match raw.first() {
            Some(b'/') => Ok(PacketRef::Message(MessageRef::parse(
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
                Ok(PacketRef::Bundle(BundleRef::parse(
                    raw, base, opts, depth, validate,
                )?))
            }
            Some(_) => Err(Error::NotAPacket { offset: base }),
            None => Err(Error::UnexpectedEnd {
                offset: base,
                needed: 4,
                available: 0,
            }),
        }
    }

    /// Parses and fully validates a packet: the fast path, or the reference decoder
    /// (which gives the exact error) when the fast path declines.
    #[inline(always)]
    pub(crate) fn validated(
        raw: &'a [u8],
        base: usize,
        opts: &Options,
        depth: usize,
    ) -> Result<Self> {
        match validate::packet(raw, base, opts, depth) {
            Some(p) => Ok(p),
            None => Self::reference(raw, base, opts, depth),
        }
    }

    #[cold]
    #[inline(never)]
    fn reference(raw: &'a [u8], base: usize, opts: &Options, depth: usize) -> Result<Self> {
        PacketRef::parse(raw, base, opts, depth, true)
    }

    /// The packet as it was on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            PacketRef::Message(m) => m.as_bytes(),
            PacketRef::Bundle(b) => b.as_bytes(),
        }
    }
}

/// Decodes and fully validates a packet with the default [`Options`], without allocating.
///
/// ```
/// use osc_codec::{decode, PacketRef};
/// let packet = decode(b"/ping\0\0\0,\0\0\0")?;
/// assert!(matches!(packet, PacketRef::Message(m) if m.address() == "/ping"));
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub fn decode(bytes: &[u8]) -> Result<PacketRef<'_>> {
    decode_with(bytes, &Options::DEFAULT)
}

/// Decodes and fully validates a packet with the given options, without allocating.
#[inline]
pub fn decode_with<'a>(bytes: &'a [u8], opts: &Options) -> Result<PacketRef<'a>> {
    check_packet_size(bytes, opts)?;
    PacketRef::validated(bytes, 0, opts, 0)
}

pub(crate) fn check_packet_size(bytes: &[u8], opts: &Options) -> Result<()> {
    // Views store positions as u32: no packet may be longer than that, whatever the
    // options say (OSC over UDP is limited to 64 KiB; streams default to 1 MiB).
    let limit = opts.max_packet_size.min(u32::MAX as usize);
    if bytes.len() > limit {
        return Err(Error::LimitExceeded {
            what: "packet size",
            limit,
            offset: 0,
        });
    }
    if bytes.is_empty() {
        return Err(Error::UnexpectedEnd {
            offset: 0,
            needed: 4,
            available: 0,
        });
    }
    if bytes.len() % 4 != 0 {
        return Err(Error::Misaligned {
            offset: 0,
            size: bytes.len(),
        });
    }
    Ok(())
}
