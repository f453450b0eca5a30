//! UDP channels: socket set-up with socket2, reading datagrams, queued writing.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::options::{MAX_DATAGRAM_V4, MAX_DATAGRAM_V6};
use crate::writer::Backlog;
use crate::{ChannelError, Result, UdpConfig};

/// What a UDP socket ended up with, for logs and callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    /// The bound local address.
    pub local: SocketAddr,
    /// The receive buffer the kernel granted (Linux reports twice the usable size).
    pub recv_buffer: usize,
    /// The send buffer the kernel granted.
    pub send_buffer: usize,
}

/// The largest datagram that can go to `dest`.
pub(crate) fn max_datagram(dest: &SocketAddr) -> usize {
    if dest.is_ipv4() {
        MAX_DATAGRAM_V4
    } else {
        MAX_DATAGRAM_V6
    }
}

fn wildcard_like(addr: Option<&SocketAddr>) -> SocketAddr {
    match addr {
        Some(SocketAddr::V6(_)) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
        _ => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
    }
}

/// Opens and configures a non-blocking UDP socket for `cfg`.
pub(crate) fn open_socket(
    name: &str,
    cfg: &UdpConfig,
) -> Result<(mio::net::UdpSocket, SocketInfo)> {
    let bind = cfg.bind.unwrap_or_else(|| wildcard_like(cfg.dest.as_ref()));
    let io_err = |op| move |e| ChannelError::io(op, name, e);
    let socket = Socket::new(Domain::for_address(bind), Type::DGRAM, Some(Protocol::UDP))
        .map_err(io_err("socket"))?;
    socket
        .set_reuse_address(cfg.reuse_addr)
        .map_err(io_err("SO_REUSEADDR"))?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket
        .set_reuse_port(cfg.reuse_port)
        .map_err(io_err("SO_REUSEPORT"))?;
    if let Some(size) = cfg.recv_buffer {
        set_recv_buffer(&socket, size).map_err(io_err("SO_RCVBUF"))?;
    }
    if let Some(size) = cfg.send_buffer {
        socket
            .set_send_buffer_size(size)
            .map_err(io_err("SO_SNDBUF"))?;
    }
    if cfg.broadcast {
        socket.set_broadcast(true).map_err(io_err("SO_BROADCAST"))?;
    }
    if let Some(ttl) = cfg.ttl {
        if bind.is_ipv4() {
            socket.set_ttl(ttl).map_err(io_err("IP_TTL"))?;
        } else {
            socket
                .set_unicast_hops_v6(ttl)
                .map_err(io_err("IPV6_UNICAST_HOPS"))?;
        }
    }
    if let Some(m) = &cfg.multicast {
        configure_multicast(&socket, m, cfg.read).map_err(io_err("multicast setup"))?;
    }
    socket.set_nonblocking(true).map_err(io_err("O_NONBLOCK"))?;
    socket.bind(&SockAddr::from(bind)).map_err(io_err("bind"))?;
    let info = SocketInfo {
        local: socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(bind),
        recv_buffer: socket.recv_buffer_size().unwrap_or(0),
        send_buffer: socket.send_buffer_size().unwrap_or(0),
    };
    if let Some(wanted) = cfg.recv_buffer {
        if info.recv_buffer < wanted {
            log::info!(
                "channel {name}: asked for a {wanted}-byte receive buffer, the kernel granted {}",
                info.recv_buffer
            );
        }
    }
    let std_socket: std::net::UdpSocket = socket.into();
    Ok((mio::net::UdpSocket::from_std(std_socket), info))
}

fn set_recv_buffer(socket: &Socket, size: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if crate::sys::force_recv_buffer(socket.as_raw_fd(), size).is_ok() {
            return Ok(());
        }
    }
    socket.set_recv_buffer_size(size)
}

