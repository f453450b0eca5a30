//! `OscServer`: reads UDP sockets and TCP listeners, dispatches to osc-dispatch, and
//! drives the dispatcher's bundle scheduler with tokio's timer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use framed_io::{next_item, send_packet};
use osc_dispatch::{Clock, Context, DispatchError, Dispatcher, ShutdownOptions, ShutdownSummary};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;

use crate::{OscCodec, OscSocket, Replier, StreamFraming, TokioClock};

/// Settings of an [`OscServer`].
///
/// ```
/// let mut cfg = osc4rs_tokio::ServerConfig::default();
/// assert_eq!((cfg.reply_queue, cfg.max_connections), (1024, 500));
/// assert!(!cfg.shutdown.flush_pending);
/// cfg.idle_timeout = Some(std::time::Duration::from_secs(300));
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ServerConfig {
    /// How [`OscServer::run`] shuts the dispatcher down: pending bundles dropped
    /// (default) or flushed at once, never waited for; `deadline` also bounds the
    /// time given to connections to write their queued replies.
    pub shutdown: ShutdownOptions,
    /// Replies queued per stream connection before [`Replier`] drops them.
    pub reply_queue: usize,
    /// Most TCP connections open at once over all TCP channels (default 500, as the
    /// sync server); a connection beyond it is accepted and closed at once, logged.
    pub max_connections: usize,
    /// Most TCP connections from one IP address (default 64).
    pub max_connections_per_source: usize,
    /// A connection must deliver its first packet within this (default 60 s; `None`:
    /// no limit), or it is closed: idle connections cannot hold the slots.
    pub first_packet_timeout: Option<Duration>,
    /// A connection that delivers no packet for this long is closed (default `None`).
    pub idle_timeout: Option<Duration>,
    /// A frame that has started must be complete within about this (default 10 s;
    /// `None`: no limit); a peer that sends part of a packet and stalls is closed.
    pub frame_timeout: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            shutdown: ShutdownOptions::default(),
            reply_queue: 1024,
            max_connections: 500,
            max_connections_per_source: 64,
            first_packet_timeout: Some(Duration::from_secs(60)),
            idle_timeout: None,
            frame_timeout: Some(Duration::from_secs(10)),
        }
    }
}

impl ServerConfig {
    /// The same settings with these shutdown options.
    ///
    /// ```
    /// use osc_dispatch::ShutdownOptions;
    /// let cfg = osc4rs_tokio::ServerConfig::default()
    ///     .with_shutdown(ShutdownOptions { flush_pending: true, ..ShutdownOptions::default() });
    /// assert!(cfg.shutdown.flush_pending);
    /// ```
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: ShutdownOptions) -> Self {
        self.shutdown = shutdown;
        self
    }
}

/// Stops an [`OscServer`] from anywhere (another task, a signal handler, a handler).
/// Clones stop the same server.
///
/// ```
/// use osc_dispatch::{Dispatcher, DispatcherConfig};
/// let dispatcher = std::sync::Arc::new(Dispatcher::new(DispatcherConfig::default()));
/// let server = osc4rs_tokio::OscServer::new(dispatcher);
/// let stopper = server.stopper();
/// assert!(!stopper.is_stopped());
/// stopper.stop();
/// assert!(stopper.is_stopped());
/// ```
#[derive(Debug, Clone)]
pub struct Stopper(CancellationToken);

impl Stopper {
    /// Asks the server to stop; [`OscServer::run`] then shuts down and returns.
    pub fn stop(&self) {
        self.0.cancel();
    }

    /// Whether [`stop`](Self::stop) was called.
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.0.is_cancelled()
    }
}

#[derive(Debug)]
enum Source {
    Udp(Arc<str>, Arc<UdpSocket>),
    Tcp(Arc<str>, TcpListener, StreamFraming, usize),
}

