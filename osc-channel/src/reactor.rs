//! The reactor: one `mio::Poll` driving every channel.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::channel::{Channel, ClientState, Kind};
use crate::event::emit;
use crate::handle::{Command, ReactorHandle};
use crate::stream::StreamConn;
use crate::udp::{self, SocketInfo, UdpChannel};
use crate::writer::UdpWriter;
use crate::{
    ChannelError, ChannelEvent, ChannelStats, DropReason, Result, StreamFraming, TcpClientConfig,
    TcpServerConfig, UdpConfig,
};

const WAKER: Token = Token(usize::MAX);

/// Identifies an open channel. Ids are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub(crate) u64);

impl ChannelId {
    pub(crate) fn token(self) -> Token {
        Token(self.0 as usize)
    }
}

/// What to open: a UDP channel, a TCP server or a TCP client.
#[derive(Debug, Clone)]
pub enum ChannelSpec {
    /// A UDP server, client, peer, broadcast or multicast channel.
    Udp(UdpConfig),
    /// A TCP server (each accepted connection becomes a channel of its own).
    TcpServer(TcpServerConfig),
    /// A TCP client.
    TcpClient(TcpClientConfig),
}

/// One received packet and where it came from. `data` borrows the reactor's buffer:
/// decode it or copy it before the callback returns.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The channel that read it.
    pub channel: ChannelId,
    /// That channel's name (for a TCP connection: `SERVER/PEER`).
    pub name: &'a str,
    /// The sender's address.
    pub peer: Option<SocketAddr>,
    /// When the reactor read it.
    pub arrival: SystemTime,
    /// The packet's bytes (one datagram, or one deframed stream packet).
    pub data: &'a [u8],
}

/// Work bounds of one reactor pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReactorOptions {
    /// Most datagrams read from one socket per readiness event before the others get a
    /// turn (the rest is read in the next pass, which then does not sleep).
    pub max_datagrams_per_event: usize,
    /// Most bytes read from one stream per readiness event.
    pub max_stream_bytes_per_event: usize,
    /// Capacity of the queue of commands (sends, opens, closes) from other threads.
    pub command_queue: usize,
    /// Capacity of the mio event list.
    pub events_capacity: usize,
    /// Datagrams read from a UDP socket per system call (`recvmmsg` on Linux; default
    /// 32). 0 or 1 read one datagram per `recv_from`, as other platforms always do.
    /// The reactor allocates this many 64 KiB slots once (2 MiB for 32), so no
    /// datagram is ever cut.
    pub batch_receive: usize,
    /// Busy polling before blocking (default zero: off). When a pass would wait, it
    /// first polls without waiting, again and again, for up to this long, and blocks
    /// only if nothing arrived. A packet then finds the thread running instead of
    /// asleep, which saves the wake-up of an idle CPU (tens of microseconds on a VM) at
    /// the price of a core spinning for this long after each burst. Worth it for
    /// round-trip-bound work on a machine with a core to spare; on a busy machine the
    /// spinning takes CPU from the peers it waits for.
    pub busy_poll: Duration,
}

impl Default for ReactorOptions {
    fn default() -> Self {
        ReactorOptions {
            max_datagrams_per_event: 64,
            max_stream_bytes_per_event: 256 << 10,
            command_queue: 65_536,
            events_capacity: 256,
            batch_receive: 32,
            busy_poll: Duration::ZERO,
        }
    }
}

