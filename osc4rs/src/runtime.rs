//! The public API: named channels, methods, send, process, terminate. What happens
//! where is the driver's business (`driver/`); this file does not look at the mode.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use osc_channel::{
    ChannelError, ChannelId, ChannelSpec, ChannelStats, StatsSnapshot, TcpClientConfig,
    TcpServerConfig, UdpConfig, UdpWriter,
};
use osc_codec::{Packet, TimeTag};
use osc_dispatch::{Context, IntoHandler, MethodHandle, MethodOptions};
use parking_lot::{Mutex, RwLock};

use crate::driver::Driver;
use crate::hooks::{self, ChannelHooks};
use crate::kind::ChannelKind;
use crate::state::Engine;
use crate::stats::{Counters, RuntimeStats};
use crate::target::{ALL, LOCAL, Target};
use crate::{Config, IntoTarget, Mode, OscError, Result};

#[derive(Debug, Clone)]
struct ChannelInfo {
    id: ChannelId,
    /// The channel's name, shared: a send to `_all` holds it for each channel without
    /// copying it.
    name: Arc<str>,
    kind: ChannelKind,
    writes: bool,
    /// Thread modes, UDP channels with a destination: writes from the sending thread
    /// instead of waking an I/O thread.
    writer: Option<Arc<UdpWriter>>,
    stats: Option<Arc<ChannelStats>>,
}

/// The open channel a [`Sender`](crate::Sender) writes to.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    id: ChannelId,
    name: Arc<str>,
    /// The channel's UDP writer, if it has one (see [`ChannelInfo::writer`]).
    writer: Option<Arc<UdpWriter>>,
}

impl Bound {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
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
    inner: Arc<Runtime>,
    /// Whether dropping this value terminates the runtime: true for the `Osc` that
    /// `start` made, false for the ones an [`OscHandle`] lends.
    owner: bool,
}

/// The channels opened by name.
type ChannelNames = HashMap<String, ChannelInfo, foldhash::fast::RandomState>;

/// The runtime itself, shared by the owning [`Osc`] and the [`OscHandle`]s.
struct Runtime {
    /// What the driver's threads share with this one.
    engine: Arc<Engine>,
    driver: Driver,
    /// The channels opened by name (a TCP server's connections are the reactor's).
    /// Every send looks its target up here; the names are the application's, so the
    /// hash is foldhash's, not SipHash's (a third of the lookup's cost).
    channels: RwLock<ChannelNames>,
    terminated: AtomicBool,
    /// What [`Osc::on_terminate`] asked to run at termination.
    at_exit: Mutex<Vec<Box<dyn FnOnce() + Send>>>,
}

