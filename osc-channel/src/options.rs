//! Channel configurations, as typed structs with safe defaults.
//!
//! Each field names the osc4py3 option it corresponds to, where there is one.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::EventHandler;

/// Default requested receive buffer: the kernel's default (about 208 KiB on Linux)
/// drops bursts whenever the receiving CPU stalls.
pub const DEFAULT_RECV_BUFFER: usize = 4 << 20;
/// Largest UDP payload over IPv4.
pub const MAX_DATAGRAM_V4: usize = 65_507;
/// Largest UDP payload over IPv6 (without jumbograms).
pub const MAX_DATAGRAM_V6: usize = 65_527;

/// Which address family a host name may resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpVersion {
    /// The first address the resolver gives.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

/// Multicast settings for a UDP channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multicast {
    /// The group (224.0.0.0/4 or ff00::/8).
    pub group: IpAddr,
    /// IPv4: the local interface address to join on and send from (default: any).
    pub interface_v4: Ipv4Addr,
    /// IPv6: the interface index to join on and send from (0: the default).
    pub interface_v6: u32,
    /// Deliver our own sends to local listeners (osc4py3 `mcast_loop`, default on).
    /// Applied with `IP_MULTICAST_LOOP`/`IPV6_MULTICAST_LOOP` on the sending socket.
    pub loop_back: bool,
    /// TTL / hop limit of sent packets (osc4py3 `mcast_ttl`, default 1: this subnet).
    pub ttl: u32,
}

impl Multicast {
    /// Settings for a group with the defaults (any interface, loop on, TTL 1).
    pub fn group(group: IpAddr) -> Self {
        Multicast {
            group,
            interface_v4: Ipv4Addr::UNSPECIFIED,
            interface_v6: 0,
            loop_back: true,
            ttl: 1,
        }
    }
}

/// A UDP channel: a server (reads), a client (writes to `dest`), or both (a peer that
/// can also reply to whoever sent).
///
/// ```
/// use osc_channel::UdpConfig;
/// let server = UdpConfig::server("127.0.0.1:0".parse().unwrap());
/// assert!(server.read && server.dest.is_none());
/// let client = UdpConfig::client("127.0.0.1:9000".parse().unwrap());
/// assert!(!client.read && client.dest.is_some());
/// ```
#[derive(Clone)]
pub struct UdpConfig {
    /// Local address to bind (None: the wildcard address with an ephemeral port, of
    /// the destination's family).
    pub bind: Option<SocketAddr>,
    /// Default destination of sends (osc4py3 client `address`/`port`).
    pub dest: Option<SocketAddr>,
    /// Deliver received datagrams (servers and peers).
    pub read: bool,
    /// `SO_REUSEADDR` (osc4py3 `udpread_reuseaddr`; default on for servers). Not set
    /// on a socket bound to port 0: there the kernel could give it a port that another
    /// socket with the option holds, and one of them would get the other's datagrams.
    pub reuse_addr: bool,
    /// `SO_REUSEPORT` (Unix; default off; not set on port 0, as `reuse_addr`).
    pub reuse_port: bool,
    /// Requested `SO_RCVBUF` (osc4py3 `udpread_buffersize`); default 4 MiB. As root,
    /// `SO_RCVBUFFORCE` is tried first so the request is not capped by `rmem_max`.
    pub recv_buffer: Option<usize>,
    /// Requested `SO_SNDBUF` (osc4py3 `udpwrite_buffersize`).
    pub send_buffer: Option<usize>,
    /// Unicast TTL / hop limit (osc4py3 `udpwrite_ttl`).
    pub ttl: Option<u32>,
    /// `SO_BROADCAST` (osc4py3 `bcast_enabled`).
    pub broadcast: bool,
    /// Multicast group settings.
    pub multicast: Option<Multicast>,
    /// Most packets waiting in the send queue when the socket is not writable
    /// (default 4096). When full, a send is refused with
    /// [`ChannelError::QueueFull`](crate::ChannelError::QueueFull) (or, for sends from
    /// other threads, dropped, logged and counted).
    pub max_queue: usize,
    /// Most bytes waiting in the send queue (default 4 MiB): with datagrams of up to
    /// 64 KiB, the packet count alone would allow 256 MiB. A send past it is refused
    /// like one past `max_queue`.
    pub max_queue_bytes: usize,
    /// Event callback.
    pub events: Option<EventHandler>,
}

