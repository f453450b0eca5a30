//! What to open: the configuration of a channel of any kind.

use crate::options::{TcpClientConfig, TcpServerConfig, UdpConfig};
use crate::unix_options::{UnixClientConfig, UnixDatagramConfig, UnixServerConfig};

/// What to open: a UDP channel, a TCP server or client, a Unix datagram channel, a
/// Unix stream server or client. New transports add variants: match with a `_` arm.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ChannelSpec {
    /// A UDP server, client, peer, broadcast or multicast channel.
    Udp(UdpConfig),
    /// A TCP server (each accepted connection becomes a channel of its own).
    TcpServer(TcpServerConfig),
    /// A TCP client.
    TcpClient(TcpClientConfig),
    /// A Unix datagram server, client or peer (liblo's `osc.unix://`).
    UnixDatagram(UnixDatagramConfig),
    /// A Unix stream server (each accepted connection becomes a channel `SERVER/N`).
    UnixServer(UnixServerConfig),
    /// A Unix stream client.
    UnixClient(UnixClientConfig),
}
