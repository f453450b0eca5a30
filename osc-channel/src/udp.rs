//! UDP channels: socket set-up with socket2, reading datagrams, queued writing.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::options::{MAX_DATAGRAM_V4, MAX_DATAGRAM_V6};
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
        }
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
        Ok(Sent::Queued)
    }

    /// Writes queued datagrams until the socket would block. Returns the sizes sent
    /// and the errors met (each costs its packet).
    pub(crate) fn flush(&mut self, mut on_sent: impl FnMut(std::result::Result<usize, io::Error>)) {
        while let Some((data, dest)) = self.queue.front() {
            match self.socket.send_to(data, *dest) {
                Ok(_) => {
                    on_sent(Ok(data.len()));
                    self.queue.pop_front();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    on_sent(Err(e));
                    self.queue.pop_front();
                }
            }
        }
    }
}