/// Drives every channel from one `mio::Poll`: [`poll`](Reactor::poll) runs one pass
/// (eventloop style), [`run`](Reactor::run) loops in the caller's thread until a
/// [`ReactorHandle::stop`].
///
/// ```
/// use osc_channel::{Reactor, UdpConfig};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let mut reactor = Reactor::new()?;
/// let server = reactor.open_udp("in", UdpConfig::server("127.0.0.1:0".parse().unwrap()))?;
/// let addr = reactor.local_addr(server).unwrap();
/// let client = reactor.open_udp("out", UdpConfig::client(addr))?;
/// reactor.send(client, Arc::from(&b"/ping\0\0\0,\0\0\0"[..]), None)?;
///
/// let mut got = Vec::new();
/// while got.is_empty() {
///     reactor.poll(Some(Duration::from_millis(100)), |p| got.push((p.name.to_owned(), p.data.to_vec())))?;
/// }
/// assert_eq!(got[0], ("in".to_owned(), b"/ping\0\0\0,\0\0\0".to_vec()));
/// # Ok::<(), osc_channel::ChannelError>(())
/// ```
pub struct Reactor {
    pub(crate) poll: Poll,
    events: Events,
    pub(crate) channels: HashMap<u64, Channel>,
    by_name: HashMap<String, u64>,
    next_id: u64,
    pub(crate) buf: Vec<u8>,
    /// `recvmmsg` buffers, allocated at the first batched UDP read.
    #[cfg(target_os = "linux")]
    pub(crate) batch: Option<crate::sys::RecvBatch>,
    rx: Receiver<Command>,
    handle: ReactorHandle,
    pub(crate) more_to_read: Vec<u64>,
    /// The channels found ready in a pass (kept to reuse its allocation).
    ready: Vec<(u64, bool, bool)>,
    pub(crate) options: ReactorOptions,
    stop_requested: bool,
    flush_waiters: Vec<(Instant, Sender<bool>)>,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("channels", &self.by_name.keys().collect::<Vec<_>>())
            .field("options", &self.options)
            .finish()
    }
}

impl Reactor {
    /// A reactor with the default [`ReactorOptions`].
    pub fn new() -> Result<Self> {
        Self::with_options(ReactorOptions::default())
    }

    /// A reactor with the given work bounds.
    pub fn with_options(options: ReactorOptions) -> Result<Self> {
        let poll = Poll::new().map_err(|e| ChannelError::io("poll", "reactor", e))?;
        let waker = Waker::new(poll.registry(), WAKER)
            .map_err(|e| ChannelError::io("waker", "reactor", e))?;
        let (tx, rx): (Sender<Command>, Receiver<Command>) =
            crossbeam_channel::bounded(options.command_queue.max(1));
        Ok(Reactor {
            poll,
            events: Events::with_capacity(options.events_capacity.max(16)),
            channels: HashMap::new(),
            by_name: HashMap::new(),
            next_id: 1,
            buf: vec![0; 1 << 16],
            #[cfg(target_os = "linux")]
            batch: None,
            rx,
            handle: ReactorHandle::new(tx, Arc::new(waker), Arc::new(AtomicBool::new(false))),
            more_to_read: Vec::new(),
            ready: Vec::new(),
            options,
            stop_requested: false,
            flush_waiters: Vec::new(),
        })
    }

    /// A handle other threads use to send, open, close and stop.
    pub fn handle(&self) -> ReactorHandle {
        self.handle.clone()
    }

    /// The id of the channel with this name.
    pub fn id_of(&self, name: &str) -> Option<ChannelId> {
        self.by_name.get(name).copied().map(ChannelId)
    }

    /// The name of a channel.
    pub fn name_of(&self, id: ChannelId) -> Option<&str> {
        self.channels.get(&id.0).map(|c| c.name.as_str())
    }

    /// The open channels, as `(id, name)`.
    pub fn channels(&self) -> impl Iterator<Item = (ChannelId, &str)> {
        self.channels
            .iter()
            .map(|(&id, c)| (ChannelId(id), c.name.as_str()))
    }

