//! The receive path, the same in every mode: reading the reactor, decoding received
//! packets, handing them on (queued or collected), and dispatching a collected batch.
//! Which thread runs which step is the drivers' business (`driver/`).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use osc_channel::{ChannelId, Reactor, Received};
use osc_codec::{Packet, PacketRef, TimeTag};
use osc_dispatch::{Context, DispatchBatch};

use crate::Result;
use crate::hooks::{self, ChannelHooks, Decoded};
use crate::state::Engine;
use crate::stats::Counters;

/// A received packet with its context, waiting to be dispatched.
pub(crate) struct Incoming {
    item: Item,
    ctx: Context,
}

/// A received packet: decoded into an owned packet, or, when the dispatcher has
/// handlers that take the zero-copy view ([`osc_dispatch::Dispatcher::takes_views`]), a
/// message kept as its bytes, decoded into a view when dispatched.
enum Item {
    Decoded(Packet),
    /// Bytes at `start..start + len` of the batch's arena.
    Span {
        start: usize,
        len: usize,
    },
}

/// What one `process()` call (or one allthreads pass) dispatches, or what one pass of
/// comthreads' I/O thread hands to `process()`: the packets, and the arena that holds
/// the bytes of the messages kept for a view. Both are kept for their capacity (and
/// move between threads with the batch), so collecting allocates nothing in steady
/// state.
#[derive(Default)]
pub(crate) struct Batch {
    items: Vec<Incoming>,
    arena: Vec<u8>,
}

