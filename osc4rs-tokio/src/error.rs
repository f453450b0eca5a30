//! The crate's error type.

use std::io;
use std::net::SocketAddr;

/// What went wrong in an osc4rs-tokio call or on a stream.
///
/// Which errors leave a socket or stream usable is part of each variant's doc: a UDP
/// socket stays usable after every error; a framed stream ends after the errors
/// [`is_fatal`](Error::is_fatal) calls fatal (see [`OscCodec`](crate::OscCodec)).
///
/// ```
/// use osc4rs_tokio::Error;
/// let e = Error::FrameTooLarge { size: 70_000, limit: 65_536 };
/// assert!(!e.is_fatal());
/// assert_eq!(e.to_string(), "frame of 70000 bytes over the limit of 65536");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The socket or stream failed (fatal for a stream).
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// A datagram or frame was not a valid OSC packet; it was skipped, and the socket
    /// or stream goes on.
    #[error("malformed packet{}: {source}", peer_suffix(*.peer))]
    Malformed {
        /// Who sent it, when known (UDP).
        peer: Option<SocketAddr>,
        /// What the codec found wrong.
        source: osc_codec::Error,
    },
    /// A frame went over the codec's `max_packet` limit; its bytes are skipped and the
    /// stream goes on.
    #[error("frame of {size} bytes over the limit of {limit}")]
    FrameTooLarge {
        /// The frame size (announced by a length prefix, or buffered so far for SLIP).
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A length prefix was negative: the stream cannot be resynchronised (fatal).
    #[error("negative length prefix {size}: stream broken")]
    BadFrameSize {
        /// The prefix read, as a signed int32.
        size: i64,
    },
    /// With automatic framing, the stream's first byte fits neither framing (fatal).
    #[error("first byte 0x{first:02x} is neither a length prefix (0x00) nor SLIP (0xc0, '/', '#')")]
    UnknownFraming {
        /// The byte.
        first: u8,
    },
    /// The stream ended inside a frame; the partial packet is lost.
    #[error("stream ended inside a frame ({buffered} bytes lost)")]
    TruncatedFrame {
        /// Bytes of the partial frame.
        buffered: usize,
    },
    /// A datagram filled the whole receive buffer and may have been cut (for UDP: the
    /// buffer given to `recv` is smaller than 65,536 bytes). The datagram is skipped.
    #[error("datagram of at least {len} bytes may be truncated: use a larger buffer")]
    MaybeTruncated {
        /// The buffer's size.
        len: usize,
        /// Who sent it (UDP; `None` for a Unix datagram socket).
        peer: Option<SocketAddr>,
    },
    /// A packet could not be encoded (too large for the buffer or the limit, or a value
    /// the codec refuses). Nothing was sent.
    #[error("cannot encode: {0}")]
    Encode(#[source] osc_codec::Error),
    /// A reply found no route: the context names no channel this server reads, or no
    /// peer, or the connection closed.
    #[error("no route for a reply on channel {channel:?} to {peer:?}")]
    NoRoute {
        /// The context's channel.
        channel: Option<String>,
        /// The context's peer.
        peer: Option<SocketAddr>,
    },
    /// A reply was dropped: the connection's reply queue is full, or the UDP socket's
    /// send buffer is (it would block).
    #[error("reply dropped: {0}")]
    ReplyDropped(&'static str),
}

fn peer_suffix(peer: Option<SocketAddr>) -> String {
    peer.map(|p| format!(" from {p}")).unwrap_or_default()
}

impl Error {
    /// Whether a framed stream ends after this error ([`Io`](Error::Io),
    /// [`BadFrameSize`](Error::BadFrameSize), [`UnknownFraming`](Error::UnknownFraming)).
    ///
    /// ```
    /// assert!(osc4rs_tokio::Error::BadFrameSize { size: -1 }.is_fatal());
    /// ```
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::Io(_) | Error::BadFrameSize { .. } | Error::UnknownFraming { .. }
        )
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