/// An async OSC server: reads any number of UDP sockets and TCP listeners, dispatches
/// each packet to an [`osc_dispatch::Dispatcher`], holds future bundles until their
/// timetag on tokio's timer, and lets handlers reply to the peer ([`Replier`]).
///
/// - **Handlers** registered on the dispatcher run in the task that read the packet
///   (`Executor::Inline`, the default) or on the dispatcher's worker pool
///   (`Executor::Pool`); a sync handler should not block for long on a runtime thread:
///   use the pool, or [`async_handler`](crate::async_handler) for a future. A
///   panicking handler is caught, logged and counted by the dispatcher, and the server
///   goes on.
/// - **Time**: "now" is a [`TokioClock`]; the scheduling rules (tolerance, late
///   policy, timetag offset, horizon, pending bound) are the dispatcher's
///   [`SchedulerConfig`](osc_dispatch::SchedulerConfig). Under
///   `tokio::time::pause` the server runs on virtual time.
/// - **Streams**: each TCP connection is read with an [`OscCodec`]: a bad frame is
///   logged and skipped, a fatal one closes that connection only.
/// - **Shutdown** ([`Stopper::stop`]): reading stops, the dispatcher shuts down per
///   [`ServerConfig::shutdown`] (never waiting for a future bundle), then each
///   connection writes the replies it has queued and closes, within the shutdown
///   deadline; [`run`](Self::run) returns the dispatcher's summary.
///
/// ```
/// use std::sync::Arc;
/// use osc4rs_tokio::{OscServer, OscSocket, MAX_DATAGRAM};
/// use osc_codec::{Message, PacketRef};
/// use osc_dispatch::{Dispatcher, DispatcherConfig, Handler};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let dispatcher = Arc::new(Dispatcher::new(DispatcherConfig::default()));
/// let mut server = OscServer::new(dispatcher.clone());
/// let socket = OscSocket::bind("127.0.0.1:0").await?;
/// let addr = socket.local_addr()?;
/// server.add_udp("in", &socket);
///
/// let replier = server.replier();
/// dispatcher.register("/ping", Handler::with_context(move |_, ctx| {
///     let _ = replier.reply(ctx, Message::new("/pong").into());
/// }))?;
/// let stopper = server.stopper();
/// let running = tokio::spawn(server.run());
///
/// let mut client = OscSocket::bind("127.0.0.1:0").await?;
/// client.send_to(&Message::new("/ping").into(), addr).await?;
/// let mut buf = vec![0; MAX_DATAGRAM];
/// let (PacketRef::Message(m), _) = client.recv(&mut buf).await? else { unreachable!() };
/// assert_eq!(m.address(), "/pong");
///
/// stopper.stop();
/// let summary = running.await?;
/// assert_eq!(summary.dropped_bundles, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OscServer {
    dispatcher: Arc<Dispatcher>,
    clock: TokioClock,
    config: ServerConfig,
    replier: Replier,
    stop: CancellationToken,
    sources: Vec<Source>,
}

impl OscServer {
    /// A server dispatching to `dispatcher`, with the default [`ServerConfig`] and a
    /// [`TokioClock`] started now.
    #[must_use]
    pub fn new(dispatcher: Arc<Dispatcher>) -> Self {
        OscServer::with_config(dispatcher, ServerConfig::default())
    }

    /// A server with these settings.
    #[must_use]
    pub fn with_config(dispatcher: Arc<Dispatcher>, config: ServerConfig) -> Self {
        OscServer {
            dispatcher,
            clock: TokioClock::new(),
            config,
            replier: Replier::default(),
            stop: CancellationToken::new(),
            sources: Vec::new(),
        }
    }

    /// Uses this clock for "now" (tests give a fixed origin).
    #[must_use]
    pub fn with_clock(mut self, clock: TokioClock) -> Self {
        self.clock = clock;
        self
    }

    /// The dispatcher (register methods on it, before or while the server runs).
    #[must_use]
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    /// The server's clock: build timetags with it (`clock.now() + delay`).
    #[must_use]
    pub fn clock(&self) -> TokioClock {
        self.clock
    }

