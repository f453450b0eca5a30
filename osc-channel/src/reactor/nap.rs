//! Waiting in a read: when one UDP socket is all the reactor watches (the usual OSC
//! server: one socket in, clients that only send), a pass waits in that socket's
//! `recvfrom` instead of in `epoll_wait` followed by a read, so a datagram costs one
//! system call, as in a plain blocking loop. The rules are `machine::nap`'s.
//!
//! Other threads end such a wait with a kick: [`Wake`](crate::command::Wake) sends an
//! empty datagram from the reactor's kick socket (bound to the loopback) to the
//! socket's port, and the read drops datagrams from that address. The socket stays in
//! blocking mode afterwards; every other read and write of it says `MSG_DONTWAIT`.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::Reactor;
use super::pass::{KeptAnswer, SPIN_READERS, account_datagrams};
use crate::channel::Kind;
use crate::machine::ReadMode;
use crate::{ChannelId, Received};

/// What a wait in a read did.
#[derive(Debug, Clone, Copy)]
pub(super) struct Napped {
    /// The datagrams delivered.
    pub(super) delivered: usize,
    /// Neither input nor a wake-up came (the receive timeout ended it, or a signal):
    /// the pass waits the rest of its time in the poll.
    pub(super) timed_out: bool,
    /// How long a read that timed out waited, measured when the pass has a deadline
    /// (else zero): the kernel's timer wheel ends a long receive timeout later than
    /// asked (by as much as an eighth), a coarse tick earlier, so the rest of the pass
    /// is what the clock says is left, not what the timeout was. Right after a wait
    /// that found datagrams the clock is not read, and a read that times out counts
    /// as the whole wait: the pass ends then, before its deadline (see
    /// [`Kicks::found_data`]).
    pub(super) waited: Duration,
}

/// The kick socket, once made: its address (datagrams from it are kicks) and the
/// socket it is connected to now.
#[derive(Debug, Default)]
pub(super) struct Kicks {
    from: Option<SocketAddr>,
    aimed_at: Option<SocketAddr>,
    /// The channel and the wait the last wait in a read was prepared for (channel ids
    /// are never reused).
    prepared: Option<(u64, Option<Duration>)>,
    /// The answer of `sole_reader`.
    sole: KeptAnswer<Option<u64>>,
    /// The channel whose socket is out of the poll while passes wait in its read.
    parked: Option<u64>,
    /// Putting the parked socket back in the poll failed last time (said once).
    unpark_failed: bool,
    /// The last wait in a read found datagrams: while they keep coming, the next
    /// wait's read ends with one, not with its timeout, so it is not timed (a clock
    /// read per datagram). The rare one that times out ends its pass early, never
    /// late.
    found_data: bool,
    /// Waits made in a read (for the tests).
    pub(super) naps: u64,
}

impl Reactor {
    /// The channel a pass waiting up to `timeout` can wait in the read of: the only
    /// channel in the poll, a reading UDP socket with nothing queued that a kick can
    /// reach, the others being datagram channels out of the poll. Worked out again
    /// only when a datagram socket's registration or the set of channels changed
    /// (a queued datagram changes its socket's registration too).
    pub(super) fn sole_reader(&mut self, timeout: Option<Duration>) -> Option<u64> {
        if !cfg!(target_os = "linux")
            || !self.options.wait_in_read
            || !self.options.busy_poll.is_zero()
            || !crate::machine::may_nap(timeout)
            || self.channels.len() != self.datagram_ids.len()
            || self.datagram_ids.len() > SPIN_READERS
        {
            return None;
        }
        self.kicks
            .sole
            .get(self.channels.len(), || self.find_sole_reader())
    }

    /// The one channel in the poll, when it is a UDP socket with nothing queued.
    fn find_sole_reader(&self) -> Option<u64> {
        self.datagrams()
            .filter(|d| d.in_poll == 1)
            .and_then(|d| d.udp_reader)
    }

