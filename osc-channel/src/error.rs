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
