//! One pass of the reactor: wait for readiness, read and write what is ready, run the
//! queues of other threads, fire due timers.

use std::io;
use std::time::{Duration, Instant};

use mio::Interest;

use super::{Reactor, Ready, WAKER, token, watch_udp};
use crate::channel::{Channel, Kind};
use std::net::SocketAddr;

use crate::machine::{Admit, ClientState, StreamMachine, StreamTimeouts, deadline};

/// Busy polling asks `epoll` once every this many turns; the turns between read the
/// datagram channels directly.
const SPIN_POLL_EVERY: usize = 4;

/// Why a channel is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// A readiness event.
    Ready,
    /// A readiness event, or input left from the last pass, that must be read until
    /// `WouldBlock` (see `Ready::drain`).
    Drain,
    /// Nothing announced it: a pass reading first, or busy polling among several
    /// sources.
    Unprompted,
    /// Busy polling a reactor whose poll holds nothing but datagram sockets and the
    /// waker: one datagram per call, as a plain spinning loop reads (an empty
    /// `recvfrom` costs less than an empty `recvmmsg`); the read counts as drained,
    /// since the next turn reads again.
    Spin,
}

/// A pass reads first at most this many datagram channels.
pub(super) const READ_FIRST_CHANNELS: usize = 8;

/// Busy polling reads the datagram channels itself when there are at most this many.
pub(super) const SPIN_READERS: usize = 8;

/// What [`Reactor::datagrams`] sees of the datagram channels.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Datagrams {
    /// The channels in the poll (reading, or with datagrams queued to write).
    pub(super) in_poll: usize,
    /// The datagrams queued to write, on all of them.
    pub(super) queued: usize,
    /// The first channel in the poll when it is a UDP socket with nothing queued.
    pub(super) udp_reader: Option<u64>,
}

/// An answer worked out from the datagram channels, kept while no datagram socket's
/// registration changed ([`crate::interest::changes`]) and the number of channels did
/// not either. Only for answers that a channel of another kind makes "no" without a
/// look (those registrations are not counted): the callers check for one first.
#[derive(Debug, Default)]
pub(super) struct KeptAnswer<T: Copy>(std::cell::Cell<Option<((u64, usize), T)>>);

impl<T: Copy> KeptAnswer<T> {
    /// The kept answer, or `work_out`'s (then kept) when something changed.
    pub(super) fn get(&self, channels: usize, work_out: impl FnOnce() -> T) -> T {
        let now = (crate::interest::changes(), channels);
        if let Some((seen, answer)) = self.0.get() {
            if seen == now {
                return answer;
            }
        }
        let answer = work_out();
        self.0.set(Some((now, answer)));
        answer
    }
}

/// The channels busy polling reads ([`Reactor::spin_readers`]), kept on the stack.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct SpinReaders {
    ids: [u64; SPIN_READERS],
    len: usize,
}

