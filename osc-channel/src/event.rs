//! Channel life-cycle events (osc4py3's action handlers).

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use crate::DropReason;

/// Something that happened to a channel.
///
/// The names follow osc4py3's action handlers: a channel is *activated* when its socket
/// is open and *scheduled* when it is registered with the reactor's poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelEvent<'a> {
    /// The socket is about to be opened.
    Activating,
    /// The socket is open and configured.
    Activated,
    /// The channel is about to close.
    Deactivating,
    /// The channel is closed.
    Deactivated,
    /// The socket is about to be registered with the poll.
    Scheduling,
    /// The socket is registered.
    Scheduled,
    /// The socket is about to be deregistered.
    Unscheduling,
    /// The socket is deregistered.
    Unscheduled,
    /// The socket is bound to this local address.
    Bound(SocketAddr),
    /// A TCP peer asks to connect; return [`Verdict::Refuse`] to close it at once.
    ConnectionRequest(SocketAddr),
    /// A TCP connection is established (accepted, or connected for a client).
    Connected(SocketAddr),
    /// A TCP connection ended.
    Disconnected {
        /// The peer.
        peer: SocketAddr,
        /// Why ("closed by peer", "reset", ...).
        reason: &'a str,
    },
    /// A Unix stream connection is established (accepted by a server, or connected
    /// for a client); the path is the server's socket. Unix peers have no address to
    /// judge, so there is no `ConnectionRequest` for them: the socket file's mode is
    /// their access control.
    UnixConnected(&'a Path),
    /// A Unix stream connection ended.
    UnixDisconnected {
        /// The server's socket path.
        path: &'a Path,
        /// Why ("closed by peer", "reset", ...).
        reason: &'a str,
    },
    /// A serial device is open (at the start, or again after it came back).
    SerialOpened(&'a Path),
    /// A serial device failed or went away (a USB cable pulled); the channel reopens
    /// it if its `reconnect` is set.
    SerialClosed {
        /// The device.
        path: &'a Path,
        /// Why ("hung up", "read error", ...).
        reason: &'a str,
    },
    /// A packet or connection was dropped (also counted in the stats).
    Dropped {
        /// Why.
        reason: DropReason,
        /// The peer concerned, when known.
        peer: Option<SocketAddr>,
    },
    /// An error the channel survived (logged too).
    Error(&'a str),
}

/// An event handler's answer. Only [`ChannelEvent::ConnectionRequest`] looks at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verdict {
    /// Go on (accept the connection).
    #[default]
    Accept,
    /// Refuse the connection.
    Refuse,
}

/// A callback for channel events: `(channel name, event) -> verdict`. It runs in the
/// reactor's thread and must not block.
///
/// ```
/// use osc_channel::{ChannelEvent, EventHandler, Verdict};
/// use std::sync::Arc;
/// let only_local: EventHandler = Arc::new(|_name: &str, ev: &ChannelEvent<'_>| match ev {
///     ChannelEvent::ConnectionRequest(peer) if !peer.ip().is_loopback() => Verdict::Refuse,
///     _ => Verdict::Accept,
/// });
/// # let _ = only_local;
/// ```
pub type EventHandler = Arc<dyn Fn(&str, &ChannelEvent<'_>) -> Verdict + Send + Sync>;

/// Calls an optional handler.
pub(crate) fn emit(handler: Option<&EventHandler>, name: &str, ev: ChannelEvent<'_>) -> Verdict {
    match handler {
        Some(h) => h(name, &ev),
        None => Verdict::Accept,
    }
}

impl fmt::Display for ChannelEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelEvent::Bound(a) => write!(f, "bound to {a}"),
            ChannelEvent::ConnectionRequest(a) => write!(f, "connection request from {a}"),
            ChannelEvent::Connected(a) => write!(f, "connected to {a}"),
            ChannelEvent::Disconnected { peer, reason } => {
                write!(f, "disconnected from {peer}: {reason}")
            }
            ChannelEvent::UnixConnected(p) => write!(f, "connected at {}", p.display()),
            ChannelEvent::UnixDisconnected { path, reason } => {
                write!(f, "disconnected at {}: {reason}", path.display())
            }
            ChannelEvent::SerialOpened(p) => write!(f, "opened {}", p.display()),
            ChannelEvent::SerialClosed { path, reason } => {
                write!(f, "closed {}: {reason}", path.display())
            }
            ChannelEvent::Dropped {
                reason,
                peer: Some(p),
            } => write!(f, "dropped ({reason}) from {p}"),
            ChannelEvent::Dropped { reason, peer: None } => write!(f, "dropped ({reason})"),
            ChannelEvent::Error(e) => write!(f, "error: {e}"),
            other => write!(f, "{other:?}"),
        }
    }
}
