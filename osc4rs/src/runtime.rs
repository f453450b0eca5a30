//! The runtime: named channels, methods, send, process, terminate.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use osc_channel::{
    ChannelId, ChannelSpec, ChannelStats, Reactor, ReactorHandle, StatsSnapshot, TcpClientConfig,
    TcpServerConfig, UdpConfig, UdpWriter,
};
use osc_codec::{Packet, TimeTag};
use osc_dispatch::{Context, Handler, MethodHandle, MethodOptions};
use parking_lot::{Mutex, MutexGuard, RwLock};

use crate::core::Core;
use crate::hooks::{self, ChannelHooks};
use crate::io::{ChannelCache, Deliver, Sink};
use crate::relay::{Relay, join_within};
use crate::stats::{Counters, RuntimeStats};
use crate::target::{ALL, LOCAL};
use crate::{Config, Mode, OscBuilder, OscError, Result, Target};

thread_local! {
    /// The packets one `process()` call dispatches (kept for its capacity).
    static BATCH: Cell<Vec<Incoming>> = const { Cell::new(Vec::new()) };
}

/// A decoded packet waiting for `process()` (comthreads mode).
pub(crate) type Incoming = (Packet, Context);

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) core: Core,
    names: RwLock<HashMap<String, ChannelInfo>>,
    hooks: RwLock<HashMap<String, Arc<ChannelHooks>>>,
    /// Bumped when hooks change, so the receive path refreshes its cache.
    pub(crate) hooks_generation: AtomicU64,
    handle: ReactorHandle,
    /// The reactor itself in eventloop mode (in the I/O thread otherwise).
    reactor: Mutex<Option<Reactor>>,
    /// The receive path's per-channel cache in eventloop mode.
    sink_cache: Mutex<ChannelCache>,
    /// The reactor in the thread modes, passed between the threads that read (see
    /// `relay.rs`).
    relay: Option<Relay>,
    /// Comthreads: packets the I/O thread decoded, waiting for `process()`.
    pub(crate) incoming: Option<(Sender<Incoming>, Receiver<Incoming>)>,
    pub(crate) stop: AtomicBool,
    terminated: AtomicBool,
    pub(crate) stats: Counters,
}

/// Most packets one `process()` call reads: it reads until nothing is pending, but a
/// flood must not keep it busy forever.
const PROCESS_MAX_PACKETS: usize = 8192;

/// Dispatches what a pass collected (the reactor released, so handlers may call the
/// runtime); returns the number of packets. Each packet is scheduled against its
/// arrival time (no clock read here): a bundle due since then is held for a moment and
/// runs in the caller's `run_due`.
pub(crate) fn dispatch_batch(s: &Shared, batch: &mut Vec<Incoming>) -> usize {
    let n = batch.len();
    for (packet, ctx) in batch.drain(..) {
        let arrival = ctx.arrival;
        s.core.dispatch(packet, ctx, arrival);
    }
    n
}

impl Shared {
    /// The event loop's pass: waits up to `wait`, then reads until nothing is pending
    /// (at most [`PROCESS_MAX_PACKETS`]), collecting into `batch`.
    fn event_loop_pass(&self, wait: Duration, batch: &mut Vec<Incoming>) -> Result<()> {
        let mut guard = self.reactor.lock();
        let Some(reactor) = guard.as_mut() else {
            return Err(OscError::Terminated);
        };
        let mut cache = self.sink_cache.lock();
        let mut sink = Sink::new(self, &mut cache, Deliver::Collect(batch));
        read_pending(reactor, wait, &mut sink)
    }