impl std::fmt::Debug for Osc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Osc")
            .field("mode", &self.inner.engine.config.mode)
            .field(
                "channels",
                &self.inner.channels.read().keys().collect::<Vec<_>>(),
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
    pub(crate) fn start(config: Config) -> Result<Osc> {
        let mode = config.mode;
        let engine = Arc::new(Engine::new(config)?);
        let driver = Driver::start(&engine)?;
        log::debug!("osc4rs runtime started in {mode:?} mode");
        Ok(Osc {
            inner: Arc::new(Runtime {
                engine,
                driver,
                channels: RwLock::new(ChannelNames::default()),
                at_exit: Mutex::new(Vec::new()),
                terminated: AtomicBool::new(false),
            }),
            owner: true,
        })
    }

    /// The scheduling mode.
    pub fn mode(&self) -> Mode {
        self.inner.engine.config.mode
    }

    /// The dispatcher: its statistics, the fallback handler for unmatched messages,
    /// filters written as regular expressions, and more.
    pub fn dispatcher(&self) -> &osc_dispatch::Dispatcher {
        self.inner.engine.core.dispatcher()
    }

    /// A copy of the runtime's own counters.
    pub fn stats(&self) -> RuntimeStats {
        self.inner.engine.counters.snapshot()
    }

    fn check_alive(&self) -> Result<()> {
        if self.inner.terminated.load(Ordering::Acquire) {
            Err(OscError::Terminated)
        } else {
            Ok(())
        }
    }

    // ------------------------------------------------------------------ channels

    /// Opens a channel of any kind, with full options and event callbacks.
    pub fn channel(&self, name: &str, spec: ChannelSpec) -> Result<()> {
        self.check_alive()?;
        let writes = match &spec {
            ChannelSpec::Udp(c) => c.dest.is_some(),
            ChannelSpec::UnixDatagram(c) => c.dest.is_some(),
            _ => true,
        };
        let kind = ChannelKind::of(&spec);
        let opened = self.inner.driver.open(name, spec)?;
        if let Some(stats) = &opened.stats {
            self.inner.engine.watch(stats);
        }
        self.inner.channels.write().insert(
            name.to_owned(),
            ChannelInfo {
                id: opened.id,
                name: Arc::from(name),
                kind,
                writes,
                writer: opened.writer,
                stats: opened.stats,
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

    /// A WebSocket server on `addr`: browsers and osc.js send one OSC packet per binary
    /// message. Each connection is a channel `NAME/PEER` (answer it with
    /// [`reply`](Osc::reply) or by that name), with the TCP server's limits.
    ///
    /// ```
    /// use osc4rs::{Message, Osc};
    /// let osc = Osc::builder().start()?;
    /// osc.ws_server("web", "127.0.0.1:0")?;
    /// let addr = osc.local_addr("web").unwrap();
    /// osc.ws_client("page", addr, "/")?;
    /// osc.send(Message::new("/from/page"), "page")?; // sent once the handshake is done
    /// # osc.terminate()?;
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    pub fn ws_server(&self, name: &str, addr: impl IntoAddr) -> Result<()> {
        let mut cfg = TcpServerConfig::new(addr.into_addr()?);
        cfg.framing = osc_channel::StreamFraming::WebSocket;
        self.channel(name, ChannelSpec::TcpServer(cfg))
    }

    /// A WebSocket client of the server at `addr`, requesting `path` in its handshake.
    pub fn ws_client(&self, name: &str, addr: impl IntoAddr, path: &str) -> Result<()> {
        let mut cfg = TcpClientConfig::new(addr.into_addr()?);
        cfg.framing = osc_channel::StreamFraming::WebSocket;
        cfg.ws_path = path.to_owned();
        self.channel(name, ChannelSpec::TcpClient(cfg))
    }

    /// A Unix domain stream socket server at `path` (framing detected per connection;
    /// connections are channels `NAME/1`, `NAME/2`, ...). The socket file is created with
    /// mode 0o660 and removed on close; a stale file from a dead process is replaced.
    ///
    /// ```
    /// use osc4rs::{Message, Osc};
    /// let dir = std::env::temp_dir().join(format!("osc4rs-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("in.sock");
    /// let osc = Osc::builder().start()?;
    /// osc.unix_server("in", &path)?;
    /// osc.unix_client("out", &path)?;
    /// osc.send(Message::new("/over/unix"), "out")?;
    /// # osc.terminate()?; std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unix_server(&self, name: &str, path: impl AsRef<std::path::Path>) -> Result<()> {
        let mut cfg = osc_channel::UnixServerConfig::new(path.as_ref());
        cfg.framing = osc_channel::StreamFraming::Auto;
        self.channel(name, ChannelSpec::UnixServer(cfg))
    }

    /// A Unix domain stream socket client of the server at `path` (length prefix).
    pub fn unix_client(&self, name: &str, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.channel(
            name,
            ChannelSpec::UnixClient(osc_channel::UnixClientConfig::new(path.as_ref())),
        )
    }

    /// A serial device at `baud` (115200 for most boards): OSC 1.1 SLIP frames both
    /// ways, the device opened exclusively and reopened with a backoff when it goes
    /// away and comes back (a USB cable pulled). Handlers reply to the board with
    /// [`reply`](Self::reply) or by sending to `name`. For
    /// other settings, pass an [`osc_channel::SerialConfig`] to
    /// [`channel`](Self::channel).
    ///
    /// ```
    /// use osc4rs::{Message, Osc};
    /// use std::io::Read;
    /// // A pseudo-terminal pair stands in for a board on a USB cable.
    /// let (mut board, tty) = serialport::TTYPort::pair()?;
    /// let device = serialport::SerialPort::name(&tty).unwrap();
    /// let osc = Osc::builder().start()?;
    /// osc.serial("board", &device, 115_200)?;
    /// osc.send(Message::new("/led").arg(1), "board")?;
    /// let mut frame = [0u8; 18]; // END, 16 bytes of packet, END
    /// board.read_exact(&mut frame)?;
    /// assert_eq!((frame[0], &frame[1..5], frame[17]), (0xC0, &b"/led"[..], 0xC0));
    /// # osc.terminate()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serial(&self, name: &str, device: impl AsRef<std::path::Path>, baud: u32) -> Result<()> {
        let mut cfg = osc_channel::SerialConfig::new(device.as_ref());
        cfg.baud = baud;
        self.channel(name, ChannelSpec::Serial(cfg))
    }

    /// A channel from an endpoint URL (`osc.udp://host:port`, `osc.tcp://`,
    /// `osc.slip://`, `ws://`, `osc.unix:///path`, `osc.unix+stream:///path`,
    /// `serial:///dev/ttyACM0?baud=115200`; see
    /// [`osc_channel::Endpoint`]): the server side of it (`listen`) or the client side.
    ///
    /// ```
    /// use osc4rs::Osc;
    /// let osc = Osc::builder().start()?;
    /// osc.endpoint("in", "osc.udp://127.0.0.1:0", true)?;
    /// let port = osc.local_addr("in").unwrap().port();
    /// osc.endpoint("out", &format!("osc.udp://127.0.0.1:{port}"), false)?;
    /// assert!(osc.endpoint("bad", "osc.udp://127.0.0.1", false).is_err());
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    pub fn endpoint(&self, name: &str, url: &str, listen: bool) -> Result<()> {
        let endpoint: osc_channel::Endpoint =
            url.parse().map_err(osc_channel::ChannelError::from)?;
        let spec = if listen {
            endpoint.server_spec()?
        } else {
            endpoint.client_spec()?
        };
        self.channel(name, spec)
    }

    /// Sets (or with `None` removes) a channel's encode and decode hooks, until the
    /// channel is closed. A TCP server's hooks apply to its connections too.
    pub fn set_hooks(&self, name: &str, hooks: Option<ChannelHooks>) {
        self.inner.engine.hooks.set(name, hooks);
    }

    /// Closes a channel by name (`Terminated` once the runtime is).
    pub fn close(&self, name: &str) -> Result<()> {
        self.check_alive()?;
        let info = self
            .inner
            .channels
            .write()
            .remove(name)
            .ok_or_else(|| OscError::UnknownTarget(name.to_owned()))?;
        self.inner.engine.hooks.remove(name);
        if let Some(stats) = &info.stats {
            self.inner.engine.unwatch(stats);
        }
        self.inner.driver.close(info.id)
    }

    /// A channel's counters: packets and bytes in and out, and drops by reason (a TCP,
    /// WebSocket or Unix stream server's include everything its connections received,
    /// sent and dropped, and sends to connections that had gone). `None` for an
    /// unknown name. Drops are also told once on standard error when no logger is
    /// installed (see `Config::notices`).
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
        let channels = self.inner.channels.read();
        channels.get(name)?.stats.as_ref().map(|s| s.snapshot())
    }

    /// The channels opened (and not closed), in the order they were opened, with
    /// their kinds.
    ///
    /// ```
    /// use osc4rs::{ChannelKind, Osc};
    /// let osc = Osc::builder().start()?;
    /// osc.udp_server("in", "127.0.0.1:0")?;
    /// osc.udp_client("out", osc.local_addr("in").unwrap())?;
    /// assert_eq!(osc.channels(), [("in".to_owned(), ChannelKind::UdpServer), ("out".to_owned(), ChannelKind::UdpClient)]);
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    #[must_use]
    pub fn channels(&self) -> Vec<(String, ChannelKind)> {
        let channels = self.inner.channels.read();
        let mut all: Vec<(ChannelId, String, ChannelKind)> = channels
            .iter()
            .map(|(name, c)| (c.id, name.clone(), c.kind))
            .collect();
        all.sort_by_key(|(id, _, _)| *id);
        all.into_iter()
            .map(|(_, name, kind)| (name, kind))
            .collect()
    }

    /// The local address of a channel (useful after binding port 0); `None` for an
    /// unknown name and once the runtime is terminated.
    pub fn local_addr(&self, name: &str) -> Option<SocketAddr> {
        self.check_alive().ok()?;
        let id = self.inner.channels.read().get(name)?.id;
        self.inner.driver.local_addr(id)
    }

    // ------------------------------------------------------------------ methods

    /// Registers a handler for messages whose address matches `address`. A literal
    /// address is matched by incoming patterns (OSC dispatch); an address with pattern
    /// characters is a registered filter that selects the literal addresses it matches.
    /// The handler can be a closure over `&Message`, over `&Message` and `&Context`, or any
    /// [`Handler`](crate::Handler) (see [`IntoHandler`](crate::IntoHandler)).
    pub fn method<Form>(
        &self,
        address: &str,
        handler: impl osc_dispatch::ThreadSafe + IntoHandler<Form>,
    ) -> Result<MethodHandle> {
        self.method_with(address, handler, MethodOptions::default())
    }

    /// Registers a handler with options (a lock to hold, the executor).
    pub fn method_with<Form>(
        &self,
        address: &str,
        handler: impl osc_dispatch::ThreadSafe + IntoHandler<Form>,
        options: MethodOptions,
    ) -> Result<MethodHandle> {
        self.check_alive()?;
        self.inner
            .engine
            .core
            .register(address, handler.into_handler(), options)
    }

    /// Removes a method.
    pub fn remove_method(&self, id: MethodHandle) -> bool {
        self.inner.engine.core.unregister(id)
    }

    /// A handle for handlers: clonable, and it does not keep the runtime alive (see
    /// [`OscHandle`]).
    pub fn handle(&self) -> OscHandle {
        OscHandle {
            inner: Arc::downgrade(&self.inner),
        }
    }

    // ------------------------------------------------------------------ send

    /// Sends on one channel to a given peer: a UDP server or peer channel replies from
    /// its own socket (so a client that `connect()`ed its socket to the server's address
    /// sees the reply), a TCP server sends on its connection to that peer. For a TCP
    /// connection channel (`SERVER/PEER`) or a client, `peer` changes nothing.
    ///
    /// ```
    /// use osc4rs::{Message, Osc};
    /// let osc = Osc::builder().start()?;
    /// osc.udp_server("in", "127.0.0.1:0")?;
    /// let asker = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// osc.send_to(Message::new("/hello"), "in", asker.local_addr()?)?;
    /// let mut buf = [0u8; 32];
    /// let (n, from) = asker.recv_from(&mut buf)?;
    /// assert_eq!((n, from), (12, osc.local_addr("in").unwrap()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_to(
        &self,
        packet: impl Into<Packet>,
        channel: &str,
        peer: SocketAddr,
    ) -> Result<()> {
        self.check_alive()?;
        let packet = packet.into();
        check_addresses(&packet)?;
        if channel == LOCAL || channel == ALL {
            return Err(OscError::UnknownTarget(format!(
                "{channel} (send_to needs one channel)"
            )));
        }
        let found = self
            .inner
            .channels
            .read()
            .get(channel)
            .map(|c| (c.id, c.writer.clone()));
        let data = self.hooked(
            channel,
            &packet,
            encode_shared(&packet, &self.inner.engine.config.codec)?,
        )?;
        log::trace!("send on {channel} to {peer}: {packet}");
        let mut outbox = self.inner.driver.outbox(&self.inner.engine.counters);
        let sent = match found {
            Some((id, writer)) => outbox.send_to(id, writer.as_deref(), data, Some(peer)),
            None if channel.contains('/') => outbox.send_named(channel, data),
            None => Err(OscError::UnknownTarget(channel.to_owned())),
        };
        outbox.finish();
        sent
    }

    /// Answers the packet a handler is running for, to whoever sent it, on the channel
    /// it came in on ([`send_to`](Self::send_to) with the context's channel and peer):
    /// from a UDP server's own socket, on the TCP, WebSocket or Unix stream connection
    /// it arrived on, or from a Unix datagram server's socket to the sender's path
    /// ([`send_to_path`](Self::send_to_path)). A `_local` packet has no one to answer:
    /// [`OscError::UnknownTarget`].
    pub fn reply(&self, ctx: &Context, packet: impl Into<Packet>) -> Result<()> {
        let channel = ctx
            .channel
            .as_deref()
            .filter(|c| *c != LOCAL)
            .ok_or_else(|| OscError::UnknownTarget("no channel to reply on".into()))?;
        match (ctx.peer, &ctx.peer_path) {
            (Some(peer), _) => self.send_to(packet, channel, peer),
            (None, Some(path)) => self.send_to_path(packet, channel, path),
            (None, None) => self.send(packet, channel),
        }
    }

    /// Sends on a Unix datagram channel (`osc.unix://`) to the socket bound at `path`:
    /// how a Unix datagram server answers (the sender's path is the context's
    /// `peer_path`; [`reply`](Self::reply) uses it).
    ///
    /// ```
    /// use osc4rs::{Message, Osc};
    /// let dir = std::env::temp_dir().join(format!("osc4rs-doc-send-to-path-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let osc = Osc::builder().start()?;
    /// osc.endpoint("in", &format!("osc.unix://{}", dir.join("server.sock").display()), true)?;
    /// let asker = std::os::unix::net::UnixDatagram::bind(dir.join("asker.sock"))?;
    /// osc.send_to_path(Message::new("/hello"), "in", &dir.join("asker.sock"))?;
    /// let mut buf = [0u8; 32];
    /// assert_eq!(asker.recv(&mut buf)?, 12);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_to_path(
        &self,
        packet: impl Into<Packet>,
        channel: &str,
        path: &std::path::Path,
    ) -> Result<()> {
        self.check_alive()?;
        let packet = packet.into();
        check_addresses(&packet)?;
        let id = self
            .inner
            .channels
            .read()
            .get(channel)
            .map(|c| c.id)
            .ok_or_else(|| OscError::UnknownTarget(channel.to_owned()))?;
        let data = self.hooked(
            channel,
            &packet,
            encode_shared(&packet, &self.inner.engine.config.codec)?,
        )?;
        log::trace!("send on {channel} to {}: {packet}", path.display());
        let mut outbox = self.inner.driver.outbox(&self.inner.engine.counters);
        let sent = outbox.send_to_path(id, data, path);
        outbox.finish();
        sent
    }

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
    pub fn send(&self, packet: impl Into<Packet>, target: impl IntoTarget) -> Result<()> {
        let packet = packet.into();
        check_addresses(&packet)?;
        self.send_checked(packet, target)
    }

    /// [`send`](Self::send) without the address check: osc4py3's `osc_send`, whose
    /// own examples send `/test/me/` (osc4rs receivers offer it to osc4py3-style
    /// filters only).
    pub(crate) fn send_unchecked(&self, packet: Packet, target: impl IntoTarget) -> Result<()> {
        self.send_checked(packet, target)
    }

    fn send_checked(&self, packet: Packet, target: impl IntoTarget) -> Result<()> {
        self.check_alive()?;
        if let Some(name) = target.as_name() {
            if let Some(sent) = self.send_direct(&packet, name) {
                return sent;
            }
        }
        target.with_target(|target| self.send_to_target(packet, target))
    }

    /// [`send`](Self::send) to a target that is not one UDP channel written at once:
    /// a group, `_all`, `_local`, another kind of channel, a hook, or a socket that
    /// would block. The packet is encoded once (when some channel needs the bytes) and
    /// the shared bytes go to every channel named, each once.
    fn send_to_target(&self, packet: Packet, target: &Target) -> Result<()> {
        let mut bytes: Option<Arc<[u8]>> = None;
        let mut encoded = || -> Result<Arc<[u8]>> {
            if let Some(b) = &bytes {
                return Ok(Arc::clone(b));
            }
            let b = encode_shared(&packet, &self.inner.engine.config.codec)?;
            bytes = Some(Arc::clone(&b));
            Ok(b)
        };
        let mut named: Vec<&str> = Vec::new();
        let mut named_seen = std::collections::HashSet::new();
        let mut local = false;
        let mut unknown = None;
        let mut ids;
        {
            let names = self.inner.channels.read();
            // Sized once: `_all` may name every channel, other names one each.
            let mut room = 0;
            target.for_each_name(&mut |name| room += if name == ALL { names.len() } else { 1 });
            ids = Vec::with_capacity(room);
            target.for_each_name(&mut |name| match name {
                LOCAL => local = true,
                ALL => ids.extend(names.iter().filter(|(_, c)| c.writes).map(|(_, c)| {
                    (
                        c.id,
                        SendName::Shared(Arc::clone(&c.name)),
                        c.writer.clone(),
                    )
                })),
                other => match names.get(other) {
                    Some(c) => ids.push((c.id, SendName::Lent(other), c.writer.clone())),
                    // A TCP connection channel (SERVER/PEER) lives in the reactor only.
                    None if other.contains('/') => {
                        if named_seen.insert(other) {
                            named.push(other);
                        }
                    }
                    None => {
                        unknown.get_or_insert(other);
                    }
                },
            });
        }
        if let Some(other) = unknown {
            return Err(OscError::UnknownTarget(other.to_owned()));
        }
        // Each channel once, however often the target names it.
        ids.sort_unstable_by_key(|(id, ..)| *id);
        ids.dedup_by_key(|(id, ..)| *id);
        let mut outbox = self.inner.driver.outbox(&self.inner.engine.counters);
        for (id, name, writer) in ids {
            let name = name.as_str();
            let data = self.hooked(name, &packet, encoded()?)?;
            log::trace!("send on {name}: {packet}");
            outbox.send(id, writer.as_deref(), data)?;
        }
        for name in named {
            let data = self.hooked(name, &packet, encoded()?)?;
            log::trace!("send on {name}: {packet}");
            outbox.send_named(name, data)?;
        }
        outbox.finish();
        if local {
            self.inner
                .engine
                .core
                .dispatch_local(packet, TimeTag::now());
        }
        Ok(())
    }

    /// A send to one UDP channel that the calling thread may write itself (the event
    /// loop's reactor when no other thread holds it, the thread modes'
    /// [`osc_channel::UdpWriter`]) and that has no encode hook: the packet is encoded
    /// into this thread's scratch buffer and written at once, so the bytes are not
    /// copied into a shared buffer and nothing is allocated. `None` when the general
    /// path must send it: another kind of target or channel, a hook, or a socket that
    /// would block or has packets waiting (they keep their order in the queue).
    fn send_direct(&self, packet: &Packet, name: &str) -> Option<Result<()>> {
        if name == LOCAL || name == ALL || self.has_encode_hook(name) {
            return None;
        }
        // The writer is used in place, under the shared lock (only opening and closing
        // channels take it exclusively), instead of cloning its `Arc` per send.
        let channels = self.inner.channels.read();
        let c = channels.get(name)?;
        self.write_now(packet, c.id, c.writer.as_deref(), name)
    }

    fn has_encode_hook(&self, name: &str) -> bool {
        self.inner
            .engine
            .hooks
            .get(name)
            .is_some_and(|h| h.encode.is_some())
    }

    /// Encodes `packet` into this thread's scratch buffer and writes it on channel `id`
    /// at once: through its UDP `writer`, or through the event loop's reactor when no
    /// other thread holds it. `None` when it must be queued instead (the general path).
    fn write_now(
        &self,
        packet: &Packet,
        id: ChannelId,
        writer: Option<&UdpWriter>,
        name: &str,
    ) -> Option<Result<()>> {
        let counters = &self.inner.engine.counters;
        let driver = &self.inner.driver;
        let written = with_encoded(packet, &self.inner.engine.config.codec, |bytes| {
            let now = match writer {
                Some(w) => Some(w.try_send(bytes, None)),
                None => driver.try_send_now(id, bytes),
            };
            now.map(|r| counters.send_result(r))
        });
        match written {
            Ok(Some(Ok(true))) => {
                log::trace!("send on {name}: {packet}");
                Some(Ok(()))
            }
            Ok(Some(Ok(false)) | None) => None,
            Ok(Some(Err(e))) | Err(e) => Some(Err(e)),
        }
    }

    /// The channel named `name`, for a [`Sender`](crate::Sender) to write to.
    pub(crate) fn bind(&self, name: &str) -> Result<Bound> {
        self.check_alive()?;
        let channels = self.inner.channels.read();
        let c = channels
            .get(name)
            .ok_or_else(|| OscError::UnknownTarget(name.to_owned()))?;
        Ok(Bound {
            id: c.id,
            name: Arc::clone(&c.name),
            writer: c.writer.clone(),
        })
    }

    /// [`send`](Self::send) to the channel `to` names, while it is open: the send by
    /// name without looking the name up. Once it is closed, `UnknownTarget`, even when
    /// a channel of the same name was opened since.
    pub(crate) fn send_bound(&self, packet: Packet, to: &Bound) -> Result<()> {
        check_addresses(&packet)?;
        self.check_alive()?;
        if !self.has_encode_hook(&to.name) {
            match self.write_now(&packet, to.id, to.writer.as_deref(), &to.name) {
                Some(Err(OscError::Channel(ChannelError::UnknownChannel(_)))) => {
                    return Err(OscError::UnknownTarget(to.name.to_string()));
                }
                Some(sent) => return sent,
                None => {}
            }
        }
        let open = self
            .inner
            .channels
            .read()
            .get(&*to.name)
            .is_some_and(|c| c.id == to.id);
        if !open {
            return Err(OscError::UnknownTarget(to.name.to_string()));
        }
        (&*to.name).with_target(|target| self.send_to_target(packet, target))
    }

    /// The bytes for one channel: the shared encoding, or what its encode hook makes.
    fn hooked(&self, name: &str, packet: &Packet, data: Arc<[u8]>) -> Result<Arc<[u8]>> {
        let Some(hook) = self
            .inner
            .engine
            .hooks
            .get(name)
            .and_then(|h| h.encode.clone())
        else {
            return Ok(data);
        };
        match hooks::run_encode(&hook, name, packet, data.to_vec()) {
            Some(bytes) => Ok(Arc::from(bytes)),
            None => {
                Counters::bump(&self.inner.engine.counters.send_errors);
                Err(OscError::HookPanicked(name.to_owned()))
            }
        }
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
        self.inner.driver.process(&self.inner.engine, max_wait)
    }

    // ------------------------------------------------------------------ terminate

    /// Flushes queued sends (within the configured time), closes every channel, joins
    /// every thread and drops future bundles (counted; never waited for). Idempotent;
    /// `Drop` does it too.
    pub fn terminate(&self) -> Result<()> {
        if self.inner.terminated.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.inner.driver.terminate(&self.inner.engine);
        self.inner.engine.core.shutdown();
        self.inner.engine.notice_now();
        let at_exit = std::mem::take(&mut *self.inner.at_exit.lock());
        for f in at_exit {
            f();
        }
        log::debug!("osc4rs runtime terminated");
        Ok(())
    }

    /// Runs `f` once when the runtime terminates (by [`terminate`](Self::terminate)
    /// or by dropping its owner), after its channels are closed: what an extension
    /// that lives beside the runtime (an advertisement on the network, say) uses to
    /// go with it. Runs at once if the runtime has terminated already.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// let osc = osc4rs::Osc::builder().start()?;
    /// let gone = Arc::new(AtomicBool::new(false));
    /// let flag = Arc::clone(&gone);
    /// osc.on_terminate(move || flag.store(true, Ordering::Relaxed));
    /// osc.terminate()?;
    /// assert!(gone.load(Ordering::Relaxed));
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    pub fn on_terminate(&self, f: impl FnOnce() + Send + 'static) {
        let mut at_exit = self.inner.at_exit.lock();
        if self.inner.terminated.load(Ordering::Acquire) {
            drop(at_exit);
            f();
        } else {
            at_exit.push(Box::new(f));
        }
    }
}

