//! A channel's state inside the reactor, and the per-kind readiness handlers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mio::Interest;

use crate::event::emit;
use crate::reactor::{ChannelId, Received};
use crate::stream::StreamConn;
use crate::udp::UdpChannel;
use crate::{
    ChannelEvent, ChannelStats, DropReason, EventHandler, Reactor, TcpClientConfig,
    TcpServerConfig, Verdict,
};

/// A TCP client's connection state.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ClientState {
    /// `connect` issued, waiting for the socket to become writable.
    Connecting,
    /// Connected.
    Connected,
    /// Waiting to reconnect at `until`; `backoff` is the wait that led here.
    Waiting { until: Instant, backoff: Duration },
    /// Failed and not reconnecting.
    Failed,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Udp(UdpChannel),
    Listener {
        listener: mio::net::TcpListener,
        local: SocketAddr,
        cfg: TcpServerConfig,
        count: usize,
    },
    Conn {
        conn: StreamConn,
        server: u64,
    },
    Client {
        conn: Option<StreamConn>,
        cfg: TcpClientConfig,
        state: ClientState,
    },
}

pub(crate) struct Channel {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) stats: Arc<ChannelStats>,
    pub(crate) events: Option<EventHandler>,
}

impl Channel {
    pub(crate) fn new(name: &str, kind: Kind, events: Option<EventHandler>) -> Self {
        Channel {
            name: name.to_owned(),
            kind,
            stats: Arc::new(ChannelStats::default()),
            events,
        }
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        match &self.kind {
            Kind::Udp(u) => Some(u.info.local),
            Kind::Listener { local, .. } => Some(*local),
            Kind::Conn { conn, .. } => conn.stream.local_addr().ok(),
            Kind::Client { conn, .. } => conn.as_ref().and_then(|c| c.stream.local_addr().ok()),
        }
    }

    pub(crate) fn pending_output(&self) -> usize {
        match &self.kind {
            Kind::Udp(u) => u.queued(),
            Kind::Conn { conn, .. } => conn.pending(),
            Kind::Client {
                conn: Some(c),
                state: ClientState::Connected | ClientState::Connecting,
                ..
            } => c.pending(),
            _ => 0,
        }
    }

    fn drop_event(&self, reason: DropReason, peer: Option<SocketAddr>) {
        self.stats.count_drop(reason);
        emit(
            self.events.as_ref(),
            &self.name,
            ChannelEvent::Dropped { reason, peer },
        );
    }
}

/// The parts of a channel a UDP read needs (the socket is borrowed apart).
struct ReadFrom<'a> {
    id: u64,
    name: &'a str,
    stats: &'a ChannelStats,
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    events: Option<&'a EventHandler>,
}

