//! Writing a UDP channel's datagrams from any thread, without waking the reactor.
//!
//! A reactor running in its own thread writes what other threads queue through a
//! [`ReactorHandle`]: each send then costs a wake-up of that thread before the packet
//! leaves. A [`UdpWriter`] holds a second descriptor of the channel's socket and writes
//! from the calling thread at once; only when the socket would block, or when packets
//! of that channel already wait in the reactor, does it queue in the reactor, so a
//! thread's packets still leave in the order it sent them.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::backlog::Backlog;
use crate::command::{QueuedSend, SendQueue, SendTo};
use crate::event::emit;
use crate::machine::{Refusal, route};
use crate::{
    ChannelError, ChannelEvent, ChannelId, ChannelStats, DropReason, EventHandler, Result,
};

/// Writes one UDP channel's datagrams from any thread (see the module docs). Obtained
/// from [`Reactor::udp_writer`](crate::Reactor::udp_writer) or
/// `ReactorHandle::udp_writer`; cheap to clone.
///
/// ```
/// use osc_channel::{Reactor, UdpConfig};
/// use std::sync::Arc;
///
/// let mut reactor = Reactor::new()?;
/// let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let out = reactor.open_udp("out", UdpConfig::client(rx.local_addr()?))?;
/// let writer = reactor.udp_writer(out).expect("a UDP channel");
/// std::thread::spawn(move || writer.send(Arc::from(&b"/a\0\0,\0\0\0"[..]), None))
///     .join()
///     .expect("thread")?;
/// let mut buf = [0; 64];
/// assert_eq!(rx.recv(&mut buf)?, 8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct UdpWriter {
    pub(crate) id: ChannelId,
    pub(crate) name: Arc<str>,
    pub(crate) socket: Arc<std::net::UdpSocket>,
    pub(crate) dest: Option<SocketAddr>,
    /// The peer the socket is connected to (see [`SocketInfo`](crate::SocketInfo)).
    pub(crate) connected: Option<SocketAddr>,
    pub(crate) backlog: Arc<Backlog>,
    pub(crate) stats: Arc<ChannelStats>,
    pub(crate) events: Option<EventHandler>,
    /// The reactor's send queue, for what cannot be written at once.
    pub(crate) sends: SendQueue,
}

impl std::fmt::Debug for UdpWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpWriter")
            .field("channel", &self.name)
            .field("dest", &self.dest)
            .finish()
    }
}

impl UdpWriter {
    /// The channel this writer writes for.
    pub fn channel(&self) -> ChannelId {
        self.id
    }

    /// Writes `data` now, or queues it in the reactor when the socket would block or
    /// earlier packets of the channel wait in the reactor. Errors (and drops, counted in
    /// the channel's stats like the reactor's own) are those of
    /// [`Reactor::send`](crate::Reactor::send): no destination, too large, a socket
    /// error, a full command queue, a closed channel.
    pub fn send(&self, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        if self.try_send(&data, dest)? {
            return Ok(());
        }
        self.queue(data, dest)
    }

    /// Queues `data` in the reactor behind this channel's earlier packets, without
    /// trying the socket first (for a caller whose [`try_send`](Self::try_send) just
    /// said `Ok(false)`).
    pub fn queue(&self, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        self.backlog.add();
        let queued = self.sends.submit(QueuedSend {
            to: SendTo::Id(self.id),
            data,
            dest,
            path: None,
            from_writer: true,
        });
        if queued.is_err() {
            self.backlog.remove();
        }
        queued
    }

    /// Writes `data` now if nothing of this channel waits in the reactor and the socket
    /// takes it: `Ok(true)`. `Ok(false)` when it must be queued instead.
    pub fn try_send(&self, data: &[u8], dest: Option<SocketAddr>) -> Result<bool> {
        if self.backlog.is_closed() {
            return Err(ChannelError::UnknownChannel(self.name.to_string()));
        }
        let dest = match route(self.dest, data.len(), dest) {
            Ok(dest) => dest,
            Err(refusal @ Refusal::TooLarge { .. }) => {
                let to = dest.or(self.dest);
                if let Some(peer) = to {
                    self.dropped(DropReason::Oversized, peer);
                }
                return Err(refusal.into_error(&self.name, to));
            }
            Err(refusal) => return Err(refusal.into_error(&self.name, None)),
        };
        if self.backlog.pending() > 0 {
            return Ok(false);
        }
        match crate::socket::send_now(&*self.socket, data, dest, self.connected) {
            Ok(_) => {
                self.stats.count_out(data.len());
                self.sends.note_sent();
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(false)
            }
            Err(e) => {
                self.dropped(DropReason::SendFailed, dest);
                Err(ChannelError::io("send", &self.name, e))
            }
        }
    }

    fn dropped(&self, reason: DropReason, peer: SocketAddr) {
        self.stats.count_drop(reason);
        emit(
            self.events.as_ref(),
            &self.name,
            ChannelEvent::Dropped {
                reason,
                peer: Some(peer),
            },
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Reactor, UdpConfig};

    #[test]
    fn packets_waiting_in_the_reactor_hold_the_writer_back() {
        let mut r = Reactor::new().unwrap();
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let out = r
            .open_udp("out", UdpConfig::client(probe.local_addr().unwrap()))
            .unwrap();
        let w = r.udp_writer(out).unwrap();
        // As if a packet of this channel waited in the reactor: the writer must queue
        // behind it, not overtake it.
        w.backlog.add();
        assert!(!w.try_send(b"/a\0\0,\0\0\0", None).unwrap());
        w.send(Arc::from(&b"/b\0\0,\0\0\0"[..]), None).unwrap();
        assert_eq!(w.backlog.pending(), 2);
        r.poll(Some(std::time::Duration::ZERO), |_| {}).unwrap();
        // The reactor wrote the queued packet and released it.
        assert_eq!(w.backlog.pending(), 1);
        let mut buf = [0u8; 16];
        assert_eq!(probe.recv(&mut buf).unwrap(), 8);
        assert_eq!(&buf[..2], b"/b");
        w.backlog.remove();
        assert!(w.try_send(b"/c\0\0,\0\0\0", None).unwrap());
        // Removing more than was added never wraps around.
        w.backlog.remove();
        assert_eq!(w.backlog.pending(), 0);
    }
}
