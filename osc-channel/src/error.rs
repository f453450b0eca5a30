//! The crate's error type.

use std::io;
use std::net::SocketAddr;

/// Everything that can go wrong opening channels or sending on them.
///
/// I/O errors keep the operation and the channel name. Errors that happen inside the
/// reactor's own pass (a peer's reset, a packet over a limit) are not returned: they
/// are logged, counted in the channel's [`ChannelStats`](crate::ChannelStats) and
/// reported as [`ChannelEvent`](crate::ChannelEvent)s, and the channel goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// A socket call failed.
    #[error("{op} failed on channel {channel:?}: {source}")]
    Io {
        /// What was being done ("bind", "connect", "send", ...).
        op: &'static str,
        /// The channel's name.
        channel: String,
        /// The system error.
        #[source]
        source: io::Error,
    },
    /// A host name did not resolve to an address of the wanted family.
    #[error("cannot resolve {host:?}: {reason}")]
    Resolve {
        /// The host as given.
        host: String,
        /// Why.
        reason: String,
    },
    /// A channel with this name is already open.
    #[error("a channel named {0:?} already exists")]
    DuplicateName(String),
    /// Names starting with `_` are reserved (osc4py3's `_local`, `_all`, ...).
    #[error("channel name {0:?} is reserved (names starting with '_' are)")]
    ReservedName(String),
    /// No open channel has this name or id.
    #[error("no channel {0:?}")]
    UnknownChannel(String),
    /// The channel cannot send (a read-only server, or a UDP channel without a
    /// destination and no destination given).
    #[error("channel {0:?} cannot send: {1}")]
    NotWritable(String, &'static str),
    /// The send queue is full; the packet was not queued.
    #[error("send queue of channel {channel:?} is full ({limit} {unit})")]
    QueueFull {
        /// The channel's name.
        channel: String,
        /// The limit in force.
        limit: usize,
        /// "packets" or "bytes".
        unit: &'static str,
    },
    /// A datagram larger than UDP can carry; never truncated, never sent.
    #[error("datagram of {size} bytes exceeds the UDP limit of {limit} bytes for {dest}")]
    DatagramTooLarge {
        /// The packet's size.
        size: usize,
        /// The limit for the destination's family.
        limit: usize,
        /// The destination.
        dest: SocketAddr,
    },
    /// A packet larger than the stream channel's `max_packet_size`.
    #[error("packet of {size} bytes exceeds the channel's limit of {limit} bytes")]
    PacketTooLarge {
        /// The packet's size.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A TCP server's memory budget for buffered data is spent: the packet was not
    /// queued on the connection.
    #[error("memory budget of {channel:?}'s server is spent ({limit} bytes)")]
    MemoryBudget {
        /// The connection's name.
        channel: String,
        /// The server's budget.
        limit: usize,
    },
    /// The reactor has stopped (its thread ended or it was dropped).
    #[error("the reactor has stopped")]
    Stopped,
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// An endpoint URL did not parse (see [`UrlError`]: it says
    /// where).
    #[error("bad endpoint URL: {0}")]
    Url(#[from] UrlError),
    /// The transport is known (an endpoint URL parses) but not implemented yet
    /// (WebSocket, serial).
    #[error("unsupported transport: {0}")]
    Unsupported(&'static str),
}

impl ChannelError {
    pub(crate) fn io(op: &'static str, channel: &str, source: io::Error) -> Self {
        ChannelError::Io {
            op,
            channel: channel.to_owned(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = ChannelError> = std::result::Result<T, E>;

/// Why an endpoint URL did not parse. Every variant carries the byte offset in the
/// input where the bad part starts.
///
/// ```
/// use osc_channel::{Endpoint, UrlError};
/// let err = "osc.udp://localhost:99999".parse::<Endpoint>().unwrap_err();
/// assert_eq!(err, UrlError::BadPort { offset: 20, text: "99999".into() });
/// assert_eq!(err.offset(), 20);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No `://` after the scheme.
    #[error("expected SCHEME:// at offset {offset}")]
    MissingSeparator {
        /// Where the scheme ends (or 0).
        offset: usize,
    },
    /// A scheme this crate does not know.
    #[error(
        "unknown scheme {scheme:?} at offset 0 (expected osc.udp, osc.tcp, osc.slip, osc.unix, osc.unix+stream, ws, wss or serial)"
    )]
    UnknownScheme {
        /// The scheme as written.
        scheme: String,
    },
    /// The host part is unusable (an unclosed `[`, an IPv6 address without brackets,
    /// a character no host name has).
    #[error("bad host {host:?} at offset {offset}: {reason}")]
    BadHost {
        /// Where the host starts.
        offset: usize,
        /// The host as written.
        host: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The scheme needs a port and none was given.
    #[error("missing :PORT at offset {offset}")]
    MissingPort {
        /// Where the port was expected.
        offset: usize,
    },
    /// The port is not a number from 0 to 65535.
    #[error("bad port {text:?} at offset {offset}")]
    BadPort {
        /// Where the port starts.
        offset: usize,
        /// The port as written.
        text: String,
    },
    /// A path where the scheme has none (`osc.udp://h:1/x`).
    #[error("unexpected path at offset {offset} (this scheme takes host:port only)")]
    UnexpectedPath {
        /// Where the path starts.
        offset: usize,
    },
    /// A host where the scheme takes none (`osc.unix://host/path`): the path must
    /// follow `://` directly, as in `osc.unix:///tmp/s`.
    #[error("unexpected host at offset {offset} (write SCHEME:///absolute/path)")]
    UnexpectedHost {
        /// Where the host starts.
        offset: usize,
    },
    /// The scheme needs an absolute path and none was given.
    #[error("missing /PATH at offset {offset}")]
    MissingPath {
        /// Where the path was expected.
        offset: usize,
    },
    /// A `?name=value` parameter the scheme does not take.
    #[error("unknown parameter {name:?} at offset {offset}")]
    UnknownParameter {
        /// Where the parameter starts.
        offset: usize,
        /// Its name.
        name: String,
    },
    /// A parameter given twice, or with a value it cannot have.
    #[error("bad value {value:?} for parameter {name:?} at offset {offset}: {reason}")]
    BadParameter {
        /// Where the value starts.
        offset: usize,
        /// The parameter's name.
        name: String,
        /// The value as written.
        value: String,
        /// What it may be.
        reason: &'static str,
    },
}

impl UrlError {
    /// The byte offset in the input where the bad part starts.
    ///
    /// ```
    /// let e = "osc.tcp://[::1:9000".parse::<osc_channel::Endpoint>().unwrap_err();
    /// assert_eq!(e.offset(), 10);
    /// ```
    pub fn offset(&self) -> usize {
        match self {
            UrlError::UnknownScheme { .. } => 0,
            UrlError::MissingSeparator { offset }
            | UrlError::BadHost { offset, .. }
            | UrlError::MissingPort { offset }
            | UrlError::BadPort { offset, .. }
            | UrlError::UnexpectedPath { offset }
            | UrlError::UnexpectedHost { offset }
            | UrlError::MissingPath { offset }
            | UrlError::UnknownParameter { offset, .. }
            | UrlError::BadParameter { offset, .. } => *offset,
        }
    }
}
