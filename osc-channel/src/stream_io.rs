//! A stream connection's socket (TCP, Unix or a serial device), driven by the reactor: reads fed to
//! its [`StreamMachine`], the bytes it hands out written; the listeners that accept
//! them and the clients' destinations.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::machine::{Deframed, StreamMachine};
use crate::unix_socket::SocketFile;
use crate::{
    ChannelEvent, SerialConfig, StreamFraming, StreamLimits, TcpClientConfig, UnixClientConfig,
};
use mio::unix::SourceFd;

/// What a Unix stream connection's [`StreamMachine`] is given as its peer: such
/// peers have no IP address (and are usually unnamed). It never leaves the crate:
/// [`StreamIo::peer`] says `None` for them.
pub(crate) const UNIX_PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// The source a connection counts under in its server's
/// [`Admission`](crate::machine::Admission): its IP address, or one shared key for
/// Unix connections (a Unix server has no per-source limit).
pub(crate) fn source(peer: Option<SocketAddr>) -> IpAddr {
    peer.map_or(UNIX_PEER.ip(), |p| p.ip())
}

/// A connected stream socket.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(mio::net::TcpStream),
    /// A Unix stream and the server's socket path (for events and logs).
    Unix(mio::net::UnixStream, Arc<Path>),
    /// A serial device, non-blocking, and its path.
    Serial(std::fs::File, Arc<Path>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s, _) => s.read(buf),
            Stream::Serial(f, _) => f.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s, _) => s.write(buf),
            Stream::Serial(f, _) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl mio::event::Source for Stream {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(registry, token, interests),
            Stream::Unix(s, _) => s.register(registry, token, interests),
            Stream::Serial(f, _) => SourceFd(&f.as_raw_fd()).register(registry, token, interests),
        }
    }
    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(registry, token, interests),
            Stream::Unix(s, _) => s.reregister(registry, token, interests),
            Stream::Serial(f, _) => SourceFd(&f.as_raw_fd()).reregister(registry, token, interests),
        }
    }
    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(registry),
            Stream::Unix(s, _) => s.deregister(registry),
            Stream::Serial(f, _) => SourceFd(&f.as_raw_fd()).deregister(registry),
        }
    }
}

impl Stream {
    /// The local IP address (TCP only).
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        match self {
            Stream::Tcp(s) => s.local_addr().ok(),
            Stream::Unix(..) | Stream::Serial(..) => None,
        }
    }

    /// Whether a non-blocking connect finished: `Ok(true)` connected, `Ok(false)`
    /// still under way, `Err` failed.
    pub(crate) fn connect_result(&self) -> io::Result<bool> {
        let (error, peer) = match self {
            Stream::Tcp(s) => (s.take_error(), s.peer_addr().map(drop)),
            Stream::Unix(s, _) => (s.take_error(), s.peer_addr().map(drop)),
            // A device is open as soon as `open` returns.
            Stream::Serial(..) => return Ok(true),
        };
        match (error?, peer) {
            (Some(e), _) => Err(e),
            (None, Ok(())) => Ok(true),
            (None, Err(e)) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            (None, Err(e)) => Err(e),
        }
    }
}

/// A listening socket: TCP, or Unix with the socket file it created.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(mio::net::TcpListener),
    Unix {
        listener: mio::net::UnixListener,
        file: SocketFile,
        /// The server's path, shared with its connections.
        path: Arc<Path>,
        /// Connections accepted so far (they are named `SERVER/N`).
        accepted: u64,
    },
}

impl Listener {
    /// Accepts one connection: the stream, its IP peer (TCP) and the name suffix of
    /// its channel (`PEER` for TCP, `N` for Unix).
    pub(crate) fn accept(&mut self) -> io::Result<(Stream, Option<SocketAddr>, String)> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept()?;
                Ok((Stream::Tcp(s), Some(peer), peer.to_string()))
            }
            Listener::Unix {
                listener,
                path,
                accepted,
                ..
            } => {
                let (s, _) = listener.accept()?;
                *accepted += 1;
                Ok((
                    Stream::Unix(s, Arc::clone(path)),
                    None,
                    accepted.to_string(),
                ))
            }
        }
    }

    /// The socket file's path (Unix only).
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Listener::Tcp(_) => None,
            Listener::Unix { file, .. } => Some(file.path()),
        }
    }
}

