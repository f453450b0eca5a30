//! Talking to a reactor from other threads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::{Sender, TrySendError};
use mio::Waker;

use crate::reactor::{ChannelId, ChannelSpec};
use crate::{ChannelError, ChannelEvent, DropReason, Reactor, Result};

/// How long [`ReactorHandle::open`] and [`ReactorHandle::close`] wait for the reactor.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) enum Command {
    Send {
        id: ChannelId,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
        /// Queued by a [`UdpWriter`](crate::UdpWriter), which counted it in the
        /// channel's backlog.
        from_writer: bool,
    },
    SendNamed {
        name: String,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    },
    Open {
        name: String,
        spec: Box<ChannelSpec>,
        reply: Sender<Result<ChannelId>>,
    },
    Close {
        id: ChannelId,
        reply: Sender<Result<()>>,
    },
    LocalAddr {
        id: ChannelId,
        reply: Sender<Option<SocketAddr>>,
    },
    UdpWriter {
        id: ChannelId,
        reply: Sender<Option<crate::UdpWriter>>,
    },
    Stats {
        id: ChannelId,
        reply: Sender<Option<Arc<crate::ChannelStats>>>,
    },
    Flush {
        timeout: Duration,
        reply: Sender<bool>,
    },
    Stop,
}

/// A cheap, cloneable handle to a [`Reactor`] running in another thread: queue
/// sends, open and close channels, stop it. Every call wakes the reactor (wake-ups are
/// coalesced: many sends in a row cost one wake).
#[derive(Clone)]
pub struct ReactorHandle {
    tx: Sender<Command>,
    waker: Arc<Waker>,
    wake_pending: Arc<AtomicBool>,
}

impl std::fmt::Debug for ReactorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReactorHandle")
            .field("queued", &self.tx.len())
            .finish()
    }
}

impl ReactorHandle {
    pub(crate) fn new(
        tx: Sender<Command>,
        waker: Arc<Waker>,
        wake_pending: Arc<AtomicBool>,
    ) -> Self {
        ReactorHandle {
            tx,
            waker,
            wake_pending,
        }
    }

    pub(crate) fn clear_wake(&self) {
        self.wake_pending.store(false, Ordering::Release);
    }

    /// Wakes the reactor if no wake-up is already pending.
    pub fn wake(&self) {
        if !self.wake_pending.swap(true, Ordering::AcqRel) {
            if let Err(e) = self.waker.wake() {
                log::warn!("reactor wake-up failed: {e}");
            }
        }
    }

    pub(crate) fn submit(&self, cmd: Command) -> Result<()> {
        match self.tx.try_send(cmd) {
            Ok(()) => {
                self.wake();
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.wake();
                Err(ChannelError::QueueFull {
                    channel: "reactor commands".into(),
                    limit: self.tx.capacity().unwrap_or(0),
                    unit: "packets",
                })
            }
            Err(TrySendError::Disconnected(_)) => Err(ChannelError::Stopped),
        }
    }

    /// Queues a packet for a channel (see [`Reactor::send`]). Errors found later in the
    /// reactor (queue of the channel full, datagram too large, no route) are logged,
    /// counted in the channel's stats and reported as
    /// [`ChannelEvent::Dropped`]; this call fails only when the reactor's command queue
    /// is full or the reactor is gone.
    pub fn send(&self, id: ChannelId, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        self.submit(Command::Send {
            id,
            data,
            dest,
            from_writer: false,
        })
    }

    /// Queues a packet for the channel with this name, looked up in the reactor's thread
    /// (so it reaches channels this thread has not seen opened, such as a TCP server's
    /// connection channels `SERVER/PEER`). An unknown name is logged and dropped; for a
    /// `SERVER/PEER` name the drop is counted in the server's stats
    /// ([`DropReason::NoRoute`]).
    pub fn send_named(&self, name: &str, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        self.submit(Command::SendNamed {
            name: name.to_owned(),
            data,
            dest,
        })
    }