fn configure_multicast(socket: &Socket, m: &crate::Multicast, join: bool) -> io::Result<()> {
    match m.group {
        IpAddr::V4(group) => {
            if join {
                socket.join_multicast_v4(&group, &m.interface_v4)?;
            }
            socket.set_multicast_if_v4(&m.interface_v4)?;
            socket.set_multicast_loop_v4(m.loop_back)?;
            socket.set_multicast_ttl_v4(m.ttl)?;
        }
        IpAddr::V6(group) => {
            if join {
                socket.join_multicast_v6(&group, m.interface_v6)?;
            }
            socket.set_multicast_if_v6(m.interface_v6)?;
            socket.set_multicast_loop_v6(m.loop_back)?;
            socket.set_multicast_hops_v6(m.ttl)?;
        }
    }
    Ok(())
}

/// A UDP channel's state in the reactor.
#[derive(Debug)]
pub(crate) struct UdpChannel {
    pub(crate) socket: mio::net::UdpSocket,
    pub(crate) dest: Option<SocketAddr>,
    queue: VecDeque<(Arc<[u8]>, SocketAddr)>,
    max_queue: usize,
    pub(crate) info: SocketInfo,
    /// Shared with the channel's [`UdpWriter`](crate::UdpWriter)s: counts the queue.
    pub(crate) backlog: Arc<Backlog>,
    /// A second descriptor of the socket for writers, made at the first request.
    writer_socket: Option<Arc<std::net::UdpSocket>>,
    /// Whether the channel reads (a server or peer) or only writes (a client).
    read: bool,
    /// What the socket is registered for in the reactor's poll (`None`: not registered).
    registered: Option<mio::Interest>,
}

impl Drop for UdpChannel {
    fn drop(&mut self) {
        self.backlog.close();
    }
}

/// What happened to a packet handed to a channel.
#[derive(Debug)]
pub(crate) enum Sent {
    /// Written to the socket.
    Now,
    /// Queued until the socket is writable.
    Queued,
}

impl UdpChannel {
    pub(crate) fn new(socket: mio::net::UdpSocket, info: SocketInfo, cfg: &UdpConfig) -> Self {
        UdpChannel {
            socket,
            dest: cfg.dest,
            queue: VecDeque::new(),
            max_queue: cfg.max_queue.max(1),
            info,
            backlog: Arc::default(),
            writer_socket: None,
            read: cfg.read,
            registered: None,
        }
    }

    /// Registers the socket for what it needs now, when that changed: readable when the
    /// channel reads, writable only while datagrams wait in its queue.
    ///
    /// Writability is not watched otherwise. With edge-triggered polling, every datagram
    /// the socket sends raises a writable edge when the kernel frees it, so a reactor
    /// that always watched it would wake for each send (the facade's writers send from
    /// other threads) and a reading socket would report a writable-only event, one
    /// wasted `epoll_wait` return, whenever a datagram arrived while the last read was
    /// still running. A write-only channel with nothing queued is not registered at all.
    pub(crate) fn watch(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        let wanted = match (self.read, self.queue.is_empty()) {
            (true, true) => Some(mio::Interest::READABLE),
            (true, false) => Some(mio::Interest::READABLE | mio::Interest::WRITABLE),
            (false, true) => None,
            (false, false) => Some(mio::Interest::WRITABLE),
        };
        if wanted == self.registered {
            return Ok(());
        }
        match (self.registered, wanted) {
            (None, Some(i)) => registry.register(&mut self.socket, token, i)?,
            (Some(_), Some(i)) => registry.reregister(&mut self.socket, token, i)?,
            (Some(_), None) => registry.deregister(&mut self.socket)?,
            (None, None) => {}
        }
        self.registered = wanted;
        Ok(())
    }

    /// Takes the socket out of the reactor's poll, if it is in it.
    pub(crate) fn unwatch(&mut self, registry: &mio::Registry) {
        if self.registered.take().is_some() {
            let _ = registry.deregister(&mut self.socket);
        }
    }