    /// The connection channels a TCP server has now.
    pub fn connections(&self, server: ChannelId) -> Vec<ChannelId> {
        let mut v: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|(_, c)| matches!(c.kind, Kind::Conn { server: s, .. } if s == server.0))
            .map(|(&id, _)| ChannelId(id))
            .collect();
        v.sort();
        v
    }

    /// Whether the last pass left datagrams or stream bytes unread (it reads at most
    /// [`ReactorOptions::max_datagrams_per_event`] per socket, so that one busy socket
    /// cannot starve the others). The next pass then does not wait.
    ///
    /// ```
    /// use osc_channel::{ChannelSpec, Reactor, ReactorOptions, UdpConfig};
    /// use std::time::Duration;
    ///
    /// let mut options = ReactorOptions::default();
    /// options.max_datagrams_per_event = 2;
    /// let mut reactor = Reactor::with_options(options)?;
    /// let id = reactor.open("in", ChannelSpec::Udp(UdpConfig::server("127.0.0.1:0".parse().unwrap())))?;
    /// let addr = reactor.local_addr(id).unwrap();
    /// let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// for _ in 0..3 {
    ///     peer.send_to(b"/a\0\0,\0\0\0", addr).unwrap();
    /// }
    /// std::thread::sleep(Duration::from_millis(20));
    /// let mut got = reactor.poll(Some(Duration::from_secs(1)), |_| {})?;
    /// assert!(reactor.has_more_to_read());
    /// while reactor.has_more_to_read() {
    ///     got += reactor.poll(Some(Duration::ZERO), |_| {})?;
    /// }
    /// assert_eq!(got, 3);
    /// # Ok::<(), osc_channel::ChannelError>(())
    /// ```
    pub fn has_more_to_read(&self) -> bool {
        !self.more_to_read.is_empty()
    }

    /// A channel's counters (shared: they keep counting after this call).
    pub fn stats(&self, id: ChannelId) -> Option<Arc<ChannelStats>> {
        self.channels.get(&id.0).map(|c| Arc::clone(&c.stats))
    }

    /// A writer that sends on a UDP channel from any thread without waking the
    /// reactor (see [`UdpWriter`]); `None` for other channels or platforms.
    pub fn udp_writer(&mut self, id: ChannelId) -> Option<UdpWriter> {
        let ch = self.channels.get_mut(&id.0)?;
        let Kind::Udp(u) = &mut ch.kind else {
            return None;
        };
        Some(UdpWriter {
            id,
            name: Arc::from(ch.name.as_str()),
            socket: u.writer_socket()?,
            dest: u.dest,
            backlog: Arc::clone(&u.backlog),
            stats: Arc::clone(&ch.stats),
            events: ch.events.clone(),
        })
    }

    /// A packet a writer queued has been handled (written, queued in the channel, or
    /// dropped): it no longer holds the writer back.
    pub(crate) fn release_backlog(&self, id: ChannelId) {
        if let Some(Channel {
            kind: Kind::Udp(u), ..
        }) = self.channels.get(&id.0)
        {
            u.backlog.remove();
        }
    }

    /// The local address a channel is bound to.
    pub fn local_addr(&self, id: ChannelId) -> Option<SocketAddr> {
        self.channels.get(&id.0).and_then(Channel::local_addr)
    }

    /// What a UDP socket got from the kernel (bound address, buffer sizes).
    pub fn socket_info(&self, id: ChannelId) -> Option<SocketInfo> {
        match &self.channels.get(&id.0)?.kind {
            Kind::Udp(u) => Some(u.info),
            _ => None,
        }
    }

    fn check_name(&self, name: &str) -> Result<()> {
        if name.starts_with('_') {
            return Err(ChannelError::ReservedName(name.to_owned()));
        }
        if name.is_empty() {
            return Err(ChannelError::Config("a channel needs a name"));
        }
        if self.by_name.contains_key(name) {
            return Err(ChannelError::DuplicateName(name.to_owned()));
        }
        Ok(())
    }

    /// Opens a channel.
    pub fn open(&mut self, name: &str, spec: ChannelSpec) -> Result<ChannelId> {
        match spec {
            ChannelSpec::Udp(c) => self.open_udp(name, c),
            ChannelSpec::TcpServer(c) => self.open_tcp_server(name, c),
            ChannelSpec::TcpClient(c) => self.open_tcp_client(name, c),
        }
    }

    /// Opens a UDP channel (server, client, peer, broadcast or multicast).
    pub fn open_udp(&mut self, name: &str, cfg: UdpConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let events = cfg.events.clone();
        emit(events.as_ref(), name, ChannelEvent::Activating);
        let (socket, info) = udp::open_socket(name, &cfg)?;
        emit(events.as_ref(), name, ChannelEvent::Activated);
        emit(events.as_ref(), name, ChannelEvent::Bound(info.local));
        let id = self.take_id();
        emit(events.as_ref(), name, ChannelEvent::Scheduling);
        let mut channel = UdpChannel::new(socket, info, &cfg);
        channel
            .watch(self.poll.registry(), id.token())
            .map_err(|e| ChannelError::io("register", name, e))?;
        emit(events.as_ref(), name, ChannelEvent::Scheduled);
        log::debug!(
            "channel {name}: UDP on {} (rcvbuf {})",
            info.local,
            info.recv_buffer
        );
        self.insert(id, Channel::new(name, Kind::Udp(channel), events));
        Ok(id)
    }

    /// Opens a TCP server.
    pub fn open_tcp_server(&mut self, name: &str, cfg: TcpServerConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let Some(bind) = cfg.bind else {
            return Err(ChannelError::Config("a TCP server needs a bind address"));
        };
        let events = cfg.events.clone();
        emit(events.as_ref(), name, ChannelEvent::Activating);
        let mut listener =
            mio::net::TcpListener::bind(bind).map_err(|e| ChannelError::io("listen", name, e))?;
        let local = listener.local_addr().unwrap_or(bind);
        emit(events.as_ref(), name, ChannelEvent::Activated);
        emit(events.as_ref(), name, ChannelEvent::Bound(local));
        let id = self.take_id();
        emit(events.as_ref(), name, ChannelEvent::Scheduling);
        self.poll
            .registry()
            .register(&mut listener, id.token(), Interest::READABLE)
            .map_err(|e| ChannelError::io("register", name, e))?;
        emit(events.as_ref(), name, ChannelEvent::Scheduled);
        log::debug!("channel {name}: TCP server on {local}");
        let kind = Kind::Listener {
            listener,
            local,
            cfg,
            count: 0,
        };
        self.insert(id, Channel::new(name, kind, events));
        Ok(id)
    }

    /// Opens a TCP client; it connects in the background (sends are buffered meanwhile).
    pub fn open_tcp_client(&mut self, name: &str, cfg: TcpClientConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let events = cfg.events.clone();
        let id = self.take_id();
        let mut channel = Channel::new(
            name,
            Kind::Client {
                conn: None,
                cfg,
                state: ClientState::Waiting {
                    until: Instant::now(),
                    backoff: Duration::ZERO,
                },
            },
            events,
        );
        self.connect_client(id, &mut channel)?;
        self.insert(id, channel);
        Ok(id)
    }

    pub(crate) fn take_id(&mut self) -> ChannelId {
        let id = self.next_id;
        self.next_id += 1;
        ChannelId(id)
    }

    pub(crate) fn insert(&mut self, id: ChannelId, channel: Channel) {
        self.by_name.insert(channel.name.clone(), id.0);
        self.channels.insert(id.0, channel);
    }

    /// Starts a client's (re)connection. Only an immediate failure is an error.
    pub(crate) fn connect_client(&mut self, id: ChannelId, channel: &mut Channel) -> Result<()> {
        let Kind::Client { conn, cfg, state } = &mut channel.kind else {
            return Ok(());
        };
        emit(
            channel.events.as_ref(),
            &channel.name,
            ChannelEvent::Activating,
        );
        let mut stream = match mio::net::TcpStream::connect(cfg.dest) {
            Ok(s) => s,
            Err(e) => return Err(ChannelError::io("connect", &channel.name, e)),
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll
            .registry()
            .register(&mut stream, id.token(), interest)
            .map_err(|e| ChannelError::io("register", &channel.name, e))?;
        let framing = match cfg.framing {
            StreamFraming::Slip => StreamFraming::Slip,
            _ => StreamFraming::LengthPrefix,
        };
        *conn = Some(StreamConn::new(stream, cfg.dest, framing, cfg.limits));
        *state = ClientState::Connecting;
        Ok(())
    }

    /// Closes a channel (a TCP server's connections close with it). Queued output is
    /// written if the socket takes it at once, else dropped.
    pub fn close(&mut self, id: ChannelId) -> Result<()> {
        if !self.channels.contains_key(&id.0) {
            return Err(ChannelError::UnknownChannel(format!("{id:?}")));
        }
        self.close_channel(id.0, "closed");
        Ok(())
    }

    pub(crate) fn close_channel(&mut self, id: u64, reason: &str) {
        let Some(mut ch) = self.channels.remove(&id) else {
            return;
        };
        self.by_name.remove(&ch.name);
        let ev = ch.events.clone();
        emit(ev.as_ref(), &ch.name, ChannelEvent::Deactivating);
        emit(ev.as_ref(), &ch.name, ChannelEvent::Unscheduling);
        let registry = self.poll.registry();
        let mut children = Vec::new();
        match &mut ch.kind {
            Kind::Udp(u) => u.unwatch(registry),
            Kind::Listener { listener, .. } => {
                let _ = registry.deregister(listener);
                children = self
                    .connections(ChannelId(id))
                    .into_iter()
                    .map(|c| c.0)
                    .collect();
            }
            Kind::Conn { conn, server } => {
                let _ = conn.flush();
                let _ = registry.deregister(&mut conn.stream);
                let peer = conn.peer;
                emit(
                    ev.as_ref(),
                    &ch.name,
                    ChannelEvent::Disconnected { peer, reason },
                );
                if let Some(Kind::Listener { count, .. }) =
                    self.channels.get_mut(server).map(|c| &mut c.kind)
                {
                    *count = count.saturating_sub(1);
                }
            }
            Kind::Client { conn, .. } => {
                if let Some(c) = conn {
                    let _ = c.flush();
                    let _ = registry.deregister(&mut c.stream);
                    emit(
                        ev.as_ref(),
                        &ch.name,
                        ChannelEvent::Disconnected {
                            peer: c.peer,
                            reason,
                        },
                    );
                }
            }
        }
        emit(ev.as_ref(), &ch.name, ChannelEvent::Unscheduled);
        emit(ev.as_ref(), &ch.name, ChannelEvent::Deactivated);
        log::debug!("channel {}: {reason}", ch.name);
        for c in children {
            self.close_channel(c, "server closed");
        }
    }

    /// Sends a packet on a channel: to `dest` if given (a UDP peer replying, or one
    /// connection of a TCP server), else to the channel's destination (a TCP server
    /// sends to every connection). Written at once when the socket takes it, else
    /// queued (bounded).
    pub fn send(&mut self, id: ChannelId, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        let result = self.send_inner(id.0, data, dest);
        if let Err(e) = &result {
            if let Some(ch) = self.channels.get(&id.0) {
                let reason = match e {
                    ChannelError::QueueFull { .. } => Some(DropReason::QueueFull),
                    ChannelError::DatagramTooLarge { .. } | ChannelError::PacketTooLarge { .. } => {
                        Some(DropReason::Oversized)
                    }
                    ChannelError::Io { .. } => Some(DropReason::SendFailed),
                    _ => None,
                };
                if let Some(r) = reason {
                    ch.stats.count_drop(r);
                    emit(
                        ch.events.as_ref(),
                        &ch.name,
                        ChannelEvent::Dropped {
                            reason: r,
                            peer: dest,
                        },
                    );
                }
            }
        }
        result
    }

    fn send_inner(&mut self, id: u64, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        let Some(ch) = self.channels.get_mut(&id) else {
            return Err(ChannelError::UnknownChannel(format!("{:?}", ChannelId(id))));
        };
        let len = data.len();
        match &mut ch.kind {
            Kind::Udp(u) => {
                match u.send(&ch.name, data, dest)? {
                    udp::Sent::Now => ch.stats.count_out(len),
                    udp::Sent::Queued => watch_udp(self.poll.registry(), id, u, &ch.name),
                }
                Ok(())
            }
            Kind::Conn { conn, .. } => {
                queue_on(conn, &ch.name, &data)?;
                flush_stream(conn, &ch.name)
            }
            Kind::Client {
                conn: Some(conn), ..
            } => {
                queue_on(conn, &ch.name, &data)?;
                flush_stream(conn, &ch.name)
            }
            Kind::Client { conn: None, .. } => {
                Err(ChannelError::NotWritable(ch.name.clone(), "not connected"))
            }
            Kind::Listener { .. } => {
                let targets: Vec<u64> = self
                    .connections(ChannelId(id))
                    .into_iter()
                    .map(|c| c.0)
                    .filter(|c| {
                        dest.is_none()
                            || matches!(self.channels.get(c).map(|x| &x.kind), Some(Kind::Conn { conn, .. }) if Some(conn.peer) == dest)
                    })
                    .collect();
                if targets.is_empty() && dest.is_some() {
                    return Err(ChannelError::UnknownChannel(format!(
                        "connection to {dest:?}"
                    )));
                }
                if targets.is_empty() {
                    if let Some(ch) = self.channels.get(&id) {
                        log::info!(
                            "channel {}: no connection to send to; packet dropped",
                            ch.name
                        );
                        ch.stats.count_drop(DropReason::NoRoute);
                    }
                }
                let mut first_err = None;
                for t in targets {
                    if let Err(e) = self.send(ChannelId(t), Arc::clone(&data), None) {
                        first_err.get_or_insert(e);
                    }
                }
                first_err.map_or(Ok(()), Err)
            }
        }
    }
}

