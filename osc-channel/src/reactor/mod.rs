//! The mio driver: one `mio::Poll` for every channel. It makes the system calls and
//! applies what the state machines of [`crate::machine`] decide; `pass.rs` runs one
//! poll pass (readiness, reads, writes, timers), `control.rs` answers other threads.

mod control;
mod nap;
mod pass;
mod table;
mod unix;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::channel::{Channel, Kind};
use crate::command::{QueuedSend, SendQueue, Wake};
use crate::handle::{Control, ReactorHandle};
use crate::machine::{Admission, Reconnect, StreamMachine, StreamTimeouts, deadline};
use crate::socket::{SocketInfo, open_socket};
use crate::stream_io::{ClientCfg, Listener, StreamIo, source};
use crate::udp_io::{Sent, UdpIo};
use crate::{
    ChannelError, ChannelEvent, ChannelId, ChannelSpec, ChannelStats, DropReason, ReactorConfig,
    Received, Result, SerialConfig, StreamFraming, TcpClientConfig, TcpServerConfig, UdpConfig,
    UdpWriter,
};

const WAKER: Token = Token(usize::MAX);

/// What one readiness event (or a channel left with input to read) asks of a pass.
#[derive(Debug, Clone, Copy)]
struct Ready {
    id: u64,
    readable: bool,
    writable: bool,
    /// Read until `WouldBlock` even after a short read: the peer closed its side or
    /// the socket has an error (a short read would leave the end unseen), or input
    /// was left over from the last pass.
    drain: bool,
}

