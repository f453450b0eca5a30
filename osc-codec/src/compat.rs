//! osc4py3's names for the codec's entry points, for code ported from
//! `osc4py3.oscbuildparse`.
//!
//! | osc4py3 | here | idiomatic form |
//! |---|---|---|
//! | `encode_packet(content, oob)` | [`encode_packet`] | [`Packet::to_bytes`], [`Packet::to_bytes_with`] |
//! | `decode_packet(rawoscdata, oob)` | [`decode_packet`] | [`Packet::decode`], [`Packet::decode_with`], [`decode`](crate::decode) (zero-copy) |
//! | `dumphex_buffer(rawdata)` | [`dumphex_buffer`] (returns the text) | [`dumphex`] |
//!
//! They are also reachable from the crate root (`osc_codec::encode_packet`, ...).
//!
//! ```
//! use osc_codec::compat::{decode_packet, dumphex_buffer, encode_packet};
//! use osc_codec::{Message, Packet};
//! let p = Packet::from(Message::new("/test").arg(7));
//! let bytes = encode_packet(&p)?;
//! assert_eq!(decode_packet(&bytes)?, p);
//! assert!(dumphex_buffer(&bytes).starts_with("000:2f746573"));
//! # Ok::<(), osc_codec::Error>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use crate::{Packet, Result, dumphex};

/// Encodes a packet to a new `Vec` (osc4py3 `encode_packet`).
pub fn encode_packet(p: &Packet) -> Result<Vec<u8>> {
    p.to_bytes()
}

/// Decodes an owned packet (osc4py3 `decode_packet`).
pub fn decode_packet(bytes: &[u8]) -> Result<Packet> {
    Packet::decode(bytes)
}

/// osc4py3's name for [`dumphex`].
pub fn dumphex_buffer(data: &[u8]) -> String {
    dumphex(data)
}
