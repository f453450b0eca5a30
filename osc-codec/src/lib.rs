//! # osc-codec
//!
//! Encode and decode Open Sound Control 1.0 and 1.1 packets: every type tag
//! (`i f s b h t d S c r m T F N I [ ]`), nested arrays and bundles, NTP timetags,
//! automatic type tagging, out-of-band codec options, SLIP and length-prefix stream
//! framing, hex dumps and a one-line text notation. No I/O, no threads; `no_std`
//! capable (the borrowed decoder and encoding into a caller's buffer need no allocator).
//!
//! ```
//! use osc_codec::{decode, ArgRef, Bundle, Message, Packet, PacketRef, TimeTag};
//!
//! // Build and encode.
//! let msg = Message::new("/synth/1/freq").arg(440).arg(0.5f32).arg("sine");
//! let bytes = Packet::from(msg.clone()).to_bytes()?;
//!
//! // Decode without copying: strings are slices of `bytes`.
//! let PacketRef::Message(view) = decode(&bytes)? else { unreachable!() };
//! assert_eq!(view.address(), "/synth/1/freq");
//! assert_eq!(view.type_tags(), ",ifs");
//! assert_eq!(view.args().nth(2), Some(ArgRef::Str("sine")));
//!
//! // Keep an owned copy, and print it in OSC text notation.
//! assert_eq!(view.to_owned(), msg);
//! let bundle = Packet::from(Bundle::new(TimeTag::IMMEDIATELY).add(msg));
//! assert_eq!(
//!     bundle.to_string(),
//!     r#"#bundle(00000000.00000001) { /synth/1/freq ,ifs 440 0.5 "sine" }"#
//! );
//! assert_eq!(bundle.to_string().parse::<Packet>()?, bundle);
//! # Ok::<(), osc_codec::Error>(())
//! ```
//!
//! ## Which API to use
//! - [`decode`] / [`decode_with`]: validated, zero-copy views ([`PacketRef`]); the fastest path.
//! - [`decode_messages`] (and [`MessageScratch`] for a receiver's reused buffer): the
//!   same, with every message of a bundle kept as it is validated, for reading them all
//!   without a second parse.
//! - [`decode_validated`]: the same view again, for bytes a decode accepted before (a light
//!   parse, several times cheaper; no validation).
//! - [`Packet::decode`]: owned values, to keep or send across threads.
//! - [`Packet::encode_into`] (caller's buffer, no allocation), [`Packet::encode_to_vec`]
//!   (reused `Vec`), [`Packet::to_bytes`]; [`encode_message_into`] without any allocator.
//! - [`framing`]: SLIP and length-prefix framing for streams (TCP, serial).
//! - [`Options`]: string policy, `c` layout, allowed tags, address checks, input limits.
//!
//! ## Input safety
//! Decoding never panics, never allocates in proportion to a length field the data does
//! not back, and recursion is bounded by [`Options::max_depth`] (hard cap
//! [`DEPTH_CAP`]). Packet size and argument count are bounded by
//! [`Options::max_packet_size`] and [`Options::max_args`].
//!
//! ## Features
//! - `std` (default): `SystemTime` conversions and `std::error::Error`; implies `alloc`.
//! - `alloc`: owned types, text notation, framing decoders, hex dumps, [`decode_messages`].
//! - neither: `#![no_std]` without allocator: [`decode`], [`encode_message_into`], [`TimeTag`].

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

// Decoding, bottom up (no module depends on one below it in this list):
// read (checked primitive reads), trusted (re-reads of validated data), tags (the
// type-tag table), views (PacketRef & co.), typed (typed reads of views), reference (the checked reader), fast (the
// fast validator), decoder (decode: fast, else reference), owned (owned building).
mod address;
mod argref;
#[cfg(feature = "alloc")]
pub mod compat;
mod decoder;
mod encode;
mod error;
mod fast;
mod options;
mod read;
mod reference;
mod scan;
mod swar;
mod tags;
mod timetag;
mod trusted;
mod typed;
mod types;
mod views;

#[cfg(all(test, feature = "alloc"))]
mod fastpath_tests;

#[cfg(feature = "alloc")]
mod encode_fast;
#[cfg(feature = "alloc")]
mod encode_owned;
#[cfg(feature = "alloc")]
pub mod extensions;
pub mod framing;
#[cfg(feature = "alloc")]
mod hexdump;
#[cfg(feature = "alloc")]
mod messages;
#[cfg(feature = "alloc")]
mod owned;
#[cfg(feature = "alloc")]
mod packet;
#[cfg(feature = "alloc")]
pub mod text;
#[cfg(feature = "alloc")]
pub mod value;

pub use argref::ArgRef;
pub use decoder::{decode, decode_validated, decode_with};
pub use encode::{encode_message_into, flat_message_size};
pub use error::{Error, Result};
#[cfg(feature = "alloc")]
pub use messages::{MessageScratch, decode_messages};
pub use options::{CharLayout, DEPTH_CAP, Options, StringPolicy};
pub use timetag::{NTP_UNIX_OFFSET, TimeTag};
pub use typed::{WireArg, WireArgs};
pub use types::{BUNDLE_TAG, Midi, Rgba, Tag, TagSet};
pub use views::{Args, BundleRef, Elements, MessageRef, PacketRef};

#[cfg(feature = "alloc")]
pub use compat::{decode_packet, dumphex_buffer, encode_packet};
#[cfg(feature = "alloc")]
pub use hexdump::{dumphex, from_hex};
#[cfg(feature = "alloc")]
pub use packet::{Bundle, Message, Packet};
#[cfg(feature = "alloc")]
pub use value::{Inf, Nil, Symbol, Value};

/// Builds a [`Message`] from an address and arguments, each typed automatically.
///
/// ```
/// use osc_codec::{osc_message, Message};
/// let m = osc_message!("/mixer/ch/3", 0.75f32, "fader", true);
/// assert_eq!(m, Message::new("/mixer/ch/3").arg(0.75f32).arg("fader").arg(true));
/// assert_eq!(m.type_tags(), ",fsT");
/// ```
#[cfg(feature = "alloc")]
#[macro_export]
macro_rules! osc_message {
    ($address:expr $(, $arg:expr)* $(,)?) => {
        $crate::Message::new($address)$(.arg($arg))*
    };
}

/// The user guide (`docs/codec.md`), compiled as doctests so its examples stay true.
#[cfg(all(doctest, feature = "std"))]
#[doc = include_str!("../../docs/codec.md")]
pub struct UserGuide;
