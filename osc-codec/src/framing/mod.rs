//! Stream framing, sans-I/O: SLIP (OSC 1.1) and int32 length prefix (OSC 1.0).
//!
//! Encoders write a whole frame; decoders are incremental: feed them bytes as they
//! arrive, in chunks split anywhere, and take complete packets out. "Need more bytes"
//! is `Ok(None)`, not an error. Both decoders bound what they buffer.
//!
//! ```
//! use osc_codec::framing::{slip_encode, SlipDecoder};
//! let mut wire = Vec::new();
//! slip_encode(b"/a\0\0,\0\0\0", &mut wire);
//! slip_encode(b"/b\0\0,\0\0\0", &mut wire);
//!
//! let mut dec = SlipDecoder::new(1 << 20);
//! let mut got = Vec::new();
//! for chunk in wire.chunks(3) {            // bytes arrive in pieces
//!     let mut input = chunk;
//!     while let Some(packet) = dec.decode(&mut input)? {
//!         got.push(packet.to_vec());
//!     }
//! }
//! assert_eq!(got, [b"/a\0\0,\0\0\0".to_vec(), b"/b\0\0,\0\0\0".to_vec()]);
//! # Ok::<(), osc_codec::Error>(())
//! ```

#[cfg(feature = "alloc")]
mod length;
mod slip;

#[cfg(feature = "alloc")]
pub use length::LengthDecoder;
pub use slip::{END, ESC, ESC_END, ESC_ESC, slip_encode_into, slip_encoded_len};
#[cfg(feature = "alloc")]
pub use slip::{SlipDecoder, slip_encode};

/// Bytes a stream decoder keeps allocated between packets after
/// [`shrink`](LengthDecoder::shrink) (64 KiB): enough for every usual packet without
/// a new allocation, far less than a large one.
pub const RETAINED: usize = 64 << 10;

/// Frees what an idle decoder buffer holds beyond [`RETAINED`].
#[cfg(feature = "alloc")]
fn shrink_idle(buf: &mut alloc::vec::Vec<u8>) {
    if buf.capacity() > RETAINED {
        buf.clear();
        buf.shrink_to(RETAINED);
    }
}

/// Which framing a stream uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Framing {
    /// OSC 1.0: each packet preceded by its size as a big-endian int32.
    #[default]
    LengthPrefix,
    /// OSC 1.1: SLIP (RFC 1055), `END packet END`.
    Slip,
}

impl Framing {
    /// Guesses the framing from the first byte of a stream: a length prefix of any
    /// packet under 16 MiB starts with `0x00`, a SLIP stream with `END` (`0xC0`) or the
    /// packet's first byte (`/` or `#`). `None` if the byte fits neither.
    ///
    /// ```
    /// use osc_codec::framing::Framing;
    /// assert_eq!(Framing::detect(0x00), Some(Framing::LengthPrefix));
    /// assert_eq!(Framing::detect(0xc0), Some(Framing::Slip));
    /// assert_eq!(Framing::detect(b'/'), Some(Framing::Slip));
    /// assert_eq!(Framing::detect(b'x'), None);
    /// ```
    pub const fn detect(first: u8) -> Option<Framing> {
        match first {
            0x00 => Some(Framing::LengthPrefix),
            END | b'/' | b'#' => Some(Framing::Slip),
            _ => None,
        }
    }
}

/// The 4-byte OSC 1.0 length prefix for a packet of `len` bytes, or an error if the
/// length does not fit a positive int32.
///
/// ```
/// assert_eq!(osc_codec::framing::length_prefix(12)?, [0, 0, 0, 12]);
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub fn length_prefix(len: usize) -> crate::Result<[u8; 4]> {
    i32::try_from(len)
        .map(i32::to_be_bytes)
        .map_err(|_| crate::Error::FrameTooLarge {
            size: len,
            limit: i32::MAX as usize,
        })
}
