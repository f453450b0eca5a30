//! A channel's entry in the reactor: its name, counters, event handler, and the socket
//! with its state machine for each kind.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::event::emit;
use crate::machine::{Admission, Reconnect};
use crate::stream_io::{ClientCfg, Listener, StreamIo};
use crate::udp_io::UdpIo;
use crate::unix_io::UnixDatagramIo;
use crate::{ChannelEvent, ChannelStats, DropReason, EventHandler, TcpServerConfig};

/// What a channel is.
#[derive(Debug)]
pub(crate) enum Kind {
    Udp(UdpIo),
    UnixDatagram(UnixDatagramIo),
    /// A TCP or Unix stream server; `cfg` holds the rules (a Unix server's are made
    /// from its [`UnixServerConfig`](crate::UnixServerConfig)).
    Listener {
        listener: Listener,
        local: Option<SocketAddr>,
        cfg: TcpServerConfig,
        admission: Admission,
        /// Bytes its connections hold in buffers (against `cfg.memory_budget`).
        held: usize,
    },
    /// A connection accepted by the stream server with id `server`.
    Conn {
        io: StreamIo,
        server: u64,
        /// What `io` held at the last count (its share of the server's `held`).
        held: usize,
        /// The earliest deadline of this connection in the reactor's timers.
        armed: Option<std::time::Instant>,
    },
    Client {
        io: Option<StreamIo>,
        /// Boxed: inline, it made this the largest variant, and every channel (each
        /// of a server's connections too) the size of the largest.
        cfg: Box<ClientCfg>,
        reconnect: Reconnect,
    },
}

/// A channel in the reactor's table.
pub(crate) struct Channel {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) stats: Arc<ChannelStats>,
    pub(crate) events: Option<EventHandler>,
}

impl Kind {
    /// Whether this channel has a source in the reactor's poll. A datagram socket that
    /// does not read and has nothing queued has none; every other kind counts as
    /// polled (a client waiting to reconnect too: the answer only has to be safe).
    pub(crate) fn in_poll(&self) -> bool {
        match self {
            Kind::Udp(u) => u.is_watched(),
            Kind::UnixDatagram(u) => u.is_watched(),
            _ => true,
        }
    }

    /// Whether this is a datagram socket that reads (busy polling reads it itself).
    pub(crate) fn reads_datagrams(&self) -> bool {
        match self {
            Kind::Udp(u) => u.reads(),
            Kind::UnixDatagram(u) => u.reads(),
            _ => false,
        }
    }
}

impl Channel {
    pub(crate) fn new(name: &str, kind: Kind, events: Option<EventHandler>) -> Self {
        Channel {
            name: name.to_owned(),
            kind,
            stats: Arc::new(ChannelStats::default()),
            events,
        }
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        match &self.kind {
            Kind::Udp(u) => Some(u.info().local),
            Kind::UnixDatagram(_) => None,
            Kind::Listener { local, .. } => *local,
            Kind::Conn { io, .. } => io.stream.local_addr(),
            Kind::Client { io, .. } => io.as_ref().and_then(|c| c.stream.local_addr()),
        }
    }

    pub(crate) fn local_path(&self) -> Option<&std::path::Path> {
        match &self.kind {
            Kind::UnixDatagram(u) => u.local_path(),
            Kind::Listener { listener, .. } => listener.path(),
            _ => None,
        }
    }

    pub(crate) fn pending_output(&self) -> usize {
        match &self.kind {
            Kind::Udp(u) => u.queued(),
            Kind::UnixDatagram(u) => u.queued(),
            Kind::Conn { io, .. } => io.machine.unsent(),
            Kind::Client {
                io: Some(c),
                reconnect,
                ..
            } if reconnect.is_live() => c.machine.unsent(),
            _ => 0,
        }
    }

    /// Counts a drop and reports it to the channel's event handler.
    pub(crate) fn report_drop(&self, reason: DropReason, peer: Option<SocketAddr>) {
        self.stats.count_drop(reason);
        self.emit(ChannelEvent::Dropped { reason, peer });
    }

    pub(crate) fn emit(&self, ev: ChannelEvent<'_>) -> crate::Verdict {
        emit(self.events.as_ref(), &self.name, ev)
    }
}