impl mio::event::Source for Listener {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.register(registry, token, interests),
            Listener::Unix { listener, .. } => listener.register(registry, token, interests),
        }
    }
    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.reregister(registry, token, interests),
            Listener::Unix { listener, .. } => listener.reregister(registry, token, interests),
        }
    }
    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l) => l.deregister(registry),
            Listener::Unix { listener, .. } => listener.deregister(registry),
        }
    }
}

/// What a stream client connects to.
#[derive(Debug)]
pub(crate) enum ClientCfg {
    Tcp(TcpClientConfig),
    Unix(UnixClientConfig),
    Serial(SerialConfig),
}

impl ClientCfg {
    pub(crate) fn framing(&self) -> StreamFraming {
        match self {
            ClientCfg::Tcp(c) => c.framing,
            ClientCfg::Unix(c) => c.framing,
            ClientCfg::Serial(_) => StreamFraming::Slip,
        }
    }

    pub(crate) fn limits(&self) -> StreamLimits {
        match self {
            ClientCfg::Tcp(c) => c.limits,
            ClientCfg::Unix(c) => c.limits,
            ClientCfg::Serial(c) => c.limits,
        }
    }

    /// The handshake URL of a WebSocket client.
    pub(crate) fn ws_url(&self) -> String {
        match self {
            ClientCfg::Tcp(c) => format!("ws://{}{}", c.dest, c.ws_path),
            ClientCfg::Unix(_) | ClientCfg::Serial(_) => "ws://localhost/".to_owned(),
        }
    }

    /// The destination, for logs.
    pub(crate) fn target(&self) -> String {
        match self {
            ClientCfg::Tcp(c) => c.dest.to_string(),
            ClientCfg::Unix(c) => c.path.display().to_string(),
            ClientCfg::Serial(c) => c.path.display().to_string(),
        }
    }

    /// Starts a non-blocking connection; the peer its machine is given.
    pub(crate) fn connect(&self) -> io::Result<(Stream, SocketAddr)> {
        match self {
            ClientCfg::Tcp(c) => Ok((Stream::Tcp(mio::net::TcpStream::connect(c.dest)?), c.dest)),
            ClientCfg::Unix(c) => Ok((
                Stream::Unix(
                    mio::net::UnixStream::connect(&c.path)?,
                    Arc::from(c.path.as_path()),
                ),
                UNIX_PEER,
            )),
            ClientCfg::Serial(c) => Ok((
                Stream::Serial(
                    osc_sys::open_serial(&c.path, c.baud)?,
                    Arc::from(c.path.as_path()),
                ),
                UNIX_PEER,
            )),
        }
    }
}

/// What one read of a stream did, besides the packets handed to the callback.
#[derive(Debug, Default)]
pub(crate) struct StreamRead {
    /// What the deframer reported (packets, oversized skips, a malformed frame).
    pub(crate) deframed: Deframed,
    /// The peer closed the connection or it failed: close it on our side.
    pub(crate) closed: Option<&'static str>,
    /// Bytes of an incomplete packet lost if `closed`.
    pub(crate) truncated: usize,
    /// The per-event byte budget ran out before the socket said `WouldBlock`.
    pub(crate) more: bool,
}

/// A stream connection: the socket and its protocol state.
#[derive(Debug)]
pub(crate) struct StreamIo {
    pub(crate) stream: Stream,
    pub(crate) machine: StreamMachine,
}

impl StreamIo {
    pub(crate) fn new(stream: Stream, machine: StreamMachine) -> Self {
        if let Stream::Tcp(s) = &stream {
            if machine.limits().nodelay {
                let _ = s.set_nodelay(true);
            }
        }
        StreamIo { stream, machine }
    }

    /// The peer's IP address (`None` for a Unix stream or a device).
    pub(crate) fn peer(&self) -> Option<SocketAddr> {
        match self.stream {
            Stream::Tcp(_) => Some(self.machine.peer()),
            Stream::Unix(..) | Stream::Serial(..) => None,
        }
    }