impl Drop for Osc {
    fn drop(&mut self) {
        if self.owner {
            let _ = self.terminate();
        }
    }
}

/// A cheap, clonable handle to a runtime that does not keep it alive: what a handler
/// captures to send, reply, open or close channels (an `Arc<Osc>` captured in a
/// handler would keep the runtime alive through its own method table). Obtained with
/// [`Osc::handle`].
///
/// ```
/// use osc4rs::{Context, Handler, Message, Osc};
/// use std::time::Duration;
///
/// let osc = Osc::builder().start()?;
/// osc.udp_server("in", "127.0.0.1:0")?;
/// let h = osc.handle();
/// // A `/status` request is answered to whoever asked, from the server's own socket.
/// osc.method("/status", Handler::with_context(move |_m: &Message, ctx: &Context| {
///     let _ = h.reply(ctx, Message::new("/status.reply").arg("ok"));
/// }))?;
///
/// let client = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// client.connect(osc.local_addr("in").unwrap())?; // sees replies from that address only
/// client.send(&osc4rs::codec::encode_packet(&Message::new("/status").into())?)?;
/// client.set_read_timeout(Some(Duration::from_millis(20)))?;
/// let mut buf = [0u8; 64];
/// let n = loop {
///     osc.process_timeout(Duration::from_millis(20))?;
///     if let Ok(n) = client.recv(&mut buf) {
///         break n;
///     }
/// };
/// assert_eq!(Message::decode(&buf[..n])?.address, "/status.reply");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct OscHandle {
    inner: std::sync::Weak<Runtime>,
}