    /// Sends replies on this server's channels (give a clone to handlers).
    #[must_use]
    pub fn replier(&self) -> Replier {
        self.replier.clone()
    }

    /// Stops the server.
    #[must_use]
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// Reads `socket` as channel `name` (the [`Context::channel`] of its packets and
    /// the name replies are sent on). The socket is shared: `socket` may still send.
    pub fn add_udp(&mut self, name: &str, socket: &OscSocket) -> &mut Self {
        let name: Arc<str> = Arc::from(name);
        self.replier.add_udp(name.clone(), socket.socket().clone());
        self.sources
            .push(Source::Udp(name, socket.socket().clone()));
        self
    }

    /// Accepts TCP connections on `listener` as channel `name`, each framed with
    /// `framing` ([`StreamFraming::Auto`] answers each peer in its own framing) and
    /// packets of at most `max_packet` bytes.
    pub fn add_tcp(
        &mut self,
        name: &str,
        listener: TcpListener,
        framing: StreamFraming,
        max_packet: usize,
    ) -> &mut Self {
        self.sources
            .push(Source::Tcp(Arc::from(name), listener, framing, max_packet));
        self
    }

    /// Runs until [`Stopper::stop`]: reads every channel, dispatches, and releases held
    /// bundles when due; then shuts down (see the type's doc) and returns what the
    /// dispatcher's shutdown did.
    pub async fn run(self) -> ShutdownSummary {
        let OscServer {
            dispatcher,
            clock,
            config,
            replier,
            stop,
            sources,
        } = self;
        let context = TaskContext {
            dispatcher: dispatcher.clone(),
            clock,
            replier: replier.clone(),
            stop: stop.clone(),
            reply_queue: config.reply_queue.max(1),
            limits: Arc::new(ConnLimits::new(&config)),
        };
        let mut tasks = JoinSet::new();
        for source in sources {
            match source {
                Source::Udp(name, socket) => {
                    tasks.spawn(read_udp(name, socket, context.clone()));
                }
                Source::Tcp(name, listener, framing, max) => {
                    tasks.spawn(accept_tcp(name, listener, framing, max, context.clone()));
                }
            }
        }
        drive_scheduler(&dispatcher, &clock, &stop).await;

        let now = clock.now();
        let d = dispatcher.clone();
        let summary = tokio::task::spawn_blocking(move || d.shutdown(config.shutdown, now))
            .await
            .unwrap_or_else(|e| {
                log::error!("osc4rs-tokio: dispatcher shutdown failed: {e}");
                ShutdownSummary::default()
            });
        replier.close();
        let drained = tokio::time::timeout(config.shutdown.deadline, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            log::warn!(
                "osc4rs-tokio: {} channel task(s) still writing after {:?}; aborted",
                tasks.len(),
                config.shutdown.deadline
            );
        }
        tasks.shutdown().await;
        summary
    }
}

/// What each channel task of a running server holds (cloned into every task): the
/// dispatcher and clock it dispatches with, the replier its connections register
/// with, the stop token, the reply queue length and the TCP connection limits.
#[derive(Debug, Clone)]
struct TaskContext {
    dispatcher: Arc<Dispatcher>,
    clock: TokioClock,
    replier: Replier,
    stop: CancellationToken,
    reply_queue: usize,
    limits: Arc<ConnLimits>,
}

/// The TCP connection rules of a server, and the connections it has open (shared by
/// all its TCP channels).
#[derive(Debug)]
struct ConnLimits {
    max: usize,
    per_source: usize,
    first_packet: Option<Duration>,
    idle: Option<Duration>,
    frame: Option<Duration>,
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

impl ConnLimits {
    fn new(c: &ServerConfig) -> Self {
        ConnLimits {
            max: c.max_connections,
            per_source: c.max_connections_per_source,
            first_packet: c.first_packet_timeout,
            idle: c.idle_timeout,
            frame: c.frame_timeout,
            open: std::sync::Mutex::default(),
        }
    }

