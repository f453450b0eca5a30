//! The receive path, the same in every mode: reading the reactor, decoding received
//! packets, handing them on (queued or collected), and dispatching a collected batch.
//! Which thread runs which step is the drivers' business (`driver/`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use osc_channel::{ChannelId, Reactor, Received};
use osc_codec::{Packet, PacketRef, TimeTag};
use osc_dispatch::{Context, DispatchBatch, KeptMethods};

use crate::Result;
use crate::core::Core;
use crate::hooks::{self, ChannelHooks, Decoded};
use crate::state::Engine;
use crate::stats::Counters;

/// A received packet with where and when it came from, waiting to be dispatched.
pub(crate) struct Incoming {
    item: Item,
    from: Origin,
}

/// Where a received packet came from and when: what its [`Context`] is made of at
/// dispatch. The channel is an index into the batch's names, one per run of packets
/// from one channel, so a packet touches no reference count for it.
struct Origin {
    channel: u32,
    peer: Option<SocketAddr>,
    peer_path: Option<Arc<Path>>,
    arrival: TimeTag,
}

impl Origin {
    /// Where `p` came from: its channel's index in the batch's names, and its arrival
    /// time as a timetag.
    #[inline(always)]
    fn of(p: &Received<'_>, channel: u32, arrival: TimeTag) -> Origin {
        Origin {
            channel,
            peer: p.peer,
            peer_path: p.peer_path.map(Arc::from),
            arrival,
        }
    }

    /// Makes `ctx`, which the previous packet's dispatch lent out, this packet's: its
    /// channel name is cloned only when it differs from the previous one's.
    #[inline(always)]
    fn lend(self, names: &[Arc<str>], ctx: &mut Context) {
        let name = names.get(self.channel as usize);
        if !same_name(ctx.channel.as_ref(), name) {
            ctx.channel = name.cloned();
        }
        ctx.peer = self.peer;
        ctx.peer_path = self.peer_path;
        ctx.arrival = self.arrival;
        ctx.bundle_timetag = None;
    }
}