impl std::fmt::Debug for OscHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OscHandle")
            .field("alive", &(self.inner.strong_count() > 0))
            .finish()
    }
}

impl OscHandle {
    /// The runtime, while it exists: an [`Osc`] to call anything on, which does not
    /// terminate the runtime when dropped. `None` once the owner is gone.
    pub fn get(&self) -> Option<Osc> {
        self.inner.upgrade().map(|inner| Osc {
            inner,
            owner: false,
        })
    }

    /// [`Osc::send`] through the handle; [`OscError::Terminated`] once the runtime is
    /// gone.
    pub fn send(&self, packet: impl Into<Packet>, target: impl IntoTarget) -> Result<()> {
        self.get().ok_or(OscError::Terminated)?.send(packet, target)
    }

    /// [`Osc::send_to`] through the handle.
    pub fn send_to(
        &self,
        packet: impl Into<Packet>,
        channel: &str,
        peer: SocketAddr,
    ) -> Result<()> {
        self.get()
            .ok_or(OscError::Terminated)?
            .send_to(packet, channel, peer)
    }

    /// [`Osc::send_to_path`] through the handle.
    pub fn send_to_path(
        &self,
        packet: impl Into<Packet>,
        channel: &str,
        path: &std::path::Path,
    ) -> Result<()> {
        self.get()
            .ok_or(OscError::Terminated)?
            .send_to_path(packet, channel, path)
    }