/// Brings a UDP socket's registration up to date (see [`UdpChannel::watch`]). A failure
/// is logged: the queue still drains at the next send or pass that finds it writable.
pub(crate) fn watch_udp(registry: &mio::Registry, id: u64, u: &mut UdpChannel, name: &str) {
    if let Err(e) = u.watch(registry, ChannelId(id).token()) {
        log::warn!("channel {name}: cannot update its poll registration: {e}");
    }
}

fn queue_on(conn: &mut StreamConn, name: &str, data: &[u8]) -> Result<()> {
    conn.queue(data).map_err(|reason| match reason {
        DropReason::Oversized => ChannelError::PacketTooLarge {
            size: data.len(),
            limit: 0,
        },
        _ => ChannelError::QueueFull {
            channel: name.to_owned(),
            limit: conn.pending(),
            unit: "bytes",
        },
    })
}

fn flush_stream(conn: &mut StreamConn, name: &str) -> Result<()> {
    conn.flush().map_err(|e| ChannelError::io("send", name, e))
}

impl Reactor {
    pub(crate) fn poll_inner<F: FnMut(Received<'_>)>(
        &mut self,
        timeout: Option<Duration>,
        sink: &mut F,
    ) -> Result<usize> {
        // Sends queued without a wake-up (`ReactorHandle::send_deferred`) go out first.
        if !self.rx.is_empty() {
            self.run_commands();
        }
        let mut timeout = timeout;
        if !self.more_to_read.is_empty() {
            timeout = Some(Duration::ZERO);
        }
        if !self.flush_waiters.is_empty() {
            let step = Duration::from_millis(5);
            timeout = Some(timeout.map_or(step, |t| t.min(step)));
        }
        if let Some(due) = self.next_timer() {
            let wait = due.saturating_duration_since(Instant::now());
            timeout = Some(timeout.map_or(wait, |t| t.min(wait)));
        }
        self.wait(timeout)?;
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        let mut woken = false;
        for ev in self.events.iter() {
            if ev.token() == WAKER {
                woken = true;
                continue;
            }
            ready.push((
                ev.token().0 as u64,
                ev.is_readable() || ev.is_read_closed() || ev.is_error(),
                ev.is_writable(),
            ));
        }
        let mut delivered = 0;
        for id in std::mem::take(&mut self.more_to_read) {
            ready.push((id, true, false));
        }
        for &(id, readable, writable) in &ready {
            if writable {
                self.on_writable(id);
            }
            if readable {
                delivered += self.on_readable(id, sink);
            }
        }
        self.ready = ready;
        if woken || !self.rx.is_empty() {
            self.run_commands();
        }
        self.fire_timers();
        self.answer_flush_waiters();
        Ok(delivered)
    }

