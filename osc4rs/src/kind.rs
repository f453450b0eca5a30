//! What a named channel is: the kinds the runtime's channel listing reports.

use osc_channel::{ChannelSpec, StreamFraming};

/// The kind of a channel opened on a runtime (`Osc::channels` lists them).
///
/// ```
/// use osc4rs::{ChannelKind, Osc};
/// let osc = Osc::builder().start()?;
/// osc.udp_server("in", "127.0.0.1:0")?;
/// osc.tcp_server("tcp", "127.0.0.1:0")?;
/// assert_eq!(osc.channels(), [("in".to_owned(), ChannelKind::UdpServer), ("tcp".to_owned(), ChannelKind::TcpServer)]);
/// assert!(ChannelKind::UdpServer.listens() && !ChannelKind::UdpClient.listens());
/// # Ok::<(), osc4rs::OscError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelKind {
    /// UDP without a destination: it receives (unicast, broadcast or multicast).
    UdpServer,
    /// UDP with a destination (a client, or a peer that also reads).
    UdpClient,
    /// A TCP server (length prefix, SLIP or detected per connection).
    TcpServer,
    /// A TCP client.
    TcpClient,
    /// A WebSocket server.
    WsServer,
    /// A WebSocket client.
    WsClient,
    /// A Unix socket (datagram or stream, either side).
    Unix,
    /// A serial device.
    Serial,
    /// A kind of channel this version of the facade does not name.
    Other,
}

impl ChannelKind {
    /// The kind a channel opened from `spec` has.
    ///
    /// ```
    /// use osc4rs::ChannelKind;
    /// use osc4rs::channel::{ChannelSpec, UdpConfig};
    /// let spec = ChannelSpec::Udp(UdpConfig::client("127.0.0.1:9000".parse().unwrap()));
    /// assert_eq!(ChannelKind::of(&spec), ChannelKind::UdpClient);
    /// ```
    #[must_use]
    pub fn of(spec: &ChannelSpec) -> Self {
        match spec {
            ChannelSpec::Udp(c) if c.dest.is_none() => ChannelKind::UdpServer,
            ChannelSpec::Udp(_) => ChannelKind::UdpClient,
            ChannelSpec::TcpServer(c) if c.framing == StreamFraming::WebSocket => {
                ChannelKind::WsServer
            }
            ChannelSpec::TcpServer(_) => ChannelKind::TcpServer,
            ChannelSpec::TcpClient(c) if c.framing == StreamFraming::WebSocket => {
                ChannelKind::WsClient
            }
            ChannelSpec::TcpClient(_) => ChannelKind::TcpClient,
            ChannelSpec::UnixDatagram(_)
            | ChannelSpec::UnixServer(_)
            | ChannelSpec::UnixClient(_) => ChannelKind::Unix,
            ChannelSpec::Serial(_) => ChannelKind::Serial,
            _ => ChannelKind::Other,
        }
    }

    /// Whether peers reach the runtime at this channel's local IP address (a UDP,
    /// TCP or WebSocket server).
    ///
    /// ```
    /// assert!(osc4rs::ChannelKind::WsServer.listens());
    /// assert!(!osc4rs::ChannelKind::Serial.listens());
    /// ```
    #[must_use]
    pub fn listens(self) -> bool {
        matches!(
            self,
            ChannelKind::UdpServer | ChannelKind::TcpServer | ChannelKind::WsServer
        )
    }
}