    /// [`Osc::reply`] through the handle.
    pub fn reply(&self, ctx: &Context, packet: impl Into<Packet>) -> Result<()> {
        self.get().ok_or(OscError::Terminated)?.reply(ctx, packet)
    }
}

/// A channel's name as a send to several channels holds it: lent from the target, or
/// the channel's own shared name (`_all`), so no name is copied per destination.
enum SendName<'a> {
    Lent(&'a str),
    Shared(Arc<str>),
}

impl SendName<'_> {
    fn as_str(&self) -> &str {
        match self {
            SendName::Lent(name) => name,
            SendName::Shared(name) => name,
        }
    }
}

/// Refuses a packet whose receivers would refuse it: every message's address must be a
/// literal address or a valid pattern (`/a/` with its trailing `/` is neither, and a
/// receiving dispatcher drops it). A literal address costs one scan of its bytes; a
/// message, the usual packet, is checked inline.
#[inline]
fn check_addresses(packet: &Packet) -> Result<()> {
    match packet {
        Packet::Message(m) if osc_pattern::is_literal_address(&m.address) => Ok(()),
        Packet::Message(m) => check_pattern(&m.address),
        Packet::Bundle(b) => b.content.iter().try_for_each(check_addresses),
    }
}

/// [`check_addresses`] for an address that is not literal: it must be a valid pattern.
fn check_pattern(address: &str) -> Result<()> {
    osc_pattern::Pattern::new(address)?;
    Ok(())
}

