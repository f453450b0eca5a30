//! A UDP channel's socket, driven by the reactor: registration, reads, writes. The
//! rules (routing, size limit, the queue) are the [`UdpMachine`]'s.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::backlog::Backlog;
use crate::interest::{datagram_interest, rewatch, unwatch};
use crate::machine::{Refusal, UdpMachine};
use crate::recv_errors::{AfterError, RecvErrors};
use crate::socket::{SocketInfo, send_batch_raw};
use crate::{ChannelId, Received, UdpConfig};

/// What happened to a packet handed to a UDP channel.
#[derive(Debug)]
pub(crate) enum Sent {
    /// Written to the socket.
    Now,
    /// Queued until the socket is writable.
    Queued,
}

/// Why a packet was not sent.
#[derive(Debug)]
pub(crate) enum NotSent {
    /// The machine refused it.
    Refused(Refusal, Option<SocketAddr>),
    /// The socket failed.
    Io(io::Error),
}

impl NotSent {
    /// The error a send on channel `channel` returns for it.
    pub(crate) fn into_error(self, channel: &str) -> crate::ChannelError {
        match self {
            NotSent::Refused(r, to) => r.into_error(channel, to),
            NotSent::Io(e) => crate::ChannelError::io("send", channel, e),
        }
    }
}

/// What one read of a UDP socket did.
#[derive(Debug, Default)]
pub(crate) struct UdpRead {
    /// Datagrams delivered.
    pub(crate) delivered: usize,
    /// Their bytes.
    pub(crate) bytes: usize,
    /// The socket said it had nothing more (else the per-event cap was reached).
    pub(crate) drained: bool,
    /// Senders of datagrams that did not fit a receive slot and were dropped.
    pub(crate) cut: Vec<Option<SocketAddr>>,
    /// A kick (an empty datagram from the reactor's kick socket) was read and dropped.
    pub(crate) kicked: bool,
}

/// A UDP channel's socket and sending rules.
#[derive(Debug)]
pub(crate) struct UdpIo {
    socket: mio::net::UdpSocket,
    info: SocketInfo,
    machine: UdpMachine,
    /// Shared with the channel's [`UdpWriter`](crate::UdpWriter)s: counts the queue.
    backlog: Arc<Backlog>,
    /// A second descriptor of the socket for writers, made at the first request.
    writer_socket: Option<Arc<std::net::UdpSocket>>,
    /// What the socket is registered for in the reactor's poll (`None`: not registered).
    registered: Option<mio::Interest>,
    /// Whether this socket is read a datagram or a batch at a time.
    chooser: crate::machine::ReceiveChooser,
    /// Waiting in this socket's read (see `reactor::nap`).
    nap: NapState,
}

/// A UDP socket's side of waiting in its read instead of in the poll.
#[derive(Debug, Default)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
struct NapState {
    /// Where a kick must go to end the wait (`Some(None)`: this socket cannot wait in
    /// its read), worked out at the first question.
    target: Option<Option<SocketAddr>>,
    /// The socket is in blocking mode (every other read and write of it says
    /// `MSG_DONTWAIT`).
    blocking: bool,
    /// Its `SO_RCVTIMEO`.
    read_timeout: Option<std::time::Duration>,
    /// Datagrams from here are kicks, not input.
    kick_from: Option<SocketAddr>,
    /// Out of the poll while the reactor waits in this socket's read, its
    /// registration (`UdpIo::registered`) kept to be put back.
    parked: bool,
    /// Whether a wait takes a batch or one datagram.
    reads: crate::machine::NapReads,
}

impl Drop for UdpIo {
    fn drop(&mut self) {
        self.backlog.close();
    }
}

impl UdpIo {
    pub(crate) fn new(socket: mio::net::UdpSocket, info: SocketInfo, cfg: &UdpConfig) -> Self {
        UdpIo {
            socket,
            info,
            machine: UdpMachine::new(cfg.dest, cfg.max_queue, cfg.read)
                .with_byte_limit(cfg.max_queue_bytes),
            backlog: Arc::default(),
            writer_socket: None,
            registered: None,
            chooser: crate::machine::ReceiveChooser::new(),
            nap: NapState {
                // Programs that share a port for multicast or broadcast (with
                // SO_REUSEADDR) are common: a kick could reach one of the others.
                target: (cfg.multicast.is_some() || cfg.broadcast).then_some(None),
                ..NapState::default()
            },
        }
    }