    /// The event loop's reactor for a call from outside `process()`: if another thread
    /// waits in `process_timeout`, its pass is woken (again, until it lets go), so the
    /// call does not wait for that timeout (`None` in the thread modes).
    fn reactor_now(&self) -> MutexGuard<'_, Option<Reactor>> {
        if let Some(guard) = self.reactor.try_lock() {
            return guard;
        }
        loop {
            self.handle.wake();
            if let Some(guard) = self.reactor.try_lock_for(Duration::from_millis(1)) {
                return guard;
            }
        }
    }

    pub(crate) fn handle(&self) -> &ReactorHandle {
        &self.handle
    }

    /// The handle, for a call that waits for the reactor's answer: in the thread modes a
    /// standing-by I/O thread is woken to give it.
    fn answering_handle(&self) -> &ReactorHandle {
        if let Some(relay) = &self.relay {
            relay.nudge();
        }
        &self.handle
    }

    /// Comthreads: moves what the I/O thread queued into `batch` (at most a queue's
    /// worth, so a flood cannot keep one call busy forever).
    pub(crate) fn take_queued(&self, batch: &mut Vec<Incoming>) {
        if let Some((_, rx)) = &self.incoming {
            batch.extend(rx.try_iter().take(self.config.incoming_queue.max(1)));
        }
    }

    /// The hooks of a channel, or of its TCP server for a connection `SERVER/PEER`.
    pub(crate) fn hooks_for(&self, name: &str) -> Option<Arc<ChannelHooks>> {
        let hooks = self.hooks.read();
        if hooks.is_empty() {
            return None;
        }
        hooks
            .get(name)
            .or_else(|| {
                name.rsplit_once('/')
                    .and_then(|(server, _)| hooks.get(server))
            })
            .cloned()
    }
}

#[derive(Debug, Clone)]
struct ChannelInfo {
    id: ChannelId,
    writes: bool,
    /// Thread modes, UDP channels with a destination: writes from the sending thread
    /// instead of waking the I/O thread.
    writer: Option<Arc<UdpWriter>>,
    stats: Option<Arc<ChannelStats>>,
}