    /// Waits for readiness events: up to `timeout` (`None`: without limit), busy polling
    /// first when [`ReactorOptions::busy_poll`] asks for it.
    fn wait(&mut self, timeout: Option<Duration>) -> Result<()> {
        let spin = self.options.busy_poll;
        let mut timeout = timeout;
        if !spin.is_zero() && timeout != Some(Duration::ZERO) {
            let started = Instant::now();
            let spin = timeout.map_or(spin, |t| t.min(spin));
            loop {
                self.poll_events(Some(Duration::ZERO))?;
                if !self.events.is_empty() {
                    return Ok(());
                }
                let spent = started.elapsed();
                if spent >= spin {
                    timeout = timeout.map(|t| t.saturating_sub(spent));
                    break;
                }
                std::hint::spin_loop();
            }
        }
        self.poll_events(timeout)
    }

    fn poll_events(&mut self, timeout: Option<Duration>) -> Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                Err(ChannelError::io("poll", "reactor", e))
            }
            _ => Ok(()),
        }
    }

    /// Runs one pass: waits up to `timeout` (`None`: until something happens) for
    /// readiness, reads what is ready (bounded per socket), writes what is queued,
    /// handles commands from [`ReactorHandle`]s, and returns the number of packets
    /// handed to `sink`.
    pub fn poll<F: FnMut(Received<'_>)>(
        &mut self,
        timeout: Option<Duration>,
        mut sink: F,
    ) -> Result<usize> {
        self.poll_inner(timeout, &mut sink)
    }

    /// Loops in the calling thread until [`ReactorHandle::stop`] is called.
    pub fn run<F: FnMut(Received<'_>)>(&mut self, mut sink: F) -> Result<()> {
        self.stop_requested = false;
        while !self.stop_requested {
            self.poll_inner(None, &mut sink)?;
        }
        Ok(())
    }

    /// Bytes and packets still waiting to be written, over all channels.
    pub fn pending_output(&self) -> usize {
        self.channels.values().map(Channel::pending_output).sum()
    }

    /// Runs passes until nothing waits to be written (sends queued through handles
    /// included) or `timeout` passes; returns whether everything was written.
    pub fn flush<F: FnMut(Received<'_>)>(
        &mut self,
        timeout: Duration,
        mut sink: F,
    ) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            // Sends queued by handles count too: run them first.
            if !self.rx.is_empty() {
                self.run_commands();
            }
            if self.pending_output() == 0 {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            self.poll_inner(Some(left.min(Duration::from_millis(10))), &mut sink)?;
        }
    }

    pub(crate) fn request_stop(&mut self) {
        self.stop_requested = true;
    }

    fn run_commands(&mut self) {
        self.handle.clear_wake();
        while let Ok(cmd) = self.rx.try_recv() {
            crate::handle::execute(self, cmd);
        }
    }

    pub(crate) fn add_flush_waiter(&mut self, timeout: Duration, reply: Sender<bool>) {
        self.flush_waiters.push((Instant::now() + timeout, reply));
    }

    /// Tells flush waiters whether everything is written, once it is or their time is up.
    fn answer_flush_waiters(&mut self) {
        if self.flush_waiters.is_empty() {
            return;
        }
        let done = self.pending_output() == 0;
        let now = Instant::now();
        self.flush_waiters.retain(|(deadline, reply)| {
            if done || *deadline <= now {
                let _ = reply.send(done);
                false
            } else {
                true
            }
        });
    }
}