impl SpinReaders {
    pub(super) fn ids(&self) -> &[u64] {
        self.ids.get(..self.len).unwrap_or_default()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// How soon a server tries `accept` again after it failed (out of descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);
use crate::stream_io::{StreamIo, UNIX_PEER, source};
use crate::{ChannelError, ChannelEvent, ChannelId, DropReason, Received, Result, Verdict};

impl Reactor {
    pub(super) fn pass<F: FnMut(Received<'_>)>(
        &mut self,
        timeout: Option<Duration>,
        sink: &mut F,
    ) -> Result<usize> {
        // Sends queued without a wake-up (`ReactorHandle::send_deferred`) go out first.
        self.run_queued_sends();
        let timeout = self.bounded_wait(timeout);
        std::mem::swap(&mut self.delivered_now, &mut self.delivered_before);
        self.delivered_now.clear();
        let sole = self.sole_reader(timeout);
        let napped = sole.and_then(|id| self.nap(id, timeout, sink));
        let mut delivered = match napped {
            Some(n) => n.delivered,
            None => self.read_first(sink),
        };
        if let Some(n) = napped {
            if n.timed_out {
                // The rest of a wait in a read that timed out is waited in the poll.
                self.poll_events(timeout.map(|t| t.saturating_sub(n.waited)))?;
            }
        } else if delivered > 0 {
            // Served without waiting; epoll is still asked now and then.
            if self.read_first.must_poll() {
                self.poll_events(Some(Duration::ZERO))?;
            } else {
                self.events.clear();
            }
        } else {
            self.read_first.polled();
            delivered = self.wait(timeout, sink)?;
        }
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        let mut woken = false;
        for ev in self.events.iter() {
            if ev.token() == WAKER {
                woken = true;
                continue;
            }
            let drain = ev.is_read_closed() || ev.is_error();
            ready.push(Ready {
                id: ev.token().0 as u64,
                readable: ev.is_readable() || drain,
                writable: ev.is_writable(),
                drain,
            });
        }
        // Input left by the last pass (a wait in a read starts with none: what it
        // left is the next pass's).
        let left = if napped.is_some() {
            0
        } else {
            self.more_to_read.len()
        };
        for id in self.more_to_read.drain(..left) {
            ready.push(Ready {
                id,
                readable: true,
                writable: false,
                drain: true,
            });
        }
        for r in &ready {
            if r.writable {
                self.on_writable(r.id);
            }
            if r.readable {
                let how = if r.drain { Read::Drain } else { Read::Ready };
                delivered += self.on_readable(r.id, how, sink);
            }
        }
        self.ready = ready;
        if woken {
            self.handle.send_queue().wake().clear();
        }
        self.run_queued_sends();
        self.run_control();
        self.fire_timers();
        self.answer_flush_waiters();
        if self.options.read_first && self.read_first_policy.pass(delivered) {
            self.read_first_policy
                .window_over(osc_sys::process_cpu_time());
        }
        Ok(delivered)
    }

    /// Reads the datagram channels that delivered in the last pass, before this pass
    /// waits, when [`ReadFirst`](crate::machine::ReadFirst) says it pays: a reply or
    /// the next datagram of a stream is often there already (the peer ran while this
    /// thread handled the last one), and then this read replaces `epoll_wait` plus a
    /// read. Returns the datagrams delivered.
    fn read_first<F: FnMut(Received<'_>)>(&mut self, sink: &mut F) -> usize {
        let sent = self.handle.send_queue().take_sent();
        if !self.options.read_first
            || self.delivered_before.is_empty()
            || !self
                .read_first
                .try_now(self.read_first_policy.policy().allows(sent))
        {
            return 0;
        }
        let before = std::mem::take(&mut self.delivered_before);
        let got: usize = before
            .iter()
            .map(|&id| self.on_readable(id, Read::Unprompted, sink))
            .sum();
        self.delivered_before = before;
        self.read_first.found(got > 0);
        got
    }

    /// The wait of this pass: `timeout`, shortened by unread input (no wait), flush
    /// waiters (5 ms steps) and the next timer.
    #[inline]
    fn bounded_wait(&self, timeout: Option<Duration>) -> Option<Duration> {
        let mut timeout = timeout;
        let mut cap = |limit: Duration| timeout = Some(timeout.map_or(limit, |t| t.min(limit)));
        if !self.more_to_read.is_empty() || self.handle.control_queued().is_raised() {
            cap(Duration::ZERO);
        }
        if !self.flush_waiters.is_empty() {
            cap(Duration::from_millis(5));
        }
        if let Some(due) = self.timers.next() {
            cap(due.saturating_duration_since(Instant::now()));
        }
        timeout
    }

    /// Waits for readiness events: up to `timeout` (`None`: without limit), busy polling
    /// first when [`ReactorConfig::busy_poll`](crate::ReactorConfig::busy_poll) asks
    /// for it. Returns the datagrams delivered while busy polling.
    ///
    /// Busy polling reads the datagram channels themselves (a read that finds nothing
    /// costs what an `epoll_wait` that finds nothing does, and one that finds a
    /// datagram saves the `epoll_wait` before it: one system call per hop, as a plain
    /// spinning loop makes). When the poll holds nothing else but the waker, it reads
    /// a datagram per `recvfrom` and watches the waker's flag instead of asking
    /// `epoll`; else it reads batches and asks `epoll` every [`SPIN_POLL_EVERY`]th
    /// turn, for the other channels and the waker.
    fn wait<F: FnMut(Received<'_>)>(
        &mut self,
        timeout: Option<Duration>,
        sink: &mut F,
    ) -> Result<usize> {
        let spin = self.options.busy_poll;
        let mut timeout = timeout;
        if !spin.is_zero() && timeout != Some(Duration::ZERO) {
            let started = Instant::now();
            let spin = timeout.map_or(spin, |t| t.min(spin));
            // When the poll could only report the datagram sockets (read here anyway)
            // and the waker, the waker's flag answers what `epoll_wait` would.
            let quiet = !self.datagram_ids.is_empty() && self.only_datagrams_without_output();
            let how = if quiet { Read::Spin } else { Read::Unprompted };
            let (readers, direct) = match self.spin_readers() {
                Some(r) => (r, true),
                // More than SPIN_READERS: epoll alone is asked.
                None => (SpinReaders::default(), false),
            };
            let mut turn = 0usize;
            let found = loop {
                let look = turn % SPIN_POLL_EVERY == 0;
                if quiet && self.handle.send_queue().wake().is_pending() {
                    // Woken: this pass runs the queues (the waker's edge, still in the
                    // poll, ends a later wait once).
                    self.handle.send_queue().wake().clear();
                    self.events.clear();
                    break Ok(Some(0));
                }
                if !direct || readers.is_empty() || (look && !quiet) {
                    if let Err(e) = self.poll_events(Some(Duration::ZERO)) {
                        break Err(e);
                    }
                    if !self.events.is_empty() {
                        break Ok(Some(0));
                    }
                } else {
                    let got: usize = readers
                        .ids()
                        .iter()
                        .map(|&id| self.on_readable(id, how, sink))
                        .sum();
                    if got > 0 {
                        self.events.clear();
                        break Ok(Some(got));
                    }
                }
                turn += 1;
                let spent = started.elapsed();
                if spent >= spin {
                    timeout = timeout.map(|t| t.saturating_sub(spent));
                    break Ok(None);
                }
                std::hint::spin_loop();
            };
            if let Some(delivered) = found? {
                return Ok(delivered);
            }
        }
        self.poll_events(timeout)?;
        Ok(0)
    }

    /// Asks `epoll` for readiness, waiting up to `timeout`. A look without waiting
    /// when only the waker is registered is skipped: the pass reads the queues the
    /// waker stands for anyway, so `epoll_wait` could only answer "nothing" (an
    /// application that sends and calls `process()` in a loop saves a system call per
    /// message). A wake-up it did not collect stays pending and ends the next wait.
    fn poll_events(&mut self, timeout: Option<Duration>) -> Result<()> {
        if timeout == Some(Duration::ZERO) && self.polls_only_the_waker() {
            self.events.clear();
            return Ok(());
        }
        self.unpark();
        match self.poll.poll(&mut self.events, timeout) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                Err(ChannelError::io("poll", "reactor", e))
            }
            _ => Ok(()),
        }
    }

