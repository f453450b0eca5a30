//! # osc4rs-py
//!
//! The extension module (`osc4rs._osc4rs`) of the `osc4rs` Python package: osc4py3's
//! API on the Rust core. The Python side (`python/osc4rs/`) defines the named tuples,
//! the exception classes and the `as_*` modules; this crate does the work they call:
//!
//! - `encode_packet` / `decode_packet`: Python packets to and from bytes on
//!   `osc-codec` (decoding builds the Python values straight from the zero-copy view);
//! - the runtime: one global [`osc4rs::Osc`] driven through the facade's osc4py3
//!   vocabulary ([`osc4rs::as_eventloop`] & co.), Python handlers called with the GIL
//!   held, every blocking call made with the GIL released;
//! - the log bridge: the runtime's `log` records reach the Python `logging.Logger`
//!   given to `osc_startup`, from a thread of their own (I/O threads never take the
//!   GIL to log).
//!
//! Everything Python is behind the `python` feature, which maturin turns on
//! (`pyproject.toml`). Without it the crate is empty, so `cargo build`, `cargo test`
//! and `cargo clippy` over the workspace need neither Python headers nor libpython.
//!
//! Build and install the Python package with `pip install ./osc4rs-py` (see the
//! package's README), or run `scripts/python-tests.sh` to build, install and test it.
//!
//! The encoding and decoding rules used everywhere in this crate are [`CODEC`]:
//!
//! ```
//! use _osc4rs::CODEC;
//! use osc_codec::{Message, Packet};
//!
//! // osc4py3 writes a `c` argument's byte first; osc4rs-py does the same on the wire.
//! let bytes = Packet::from(Message::new("/c").arg('A')).to_bytes_with(&CODEC)?;
//! assert_eq!(bytes, b"/c\0\0,c\0\0A\0\0\0");
//! # Ok::<(), osc_codec::Error>(())
//! ```

#![deny(missing_docs)]

use std::net::SocketAddr;

use osc_codec::{CharLayout, Options, StringPolicy};
use osc4rs::channel::{ChannelSpec, UdpConfig};

#[cfg(feature = "python")]
mod codec;
#[cfg(feature = "python")]
mod fast;
#[cfg(feature = "python")]
mod handler;
#[cfg(feature = "python")]
mod logbridge;
#[cfg(feature = "python")]
mod module;
#[cfg(feature = "python")]
mod pyosc;
#[cfg(feature = "python")]
mod runtime;

/// The codec options of the Python package, for `encode_packet`, `decode_packet` and
/// the runtime alike: what osc4py3 reads and writes, except that strings are UTF-8.
///
/// - strings: written as UTF-8 (osc4py3 documents ASCII with replacement and fails on
///   anything else); read as UTF-8, and bytes that are not UTF-8 are kept
///   ([`StringPolicy::Raw`]) so that the Python side can replace them instead of
///   dropping the packet;
/// - `c` arguments: written with the character in the first byte, as osc4py3 does
///   (decoding reads both layouts);
/// - addresses: only the leading `/` is required, and padding bytes are not checked,
///   as in osc4py3.
pub const CODEC: Options = Options {
    strings: StringPolicy::Raw,
    char_layout: CharLayout::FirstByte,
    check_address: false,
    strict_padding: false,
    ..Options::DEFAULT
};

/// The channel of a broadcast or multicast client sending to `dest` with osc4py3's
/// `ttl` (its `udpwrite_ttl`, documented as the "time to leave counter for packets,
/// also used for multicast hops"): the multicast TTL (IPv6: hop limit) of a multicast
/// client, the unicast TTL of a broadcast client's packets. `None` for any other
/// `kind`.
///
/// ```
/// use _osc4rs::client_with_ttl;
/// use osc4rs::channel::ChannelSpec;
///
/// let Some(ChannelSpec::Udp(mc)) = client_with_ttl("multicast_client", "239.1.2.3:9000".parse()?, 4)
/// else { unreachable!() };
/// assert_eq!(mc.multicast.map(|m| m.ttl), Some(4));
/// let Some(ChannelSpec::Udp(bc)) = client_with_ttl("broadcast_client", "127.255.255.255:9000".parse()?, 2)
/// else { unreachable!() };
/// assert!(bc.broadcast);
/// assert_eq!(bc.ttl, Some(2));
/// assert!(client_with_ttl("udp_client", "127.0.0.1:9000".parse()?, 2).is_none());
/// # Ok::<(), std::net::AddrParseError>(())
/// ```
pub fn client_with_ttl(kind: &str, dest: SocketAddr, ttl: u32) -> Option<ChannelSpec> {
    let mut cfg = match kind {
        "broadcast_client" => UdpConfig::broadcast_client(dest),
        "multicast_client" => UdpConfig::multicast_client(dest),
        _ => return None,
    };
    match cfg.multicast.as_mut() {
        Some(m) => m.ttl = ttl,
        None => cfg.ttl = Some(ttl),
    }
    Some(ChannelSpec::Udp(cfg))
}
