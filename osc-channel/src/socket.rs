//! UDP sockets: set-up with socket2, and batched sends.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::{ChannelError, Result, UdpConfig};

/// What a UDP socket ended up with, for logs and callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketInfo {
    /// The bound local address; for a connected client, the address it sends from
    /// (which a reconnect after a change of the host's address may change).
    pub local: SocketAddr,
    /// The receive buffer the kernel granted (Linux reports twice the usable size).
    pub recv_buffer: usize,
    /// The send buffer the kernel granted.
    pub send_buffer: usize,
    /// The peer the socket is connected to: that of a client that does not read and
    /// sends to one unicast destination (the kernel then keeps the route).
    pub connected: Option<SocketAddr>,
}

/// The peer a UDP socket is connected to when it opens: the destination of a client
/// that does not read and sends to one unicast address. The kernel then keeps the
/// route instead of looking it up for every datagram (about a tenth of a loopback
/// send's cost). A socket that reads is not connected (it would take datagrams from
/// that peer only), nor one that broadcasts or joins a group.
fn connect_target(cfg: &UdpConfig) -> Option<SocketAddr> {
    let dest = cfg.dest?;
    let unicast = match dest.ip() {
        IpAddr::V4(ip) => !ip.is_broadcast() && !ip.is_multicast(),
        IpAddr::V6(ip) => !ip.is_multicast(),
    };
    let plain_client = !cfg.read && !cfg.broadcast && cfg.multicast.is_none();
    // Elsewhere (the BSDs) a connected socket cannot send to another address.
    let sends_anywhere = cfg!(target_os = "linux");
    (sends_anywhere && plain_client && unicast && !dest.ip().is_unspecified() && dest.port() != 0)
        .then_some(dest)
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
    // A port the kernel picks (port 0) is never shared on purpose; with SO_REUSEADDR
    // the kernel may pick one that another such socket holds, and then one of the two
    // gets the other's datagrams.
    let shareable = bind.port() != 0;
    socket
        .set_reuse_address(cfg.reuse_addr && shareable)
        .map_err(io_err("SO_REUSEADDR"))?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket
        .set_reuse_port(cfg.reuse_port && shareable)
        .map_err(io_err("SO_REUSEPORT"))?;
    if let Some(size) = cfg.recv_buffer {
        osc_sys::set_recv_buffer(socket2::SockRef::from(&socket), size)
            .map_err(io_err("SO_RCVBUF"))?;
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
    let connected = connect_target(cfg).filter(|&peer| {
        // Not connected, the socket still sends (looking the route up each time).
        let made = socket.connect(&SockAddr::from(peer));
        if let Err(e) = &made {
            log::debug!("channel {name}: sends unconnected to {peer}: {e}");
        }
        made.is_ok()
    });
    let info = SocketInfo {
        local: socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(bind),
        recv_buffer: socket.recv_buffer_size().unwrap_or(0),
        send_buffer: socket.send_buffer_size().unwrap_or(0),
        connected,
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

/// Sends one datagram without waiting, whatever the socket's mode (a socket the
/// reactor waits in the read of is in blocking mode, see `reactor::nap`); to the
/// peer of a `connected` socket without naming it, so the kernel reuses its route.
pub(crate) fn send_now<S: std::os::fd::AsFd>(
    socket: &S,
    data: &[u8],
    to: SocketAddr,
    connected: Option<SocketAddr>,
) -> io::Result<usize> {
    if connected == Some(to) {
        return send_connected(socket, data, to);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        osc_sys::send_to(socket.as_fd().as_raw_fd(), data, to)
    }
    #[cfg(not(target_os = "linux"))]
    {
        socket2::SockRef::from(socket).send_to(data, &SockAddr::from(to))
    }
}

/// Sends to the peer of a connected socket.
///
/// `ConnectionRefused` reports an earlier datagram that nobody took (an ICMP error the
/// kernel kept for the socket), not this one, which was not sent: the send is made
/// again, as an unconnected socket, which is never told, would have sent it.
///
/// Another error means the connection's route is gone: the host's address changed
/// (a connected socket keeps the source address it started with, and every send
/// fails with "network unreachable" from then on), the network went down, or another
/// thread is connecting the socket anew. The socket is then connected anew, which
/// picks the route and source address of the time, and the datagram is sent naming
/// its destination, which works whether that connection was made or not.
#[cfg(target_os = "linux")]
fn send_connected<S: std::os::fd::AsFd>(
    socket: &S,
    data: &[u8],
    to: SocketAddr,
) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let fd = socket.as_fd().as_raw_fd();
    match osc_sys::send(fd, data) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            log::debug!("an earlier datagram to {to} was refused: {e}");
            osc_sys::send(fd, data)
        }
        Err(e) if !route_lost(&e) => Err(e),
        Err(e) => {
            log::debug!("sending to {to}: {e}; connecting the socket anew");
            reconnect(socket, to);
            osc_sys::send_to(fd, data, to)
        }
        sent => sent,
    }
}