    /// The datagram channels, looked at once, when they are all the channels there
    /// are and at most a few ([`SPIN_READERS`]); `None` otherwise (without looking
    /// at them). Busy polling, the idle check and the wait in a read each ask one
    /// question of it.
    pub(super) fn datagrams(&self) -> Option<Datagrams> {
        if self.channels.len() != self.datagram_ids.len() || self.datagram_ids.len() > SPIN_READERS
        {
            return None;
        }
        let mut d = Datagrams::default();
        for id in &self.datagram_ids {
            let Some(ch) = self.channels.get(id) else {
                continue;
            };
            let (queued, udp) = match &ch.kind {
                Kind::Udp(u) => (u.queued(), true),
                Kind::UnixDatagram(u) => (u.queued(), false),
                _ => return None,
            };
            d.queued += queued;
            if ch.kind.in_poll() {
                d.in_poll += 1;
                if d.in_poll == 1 && udp && queued == 0 {
                    d.udp_reader = Some(*id);
                }
            }
        }
        Some(d)
    }

    /// The datagram channels that read, which busy polling reads itself; `None` when
    /// there are more than [`SPIN_READERS`]. A send-only channel is left alone: its
    /// socket is not read when the reactor waits in `epoll` either.
    pub(super) fn spin_readers(&self) -> Option<SpinReaders> {
        let mut r = SpinReaders::default();
        for id in &self.datagram_ids {
            if self
                .channels
                .get(id)
                .is_some_and(|c| c.kind.reads_datagrams())
            {
                *r.ids.get_mut(r.len)? = *id;
                r.len += 1;
            }
        }
        Some(r)
    }

