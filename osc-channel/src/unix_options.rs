//! Configurations of Unix domain socket channels.

use std::path::PathBuf;
use std::time::Duration;

use crate::{Backoff, EventHandler, StreamFraming, StreamLimits};

/// Default mode of the socket files our servers create: read and write for the owner
/// and the group, nothing for others. Connecting to a Unix socket (or sending a
/// datagram to it) needs write permission on its file, and the file's mode is the
/// only access control a Unix socket has, so the default is not world-writable;
/// set `0o666` to let every local user in.
pub const DEFAULT_SOCKET_MODE: u32 = 0o660;

/// Largest datagram a Unix datagram channel sends or accepts: 65,507 bytes, the
/// largest UDP payload over IPv4, so that any packet that travels over UDP travels
/// over a Unix socket and back. A larger datagram received is dropped and counted as
/// [`DropReason::Oversized`](crate::DropReason::Oversized).
pub const MAX_UNIX_DATAGRAM: usize = 65_507;

/// A Unix datagram channel (liblo's `osc.unix://`: one packet per datagram): a server
/// bound to a path, a client sending to one, or a peer doing both.
///
/// A client that should receive replies must bind a path of its own
/// ([`peer`](Self::peer)): a datagram from an unbound socket carries no return
/// address. liblo's `oscsend osc.unix:///PATH` sends from an unbound socket, so it
/// cannot be answered.
///
/// ```
/// use osc_channel::UnixDatagramConfig;
/// let server = UnixDatagramConfig::server("/tmp/synth.sock");
/// assert!(server.read && server.dest.is_none());
/// assert_eq!(server.mode, 0o660);
/// let client = UnixDatagramConfig::client("/tmp/synth.sock");
/// assert!(!client.read && client.bind.is_none());
/// ```
#[derive(Clone)]
pub struct UnixDatagramConfig {
    /// The path to bind (`None`: an unbound socket, which can send but not be
    /// answered). The file is created with [`mode`](Self::mode) and removed when
    /// the channel closes or the reactor is dropped. A stale file (nobody answers
    /// there) is replaced; a live one is an error.
    pub bind: Option<PathBuf>,
    /// Default destination of sends.
    pub dest: Option<PathBuf>,
    /// Deliver received datagrams (servers and peers).
    pub read: bool,
    /// Mode of the socket file created at `bind` (default [`DEFAULT_SOCKET_MODE`]),
    /// set right after `bind` (in between, the file has the mode the process umask
    /// gives; create the socket in a directory of restricted access if that matters).
    pub mode: u32,
    /// Most datagrams waiting in the send queue (default 4096).
    pub max_queue: usize,
    /// Most bytes waiting in the send queue (default 4 MiB).
    pub max_queue_bytes: usize,
    /// Event callback.
    pub events: Option<EventHandler>,
}

impl std::fmt::Debug for UnixDatagramConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixDatagramConfig")
            .field("bind", &self.bind)
            .field("dest", &self.dest)
            .field("read", &self.read)
            .field("mode", &format_args!("{:#o}", self.mode))
            .field("max_queue", &self.max_queue)
            .field("max_queue_bytes", &self.max_queue_bytes)
            .field("events", &self.events.is_some())
            .finish()
    }
}

impl UnixDatagramConfig {
    fn base() -> Self {
        UnixDatagramConfig {
            bind: None,
            dest: None,
            read: false,
            mode: DEFAULT_SOCKET_MODE,
            max_queue: 4096,
            max_queue_bytes: 4 << 20,
            events: None,
        }
    }

    /// A server reading datagrams sent to `path`; it can reply to clients that
    /// bound a path ([`Received::peer_path`](crate::Received::peer_path)).
    pub fn server(path: impl Into<PathBuf>) -> Self {
        UnixDatagramConfig {
            bind: Some(path.into()),
            read: true,
            ..Self::base()
        }
    }

    /// A client sending to `dest` from an unbound socket: it cannot receive replies.
    pub fn client(dest: impl Into<PathBuf>) -> Self {
        UnixDatagramConfig {
            dest: Some(dest.into()),
            ..Self::base()
        }
    }

    /// A peer bound to `bind`, reading, and sending to `dest` by default: a client
    /// that receives replies.
    pub fn peer(bind: impl Into<PathBuf>, dest: Option<PathBuf>) -> Self {
        UnixDatagramConfig {
            bind: Some(bind.into()),
            dest,
            read: true,
            ..Self::base()
        }
    }
}