/// Whether a send error of a connected socket says its route is gone (see
/// [`send_connected`]), rather than a full buffer, a signal, a datagram too large or
/// short memory, which a new connection would not mend.
#[cfg(target_os = "linux")]
pub(crate) fn route_lost(e: &io::Error) -> bool {
    let transient = matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    );
    let not_the_route = matches!(
        e.raw_os_error(),
        Some(libc::EMSGSIZE | libc::ENOBUFS | libc::ENOMEM)
    );
    !transient && !not_the_route
}

/// Connects a connected socket anew to `to` (see [`send_connected`]); it stays
/// unconnected if that fails (no route now), and a later send tries again. Logged
/// once per success (a change of route), at debug level per failure, so a network
/// that stays down does not flood the log with a line per send.
#[cfg(target_os = "linux")]
pub(crate) fn reconnect<S: std::os::fd::AsFd>(socket: &S, to: SocketAddr) {
    use std::os::fd::AsRawFd;
    if let Err(e) = osc_sys::disconnect(socket.as_fd().as_raw_fd()) {
        log::debug!("cannot disconnect the socket sending to {to}: {e}");
    }
    match socket2::SockRef::from(socket).connect(&SockAddr::from(to)) {
        Ok(()) => log::info!("the socket sending to {to} is connected anew (its route changed)"),
        Err(e) => log::debug!("cannot connect the socket to {to} again: {e}"),
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn reconnect<S: std::os::fd::AsFd>(_socket: &S, _to: SocketAddr) {}

#[cfg(not(target_os = "linux"))]
pub(crate) fn route_lost(_e: &io::Error) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
fn send_connected<S: std::os::fd::AsFd>(
    socket: &S,
    data: &[u8],
    _to: SocketAddr,
) -> io::Result<usize> {
    socket2::SockRef::from(socket).send(data)
}

/// Where a kick (an empty datagram from the reactor's own kick socket) must go to end
/// a wait in `socket`'s read: its own address when it is bound to a loopback address,
/// or its port on the loopback address of its family when it is bound to the wildcard.
/// `None` when a kick could miss it: another address (the kick comes from the
/// loopback), a connected socket (it takes datagrams from its peer only),
/// `SO_REUSEPORT` (the kernel may hand the kick to another socket of the port).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn kick_target<S: std::os::fd::AsFd>(socket: &S) -> Option<SocketAddr> {
    let sock = socket2::SockRef::from(socket);
    let local = sock.local_addr().ok()?.as_socket()?;
    if sock.peer_addr().is_ok() {
        return None;
    }
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    if sock.reuse_port().unwrap_or(true) {
        return None;
    }
    let ip = match local.ip() {
        ip if ip.is_loopback() => ip,
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        _ => return None,
    };
    Some(SocketAddr::new(ip, local.port()))
}

/// A kick socket for targets of `target`'s family: bound to that family's loopback
/// address, non-blocking.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn open_kick(target: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let ip = match target {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    };
    let kick = std::net::UdpSocket::bind(SocketAddr::new(ip, 0))?;
    kick.set_nonblocking(true)?;
    Ok(kick)
}

#[cfg(target_os = "linux")]
pub(crate) fn send_batch_raw<S: std::os::fd::AsRawFd>(
    socket: &S,
    packets: &[(&[u8], SocketAddr)],
) -> io::Result<usize> {
    osc_sys::send_batch(socket.as_raw_fd(), packets)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn send_batch_raw(
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
            if sent % osc_sys::SEND_BATCH != 0 {
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Servers bound to port 0 each get a port of their own. With `SO_REUSEADDR` set
    /// on such sockets, Linux hands out a port another of them holds now and then
    /// (measured: 147 shared ports among 3,000 sockets), and datagrams for one then
    /// go to the other.
    #[test]
    fn servers_on_port_zero_never_share_a_port() {
        let cfg = UdpConfig::server("127.0.0.1:0".parse().unwrap());
        assert!(cfg.reuse_addr, "servers ask for SO_REUSEADDR");
        let sockets: Vec<_> = (0..600)
            .map(|_| open_socket("server", &cfg).unwrap())
            .collect();
        let mut ports: Vec<u16> = sockets.iter().map(|(_, info)| info.local.port()).collect();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), sockets.len());
    }

    /// A server on a port of its own choosing keeps `SO_REUSEADDR` (to bind again
    /// while the last run's socket lingers, as osc4py3's servers do).
    #[test]
    fn a_server_on_a_chosen_port_keeps_reuse_addr() {
        let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = free.local_addr().unwrap();
        drop(free);
        let (socket, _) = open_socket("server", &UdpConfig::server(addr)).unwrap();
        assert!(socket2::SockRef::from(&socket).reuse_address().unwrap());
        let (ephemeral, _) =
            open_socket("server", &UdpConfig::server("127.0.0.1:0".parse().unwrap())).unwrap();
        assert!(!socket2::SockRef::from(&ephemeral).reuse_address().unwrap());
    }
}