    /// Whether every channel is a datagram socket with nothing queued to write: the
    /// poll can then report nothing but their input and the waker.
    pub(super) fn only_datagrams_without_output(&self) -> bool {
        self.datagrams().is_some_and(|d| d.queued == 0)
    }

    /// Whether the waker is the poll's only source: every channel is a datagram socket
    /// that is out of the poll (it does not read, and has nothing queued). Worked out
    /// again only when a datagram socket's registration or the number of channels
    /// changed.
    pub(super) fn polls_only_the_waker(&self) -> bool {
        if self.channels.len() != self.datagram_ids.len() {
            // Another kind of channel (its registrations are not counted): "no".
            return false;
        }
        self.only_the_waker.get(self.channels.len(), || {
            self.datagrams().is_some_and(|d| d.in_poll == 0)
        })
    }

    /// Handles a readable event; returns the packets delivered.
    fn on_readable<F: FnMut(Received<'_>)>(&mut self, id: u64, how: Read, sink: &mut F) -> usize {
        let Some(ch) = self.channels.get_mut(&id) else {
            return 0;
        };
        let cid = ChannelId(id);
        // Streams and listeners are handled in their arms; datagram sockets give
        // their read to `account_datagrams` after the match.
        let read = match &mut ch.kind {
            Kind::Udp(u) if !u.reads() => {
                // A client's socket is in the poll for writing: an error event (its
                // peer refused a datagram) is no input to read.
                u.clear_error(&ch.name);
                return 0;
            }
            Kind::Udp(u) => {
                let spin = how == Read::Spin;
                let cap = if spin {
                    1
                } else {
                    self.options.max_datagrams_per_event
                };
                #[cfg(target_os = "linux")]
                let mut read = if self.options.batch_receive > 1 && !spin {
                    // A read nothing announced may find the socket empty: only a batch
                    // tells "drained" without a second call that says `EAGAIN`.
                    let adaptive = self.options.adaptive_receive;
                    let mode = if adaptive && matches!(how, Read::Ready | Read::Drain) {
                        u.chooser().mode()
                    } else {
                        crate::machine::ReadMode::Batch
                    };
                    let started = (adaptive && u.chooser().wants_timing()).then(Instant::now);
                    let read = if mode == crate::machine::ReadMode::Batch {
                        let slots = self.options.batch_receive;
                        let batch = self.batch.get_or_insert_with(|| {
                            osc_sys::RecvBatch::new(slots, osc_sys::SLOT_SIZE)
                        });
                        u.read_batch(cid, &ch.name, batch, cap, sink)
                    } else {
                        u.read(cid, &ch.name, &mut self.buf, cap, sink)
                    };
                    if let Some(t) = started {
                        u.chooser().observed(mode, read.delivered, t.elapsed());
                    }
                    read
                } else {
                    u.read(cid, &ch.name, &mut self.buf, cap, sink)
                };
                #[cfg(not(target_os = "linux"))]
                let mut read = u.read(cid, &ch.name, &mut self.buf, cap, sink);
                // A spin reads again at its next turn.
                read.drained |= spin;
                read
            }
            Kind::UnixDatagram(u) => {
                let cap = self.options.max_datagrams_per_event;
                u.read(cid, &ch.name, &mut self.buf, cap, sink)
            }
            Kind::Listener { .. } => {
                self.accept_all(id);
                return 0;
            }
            Kind::Conn { io, .. } | Kind::Client { io: Some(io), .. } => {
                let bytes = self.options.max_stream_bytes_per_event;
                let packets = self.options.max_stream_packets_per_event.max(1);
                let name = ch.name.as_str();
                let stats = &ch.stats;
                let peer = io.peer();
                let now = Instant::now();
                let drain = how == Read::Drain;
                // One arrival time for the packets cut from this event's reads, as
                // for a batch of datagrams (a clock read per packet cost as much as
                // cutting it out).
                let arrival = std::time::SystemTime::now();
                // Counted once per event, as for a batch of datagrams (two atomic
                // additions per packet cost more than cutting it out).
                let (mut got, mut got_bytes) = (0usize, 0usize);
                let read = io.read(now, &mut self.buf, (bytes, packets), drain, |data| {
                    got += 1;
                    got_bytes += data.len();
                    sink(Received {
                        channel: cid,
                        name,
                        peer,
                        peer_path: None,
                        arrival,
                        data,
                    });
                });
                stats.count_in_batch(got, got_bytes);
                // Reading may have produced bytes to write (a WebSocket handshake
                // answer, a pong, a close): the socket has long been writable, so no
                // writable event will come for them.
                let mut read = read;
                if io.machine.pending() > 0 && read.closed.is_none() {
                    if let Err(e) = io.flush() {
                        log::debug!("channel {}: write after read failed: {e}", ch.name);
                        read.closed = Some("write error");
                    }
                }
                let who = (read.truncated > 0).then(|| io.describe());
                for (reason, n) in read.deframed.drops() {
                    for _ in 0..n {
                        ch.report_drop(reason, peer);
                    }
                }
                if read.truncated > 0 {
                    log::warn!(
                        "channel {}: {} bytes of an incomplete packet lost when {} disconnected",
                        ch.name,
                        read.truncated,
                        who.as_deref().unwrap_or("?")
                    );
                    ch.report_drop(DropReason::Truncated, peer);
                }
                if read.more {
                    self.more_to_read.push(id);
                }
                if let Some(reason) = read.closed {
                    self.lost_stream(id, reason);
                } else if self.account(id) {
                    self.over_budget(id, peer);
                } else {
                    self.arm(id);
                }
                return read.deframed.packets;
            }
            Kind::Client { io: None, .. } => return 0,
        };
        // A datagram socket's read: counted, its cut datagrams reported.
        account_datagrams(
            ch,
            id,
            read,
            &mut self.delivered_now,
            &mut self.more_to_read,
        )
    }