    /// Takes a slot for a connection from `ip`, or says which limit is full.
    fn admit(self: &Arc<Self>, ip: std::net::IpAddr) -> Result<Slot, &'static str> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.values().sum::<usize>() >= self.max {
            return Err("the connection limit is reached");
        }
        let n = open.entry(ip).or_insert(0);
        if *n >= self.per_source {
            return Err("the per-address connection limit is reached");
        }
        *n += 1;
        Ok(Slot(Arc::clone(self), ip))
    }
}

/// A connection's place in [`ConnLimits`], given back when dropped.
#[derive(Debug)]
struct Slot(Arc<ConnLimits>, std::net::IpAddr);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .0
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// The longest single sleep (a timetag far ahead is re-checked at least this often).
const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// Releases held bundles when due until `stop`; wakes early when a new bundle becomes
/// the earliest (the dispatcher's waker).
async fn drive_scheduler(dispatcher: &Dispatcher, clock: &TokioClock, stop: &CancellationToken) {
    let wake = Arc::new(Notify::new());
    let w = wake.clone();
    dispatcher.set_waker(move || w.notify_one());
    loop {
        dispatcher.run_due(clock.now());
        let timeout = dispatcher.poll_timeout(clock.now());
        let sleep = async {
            match timeout {
                Some(t) => tokio::time::sleep(t.min(MAX_SLEEP)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            () = wake.notified() => {}
            () = sleep => {}
        }
    }
}

/// Reads a UDP channel until stopped: on Linux a batch of datagrams per system call
/// (`recvmmsg`), elsewhere one.
async fn read_udp(name: Arc<str>, socket: Arc<UdpSocket>, s: TaskContext) {
    let mut reader = UdpReader::new();
    loop {
        let received = tokio::select! {
            biased;
            () = s.stop.cancelled() => break,
            r = reader.recv(&socket) => r,
        };
        match received {
            Ok(n) => {
                let now = s.clock.now();
                for (bytes, peer) in reader.datagrams(n, &name) {
                    let ctx = Context::new(now).with_channel(name.clone()).with_peer(peer);
                    // Decode errors are logged and counted by the dispatcher.
                    if let Err(DispatchError::ShutDown) =
                        s.dispatcher.dispatch_bytes(bytes, ctx, now)
                    {
                        return;
                    }
                }
            }
            // An ICMP error for an earlier send, or a transient failure: keep reading,
            // pausing a moment so that an error that persists cannot spin a thread.
            Err(e) => {
                log::debug!("osc4rs-tokio: {name}: receive: {e}");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
}

/// The receive side of a UDP channel: a `recvmmsg` batch on Linux.
#[cfg(target_os = "linux")]
struct UdpReader(crate::udp::RecvBatch);

#[cfg(target_os = "linux")]
impl UdpReader {
    fn new() -> Self {
        UdpReader(crate::udp::RecvBatch::new(UDP_BATCH))
    }

    async fn recv(&mut self, socket: &UdpSocket) -> std::io::Result<usize> {
        crate::udp::recv_raw_batch(socket, &mut self.0).await
    }

    /// The first `n` datagrams received, with their senders; a datagram cut to fit
    /// its slot is logged and skipped.
    fn datagrams<'a>(
        &'a self,
        n: usize,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a [u8], SocketAddr)> + 'a {
        (0..n).filter_map(move |i| {
            let d = self.0.datagram(i)?;
            let peer = d.peer?;
            if d.truncated {
                log::warn!("osc4rs-tokio: {name}: a datagram from {peer} was cut; skipped");
                return None;
            }
            Some((d.data, peer))
        })
    }
}

/// The receive side of a UDP channel: one datagram per call.
#[cfg(not(target_os = "linux"))]
struct UdpReader {
    buf: Vec<u8>,
    peer: Option<SocketAddr>,
}

#[cfg(not(target_os = "linux"))]
impl UdpReader {
    fn new() -> Self {
        UdpReader {
            buf: vec![0u8; crate::MAX_DATAGRAM],
            peer: None,
        }
    }

    async fn recv(&mut self, socket: &UdpSocket) -> std::io::Result<usize> {
        let (n, peer) = socket.recv_from(&mut self.buf).await?;
        self.peer = Some(peer);
        Ok(n)
    }

    fn datagrams<'a>(
        &'a self,
        n: usize,
        _name: &'a str,
    ) -> impl Iterator<Item = (&'a [u8], SocketAddr)> + 'a {
        self.peer
            .map(|p| (self.buf.get(..n).unwrap_or_default(), p))
            .into_iter()
    }
}

/// Datagrams per `recvmmsg` of a server's UDP channel (2 MiB of buffers).
#[cfg(target_os = "linux")]
const UDP_BATCH: usize = 32;

async fn accept_tcp(
    name: Arc<str>,
    listener: TcpListener,
    framing: StreamFraming,
    max_packet: usize,
    s: TaskContext,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = s.stop.cancelled() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            r = listener.accept() => match r {
                Ok((stream, peer)) => match s.limits.admit(peer.ip()) {
                    Ok(slot) => {
                        let codec = OscCodec::with_limit(framing, max_packet)
                            .with_options(s.dispatcher.config().codec.clone());
                        conns.spawn(connection(name.clone(), stream, peer, codec, s.clone(), slot));
                    }
                    Err(why) => {
                        log::warn!("osc4rs-tokio: {name}: {peer} refused: {why}");
                        drop(stream);
                    }
                },
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept.
                    log::warn!("osc4rs-tokio: {name}: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

async fn connection(
    name: Arc<str>,
    stream: TcpStream,
    peer: SocketAddr,
    codec: OscCodec,
    s: TaskContext,
    _slot: Slot,
) {
    let (tx, mut rx) = mpsc::channel(s.reply_queue);
    s.replier.add_stream(name.clone(), peer, tx);
    let mut framed = Framed::new(stream, codec);
    let mut writable = true;
    let mut timer = ConnTimer::new(&s.limits, tokio::time::Instant::now());
    let stopped = loop {
        let wake = timer.next_check();
        tokio::select! {
            biased;
            () = s.stop.cancelled() => break true,
            out = rx.recv() => match out {
                Some(p) => if let Err(e) = send_packet(&mut framed, p).await {
                    log::warn!("osc4rs-tokio: {name}: {peer}: write: {e}; closing");
                    writable = false;
                    break false;
                },
                None => break true,
            },
            item = next_item(&mut framed) => match item {
                None => break false,
                Some(Ok(Ok(packet))) => {
                    timer.packet(tokio::time::Instant::now());
                    let now = s.clock.now();
                    let ctx = Context::new(now).with_channel(name.clone()).with_peer(peer);
                    if let Err(DispatchError::ShutDown) = s.dispatcher.dispatch_packet(packet, ctx, now) {
                        break true;
                    }
                }
                Some(Ok(Err(e))) => log::warn!("osc4rs-tokio: {name}: {peer}: {e}; skipped"),
                Some(Err(e)) => {
                    log::warn!("osc4rs-tokio: {name}: {peer}: {e}; closing");
                    break false;
                }
            },
            () = sleep_until(wake) => {
                // Part of a frame waits in the codec's deframer or in Framed's buffer.
                let partial = framed.codec().buffered() > 0 || !framed.read_buffer().is_empty();
                if let Some(why) = timer.expired(tokio::time::Instant::now(), partial) {
                    log::warn!("osc4rs-tokio: {name}: {peer}: {why}; closing");
                    break false;
                }
            }
        }
    };
    if !stopped {
        // The peer left or broke the stream: no more replies are accepted.
        s.replier.remove_stream(&name, peer);
        rx.close();
    }
    // Write what is queued (on shutdown, until the server drops the routes).
    while writable {
        match rx.recv().await {
            Some(p) => writable = send_packet(&mut framed, p).await.is_ok(),
            None => break,
        }
    }
    log::debug!("osc4rs-tokio: {name}: {peer}: closed");
}

/// Sleeps until `at`, or forever.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A connection's deadlines: its first packet, its idleness, and a frame that
/// started and stalls (seen by sampling the read buffer, a quarter of the frame
/// timeout apart).
#[derive(Debug)]
struct ConnTimer {
    first_packet: Option<Duration>,
    idle: Option<Duration>,
    frame: Option<Duration>,
    started: tokio::time::Instant,
    last_packet: Option<tokio::time::Instant>,
    partial_since: Option<tokio::time::Instant>,
}

impl ConnTimer {
    fn new(limits: &ConnLimits, now: tokio::time::Instant) -> Self {
        ConnTimer {
            first_packet: limits.first_packet,
            idle: limits.idle,
            frame: limits.frame,
            started: now,
            last_packet: None,
            partial_since: None,
        }
    }

    fn packet(&mut self, now: tokio::time::Instant) {
        self.last_packet = Some(now);
        self.partial_since = None;
    }

    /// When to look again (`None`: no rule applies). A deadline beyond what an
    /// `Instant` can hold (a `Duration::MAX` timeout) is "never".
    fn next_check(&self) -> Option<tokio::time::Instant> {
        let first = match self.last_packet {
            None => self.first_packet.and_then(|t| self.started.checked_add(t)),
            Some(_) => None,
        };
        let idle = self
            .idle
            .and_then(|t| self.last_packet.unwrap_or(self.started).checked_add(t));
        // A started frame's deadline, or the next look at the buffers.
        let frame = self.frame.and_then(|t| match self.partial_since {
            Some(since) => since.checked_add(t),
            None => tokio::time::Instant::now().checked_add((t / 4).max(Duration::from_millis(10))),
        });
        [first, idle, frame].into_iter().flatten().min()
    }

    /// Why the connection must close now, if it must; `partial` says whether part
    /// of a frame waits in the read buffer.
    fn expired(&mut self, now: tokio::time::Instant, partial: bool) -> Option<&'static str> {
        if self.last_packet.is_none() && passed(now, self.started, self.first_packet) {
            return Some("no packet within the first-packet timeout");
        }
        if passed(now, self.last_packet.unwrap_or(self.started), self.idle) {
            return Some("idle timeout");
        }
        if !partial {
            self.partial_since = None;
            return None;
        }
        let since = *self.partial_since.get_or_insert(now);
        if passed(now, since, self.frame) {
            return Some("a frame stalled (frame timeout)");
        }
        None
    }
}

/// Whether `now` is at or past `since + limit` (never when there is no limit or the
/// sum is beyond what an `Instant` can hold: `Duration::MAX` means "never").
fn passed(now: tokio::time::Instant, since: tokio::time::Instant, limit: Option<Duration>) -> bool {
    limit
        .and_then(|t| since.checked_add(t))
        .is_some_and(|deadline| now >= deadline)
}

/// The two `Framed` calls the server needs, through the `Stream` and `Sink` traits
/// (futures-core and futures-sink, already in tokio-util's tree) instead of
/// futures-util's extension traits.
mod framed_io {
    use std::future::poll_fn;
    use std::pin::Pin;

    use futures_core::Stream;
    use futures_sink::Sink;
    use osc_codec::Packet;
    use tokio::net::TcpStream;
    use tokio_util::codec::Framed;

    use crate::{Error, Frame, OscCodec};

    type Conn = Framed<TcpStream, OscCodec>;

    pub(super) async fn next_item(framed: &mut Conn) -> Option<Result<Frame, Error>> {
        poll_fn(|cx| Pin::new(&mut *framed).poll_next(cx)).await
    }

    pub(super) async fn send_packet(framed: &mut Conn, packet: Packet) -> Result<(), Error> {
        poll_fn(|cx| <Conn as Sink<Packet>>::poll_ready(Pin::new(&mut *framed), cx)).await?;
        Pin::new(&mut *framed).start_send(packet)?;
        poll_fn(|cx| <Conn as Sink<Packet>>::poll_flush(Pin::new(&mut *framed), cx)).await
    }
}