impl std::fmt::Debug for UdpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpConfig")
            .field("bind", &self.bind)
            .field("dest", &self.dest)
            .field("read", &self.read)
            .field("reuse_addr", &self.reuse_addr)
            .field("reuse_port", &self.reuse_port)
            .field("recv_buffer", &self.recv_buffer)
            .field("send_buffer", &self.send_buffer)
            .field("ttl", &self.ttl)
            .field("broadcast", &self.broadcast)
            .field("multicast", &self.multicast)
            .field("max_queue", &self.max_queue)
            .field("max_queue_bytes", &self.max_queue_bytes)
            .field("events", &self.events.is_some())
            .finish()
    }
}

impl UdpConfig {
    fn base() -> Self {
        UdpConfig {
            bind: None,
            dest: None,
            read: false,
            reuse_addr: false,
            reuse_port: false,
            recv_buffer: Some(DEFAULT_RECV_BUFFER),
            send_buffer: None,
            ttl: None,
            broadcast: false,
            multicast: None,
            max_queue: 4096,
            max_queue_bytes: 4 << 20,
            events: None,
        }
    }

    /// A server reading datagrams sent to `bind` (osc4py3 `osc_udp_server`).
    pub fn server(bind: SocketAddr) -> Self {
        UdpConfig {
            bind: Some(bind),
            read: true,
            reuse_addr: true,
            ..Self::base()
        }
    }

    /// A client sending to `dest` (osc4py3 `osc_udp_client`). It does not read.
    pub fn client(dest: SocketAddr) -> Self {
        UdpConfig {
            dest: Some(dest),
            ..Self::base()
        }
    }

    /// A peer: bound to `bind`, reading, sending to `dest` by default and able to
    /// reply to any source address.
    pub fn peer(bind: SocketAddr, dest: Option<SocketAddr>) -> Self {
        UdpConfig {
            bind: Some(bind),
            dest,
            read: true,
            ..Self::base()
        }
    }

    /// A server receiving broadcasts on `bind` (osc4py3 `osc_broadcast_server`).
    pub fn broadcast_server(bind: SocketAddr) -> Self {
        UdpConfig {
            broadcast: true,
            ..Self::server(bind)
        }
    }

    /// A client sending broadcasts to `dest` (osc4py3 `osc_broadcast_client`).
    pub fn broadcast_client(dest: SocketAddr) -> Self {
        UdpConfig {
            broadcast: true,
            ..Self::client(dest)
        }
    }

    /// A server that joins the multicast group of `group` and reads on its port
    /// (osc4py3 `osc_multicast_server`). It binds the wildcard address.
    pub fn multicast_server(group: SocketAddr) -> Self {
        let any: IpAddr = match group {
            SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
        };
        UdpConfig {
            multicast: Some(Multicast::group(group.ip())),
            ..Self::server(SocketAddr::new(any, group.port()))
        }
    }

    /// A client sending to a multicast group (osc4py3 `osc_multicast_client`).
    pub fn multicast_client(group: SocketAddr) -> Self {
        UdpConfig {
            multicast: Some(Multicast::group(group.ip())),
            ..Self::client(group)
        }
    }
}

/// Framing of a TCP stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamFraming {
    /// OSC 1.0: a big-endian int32 size before each packet.
    #[default]
    LengthPrefix,
    /// OSC 1.1: SLIP, `END packet END` (`packet END` accepted).
    Slip,
    /// Servers only: decided from the first byte each connection sends (0x00: length
    /// prefix; 0xC0, `/` or `#`: SLIP; `G`, the start of `GET`: a WebSocket handshake).
    /// Replies use the detected framing; replies sent before the peer's first byte use
    /// the length prefix.
    Auto,
    /// WebSocket (RFC 6455): one OSC packet per binary message, as osc.js and browser
    /// pages send them. A server answers the handshake; a client sends it for
    /// [`TcpClientConfig::ws_path`].
    WebSocket,
}

