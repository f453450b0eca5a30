//! The public API: named channels, methods, send, process, terminate. What happens
//! where is the driver's business (`driver/`); this file does not look at the mode.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use osc_channel::{
    ChannelId, ChannelSpec, ChannelStats, StatsSnapshot, TcpClientConfig, TcpServerConfig,
    UdpConfig, UdpWriter,
};
use osc_codec::{Packet, TimeTag};
use osc_dispatch::{Handler, MethodHandle, MethodOptions};
use parking_lot::RwLock;

use crate::driver::Driver;
use crate::hooks::{self, ChannelHooks};
use crate::state::Engine;
use crate::stats::{Counters, RuntimeStats};
use crate::target::{ALL, LOCAL};
use crate::{Config, Mode, OscError, Result, Target};

#[derive(Debug, Clone)]
struct ChannelInfo {
    id: ChannelId,
    writes: bool,
    /// Thread modes, UDP channels with a destination: writes from the sending thread
    /// instead of waking an I/O thread.
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
    /// What the driver's threads share with this one.
    engine: Arc<Engine>,
    driver: Driver,
    /// The channels opened by name (a TCP server's connections are the reactor's).
    channels: RwLock<HashMap<String, ChannelInfo>>,
    terminated: AtomicBool,
}

impl std::fmt::Debug for Osc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Osc")
            .field("mode", &self.engine.config.mode)
            .field("channels", &self.channels.read().keys().collect::<Vec<_>>())
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
            engine,
            driver,
            channels: RwLock::new(HashMap::new()),
            terminated: AtomicBool::new(false),
        })
    }

    /// The scheduling mode.
    pub fn mode(&self) -> Mode {
        self.engine.config.mode
    }

    /// The dispatcher: its statistics, the fallback handler for unmatched messages,
    /// filters written as regular expressions, and more.
    pub fn dispatcher(&self) -> &osc_dispatch::Dispatcher {
        self.engine.core.dispatcher()
    }

    /// A copy of the runtime's own counters.
    pub fn stats(&self) -> RuntimeStats {
        self.engine.counters.snapshot()
    }

    fn check_alive(&self) -> Result<()> {
        if self.terminated.load(Ordering::Acquire) {
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
            ChannelSpec::TcpServer(_) | ChannelSpec::TcpClient(_) => true,
        };
        let opened = self.driver.open(name, spec)?;
        self.channels.write().insert(
            name.to_owned(),
            ChannelInfo {
                id: opened.id,
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

    /// Sets (or with `None` removes) a channel's encode and decode hooks, until the
    /// channel is closed. A TCP server's hooks apply to its connections too.
    pub fn set_hooks(&self, name: &str, hooks: Option<ChannelHooks>) {
        self.engine.hooks.set(name, hooks);
    }

    /// Closes a channel by name (`Terminated` once the runtime is).
    pub fn close(&self, name: &str) -> Result<()> {
        self.check_alive()?;
        let info = self
            .channels
            .write()
            .remove(name)
            .ok_or_else(|| OscError::UnknownTarget(name.to_owned()))?;
        self.engine.hooks.remove(name);
        self.driver.close(info.id)
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
        let channels = self.channels.read();
        channels.get(name)?.stats.as_ref().map(|s| s.snapshot())
    }

    /// The local address of a channel (useful after binding port 0); `None` for an
    /// unknown name and once the runtime is terminated.
    pub fn local_addr(&self, name: &str) -> Option<SocketAddr> {
        self.check_alive().ok()?;
        let id = self.channels.read().get(name)?.id;
        self.driver.local_addr(id)
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
        self.engine.core.register(address, handler.into(), options)
    }

    /// Removes a method.
    pub fn remove_method(&self, id: MethodHandle) -> bool {
        self.engine.core.unregister(id)
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
            let b = encode_shared(&packet, &self.engine.config.codec)?;
            bytes = Some(Arc::clone(&b));
            Ok(b)
        };
        let mut ids = Vec::new();
        let mut named = Vec::new();
        let mut local = false;
        {
            let names = self.channels.read();
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
        let mut outbox = self.driver.outbox(&self.engine.counters);
        for (id, name, writer) in ids {
            let data = self.hooked(&name, &packet, encoded()?)?;
            log::trace!("send on {name}: {packet}");
            outbox.send(id, writer.as_deref(), data)?;
        }
        for name in named {
            let data = self.hooked(&name, &packet, encoded()?)?;
            log::trace!("send on {name}: {packet}");
            outbox.send_named(&name, data)?;
        }
        outbox.finish();
        if local {
            self.engine.core.dispatch_local(packet, TimeTag::now());
        }
        Ok(())
    }

    /// The bytes for one channel: the shared encoding, or what its encode hook makes.
    fn hooked(&self, name: &str, packet: &Packet, data: Arc<[u8]>) -> Result<Arc<[u8]>> {
        let Some(hook) = self.engine.hooks.get(name).and_then(|h| h.encode.clone()) else {
            return Ok(data);
        };
        match hooks::run_encode(&hook, name, packet, data.to_vec()) {
            Some(bytes) => Ok(Arc::from(bytes)),
            None => {
                Counters::bump(&self.engine.counters.send_errors);
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
        self.driver.process(&self.engine, max_wait)
    }

    // ------------------------------------------------------------------ terminate

    /// Flushes queued sends (within the configured time), closes every channel, joins
    /// every thread and drops future bundles (counted; never waited for). Idempotent;
    /// `Drop` does it too.
    pub fn terminate(&self) -> Result<()> {
        if self.terminated.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.driver.terminate(&self.engine);
        self.engine.core.shutdown();
        log::debug!("osc4rs runtime terminated");
        Ok(())
    }
}

impl Drop for Osc {
    fn drop(&mut self) {
        let _ = self.terminate();
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
}