impl Batch {
    /// A batch with room for `items` packets and `bytes` bytes of messages kept for a
    /// view, so that a thread's first large pass does not grow it.
    pub(crate) fn with_capacity(items: usize, bytes: usize) -> Batch {
        Batch {
            items: Vec::with_capacity(items),
            arena: Vec::with_capacity(bytes),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the batch holds one message and nothing else (no bundle).
    pub(crate) fn is_one_message(&self) -> bool {
        match self.items.as_slice() {
            [one] => matches!(
                one.item,
                Item::Span { .. } | Item::Decoded(Packet::Message(_))
            ),
            _ => false,
        }
    }

    /// Moves the packets of `other` after this batch's, leaving `other` empty: a swap
    /// when this one is empty (nothing copied; the two batches trade their capacity),
    /// else the bytes of `other`'s arena are appended to this one's.
    pub(crate) fn append(&mut self, other: &mut Batch) {
        if self.items.is_empty() {
            self.arena.clear();
            std::mem::swap(self, other);
            return;
        }
        let offset = self.arena.len();
        self.arena.extend_from_slice(&other.arena);
        self.items
            .extend(other.items.drain(..).map(|Incoming { item, ctx }| {
                let item = match item {
                    Item::Span { start, len } => Item::Span {
                        start: start + offset,
                        len,
                    },
                    decoded => decoded,
                };
                Incoming { item, ctx }
            }));
        trim(&mut other.arena);
    }

    fn push_bytes(&mut self, bytes: &[u8], ctx: Context) {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        self.items.push(Incoming {
            item: Item::Span {
                start,
                len: bytes.len(),
            },
            ctx,
        });
    }
}

thread_local! {
    /// The packets one `process()` call dispatches (kept for its capacity).
    static BATCH: Cell<Batch> = Cell::new(Batch::default());
}

/// Runs `f` with this thread's (empty) batch, kept for its capacity.
pub(crate) fn with_batch<T>(f: impl FnOnce(&mut Batch) -> T) -> T {
    let mut batch = BATCH.take();
    let out = f(&mut batch);
    batch.items.clear();
    trim(&mut batch.arena);
    BATCH.set(batch);
    out
}

/// The most capacity a batch's arena keeps between passes (1 MiB: thousands of
/// typical messages; a burst of large ones is freed after its dispatch).
const ARENA_KEPT: usize = 1 << 20;

/// Most packets one `process()` call reads: it reads until nothing is pending, but a
/// flood must not keep it busy forever.
pub(crate) const PROCESS_MAX_PACKETS: usize = 8192;

/// Dispatches what a pass collected (the reactor released, so handlers may call the
/// runtime); returns the number of packets. Each packet is scheduled against its
/// arrival time (no clock read here): a bundle due since then is held for a moment and
/// runs in the caller's `run_due`.
pub(crate) fn dispatch_batch(e: &Engine, batch: &mut Batch) -> usize {
    let n = batch.items.len();
    let Batch { items, arena } = batch;
    // The messages kept as bytes go through one dispatch batch: one look at the
    // methods for all of them.
    let mut views = None;
    for Incoming { item, ctx } in items.drain(..) {
        let arrival = ctx.arrival;
        match item {
            Item::Decoded(packet) => e.core.dispatch(packet, ctx, arrival),
            Item::Span { start, len } => {
                let bytes = arena.get(start..start + len).unwrap_or(&[]);
                dispatch_bytes(e, &mut views, bytes, ctx);
            }
        }
    }
    drop(views);
    trim(arena);
    e.notice();
    n
}

/// Empties a batch's arena, keeping at most [`ARENA_KEPT`] of its capacity: a burst of
/// large datagrams must not leave its memory behind.
fn trim(arena: &mut Vec<u8>) {
    arena.clear();
    if arena.capacity() > ARENA_KEPT {
        arena.shrink_to(ARENA_KEPT);
    }
}

/// Decodes a message kept as bytes into a view and dispatches it: the handlers that
/// take the view get it, borrowing `bytes`.
fn dispatch_bytes<'e>(
    e: &'e Engine,
    views: &mut Option<DispatchBatch<'e>>,
    bytes: &[u8],
    ctx: Context,
) {
    match osc_codec::decode_with(bytes, &e.config.codec) {
        Ok(PacketRef::Message(m)) => e.core.dispatch_ref(views, &m, &ctx),
        Ok(PacketRef::Bundle(b)) => {
            let arrival = ctx.arrival;
            e.core.dispatch(Packet::Bundle(b.to_owned()), ctx, arrival);
        }
        Err(err) => {
            Counters::bump(&e.counters.decode_errors);
            let peer = ctx.peer.map_or_else(|| "?".to_owned(), |a| a.to_string());
            let channel = ctx.channel.as_deref().unwrap_or("?");
            log::warn!("malformed packet from {peer} on {channel}: {err}");
        }
    }
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
    /// Collect for `process()` (comthreads' I/O thread, which hands the batch over
    /// after the pass), at most `room` packets: beyond, dropped and counted.
    Stage(&'a mut Batch, usize),
    /// Collect, to dispatch after the pass and with the reactor released (comthreads'
    /// `process()` thread, allthreads' I/O threads).
    Collect(&'a mut Batch),
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

    /// How many packets the batch holds.
    pub(crate) fn collected(&self) -> usize {
        match &self.to {
            Deliver::Collect(batch) | Deliver::Stage(batch, _) => batch.items.len(),
        }
    }

    pub(crate) fn packet(&mut self, p: Received<'_>) {
        let s = self.s;
        if let Deliver::Stage(batch, room) = &self.to {
            if batch.items.len() >= *room {
                Counters::bump(&s.counters.incoming_dropped);
                log::warn!("process() is behind: dropped a packet from {}", p.name);
                return;
            }
        }
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
        if hooks.as_ref().is_none_or(|h| h.decode.is_none())
            && p.data.first() == Some(&b'/')
            && s.core.dispatcher().takes_views()
        {
            // A message on its own, and handlers that take a view: keep the bytes,
            // decoded when dispatched.
            log::trace!("message from {:?} on {}: kept for a view", p.peer, p.name);
            let ctx = self.context(name, &p);
            match &mut self.to {
                Deliver::Collect(batch) | Deliver::Stage(batch, _) => {
                    batch.push_bytes(p.data, ctx);
                }
            }
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
        let ctx = self.context(name, &p);
        let incoming = Incoming {
            item: Item::Decoded(packet),
            ctx,
        };
        match &mut self.to {
            Deliver::Collect(batch) | Deliver::Stage(batch, _) => batch.items.push(incoming),
        }
    }

    /// The context of a received packet.
    fn context(&mut self, name: Arc<str>, p: &Received<'_>) -> Context {
        let arrival = self.arrival(p.arrival);
        let mut ctx = Context::new(arrival).with_channel(name);
        if let Some(peer) = p.peer {
            ctx = ctx.with_peer(peer);
        }
        if let Some(path) = p.peer_path {
            ctx = ctx.with_peer_path(path);
        }
        ctx
    }
}

/// The longest an I/O thread's pass waits (it also wakes for commands and sends).
pub(crate) const IO_PASS: Duration = Duration::from_secs(1);

/// How long an I/O thread pauses after a pass that failed, so that a lasting failure
/// does not spin.
const IO_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// One reactor pass of an I/O thread; an error is logged and followed by a pause (the
/// clock is not read: a pass costs a few hundred instructions, a clock read about a
/// hundred).
pub(crate) fn io_pass(reactor: &mut Reactor, timeout: Option<Duration>, sink: &mut Sink<'_>) {
    if let Err(e) = reactor.poll(timeout, |p| sink.packet(p)) {
        log::error!("I/O thread: {e}");
        std::thread::sleep(IO_ERROR_PAUSE);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_large_arena_is_not_kept() {
        let mut large = vec![1u8; 3 * ARENA_KEPT];
        trim(&mut large);
        assert!(large.is_empty() && large.capacity() <= ARENA_KEPT);
        let mut small = Vec::with_capacity(100);
        small.push(1u8);
        trim(&mut small);
        assert_eq!(small.capacity(), 100);
    }

    fn spans(batch: &Batch) -> Vec<&[u8]> {
        batch
            .items
            .iter()
            .map(|i| match i.item {
                Item::Span { start, len } => batch.arena.get(start..start + len).unwrap(),
                Item::Decoded(_) => &[],
            })
            .collect()
    }

    #[test]
    fn appending_a_batch_keeps_its_messages_after_ours() {
        let ctx = Context::new(TimeTag::new(1, 0));
        let mut ours = Batch::default();
        let mut theirs = Batch::default();
        theirs.push_bytes(b"one", ctx.clone());
        // Empty: a swap.
        ours.append(&mut theirs);
        assert!(theirs.is_empty());
        theirs.push_bytes(b"two", ctx.clone());
        theirs.push_bytes(b"three", ctx);
        ours.append(&mut theirs);
        assert!(theirs.is_empty() && theirs.arena.is_empty());
        assert_eq!(spans(&ours), [&b"one"[..], &b"two"[..], &b"three"[..]]);
    }

    #[test]
    fn the_batch_keeps_message_bytes_in_order() {
        let mut batch = Batch::default();
        let ctx = Context::new(TimeTag::new(1, 0));
        batch.push_bytes(b"one", ctx.clone());
        batch.push_bytes(b"three", ctx);
        assert_eq!(spans(&batch), [&b"one"[..], &b"three"[..]]);
    }
}
