//! Talking to a reactor from other threads.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::command::{Queued, QueuedSend, SendQueue, SendTo};
use crate::{ChannelError, ChannelId, ChannelSpec, ChannelStats, Result, UdpWriter};

/// How long [`ReactorHandle::open`] and [`ReactorHandle::close`] wait for the reactor.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A request from another thread that the reactor answers (sends travel apart, in
/// the [`SendQueue`]; the reactor reads every queued send before these, so a request
/// sees the sends made before it).
pub(crate) enum Control {
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
        reply: Sender<Option<UdpWriter>>,
    },
    Stats {
        id: ChannelId,
        reply: Sender<Option<Arc<ChannelStats>>>,
    },
    Flush {
        timeout: Duration,
        reply: Sender<bool>,
    },
    Stop,
}

/// A cheap, cloneable handle to a `Reactor` running in another thread: queue
/// sends, open and close channels, stop it. Every call wakes the reactor (wake-ups are
/// coalesced: many sends in a row cost one wake).
#[derive(Clone)]
pub struct ReactorHandle {
    sends: SendQueue,
    control: Sender<Control>,
    control_queued: Queued,
}

impl std::fmt::Debug for ReactorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReactorHandle")
            .field("queued", &self.sends.len())
            .finish()
    }
}

impl ReactorHandle {
    pub(crate) fn new(sends: SendQueue, control: Sender<Control>) -> Self {
        ReactorHandle {
            sends,
            control,
            control_queued: Queued::default(),
        }
    }

    pub(crate) fn send_queue(&self) -> &SendQueue {
        &self.sends
    }

    /// Raised whenever a request is queued (see [`Queued`]).
    pub(crate) fn control_queued(&self) -> &Queued {
        &self.control_queued
    }

    /// Queues a request and wakes the reactor.
    fn submit(&self, request: Control) -> Result<()> {
        self.control
            .send(request)
            .map_err(|_| ChannelError::Stopped)?;
        self.control_queued.raise();
        self.wake();
        Ok(())
    }

    /// Wakes the reactor if no wake-up is already pending.
    pub fn wake(&self) {
        self.sends.wake().wake();
    }

    fn request<T>(&self, make: impl FnOnce(Sender<T>) -> Control, wait: Duration) -> Result<T> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.submit(make(reply))?;
        rx.recv_timeout(wait).map_err(|_| ChannelError::Stopped)
    }

    /// Queues a packet for a channel (see `Reactor::send`). Errors found later in the
    /// reactor (queue of the channel full, datagram too large, no route) are logged,
    /// counted in the channel's stats and reported as
    /// `ChannelEvent::Dropped`; this call fails only when the reactor's command queue
    /// is full or the reactor is gone.
    pub fn send(&self, id: ChannelId, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        self.sends.submit(QueuedSend {
            to: SendTo::Id(id),
            data,
            dest,
            path: None,
            from_writer: false,
        })
    }

    /// Queues a packet for the channel with this name, looked up in the reactor's thread
    /// (so it reaches channels this thread has not seen opened, such as a TCP server's
    /// connection channels `SERVER/PEER`). An unknown name is logged and dropped; for a
    /// `SERVER/PEER` name the drop is counted in the server's stats
    /// (`DropReason::NoRoute`).
    pub fn send_named(&self, name: &str, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        self.sends.submit(QueuedSend {
            to: SendTo::Name(name.to_owned()),
            data,
            dest,
            path: None,
            from_writer: false,
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
        self.sends.submit_quiet(QueuedSend {
            to: SendTo::Id(id),
            data,
            dest,
            path: None,
            from_writer: false,
        })
    }

    /// Queues a packet for a Unix datagram channel, to the socket at `path` (see
    /// [`Reactor::send_to_path`](crate::Reactor::send_to_path)): a reply from another
    /// thread to a [`Received::peer_path`](crate::Received::peer_path). Errors found
    /// in the reactor are logged, counted and reported, as for [`send`](Self::send).
    pub fn send_to_path(
        &self,
        id: ChannelId,
        data: Arc<[u8]>,
        path: &std::path::Path,
    ) -> Result<()> {
        self.sends.submit(QueuedSend {
            to: SendTo::Id(id),
            data,
            dest: None,
            path: Some(Arc::from(path)),
            from_writer: false,
        })
    }

    /// Opens a channel in the reactor's thread and waits for the result.
    pub fn open(&self, name: &str, spec: ChannelSpec) -> Result<ChannelId> {
        let name = name.to_owned();
        let spec = Box::new(spec);
        self.request(|reply| Control::Open { name, spec, reply }, REPLY_TIMEOUT)?
    }

    /// Closes a channel in the reactor's thread and waits for it.
    pub fn close(&self, id: ChannelId) -> Result<()> {
        self.request(|reply| Control::Close { id, reply }, REPLY_TIMEOUT)?
    }

    /// The local address of a channel, asked in the reactor's thread.
    pub fn local_addr(&self, id: ChannelId) -> Result<Option<SocketAddr>> {
        self.request(|reply| Control::LocalAddr { id, reply }, REPLY_TIMEOUT)
    }

    /// A channel's counters, shared with the reactor (they keep counting); `None` for
    /// an unknown channel. See `Reactor::stats`.
    pub fn stats(&self, id: ChannelId) -> Result<Option<Arc<ChannelStats>>> {
        self.request(|reply| Control::Stats { id, reply }, REPLY_TIMEOUT)
    }

    /// A writer that sends on a UDP channel from the calling thread (see
    /// [`UdpWriter`](crate::UdpWriter)); `None` for other channels or on platforms
    /// without it.
    pub fn udp_writer(&self, id: ChannelId) -> Result<Option<UdpWriter>> {
        self.request(|reply| Control::UdpWriter { id, reply }, REPLY_TIMEOUT)
    }

    /// Waits until everything queued so far is written or `timeout` passes; returns
    /// whether everything was written.
    pub fn flush(&self, timeout: Duration) -> Result<bool> {
        let wait = timeout.saturating_add(REPLY_TIMEOUT);
        self.request(|reply| Control::Flush { timeout, reply }, wait)
    }

    /// Asks `Reactor::run` to return after the current pass.
    pub fn stop(&self) -> Result<()> {
        self.submit(Control::Stop)
    }
}
