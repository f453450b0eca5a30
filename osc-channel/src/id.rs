//! Naming a channel and what it received.

use std::net::SocketAddr;
use std::path::Path;
use std::time::SystemTime;

/// Identifies an open channel. Ids are never reused.
///
/// ```
/// use osc_channel::{Reactor, UdpConfig};
/// let mut reactor = Reactor::new()?;
/// let a = reactor.open_udp("a", UdpConfig::server("127.0.0.1:0".parse().unwrap()))?;
/// reactor.close(a)?;
/// let b = reactor.open_udp("a", UdpConfig::server("127.0.0.1:0".parse().unwrap()))?;
/// assert_ne!(a, b);
/// # Ok::<(), osc_channel::ChannelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub(crate) u64);

impl ChannelId {
    /// The number behind the id (unique within its reactor).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// One received packet and where it came from. `data` borrows the reactor's buffer:
/// decode it or copy it before the callback returns.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The channel that read it.
    pub channel: ChannelId,
    /// That channel's name (for a TCP connection: `SERVER/PEER`).
    pub name: &'a str,
    /// The sender's IP address (UDP and TCP; `None` for Unix sockets).
    pub peer: Option<SocketAddr>,
    /// The sender's socket path, for a Unix datagram whose sender bound one (reply
    /// with [`Reactor::send_to_path`](crate::Reactor::send_to_path)); `None` for
    /// unbound senders, Unix stream connections (their channel names them) and IP.
    pub peer_path: Option<&'a Path>,
    /// When the reactor read it: packets of one readiness event (a batch of
    /// datagrams, or the frames cut from one stream event's reads) share one time.
    pub arrival: SystemTime,
    /// The packet's bytes (one datagram, or one deframed stream packet).
    pub data: &'a [u8],
}