/// Reads datagrams one `recv_from` at a time until the socket would block or `cap`
/// were delivered; returns `(delivered, drained)`.
fn read_udp<F: FnMut(Received<'_>)>(
    ch: &ReadFrom<'_>,
    socket: &mio::net::UdpSocket,
    buf: &mut [u8],
    cap: usize,
    sink: &mut F,
) -> (usize, bool) {
    let mut delivered = 0;
    while delivered < cap {
        match socket.recv_from(buf) {
            Ok((n, peer)) => {
                delivered += 1;
                ch.stats.count_in(n);
                sink(Received {
                    channel: ChannelId(ch.id),
                    name: ch.name,
                    peer: Some(peer),
                    arrival: SystemTime::now(),
                    data: buf.get(..n).unwrap_or_default(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return (delivered, true),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                // ICMP errors from earlier sends surface here: not fatal.
                log::debug!("channel {}: receive error: {e}", ch.name);
            }
        }
    }
    (delivered, false)
}

/// Reads datagrams with `recvmmsg`, up to `cap` (a truncated datagram counts towards
/// it); returns `(delivered, drained)`. All datagrams of one call share one arrival
/// time.
///
/// A call that returns fewer datagrams than asked found the socket empty, so the
/// socket counts as drained without another call that would only say `EAGAIN`: a
/// datagram that arrives later raises a new readiness edge. (The kernel also ends a
/// batch early when an error is pending, such as an ICMP error from an earlier send;
/// the arrival of that error raised an edge of its own, so the next pass reads on.)
#[cfg(target_os = "linux")]
fn read_udp_batch<F: FnMut(Received<'_>)>(
    ch: &ReadFrom<'_>,
    socket: &mio::net::UdpSocket,
    batch: &mut crate::sys::RecvBatch,
    cap: usize,
    sink: &mut F,
) -> (usize, bool) {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    let mut taken = 0;
    let mut delivered = 0;
    while taken < cap {
        let want = (cap - taken).min(batch.slots());
        let n = match batch.recv(fd, want) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return (delivered, true),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // ICMP errors from earlier sends surface here: not fatal.
                log::debug!("channel {}: receive error: {e}", ch.name);
                continue;
            }
        };
        let arrival = SystemTime::now();
        let mut bytes = 0;
        let mut good = 0;
        for i in 0..n {
            let Some(d) = batch.get(i) else { break };
            if d.truncated {
                log::warn!(
                    "channel {}: a datagram from {:?} did not fit {} bytes and was cut: dropped",
                    ch.name,
                    d.peer,
                    crate::sys::SLOT_SIZE
                );
                ch.stats.count_drop(DropReason::Oversized);
                emit(
                    ch.events,
                    ch.name,
                    ChannelEvent::Dropped {
                        reason: DropReason::Oversized,
                        peer: d.peer,
                    },
                );
                continue;
            }
            good += 1;
            bytes += d.data.len();
            sink(Received {
                channel: ChannelId(ch.id),
                name: ch.name,
                peer: d.peer,
                arrival,
                data: d.data,
            });
        }
        ch.stats.count_in_batch(good, bytes);
        taken += n;
        delivered += good;
        if n < want {
            return (delivered, true);
        }
    }
    (delivered, false)
}

impl Reactor {
    /// Handles a readable event; returns the packets delivered.
    pub(crate) fn on_readable<F: FnMut(Received<'_>)>(&mut self, id: u64, sink: &mut F) -> usize {
        let Some(ch) = self.channels.get_mut(&id) else {
            return 0;
        };
        match &mut ch.kind {
            Kind::Udp(u) => {
                let cap = self.options.max_datagrams_per_event;
                let from = ReadFrom {
                    id,
                    name: &ch.name,
                    stats: &ch.stats,
                    events: ch.events.as_ref(),
                };
                #[cfg(target_os = "linux")]
                if self.options.batch_receive > 1 {
                    let batch = self.batch.get_or_insert_with(|| {
                        crate::sys::RecvBatch::new(
                            self.options.batch_receive,
                            crate::sys::SLOT_SIZE,
                        )
                    });
                    let (delivered, drained) = read_udp_batch(&from, &u.socket, batch, cap, sink);
                    if !drained {
                        self.more_to_read.push(id);
                    }
                    return delivered;
                }
                let (delivered, drained) = read_udp(&from, &u.socket, &mut self.buf, cap, sink);
                if !drained {
                    self.more_to_read.push(id);
                }
                delivered
            }
            Kind::Listener { .. } => {
                self.accept_all(id);
                0
            }
            Kind::Conn { conn, .. }
            | Kind::Client {
                conn: Some(conn), ..
            } => {
                let budget = self.options.max_stream_bytes_per_event;
                let name = ch.name.as_str();
                let stats = &ch.stats;
                let peer = conn.peer;
                let mut delivered = 0;
                let outcome = conn.read(&mut self.buf, budget, |data| {
                    delivered += 1;
                    stats.count_in(data.len());
                    sink(Received {
                        channel: ChannelId(id),
                        name,
                        peer: Some(peer),
                        arrival: SystemTime::now(),
                        data,
                    });
                });
                for _ in 0..outcome.oversized {
                    ch.drop_event(DropReason::Oversized, Some(peer));
                }
                if outcome.truncated > 0 {
                    log::warn!(
                        "channel {}: {} bytes of an incomplete packet lost when {peer} disconnected",
                        ch.name,
                        outcome.truncated
                    );
                    ch.drop_event(DropReason::Truncated, Some(peer));
                }
                if outcome.malformed {
                    ch.drop_event(DropReason::MalformedFrame, Some(peer));
                }
                if outcome.more {
                    self.more_to_read.push(id);
                }
                if let Some(reason) = outcome.closed {
                    self.lost_stream(id, reason);
                }
                delivered
            }
            Kind::Client { conn: None, .. } => 0,
        }
    }

    /// Handles a writable event: finishes a client's connect, flushes queues.
    pub(crate) fn on_writable(&mut self, id: u64) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let mut broken = None;
        match &mut ch.kind {
            Kind::Udp(u) => {
                let stats = &ch.stats;
                let name = &ch.name;
                let events = ch.events.as_ref();
                u.flush(|r| match r {
                    Ok(n) => stats.count_out(n),
                    Err(e) => {
                        log::warn!("channel {name}: send failed: {e}");
                        stats.count_drop(DropReason::SendFailed);
                        emit(
                            events,
                            name,
                            ChannelEvent::Dropped {
                                reason: DropReason::SendFailed,
                                peer: None,
                            },
                        );
                    }
                });
                crate::reactor::watch_udp(self.poll.registry(), id, u, name);
            }
            Kind::Client {
                conn: Some(conn),
                state,
                ..
            } => {
                if let ClientState::Connecting = state {
                    match (conn.stream.take_error(), conn.stream.peer_addr()) {
                        (Ok(None), Ok(peer)) => {
                            *state = ClientState::Connected;
                            log::debug!("channel {}: connected to {peer}", ch.name);
                            emit(ch.events.as_ref(), &ch.name, ChannelEvent::Activated);
                            emit(ch.events.as_ref(), &ch.name, ChannelEvent::Connected(peer));
                        }
                        (Ok(Some(e)), _) | (Err(e), _) => broken = Some(e.to_string()),
                        (Ok(None), Err(e)) if e.kind() == std::io::ErrorKind::NotConnected => {
                            return;
                        }
                        (Ok(None), Err(e)) => broken = Some(e.to_string()),
                    }
                }
                if broken.is_none() {
                    if let Err(e) = conn.flush() {
                        broken = Some(e.to_string());
                    }
                }
            }
            Kind::Conn { conn, .. } => {
                if let Err(e) = conn.flush() {
                    broken = Some(e.to_string());
                }
            }
            Kind::Listener { .. } | Kind::Client { conn: None, .. } => {}
        }
        if let Some(reason) = broken {
            self.lost_stream(id, &reason);
        }
    }

    /// A stream ended or failed: connections close; clients reconnect if configured.
    fn lost_stream(&mut self, id: u64, reason: &str) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let Kind::Client { conn, cfg, state } = &mut ch.kind else {
            log::debug!("channel {}: {reason}", ch.name);
            self.close_channel(id, reason);
            return;
        };
        if let Some(mut c) = conn.take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
            if c.pending() > 0 {
                ch.stats.count_drop(DropReason::SendFailed);
            }
            if let ClientState::Connected = state {
                emit(
                    ch.events.as_ref(),
                    &ch.name,
                    ChannelEvent::Disconnected {
                        peer: c.peer,
                        reason,
                    },
                );
            }
        }
        log::warn!(
            "channel {}: connection to {} lost: {reason}",
            ch.name,
            cfg.dest
        );
        emit(ch.events.as_ref(), &ch.name, ChannelEvent::Error(reason));
        *state = match (cfg.reconnect, *state) {
            (None, _) => ClientState::Failed,
            (Some(b), ClientState::Waiting { backoff, .. }) if !backoff.is_zero() => {
                let next = (backoff * 2).min(b.max);
                ClientState::Waiting {
                    until: Instant::now() + next,
                    backoff: next,
                }
            }
            (Some(b), _) => ClientState::Waiting {
                until: Instant::now() + b.initial,
                backoff: b.initial,
            },
        };
    }

    /// The earliest reconnection time, if a client waits for one.
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        self.channels
            .values()
            .filter_map(|c| match c.kind {
                Kind::Client {
                    state: ClientState::Waiting { until, .. },
                    ..
                } => Some(until),
                _ => None,
            })
            .min()
    }

    /// Starts the reconnections that are due.
    pub(crate) fn fire_timers(&mut self) {
        // Most passes have no timer: they skip the clock read and the scan below.
        let Some(first) = self.next_timer() else {
            return;
        };
        let now = Instant::now();
        if first > now {
            return;
        }
        let due: Vec<u64> = self
            .channels
            .iter()
            .filter(|(_, c)| matches!(c.kind, Kind::Client { state: ClientState::Waiting { until, .. }, .. } if until <= now))
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            let Some(mut ch) = self.channels.remove(&id) else {
                continue;
            };
            let backoff = match ch.kind {
                Kind::Client {
                    state: ClientState::Waiting { backoff, .. },
                    ..
                } => backoff,
                _ => Duration::ZERO,
            };
            let result = self.connect_client(ChannelId(id), &mut ch);
            self.channels.insert(id, ch);
            if let Err(e) = result {
                // Keep the backoff growing from the last wait.
                if let Some(Kind::Client { state, .. }) =
                    self.channels.get_mut(&id).map(|c| &mut c.kind)
                {
                    *state = ClientState::Waiting {
                        until: Instant::now(),
                        backoff,
                    };
                }
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
                count,
                ..
            } = &mut ch.kind
            else {
                return;
            };
            let (mut stream, peer) = match listener.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends: log and try again at the next event.
                    log::warn!("channel {}: accept failed: {e}", ch.name);
                    emit(
                        ch.events.as_ref(),
                        &ch.name,
                        ChannelEvent::Error("accept failed"),
                    );
                    return;
                }
            };
            if *count >= cfg.max_connections {
                log::warn!(
                    "channel {}: refusing {peer}: {} connections already",
                    ch.name,
                    cfg.max_connections
                );
                ch.drop_event(DropReason::TooManyConnections, Some(peer));
                continue;
            }
            if emit(
                ch.events.as_ref(),
                &ch.name,
                ChannelEvent::ConnectionRequest(peer),
            ) == Verdict::Refuse
            {
                log::info!(
                    "channel {}: connection from {peer} refused by the event handler",
                    ch.name
                );
                ch.drop_event(DropReason::Refused, Some(peer));
                continue;
            }
            *count += 1;
            let framing = cfg.framing;
            let limits = cfg.limits;
            let events = ch.events.clone();
            let name = format!("{}/{peer}", ch.name);
            let conn_id = self.take_id();
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                conn_id.token(),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                log::warn!("channel {name}: register failed: {e}");
                if let Some(Kind::Listener { count, .. }) =
                    self.channels.get_mut(&id).map(|c| &mut c.kind)
                {
                    *count -= 1;
                }
                continue;
            }
            emit(events.as_ref(), &name, ChannelEvent::Connected(peer));
            log::debug!("channel {name}: accepted");
            let conn = StreamConn::new(stream, peer, framing, limits);
            self.insert(
                conn_id,
                Channel::new(&name, Kind::Conn { conn, server: id }, events),
            );
        }
    }
}