    /// Where a kick must be sent to end a wait in this socket's read, or `None` when
    /// it cannot wait there: a socket bound to a wildcard or loopback address, not
    /// connected, and without `SO_REUSEPORT` (which could hand the kick to another
    /// socket of the same port). Worked out once.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn nap_target(&mut self) -> Option<SocketAddr> {
        if let Some(known) = self.nap.target {
            return known;
        }
        let target = crate::socket::kick_target(&self.socket);
        self.nap.target = Some(target);
        target
    }

    /// How this socket's waits in a read read, and where what they found is told.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn nap_reads(&mut self) -> &mut crate::machine::NapReads {
        &mut self.nap.reads
    }

    /// This socket waits in the poll from now on (making it ready to wait in its read
    /// failed, or a kick missed it).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn cannot_nap(&mut self) {
        self.nap.target = Some(None);
    }

    /// Makes the socket ready to wait in [`read_waiting`](Self::read_waiting): blocking
    /// mode (once), a receive timeout near `timeout` (only when the one it has does not
    /// fit, see `machine::nap_read_timeout`), and kicks from `kick_from` ignored.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn prepare_nap(
        &mut self,
        timeout: Option<std::time::Duration>,
        kick_from: SocketAddr,
    ) -> io::Result<()> {
        let sock = socket2::SockRef::from(&self.socket);
        if !self.nap.blocking {
            sock.set_nonblocking(false)?;
            self.nap.blocking = true;
        }
        if let Some(t) = crate::machine::nap_read_timeout(self.nap.read_timeout, timeout) {
            sock.set_read_timeout(Some(t))?;
            self.nap.read_timeout = Some(t);
        }
        self.nap.kick_from = Some(kick_from);
        Ok(())
    }

    /// Reads what is there, waiting for the first datagram up to the socket's receive
    /// timeout (after [`prepare_nap`](Self::prepare_nap)): one `recvmmsg` that takes
    /// up to `cap` datagrams, or one `recvfrom` when `batch` is `None`. Kicks are read
    /// and dropped. A batch that came back short found the socket empty (drained); a
    /// single datagram does not say, so the socket is read again in the next pass.
    #[cfg(target_os = "linux")]
    pub(crate) fn read_waiting<F: FnMut(Received<'_>)>(
        &self,
        id: ChannelId,
        name: &str,
        (buf, batch): (&mut [u8], Option<&mut osc_sys::RecvBatch>),
        cap: usize,
        sink: &mut F,
    ) -> UdpRead {
        use std::os::fd::AsRawFd;
        let fd = self.socket.as_raw_fd();
        let kicks = self.nap.kick_from;
        // Only the first call waits: one after it (an `EINTR` retried, the rest of a
        // batch) must not start a new wait.
        let mut waited = false;
        let mut first = move || !std::mem::replace(&mut waited, true);
        match batch {
            Some(batch) => {
                let slots = batch.slots();
                let recv = |b: &mut osc_sys::RecvBatch, want| {
                    if first() {
                        b.recv_waiting(fd, want)
                    } else {
                        b.recv(fd, want)
                    }
                };
                read_batch_from(recv, id, name, batch, cap.min(slots), kicks, sink)
            }
            // Not drained: whether more came is for the next pass to find out.
            None => read_from(
                |b| osc_sys::recv_from(fd, b, first()),
                id,
                name,
                buf,
                1,
                kicks,
                sink,
            ),
        }
    }

    /// How this socket's next read is made, and where its cost is told.
    pub(crate) fn chooser(&mut self) -> &mut crate::machine::ReceiveChooser {
        &mut self.chooser
    }

    /// What the socket got from the kernel. A connected socket's local address is
    /// asked again: connecting it anew after its route changed (see
    /// `socket::reconnect`) may give it another source address and port. While a
    /// writer in another thread is between its disconnect and its connect, the socket
    /// has no address (the wildcard, port 0): the one it had at open is told then.
    pub(crate) fn info(&self) -> SocketInfo {
        let mut info = self.info;
        if info.connected.is_some() {
            if let Ok(local) = self.socket.local_addr() {
                if !local.ip().is_unspecified() && local.port() != 0 {
                    info.local = local;
                }
            }
        }
        info
    }

    pub(crate) fn dest(&self) -> Option<SocketAddr> {
        self.machine.dest()
    }

    pub(crate) fn backlog(&self) -> &Arc<Backlog> {
        &self.backlog
    }

    pub(crate) fn queued(&self) -> usize {
        self.machine.queued()
    }

    /// Whether the channel reads (a send-only client does not).
    pub(crate) fn reads(&self) -> bool {
        self.machine.wants_read()
    }

    /// Registers the socket for what it needs now, when that changed: readable when the
    /// channel reads, writable only while datagrams wait in its queue
    /// (see `interest::datagram_interest`).
    pub(crate) fn watch(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        self.unpark(registry, token)?;
        let wanted = datagram_interest(self.machine.wants_read(), self.machine.wants_write());
        rewatch(
            registry,
            token,
            &mut self.socket,
            &mut self.registered,
            wanted,
        )
    }

    /// Takes the error the kernel keeps for the socket (an ICMP error: a connected
    /// client's peer refused a datagram) and logs it.
    pub(crate) fn clear_error(&self, name: &str) {
        match self.socket.take_error() {
            Ok(None) => {}
            Ok(Some(e)) => log::debug!("channel {name}: an earlier datagram was refused: {e}"),
            Err(e) => log::debug!("channel {name}: cannot read the socket's error: {e}"),
        }
    }

    /// Takes the socket out of the reactor's poll, if it is in it.
    pub(crate) fn unwatch(&mut self, registry: &mio::Registry) {
        if std::mem::take(&mut self.nap.parked) {
            // Out of the epoll set already: only the registration is forgotten.
            if self.registered.take().is_some() {
                crate::interest::note_change();
            }
            return;
        }
        unwatch(registry, &mut self.socket, &mut self.registered);
    }

    /// Takes the socket out of the epoll set while the reactor waits in its read,
    /// keeping its registration to put back ([`unpark`](Self::unpark)).
    pub(crate) fn park(&mut self, registry: &mio::Registry) {
        if self.nap.parked || self.registered.is_none() {
            return;
        }
        match registry.deregister(&mut self.socket) {
            Ok(()) => self.nap.parked = true,
            Err(e) => log::debug!("a UDP socket stays in the poll while read: {e}"),
        }
    }

    /// Puts a [parked](Self::park) socket back in the epoll set, as it was registered.
    /// If that fails (`epoll_ctl` out of memory or of watches), the socket stays parked
    /// and counted as watched: while it is the only reader, passes go on waiting in its
    /// read, and the next call tries again (a receive-only server is never watched
    /// again otherwise, so it would stop reading).
    pub(crate) fn unpark(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        if !self.nap.parked {
            return Ok(());
        }
        if let Some(interest) = self.registered {
            registry.register(&mut self.socket, token, interest)?;
        }
        self.nap.parked = false;
        Ok(())
    }

    /// The socket's descriptor (for the tests that play with the epoll set).
    #[cfg(test)]
    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.socket.as_raw_fd()
    }

    /// Whether the socket is in the reactor's poll now.
    pub(crate) fn is_watched(&self) -> bool {
        self.registered.is_some()
    }

    /// The socket for writers: a duplicate descriptor of the same socket (which may be
    /// in blocking mode: writers send with `MSG_DONTWAIT`).
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

    /// Sends now if the queue is empty and the socket takes it, else queues.
    pub(crate) fn send(
        &mut self,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    ) -> Result<Sent, NotSent> {
        let Some(to) = self.write_now(&data, dest)? else {
            return Ok(Sent::Now);
        };
        self.machine
            .enqueue(data, to)
            .map_err(|r| NotSent::Refused(r, Some(to)))?;
        self.backlog.add();
        Ok(Sent::Queued)
    }

    /// Writes `data` at once if nothing waits before it and the socket takes it
    /// (`Ok(None)`); else says where it must be queued for (`Ok(Some(to))`).
    pub(crate) fn write_now(
        &mut self,
        data: &[u8],
        dest: Option<SocketAddr>,
    ) -> Result<Option<SocketAddr>, NotSent> {
        let to = self
            .machine
            .route(data.len(), dest)
            .map_err(|r| NotSent::Refused(r, dest.or(self.machine.dest())))?;
        if self.machine.can_write_now() {
            match crate::socket::send_now(&self.socket, data, to, self.info.connected) {
                Ok(_) => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NotSent::Io(e)),
            }
        }
        Ok(Some(to))
    }

    /// Writes queued datagrams until the socket would block (many per `sendmmsg` call
    /// on Linux). Reports the bytes sent and each error met (an error costs its
    /// packet).
    pub(crate) fn flush(
        &mut self,
        mut on_error: impl FnMut(io::Error, Option<SocketAddr>),
    ) -> (usize, usize) {
        let (mut packets, mut bytes) = (0, 0);
        // A connected socket whose route is gone is connected anew once per flush
        // before an error costs a datagram (see `socket::send_now`).
        let mut may_reconnect = self.info.connected;
        while self.machine.wants_write() {
            // On the stack: a flush allocates nothing.
            let mut batch: [(&[u8], SocketAddr); osc_sys::SEND_BATCH] =
                [(&[], SocketAddr::from(([0, 0, 0, 0], 0))); osc_sys::SEND_BATCH];
            let mut n = 0;
            for (slot, item) in batch
                .iter_mut()
                .zip(self.machine.batch(osc_sys::SEND_BATCH))
            {
                *slot = item;
                n += 1;
            }
            let result = send_batch_raw(&self.socket, batch.get(..n).unwrap_or_default());
            match result {
                Ok(0) => break,
                Ok(sent) => {
                    bytes += self.machine.sent(sent);
                    packets += sent;
                    for _ in 0..sent {
                        self.backlog.remove();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A connected socket's peer refused an earlier datagram: that error is
                // now taken, and this batch was not sent (see `socket::send_now`).
                Err(e)
                    if e.kind() == io::ErrorKind::ConnectionRefused
                        && self.info.connected.is_some() => {}
                Err(e) if may_reconnect.is_some() && crate::socket::route_lost(&e) => {
                    log::debug!("a flush failed ({e}): connecting the socket anew");
                    if let Some(peer) = may_reconnect.take() {
                        crate::socket::reconnect(&self.socket, peer);
                    }
                }
                Err(e) => {
                    let to = self.machine.failed();
                    self.backlog.remove();
                    on_error(e, to);
                }
            }
        }
        (packets, bytes)
    }

    /// Reads datagrams one `recv_from` at a time until the socket would block or `cap`
    /// were taken. All datagrams of one call share one arrival time, as in a batch (a
    /// clock read and its conversion per datagram cost a tenth of the read). A receive
    /// error (an ICMP error from an earlier send surfaces here, once) is logged and
    /// counts towards `cap`; a second error in a row, with no datagram between, is
    /// persistent and ends the read as drained, so the reactor does not come back to
    /// the socket pass after pass while it lasts (the next readiness event does).
    pub(crate) fn read<F: FnMut(Received<'_>)>(
        &self,
        id: ChannelId,
        name: &str,
        buf: &mut [u8],
        cap: usize,
        sink: &mut F,
    ) -> UdpRead {
        #[cfg(target_os = "linux")]
        let recv = {
            use std::os::fd::AsRawFd;
            let fd = self.socket.as_raw_fd();
            move |b: &mut [u8]| osc_sys::recv_from(fd, b, false)
        };
        #[cfg(not(target_os = "linux"))]
        let recv = |b: &mut [u8]| self.socket.recv_from(b);
        read_from(recv, id, name, buf, cap, self.nap.kick_from, sink)
    }

    /// Reads datagrams with `recvmmsg`, up to `cap` (a truncated datagram or an error
    /// counts towards it). All datagrams of one call share one arrival time.
    ///
    /// A call that returns fewer datagrams than asked found the socket empty, so the
    /// socket counts as drained without another call that would only say `EAGAIN`: a
    /// datagram that arrives later raises a new readiness edge. (The kernel also ends a
    /// batch early when an error is pending, such as an ICMP error from an earlier send;
    /// the arrival of that error raised an edge of its own, so the next pass reads on.)
    /// Errors are handled as in [`UdpIo::read`]: two in a row end the read as drained.
    #[cfg(target_os = "linux")]
    pub(crate) fn read_batch<F: FnMut(Received<'_>)>(
        &self,
        id: ChannelId,
        name: &str,
        batch: &mut osc_sys::RecvBatch,
        cap: usize,
        sink: &mut F,
    ) -> UdpRead {
        use std::os::fd::AsRawFd;
        let fd = self.socket.as_raw_fd();
        let kicks = self.nap.kick_from;
        read_batch_from(
            |b, want| b.recv(fd, want),
            id,
            name,
            batch,
            cap,
            kicks,
            sink,
        )
    }
}

/// [`UdpIo::read`] with the receive call passed in (tests pass a failing one).
fn read_from<F: FnMut(Received<'_>)>(
    mut recv: impl FnMut(&mut [u8]) -> io::Result<(usize, SocketAddr)>,
    id: ChannelId,
    name: &str,
    buf: &mut [u8],
    cap: usize,
    kicks: Option<SocketAddr>,
    sink: &mut F,
) -> UdpRead {
    let mut out = UdpRead::default();
    let mut taken = 0;
    let mut errors = RecvErrors::default();
    let mut arrival = None;
    while taken < cap {
        match recv(buf) {
            Ok((_, peer)) if kicks == Some(peer) => {
                errors.ok();
                taken += 1;
                out.kicked = true;
            }
            Ok((n, peer)) => {
                errors.ok();
                taken += 1;
                out.delivered += 1;
                out.bytes += n;
                sink(Received {
                    channel: id,
                    name,
                    peer: Some(peer),
                    peer_path: None,
                    arrival: *arrival.get_or_insert_with(SystemTime::now),
                    data: buf.get(..n).unwrap_or_default(),
                });
            }
            Err(e) => match errors.failed(name, &e) {
                AfterError::Retry => {}
                AfterError::Skip => taken += 1,
                AfterError::Stop => {
                    out.drained = true;
                    return out;
                }
            },
        }
    }
    out
}

/// [`UdpIo::read_batch`] with the `recvmmsg` call passed in (tests pass a failing
/// one).
#[cfg(target_os = "linux")]
fn read_batch_from<F: FnMut(Received<'_>)>(
    mut recv: impl FnMut(&mut osc_sys::RecvBatch, usize) -> io::Result<usize>,
    id: ChannelId,
    name: &str,
    batch: &mut osc_sys::RecvBatch,
    cap: usize,
    kicks: Option<SocketAddr>,
    sink: &mut F,
) -> UdpRead {
    let mut out = UdpRead::default();
    let mut taken = 0;
    let mut errors = RecvErrors::default();
    while taken < cap {
        let want = (cap - taken).min(batch.slots());
        let n = match recv(batch, want) {
            Ok(n) => n,
            Err(e) => match errors.failed(name, &e) {
                AfterError::Retry => continue,
                AfterError::Skip => {
                    taken += 1;
                    continue;
                }
                AfterError::Stop => {
                    out.drained = true;
                    return out;
                }
            },
        };
        errors.ok();
        let arrival = SystemTime::now();
        for i in 0..n {
            let Some(d) = batch.get(i) else { break };
            if kicks.is_some() && d.peer == kicks {
                out.kicked = true;
                continue;
            }
            if d.truncated {
                log::warn!(
                    "channel {name}: a datagram from {:?} did not fit {} bytes and was cut: dropped",
                    d.peer,
                    osc_sys::SLOT_SIZE
                );
                out.cut.push(d.peer);
                continue;
            }
            out.delivered += 1;
            out.bytes += d.data.len();
            sink(Received {
                channel: id,
                name,
                peer: d.peer,
                peer_path: None,
                arrival,
                data: d.data,
            });
        }
        taken += n;
        if n < want {
            out.drained = true;
            return out;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::socket::open_socket;

    #[test]
    fn flush_writes_the_queue_in_order_in_batches() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let dest = rx.local_addr().unwrap();
        let cfg = UdpConfig::client(dest);
        let (socket, info) = open_socket("t", &cfg).unwrap();
        let mut ch = UdpIo::new(socket, info, &cfg);
        // More than two sendmmsg calls' worth, queued as if the socket had blocked.
        for i in 0..150u32 {
            let mut p = vec![0u8; 40 + (i as usize % 3)];
            p[..4].copy_from_slice(&i.to_be_bytes());
            ch.machine.enqueue(Arc::from(p), dest).unwrap();
            ch.backlog.add();
        }
        let (packets, bytes) = ch.flush(|e, _| panic!("{e}"));
        assert_eq!(ch.queued(), 0);
        assert_eq!(ch.backlog.pending(), 0);
        assert_eq!(packets, 150);
        assert_eq!(bytes, (0..150).map(|i| 40 + i % 3).sum::<usize>());
        let mut buf = [0u8; 64];
        for i in 0..150u32 {
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(n, 40 + (i as usize % 3));
            assert_eq!(buf[..4], i.to_be_bytes());
        }
    }

    #[test]
    fn a_flush_after_a_refused_datagram_sends_the_whole_queue() {
        let addr = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(); // dropped: nobody listens there
        let cfg = UdpConfig::client(addr);
        let (socket, info) = open_socket("t", &cfg).unwrap();
        assert_eq!(info.connected, Some(addr));
        let mut ch = UdpIo::new(socket, info, &cfg);
        // Refused: the kernel keeps the error for the socket's next send.
        ch.socket.send(b"/lost\0\0\0,\0\0\0").unwrap();
        let Ok(rx) = std::net::UdpSocket::bind(addr) else {
            return; // the port was taken meanwhile
        };
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        queue_three_words(&mut ch, addr);
        assert_eq!(ch.flush(|e, to| panic!("{e} ({to:?})")), (3, 12));
        let mut buf = [0u8; 16];
        for i in 0..3u32 {
            assert_eq!(rx.recv(&mut buf).unwrap(), 4);
            assert_eq!(buf[..4], i.to_be_bytes());
        }
    }

    /// A connected socket keeps its first source address: after the host's address
    /// changed, a flush connects it anew instead of losing the queue.
    #[test]
    fn a_flush_connects_a_socket_whose_route_is_gone_anew() {
        let name = "udp_io::tests::a_flush_connects_a_socket_whose_route_is_gone_anew";
        if !osc_test_support::inside_private_netns(name) {
            return;
        }
        let dest: SocketAddr = "192.0.2.77:9000".parse().unwrap();
        let cfg = UdpConfig::client(dest);
        let (socket, info) = open_socket("t", &cfg).unwrap();
        assert_eq!(info.connected, Some(dest));
        let mut ch = UdpIo::new(socket, info, &cfg);
        for args in [
            "addr del 192.0.2.1/24 dev v0",
            "addr add 192.0.2.2/24 dev v0",
        ] {
            let ip = std::process::Command::new("ip")
                .args(args.split(' '))
                .status();
            assert!(ip.unwrap().success(), "ip {args}");
        }
        queue_three_words(&mut ch, dest);
        assert_eq!(ch.flush(|e, to| panic!("{e} ({to:?})")), (3, 12));
    }

    /// Queues the words 0, 1 and 2 (4 bytes each) for `to`, as sends that would block do.
    fn queue_three_words(ch: &mut UdpIo, to: SocketAddr) {
        for i in 0..3u32 {
            ch.machine.enqueue(Arc::from(i.to_be_bytes()), to).unwrap();
            ch.backlog.add();
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
            let mut ch = UdpIo::new(socket, info, &cfg);
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
            ch.machine
                .enqueue(Arc::from(&b"/q\0\0,\0\0\0"[..]), dest)
                .unwrap();
            ch.backlog.add();
            ch.watch(poll.registry(), token).unwrap();
            assert!(poll_once(&mut poll).iter().any(|&(_, w)| w));
            assert_eq!(ch.flush(|e, _| panic!("{e}")), (1, 8));
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

    #[test]
    fn a_persistent_receive_error_ends_the_read_as_drained() {
        let id = ChannelId(1);
        let mut buf = [0u8; 64];
        let mut calls = 0;
        let failing = |_: &mut [u8]| -> io::Result<(usize, SocketAddr)> {
            calls += 1;
            Err(io::Error::from(io::ErrorKind::ConnectionRefused))
        };
        let read = read_from(failing, id, "t", &mut buf, 64, None, &mut |_| {
            panic!("no data")
        });
        // Drained: the reactor does not put the socket back on its list to read
        // again at once (it would spin with a zero wait while the error lasts).
        assert!(read.drained);
        assert_eq!(calls, 2, "one retry, then the read ends");
        // A one-time error (an ICMP error from an earlier send) does not hide the
        // datagrams behind it.
        let mut script = vec![
            Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
            Ok((8, "127.0.0.1:9".parse().unwrap())),
            Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
            Ok((8, "127.0.0.1:9".parse().unwrap())),
            Err(io::Error::from(io::ErrorKind::WouldBlock)),
        ]
        .into_iter();
        let mut got = 0;
        let read = read_from(
            |_| script.next().unwrap(),
            id,
            "t",
            &mut buf,
            64,
            None,
            &mut |_| got += 1,
        );
        assert!(read.drained);
        assert_eq!((read.delivered, got), (2, 2));
    }

    #[test]
    fn the_datagrams_of_one_read_share_one_arrival_time() {
        let mut buf = [0u8; 64];
        let mut script = (0..3)
            .map(|_| Ok((8, "127.0.0.1:9".parse().unwrap())))
            .chain([Err(io::Error::from(io::ErrorKind::WouldBlock))]);
        let before = SystemTime::now();
        let mut arrivals = Vec::new();
        let recv = |_: &mut [u8]| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            script.next().unwrap()
        };
        let read = read_from(recv, ChannelId(1), "t", &mut buf, 64, None, &mut |r| {
            arrivals.push(r.arrival)
        });
        assert_eq!(read.delivered, 3);
        assert!(arrivals.iter().all(|&a| a == arrivals[0] && a >= before));
        // The next read takes a new time.
        let mut later = None;
        let mut one = [Ok((8, "127.0.0.1:9".parse().unwrap()))].into_iter();
        read_from(
            |_| one.next().unwrap_or(Err(io::ErrorKind::WouldBlock.into())),
            ChannelId(1),
            "t",
            &mut buf,
            64,
            None,
            &mut |r| later = Some(r.arrival),
        );
        assert!(later.unwrap() > arrivals[0]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_persistent_batch_receive_error_ends_the_read_as_drained() {
        let id = ChannelId(1);
        let mut batch = osc_sys::RecvBatch::new(4, osc_sys::SLOT_SIZE);
        let mut calls = 0;
        let failing = |_: &mut osc_sys::RecvBatch, _: usize| -> io::Result<usize> {
            calls += 1;
            Err(io::Error::from(io::ErrorKind::ConnectionRefused))
        };
        let read = read_batch_from(failing, id, "t", &mut batch, 64, None, &mut |_| {
            panic!("no data")
        });
        assert!(read.drained);
        assert_eq!(calls, 2, "one retry, then the read ends");
    }

    #[test]
    fn kicks_are_read_and_dropped_and_count_towards_the_cap() {
        let kick: SocketAddr = "127.0.0.1:7".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut script = [Ok((0, kick)), Ok((8, peer)), Ok((0, kick))].into_iter();
        let mut buf = [0u8; 64];
        let mut from = Vec::new();
        let read = read_from(
            |_| {
                script
                    .next()
                    .unwrap_or(Err(io::ErrorKind::WouldBlock.into()))
            },
            ChannelId(1),
            "t",
            &mut buf,
            64,
            Some(kick),
            &mut |r| from.push(r.peer),
        );
        assert_eq!(from, [Some(peer)]);
        assert_eq!(read.delivered, 1);
        // One read of one datagram (a wait in the read) that finds a kick delivers none.
        let mut once = [Ok((0, kick))].into_iter();
        let read = read_from(
            |_| once.next().unwrap(),
            ChannelId(1),
            "t",
            &mut buf,
            1,
            Some(kick),
            &mut |_| panic!("a kick is not input"),
        );
        assert_eq!(read.delivered, 0);
    }
}
