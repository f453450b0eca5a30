//! Zero-copy views of decoded packets: [`PacketRef`], [`MessageRef`], [`BundleRef`]
//! and their lazy iterators [`Args`] and [`Elements`].
//!
//! A view is built only for a packet that was validated whole (by the fast path in
//! `fast.rs` or the reference reader in `reference.rs`, see `decoder.rs`); it then
//! hands out strings and blobs as slices of the input, and arguments through a lazy
//! iterator, without allocating and without checking again.

use crate::read::Policy;
use crate::scan::{is_word, scan, scan_pair, word_run};
use crate::trusted::{self, bundle_head, text};
use crate::{ArgRef, TimeTag, tags};

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
    /// checked by `check_packet_size`).
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
/// `check_packet_size` before any view is built), so it never truncates.
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

    /// The type-tag string as on the wire, with its leading `,` (for example
    /// `",ifs"`), as [`Message::type_tags`](crate::Message::type_tags) gives it; `","`
    /// for a message that had none (accepted by
    /// [`Options::allow_missing_typetags`](crate::Options::allow_missing_typetags)).
    ///
    /// ```
    /// let m = osc_codec::Message::new("/a").arg(1).arg(2.5f32);
    /// let bytes = osc_codec::Packet::from(m.clone()).to_bytes()?;
    /// let view = osc_codec::decode(&bytes)?;
    /// let osc_codec::PacketRef::Message(v) = view else { unreachable!() };
    /// assert_eq!(v.type_tags(), m.type_tags());
    /// assert_eq!(v.type_tags(), ",if");
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn type_tags(&self) -> &'a str {
        let with_comma = (self.at.tags as usize)
            .checked_sub(1)
            .and_then(|start| self.raw.get(start..self.at.tags_end as usize))
            .filter(|t| t.first() == Some(&b','));
        // Validated as ASCII tag characters when decoded.
        with_comma
            .and_then(|t| core::str::from_utf8(t).ok())
            .unwrap_or(",")
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
    #[inline]
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

    /// How this view reads strings: the [`Options::strings`](crate::Options::strings)
    /// it was decoded with. A copy of [`as_bytes`](Self::as_bytes) read again with
    /// [`decode_validated`](crate::decode_validated) under the same policy gives the
    /// same view.
    ///
    /// ```
    /// use osc_codec::{decode_validated, decode_with, Message, Options, Packet, PacketRef, StringPolicy};
    ///
    /// let opts = Options { strings: StringPolicy::Raw, ..Options::DEFAULT };
    /// let bytes = Packet::from(Message::new("/a").arg("x")).to_bytes()?;
    /// let PacketRef::Message(m) = decode_with(&bytes, &opts)? else { unreachable!() };
    /// assert_eq!(m.string_policy(), StringPolicy::Raw);
    /// let copy = m.as_bytes().to_vec();
    /// let again = Options { strings: m.string_policy(), ..Options::DEFAULT };
    /// let Some(PacketRef::Message(v)) = decode_validated(&copy, &again) else { unreachable!() };
    /// assert_eq!(v.args().collect::<Vec<_>>(), m.args().collect::<Vec<_>>());
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn string_policy(&self) -> crate::StringPolicy {
        self.policy.strings
    }
}

/// Lazy iterator over a message's arguments. See [`MessageRef::args`].
#[derive(Debug, Clone)]
pub struct Args<'a> {
    /// The tags not read yet.
    pub(crate) tags: &'a [u8],
    /// The data not read yet.
    pub(crate) data: &'a [u8],
    pub(crate) policy: Policy,
}

impl<'a> Iterator for Args<'a> {
    type Item = ArgRef<'a>;

    /// The message was validated when decoded, so reads cannot fail; if one did, the
    /// iterator would stop.
    #[inline(always)]
    fn next(&mut self) -> Option<ArgRef<'a>> {
        let (&tag, rest) = self.tags.split_first()?;
        self.tags = rest;
        tags::read_trusted(tag, &mut self.data, self.policy.strings)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.tags.len();
        (n, Some(n))
    }

    /// Reads each run of `i` and `f` arguments, the most common ones, in a long
    /// argument list with one bounds check for the run rather than a dispatch and a
    /// check per argument: `for_each`, `sum`, `collect` and the other consumers that fold
    /// take this path. The values are those [`next`](Self::next) gives, in the same
    /// order.
    // The short loop is a `while let` as `fold_each`'s is (see there).
    #[allow(clippy::while_let_on_iterator)]
    #[inline]
    fn fold<B, F: FnMut(B, ArgRef<'a>) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        if self.tags.len() < WORD_RUN_FROM {
            // A short list: no run to count.
            while let Some(arg) = self.next() {
                acc = f(acc, arg);
            }
            return acc;
        }
        while let Some(&tag) = self.tags.first() {
            // Counting a run pays in a long list only: a short one is read as `next`
            // reads it.
            if self.tags.len() < WORD_RUN_FROM || !is_word(tag) {
                match self.next() {
                    Some(arg) => acc = f(acc, arg),
                    None => return acc,
                }
                continue;
            }
            let run = word_run(self.tags);
            let Some((words, data)) = self.data.split_at_checked(run * 4) else {
                // Data shorter than its tags say (not a validated message): one at a
                // time, as `next` reads it.
                return fold_each(self, acc, f);
            };
            let (tags, rest) = self.tags.split_at(run);
            for (&tag, word) in tags.iter().zip(words.chunks_exact(4)) {
                acc = f(acc, word_arg(tag, word));
            }
            (self.tags, self.data) = (rest, data);
        }
        acc
    }
}