    /// The peer, for logs: its address, or the Unix server's path.
    pub(crate) fn describe(&self) -> String {
        match &self.stream {
            Stream::Tcp(_) => self.machine.peer().to_string(),
            Stream::Unix(_, path) | Stream::Serial(_, path) => path.display().to_string(),
        }
    }

    /// The event of the connection's start.
    pub(crate) fn connected(&self) -> ChannelEvent<'_> {
        match &self.stream {
            Stream::Tcp(_) => ChannelEvent::Connected(self.machine.peer()),
            Stream::Unix(_, path) => ChannelEvent::UnixConnected(path),
            Stream::Serial(_, path) => ChannelEvent::SerialOpened(path),
        }
    }

    /// The event of the connection's end.
    pub(crate) fn disconnected<'a>(&'a self, reason: &'a str) -> ChannelEvent<'a> {
        match &self.stream {
            Stream::Tcp(_) => ChannelEvent::Disconnected {
                peer: self.machine.peer(),
                reason,
            },
            Stream::Unix(_, path) => ChannelEvent::UnixDisconnected { path, reason },
            Stream::Serial(_, path) => ChannelEvent::SerialClosed { path, reason },
        }
    }

    /// Writes what the machine holds until done or the socket would block. An error
    /// means the connection is broken.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        while self.machine.pending() > 0 {
            match self.stream.write(self.machine.to_write()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.machine.wrote(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads what the socket has, up to `budget` (bytes, packets) (input kept from
    /// the last turn goes first), and hands each complete packet to `on_packet`.
    /// Unless `drain`, a short read ends it: the socket's queue was empty.
    pub(crate) fn read(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        (bytes, packets): (usize, usize),
        drain: bool,
        mut on_packet: impl FnMut(&[u8]),
    ) -> StreamRead {
        let mut out = StreamRead::default();
        if self.machine.has_leftover() {
            let fed = self.machine.on_bytes(now, &[], packets, &mut on_packet);
            if out.absorb(fed) {
                return out;
            }
        }
        let mut total = 0usize;
        loop {
            if total >= bytes || out.deframed.packets >= packets {
                out.more = true;
                return out;
            }
            let n = match self.stream.read(buf) {
                Ok(0) => return self.ended(now, out, "closed by peer", on_packet),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let why = if e.kind() == io::ErrorKind::ConnectionReset {
                        "reset by peer"
                    } else {
                        "read error"
                    };
                    return self.ended(now, out, why, on_packet);
                }
            };
            total = total.saturating_add(n);
            let left = packets.saturating_sub(out.deframed.packets);
            let chunk = buf.get(..n).unwrap_or_default();
            let fed = self.machine.on_bytes(now, chunk, left, &mut on_packet);
            if out.absorb(fed) {
                return out;
            }
            // A short read emptied the socket's receive queue: reading again would
            // only see `WouldBlock` (one system call per message for nothing). Bytes
            // that arrive after it raise a new edge, as tokio relies on too.
            if n < buf.len() && !drain {
                return out;
            }
        }
    }

    /// The stream ended: what was read whole is delivered, the rest is lost.
    fn ended(
        &mut self,
        now: Instant,
        mut out: StreamRead,
        why: &'static str,
        mut on_packet: impl FnMut(&[u8]),
    ) -> StreamRead {
        let fed = self.machine.on_bytes(now, &[], usize::MAX, &mut on_packet);
        out.absorb(fed);
        out.more = false;
        out.closed = Some(why);
        out.truncated = self.machine.on_eof();
        out
    }
}

impl StreamRead {
    /// Adds what one `on_bytes` call reported; whether reading must stop (the packet
    /// budget ran out, or the stream is unusable and closes).
    fn absorb(&mut self, fed: Deframed) -> bool {
        self.deframed.packets += fed.packets;
        self.deframed.oversized += fed.oversized;
        self.deframed.not_binary += fed.not_binary;
        if fed.ended {
            self.closed = Some("closed by peer");
            return true;
        }
        if fed.malformed.is_some() {
            self.deframed.malformed = fed.malformed;
            self.closed = Some("malformed frame");
            return true;
        }
        if fed.more {
            self.more = true;
            return true;
        }
        false
    }
}
