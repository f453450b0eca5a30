//! What to open: the configuration of a channel of any kind.

use crate::options::{TcpClientConfig, TcpServerConfig, UdpConfig};
use crate::serial_options::SerialConfig;
use crate::unix_options::{UnixClientConfig, UnixDatagramConfig, UnixServerConfig};

/// What to open: a UDP channel, a TCP server or client, a Unix datagram channel, a
/// Unix stream server or client, a serial device. New transports add variants: match with a `_` arm.
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
    /// A serial device (SLIP frames).
    Serial(SerialConfig),
}

impl ChannelSpec {
    /// The same channel with `events` as its event handler, whatever its kind (for a
    /// spec made from an [`Endpoint`](crate::Endpoint)).
    ///
    /// ```
    /// use osc_channel::{ChannelEvent, ChannelSpec, Endpoint, EventHandler, Verdict};
    /// use std::sync::Arc;
    /// let log: EventHandler = Arc::new(|name: &str, ev: &ChannelEvent<'_>| {
    ///     eprintln!("{name}: {ev}");
    ///     Verdict::Accept
    /// });
    /// let spec = "osc.tcp://127.0.0.1:0".parse::<Endpoint>()?.server_spec()?.with_events(log);
    /// assert!(matches!(&spec, ChannelSpec::TcpServer(c) if c.events.is_some()));
    /// # Ok::<(), osc_channel::ChannelError>(())
    /// ```
    #[must_use]
    pub fn with_events(mut self, events: crate::EventHandler) -> Self {
        let slot = match &mut self {
            ChannelSpec::Udp(c) => &mut c.events,
            ChannelSpec::TcpServer(c) => &mut c.events,
            ChannelSpec::TcpClient(c) => &mut c.events,
            ChannelSpec::UnixDatagram(c) => &mut c.events,
            ChannelSpec::UnixServer(c) => &mut c.events,
            ChannelSpec::UnixClient(c) => &mut c.events,
            ChannelSpec::Serial(c) => &mut c.events,
        };
        *slot = Some(events);
        self
    }
}
