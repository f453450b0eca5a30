//! The queue of sends from other threads to the reactor, and its wake-up.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_channel::{Sender, TrySendError};
use mio::Waker;

use crate::{ChannelError, ChannelId, Result};

/// Where a queued packet goes.
#[derive(Debug)]
pub(crate) enum SendTo {
    /// A channel by id.
    Id(ChannelId),
    /// A channel by name, looked up in the reactor's thread (it may be a TCP
    /// connection `SERVER/PEER` the sender has not seen opened).
    Name(String),
}

/// A packet queued for the reactor by a handle or a writer.
#[derive(Debug)]
pub(crate) struct QueuedSend {
    pub(crate) to: SendTo,
    pub(crate) data: Arc<[u8]>,
    pub(crate) dest: Option<SocketAddr>,
    /// A Unix datagram channel's destination path (a reply to a bound sender).
    pub(crate) path: Option<Arc<std::path::Path>>,
    /// Queued by a [`UdpWriter`](crate::UdpWriter), which counted it in the channel's
    /// backlog.
    pub(crate) from_writer: bool,
}

/// Wakes the reactor's `poll`; many wake-ups in a row before the reactor runs cost one.
///
/// A reactor that waits in the read of its only socket instead of in `poll` (see
/// `reactor::nap`) says so first ([`fall_asleep`](Self::fall_asleep)); a wake-up then
/// sends an empty datagram to that socket from the reactor's kick socket instead of
/// writing the poll's waker.
#[derive(Clone, Debug)]
pub(crate) struct Wake {
    waker: Arc<Waker>,
    pending: Arc<AtomicBool>,
    nap: Arc<Nap>,
}

/// What a wake-up needs to end a wait in a read.
#[derive(Debug, Default)]
struct Nap {
    /// The reactor is (about to be) waiting in a read.
    asleep: AtomicBool,
    /// Connected to the socket the reactor waits on.
    kick: OnceLock<std::net::UdpSocket>,
}

impl Wake {
    pub(crate) fn new(waker: Waker) -> Self {
        Wake {
            waker: Arc::new(waker),
            pending: Arc::new(AtomicBool::new(false)),
            nap: Arc::default(),
        }
    }

    /// Wakes the reactor if no wake-up is already pending.
    ///
    /// The flags are sequentially consistent, pairing with
    /// [`fall_asleep`](Self::fall_asleep): either this call sees `asleep` and kicks
    /// the socket, or the reactor sees `pending` and does not wait (a load of `asleep`
    /// that finds it down comes before the reactor's store in that order, so the
    /// reactor's load of `pending` comes after this call's swap).
    pub(crate) fn wake(&self) {
        if self.pending.swap(true, Ordering::SeqCst) {
            return;
        }
        // A load first: a wake-up that finds the reactor in the poll (the usual case)
        // makes no second locked instruction.
        if self.nap.asleep.load(Ordering::SeqCst) && self.nap.asleep.swap(false, Ordering::SeqCst) {
            self.kick();
        } else if let Err(e) = self.waker.wake() {
            log::warn!("reactor wake-up failed: {e}");
        }
    }

    /// Sends the empty datagram that ends a wait in a read. A kick that raced with
    /// the closing of the socket it was aimed at leaves an ICMP error on the kick
    /// socket, which the next send returns instead of sending: that one is retried.
    fn kick(&self) {
        let Some(kick) = self.nap.kick.get() else {
            log::warn!("reactor wake-up: no kick socket");
            return;
        };
        let sent = kick.send(&[]).or_else(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => kick.send(&[]),
            _ => Err(e),
        });
        if let Err(e) = sent {
            log::warn!("reactor wake-up (kick) failed: {e}");
        }
    }

    /// Whether a wake-up is pending (one the reactor has not answered yet).
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// The reactor is about to read its queues: the next call must wake it again.
    pub(crate) fn clear(&self) {
        self.pending.store(false, Ordering::Release);
    }

    /// The kick socket, set once by the reactor before it first waits in a read
    /// (`Err` gives it back when one is set already).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn set_kick(
        &self,
        kick: std::net::UdpSocket,
    ) -> std::result::Result<(), std::net::UdpSocket> {
        self.nap.kick.set(kick)
    }

    /// The kick socket, once set.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn kick_socket(&self) -> Option<&std::net::UdpSocket> {
        self.nap.kick.get()
    }

    /// The reactor is about to wait in a read: true if it may, false if a wake-up is
    /// pending already (then it must not wait; it reads its queues instead).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn fall_asleep(&self) -> bool {
        self.nap.asleep.store(true, Ordering::SeqCst);
        if self.pending.load(Ordering::SeqCst) {
            self.nap.asleep.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// The read returned (data, a kick, its timeout): wake-ups go to the poll again,
    /// and the reactor reads its queues next.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn woke(&self) {
        self.nap.asleep.store(false, Ordering::SeqCst);
        self.clear();
    }
}