    /// Waits up to about `timeout` in the read of channel `id` (from
    /// [`sole_reader`](Self::sole_reader)); `None` when this socket cannot wait in its
    /// read (the pass waits in the poll).
    #[cfg(target_os = "linux")]
    pub(super) fn nap<F: FnMut(Received<'_>)>(
        &mut self,
        id: u64,
        timeout: Option<Duration>,
        sink: &mut F,
    ) -> Option<Napped> {
        if self.kicks.parked.is_some_and(|p| p != id) {
            self.unpark();
        }
        let registry = self.poll.registry();
        let ch = self.channels.get_mut(&id)?;
        let Kind::Udp(u) = &mut ch.kind else {
            return None;
        };
        let wake = self.handle.send_queue().wake();
        if self.kicks.prepared != Some((id, timeout)) {
            let target = u.nap_target()?;
            let ready = aim_kicks(&mut self.kicks, wake, target)
                .and_then(|from| u.prepare_nap(timeout, from));
            if let Err(e) = ready {
                log::debug!(
                    "channel {}: waits in the poll, not in its read: {e}",
                    ch.name
                );
                u.cannot_nap();
                return None;
            }
            // A loop of equal waits on one socket prepares it once.
            self.kicks.prepared = Some((id, timeout));
        }
        self.events.clear();
        if !wake.fall_asleep() {
            // A wake-up is pending: the pass reads the queues instead.
            wake.woke();
            return Some(Napped {
                delivered: 0,
                timed_out: false,
                waited: Duration::ZERO,
            });
        }
        self.kicks.naps += 1;
        let cap = self.options.max_datagrams_per_event;
        let batches = self.options.batch_receive > 1;
        let mode = if batches {
            u.nap_reads().mode()
        } else {
            ReadMode::Single
        };
        let batch = (mode == ReadMode::Batch).then(|| {
            let slots = self.options.batch_receive;
            self.batch
                .get_or_insert_with(|| osc_sys::RecvBatch::new(slots, osc_sys::SLOT_SIZE))
        });
        // Out of the poll while it is read here: a socket in an epoll set pays the
        // set's wake-up for every datagram it receives.
        u.park(registry);
        self.kicks.parked = Some(id);
        // A pass with a deadline ends by it: its wait is timed, but in a stream.
        let started = timeout
            .filter(|_| !self.kicks.found_data)
            .map(|_| Instant::now());
        let mut read = u.read_waiting(ChannelId(id), &ch.name, (&mut self.buf, batch), cap, sink);
        if batches {
            u.nap_reads().observed(mode, read.delivered);
            // Reading one at a time by choice: a datagram behind this one ends the
            // next wait at once (a pass that found the socket "not drained" would
            // read it again before waiting, and find nothing most of the time).
            read.drained |= mode == ReadMode::Single;
        }
        // A waker sets `pending` before it kicks.
        let woken = wake.is_pending();
        wake.woke();
        if woken && !read.kicked && read.delivered == 0 {
            self.kicks.prepared = None;
            kick_lost(u, &ch.name);
        }
        let delivered = account_datagrams(
            ch,
            id,
            read,
            &mut self.delivered_now,
            &mut self.more_to_read,
        );
        let timed_out = delivered == 0 && !woken;
        let waited = match started {
            _ if !timed_out => Duration::ZERO,
            Some(started) => started.elapsed(),
            None => timeout.unwrap_or_default(),
        };
        self.kicks.found_data = delivered > 0;
        Some(Napped {
            delivered,
            timed_out,
            waited,
        })
    }