/// Reconnection policy of a TCP client: wait `initial`, then double up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First wait.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
        }
    }
}

/// Limits and framing shared by TCP servers and clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Largest packet accepted or sent (osc4py3 `read_headermaxdatasize`; default
    /// 1 MiB). A larger incoming packet is skipped, logged and counted; the connection
    /// goes on.
    pub max_packet_size: usize,
    /// Most bytes waiting to be written to one connection (default 4 MiB). A peer that
    /// does not read gets back-pressure: sends beyond this are refused and counted.
    pub max_write_buffer: usize,
    /// `TCP_NODELAY` (default on: OSC packets are small and latency matters).
    pub nodelay: bool,
    /// A frame that has started must be complete within this (default 10 s; `None`:
    /// no limit). A peer that sends part of a packet and stalls is closed, counted as
    /// [`DropReason::TimedOut`](crate::DropReason::TimedOut).
    pub frame_timeout: Option<Duration>,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_packet_size: 1 << 20,
            max_write_buffer: 4 << 20,
            nodelay: true,
            frame_timeout: Some(Duration::from_secs(10)),
        }
    }
}

/// A TCP server: accepts connections and opens one channel per connection, named
/// `SERVER/PEER` (for example `in/127.0.0.1:53124`), so replies can target one.
#[derive(Clone, Default)]
pub struct TcpServerConfig {
    /// Local address to listen on.
    pub bind: Option<SocketAddr>,
    /// Framing (default: length prefix; [`StreamFraming::Auto`] detects per connection).
    pub framing: StreamFraming,
    /// Most simultaneous connections (osc4py3 `read_maxsources`; default 500). When
    /// full, a newcomer takes the place of the connection that has waited longest
    /// without sending a complete packet or while in the middle of a frame, else of one
    /// silent for 10 s (`EVICT_IDLE_AFTER` in the `machine` module);
    /// with no such connection, the newcomer is closed at once. Both are logged,
    /// counted ([`DropReason::Evicted`](crate::DropReason::Evicted),
    /// [`DropReason::TooManyConnections`](crate::DropReason::TooManyConnections)) and
    /// reported.
    pub max_connections: usize,
    /// Most simultaneous connections from one IP address (default 64): one host cannot
    /// take every place.
    pub max_connections_per_source: usize,
    /// A new connection must complete its first packet within this (default 60 s;
    /// `None`: no limit).
    pub first_packet_timeout: Option<Duration>,
    /// An established connection that sends nothing for this long is closed (default
    /// `None`: control surfaces may stay quiet for hours).
    pub idle_timeout: Option<Duration>,
    /// Bytes all connections of the server may hold in buffers at once: partial
    /// packets being received and output waiting to be written (default 32 MiB). A
    /// connection whose reading passes it is closed, a send that would pass it is
    /// refused ([`DropReason::MemoryBudget`](crate::DropReason::MemoryBudget)). The
    /// server's buffers never hold more than this plus one packet and one read
    /// (`2 x max_packet_size + 64 KiB`), whatever the number of connections.
    pub memory_budget: usize,
    /// WebSocket connections ([`StreamFraming::WebSocket`], or detected by `Auto`):
    /// the `Origin` headers accepted (for example `http://localhost:8080`); `None`
    /// (the default) accepts any. A refused handshake gets `403 Forbidden` and the
    /// connection closes. Browsers send `Origin`; other clients may not, and are
    /// refused when a list is set.
    pub ws_origins: Option<Vec<String>>,
    /// Size limits.
    pub limits: StreamLimits,
    /// Event callback (also used by the connection channels).
    pub events: Option<EventHandler>,
}