/// Whether one of the reactor's queues may hold something: raised by every producer
/// after it queues, lowered by the reactor before it drains. The reactor looks at its
/// queues four times a pass and they are almost always empty: one load here answers
/// what asking the channel answers in about 30 instructions (two shared indices
/// behind three layers), 3% of a request-reply hop.
///
/// A producer's `Release` store follows its item, and the reactor's `swap` reads it,
/// so a drain that follows a lowered flag sees every item whose raise it lowered; an
/// item queued after the drain raises the flag again for the next pass.
#[derive(Clone, Debug, Default)]
pub(crate) struct Queued(Arc<AtomicBool>);

impl Queued {
    /// After queueing an item.
    #[inline]
    pub(crate) fn raise(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether something may be queued (the flag stays up).
    #[inline]
    pub(crate) fn is_raised(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Whether something may be queued, lowering the flag: the caller then drains.
    #[inline]
    pub(crate) fn take(&self) -> bool {
        self.is_raised() && self.0.swap(false, Ordering::AcqRel)
    }
}

/// The sending end of the reactor's send queue, with its wake-up.
#[derive(Clone, Debug)]
pub(crate) struct SendQueue {
    tx: Sender<QueuedSend>,
    wake: Wake,
    queued: Queued,
    /// Something was written since the reactor last asked ([`take_sent`](Self::take_sent)).
    sent: Arc<AtomicBool>,
}

impl SendQueue {
    pub(crate) fn new(tx: Sender<QueuedSend>, wake: Wake) -> Self {
        SendQueue {
            tx,
            wake,
            queued: Queued::default(),
            sent: Arc::default(),
        }
    }

    /// A packet was sent, written or queued (by the reactor or a writer): the reactor's
    /// next pass may find the reply (see `machine::ReadFirst`). A load before the store keeps a
    /// stream of sends from writing the shared line each time.
    pub(crate) fn note_sent(&self) {
        if !self.sent.load(Ordering::Relaxed) {
            self.sent.store(true, Ordering::Relaxed);
        }
    }

    /// Whether anything was written since the last call.
    pub(crate) fn take_sent(&self) -> bool {
        let sent = self.sent.load(Ordering::Relaxed);
        if sent {
            self.sent.store(false, Ordering::Relaxed);
        }
        sent
    }

    pub(crate) fn wake(&self) -> &Wake {
        &self.wake
    }

    /// Raised whenever a send is queued (see [`Queued`]).
    pub(crate) fn queued(&self) -> &Queued {
        &self.queued
    }

    pub(crate) fn len(&self) -> usize {
        self.tx.len()
    }

    /// Queues and wakes the reactor.
    pub(crate) fn submit(&self, send: QueuedSend) -> Result<()> {
        let queued = self.submit_quiet(send);
        if !matches!(queued, Err(ChannelError::Stopped)) {
            self.wake.wake();
        }
        queued
    }

    /// Queues without waking the reactor (its own thread will read the queue).
    pub(crate) fn submit_quiet(&self, send: QueuedSend) -> Result<()> {
        match self.tx.try_send(send) {
            Ok(()) => {
                self.queued.raise();
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(ChannelError::QueueFull {
                channel: "reactor commands".into(),
                limit: self.tx.capacity().unwrap_or(0),
                unit: "packets",
            }),
            Err(TrySendError::Disconnected(_)) => Err(ChannelError::Stopped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_taken_once_per_raise() {
        let q = Queued::default();
        assert!(!q.is_raised());
        assert!(!q.take(), "nothing queued yet");
        q.raise();
        q.raise();
        assert!(q.is_raised());
        assert!(q.take());
        assert!(!q.take(), "two raises before a drain need one drain");
        q.raise();
        assert!(q.clone().take(), "clones share the flag");
        assert!(!q.is_raised());
    }

    #[test]
    fn a_wake_up_kicks_a_reactor_asleep_in_a_read_once() {
        let poll = mio::Poll::new().unwrap();
        let wake = Wake::new(Waker::new(poll.registry(), mio::Token(0)).unwrap());
        let target = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        target
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        // A kick socket whose last send drew an ICMP error (its target closed).
        let kick = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        kick.connect(gone.local_addr().unwrap()).unwrap();
        drop(gone);
        kick.send(&[]).unwrap();
        kick.connect(target.local_addr().unwrap()).unwrap();
        wake.set_kick(kick).unwrap();
        assert!(wake.fall_asleep());
        wake.wake();
        wake.wake();
        let mut buf = [0u8; 8];
        let (n, from) = target.recv_from(&mut buf).unwrap();
        assert_eq!(
            (n, from),
            (0, wake.kick_socket().unwrap().local_addr().unwrap())
        );
        target.set_nonblocking(true).unwrap();
        assert!(
            target.recv_from(&mut buf).is_err(),
            "one kick for two wake-ups"
        );
        // A wake-up pending: the reactor must not fall asleep.
        wake.woke();
        wake.wake();
        assert!(!wake.fall_asleep());
    }
}