    /// The socket for writers: a duplicate descriptor (same socket, non-blocking).
    #[cfg(unix)]
    pub(crate) fn writer_socket(&mut self) -> Option<Arc<std::net::UdpSocket>> {
        use std::os::fd::AsFd;
        if self.writer_socket.is_none() {
            match self.socket.as_fd().try_clone_to_owned() {
                Ok(fd) => self.writer_socket = Some(Arc::new(std::net::UdpSocket::from(fd))),
                Err(e) => log::warn!("no UDP writer: cannot duplicate the socket: {e}"),
            }
        }
        self.writer_socket.clone()
    }

    /// Writers need a second descriptor of the socket (Unix only for now).
    #[cfg(not(unix))]
    pub(crate) fn writer_socket(&mut self) -> Option<Arc<std::net::UdpSocket>> {
        None
    }

    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Sends now if possible, else queues. Errors: not writable, too large, queue full,
    /// or a hard socket error.
    pub(crate) fn send(
        &mut self,
        name: &str,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    ) -> Result<Sent> {
        let Some(dest) = dest.or(self.dest) else {
            return Err(ChannelError::NotWritable(name.to_owned(), "no destination"));
        };
        let limit = max_datagram(&dest);
        if data.len() > limit {
            return Err(ChannelError::DatagramTooLarge {
                size: data.len(),
                limit,
                dest,
            });
        }
        if self.queue.is_empty() {
            match self.socket.send_to(&data, dest) {
                Ok(_) => return Ok(Sent::Now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ChannelError::io("send", name, e)),
            }
        }
        if self.queue.len() >= self.max_queue {
            return Err(ChannelError::QueueFull {
                channel: name.to_owned(),
                limit: self.max_queue,
                unit: "packets",
            });
        }
        self.queue.push_back((data, dest));
        self.backlog.add();
        Ok(Sent::Queued)
    }