/// Whether two channel names are the same `Arc` (or both absent).
fn same_name(a: Option<&Arc<str>>, b: Option<&Arc<str>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// A received packet: decoded into an owned packet, or, when the dispatcher has
/// handlers that take the zero-copy view ([`osc_dispatch::Dispatcher::takes_views`]),
/// kept as its bytes (a message or a bundle), decoded into a view when dispatched.
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
/// the bytes of the packets kept for a view. Both are kept for their capacity (and
/// move between threads with the batch), so collecting allocates nothing in steady
/// state.
#[derive(Default)]
pub(crate) struct Batch {
    items: Vec<Incoming>,
    arena: Vec<u8>,
    /// The items' channel names ([`Origin::channel`]), one per run of packets from one
    /// channel. The last one is kept when the batch is cleared: a stream from one
    /// channel takes no reference count per pass either.
    names: Vec<Arc<str>>,
    /// The context lent to the handlers of views, from packet to packet and from pass
    /// to pass (its channel name is cloned only when the channel changes).
    lent: Context,
    /// The dispatching thread's look at the methods, kept from pass to pass so that a
    /// pass whose methods did not change takes no lock for them
    /// ([`osc_dispatch::Dispatcher::batch_kept`]; it holds no handler alive). It stays
    /// with the thread's batch (an I/O thread's staged batch trades places with it
    /// without it).
    methods: KeptMethods,
    /// The bytes of the packets it holds, as they came off the wire.
    bytes: usize,
}

impl Batch {
    /// A batch with room for `items` packets and `bytes` bytes of packets kept for a
    /// view, so that a thread's first large pass does not grow it.
    pub(crate) fn with_capacity(items: usize, bytes: usize) -> Batch {
        Batch {
            items: Vec::with_capacity(items),
            arena: Vec::with_capacity(bytes),
            names: Vec::with_capacity(4),
            lent: Context::default(),
            methods: KeptMethods::new(),
            bytes: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// The bytes of the packets it holds, as they came off the wire.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether the batch holds one message and nothing else (no bundle).
    pub(crate) fn is_one_message(&self) -> bool {
        match self.items.as_slice() {
            [one] => match one.item {
                Item::Span { start, .. } => self.arena.get(start) == Some(&b'/'),
                Item::Decoded(ref p) => matches!(p, Packet::Message(_)),
            },
            _ => false,
        }
    }

    /// Moves the packets of `other` after this batch's, leaving `other` empty: a swap
    /// when this one is empty (nothing copied; the two batches trade their capacity),
    /// else the bytes of `other`'s arena are appended to this one's.
    pub(crate) fn append(&mut self, other: &mut Batch) {
        if self.items.is_empty() {
            self.arena.clear();
            self.names.clear();
            std::mem::swap(self, other);
            // The look at the methods stays with the thread that dispatches.
            std::mem::swap(&mut self.methods, &mut other.methods);
            other.bytes = 0;
            return;
        }
        self.bytes += std::mem::take(&mut other.bytes);
        let offset = self.arena.len();
        // A run from one channel that goes on across the two batches keeps one name.
        let continued = !self.names.is_empty() && same_name(self.names.last(), other.names.first());
        let skipped = usize::from(continued);
        let first_name = index(self.names.len().saturating_sub(skipped));
        self.arena.extend_from_slice(&other.arena);
        self.names.extend(other.names.drain(skipped..));
        other.names.clear();
        self.items
            .extend(other.items.drain(..).map(|Incoming { item, mut from }| {
                let item = match item {
                    Item::Span { start, len } => Item::Span {
                        start: start + offset,
                        len,
                    },
                    decoded => decoded,
                };
                from.channel = from.channel.saturating_add(first_name);
                Incoming { item, from }
            }));
        trim(&mut other.arena);
    }

    /// The index of `name` in the batch's names: the last one when it is the same
    /// `Arc` (a run of packets from one channel), else a new one.
    fn name_index(&mut self, name: &Arc<str>) -> u32 {
        if !self
            .names
            .last()
            .is_some_and(|last| Arc::ptr_eq(last, name))
        {
            self.names.push(Arc::clone(name));
        }
        index(self.names.len().saturating_sub(1))
    }

    fn push_bytes(&mut self, bytes: &[u8], from: Origin) {
        self.bytes += bytes.len();
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        self.items.push(Incoming {
            item: Item::Span {
                start,
                len: bytes.len(),
            },
            from,
        });
    }

    /// Empties the batch, keeping its capacity (the arena's up to [`ARENA_KEPT`]) and
    /// its last channel name, which the next pass's packets most likely come from.
    fn clear(&mut self) {
        self.items.clear();
        self.bytes = 0;
        let runs = self.names.len();
        if runs > 1 {
            self.names.drain(..runs - 1);
        }
        trim(&mut self.arena);
    }
}

/// A batch position as a `u32` (a batch holds at most a few thousand packets).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

thread_local! {
    /// The packets one `process()` call dispatches (kept for its capacity).
    static BATCH: RefCell<Batch> = RefCell::new(Batch::default());
}

/// Runs `f` with this thread's (empty) batch, kept for its capacity; a `process()`
/// called from a handler gets a batch of its own.
pub(crate) fn with_batch<T>(f: impl FnOnce(&mut Batch) -> T) -> T {
    BATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut batch) => {
            let out = f(&mut batch);
            // `dispatch_batch` clears what it dispatched: this is for a call that
            // collected and did not dispatch.
            if !batch.is_empty() {
                batch.clear();
            }
            out
        }
        Err(_) => f(&mut Batch::default()),
    })
}

/// The most capacity a batch's arena keeps between passes (1 MiB: thousands of
/// typical messages; a burst of large ones is freed after its dispatch).
const ARENA_KEPT: usize = 1 << 20;