impl std::fmt::Debug for TcpServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpServerConfig")
            .field("bind", &self.bind)
            .field("framing", &self.framing)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_source",
                &self.max_connections_per_source,
            )
            .field("first_packet_timeout", &self.first_packet_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("memory_budget", &self.memory_budget)
            .field("ws_origins", &self.ws_origins)
            .field("limits", &self.limits)
            .field("events", &self.events.is_some())
            .finish()
    }
}

impl TcpServerConfig {
    /// A server on `bind` with the defaults.
    ///
    /// ```
    /// use osc_channel::{StreamFraming, TcpServerConfig};
    /// let cfg = TcpServerConfig::new("127.0.0.1:0".parse().unwrap());
    /// assert_eq!((cfg.max_connections, cfg.framing), (500, StreamFraming::LengthPrefix));
    /// ```
    pub fn new(bind: SocketAddr) -> Self {
        TcpServerConfig {
            bind: Some(bind),
            framing: StreamFraming::LengthPrefix,
            max_connections: 500,
            max_connections_per_source: 64,
            first_packet_timeout: Some(Duration::from_secs(60)),
            idle_timeout: None,
            memory_budget: 32 << 20,
            ws_origins: None,
            limits: StreamLimits::default(),
            events: None,
        }
    }
}

/// A TCP client.
#[derive(Clone)]
pub struct TcpClientConfig {
    /// The server to connect to.
    pub dest: SocketAddr,
    /// Framing (length prefix or SLIP; `Auto` acts as length prefix).
    pub framing: StreamFraming,
    /// Reconnect after a failure or disconnection (default: off).
    pub reconnect: Option<Backoff>,
    /// Deliver packets the server sends back (default on).
    pub read: bool,
    /// With [`StreamFraming::WebSocket`]: the path of the handshake request (default
    /// `/`).
    pub ws_path: String,
    /// Size limits.
    pub limits: StreamLimits,
    /// Event callback.
    pub events: Option<EventHandler>,
}

impl std::fmt::Debug for TcpClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpClientConfig")
            .field("dest", &self.dest)
            .field("framing", &self.framing)
            .field("reconnect", &self.reconnect)
            .field("read", &self.read)
            .field("ws_path", &self.ws_path)
            .field("ws_path", &self.ws_path)
            .field("limits", &self.limits)
            .field("events", &self.events.is_some())
            .finish()
    }
}

impl TcpClientConfig {
    /// A client of `dest` with the defaults.
    pub fn new(dest: SocketAddr) -> Self {
        TcpClientConfig {
            dest,
            framing: StreamFraming::LengthPrefix,
            reconnect: None,
            read: true,
            ws_path: "/".to_owned(),
            limits: StreamLimits::default(),
            events: None,
        }
    }
}

/// Resolves `host:port` to one socket address of the wanted family. An empty host or
/// `*` means the wildcard address (`0.0.0.0`, or `::` when `V6` is asked for).
///
/// ```
/// use osc_channel::{resolve, IpVersion};
/// assert_eq!(resolve("127.0.0.1", 9000, IpVersion::Any)?.to_string(), "127.0.0.1:9000");
/// assert_eq!(resolve("*", 9000, IpVersion::V6)?.to_string(), "[::]:9000");
/// assert!(resolve("127.0.0.1", 9000, IpVersion::V6).is_err());
/// # Ok::<(), osc_channel::ChannelError>(())
/// ```
pub fn resolve(host: &str, port: u16, version: IpVersion) -> crate::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    if host.is_empty() || host == "*" {
        let ip: IpAddr = match version {
            IpVersion::V6 => std::net::Ipv6Addr::UNSPECIFIED.into(),
            _ => Ipv4Addr::UNSPECIFIED.into(),
        };
        return Ok(SocketAddr::new(ip, port));
    }
    let host_clean = host.trim_start_matches('[').trim_end_matches(']');
    let addrs = (host_clean, port)
        .to_socket_addrs()
        .map_err(|e| crate::ChannelError::Resolve {
            host: host.to_owned(),
            reason: e.to_string(),
        })?;
    let mut found = addrs.filter(|a| match version {
        IpVersion::Any => true,
        IpVersion::V4 => a.is_ipv4(),
        IpVersion::V6 => a.is_ipv6(),
    });
    found.next().ok_or_else(|| crate::ChannelError::Resolve {
        host: host.to_owned(),
        reason: format!("no {version:?} address"),
    })
}

