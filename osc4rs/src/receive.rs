//! The receive path, the same in every mode: reading the reactor, decoding received
//! packets, handing them on (queued or collected), and dispatching a collected batch.
//! Which thread runs which step is the drivers' business (`driver/`).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Sender;
use osc_channel::{ChannelId, Reactor, Received};
use osc_codec::{Packet, TimeTag};
use osc_dispatch::Context;

use crate::Result;
use crate::hooks::{self, ChannelHooks, Decoded};
use crate::state::Engine;
use crate::stats::Counters;

/// A decoded packet with its context, waiting to be dispatched.
pub(crate) type Incoming = (Packet, Context);

thread_local! {
    /// The packets one `process()` call dispatches (kept for its capacity).
    static BATCH: Cell<Vec<Incoming>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with this thread's (empty) batch vector, kept for its capacity.
pub(crate) fn with_batch<T>(f: impl FnOnce(&mut Vec<Incoming>) -> T) -> T {
    let mut batch = BATCH.take();
    let out = f(&mut batch);
    batch.clear();
    BATCH.set(batch);
    out
}

/// Most packets one `process()` call reads: it reads until nothing is pending, but a
/// flood must not keep it busy forever.
pub(crate) const PROCESS_MAX_PACKETS: usize = 8192;

/// Dispatches what a pass collected (the reactor released, so handlers may call the
/// runtime); returns the number of packets. Each packet is scheduled against its
/// arrival time (no clock read here): a bundle due since then is held for a moment and
/// runs in the caller's `run_due`.
pub(crate) fn dispatch_batch(e: &Engine, batch: &mut Vec<Incoming>) -> usize {
    let n = batch.len();
    for (packet, ctx) in batch.drain(..) {
        let arrival = ctx.arrival;
        e.core.dispatch(packet, ctx, arrival);
    }
    e.notice();
    n
}

/// One reactor pass of up to `wait`, then passes that do not wait while the reactor
/// has more to read and `sink` has collected fewer than [`PROCESS_MAX_PACKETS`].
pub(crate) fn read_pending(
    reactor: &mut Reactor,
    wait: Duration,
    sink: &mut Sink<'_>,
) -> Result<()> {
    reactor.poll(Some(wait), |p| sink.packet(p))?;
    while reactor.has_more_to_read() && sink.collected() < PROCESS_MAX_PACKETS {
        reactor.poll(Some(Duration::ZERO), |p| sink.packet(p))?;
    }
    Ok(())
}

/// Each channel's name as an `Arc` and its hooks, kept across passes so the receive
/// path allocates nothing per packet for them.
#[derive(Default)]
pub(crate) struct ChannelCache {
    names: HashMap<ChannelId, ChannelEntry>,
    /// The channel of the last packet: a stream from one channel skips the map.
    last: Option<(ChannelId, ChannelEntry)>,
    /// The last arrival time and its timetag: a batch of datagrams shares one.
    arrival: Option<(SystemTime, TimeTag)>,
    generation: u64,
}

/// A channel's name and hooks.
type ChannelEntry = (Arc<str>, Option<Arc<ChannelHooks>>);

/// Where [`Sink`] puts a decoded packet.
pub(crate) enum Deliver<'a> {
    /// Queue for `process()` (comthreads' I/O thread); dropped and counted when full.
    Queue(&'a Sender<Incoming>),
    /// Collect, to dispatch after the pass and with the reactor released (comthreads'
    /// `process()` thread, allthreads' I/O threads).
    Collect(&'a mut Vec<Incoming>),
}

/// Decodes received packets and hands them on.
pub(crate) struct Sink<'a> {
    s: &'a Engine,
    cache: &'a mut ChannelCache,
    to: Deliver<'a>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(s: &'a Engine, cache: &'a mut ChannelCache, to: Deliver<'a>) -> Self {
        Sink { s, cache, to }
    }

    /// The channel's name as an `Arc` (one allocation per channel, not per packet) and
    /// its hooks (a TCP connection `SERVER/PEER` uses its server's).
    fn channel(&mut self, id: ChannelId, name: &str) -> ChannelEntry {
        let generation = self.s.hooks.generation();
        if generation != self.cache.generation {
            self.cache.names.clear();
            self.cache.last = None;
            self.cache.generation = generation;
        }
        if let Some((last, entry)) = &self.cache.last {
            if *last == id {
                return entry.clone();
            }
        }
        let s = self.s;
        let entry = self
            .cache
            .names
            .entry(id)
            .or_insert_with(|| (Arc::from(name), s.hooks.get(name)))
            .clone();
        self.cache.last = Some((id, entry.clone()));
        entry
    }

    /// The arrival time as a timetag, converted once per batch of datagrams.
    fn arrival(&mut self, at: SystemTime) -> TimeTag {
        match self.cache.arrival {
            Some((last, tag)) if last == at => tag,
            _ => {
                let tag = TimeTag::from_system_time(at);
                self.cache.arrival = Some((at, tag));
                tag
            }
        }
    }

    /// How many packets `Deliver::Collect` holds (0 for the other kinds).
    pub(crate) fn collected(&self) -> usize {
        match &self.to {
            Deliver::Collect(batch) => batch.len(),
            _ => 0,
        }
    }

    pub(crate) fn packet(&mut self, p: Received<'_>) {
        let s = self.s;
        let (name, hooks) = self.channel(p.channel, p.name);
        let decoded = match hooks.as_ref().and_then(|h| h.decode.as_ref()) {
            Some(hook) => hooks::run_decode(hook, p.name, p.data),
            None => Decoded::default(),
        };
        if decoded.drop {
            Counters::bump(&s.counters.hook_dropped);
            log::debug!("decode hook of {} dropped a packet", p.name);
            return;
        }
        let bytes = decoded.bytes.as_deref().unwrap_or(p.data);
        let mut packet = match osc_codec::Packet::decode_with(bytes, &s.config.codec) {
            Ok(packet) => packet,
            Err(e) => {
                Counters::bump(&s.counters.decode_errors);
                let peer = p.peer.map_or_else(|| "?".to_owned(), |a| a.to_string());
                log::warn!("malformed packet from {peer} on {}: {e}", p.name);
                return;
            }
        };
        hooks::apply(&mut packet, decoded.options);
        log::trace!("packet from {:?} on {}: {packet}", p.peer, p.name);
        let arrival = self.arrival(p.arrival);
        let mut ctx = Context::new(arrival).with_channel(name);
        if let Some(peer) = p.peer {
            ctx = ctx.with_peer(peer);
        }
        if let Some(path) = p.peer_path {
            ctx = ctx.with_peer_path(path);
        }
        match &mut self.to {
            Deliver::Queue(tx) => {
                if tx.try_send((packet, ctx)).is_err() {
                    Counters::bump(&s.counters.incoming_dropped);
                    log::warn!("process() is behind: dropped a packet from {}", p.name);
                }
            }
            Deliver::Collect(batch) => batch.push((packet, ctx)),
        }
    }
}

/// The longest an I/O thread's pass waits (it also wakes for commands and sends).
pub(crate) const IO_PASS: Duration = Duration::from_secs(1);

/// One reactor pass of an I/O thread; an error is logged and slows the loop down.
pub(crate) fn io_pass(reactor: &mut Reactor, timeout: Option<Duration>, sink: &mut Sink<'_>) {
    let started = Instant::now();
    if let Err(e) = reactor.poll(timeout, |p| sink.packet(p)) {
        log::error!("I/O thread: {e}");
        std::thread::sleep(Duration::from_millis(10).saturating_sub(started.elapsed()));
    }
}