/// Most packets one `process()` call reads: it reads until nothing is pending, but a
/// flood must not keep it busy forever.
pub(crate) const PROCESS_MAX_PACKETS: usize = 8192;

/// Most bytes of packets one `process()` call reads on, past the pass that reaches
/// them: a flood of large packets (a TCP peer's 1 MiB frames) must not make it hold
/// gigabytes before it dispatches any.
pub(crate) const PROCESS_MAX_BYTES: usize = 8 << 20;

/// Dispatches what a pass collected (the reactor released, so handlers may call the
/// runtime); returns the number of packets. Each packet is scheduled against its
/// arrival time (no clock read here): a bundle due since then is held for a moment and
/// runs in the caller's `run_due`.
pub(crate) fn dispatch_batch(e: &Engine, batch: &mut Batch) -> usize {
    let n = batch.items.len();
    let Batch {
        items,
        arena,
        names,
        lent,
        methods,
        bytes: _,
    } = batch;
    // The packets go through one dispatch batch: one look at the methods for all of
    // them, through the look this thread kept from its last pass. They borrow their
    // context, one lent from each to the next (a bundle, which may be held, gets a
    // copy).
    let in_batch = if n > 0 { e.core.batch(methods) } else { None };
    if let Some(mut in_batch) = in_batch {
        for Incoming { item, from } in items.drain(..) {
            let arrival = from.arrival;
            from.lend(names, lent);
            match item {
                Item::Decoded(packet) => Core::dispatch_in(&mut in_batch, packet, lent, arrival),
                Item::Span { start, len } => {
                    let bytes = arena.get(start..start + len).unwrap_or(&[]);
                    dispatch_bytes(e, &mut in_batch, bytes, lent);
                }
            }
        }
    }
    batch.clear();
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

/// Decodes a packet kept as bytes into a view and dispatches it: the handlers that take
/// the view get it (a bundle's messages too, when it runs at once), borrowing `bytes`.
fn dispatch_bytes(e: &Engine, in_batch: &mut DispatchBatch<'_>, bytes: &[u8], ctx: &Context) {
    match osc_codec::decode_with(bytes, &e.config.codec) {
        Ok(PacketRef::Message(m)) => Core::dispatch_ref(in_batch, &m, ctx),
        Ok(PacketRef::Bundle(b)) => Core::dispatch_bundle_ref(in_batch, &b, ctx),
        Err(err) => {
            Counters::bump(&e.counters.decode_errors);
            let peer = ctx.peer.map_or_else(|| "?".to_owned(), |a| a.to_string());
            let channel = ctx.channel.as_deref().unwrap_or("?");
            log::warn!("malformed packet from {peer} on {channel}: {err}");
        }
    }
}

/// One reactor pass of up to `wait`, then passes that do not wait while the reactor
/// has more to read and `sink` has collected fewer than [`PROCESS_MAX_PACKETS`] and
/// [`PROCESS_MAX_BYTES`].
pub(crate) fn read_pending(
    reactor: &mut Reactor,
    wait: Duration,
    sink: &mut Sink<'_>,
) -> Result<()> {
    reactor.poll(Some(wait), |p| sink.packet(p))?;
    while reactor.has_more_to_read() && sink.wants_more() {
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
    /// after the pass), up to the [`Room`] left: beyond, dropped and counted.
    Stage(&'a mut Batch, Room),
    /// Collect, to dispatch after the pass and with the reactor released (comthreads'
    /// `process()` thread, allthreads' I/O threads).
    Collect(&'a mut Batch),
}

/// How much more a staged batch may hold: packets, and bytes of them. A packet is
/// taken while both are left (so the last may pass the bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Room {
    pub(crate) packets: usize,
    pub(crate) bytes: usize,
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

    /// Whether one more pass may add to the batch: it holds fewer than
    /// [`PROCESS_MAX_PACKETS`] and [`PROCESS_MAX_BYTES`].
    pub(crate) fn wants_more(&self) -> bool {
        match &self.to {
            Deliver::Collect(batch) | Deliver::Stage(batch, _) => {
                batch.items.len() < PROCESS_MAX_PACKETS && batch.bytes < PROCESS_MAX_BYTES
            }
        }
    }

    /// Takes a packet the reactor read: decoded into an owned packet, or kept as its
    /// bytes for the handlers that take a view, with where and when it came from.
    pub(crate) fn packet(&mut self, p: Received<'_>) {
        let s = self.s;
        let batch = match &mut self.to {
            Deliver::Stage(batch, room) => {
                if batch.items.len() >= room.packets || batch.bytes >= room.bytes {
                    Counters::bump(&s.counters.incoming_dropped);
                    log::warn!("process() is behind: dropped a packet from {}", p.name);
                    return;
                }
                &mut **batch
            }
            Deliver::Collect(batch) => &mut **batch,
        };
        let arrival = arrival_tag(&mut self.cache.arrival, p.arrival);
        let (name, hooks) = channel_entry(self.cache, s, p.channel, p.name);
        let decode_hook = hooks.as_ref().and_then(|h| h.decode.as_ref());
        let decoded = match decode_hook {
            Some(hook) => hooks::run_decode(hook, p.name, p.data),
            None => Decoded::default(),
        };
        if decoded.drop {
            Counters::bump(&s.counters.hook_dropped);
            log::debug!("decode hook of {} dropped a packet", p.name);
            return;
        }
        if decode_hook.is_none()
            && matches!(p.data.first(), Some(b'/' | b'#'))
            && s.core.dispatcher().takes_views()
        {
            // Handlers that take a view: keep the bytes, decoded when dispatched (a
            // bundle is copied into an owned one only if it is held for later; one
            // that runs on the worker pool's lane, as bytes).
            log::trace!("packet from {:?} on {}: kept for a view", p.peer, p.name);
            let from = Origin::of(&p, batch.name_index(name), arrival);
            batch.push_bytes(p.data, from);
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
        let from = Origin::of(&p, batch.name_index(name), arrival);
        batch.bytes += p.data.len();
        batch.items.push(Incoming {
            item: Item::Decoded(packet),
            from,
        });
    }
}

/// The channel's name as an `Arc` (one allocation per channel, not per packet) and its
/// hooks (a TCP connection `SERVER/PEER` uses its server's), kept in `cache`.
fn channel_entry<'c>(
    cache: &'c mut ChannelCache,
    s: &Engine,
    id: ChannelId,
    name: &str,
) -> &'c ChannelEntry {
    let generation = s.hooks.generation();
    if generation != cache.generation {
        cache.names.clear();
        cache.last = None;
        cache.generation = generation;
    }
    if cache.last.as_ref().is_some_and(|(last, _)| *last != id) {
        cache.last = None;
    }
    let names = &mut cache.names;
    let (_, entry) = cache.last.get_or_insert_with(|| {
        let entry = remember(names, id, || (Arc::from(name), s.hooks.get(name)));
        (id, entry.clone())
    });
    entry
}

/// How many channels [`ChannelCache`] keeps the names of. Each accepted connection is
/// a channel of its own, so a server whose clients come and go would otherwise keep
/// one entry for every connection it ever had; past this many, the cache starts again,
/// and the channels still open come back at their next packet. (A server takes 500
/// connections by default.)
const NAMES_KEPT: usize = 4096;

/// `map`'s value for `key`, made by `make` if it has none; a map that holds
/// [`NAMES_KEPT`] entries is emptied first.
fn remember<K: std::hash::Hash + Eq, V>(
    map: &mut HashMap<K, V>,
    key: K,
    make: impl FnOnce() -> V,
) -> &V {
    if map.len() >= NAMES_KEPT && !map.contains_key(&key) {
        map.clear();
    }
    map.entry(key).or_insert_with(make)
}

/// The arrival time as a timetag, converted once per batch of datagrams (`last` keeps
/// the last conversion).
fn arrival_tag(last: &mut Option<(SystemTime, TimeTag)>, at: SystemTime) -> TimeTag {
    match *last {
        Some((when, tag)) if when == at => tag,
        _ => {
            let tag = TimeTag::from_system_time(at);
            *last = Some((at, tag));
            tag
        }
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

    /// A staged batch takes packets while it has room for both their number and
    /// their bytes; beyond, they are dropped and counted (comthreads' I/O thread,
    /// ahead of a `process()` that fell behind a flood of large packets).
    #[test]
    fn a_stage_takes_packets_up_to_its_bytes() {
        use osc_channel::UdpConfig;
        let engine = Engine::new(crate::Config::default()).unwrap();
        let mut reactor = Reactor::new().unwrap();
        let id = reactor
            .open_udp("in", UdpConfig::server("127.0.0.1:0".parse().unwrap()))
            .unwrap();
        let to = reactor.local_addr(id).unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let packet = Packet::from(osc_codec::Message::new("/big").arg(vec![7u8; 996]))
            .to_bytes()
            .unwrap();
        assert_eq!(packet.len(), 1012);
        for _ in 0..5 {
            tx.send_to(&packet, to).unwrap();
        }
        let mut cache = ChannelCache::default();
        let mut stage = Batch::default();
        let room = Room {
            packets: 100,
            bytes: 2500,
        };
        let mut seen = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while seen < 5 && std::time::Instant::now() < deadline {
            let mut sink = Sink::new(&engine, &mut cache, Deliver::Stage(&mut stage, room));
            reactor
                .poll(Some(Duration::from_millis(100)), |p| {
                    seen += 1;
                    sink.packet(p);
                })
                .unwrap();
        }
        assert_eq!(seen, 5);
        // 0, 1012 and 2024 bytes held: three taken; 3036 held: two dropped.
        assert_eq!(stage.len(), 3);
        assert_eq!(stage.bytes(), 3 * 1012);
        let dropped = &engine.counters.incoming_dropped;
        assert_eq!(dropped.load(std::sync::atomic::Ordering::Relaxed), 2);
        // Appended to another batch, the bytes go along.
        let mut queued = Batch::default();
        queued.append(&mut stage);
        assert_eq!((queued.bytes(), stage.bytes()), (3 * 1012, 0));
        queued.append(&mut Batch::default());
        assert_eq!(queued.bytes(), 3 * 1012);
    }

    #[test]
    fn the_channel_names_kept_stay_bounded() {
        let mut names = HashMap::new();
        let mut made = 0;
        for id in 0..3 * NAMES_KEPT as u64 {
            remember(&mut names, id, || {
                made += 1;
                id
            });
            assert!(names.len() <= NAMES_KEPT);
        }
        assert_eq!(made, 3 * NAMES_KEPT);
        // A key it holds is found, not made again.
        let held = *names.keys().next().unwrap();
        assert_eq!(*remember(&mut names, held, || unreachable!()), held);
    }

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

    /// Pushes `bytes` as a packet from channel `name`, arrived at `seconds`.
    fn push(batch: &mut Batch, bytes: &[u8], name: &Arc<str>, seconds: u32) {
        let from = Origin {
            channel: batch.name_index(name),
            peer: None,
            peer_path: None,
            arrival: TimeTag::new(seconds, 0),
        };
        batch.push_bytes(bytes, from);
    }

    /// Each packet's context as a handler sees it: lent from one to the next, as
    /// `dispatch_batch` does.
    fn contexts(batch: &mut Batch) -> Vec<(String, u32)> {
        let mut lent = Context::default();
        batch
            .items
            .drain(..)
            .map(|i| {
                i.from.lend(&batch.names, &mut lent);
                let name = lent.channel.as_deref().unwrap_or("?").to_owned();
                (name, lent.arrival.seconds)
            })
            .collect()
    }

    #[test]
    fn appending_a_batch_keeps_its_messages_after_ours() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let mut ours = Batch::default();
        let mut theirs = Batch::default();
        push(&mut theirs, b"one", &a, 1);
        // Empty: a swap.
        ours.append(&mut theirs);
        assert!(theirs.is_empty());
        push(&mut theirs, b"two", &b, 2);
        push(&mut theirs, b"three", &a, 3);
        ours.append(&mut theirs);
        assert!(theirs.is_empty() && theirs.arena.is_empty() && theirs.names.is_empty());
        assert_eq!(spans(&ours), [&b"one"[..], &b"two"[..], &b"three"[..]]);
        let want = [("a", 1), ("b", 2), ("a", 3)].map(|(n, t)| (n.to_owned(), t));
        assert_eq!(contexts(&mut ours), want);
        // A run that goes on from one batch into the next keeps one name.
        let (mut ours, mut theirs) = (Batch::default(), Batch::default());
        push(&mut ours, b"one", &a, 1);
        push(&mut theirs, b"two", &a, 2);
        push(&mut theirs, b"three", &b, 3);
        ours.append(&mut theirs);
        assert_eq!(ours.names.len(), 2);
        assert!(theirs.names.is_empty());
        let want = [("a", 1), ("a", 2), ("b", 3)].map(|(n, t)| (n.to_owned(), t));
        assert_eq!(contexts(&mut ours), want);
    }

    #[test]
    fn the_batch_keeps_message_bytes_in_order() {
        let mut batch = Batch::default();
        let name: Arc<str> = Arc::from("in");
        push(&mut batch, b"one", &name, 1);
        push(&mut batch, b"three", &name, 1);
        assert_eq!(spans(&batch), [&b"one"[..], &b"three"[..]]);
    }

    #[test]
    fn a_run_of_packets_from_one_channel_shares_its_name() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("a"), Arc::from("b"));
        let mut batch = Batch::default();
        for (name, t) in [(&a, 1), (&a, 2), (&b, 3), (&b, 4), (&a, 5)] {
            push(&mut batch, b"x", name, t);
        }
        // One entry per run, and no reference count per packet.
        assert_eq!(batch.names.len(), 3);
        assert_eq!(Arc::strong_count(&a), 3);
        let want = [("a", 1), ("a", 2), ("b", 3), ("b", 4), ("a", 5)];
        assert_eq!(contexts(&mut batch), want.map(|(n, t)| (n.to_owned(), t)));
        // Cleared, the batch keeps the last run's name for the next pass.
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.names.len(), 1);
        assert_eq!((Arc::strong_count(&a), Arc::strong_count(&b)), (2, 1));
        push(&mut batch, b"x", &a, 6);
        assert_eq!((batch.names.len(), Arc::strong_count(&a)), (1, 2));
    }

    #[test]
    fn a_lent_context_takes_each_packets_peer_and_drops_a_bundle_timetag() {
        let names: Vec<Arc<str>> = vec![Arc::from("in")];
        let mut lent = Context::default().with_bundle_timetag(TimeTag::new(9, 0));
        lent.peer = Some("127.0.0.1:9".parse().unwrap());
        let from = |peer: Option<SocketAddr>| Origin {
            channel: 0,
            peer,
            peer_path: None,
            arrival: TimeTag::new(2, 0),
        };
        from(None).lend(&names, &mut lent);
        assert_eq!((lent.peer, lent.bundle_timetag), (None, None));
        let peer: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        from(Some(peer)).lend(&names, &mut lent);
        assert_eq!(
            lent,
            Context::new(TimeTag::new(2, 0))
                .with_channel(names[0].clone())
                .with_peer(peer)
        );
    }
}