impl ExactSizeIterator for Args<'_> {}

/// The fewest arguments left for which [`Args::fold`] looks for a run of words.
const WORD_RUN_FROM: usize = 8;

/// The `i` or `f` argument `tag` of the 4 bytes `word`.
#[inline(always)]
fn word_arg<'a>(tag: u8, word: &[u8]) -> ArgRef<'a> {
    let bits = word
        .first_chunk::<4>()
        .map_or(0, |w| u32::from_be_bytes(*w));
    if tag == b'i' {
        ArgRef::Int(bits as i32)
    } else {
        ArgRef::Float(f32::from_bits(bits))
    }
}

/// Folds the rest of `args` one [`Args::next`] at a time.
// The same loop as a `for`; this form is the build measured in docs/performance.md
// ("Reading a decoded view"): the `for` form moved unrelated rows of that bench by a
// few points through the code's layout alone.
#[allow(clippy::while_let_on_iterator)]
#[inline(never)]
fn fold_each<'a, B>(mut args: Args<'a>, mut acc: B, mut f: impl FnMut(B, ArgRef<'a>) -> B) -> B {
    while let Some(arg) = args.next() {
        acc = f(acc, arg);
    }
    acc
}

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

    /// Whether some element is a bundle: found from the elements' sizes and first
    /// bytes alone, without parsing them (one load per element), so that a reader can
    /// tell a flat bundle from a nested one before it walks [`elements`](Self::elements).
    ///
    /// ```
    /// use osc_codec::{decode, Bundle, Message, Packet, PacketRef};
    /// let flat = Bundle::immediate().add(Message::new("/a"));
    /// let nested = Bundle::immediate().add(Message::new("/a")).add(flat.clone());
    /// for (bundle, holds) in [(flat, false), (nested, true)] {
    ///     let bytes = Packet::from(bundle).to_bytes()?;
    ///     let PacketRef::Bundle(b) = decode(&bytes)? else { unreachable!() };
    ///     assert_eq!(b.holds_bundles(), holds);
    /// }
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    pub fn holds_bundles(&self) -> bool {
        let mut rest = self.element_bytes();
        while let Some((element, after)) = trusted::next_element(rest) {
            if element.first() == Some(&b'#') {
                return true;
            }
            rest = after;
        }
        false
    }

    /// The whole bundle as it was on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Nesting depth of this bundle (0 for a top-level packet).
    pub fn depth(&self) -> usize {
        self.depth as usize
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

    // Inlined (with the parse below) so the caller keeps the view in registers: a
    // `PacketRef` returned through memory and read back wide stalls on store forwarding.
    #[inline(always)]
    fn next(&mut self) -> Option<PacketRef<'a>> {
        let (bytes, rest) = trusted::next_element(self.rest)?;
        let offset = self.offset + 4;
        self.rest = rest;
        self.offset = offset + bytes.len();
        // Validated when the outer packet was decoded: a light parse is enough.
        trusted_packet(bytes, offset, self.policy)
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
    /// The packet as it was on the wire.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            PacketRef::Message(m) => m.as_bytes(),
            PacketRef::Bundle(b) => b.as_bytes(),
        }
    }
}

/// Re-reads an element of a validated bundle (see [`Elements`]), or a packet decoded
/// before ([`decode_validated`](crate::decode_validated)): a light parse that finds
/// the parts again without checking them.
#[inline(always)]
pub(crate) fn trusted_packet(raw: &[u8], base: usize, policy: Policy) -> Option<PacketRef<'_>> {
    match raw.first()? {
        b'/' => {
            let (a, t) = match scan_pair(raw) {
                Some((a, t)) if raw.get(a.next) == Some(&b',') => (a, Some(t)),
                _ => {
                    let a = scan::<false>(raw, 0, false)?;
                    let t = match raw.get(a.next) {
                        None => None,
                        Some(b',') => Some(scan::<false>(raw, a.next, false)?),
                        Some(_) => return None,
                    };
                    (a, t)
                }
            };
            let tags_at = a.next;
            let (tags, data_at) = match t {
                None => (&[][..], tags_at),
                Some(t) => (raw.get(tags_at + 1..tags_at + t.len())?, t.next),
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