/// The largest packet [`with_encoded`] encodes into its thread's scratch buffer (the
/// largest UDP payload); larger ones are encoded into a buffer of their own.
const SCRATCH_LIMIT: usize = 65_507;

thread_local! {
    /// Each thread's buffer for [`with_encoded`]: it grows to the largest packet the
    /// thread sent, at most [`SCRATCH_LIMIT`] bytes.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `f` with the encoding of `packet`, written into the calling thread's scratch
/// buffer (a buffer of its own when the packet is larger, or when `f` sends again from
/// inside, as an encode hook could).
fn with_encoded<R>(
    packet: &Packet,
    opts: &osc_codec::Options,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R> {
    // The closure gives `f` back when the scratch buffer cannot be used.
    let scratch = SCRATCH.with(move |cell| {
        let Ok(mut buf) = cell.try_borrow_mut() else {
            return Err(f);
        };
        match encode_growing(packet, opts, &mut buf) {
            Some(n) => Ok(f(buf.get(..n).unwrap_or_default())),
            None => Err(f),
        }
    });
    match scratch {
        Ok(r) => Ok(r),
        // Too large for the scratch buffer, or an error that this encode reports.
        Err(f) => Ok(f(&packet.to_bytes_with(opts)?)),
    }
}

/// The size a scratch buffer starts at: a typical MTU, so that most packets encode at
/// the first try.
const SCRATCH_START: usize = 1_536;

/// Encodes `packet` at the front of `buf`, growing it (up to [`SCRATCH_LIMIT`]) when the
/// packet does not fit; `None` when it cannot be encoded there. Encoding straight away
/// instead of measuring first saves a walk over the arguments: the measure is only
/// taken when the buffer is too small, and the encoder's error gives it.
fn encode_growing(packet: &Packet, opts: &osc_codec::Options, buf: &mut Vec<u8>) -> Option<usize> {
    if buf.is_empty() {
        buf.resize(SCRATCH_START, 0);
    }
    match packet.encode_into_with(buf, opts) {
        Ok(n) => Some(n),
        Err(osc_codec::Error::BufferTooSmall { needed, .. }) if needed <= SCRATCH_LIMIT => {
            buf.resize(needed, 0);
            packet.encode_into_with(buf, opts).ok()
        }
        Err(_) => None,
    }
}

/// Encodes a packet once, straight into the buffer every destination shares: one
/// allocation and no copy (`Arc::from(Vec)` would allocate twice and copy). The
/// zero-filled buffer comes from an exact-size iterator, which `Arc` allocates once.
fn encode_shared(packet: &Packet, opts: &osc_codec::Options) -> Result<Arc<[u8]>> {
    let len = packet.encoded_len()?;
    let mut data: Arc<[u8]> = std::iter::repeat_n(0u8, len).collect();
    if let Some(buf) = Arc::get_mut(&mut data) {
        if packet.encode_into_with(buf, opts).ok() == Some(len) {
            return Ok(data);
        }
    }
    // Options that change the size: encode the usual way.
    Ok(Arc::from(packet.to_bytes_with(opts)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use osc_codec::{Bundle, Message};

    #[test]
    fn shared_encoding_is_the_packets_bytes() -> Result<()> {
        let packets = [
            Packet::from(Message::new("/a").arg(1).arg("x").arg(2.5f32)),
            Packet::from(Bundle::immediate().add(Message::new("/b").arg(vec![1u8, 2, 3]))),
            Packet::from(Message::new("/c").arg('A')),
        ];
        for p in &packets {
            for opts in [osc_codec::Options::DEFAULT, osc_codec::Options::OSC4PY3] {
                assert_eq!(&encode_shared(p, &opts)?[..], &p.to_bytes_with(&opts)?[..]);
            }
        }
        Ok(())
    }

    #[test]
    fn the_scratch_buffer_grows_to_the_packet_and_no_further_than_a_datagram() -> Result<()> {
        let mut buf = Vec::new();
        let small = Packet::from(Message::new("/a").arg(1));
        let big = Packet::from(Message::new("/b").arg(vec![7u8; 5_000]));
        let huge = Packet::from(Message::new("/c").arg(vec![7u8; SCRATCH_LIMIT]));
        for p in [&small, &big, &small] {
            let n = encode_growing(p, &osc_codec::Options::DEFAULT, &mut buf);
            assert_eq!(n.and_then(|n| buf.get(..n)), Some(&p.to_bytes()?[..]));
        }
        assert_eq!(buf.len(), big.encoded_len()?);
        assert_eq!(
            encode_growing(&huge, &osc_codec::Options::DEFAULT, &mut buf),
            None
        );
        assert!(buf.len() <= SCRATCH_LIMIT);
        // A packet that cannot be encoded: `None`, and the general path says why.
        let bad = Packet::from(Message::new("/d").arg("nul\0inside"));
        assert_eq!(
            encode_growing(&bad, &osc_codec::Options::DEFAULT, &mut buf),
            None
        );
        let mut seen = None;
        let err = with_encoded(&bad, &osc_codec::Options::DEFAULT, |b| seen = Some(b.len()));
        assert!(err.is_err() && seen.is_none(), "{err:?}");
        Ok(())
    }
}