/// An OSC runtime: open named channels, register methods, send, and (in the event-loop
/// and comthreads modes) call [`process`](Osc::process) regularly.
///
/// ```
/// use osc4rs::{Message, Mode, Osc};
/// use std::sync::{Arc, atomic::{AtomicI32, Ordering}};
///
/// let osc = Osc::builder().mode(Mode::EventLoop).start()?;
/// osc.udp_server("in", "127.0.0.1:0")?;
/// let port = osc.local_addr("in").unwrap().port();
/// osc.udp_client("out", ("127.0.0.1", port))?;
///
/// let got = Arc::new(AtomicI32::new(0));
/// let g = Arc::clone(&got);
/// osc.method("/synth/*/freq", move |m: &Message| {
///     g.store(m.args[0].as_i32().unwrap_or(-1), Ordering::SeqCst);
/// })?;
/// osc.send(Message::new("/synth/1/freq").arg(440), "out")?;
/// while got.load(Ordering::SeqCst) == 0 {
///     osc.process_timeout(std::time::Duration::from_millis(10))?;
/// }
/// assert_eq!(got.load(Ordering::SeqCst), 440);
/// osc.terminate()?;
/// # Ok::<(), osc4rs::OscError>(())
/// ```
pub struct Osc {
    shared: Arc<Shared>,
    io_threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Osc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Osc")
            .field("mode", &self.shared.config.mode)
            .field(
                "channels",
                &self.shared.names.read().keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Something that names a socket address: `"host:port"`, `("host", port)`, a
/// `SocketAddr`.
pub trait IntoAddr {
    /// Resolves to one address.
    fn into_addr(self) -> Result<SocketAddr>;
}

impl IntoAddr for SocketAddr {
    fn into_addr(self) -> Result<SocketAddr> {
        Ok(self)
    }
}

impl IntoAddr for &str {
    fn into_addr(self) -> Result<SocketAddr> {
        resolve_any(self)
    }
}

impl IntoAddr for String {
    fn into_addr(self) -> Result<SocketAddr> {
        resolve_any(&self)
    }
}

impl IntoAddr for (&str, u16) {
    fn into_addr(self) -> Result<SocketAddr> {
        let host = if self.0.is_empty() || self.0 == "*" {
            "0.0.0.0"
        } else {
            self.0
        };
        resolve_any((host, self.1))
    }
}

fn resolve_any(a: impl ToSocketAddrs + std::fmt::Debug) -> Result<SocketAddr> {
    let text = format!("{a:?}");
    a.to_socket_addrs()
        .map_err(|e| OscError::Address(text.clone(), e.to_string()))?
        .next()
        .ok_or_else(|| OscError::Address(text, "no address".into()))
}

impl Osc {
    /// A builder with the defaults (event-loop mode).
    pub fn builder() -> OscBuilder {
        OscBuilder::default()
    }

    pub(crate) fn start(config: Config) -> Result<Osc> {
        let reactor = Reactor::with_options(config.reactor)?;
        let handle = reactor.handle();
        let core = Core::new(&config)?;
        let mode = config.mode;
        let incoming = (mode == Mode::CommThreads)
            .then(|| crossbeam_channel::bounded(config.incoming_queue.max(1)));
        let (reactor, relay) = match mode {
            Mode::EventLoop => (Some(reactor), None),
            Mode::CommThreads | Mode::AllThreads => (None, Some(Relay::new(reactor))),
        };
        let shared = Arc::new(Shared {
            config,
            core,
            names: RwLock::new(HashMap::new()),
            hooks: RwLock::new(HashMap::new()),
            hooks_generation: AtomicU64::new(0),
            handle,
            reactor: Mutex::new(reactor),
            sink_cache: Mutex::new(ChannelCache::default()),
            relay,
            incoming,
            stop: AtomicBool::new(false),
            terminated: AtomicBool::new(false),
            stats: Counters::default(),
        });
        if mode == Mode::AllThreads {
            // A newly held bundle may be due before the I/O thread's timeout.
            let h = shared.handle.clone();
            shared.core.set_waker(move || h.wake());
        }
        let io_threads = start_io_threads(&shared)?;
        log::debug!("osc4rs runtime started in {mode:?} mode");
        Ok(Osc {
            shared,
            io_threads: Mutex::new(io_threads),
        })
    }

    /// The scheduling mode.
    pub fn mode(&self) -> Mode {
        self.shared.config.mode
    }

    /// The dispatcher: its statistics, the fallback handler for unmatched messages,
    /// filters written as regular expressions, and more.
    pub fn dispatcher(&self) -> &osc_dispatch::Dispatcher {
        self.shared.core.dispatcher()
    }

    /// A copy of the runtime's own counters.
    pub fn stats(&self) -> RuntimeStats {
        self.shared.stats.snapshot()
    }

    fn check_alive(&self) -> Result<()> {
        if self.shared.terminated.load(Ordering::Acquire) {
            Err(OscError::Terminated)
        } else {
            Ok(())
        }
    }

    // ------------------------------------------------------------------ channels

    /// Opens a channel of any kind, with full options and event callbacks.
    pub fn channel(&self, name: &str, spec: ChannelSpec) -> Result<()> {
        self.check_alive()?;
        let (writes, udp) = match &spec {
            ChannelSpec::Udp(c) => (c.dest.is_some(), true),
            ChannelSpec::TcpServer(_) | ChannelSpec::TcpClient(_) => (true, false),
        };
        let (id, writer, stats) = match self.shared.reactor_now().as_mut() {
            // The event loop writes directly already.
            Some(reactor) => {
                let id = reactor.open(name, spec)?;
                (id, None, reactor.stats(id))
            }
            None => {
                let handle = self.shared.answering_handle();
                let id = handle.open(name, spec)?;
                let stats = handle.stats(id).ok().flatten();
                // The writer only saves a wake-up: without one, sends use the queue,
                // and the channel (already open in the reactor) stays usable.
                let writer = if udp && writes {
                    self.shared
                        .answering_handle()
                        .udp_writer(id)
                        .unwrap_or_else(|e| {
                            log::debug!("channel {name}: no UDP writer ({e}), sends are queued");
                            None
                        })
                        .map(Arc::new)
                } else {
                    None
                };
                (id, writer, stats)
            }
        };
        self.shared.names.write().insert(
            name.to_owned(),
            ChannelInfo {
                id,
                writes,
                writer,
                stats,
            },
        );
        Ok(())
    }

    /// A UDP server reading datagrams on `addr` (osc4py3 `osc_udp_server`).
    pub fn udp_server(&self, name: &str, addr: impl IntoAddr) -> Result<()> {
        self.channel(name, ChannelSpec::Udp(UdpConfig::server(addr.into_addr()?)))
    }

    /// A UDP client sending to `addr` (osc4py3 `osc_udp_client`).
    pub fn udp_client(&self, name: &str, addr: impl IntoAddr) -> Result<()> {
        self.channel(name, ChannelSpec::Udp(UdpConfig::client(addr.into_addr()?)))
    }

    /// A UDP server receiving broadcasts on `addr` (osc4py3 `osc_broadcast_server`).
    pub fn broadcast_server(&self, name: &str, addr: impl IntoAddr) -> Result<()> {
        self.channel(
            name,
            ChannelSpec::Udp(UdpConfig::broadcast_server(addr.into_addr()?)),
        )
    }

    /// A UDP client sending broadcasts to `addr` (osc4py3 `osc_broadcast_client`).
    pub fn broadcast_client(&self, name: &str, addr: impl IntoAddr) -> Result<()> {
        self.channel(
            name,
            ChannelSpec::Udp(UdpConfig::broadcast_client(addr.into_addr()?)),
        )
    }

    /// A server joined to the multicast group `group:port` (osc4py3 `osc_multicast_server`).
    pub fn multicast_server(&self, name: &str, group: impl IntoAddr) -> Result<()> {
        self.channel(
            name,
            ChannelSpec::Udp(UdpConfig::multicast_server(group.into_addr()?)),
        )
    }

    /// A client sending to the multicast group `group:port` (osc4py3 `osc_multicast_client`).
    pub fn multicast_client(&self, name: &str, group: impl IntoAddr) -> Result<()> {
        self.channel(
            name,
            ChannelSpec::Udp(UdpConfig::multicast_client(group.into_addr()?)),
        )
    }

    /// A TCP server on `addr`, detecting each connection's framing (length prefix or
    /// SLIP). Connections become channels named `NAME/PEER`.
    pub fn tcp_server(&self, name: &str, addr: impl IntoAddr) -> Result<()> {
        let mut cfg = TcpServerConfig::new(addr.into_addr()?);
        cfg.framing = osc_channel::StreamFraming::Auto;
        self.channel(name, ChannelSpec::TcpServer(cfg))
    }

    /// A TCP client of `addr` with OSC 1.0 length-prefix framing (use
    /// [`channel`](Osc::channel) for SLIP or reconnection).
    pub fn tcp_client(&self, name: &str, addr: impl IntoAddr) -> Result<()> {
        self.channel(
            name,
            ChannelSpec::TcpClient(TcpClientConfig::new(addr.into_addr()?)),
        )
    }

    /// Sets (or with `None` removes) a channel's encode and decode hooks, until the
    /// channel is closed. A TCP server's hooks apply to its connections too.
    pub fn set_hooks(&self, name: &str, hooks: Option<ChannelHooks>) {
        let mut map = self.shared.hooks.write();
        match hooks {
            Some(h) => map.insert(name.to_owned(), Arc::new(h)),
            None => map.remove(name),
        };
        self.shared.hooks_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Closes a channel by name (`Terminated` once the runtime is).
    pub fn close(&self, name: &str) -> Result<()> {
        self.check_alive()?;
        let info = self
            .shared
            .names
            .write()
            .remove(name)
            .ok_or_else(|| OscError::UnknownTarget(name.to_owned()))?;
        if self.shared.hooks.write().remove(name).is_some() {
            self.shared.hooks_generation.fetch_add(1, Ordering::AcqRel);
        }
        match self.shared.reactor_now().as_mut() {
            Some(reactor) => reactor.close(info.id)?,
            None => self.shared.answering_handle().close(info.id)?,
        }
        Ok(())
    }

    /// A channel's counters: packets and bytes in and out, and drops by reason (a TCP
    /// server's include sends to its connections that had gone). `None` for an
    /// unknown name.
    ///
    /// ```
    /// use osc4rs::{Message, Osc};
    ///
    /// let osc = Osc::builder().start()?;
    /// osc.udp_server("in", "127.0.0.1:0")?;
    /// osc.udp_client("out", osc.local_addr("in").unwrap())?;
    /// osc.send(Message::new("/a"), "out")?;
    /// assert_eq!(osc.channel_stats("out").unwrap().packets_out, 1);
    /// # osc.terminate()?;
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    pub fn channel_stats(&self, name: &str) -> Option<StatsSnapshot> {
        let names = self.shared.names.read();
        names.get(name)?.stats.as_ref().map(|s| s.snapshot())
    }

    /// The local address of a channel (useful after binding port 0); `None` for an
    /// unknown name and once the runtime is terminated.
    pub fn local_addr(&self, name: &str) -> Option<SocketAddr> {
        self.check_alive().ok()?;
        let id = self.shared.names.read().get(name)?.id;
        match self.shared.reactor_now().as_ref() {
            Some(r) => r.local_addr(id),
            None => self.shared.answering_handle().local_addr(id).ok().flatten(),
        }
    }

    // ------------------------------------------------------------------ methods

    /// Registers a handler for messages whose address matches `address`. A literal
    /// address is matched by incoming patterns (OSC dispatch); an address with pattern
    /// characters is a registered filter that selects the literal addresses it matches.
    /// The handler can be a closure over `&Message` or any [`Handler`].
    pub fn method(&self, address: &str, handler: impl Into<Handler>) -> Result<MethodHandle> {
        self.method_with(address, handler, MethodOptions::default())
    }

    /// Registers a handler with options (a lock to hold, the executor).
    pub fn method_with(
        &self,
        address: &str,
        handler: impl Into<Handler>,
        options: MethodOptions,
    ) -> Result<MethodHandle> {
        self.check_alive()?;
        self.shared.core.register(address, handler.into(), options)
    }

    /// Removes a method.
    pub fn remove_method(&self, id: MethodHandle) -> bool {
        self.shared.core.unregister(id)
    }

    // ------------------------------------------------------------------ send

    /// Sends a message or bundle to a target: a channel name, a group of names (nested
    /// to any depth), `_local` (dispatch here without encoding) or `_all` (every channel
    /// that writes). The packet is encoded once whatever the number of targets.
    ///
    /// Never lost silently: an unknown name, an encoding error or a full queue is an
    /// error value; a failure found later in the I/O thread is logged and counted in the
    /// channel's stats.
    ///
    /// The event loop writes at once, from handlers too. In the thread modes UDP
    /// channels are written from the calling thread as well (an
    /// [`osc_channel::UdpWriter`]), falling back to the I/O thread's queue when the
    /// socket would block or earlier packets wait; TCP goes through the I/O thread.
    pub fn send(&self, packet: impl Into<Packet>, target: impl Into<Target>) -> Result<()> {
        self.check_alive()?;
        let packet = packet.into();
        let target = target.into();
        let mut bytes: Option<Arc<[u8]>> = None;
        let mut encoded = || -> Result<Arc<[u8]>> {
            if let Some(b) = &bytes {
                return Ok(Arc::clone(b));
            }
            let b: Arc<[u8]> = Arc::from(packet.to_bytes_with(&self.shared.config.codec)?);
            bytes = Some(Arc::clone(&b));
            Ok(b)
        };
        let mut ids = Vec::new();
        let mut named = Vec::new();
        let mut local = false;
        {
            let names = self.shared.names.read();
            for name in target.names() {
                match name {
                    LOCAL => local = true,
                    ALL => ids.extend(
                        names
                            .iter()
                            .filter(|(_, c)| c.writes)
                            .map(|(n, c)| (c.id, n.clone(), c.writer.clone())),
                    ),
                    other => match names.get(other) {
                        Some(c) => ids.push((c.id, other.to_owned(), c.writer.clone())),
                        // A TCP connection channel (SERVER/PEER) lives in the reactor only.
                        None if other.contains('/') => named.push(other.to_owned()),
                        None => return Err(OscError::UnknownTarget(other.to_owned())),
                    },
                }
            }
        }
        ids.sort_unstable_by_key(|(id, ..)| *id);
        ids.dedup_by_key(|(id, ..)| *id);
        // Event loop: write now, with errors returned here, unless another thread is in
        // `process()` (then queue and wake it).
        let event_loop = self.shared.config.mode == Mode::EventLoop;
        let mut direct = if event_loop {
            self.shared.reactor.try_lock()
        } else {
            None
        };
        // Whether a packet went to the reactor's queue (thread modes: someone must run
        // the reactor, and the I/O threads may all be standing by).
        let mut queued = false;
        for (id, name, writer) in ids {
            let data = self.hooked(&name, &packet, encoded()?)?;
            log::trace!("send on {name}: {packet}");
            if let Some(w) = writer {
                if !self.counted(w.try_send(&data, None))? {
                    self.counted(w.queue(&self.shared.handle, data, None))?;
                    queued = true;
                }
                continue;
            }
            match direct.as_mut().and_then(|g| g.as_mut()) {
                Some(reactor) => self.counted(reactor.send(id, data, None))?,
                None => {
                    self.queue(|h, data| h.send(id, data, None), data)?;
                    queued = true;
                }
            }
        }
        for name in named {
            let data = self.hooked(&name, &packet, encoded()?)?;
            log::trace!("send on {name}: {packet}");
            match direct.as_mut().and_then(|g| g.as_mut()) {
                Some(reactor) => match reactor.id_of(&name) {
                    Some(id) => self.counted(reactor.send(id, data, None))?,
                    None => return Err(OscError::UnknownTarget(name)),
                },
                None => {
                    self.queue(|h, data| h.send_named(&name, data, None), data)?;
                    queued = true;
                }
            }
        }
        drop(direct);
        if let (true, Some(relay)) = (queued, &self.shared.relay) {
            relay.nudge_if_idle();
        }
        if local {
            self.shared.core.dispatch_local(packet, TimeTag::now());
        }
        Ok(())
    }

    /// The bytes for one channel: the shared encoding, or what its encode hook makes.
    fn hooked(&self, name: &str, packet: &Packet, data: Arc<[u8]>) -> Result<Arc<[u8]>> {
        let Some(hook) = self.shared.hooks_for(name).and_then(|h| h.encode.clone()) else {
            return Ok(data);
        };
        match hooks::run_encode(&hook, name, packet, data.to_vec()) {
            Some(bytes) => Ok(Arc::from(bytes)),
            None => {
                Counters::bump(&self.shared.stats.send_errors);
                Err(OscError::HookPanicked(name.to_owned()))
            }
        }
    }

    /// Counts a failed send.
    fn counted<T>(&self, r: osc_channel::Result<T>) -> Result<T> {
        self.shared.stats.send_result(r)
    }

    fn queue(
        &self,
        f: impl FnOnce(&ReactorHandle, Arc<[u8]>) -> osc_channel::Result<()>,
        data: Arc<[u8]>,
    ) -> Result<()> {
        self.counted(f(&self.shared.handle, data))
    }

    // ------------------------------------------------------------------ process

    /// Does what is pending without waiting: in event-loop mode reads, writes, decodes
    /// and dispatches; in comthreads mode dispatches what the I/O thread decoded; in
    /// both runs the bundles that are due. Returns the number of packets handled. Cheap
    /// when idle. In allthreads mode it does nothing.
    pub fn process(&self) -> Result<usize> {
        self.process_timeout(Duration::ZERO)
    }

    /// Like [`process`](Osc::process), but waits up to `max_wait` for something to do
    /// (or until the next bundle is due), so an event loop can block instead of spinning.
    ///
    /// In comthreads mode a call that finds nothing decoded yet reads the sockets
    /// itself while it waits (the I/O thread stands by and takes over again when the
    /// application is away), which saves a thread hand-off per packet. Handlers run
    /// in this thread either way.
    pub fn process_timeout(&self, max_wait: Duration) -> Result<usize> {
        self.check_alive()?;
        let s = &self.shared;
        let wait = s.core.poll_timeout().map_or(max_wait, |d| d.min(max_wait));
        let handled = match s.config.mode {
            Mode::EventLoop => {
                let mut batch = BATCH.take();
                let passed = s.event_loop_pass(wait, &mut batch);
                let n = dispatch_batch(s, &mut batch);
                BATCH.set(batch);
                passed?;
                n
            }
            Mode::CommThreads => {
                let mut batch = BATCH.take();
                s.take_queued(&mut batch);
                let passed = match &s.relay {
                    Some(relay) if batch.is_empty() && !wait.is_zero() => {
                        relay.pass(s, wait, &mut batch)
                    }
                    _ => Ok(()),
                };
                let n = dispatch_batch(s, &mut batch);
                BATCH.set(batch);
                passed?;
                n
            }
            Mode::AllThreads => {
                if !max_wait.is_zero() {
                    std::thread::sleep(max_wait);
                }
                return Ok(0);
            }
        };
        Ok(handled + s.core.run_due())
    }

    // ------------------------------------------------------------------ terminate

    /// Flushes queued sends (within the configured time), closes every channel, joins
    /// every thread and drops future bundles (counted; never waited for). Idempotent;
    /// `Drop` does it too.
    pub fn terminate(&self) -> Result<()> {
        if self.shared.terminated.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let s = &self.shared;
        let flush = s.config.flush_timeout;
        let event_loop_reactor = s.reactor_now().take();
        if let Some(mut reactor) = event_loop_reactor {
            // What arrives meanwhile is dispatched after the flush, with the reactor
            // gone: handlers that call the runtime get `Terminated`, never a wait.
            let mut batch = Vec::new();
            let flushed = {
                let mut cache = s.sink_cache.lock();
                let mut sink = Sink::new(s, &mut cache, Deliver::Collect(&mut batch));
                reactor.flush(flush, |p| sink.packet(p)).unwrap_or(false)
            };
            drop(reactor);
            if !flushed {
                log::warn!("terminate: some queued packets could not be written within {flush:?}");
            }
            dispatch_batch(s, &mut batch);
        } else {
            match s.answering_handle().flush(flush) {
                Ok(true) => {}
                _ => log::warn!(
                    "terminate: some queued packets could not be written within {flush:?}"
                ),
            }
            s.stop.store(true, Ordering::Release);
            let _ = s.answering_handle().stop();
            s.handle.wake();
            let threads = std::mem::take(&mut *self.io_threads.lock());
            let detached = join_within(threads, JOIN_DEADLINE);
            if detached > 0 {
                log::warn!("terminate: {detached} I/O thread(s) still in a handler, detached");
            }
        }
        s.core.shutdown();
        log::debug!("osc4rs runtime terminated");
        Ok(())
    }
}

/// One reactor pass of up to `wait`, then passes that do not wait while the reactor
/// has more to read and `sink` has collected fewer than [`PROCESS_MAX_PACKETS`].
pub(crate) fn read_pending(
    reactor: &mut Reactor,
    wait: Duration,
    sink: &mut Sink<'_>,
) -> Result<()> {
    reactor.poll(Some(wait), |p| sink.packet(p))?;
    while reactor.has_more_to_read() && sink.collected() < PROCESS_MAX_PACKETS {
        reactor.poll(Some(Duration::ZERO), |p| sink.packet(p))?;
    }
    Ok(())
}

/// How long `terminate` waits for an I/O thread that runs a handler (allthreads).
const JOIN_DEADLINE: Duration = Duration::from_secs(1);

/// The thread modes' I/O threads: one in comthreads, two in allthreads (see
/// `relay.rs`); none in the event loop.
fn start_io_threads(shared: &Arc<Shared>) -> Result<Vec<JoinHandle<()>>> {
    let Some(relay) = &shared.relay else {
        return Ok(Vec::new());
    };
    let count = if shared.config.mode == Mode::AllThreads {
        2
    } else {
        1
    };
    let mut threads = Vec::with_capacity(count);
    for n in 0..count {
        let s = Arc::clone(shared);
        let name = if n == 0 {
            "osc4rs-io".to_owned()
        } else {
            format!("osc4rs-io-{n}")
        };
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            if let Some(relay) = &s.relay {
                relay.io_loop(&s);
            }
        });
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                shared.stop.store(true, Ordering::Release);
                shared.handle.wake();
                for t in threads {
                    t.thread().unpark();
                    let _ = t.join();
                }
                return Err(OscError::Thread(e));
            }
        }
    }
    relay.set_io_threads(threads.iter().map(|t| t.thread().clone()).collect());
    Ok(threads)
}

impl Drop for Osc {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}