/// A Unix stream server: listens at a path and opens one channel per connection,
/// named `SERVER/N` (`N` counts the server's connections from 1: the peers of Unix
/// stream connections are usually unnamed, so no address can name them). The TCP
/// server's rules apply: limits, timeouts, the memory budget, eviction when full
/// (there is no per-source limit: every peer is local).
///
/// ```
/// use osc_channel::{StreamFraming, UnixServerConfig};
/// let cfg = UnixServerConfig::new("/tmp/osc.sock");
/// assert_eq!((cfg.max_connections, cfg.framing, cfg.mode), (500, StreamFraming::LengthPrefix, 0o660));
/// ```
#[derive(Clone)]
pub struct UnixServerConfig {
    /// The socket's path. The file is created with [`mode`](Self::mode) and removed
    /// when the channel closes or the reactor is dropped. A stale file (nobody
    /// answers there) is replaced; a live one is an error.
    pub path: PathBuf,
    /// Mode of the socket file (default [`DEFAULT_SOCKET_MODE`]), set right after
    /// `bind` (in between, the file has the mode the process umask gives).
    pub mode: u32,
    /// Framing (default: length prefix; [`StreamFraming::Auto`] detects per connection).
    pub framing: StreamFraming,
    /// Most simultaneous connections (default 500), as
    /// [`TcpServerConfig::max_connections`](crate::TcpServerConfig::max_connections).
    pub max_connections: usize,
    /// A new connection must complete its first packet within this (default 60 s).
    pub first_packet_timeout: Option<Duration>,
    /// An established connection silent for this long is closed (default `None`).
    pub idle_timeout: Option<Duration>,
    /// Bytes all connections may hold in buffers at once (default 32 MiB), as
    /// [`TcpServerConfig::memory_budget`](crate::TcpServerConfig::memory_budget).
    pub memory_budget: usize,
    /// Size limits (`nodelay` does not apply).
    pub limits: StreamLimits,
    /// Event callback (also used by the connection channels).
    pub events: Option<EventHandler>,
}

impl std::fmt::Debug for UnixServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixServerConfig")
            .field("path", &self.path)
            .field("mode", &format_args!("{:#o}", self.mode))
            .field("framing", &self.framing)
            .field("max_connections", &self.max_connections)
            .field("first_packet_timeout", &self.first_packet_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("memory_budget", &self.memory_budget)
            .field("limits", &self.limits)
            .field("events", &self.events.is_some())
            .finish()
    }
}

impl UnixServerConfig {
    /// A server at `path` with the defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let tcp = crate::TcpServerConfig::new(std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
        UnixServerConfig {
            path: path.into(),
            mode: DEFAULT_SOCKET_MODE,
            framing: tcp.framing,
            max_connections: tcp.max_connections,
            first_packet_timeout: tcp.first_packet_timeout,
            idle_timeout: tcp.idle_timeout,
            memory_budget: tcp.memory_budget,
            limits: tcp.limits,
            events: None,
        }
    }

    /// The TCP server rules this server shares (no bind address, no per-source
    /// limit).
    pub(crate) fn rules(&self) -> crate::TcpServerConfig {
        crate::TcpServerConfig {
            bind: None,
            framing: self.framing,
            max_connections: self.max_connections,
            max_connections_per_source: usize::MAX,
            first_packet_timeout: self.first_packet_timeout,
            idle_timeout: self.idle_timeout,
            memory_budget: self.memory_budget,
            limits: self.limits,
            events: self.events.clone(),
            ws_origins: None,
        }
    }
}

/// A Unix stream client.
///
/// ```
/// use osc_channel::{StreamFraming, UnixClientConfig};
/// let mut cfg = UnixClientConfig::new("/tmp/osc.sock");
/// cfg.framing = StreamFraming::Slip;
/// assert!(cfg.read && cfg.reconnect.is_none());
/// ```
#[derive(Clone)]
pub struct UnixClientConfig {
    /// The server's socket path.
    pub path: PathBuf,
    /// Framing (length prefix or SLIP; `Auto` acts as length prefix).
    pub framing: StreamFraming,
    /// Reconnect after a failure or disconnection (default: off).
    pub reconnect: Option<Backoff>,
    /// Deliver packets the server sends back (default on).
    pub read: bool,
    /// Size limits.
    pub limits: StreamLimits,
    /// Event callback.
    pub events: Option<EventHandler>,
}

impl std::fmt::Debug for UnixClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnixClientConfig")
            .field("path", &self.path)
            .field("framing", &self.framing)
            .field("reconnect", &self.reconnect)
            .field("read", &self.read)
            .field("limits", &self.limits)
            .field("events", &self.events.is_some())
            .finish()
    }
}

impl UnixClientConfig {
    /// A client of the server at `path` with the defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        UnixClientConfig {
            path: path.into(),
            framing: StreamFraming::LengthPrefix,
            reconnect: None,
            read: true,
            limits: StreamLimits::default(),
            events: None,
        }
    }
}