    /// Like [`send`](Self::send) but without waking the reactor: for callers that run
    /// the reactor's passes themselves (an event loop sending from inside a pass). The
    /// packet is written at the end of the current pass, or at the start of the next.
    pub fn send_deferred(
        &self,
        id: ChannelId,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    ) -> Result<()> {
        match self.tx.try_send(Command::Send {
            id,
            data,
            dest,
            from_writer: false,
        }) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(ChannelError::QueueFull {
                channel: "reactor commands".into(),
                limit: self.tx.capacity().unwrap_or(0),
                unit: "packets",
            }),
            Err(TrySendError::Disconnected(_)) => Err(ChannelError::Stopped),
        }
    }

    /// Opens a channel in the reactor's thread and waits for the result.
    pub fn open(&self, name: &str, spec: ChannelSpec) -> Result<ChannelId> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.submit(Command::Open {
            name: name.to_owned(),
            spec: Box::new(spec),
            reply,
        })?;
        rx.recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| ChannelError::Stopped)?
    }

    /// Closes a channel in the reactor's thread and waits for it.
    pub fn close(&self, id: ChannelId) -> Result<()> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.submit(Command::Close { id, reply })?;
        rx.recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| ChannelError::Stopped)?
    }

    /// The local address of a channel, asked in the reactor's thread.
    pub fn local_addr(&self, id: ChannelId) -> Result<Option<SocketAddr>> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.submit(Command::LocalAddr { id, reply })?;
        rx.recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| ChannelError::Stopped)
    }

    /// A channel's counters, shared with the reactor (they keep counting); `None` for
    /// an unknown channel. See [`Reactor::stats`].
    pub fn stats(&self, id: ChannelId) -> Result<Option<Arc<crate::ChannelStats>>> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.submit(Command::Stats { id, reply })?;
        rx.recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| ChannelError::Stopped)
    }

    /// A writer that sends on a UDP channel from the calling thread (see
    /// [`UdpWriter`](crate::UdpWriter)); `None` for other channels or on platforms
    /// without it.
    pub fn udp_writer(&self, id: ChannelId) -> Result<Option<crate::UdpWriter>> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.submit(Command::UdpWriter { id, reply })?;
        rx.recv_timeout(REPLY_TIMEOUT)
            .map_err(|_| ChannelError::Stopped)
    }

    /// Waits until everything queued so far is written or `timeout` passes; returns
    /// whether everything was written.
    pub fn flush(&self, timeout: Duration) -> Result<bool> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.submit(Command::Flush { timeout, reply })?;
        rx.recv_timeout(timeout + REPLY_TIMEOUT)
            .map_err(|_| ChannelError::Stopped)
    }

    /// Asks [`Reactor::run`] to return after the current pass.
    pub fn stop(&self) -> Result<()> {
        self.submit(Command::Stop)
    }
}

/// Runs one command inside the reactor.
pub(crate) fn execute(reactor: &mut Reactor, cmd: Command) {
    match cmd {
        Command::Send {
            id,
            data,
            dest,
            from_writer,
        } => {
            let sent = reactor.send(id, data, dest);
            if from_writer {
                reactor.release_backlog(id);
            }
            if let Err(e) = sent {
                log::warn!("queued send failed: {e}");
                if let ChannelError::UnknownChannel(_) | ChannelError::NotWritable(..) = e {
                    if let Some(stats) = reactor.stats(id) {
                        stats.count_drop(DropReason::NoRoute);
                    }
                    if let Some(name) = reactor.name_of(id) {
                        log::warn!(
                            "channel {name}: {}",
                            ChannelEvent::Dropped {
                                reason: DropReason::NoRoute,
                                peer: dest
                            }
                        );
                    }
                }
            }
        }
        Command::SendNamed { name, data, dest } => match reactor.id_of(&name) {
            Some(id) => execute(
                reactor,
                Command::Send {
                    id,
                    data,
                    dest,
                    from_writer: false,
                },
            ),
            None => {
                // A connection `SERVER/PEER` that has gone: the drop counts on its server.
                let server = name.rsplit_once('/').map(|(server, _)| server);
                if let Some(stats) = server
                    .and_then(|server| reactor.id_of(server))
                    .and_then(|id| reactor.stats(id))
                {
                    stats.count_drop(DropReason::NoRoute);
                }
                log::warn!("queued send to unknown channel {name:?} dropped");
            }
        },
        Command::Open { name, spec, reply } => {
            let _ = reply.send(reactor.open(&name, *spec));
        }
        Command::Close { id, reply } => {
            let _ = reply.send(reactor.close(id));
        }
        Command::LocalAddr { id, reply } => {
            let _ = reply.send(reactor.local_addr(id));
        }
        Command::UdpWriter { id, reply } => {
            let _ = reply.send(reactor.udp_writer(id));
        }
        Command::Stats { id, reply } => {
            let _ = reply.send(reactor.stats(id));
        }
        Command::Flush { timeout, reply } => reactor.add_flush_waiter(timeout, reply),
        Command::Stop => reactor.request_stop(),
    }
}
