//! The decoding entry points: [`decode`] and [`decode_with`] check the packet's size,
//! then try the fast path (`fast.rs`) and fall back on the reference reader
//! (`reference.rs`) for the exact error, or for the options the fast path leaves to it.

use crate::read::Policy;
use crate::views::{self, PacketRef};
use crate::{Error, Options, Result, fast, reference};

/// Parses and fully validates a packet: the fast path, or the reference reader
/// (which gives the exact error) when the fast path declines.
#[inline(always)]
pub(crate) fn validated<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
) -> Result<PacketRef<'a>> {
    match fast::packet(raw, base, opts, depth) {
        Some(p) => Ok(p),
        None => checked(raw, base, opts, depth),
    }
}

#[cold]
#[inline(never)]
pub(crate) fn checked<'a>(
    raw: &'a [u8],
    base: usize,
    opts: &Options,
    depth: usize,
) -> Result<PacketRef<'a>> {
    reference::packet(raw, base, opts, depth, true)
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
    validated(bytes, 0, opts, 0)
}

/// Reads again a packet that [`decode_with`] accepted with the same options (kept as
/// bytes and handed to another thread, for example): a light parse that finds the
/// address, the type tags and the data again without checking them, several times
/// cheaper than a decode. The view is the one [`decode_with`] gives.
///
/// On bytes that no decode accepted it returns `None`, or a view whose reads stop
/// early or give other values: never a panic, never undefined behaviour, but never a
/// validation either. Bytes that come from outside go through [`decode_with`].
///
/// ```
/// use osc_codec::{decode_validated, decode_with, Message, Options, Packet};
///
/// let bytes = Packet::from(Message::new("/synth/1").arg(440).arg("sine")).to_bytes()?;
/// let checked = decode_with(&bytes, &Options::DEFAULT)?;
/// assert_eq!(decode_validated(&bytes, &Options::DEFAULT), Some(checked));
/// # Ok::<(), osc_codec::Error>(())
/// ```
#[inline]
pub fn decode_validated<'a>(bytes: &'a [u8], opts: &Options) -> Option<PacketRef<'a>> {
    // Views store positions as `u32`, as `check_packet_size` ensures for a decode.
    if bytes.len() > u32::MAX as usize {
        return None;
    }
    views::trusted_packet(bytes, 0, Policy::of(opts))
}

/// Checks what every decoder checks first: the packet is not empty, a multiple of 4
/// bytes, and within [`Options::max_packet_size`] (and `u32::MAX`: views store
/// positions as `u32`).
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