    /// Writes queued datagrams until the socket would block (many per `sendmmsg` call
    /// on Linux). Reports the size of each datagram sent and each error met (an error
    /// costs its packet).
    pub(crate) fn flush(&mut self, mut on_sent: impl FnMut(std::result::Result<usize, io::Error>)) {
        while !self.queue.is_empty() {
            let batch: Vec<(&[u8], SocketAddr)> = self
                .queue
                .iter()
                .take(crate::sys::SEND_BATCH)
                .map(|(d, a)| (&d[..], *a))
                .collect();
            match send_batch_raw(&self.socket, &batch) {
                Ok(0) => return,
                Ok(n) => {
                    for _ in 0..n {
                        if let Some((data, _)) = self.queue.pop_front() {
                            self.backlog.remove();
                            on_sent(Ok(data.len()));
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    on_sent(Err(e));
                    if self.queue.pop_front().is_some() {
                        self.backlog.remove();
                    }
                }
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn send_batch_raw<S: std::os::fd::AsRawFd>(
    socket: &S,
    packets: &[(&[u8], SocketAddr)],
) -> io::Result<usize> {
    crate::sys::send_batch(socket.as_raw_fd(), packets)
}

#[cfg(not(target_os = "linux"))]
fn send_batch_raw(
    socket: &mio::net::UdpSocket,
    packets: &[(&[u8], SocketAddr)],
) -> io::Result<usize> {
    match packets.first() {
        Some((data, dest)) => socket.send_to(data, *dest).map(|_| 1),
        None => Ok(0),
    }
}

/// Sends datagrams from a UDP socket with as few system calls as the platform allows:
/// one `sendmmsg` per 64 of them on Linux, one `send_to` each elsewhere. Returns
/// how many were sent, the first ones in order; fewer than given means the socket
/// would block or a later datagram failed (call again with the rest to see why). An
/// error on the first datagram is returned as is.
///
/// ```
/// use std::net::UdpSocket;
/// let rx = UdpSocket::bind("127.0.0.1:0")?;
/// let tx = UdpSocket::bind("127.0.0.1:0")?;
/// let dest = rx.local_addr()?;
/// let packets = [(&b"/a\0\0,\0\0\0"[..], dest), (&b"/b\0\0,\0\0\0"[..], dest)];
/// assert_eq!(osc_channel::send_batch(&tx, &packets)?, 2);
/// let mut buf = [0; 64];
/// assert_eq!(rx.recv(&mut buf)?, 8);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn send_batch(
    socket: &std::net::UdpSocket,
    packets: &[(&[u8], SocketAddr)],
) -> io::Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let mut sent = 0;
        while sent < packets.len() {
            let rest = packets.get(sent..).unwrap_or_default();
            match send_batch_raw(socket, rest) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
            if sent % crate::sys::SEND_BATCH != 0 {
                break;
            }
        }
        Ok(sent)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let mut sent = 0;
        for (data, dest) in packets {
            match socket.send_to(data, *dest) {
                Ok(_) => sent += 1,
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn flush_writes_the_queue_in_order_in_batches() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let dest = rx.local_addr().unwrap();
        let cfg = UdpConfig::client(dest);
        let (socket, info) = open_socket("t", &cfg).unwrap();
        let mut ch = UdpChannel::new(socket, info, &cfg);
        // More than two sendmmsg calls' worth, queued as if the socket had blocked.
        for i in 0..150u32 {
            let mut p = vec![0u8; 40 + (i as usize % 3)];
            p[..4].copy_from_slice(&i.to_be_bytes());
            ch.queue.push_back((Arc::from(p), dest));
            ch.backlog.add();
        }
        let mut sizes = Vec::new();
        ch.flush(|r| sizes.push(r.unwrap()));
        assert_eq!(ch.queued(), 0);
        assert_eq!(sizes.len(), 150);
        let mut buf = [0u8; 64];
        for i in 0..150u32 {
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(n, 40 + (i as usize % 3));
            assert_eq!(buf[..4], i.to_be_bytes());
        }
    }

    /// The events of one short poll, as (readable, writable) pairs.
    fn poll_once(poll: &mut mio::Poll) -> Vec<(bool, bool)> {
        let mut events = mio::Events::with_capacity(8);
        poll.poll(&mut events, Some(std::time::Duration::from_millis(50)))
            .unwrap();
        events
            .iter()
            .map(|e| (e.is_readable(), e.is_writable()))
            .collect()
    }

    #[test]
    fn writability_is_watched_only_while_datagrams_wait() {
        let mut poll = mio::Poll::new().unwrap();
        let token = mio::Token(7);
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = rx.local_addr().unwrap();
        for cfg in [
            UdpConfig::client(dest),
            UdpConfig::peer("127.0.0.1:0".parse().unwrap(), Some(dest)),
        ] {
            let (socket, info) = open_socket("t", &cfg).unwrap();
            let mut ch = UdpChannel::new(socket, info, &cfg);
            ch.watch(poll.registry(), token).unwrap();
            let idle = cfg.read.then_some(mio::Interest::READABLE);
            assert_eq!(ch.registered, idle);
            // Sends raise no event: nothing wakes the reactor for them.
            for _ in 0..3 {
                ch.socket.send_to(b"/a\0\0,\0\0\0", dest).unwrap();
            }
            assert_eq!(poll_once(&mut poll), []);
            // A datagram queued as if the socket had blocked: writability is watched
            // and reported at once, the queue drains, and the watch ends.
            ch.queue.push_back((Arc::from(&b"/q\0\0,\0\0\0"[..]), dest));
            ch.backlog.add();
            ch.watch(poll.registry(), token).unwrap();
            assert!(poll_once(&mut poll).iter().any(|&(_, w)| w));
            ch.flush(|r| assert_eq!(r.unwrap(), 8));
            ch.watch(poll.registry(), token).unwrap();
            assert_eq!(ch.registered, idle);
            ch.unwatch(poll.registry());
            assert_eq!(ch.registered, None);
        }
        let mut buf = [0u8; 16];
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        // Each channel sent three `/a` and one `/q`.
        let mut queued = 0;
        for _ in 0..8 {
            assert_eq!(rx.recv(&mut buf).unwrap(), 8);
            queued += usize::from(buf[1] == b'q');
        }
        assert_eq!(queued, 2);
    }
}