fn token(id: u64) -> Token {
    Token(id as usize)
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
    poll: Poll,
    events: Events,
    channels: table::Channels,
    by_name: HashMap<String, u64>,
    next_id: u64,
    /// The receive buffer of single reads (64 KiB: no datagram is ever cut).
    buf: Vec<u8>,
    /// `recvmmsg` buffers, allocated at the first batched UDP read.
    #[cfg(target_os = "linux")]
    batch: Option<osc_sys::RecvBatch>,
    sends: Receiver<QueuedSend>,
    control: Receiver<Control>,
    handle: ReactorHandle,
    /// Channels whose last read stopped at its bound: read again next pass.
    more_to_read: Vec<u64>,
    /// The UDP and Unix datagram channels, which busy polling reads itself (kept as
    /// channels open and close: a pass never scans the table for them).
    datagram_ids: Vec<u64>,
    /// The answer of `polls_only_the_waker` (`is_idle` asks it at every `process()` of
    /// a loop that sends).
    only_the_waker: pass::KeptAnswer<bool>,
    /// The datagram channels that delivered in this pass, and in the pass before.
    delivered_now: Vec<u64>,
    delivered_before: Vec<u64>,
    /// Whether a pass reads `delivered_before` before it waits.
    read_first: crate::machine::ReadFirst,
    /// When reading first is allowed: always, or after a send (measured).
    read_first_policy: crate::machine::ReadFirstChooser,
    /// The channels found ready in a pass (kept to reuse its allocation).
    ready: Vec<Ready>,
    /// Clients' reconnection deadlines.
    timers: crate::machine::Timers,
    options: ReactorConfig,
    stop_requested: bool,
    /// `ReactorHandle::flush` callers: their deadline (`None`: never) and reply.
    flush_waiters: Vec<(Option<Instant>, Sender<bool>)>,
    /// The kick socket's aim, for waits in a read (`nap.rs`).
    kicks: nap::Kicks,
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
    /// A reactor with the default [`ReactorConfig`].
    pub fn new() -> Result<Self> {
        Self::with_options(ReactorConfig::default())
    }

    /// A reactor with the given work bounds.
    pub fn with_options(options: ReactorConfig) -> Result<Self> {
        let poll = Poll::new().map_err(|e| ChannelError::io("poll", "reactor", e))?;
        let waker = Waker::new(poll.registry(), WAKER)
            .map_err(|e| ChannelError::io("waker", "reactor", e))?;
        let (send_tx, sends) = crossbeam_channel::bounded(options.command_queue.max(1));
        let (control_tx, control) = crossbeam_channel::unbounded();
        let handle = ReactorHandle::new(SendQueue::new(send_tx, Wake::new(waker)), control_tx);
        Ok(Reactor {
            poll,
            events: Events::with_capacity(options.events_capacity.max(16)),
            channels: table::Channels::default(),
            by_name: HashMap::new(),
            next_id: 1,
            buf: vec![0; 1 << 16],
            #[cfg(target_os = "linux")]
            batch: None,
            sends,
            control,
            handle,
            // The lists a pass fills are sized up front: grown at the first pass that
            // needs them, they would allocate in the middle of a steady stream (the
            // first time a read stops at its bound, say), which `zero_alloc` counts.
            more_to_read: Vec::with_capacity(pass::READ_FIRST_CHANNELS),
            datagram_ids: Vec::new(),
            only_the_waker: pass::KeptAnswer::default(),
            delivered_now: Vec::with_capacity(pass::READ_FIRST_CHANNELS),
            delivered_before: Vec::with_capacity(pass::READ_FIRST_CHANNELS),
            read_first: crate::machine::ReadFirst::default(),
            read_first_policy: crate::machine::ReadFirstChooser::new(),
            ready: Vec::with_capacity(options.events_capacity.max(16)),
            timers: crate::machine::Timers::default(),
            options,
            stop_requested: false,
            flush_waiters: Vec::new(),
            kicks: nap::Kicks::default(),
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
    /// [`ReactorConfig::max_datagrams_per_event`] per socket, so that one busy socket
    /// cannot starve the others). The next pass then does not wait.
    ///
    /// ```
    /// use osc_channel::{ChannelSpec, Reactor, ReactorConfig, UdpConfig};
    /// use std::time::Duration;
    ///
    /// let mut options = ReactorConfig::default();
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

    /// Whether a pass that does not wait would find nothing to do: no channel in the
    /// poll (a UDP client that does not read and has nothing queued is not in it), no
    /// send or command queued by a handle, nothing left to read, no timer armed and no
    /// flush waiting. A loop that sends and then calls a non-waiting pass can skip the
    /// pass when this says so; a few loads, against several hundred instructions for
    /// the pass. Answers "no" without looking further when there are many channels.
    ///
    /// ```
    /// use osc_channel::{ChannelSpec, Reactor, UdpConfig};
    ///
    /// let mut reactor = Reactor::new()?;
    /// let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let out = reactor.open("out", ChannelSpec::Udp(UdpConfig::client(sink.local_addr().unwrap())))?;
    /// assert!(reactor.is_idle());
    /// reactor.send(out, b"/a\0\0,\0\0\0".as_slice().into(), None)?;
    /// assert!(reactor.is_idle()); // written at once
    /// reactor.open("in", ChannelSpec::Udp(UdpConfig::server("127.0.0.1:0".parse().unwrap())))?;
    /// assert!(!reactor.is_idle()); // a reading socket must be polled
    /// # Ok::<(), osc_channel::ChannelError>(())
    /// ```
    pub fn is_idle(&self) -> bool {
        self.more_to_read.is_empty()
            && self.timers.is_empty()
            && self.flush_waiters.is_empty()
            && !self.handle.send_queue().queued().is_raised()
            && !self.handle.control_queued().is_raised()
            && self.polls_only_the_waker()
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
            dest: u.dest(),
            connected: u.info().connected,
            backlog: Arc::clone(u.backlog()),
            stats: Arc::clone(&ch.stats),
            events: ch.events.clone(),
            sends: self.handle.send_queue().clone(),
        })
    }

    /// The local address a channel is bound to. A connected UDP client that was
    /// connected anew after the host's address changed reports the address it sends
    /// from now.
    ///
    /// ```
    /// use osc_channel::{Reactor, UdpConfig};
    /// let mut r = Reactor::new()?;
    /// let id = r.open_udp("in", UdpConfig::server("127.0.0.1:0".parse().unwrap()))?;
    /// assert!(r.local_addr(id).is_some_and(|a| a.ip().is_loopback() && a.port() != 0));
    /// # Ok::<(), osc_channel::ChannelError>(())
    /// ```
    pub fn local_addr(&self, id: ChannelId) -> Option<SocketAddr> {
        self.channels.get(&id.0).and_then(|c| c.local_addr())
    }

    /// What a UDP socket got from the kernel (bound address, buffer sizes).
    pub fn socket_info(&self, id: ChannelId) -> Option<SocketInfo> {
        match &self.channels.get(&id.0)?.kind {
            Kind::Udp(u) => Some(u.info()),
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
            ChannelSpec::UnixDatagram(c) => self.open_unix_datagram(name, c),
            ChannelSpec::UnixServer(c) => self.open_unix_server(name, c),
            ChannelSpec::UnixClient(c) => self.open_unix_client(name, c),
            ChannelSpec::Serial(c) => self.open_serial(name, c),
        }
    }

    /// Opens a UDP channel (server, client, peer, broadcast or multicast).
    pub fn open_udp(&mut self, name: &str, cfg: UdpConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let events = cfg.events.clone();
        let emit = |ev| crate::event::emit(events.as_ref(), name, ev);
        emit(ChannelEvent::Activating);
        let (socket, info) = open_socket(name, &cfg)?;
        emit(ChannelEvent::Activated);
        emit(ChannelEvent::Bound(info.local));
        let id = self.take_id();
        emit(ChannelEvent::Scheduling);
        let mut channel = UdpIo::new(socket, info, &cfg);
        channel
            .watch(self.poll.registry(), token(id.0))
            .map_err(|e| ChannelError::io("register", name, e))?;
        emit(ChannelEvent::Scheduled);
        log::debug!(
            "channel {name}: UDP on {} (rcvbuf {})",
            info.local,
            info.recv_buffer
        );
        self.insert(id, Channel::new(name, Kind::Udp(channel), events.clone()));
        Ok(id)
    }

    /// Opens a TCP server.
    pub fn open_tcp_server(&mut self, name: &str, cfg: TcpServerConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let Some(bind) = cfg.bind else {
            return Err(ChannelError::Config("a TCP server needs a bind address"));
        };
        let events = cfg.events.clone();
        let emit = |ev| crate::event::emit(events.as_ref(), name, ev);
        emit(ChannelEvent::Activating);
        let listener =
            mio::net::TcpListener::bind(bind).map_err(|e| ChannelError::io("listen", name, e))?;
        let local = listener.local_addr().unwrap_or(bind);
        emit(ChannelEvent::Activated);
        emit(ChannelEvent::Bound(local));
        log::debug!("channel {name}: TCP server on {local}");
        self.listen(name, Listener::Tcp(listener), Some(local), cfg)
    }

    /// Registers a server's listener and enters the server in the table.
    fn listen(
        &mut self,
        name: &str,
        mut listener: Listener,
        local: Option<SocketAddr>,
        cfg: TcpServerConfig,
    ) -> Result<ChannelId> {
        let events = cfg.events.clone();
        let emit = |ev| crate::event::emit(events.as_ref(), name, ev);
        let id = self.take_id();
        emit(ChannelEvent::Scheduling);
        self.poll
            .registry()
            .register(&mut listener, token(id.0), Interest::READABLE)
            .map_err(|e| ChannelError::io("register", name, e))?;
        emit(ChannelEvent::Scheduled);
        let kind = Kind::Listener {
            listener,
            local,
            admission: Admission::new(cfg.max_connections, cfg.max_connections_per_source),
            held: 0,
            cfg,
        };
        self.insert(id, Channel::new(name, kind, events.clone()));
        Ok(id)
    }

    /// Opens a TCP client; it connects in the background (sends are buffered meanwhile).
    pub fn open_tcp_client(&mut self, name: &str, cfg: TcpClientConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let events = cfg.events.clone();
        let reconnect = Reconnect::new(cfg.reconnect);
        self.open_client(name, ClientCfg::Tcp(cfg), reconnect, events)
    }

    /// Opens a serial device: OSC 1.1 SLIP frames both ways (see [`SerialConfig`]).
    /// The device must exist now; when it later fails or goes away, the channel
    /// reopens it with the configured backoff ([`ChannelEvent::SerialClosed`], then
    /// [`ChannelEvent::SerialOpened`]).
    ///
    /// ```
    /// use osc_channel::{Reactor, SerialConfig};
    /// use std::io::Write;
    /// use std::time::Duration;
    ///
    /// // A pseudo-terminal pair stands in for a board on a USB cable.
    /// let (mut board, tty) = serialport::TTYPort::pair()?;
    /// let device = serialport::SerialPort::name(&tty).unwrap();
    /// let mut reactor = Reactor::new()?;
    /// reactor.open_serial("board", SerialConfig::new(&device))?;
    /// // What CNMAT's SLIPEncodedSerial sends: END, the packet, END.
    /// board.write_all(b"\xc0/knob\0\0\0,i\0\0\0\0\0\x07\xc0")?;
    /// let mut got = Vec::new();
    /// while got.is_empty() {
    ///     reactor.poll(Some(Duration::from_millis(50)), |p| got = p.data.to_vec())?;
    /// }
    /// assert!(got.starts_with(b"/knob"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_serial(&mut self, name: &str, cfg: SerialConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let events = cfg.events.clone();
        let reconnect = Reconnect::new(cfg.reconnect);
        self.open_client(name, ClientCfg::Serial(cfg), reconnect, events)
    }

    fn open_client(
        &mut self,
        name: &str,
        cfg: ClientCfg,
        reconnect: Reconnect,
        events: Option<crate::EventHandler>,
    ) -> Result<ChannelId> {
        let id = self.take_id();
        let mut channel = Channel::new(
            name,
            Kind::Client {
                io: None,
                cfg: Box::new(cfg),
                reconnect,
            },
            events,
        );
        self.connect_client(id, &mut channel)?;
        self.insert(id, channel);
        Ok(id)
    }

    fn take_id(&mut self) -> ChannelId {
        let id = self.next_id;
        self.next_id += 1;
        ChannelId(id)
    }

    fn insert(&mut self, id: ChannelId, channel: Channel) {
        if matches!(channel.kind, Kind::Udp(_) | Kind::UnixDatagram(_)) {
            self.datagram_ids.push(id.0);
        }
        self.by_name.insert(channel.name.clone(), id.0);
        self.channels.insert(id.0, Box::new(channel));
    }

    /// Starts a client's (re)connection. Only an immediate failure is an error.
    fn connect_client(&mut self, id: ChannelId, channel: &mut Channel) -> Result<()> {
        let Kind::Client { io, cfg, reconnect } = &mut channel.kind else {
            return Ok(());
        };
        crate::event::emit(
            channel.events.as_ref(),
            &channel.name,
            ChannelEvent::Activating,
        );
        reconnect.connecting();
        let (mut stream, peer) = cfg
            .connect()
            .map_err(|e| ChannelError::io("connect", &channel.name, e))?;
        self.poll
            .registry()
            .register(
                &mut stream,
                token(id.0),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(|e| ChannelError::io("register", &channel.name, e))?;
        let timeouts = StreamTimeouts {
            frame: cfg.limits().frame_timeout,
            ..StreamTimeouts::default()
        };
        let machine = match cfg.framing() {
            StreamFraming::WebSocket => {
                StreamMachine::websocket_client(peer, &cfg.ws_url(), cfg.limits()).map_err(
                    |why| {
                        log::warn!("channel {}: {why}", channel.name);
                        ChannelError::Config("the WebSocket path does not make a ws:// URL")
                    },
                )?
            }
            StreamFraming::Slip => StreamMachine::new(peer, StreamFraming::Slip, cfg.limits()),
            _ => StreamMachine::new(peer, StreamFraming::LengthPrefix, cfg.limits()),
        }
        .with_timeouts(Instant::now(), timeouts);
        *io = Some(StreamIo::new(stream, machine));
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

    fn close_channel(&mut self, id: u64, reason: &str) {
        let Some(mut ch) = self.channels.remove(&id) else {
            return;
        };
        self.datagram_ids.retain(|&d| d != id);
        // A connection from the same address and port may have taken the name since
        // (a peer reset and reconnected at once): only this channel's entry goes.
        if self.by_name.get(&ch.name) == Some(&id) {
            self.by_name.remove(&ch.name);
        }
        ch.emit(ChannelEvent::Deactivating);
        ch.emit(ChannelEvent::Unscheduling);
        let registry = self.poll.registry();
        let mut children = Vec::new();
        match &mut ch.kind {
            Kind::Udp(u) => u.unwatch(registry),
            Kind::UnixDatagram(u) => u.unwatch(registry),
            Kind::Listener { listener, .. } => {
                let _ = registry.deregister(listener);
                children = self
                    .connections(ChannelId(id))
                    .into_iter()
                    .map(|c| c.0)
                    .collect();
            }
            Kind::Conn {
                io,
                server,
                held: share,
                ..
            } => {
                let _ = io.flush();
                let _ = registry.deregister(&mut io.stream);
                let peer = io.peer();
                let (server, share) = (*server, *share);
                crate::event::emit(ch.events.as_ref(), &ch.name, io.disconnected(reason));
                if let Some(Kind::Listener {
                    admission, held, ..
                }) = self.channels.get_mut(&server).map(|c| &mut c.kind)
                {
                    admission.release(source(peer));
                    *held = held.saturating_sub(share);
                }
            }
            Kind::Client { io, .. } => {
                if let Some(c) = io {
                    let _ = c.flush();
                    let _ = registry.deregister(&mut c.stream);
                    crate::event::emit(ch.events.as_ref(), &ch.name, c.disconnected(reason));
                }
            }
        }
        ch.emit(ChannelEvent::Unscheduled);
        ch.emit(ChannelEvent::Deactivated);
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
        if result.is_ok() {
            self.handle.send_queue().note_sent();
        }
        self.count_refusal(id, &result, dest);
        result
    }

    /// Writes `data` on UDP channel `id` at once when nothing of the channel waits
    /// and the socket takes it: `Ok(true)`, and the caller's bytes were never copied.
    /// `Ok(false)` when it must go through [`send`](Self::send) instead (another kind
    /// of channel, earlier packets queued, a socket that would block). Refusals are
    /// errors, counted as by `send`.
    ///
    /// ```
    /// use osc_channel::{Reactor, UdpConfig};
    /// let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let mut reactor = Reactor::new()?;
    /// let out = reactor.open_udp("out", UdpConfig::client(rx.local_addr()?))?;
    /// assert!(reactor.try_send_now(out, b"/a\0\0,\0\0\0", None)?);
    /// let mut buf = [0u8; 16];
    /// assert_eq!(rx.recv(&mut buf)?, 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_send_now(
        &mut self,
        id: ChannelId,
        data: &[u8],
        dest: Option<SocketAddr>,
    ) -> Result<bool> {
        let Some(ch) = self.channels.get_mut(&id.0) else {
            return Err(ChannelError::UnknownChannel(format!("{id:?}")));
        };
        let Kind::Udp(u) = &mut ch.kind else {
            return Ok(false);
        };
        let refused = match u.write_now(data, dest) {
            Ok(None) => {
                ch.stats.count_out_owned(data.len());
                self.handle.send_queue().note_sent();
                return Ok(true);
            }
            Ok(Some(_)) => return Ok(false),
            Err(not_sent) => not_sent.into_error(&ch.name),
        };
        let result = Err(refused);
        self.count_refusal(id, &result, dest);
        result.map(|()| false)
    }

    /// Counts and reports a refused send as a drop, by its reason.
    fn count_refusal(&self, id: ChannelId, result: &Result<()>, dest: Option<SocketAddr>) {
        if let Err(e) = result {
            if let Some(ch) = self.channels.get(&id.0) {
                let reason = match e {
                    ChannelError::QueueFull { .. } => Some(DropReason::QueueFull),
                    ChannelError::MemoryBudget { .. } => Some(DropReason::MemoryBudget),
                    ChannelError::DatagramTooLarge { .. } | ChannelError::PacketTooLarge { .. } => {
                        Some(DropReason::Oversized)
                    }
                    ChannelError::Io { .. } => Some(DropReason::SendFailed),
                    _ => None,
                };
                if let Some(r) = reason {
                    ch.report_drop(r, dest);
                }
            }
        }
    }

    fn send_inner(&mut self, id: u64, data: Arc<[u8]>, dest: Option<SocketAddr>) -> Result<()> {
        let Some(ch) = self.channels.get_mut(&id) else {
            return Err(ChannelError::UnknownChannel(format!("{:?}", ChannelId(id))));
        };
        let len = data.len();
        match &mut ch.kind {
            Kind::Udp(u) => match u.send(data, dest) {
                Ok(Sent::Now) => {
                    ch.stats.count_out_owned(len);
                    Ok(())
                }
                Ok(Sent::Queued) => {
                    watch_udp(self.poll.registry(), id, u, &ch.name);
                    Ok(())
                }
                Err(not_sent) => Err(not_sent.into_error(&ch.name)),
            },
            Kind::UnixDatagram(_) if dest.is_some() => Err(ChannelError::NotWritable(
                ch.name.clone(),
                "a Unix channel's destination is a path: use send_to_path",
            )),
            Kind::UnixDatagram(_) => self.send_unix(id, data, None),
            Kind::Conn { server, .. } => {
                let server = *server;
                self.send_on_connection(id, server, &data)
            }
            Kind::Client { io: Some(io), .. } => {
                io.machine
                    .queue(&data)
                    .map_err(|r| r.into_error(&ch.name, None))?;
                ch.stats.count_out_owned(len);
                io.flush()
                    .map_err(|e| ChannelError::io("send", &ch.name, e))
            }
            Kind::Client { io: None, .. } => {
                Err(ChannelError::NotWritable(ch.name.clone(), "not connected"))
            }
            Kind::Listener { .. } => self.send_to_connections(id, data, dest),
        }
    }

    /// Queues and writes a packet on a server's connection, within the server's
    /// memory budget.
    fn send_on_connection(&mut self, id: u64, server: u64, data: &[u8]) -> Result<()> {
        let room = self.room_for(server, data.len());
        let Some(ch) = self.channels.get_mut(&id) else {
            return Ok(());
        };
        if !room {
            log::warn!(
                "channel {}: send refused: the server's memory budget is spent",
                ch.name
            );
            return Err(ChannelError::MemoryBudget {
                channel: ch.name.clone(),
                limit: self.budget_of(server),
            });
        }
        let Kind::Conn { io, .. } = &mut ch.kind else {
            return Ok(());
        };
        io.machine
            .queue(data)
            .map_err(|r| r.into_error(&ch.name, None))?;
        ch.stats.count_out_owned(data.len());
        let written = io
            .flush()
            .map_err(|e| ChannelError::io("send", &ch.name, e));
        self.account(id);
        written
    }

    /// Whether a TCP server's memory budget has room for `len` more bytes.
    fn room_for(&self, server: u64, len: usize) -> bool {
        match self.channels.get(&server).map(|c| &c.kind) {
            Some(Kind::Listener { held, cfg, .. }) => {
                held.saturating_add(len).saturating_add(4) <= cfg.memory_budget
            }
            _ => true,
        }
    }

    fn budget_of(&self, server: u64) -> usize {
        match self.channels.get(&server).map(|c| &c.kind) {
            Some(Kind::Listener { cfg, .. }) => cfg.memory_budget,
            _ => 0,
        }
    }

    /// Brings a server connection's share of its server's memory up to date; returns
    /// whether the server is now over its budget.
    fn account(&mut self, id: u64) -> bool {
        let Some(Kind::Conn {
            io, server, held, ..
        }) = self.channels.get_mut(&id).map(|c| &mut c.kind)
        else {
            return false;
        };
        let (old, new, server) = (*held, io.machine.held(), *server);
        *held = new;
        match self.channels.get_mut(&server).map(|c| &mut c.kind) {
            Some(Kind::Listener { held, cfg, .. }) => {
                *held = held.saturating_sub(old).saturating_add(new);
                *held > cfg.memory_budget
            }
            _ => false,
        }
    }

    /// A TCP server's send: to every connection, or to the one whose peer is `dest`.
    fn send_to_connections(
        &mut self,
        id: u64,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    ) -> Result<()> {
        let targets: Vec<u64> = self
            .connections(ChannelId(id))
            .into_iter()
            .map(|c| c.0)
            .filter(|c| {
                dest.is_none()
                    || matches!(self.channels.get(c).map(|x| &x.kind), Some(Kind::Conn { io, .. }) if io.peer() == dest)
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

    /// Runs one pass: waits up to `timeout` (`None`: until something happens) for
    /// readiness, reads what is ready (bounded per socket), writes what is queued,
    /// handles commands from [`ReactorHandle`]s, and returns the number of packets
    /// handed to `sink`.
    pub fn poll<F: FnMut(Received<'_>)>(
        &mut self,
        timeout: Option<Duration>,
        mut sink: F,
    ) -> Result<usize> {
        if timeout == Some(Duration::ZERO) && self.is_idle() {
            return Ok(0);
        }
        self.pass(timeout, &mut sink)
    }

    /// Loops in the calling thread until [`ReactorHandle::stop`] is called.
    pub fn run<F: FnMut(Received<'_>)>(&mut self, mut sink: F) -> Result<()> {
        self.stop_requested = false;
        while !self.stop_requested {
            self.pass(None, &mut sink)?;
        }
        Ok(())
    }

    /// Bytes and packets still waiting to be written, over all channels.
    pub fn pending_output(&self) -> usize {
        self.channels.values().map(|c| c.pending_output()).sum()
    }

    /// Runs passes until nothing waits to be written (sends queued through handles
    /// included) or `timeout` passes; returns whether everything was written.
    pub fn flush<F: FnMut(Received<'_>)>(
        &mut self,
        timeout: Duration,
        mut sink: F,
    ) -> Result<bool> {
        let until = deadline(Instant::now(), timeout);
        loop {
            // Sends queued by handles count too: run them first.
            self.run_queued_sends();
            if self.pending_output() == 0 {
                return Ok(true);
            }
            let left = until.map_or(Duration::MAX, |d| {
                d.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                return Ok(false);
            }
            self.pass(Some(left.min(Duration::from_millis(10))), &mut sink)?;
        }
    }
}

/// Brings a UDP socket's registration up to date (see [`UdpIo::watch`]). A failure
/// is logged: the queue still drains at the next send or pass that finds it writable.
fn watch_udp(registry: &mio::Registry, id: u64, u: &mut UdpIo, name: &str) {
    if let Err(e) = u.watch(registry, token(id)) {
        log::warn!("channel {name}: cannot update its poll registration: {e}");
    }
}