    /// Puts the socket that passes waited in the read of back in the poll, before the
    /// poll is asked (its registration never changed meanwhile).
    pub(super) fn unpark(&mut self) {
        let Some(id) = self.kicks.parked.take() else {
            return;
        };
        let registry = self.poll.registry();
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let Kind::Udp(u) = &mut ch.kind else {
            return;
        };
        match u.unpark(registry, super::token(id)) {
            Ok(()) => self.kicks.unpark_failed = false,
            Err(e) => {
                // Still parked: the next pass that polls tries again.
                self.kicks.parked = Some(id);
                if !std::mem::replace(&mut self.kicks.unpark_failed, true) {
                    log::warn!(
                        "channel {}: cannot put its socket back in the poll (tried again at each poll): {e}",
                        ch.name
                    );
                }
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn nap<F: FnMut(Received<'_>)>(
        &mut self,
        _id: u64,
        _timeout: Option<Duration>,
        _sink: &mut F,
    ) -> Option<Napped> {
        None
    }

    /// How many passes waited in a read.
    #[cfg(test)]
    pub(crate) fn naps(&self) -> u64 {
        self.kicks.naps
    }
}

/// A wake-up came while the read waited, but its kick did not end the read: another
/// socket of the port took it (one bound to the same port with `SO_REUSEADDR`, more
/// precisely or later, gets the datagrams sent to the loopback address). Each wake-up
/// would wait for the read's timeout, so the socket waits in the poll from now on. (A
/// kick still on its way when the read timed out looks the same: that costs the
/// socket its waits in its read, nothing else.)
fn kick_lost(u: &mut crate::udp_io::UdpIo, name: &str) {
    log::info!(
        "channel {name}: a wake-up's kick did not reach its socket (another socket of its port took it?): it waits in the poll from now on"
    );
    u.cannot_nap();
}

/// Points the kick socket (made at the first call) at `target`; returns its address.
/// A target of the other address family than the kick socket's cannot be kicked.
fn aim_kicks(
    kicks: &mut Kicks,
    wake: &crate::command::Wake,
    target: SocketAddr,
) -> std::io::Result<SocketAddr> {
    if let (Some(from), Some(aim)) = (kicks.from, kicks.aimed_at) {
        if aim == target {
            return Ok(from);
        }
    }
    let kick = match wake.kick_socket() {
        Some(k) => k,
        None => {
            let made = crate::socket::open_kick(target)?;
            let _ = wake.set_kick(made);
            wake.kick_socket()
                .ok_or_else(|| std::io::Error::other("no kick socket"))?
        }
    };
    let from = match kicks.from {
        Some(from) => from,
        None => kick.local_addr()?,
    };
    if from.is_ipv4() != target.is_ipv4() {
        return Err(std::io::Error::other(
            "the kick socket is of the other family",
        ));
    }
    kick.connect(target)?;
    kicks.from = Some(from);
    kicks.aimed_at = Some(target);
    Ok(from)
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use std::net::{SocketAddr, UdpSocket};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use crate::{Reactor, TcpServerConfig, UdpConfig};

    const PACKET: &[u8] = b"/a\0\0,\0\0\0";

    fn server(reactor: &mut Reactor, bind: &str) -> SocketAddr {
        let id = reactor
            .open_udp("in", UdpConfig::server(bind.parse().unwrap()))
            .unwrap();
        reactor.local_addr(id).unwrap()
    }

    /// Waits made in a read after one more pass of up to 20 ms.
    fn naps_after_a_short_pass(reactor: &mut Reactor) -> u64 {
        reactor
            .poll(Some(Duration::from_millis(20)), |_| {})
            .unwrap();
        reactor.naps()
    }

    /// Packets as (sender, bytes).
    type Got = Vec<(Option<SocketAddr>, Vec<u8>)>;

    /// Polls up to 10 s; returns the packets and how long the poll took.
    fn poll_long(reactor: &mut Reactor) -> (Got, Duration) {
        let started = Instant::now();
        let mut got = Vec::new();
        reactor
            .poll(Some(Duration::from_secs(10)), |p| {
                got.push((p.peer, p.data.to_vec()))
            })
            .unwrap();
        (got, started.elapsed())
    }

    #[test]
    fn a_lone_udp_server_waits_in_its_read_and_gets_the_datagram() {
        for bind in ["127.0.0.1:0", "[::1]:0", "0.0.0.0:0", "127.0.0.2:0"] {
            let mut reactor = Reactor::new().unwrap();
            let addr = server(&mut reactor, bind);
            let to = match addr.ip() {
                ip if ip.is_loopback() => addr,
                std::net::IpAddr::V4(_) => SocketAddr::from(([127, 0, 0, 1], addr.port())),
                std::net::IpAddr::V6(_) => {
                    SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), addr.port())
                }
            };
            let peer = UdpSocket::bind(SocketAddr::new(to.ip(), 0)).unwrap();
            let me = peer.local_addr().unwrap();
            let sender = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                peer.send_to(PACKET, to).unwrap();
            });
            let (got, _) = poll_long(&mut reactor);
            sender.join().unwrap();
            assert_eq!(got, [(Some(me), PACKET.to_vec())], "{bind}");
            assert_eq!(reactor.naps(), 1, "{bind}");
        }
    }

    #[test]
    fn a_wake_up_from_another_thread_ends_the_wait_and_the_kick_is_not_input() {
        for bind in ["127.0.0.1:0", "127.0.0.2:0", "[::]:0"] {
            wake_up_ends_the_wait(bind);
        }
    }

    fn wake_up_ends_the_wait(bind: &str) {
        let mut reactor = Reactor::new().unwrap();
        let addr = server(&mut reactor, bind);
        let addr = if addr.ip().is_unspecified() {
            SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), addr.port())
        } else {
            addr
        };
        let handle = reactor.handle();
        let out = UdpSocket::bind(SocketAddr::new(addr.ip(), 0)).unwrap();
        out.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let dest = out.local_addr().unwrap();
        let in_id = reactor.id_of("in").unwrap();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            // A send queued by another thread: the reactor writes it after the kick.
            handle.send(in_id, Arc::from(PACKET), Some(dest)).unwrap();
        });
        let (got, took) = poll_long(&mut reactor);
        waker.join().unwrap();
        assert!(
            took < Duration::from_secs(5),
            "woken, not timed out: {took:?}"
        );
        assert!(got.is_empty(), "{bind}: the kick is dropped: {got:?}");
        assert_eq!(reactor.naps(), 1, "{bind}");
        let mut buf = [0u8; 64];
        let (n, _) = out.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], PACKET, "{bind}");
        // The socket still reads after the kick, and a stale kick is dropped too.
        let peer = UdpSocket::bind(SocketAddr::new(addr.ip(), 0)).unwrap();
        peer.send_to(PACKET, addr).unwrap();
        let (got, _) = poll_long(&mut reactor);
        assert_eq!(got.len(), 1);
    }

    /// Right after a wait that found a datagram, the next wait is not timed: if its
    /// read times out, the pass ends then, before its deadline, never after it.
    #[test]
    fn a_wait_after_one_that_found_data_ends_its_pass_by_the_deadline() {
        let mut reactor = Reactor::new().unwrap();
        let addr = server(&mut reactor, "127.0.0.1:0");
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        let wait = Duration::from_millis(300);
        let mut took = Vec::new();
        for _ in 0..3 {
            peer.send_to(PACKET, addr).unwrap();
            assert_eq!(poll_long(&mut reactor).0.len(), 1);
            let started = Instant::now();
            assert_eq!(reactor.poll(Some(wait), |_| {}).unwrap(), 0);
            took.push(started.elapsed());
        }
        assert_eq!(reactor.naps(), 6);
        // The median of three, so that one pass slowed by a busy host does not count.
        took.sort();
        assert!(took[1] < wait + Duration::from_millis(8), "{took:?}");
    }

    /// Another socket bound to the same port with `SO_REUSEADDR`, on the loopback
    /// address, takes the kicks meant for a wildcard server: the first wake-up waits
    /// for the read's timeout, then the server waits in the poll, so the next one is
    /// prompt and the other socket gets no more kicks.
    #[test]
    fn a_server_whose_kicks_another_socket_takes_waits_in_the_poll() {
        let port = UdpSocket::bind("0.0.0.0:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut reactor = Reactor::new().unwrap();
        let in_id = reactor
            .open_udp(
                "in",
                UdpConfig::server(SocketAddr::from(([0, 0, 0, 0], port))),
            )
            .unwrap();
        let thief =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        thief.set_reuse_address(true).unwrap();
        thief
            .bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())
            .unwrap();
        let thief = UdpSocket::from(thief);
        thief.set_nonblocking(true).unwrap();
        let out = UdpSocket::bind("127.0.0.1:0").unwrap();
        let dest = out.local_addr().unwrap();
        // A send queued by another thread while the reactor waits.
        let wake_later = |reactor: &Reactor| {
            let handle = reactor.handle();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                handle.send(in_id, Arc::from(PACKET), Some(dest)).unwrap();
            })
        };
        let waker = wake_later(&reactor);
        let (_, first) = poll_long(&mut reactor);
        waker.join().unwrap();
        let naps = reactor.naps();
        assert!(naps >= 1);
        let mut buf = [0u8; 64];
        let stolen = std::iter::from_fn(|| thief.recv_from(&mut buf).ok()).count();
        assert!(stolen <= 1, "{stolen} kicks went astray");
        let waker = wake_later(&reactor);
        let (_, second) = poll_long(&mut reactor);
        waker.join().unwrap();
        assert!(
            second < Duration::from_millis(500),
            "first {first:?}, second {second:?}"
        );
        assert_eq!(reactor.naps(), naps, "waits in the poll now");
        assert_eq!(thief.recv_from(&mut buf).ok(), None);
    }

    #[test]
    fn a_wait_in_the_read_ends_by_the_pass_timeout() {
        let mut reactor = Reactor::new().unwrap();
        server(&mut reactor, "127.0.0.1:0");
        // The read ends before the deadline and the poll waits what the clock says
        // is left: the pass takes its whole timeout and no more, as a wait in the
        // poll alone does. (Counting the rest from the read's timeout instead, a
        // 300 ms pass took 320-325 ms here: the timer wheel ends such a read late.)
        let wait = Duration::from_millis(300);
        let mut late = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let got = reactor.poll(Some(wait), |_| {}).unwrap();
            let took = started.elapsed();
            assert_eq!(got, 0);
            assert!(took >= wait - Duration::from_millis(1), "{took:?}");
            late.push(took - wait.min(took));
        }
        assert_eq!(reactor.naps(), 3);
        // The least late of three, so that a busy host's scheduling does not count.
        let least = late.iter().min().unwrap();
        assert!(*least < Duration::from_millis(8), "{late:?}");
        // Short waits stay in the poll.
        reactor
            .poll(Some(Duration::from_millis(2)), |_| {})
            .unwrap();
        assert_eq!(reactor.naps(), 3);
    }

    /// A parked socket that the poll refuses back (`epoll_ctl` out of memory or of
    /// watches; here its descriptor is already in the set under another token) stays
    /// parked: passes go on waiting in its read, which still reads its datagrams.
    /// (Counted as out of the poll instead, a receive-only server was read by nothing
    /// from then on.)
    #[test]
    fn a_socket_the_poll_refuses_back_is_still_read() {
        let mut reactor = Reactor::new().unwrap();
        let addr = server(&mut reactor, "127.0.0.1:0");
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.send_to(PACKET, addr).unwrap();
        assert_eq!(poll_long(&mut reactor).0.len(), 1);
        assert_eq!(reactor.naps(), 1);
        // Parked after a read that found a datagram; its descriptor goes in the set.
        let id = reactor.kicks.parked.unwrap();
        let Some(crate::channel::Kind::Udp(u)) = reactor.channels.get(&id).map(|c| &c.kind) else {
            unreachable!("a UDP server");
        };
        let fd = u.raw_fd();
        reactor
            .poll
            .registry()
            .register(
                &mut mio::unix::SourceFd(&fd),
                mio::Token(1 << 40),
                mio::Interest::READABLE,
            )
            .unwrap();
        // A read that times out: the pass asks the poll for the rest, and putting the
        // socket back fails.
        assert_eq!(naps_after_a_short_pass(&mut reactor), 2);
        assert_eq!(reactor.kicks.parked, Some(id));
        peer.send_to(PACKET, addr).unwrap();
        let (got, took) = poll_long(&mut reactor);
        assert_eq!(got.len(), 1, "after {took:?}");
        assert_eq!(reactor.naps(), 3);
    }

    /// The socket a pass waits in the read of leaves the epoll set meanwhile; a pass
    /// that waits in the poll again (another channel opened) must see its input.
    #[test]
    fn a_socket_read_by_waiting_is_back_in_the_poll_when_the_poll_waits() {
        let mut reactor = Reactor::new().unwrap();
        let addr = server(&mut reactor, "127.0.0.1:0");
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.send_to(PACKET, addr).unwrap();
        let (got, _) = poll_long(&mut reactor);
        assert_eq!(got.len(), 1);
        assert_eq!(reactor.naps(), 1);
        // A second reading channel: passes wait in the poll from now on.
        reactor
            .open_udp("in2", UdpConfig::server("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            peer.send_to(PACKET, addr).unwrap();
        });
        let (got, took) = poll_long(&mut reactor);
        sender.join().unwrap();
        assert_eq!(
            got.len(),
            1,
            "the first socket's datagram, seen by the poll"
        );
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(reactor.naps(), 1);
    }

    #[test]
    fn a_socket_read_by_waiting_closes_and_opens_again() {
        let mut reactor = Reactor::new().unwrap();
        server(&mut reactor, "127.0.0.1:0");
        assert_eq!(naps_after_a_short_pass(&mut reactor), 1);
        let id = reactor.id_of("in").unwrap();
        reactor.close(id).unwrap();
        assert_eq!(naps_after_a_short_pass(&mut reactor), 1);
        // A new socket under the same name is waited in the read of, and reads.
        let addr = server(&mut reactor, "127.0.0.1:0");
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.send_to(PACKET, addr).unwrap();
        let (got, _) = poll_long(&mut reactor);
        assert_eq!(got.len(), 1);
        assert_eq!(reactor.naps(), 2);
    }

    #[test]
    fn the_datagram_channels_are_seen_in_one_walk() {
        let mut reactor = Reactor::new().unwrap();
        let none = reactor.datagrams().unwrap();
        assert_eq!((none.in_poll, none.queued, none.udp_reader), (0, 0, None));
        assert!(reactor.polls_only_the_waker());
        // A client that only sends stays out of the poll.
        let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
        let out = UdpConfig::client(sink.local_addr().unwrap());
        reactor.open_udp("out", out).unwrap();
        let d = reactor.datagrams().unwrap();
        assert_eq!((d.in_poll, d.udp_reader), (0, None));
        assert!(reactor.polls_only_the_waker() && reactor.only_datagrams_without_output());
        // A server reads: it is the one reader.
        let id = reactor
            .open_udp("in", UdpConfig::server("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let d = reactor.datagrams().unwrap();
        assert_eq!((d.in_poll, d.udp_reader), (1, Some(id.0)));
        assert_eq!(reactor.find_sole_reader(), Some(id.0));
        assert!(!reactor.polls_only_the_waker());
        // A second reader: no sole reader.
        reactor
            .open_udp("in2", UdpConfig::server("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        assert_eq!(reactor.datagrams().unwrap().in_poll, 2);
        assert_eq!(reactor.find_sole_reader(), None);
        // A stream channel: the answer is "not only datagrams", without a walk.
        let cfg = TcpServerConfig {
            bind: Some("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        };
        reactor.open_tcp_server("tcp", cfg).unwrap();
        assert!(reactor.datagrams().is_none());
        assert!(!reactor.polls_only_the_waker() && !reactor.only_datagrams_without_output());
    }

    #[test]
    fn only_a_lone_reachable_reader_waits_in_its_read() {
        // A TCP listener in the poll too: the poll waits.
        let mut reactor = Reactor::new().unwrap();
        server(&mut reactor, "127.0.0.1:0");
        reactor
            .open_tcp_server(
                "tcp",
                TcpServerConfig {
                    bind: Some("127.0.0.1:0".parse().unwrap()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(naps_after_a_short_pass(&mut reactor), 0);
        // Broadcast (and multicast) receivers often share their port with other
        // programs: a kick could reach one of them.
        let mut reactor = Reactor::new().unwrap();
        let cfg = UdpConfig {
            broadcast: true,
            ..UdpConfig::server("0.0.0.0:0".parse().unwrap())
        };
        reactor.open_udp("in", cfg).unwrap();
        assert_eq!(naps_after_a_short_pass(&mut reactor), 0);
        // SO_REUSEPORT: a kick could reach another socket of the port (a port of its
        // own choosing: on port 0 the option is not set, see `socket::open_socket`).
        let mut reactor = Reactor::new().unwrap();
        let free = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut cfg = UdpConfig::server(free.local_addr().unwrap());
        drop(free);
        cfg.reuse_port = true;
        reactor.open_udp("in", cfg).unwrap();
        assert_eq!(naps_after_a_short_pass(&mut reactor), 0);
        // Two readers: the poll waits.
        let mut reactor = Reactor::new().unwrap();
        server(&mut reactor, "127.0.0.1:0");
        reactor
            .open_udp("in2", UdpConfig::server("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        assert_eq!(naps_after_a_short_pass(&mut reactor), 0);
        // A client that only sends is not in the poll: the server alone waits in its read.
        let mut reactor = Reactor::new().unwrap();
        let addr = server(&mut reactor, "127.0.0.1:0");
        reactor.open_udp("out", UdpConfig::client(addr)).unwrap();
        assert_eq!(naps_after_a_short_pass(&mut reactor), 1);
        // Switched off.
        let options = crate::ReactorConfig {
            wait_in_read: false,
            ..Default::default()
        };
        let mut reactor = Reactor::with_options(options).unwrap();
        server(&mut reactor, "127.0.0.1:0");
        assert_eq!(naps_after_a_short_pass(&mut reactor), 0);
    }

    #[test]
    fn a_socket_left_in_blocking_mode_never_blocks_a_writer_or_a_read() {
        let mut reactor = Reactor::new().unwrap();
        let addr = server(&mut reactor, "127.0.0.1:0");
        assert_eq!(
            naps_after_a_short_pass(&mut reactor),
            1,
            "the socket is in blocking mode now"
        );
        let id = reactor.id_of("in").unwrap();
        let writer = reactor.udp_writer(id).unwrap();
        let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = sink.local_addr().unwrap();
        assert!(writer.try_send(PACKET, Some(to)).unwrap());
        // A pass that does not wait reads without blocking.
        let started = Instant::now();
        assert_eq!(reactor.poll(Some(Duration::ZERO), |_| {}).unwrap(), 0);
        assert!(started.elapsed() < Duration::from_secs(1));
        // A datagram to the server arrives through a non-waiting pass too.
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .send_to(PACKET, addr)
            .unwrap();
        let mut got = 0;
        let started = Instant::now();
        while got == 0 && started.elapsed() < Duration::from_secs(5) {
            got += reactor
                .poll(Some(Duration::from_millis(5)), |_| {})
                .unwrap();
        }
        assert_eq!(got, 1);
    }
}