    /// Handles a writable event: finishes a client's connect, flushes queues.
    fn on_writable(&mut self, id: u64) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let broken = match &mut ch.kind {
            Kind::Udp(u) => {
                let (stats, name, events) = (&ch.stats, &ch.name, ch.events.as_ref());
                let (packets, bytes) = u.flush(|e, peer| {
                    log::warn!("channel {name}: send failed: {e}");
                    stats.count_drop(DropReason::SendFailed);
                    crate::event::emit(
                        events,
                        name,
                        ChannelEvent::Dropped {
                            reason: DropReason::SendFailed,
                            peer,
                        },
                    );
                });
                if packets > 0 {
                    stats.count_out_batch(packets, bytes);
                }
                watch_udp(self.poll.registry(), id, u, name);
                None
            }
            Kind::UnixDatagram(u) => {
                let (stats, name, events) = (&ch.stats, &ch.name, ch.events.as_ref());
                let (packets, bytes) = u.flush(|e| {
                    log::warn!("channel {name}: send failed: {e}");
                    stats.count_drop(DropReason::SendFailed);
                    crate::event::emit(
                        events,
                        name,
                        ChannelEvent::Dropped {
                            reason: DropReason::SendFailed,
                            peer: None,
                        },
                    );
                });
                if packets > 0 {
                    stats.count_out_batch(packets, bytes);
                }
                if let Err(e) = u.watch(self.poll.registry(), token(id)) {
                    log::warn!("channel {name}: cannot update its poll registration: {e}");
                }
                None
            }
            Kind::Client {
                io: Some(io),
                reconnect,
                ..
            } => {
                let mut broken = None;
                if let ClientState::Connecting { .. } = reconnect.state() {
                    match io.stream.connect_result() {
                        Ok(true) => {
                            reconnect.connected();
                            log::debug!("channel {}: connected to {}", ch.name, io.describe());
                            let events = ch.events.as_ref();
                            crate::event::emit(events, &ch.name, ChannelEvent::Activated);
                            crate::event::emit(events, &ch.name, io.connected());
                        }
                        Ok(false) => return,
                        Err(e) => broken = Some(e.to_string()),
                    }
                }
                broken.or_else(|| io.flush().err().map(|e| e.to_string()))
            }
            // Edge-triggered events carry the writable bit with every readable one:
            // a connection with nothing to write has nothing to do here.
            Kind::Conn { io, .. } if io.machine.pending() == 0 => None,
            Kind::Conn { io, .. } => {
                let broken = io.flush().err().map(|e| e.to_string());
                if broken.is_none() {
                    self.account(id);
                }
                broken
            }
            Kind::Listener { .. } | Kind::Client { io: None, .. } => None,
        };
        if let Some(reason) = broken {
            self.lost_stream(id, &reason);
        }
    }

    /// A stream ended or failed: connections close; clients reconnect if configured.
    fn lost_stream(&mut self, id: u64, reason: &str) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let Kind::Client { io, cfg, reconnect } = &mut ch.kind else {
            log::debug!("channel {}: {reason}", ch.name);
            self.close_channel(id, reason);
            return;
        };
        let lost = reconnect.lost(Instant::now());
        let dest = cfg.target();
        if let Some(mut c) = io.take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
            if c.machine.pending() > 0 {
                ch.stats.count_drop(DropReason::SendFailed);
            }
            if lost.was_connected {
                ch.emit(c.disconnected(reason));
            }
        }
        log::warn!("channel {}: connection to {dest} lost: {reason}", ch.name);
        ch.emit(ChannelEvent::Error(reason));
        if let Some(at) = lost.retry_at {
            self.timers.insert(at, id);
        }
    }

    /// Starts the reconnections that are due.
    // Inlined, the rest out of line: most passes have no timer, and skip the clock read
    // without a call.
    #[inline]
    fn fire_timers(&mut self) {
        if !self.timers.is_empty() {
            self.fire_due_timers();
        }
    }

    /// [`fire_timers`](Self::fire_timers) when some timer is set.
    #[inline(never)]
    fn fire_due_timers(&mut self) {
        let now = Instant::now();
        while let Some(id) = self.timers.pop_due(now) {
            match self.channels.get(&id).map(|c| &c.kind) {
                Some(Kind::Conn { .. }) => {
                    self.check_timeouts(id, now);
                    continue;
                }
                Some(Kind::Listener { .. }) => {
                    self.accept_all(id);
                    continue;
                }
                _ => {}
            }
            let due = matches!(
                self.channels.get(&id).map(|c| &c.kind),
                Some(Kind::Client { reconnect, .. }) if reconnect.due(now)
            );
            if !due {
                continue; // a stale entry: the channel closed or reconnected since
            }
            let Some(mut ch) = self.channels.remove(&id) else {
                continue;
            };
            let result = self.connect_client(ChannelId(id), &mut ch);
            self.channels.insert(id, ch);
            if let Err(e) = result {
                self.lost_stream(id, &e.to_string());
            }
        }
    }

    /// Accepts every pending connection of a TCP server.
    fn accept_all(&mut self, id: u64) {
        loop {
            let Some(ch) = self.channels.get_mut(&id) else {
                return;
            };
            let Kind::Listener {
                listener,
                cfg,
                admission,
                ..
            } = &mut ch.kind
            else {
                return;
            };
            let (mut stream, peer, suffix) = match listener.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: the connections wait in the kernel's backlog
                    // and raise no new readiness edge, so try again soon.
                    log::warn!("channel {}: accept failed: {e}; retrying", ch.name);
                    ch.emit(ChannelEvent::Error("accept failed"));
                    if let Some(at) = deadline(Instant::now(), ACCEPT_RETRY) {
                        self.timers.insert(at, id);
                    }
                    return;
                }
            };
            let limits = cfg.limits;
            let timeouts = StreamTimeouts {
                frame: limits.frame_timeout,
                first_packet: cfg.first_packet_timeout,
                idle: cfg.idle_timeout,
            };
            let framing = cfg.framing;
            let origins = cfg.ws_origins.clone();
            let admitted = admission.admit(source(peer));
            if !self.admitted(id, admitted, peer) {
                continue;
            }
            let Some(ch) = self.channels.get(&id) else {
                return;
            };
            if let Some(p) = peer {
                if ch.emit(ChannelEvent::ConnectionRequest(p)) == Verdict::Refuse {
                    log::info!(
                        "channel {}: connection from {p} refused by the event handler",
                        ch.name
                    );
                    ch.report_drop(DropReason::Refused, peer);
                    self.release_place(id, peer);
                    continue;
                }
            }
            let events = ch.events.clone();
            // A connection counts in its server's counters.
            let stats = std::sync::Arc::clone(&ch.stats);
            let name = format!("{}/{suffix}", ch.name);
            let conn_id = self.take_id();
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                token(conn_id.0),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                log::warn!("channel {name}: register failed: {e}");
                self.release_place(id, peer);
                continue;
            }
            log::debug!("channel {name}: accepted");
            let machine = StreamMachine::new(peer.unwrap_or(UNIX_PEER), framing, limits)
                .with_ws_origins(origins)
                .with_timeouts(Instant::now(), timeouts);
            let io = StreamIo::new(stream, machine);
            crate::event::emit(events.as_ref(), &name, io.connected());
            let kind = Kind::Conn {
                io,
                server: id,
                held: 0,
                armed: None,
            };
            let mut conn = Channel::new(&name, kind, events);
            conn.stats = stats;
            self.insert(conn_id, conn);
            self.arm(conn_id.0);
        }
    }

    /// Applies the admission decision for `peer` on server `id`: whether it may come
    /// in (a place was taken, or made by evicting a connection).
    fn admitted(&mut self, id: u64, admitted: Admit, peer: Option<SocketAddr>) -> bool {
        let who = peer.map_or_else(|| "a Unix peer".to_owned(), |p| p.to_string());
        let Some(ch) = self.channels.get(&id) else {
            return false;
        };
        match admitted {
            Admit::Yes => true,
            Admit::SourceFull => {
                log::warn!(
                    "channel {}: refusing {who}: too many connections from {}",
                    ch.name,
                    source(peer)
                );
                ch.report_drop(DropReason::TooManyConnections, peer);
                false
            }
            Admit::Full => match self.eviction_candidate(id) {
                Some(victim) => {
                    self.evict(id, victim, &who);
                    match self.channels.get_mut(&id).map(|c| &mut c.kind) {
                        Some(Kind::Listener { admission, .. }) => {
                            admission.admit(source(peer)) == Admit::Yes
                        }
                        _ => false,
                    }
                }
                None => {
                    log::warn!(
                        "channel {}: refusing {who}: {} connections already, all active",
                        ch.name,
                        self.connections(ChannelId(id)).len()
                    );
                    ch.report_drop(DropReason::TooManyConnections, peer);
                    false
                }
            },
        }
    }

    /// The connection of server `id` that a newcomer may replace: the one waiting
    /// longest for its first packet or in the middle of a frame, else the one silent
    /// longest (see [`StreamMachine::evictable`]).
    fn eviction_candidate(&self, id: u64) -> Option<u64> {
        let now = Instant::now();
        self.channels
            .iter()
            .filter_map(|(&cid, c)| match &c.kind {
                Kind::Conn { io, server, .. } if *server == id => io
                    .machine
                    .evictable(now)
                    .map(|(first, since)| ((!first, since), cid)),
                _ => None,
            })
            .min()
            .map(|(_, cid)| cid)
    }

    fn evict(&mut self, server: u64, victim: u64, newcomer: &str) {
        if let Some(ch) = self.channels.get(&server) {
            let gone = self.channels.get(&victim).map(|c| c.name.clone());
            log::warn!(
                "channel {}: full; closing {} to admit {newcomer}",
                ch.name,
                gone.as_deref().unwrap_or("?")
            );
            let peer = match self.channels.get(&victim).map(|c| &c.kind) {
                Some(Kind::Conn { io, .. }) => io.peer(),
                _ => None,
            };
            ch.report_drop(DropReason::Evicted, peer);
        }
        self.close_channel(victim, "evicted for a new connection");
    }

    /// Gives back the place taken for `peer` on server `id`.
    fn release_place(&mut self, id: u64, peer: Option<SocketAddr>) {
        if let Some(Kind::Listener { admission, .. }) =
            self.channels.get_mut(&id).map(|c| &mut c.kind)
        {
            admission.release(source(peer));
        }
    }

    /// Puts a server connection's next deadline into the timers, when it is earlier
    /// than the one already there (deadlines only move later, so a timer that fires
    /// early just arms the next one).
    fn arm(&mut self, id: u64) {
        let Some(Kind::Conn { io, armed, .. }) = self.channels.get_mut(&id).map(|c| &mut c.kind)
        else {
            return;
        };
        let Some(next) = io.machine.deadline() else {
            return;
        };
        if armed.is_none_or(|a| next < a) {
            *armed = Some(next);
            self.timers.insert(next, id);
        }
    }

    /// A server connection's timer fired: close it if a time limit is broken, else
    /// arm the next deadline.
    fn check_timeouts(&mut self, id: u64, now: Instant) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let Kind::Conn { io, armed, .. } = &mut ch.kind else {
            return;
        };
        *armed = None;
        match io.machine.expired(now) {
            Some(why) => {
                let peer = io.peer();
                log::warn!("channel {}: closing: {why}", ch.name);
                self.report_on_server(id, DropReason::TimedOut, peer);
                self.close_channel(id, "timed out");
            }
            None => self.arm(id),
        }
    }

    /// Counts a connection's drop on its server (the connection is about to close,
    /// and its own counters with it) and reports it to the server's event handler.
    fn report_on_server(&self, id: u64, reason: DropReason, peer: Option<SocketAddr>) {
        let server = match self.channels.get(&id).map(|c| &c.kind) {
            Some(Kind::Conn { server, .. }) => *server,
            _ => return,
        };
        if let Some(ch) = self.channels.get(&server) {
            ch.report_drop(reason, peer);
        }
    }

    /// A server connection passed its server's memory budget by reading: closed.
    fn over_budget(&mut self, id: u64, peer: Option<SocketAddr>) {
        if let Some(ch) = self.channels.get(&id) {
            log::warn!(
                "channel {}: closing: the server's memory budget for buffered data is spent",
                ch.name
            );
        }
        self.report_on_server(id, DropReason::MemoryBudget, peer);
        self.close_channel(id, "memory budget");
    }

    /// Tells flush waiters whether everything is written, once it is or their time is up.
    #[inline]
    fn answer_flush_waiters(&mut self) {
        if !self.flush_waiters.is_empty() {
            self.answer_waiting_flushes();
        }
    }

    /// [`answer_flush_waiters`](Self::answer_flush_waiters) when some thread waits.
    #[inline(never)]
    fn answer_waiting_flushes(&mut self) {
        let done = self.pending_output() == 0;
        let now = Instant::now();
        self.flush_waiters.retain(|(deadline, reply)| {
            if done || deadline.is_some_and(|d| d <= now) {
                let _ = reply.send(done);
                false
            } else {
                true
            }
        });
    }
}

/// Counts what one read of datagram channel `id` delivered, reports the datagrams it
/// cut, and notes whether the socket has more to read; returns the datagrams delivered.
pub(super) fn account_datagrams(
    ch: &mut Channel,
    id: u64,
    read: crate::udp_io::UdpRead,
    delivered_now: &mut Vec<u64>,
    more_to_read: &mut Vec<u64>,
) -> usize {
    if read.delivered > 0 {
        ch.stats.count_in_batch(read.delivered, read.bytes);
        note_delivery(delivered_now, id);
    }
    for peer in read.cut {
        ch.report_drop(DropReason::Oversized, peer);
    }
    if !read.drained {
        more_to_read.push(id);
    }
    read.delivered
}

/// Notes in `delivered` that datagram channel `id` delivered in this pass (the first
/// few such channels: reading first is for the sockets that are busy).
fn note_delivery(delivered: &mut Vec<u64>, id: u64) {
    if delivered.len() < READ_FIRST_CHANNELS && !delivered.contains(&id) {
        delivered.push(id);
    }
}