/// Work bounds of one reactor pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReactorConfig {
    /// Most datagrams read from one socket per readiness event before the others get a
    /// turn (the rest is read in the next pass, which then does not sleep).
    pub max_datagrams_per_event: usize,
    /// Most bytes read from one stream per readiness event.
    pub max_stream_bytes_per_event: usize,
    /// Most packets delivered from one stream per readiness event (default 64, as for
    /// datagrams): a connection sending tiny frames gets the same turn as the others.
    pub max_stream_packets_per_event: usize,
    /// Capacity of the queue of commands (sends, opens, closes) from other threads.
    pub command_queue: usize,
    /// Capacity of the mio event list.
    pub events_capacity: usize,
    /// Datagrams read from a UDP socket per system call (`recvmmsg` on Linux; default
    /// 32). 0 or 1 read one datagram per `recv_from`, as other platforms always do.
    /// The reactor allocates this many 64 KiB slots once (2 MiB for 32), so no
    /// datagram is ever cut.
    pub batch_receive: usize,
    /// With `batch_receive` above 1: read each UDP socket in whichever way has cost
    /// less per datagram lately, a batch (`recvmmsg`) or one datagram at a time
    /// (`recv_from`), trying the other way now and then (default true). Which is
    /// cheaper depends on the kernel and the host's state; false always batches.
    pub adaptive_receive: bool,
    /// Busy polling before blocking (default zero: off). When a pass would wait, it
    /// first polls without waiting, again and again, for up to this long, and blocks
    /// only if nothing arrived. A packet then finds the thread running instead of
    /// asleep, which saves the wake-up of an idle CPU (tens of microseconds on a VM) at
    /// the price of a core spinning for this long after each burst. Worth it for
    /// round-trip-bound work on a machine with a core to spare; on a busy machine the
    /// spinning takes CPU from the peers it waits for.
    pub busy_poll: Duration,
    /// Read the datagram sockets that delivered in the last pass before waiting for
    /// readiness (default true), when recent tries found data there more than a third
    /// of the time (`machine::ReadFirst`). In a request-reply exchange the reply is
    /// often in already when the handler of the last one returns, and then the read
    /// saves the `epoll_wait` in front of it. For a one-way stream, waiting can cost
    /// less (datagrams gather meanwhile) or more, depending on the driver and the host:
    /// the reactor measures the process's CPU time per datagram both ways and reads
    /// first either always or only after a send, whichever costs less
    /// (`machine::ReadFirstChooser`).
    pub read_first: bool,
    /// Wait in the read of the only socket the reactor watches (default true, Linux):
    /// when one reading UDP socket, bound to a wildcard or loopback address and not a
    /// broadcast or multicast receiver, is all that is in the poll (clients that only
    /// send are not), a pass that would wait 20 ms or more waits in that socket's
    /// `recvmmsg` instead of in `epoll_wait` followed by a read: one system call per
    /// datagram instead of about two. The read's timeout ends before the pass's (see
    /// `machine::nap_read_timeout`) and the pass waits what the clock says is left in
    /// the poll. Other
    /// threads end the wait with an empty datagram from a socket of the reactor's own
    /// on the loopback, which the read drops. False always waits in the poll.
    pub wait_in_read: bool,
}

impl Default for ReactorConfig {
    fn default() -> Self {
        ReactorConfig {
            max_datagrams_per_event: 64,
            max_stream_bytes_per_event: 256 << 10,
            max_stream_packets_per_event: 64,
            command_queue: 65_536,
            events_capacity: 256,
            batch_receive: 32,
            adaptive_receive: true,
            busy_poll: Duration::ZERO,
            read_first: true,
            wait_in_read: true,
        }
    }
}
