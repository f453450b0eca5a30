//! The dispatcher: registry + scheduler + executors, driven by the caller's thread(s).

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use osc_codec::{Bundle, BundleRef, Message, MessageRef, Packet, PacketRef, TimeTag};
use osc_pattern::{AddressSpace, Filter, MethodId, is_literal_address};
use parking_lot::{Mutex, RwLock};

use crate::exec::{Call, CallMsg, ExecState, Method, call, call_taking, drain_lane, run_calls};
use crate::handler::{IntoHandler, Msg, ThreadSafe};
use crate::scheduler::{Decision, Release, Scheduled};
use crate::stats::bump;
use crate::{
    BundleDrop, Context, DispatchError, Executor, Handler, MethodOptions, PoolConfig, PoolStats,
    Result, Scheduler, SchedulerConfig, ShutdownReport, Stats, Verdict, WorkerPool,
};

/// The methods one message selects, gathered before any runs (a handler may register
/// methods, so none runs under the registry's lock). Inline for the usual one to four.
type Methods = smallvec::SmallVec<[Arc<Method>; 4]>;

/// The same, borrowed from a [`Table`] that the caller holds.
type Selected<'t> = smallvec::SmallVec<[&'t Arc<Method>; 4]>;

/// The registered methods and the fallback. Readers hold an `Arc` of it; a change
/// edits a copy when a reader still holds the old one (so no handler ever runs under
/// the registry's lock, and a [`DispatchBatch`] looks the table up once).
#[derive(Debug, Clone, Default)]
struct Table {
    space: AddressSpace<Arc<Method>>,
    fallback: Option<Arc<Method>>,
    /// Registered methods that run on the worker pool (the fallback not counted).
    pooled: usize,
}

impl Table {
    /// Whether every method (and the fallback) runs in the dispatching thread: a
    /// bundle's calls can then run from its view, in order, as the bundle is read.
    fn runs_inline(&self) -> bool {
        self.pooled == 0 && !self.fallback.as_ref().is_some_and(|f| f.on_pool)
    }

    fn insert(&mut self, address: &str, method: Arc<Method>) -> Result<MethodId> {
        let on_pool = method.on_pool;
        let id = self.space.insert(address, method)?;
        self.pooled += usize::from(on_pool);
        Ok(id)
    }

    fn insert_filter(&mut self, filter: Filter, method: Arc<Method>) -> MethodId {
        self.pooled += usize::from(method.on_pool);
        self.space.insert_filter(filter, method)
    }

    fn remove(&mut self, id: MethodId) -> Option<Arc<Method>> {
        let removed = self.space.remove(id)?;
        self.pooled -= usize::from(removed.on_pool);
        Some(removed)
    }
}

/// Dispatcher settings.
///
/// ```
/// use osc_dispatch::{DispatcherConfig, Executor};
/// let cfg = DispatcherConfig { default_executor: Executor::Pool, ..DispatcherConfig::default() };
/// assert_eq!(cfg.pool.threads, 10);
/// ```
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Bundle scheduling rules.
    pub scheduler: SchedulerConfig,
    /// The worker pool (started at the first pool job, or at once when the default
    /// executor is [`Executor::Pool`]).
    pub pool: PoolConfig,
    /// Where handlers registered with [`Executor::Default`] run. Default
    /// [`Executor::Inline`]; the facade's allthreads mode sets [`Executor::Pool`].
    pub default_executor: Executor,
    /// Never let two bundles' calls interleave (default true). See `docs/dispatch.md`.
    pub serialize_bundles: bool,
    /// Decoding options for [`Dispatcher::dispatch_bytes`].
    pub codec: osc_codec::Options,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        DispatcherConfig {
            scheduler: SchedulerConfig::default(),
            pool: PoolConfig::default(),
            default_executor: Executor::Inline,
            serialize_bundles: true,
            codec: osc_codec::Options::default(),
        }
    }
}

/// Identifies a registered method, for [`Dispatcher::unregister`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MethodHandle(MethodId);

/// How [`Dispatcher::shutdown`] treats pending bundles and queued jobs.
///
/// ```
/// let opts = osc_dispatch::ShutdownOptions::default();
/// assert!(!opts.flush_pending && opts.finish_queued);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownOptions {
    /// Run every pending future bundle at once, in due order (true), or drop them,
    /// counted (false, the default). Shutdown never waits for a bundle's time.
    pub flush_pending: bool,
    /// Let the workers finish queued jobs (default true) or discard them.
    pub finish_queued: bool,
    /// The longest shutdown waits for the workers (default 1 s).
    pub deadline: Duration,
}

impl Default for ShutdownOptions {
    fn default() -> Self {
        ShutdownOptions {
            flush_pending: false,
            finish_queued: true,
            deadline: Duration::from_secs(1),
        }
    }
}

/// What [`Dispatcher::shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ShutdownSummary {
    /// Pending bundles run at shutdown.
    pub flushed_bundles: usize,
    /// Pending bundles dropped at shutdown.
    pub dropped_bundles: usize,
    /// The worker pool's shutdown (default if it never started).
    pub pool: ShutdownReport,
}

type Waker = Arc<dyn Fn() + Send + Sync>;

/// Method registry, bundle scheduler and executors. All methods take `&self`: share it
/// in an `Arc` between the threads of a driver. The dispatcher never reads the clock:
/// every time-dependent call takes `now`.
///
/// Driving it (the facade's three modes):
/// - eventloop / comthreads: call [`dispatch_packet`](Self::dispatch_packet) for each
///   packet and [`run_due`](Self::run_due) in `process()`; sleep at most
///   [`poll_timeout`](Self::poll_timeout).
/// - allthreads: the same calls from the I/O and timer threads, with
///   [`Executor::Pool`] as default; [`set_waker`](Self::set_waker) wakes the timer
///   thread when a new bundle becomes the earliest.
#[derive(Debug)]
pub struct Dispatcher {
    config: DispatcherConfig,
    table: RwLock<Arc<Table>>,
    scheduler: Mutex<Scheduler>,
    /// The scheduler's length after its last change, so that drivers can skip the
    /// clock and the lock when nothing is pending ([`has_pending`](Self::has_pending)).
    pending: AtomicUsize,
    shared: Arc<ExecState>,
    pool: OnceLock<Option<WorkerPool>>,
    waker: RwLock<Option<WakerBox>>,
    shut: AtomicBool,
    /// Bumped by every change of the table, under its lock
    /// ([`generation`](Self::generation)).
    generation: AtomicU64,
    /// Registered methods whose handler takes the view, plus one for such a fallback
    /// ([`takes_views`](Self::takes_views)).
    views: AtomicUsize,
    fallback_view: AtomicBool,
    /// This dispatcher among all of the process's, never reused (its address may be): a
    /// [`KeptMethods`] names the dispatcher its methods came from by it.
    serial: u64,
}

/// The next [`Dispatcher`]'s serial number.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// A registered method as [`Dispatcher::methods`] lists it.
///
/// ```
/// use osc_dispatch::{Dispatcher, DispatcherConfig, Handler};
/// let d = Dispatcher::new(DispatcherConfig::default());
/// d.register("/synth/1/freq", Handler::typed(|f: f32| drop(f)))?;
/// let m = &d.methods()[0];
/// assert_eq!((m.address.as_str(), m.literal, m.osc_types.as_deref()), ("/synth/1/freq", true, Some("f")));
/// # Ok::<(), osc_dispatch::DispatchError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodInfo {
    /// The handle [`Dispatcher::unregister`] takes.
    pub handle: MethodHandle,
    /// The address, or the filter's source text, it was registered with.
    pub address: String,
    /// True for a literal address (a method in OSC's sense), false for a filter.
    pub literal: bool,
    /// The handler's OSC type tags, when known ([`Handler::osc_types`]).
    pub osc_types: Option<String>,
}

struct WakerBox(Waker);
impl std::fmt::Debug for WakerBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Waker(..)")
    }
}

impl Dispatcher {
    /// A dispatcher with no methods.
    #[must_use]
    pub fn new(config: DispatcherConfig) -> Self {
        let d = Dispatcher {
            scheduler: Mutex::new(Scheduler::new(config.scheduler)),
            pending: AtomicUsize::new(0),
            shared: Arc::new(ExecState::new(config.serialize_bundles)),
            table: RwLock::new(Arc::default()),
            pool: OnceLock::new(),
            waker: RwLock::new(None),
            shut: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            views: AtomicUsize::new(0),
            fallback_view: AtomicBool::new(false),
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            config,
        };
        if d.config.default_executor == Executor::Pool {
            let _ = d.pool();
        }
        d
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &DispatcherConfig {
        &self.config
    }

    fn pool(&self) -> Option<&WorkerPool> {
        self.pool
            .get_or_init(|| match WorkerPool::new(self.config.pool.clone()) {
                Ok(p) => Some(p),
                Err(e) => {
                    log::error!("osc-dispatch: no worker pool, running handlers inline: {e}");
                    None
                }
            })
            .as_ref()
    }

    fn method(&self, source: &str, handler: Handler, options: MethodOptions) -> Arc<Method> {
        let executor = match options.executor {
            Executor::Default => self.config.default_executor,
            e => e,
        };
        Arc::new(Method {
            source: source.into(),
            handler,
            lock: options.lock,
            on_pool: executor == Executor::Pool && self.config.pool.threads > 0,
        })
    }

    /// Registers a handler with default options. A literal address (`/synth/1/freq`)
    /// is a method in OSC's sense: incoming patterns select it. An address with pattern
    /// syntax (`/synth/*/freq`) registers a filter that selects matching literal
    /// incoming addresses (see osc-pattern's crate docs for the exact rule). Several
    /// methods may match one message: each is called once, in registration order.
    ///
    /// # Errors
    /// [`DispatchError::Address`] if the address is neither.
    ///
    /// ```
    /// use osc_codec::Message;
    /// use osc_dispatch::{Dispatcher, DispatcherConfig};
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/synth/*/freq", |m: &Message| log::info!("{}", m.address))?;
    /// assert!(d.register("/synth/[", |_: &Message| {}).is_err());
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn register<Form>(
        &self,
        address: &str,
        handler: impl ThreadSafe + IntoHandler<Form>,
    ) -> Result<MethodHandle> {
        self.register_with(address, handler, MethodOptions::default())
    }

    /// [`register`](Self::register) with options (lock, executor).
    ///
    /// # Errors
    /// As [`register`](Self::register).
    pub fn register_with<Form>(
        &self,
        address: &str,
        handler: impl ThreadSafe + IntoHandler<Form>,
        options: MethodOptions,
    ) -> Result<MethodHandle> {
        let method = self.method(address, handler.into_handler(), options);
        let view = method.handler.takes_view();
        let id = if is_literal_address(address) {
            self.edit(|t| t.insert(address, method))?
        } else {
            let filter = Filter::osc(address)?;
            self.edit(|t| t.insert_filter(filter, method))
        };
        self.registered(view);
        Ok(MethodHandle(id))
    }

    /// Registers a handler with an explicit [`Filter`] (OSC pattern, osc4py3 prefix
    /// compatibility, or a regular expression with osc-pattern's `regex` feature).
    pub fn register_filter<Form>(
        &self,
        filter: Filter,
        handler: impl ThreadSafe + IntoHandler<Form>,
        options: MethodOptions,
    ) -> MethodHandle {
        let method = self.method(filter.as_str(), handler.into_handler(), options);
        let view = method.handler.takes_view();
        let id = self.edit(|t| t.insert_filter(filter, method));
        self.registered(view);
        MethodHandle(id)
    }

    fn registered(&self, view: bool) {
        if view {
            self.views.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Changes the table (a copy of it while a reader holds the current one) and the
    /// generation, under the lock.
    fn edit<R>(&self, f: impl FnOnce(&mut Table) -> R) -> R {
        let mut table = self.table.write();
        let r = f(Arc::make_mut(&mut table));
        self.generation.fetch_add(1, Ordering::Release);
        r
    }

    /// The current table and its generation.
    fn snapshot(&self) -> Seen {
        let table = self.table.read();
        Seen {
            table: Arc::clone(&table),
            generation: self.generation.load(Ordering::Acquire),
        }
    }

    /// Whether `seen`, a look at this dispatcher's table, is still the current one.
    #[inline]
    fn is_current(&self, seen: &Seen) -> bool {
        seen.generation == self.generation.load(Ordering::Acquire)
    }

    /// Whether any registered method (or the fallback) has a handler that takes the
    /// zero-copy view ([`Handler::takes_view`]): a driver asks this before keeping a
    /// received message as bytes for
    /// [`dispatch_message_ref`](Self::dispatch_message_ref) rather than decoding it into
    /// an owned [`Message`]. One atomic load.
    ///
    /// ```
    /// use osc_codec::Message;
    /// use osc_dispatch::{Dispatcher, DispatcherConfig, Handler};
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/a", |_m: &Message| {})?;
    /// assert!(!d.takes_views());
    /// let h = d.register("/b", Handler::typed_ref(|f: f32| drop(f)))?;
    /// assert!(d.takes_views());
    /// d.unregister(h);
    /// assert!(!d.takes_views());
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    #[must_use]
    pub fn takes_views(&self) -> bool {
        self.views.load(Ordering::Acquire) > 0 || self.fallback_view.load(Ordering::Acquire)
    }

    /// Unregisters a method; false if it was not (or no longer) registered. A call
    /// already under way, or already queued on the pool, still happens.
    pub fn unregister(&self, handle: MethodHandle) -> bool {
        let removed = self.edit(|t| t.remove(handle.0));
        let Some(method) = removed else {
            return false;
        };
        if method.handler.takes_view() {
            self.views.fetch_sub(1, Ordering::AcqRel);
        }
        true
    }

    /// Moves a registered method to another literal address, keeping its handler and
    /// options: the move of a renamed node. Returns its new handle (the old one no
    /// longer names anything).
    ///
    /// # Errors
    /// [`DispatchError::Address`] when `address` is not a plain OSC address (the
    /// method stays where it was); [`DispatchError::NoSuchMethod`] when `handle`
    /// names no method.
    ///
    /// ```
    /// use osc_codec::Message;
    /// use osc_dispatch::{Dispatcher, DispatcherConfig};
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let h = d.register("/synth/1/freq", |_m: &Message| {})?;
    /// let moved = d.readdress(h, "/synth/lead/freq")?;
    /// assert_eq!(d.methods()[0].address, "/synth/lead/freq");
    /// assert!(d.readdress(moved, "/synth/*/freq").is_err()); // not a plain address
    /// assert!(d.readdress(h, "/x").is_err()); // h names nothing now
    /// assert!(d.unregister(moved));
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn readdress(&self, handle: MethodHandle, address: &str) -> Result<MethodHandle> {
        let old = self
            .table
            .read()
            .space
            .get(handle.0)
            .cloned()
            .ok_or(DispatchError::NoSuchMethod)?;
        let moved = Arc::new(Method {
            source: address.into(),
            handler: old.handler.clone(),
            lock: old.lock.clone(),
            on_pool: old.on_pool,
        });
        let (id, old) = self.edit(|t| {
            // Removed or moved meanwhile: the method is not there to move.
            if t.space.get(handle.0).is_none() {
                return Err(DispatchError::NoSuchMethod);
            }
            let id = t.insert(address, moved)?;
            Ok((MethodHandle(id), t.remove(handle.0)))
        })?;
        // The old entry drops after the lock.
        drop(old);
        Ok(id)
    }

    /// Every registered method (addresses and filters, not the fallback), in
    /// registration order, with what discovery needs: address, kind, type tags.
    #[must_use]
    pub fn methods(&self) -> Vec<MethodInfo> {
        self.table
            .read()
            .space
            .iter()
            .map(|(id, m)| MethodInfo {
                handle: MethodHandle(id),
                address: m.source.to_string(),
                literal: is_literal_address(&m.source),
                osc_types: m.handler.osc_types().map(String::from),
            })
            .collect()
    }

    /// A number that changes whenever a method is registered or removed: a cheap way
    /// for an observer (an OSCQuery server) to know that [`methods`](Self::methods)
    /// has changed.
    ///
    /// ```
    /// use osc_codec::Message;
    /// use osc_dispatch::{Dispatcher, DispatcherConfig};
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let before = d.generation();
    /// let h = d.register("/a", |_m: &Message| {})?;
    /// assert_ne!(d.generation(), before);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Number of registered methods.
    #[must_use]
    pub fn method_count(&self) -> usize {
        self.table.read().space.len()
    }

    /// Sets (or with `None` removes) the handler for messages that select no method.
    pub fn set_fallback(&self, handler: Option<Handler>, options: MethodOptions) {
        let method = handler.map(|h| self.method("(fallback)", h, options));
        let view = method.as_ref().is_some_and(|m| m.handler.takes_view());
        // The old fallback drops after the lock: its handler's state may call back.
        let old = self.edit(|t| std::mem::replace(&mut t.fallback, method));
        self.fallback_view.store(view, Ordering::Release);
        drop(old);
    }

    /// Sets a function called when a newly held bundle becomes the earliest pending
    /// one (so a driver sleeping until the previous head should recompute its timeout).
    /// It is called in the dispatching thread, with no lock held.
    pub fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        *self.waker.write() = Some(WakerBox(Arc::new(waker)));
    }

    /// The failure counters of [`stats`](Self::stats) added up (`unmatched`,
    /// `bad_address`, `handler_panics`, `arg_errors`, `decode_errors` and the dropped
    /// bundles): it grows whenever one of them does. A cheap way to learn that there is
    /// a new failure to look at: a few loads, no snapshot.
    ///
    /// ```
    /// use osc_codec::{Message, Packet, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// assert_eq!(d.failures(), 0);
    /// d.dispatch_packet(Packet::from(Message::new("/nobody")), Context::new(now), now)?;
    /// assert_eq!(d.failures(), 1);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.shared.counters.failures()
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let mut s = self.shared.counters.snapshot();
        let p = self.pool_stats();
        s.pool_overflow = p.overflow;
        s.pool_dropped = p.dropped;
        s
    }

    /// Runs `f` (which dispatches); every method its dispatches of messages from this
    /// thread select runs in this thread at once, the worker pool's methods too, as in
    /// a dispatcher without a pool: no job is made, boxed or queued for them. For a
    /// thread that would run the jobs itself anyway ([`caller_runs`](Self::caller_runs))
    /// and has nothing that a slow handler could hold back (one message read): the
    /// handlers run in the same thread and order, for less work. Bundles still go to
    /// the pool's bundle lane, which keeps them in order. Scopes nest; the
    /// dispatcher's other threads are not affected.
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Executor};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let mut cfg = DispatcherConfig::default();
    /// cfg.default_executor = Executor::Pool;
    /// let d = Dispatcher::new(cfg);
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = Arc::clone(&seen);
    /// d.register("/a", move |_m: &Message| {
    ///     s.lock().unwrap().push(std::thread::current().id());
    /// })?;
    /// let now = TimeTag::now();
    /// d.runs_here(|| {
    ///     d.dispatch_packet(Message::new("/a").into(), Context::new(now), now)?;
    ///     // Already run, before the scope ends.
    ///     assert_eq!(*seen.lock().unwrap(), [std::thread::current().id()]);
    ///     Ok::<(), osc_dispatch::DispatchError>(())
    /// })?;
    /// assert_eq!(d.stats().handler_calls, 1);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn runs_here<R>(&self, f: impl FnOnce() -> R) -> R {
        let _here = Here::enter(self.id());
        f()
    }

    /// The pool the methods selected by a message's dispatch from this thread run on:
    /// `None` inside [`runs_here`](Self::runs_here) (they run inline).
    fn dispatch_pool(&self) -> Option<&WorkerPool> {
        if HERE.get() == self.id() {
            return None;
        }
        self.pool()
    }

    /// This dispatcher's address, which names it in [`HERE`].
    fn id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Runs `f` (which dispatches); the pool jobs it submits from this thread run in
    /// this thread when `f` returns, unless [`release_deferred`](Self::release_deferred)
    /// hands them to the workers first (see [`WorkerPool::caller_runs`]). Without a
    /// started pool, just runs `f`.
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Executor};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let mut cfg = DispatcherConfig::default();
    /// cfg.default_executor = Executor::Pool;
    /// let d = Dispatcher::new(cfg);
    /// let ran_on = Arc::new(Mutex::new(None));
    /// let r = Arc::clone(&ran_on);
    /// d.register("/a", move |_m: &Message| {
    ///     *r.lock().unwrap() = Some(std::thread::current().id());
    /// })?;
    /// let msg = Message::new("/a").into();
    /// d.caller_runs(|| d.dispatch_packet(msg, Context::new(TimeTag::now()), TimeTag::now()))?;
    /// assert_eq!(*ran_on.lock().unwrap(), Some(std::thread::current().id()));
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn caller_runs<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.pool.get() {
            Some(Some(pool)) => pool.caller_runs(f),
            _ => f(),
        }
    }

    /// Runs `f` (which dispatches); the pool jobs it submits from this thread go to the
    /// workers together when `f` returns: one queue entry and one worker woken for all
    /// of them, not one of each per message (see [`WorkerPool::hand_off`]). Without a
    /// started pool, just runs `f`.
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Executor};
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// let mut cfg = DispatcherConfig::default();
    /// cfg.default_executor = Executor::Pool;
    /// let d = Dispatcher::new(cfg);
    /// let (tx, rx) = mpsc::sync_channel(8);
    /// d.register("/a", move |m: &Message| tx.send(m.args[0].as_i32()).unwrap())?;
    /// let now = TimeTag::now();
    /// d.hand_off(|| {
    ///     for i in 0..3 {
    ///         let msg = Message::new("/a").arg(i).into();
    ///         d.dispatch_packet(msg, Context::new(now), now)?;
    ///     }
    ///     Ok::<(), osc_dispatch::DispatchError>(())
    /// })?;
    /// let got: Vec<_> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
    /// assert_eq!(got, [Some(0), Some(1), Some(2)]);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn hand_off<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.pool.get() {
            Some(Some(pool)) => pool.hand_off(f),
            _ => f(),
        }
    }

    /// Wakes workers for the pool jobs kept back by [`caller_runs`](Self::caller_runs)
    /// and [`hand_off`](Self::hand_off) and not yet started (see
    /// [`WorkerPool::release_deferred`]); returns how many were waiting.
    pub fn release_deferred(&self) -> usize {
        match self.pool.get() {
            Some(Some(pool)) => pool.release_deferred(),
            _ => 0,
        }
    }

    /// The worker pool's counters (zero if it never started).
    #[must_use]
    pub fn pool_stats(&self) -> PoolStats {
        self.pool
            .get()
            .and_then(Option::as_ref)
            .map(WorkerPool::stats)
            .unwrap_or_default()
    }

    /// Resolves an address to its methods (the fallback when none), counting.
    fn resolve(&self, address: &str, out: &mut Methods) {
        out.clear();
        let table = self.table.read();
        if self.select(&table, address, |m| out.push(Arc::clone(m))) {
            bump(&self.shared.counters.matched);
        }
    }

    /// Gives `push` the methods of `table` that `address` selects (the fallback when
    /// none); true when some method matched (the caller counts those), the other cases
    /// counted here.
    #[inline]
    fn select<'t>(
        &self,
        table: &'t Table,
        address: &str,
        mut push: impl FnMut(&'t Arc<Method>),
    ) -> bool {
        let c = &self.shared.counters;
        let mut matched = false;
        let found = table.space.for_each_match(address, |_, m| {
            matched = true;
            push(m);
        });
        if let Err(e) = found {
            bump(&c.bad_address);
            log::warn!("osc-dispatch: bad incoming address {address:?}: {e}");
        }
        if matched {
            return true;
        }
        bump(&c.unmatched);
        match &table.fallback {
            Some(f) => push(f),
            None => log::debug!("osc-dispatch: no method for {address}"),
        }
        false
    }

    fn check_open(&self) -> Result<()> {
        if self.shut.load(Ordering::Acquire) {
            Err(DispatchError::ShutDown)
        } else {
            Ok(())
        }
    }

    /// Dispatches one message at once (messages outside bundles are never delayed).
    /// Borrowing the message avoids a copy unless a selected method runs on the pool.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`shutdown`](Self::shutdown).
    pub fn dispatch_message(&self, msg: &Message, ctx: &Context) -> Result<()> {
        self.check_open()?;
        self.message_now(Cow::Borrowed(msg), ctx);
        Ok(())
    }

    fn message_now(&self, msg: Cow<'_, Message>, ctx: &Context) {
        let mut methods = Methods::new();
        self.resolve(&msg.address, &mut methods);
        let calls = self.run_owned(&methods, msg, ctx);
        if calls > 0 {
            self.shared
                .counters
                .handler_calls
                .fetch_add(calls, Ordering::Relaxed);
        }
    }

    /// Calls the selected `methods` with an owned message (a pool method gets a job);
    /// returns how many inline handlers returned, for the caller to count.
    fn run_owned<M: std::borrow::Borrow<Arc<Method>>>(
        &self,
        methods: &[M],
        msg: Cow<'_, Message>,
        ctx: &Context,
    ) -> u64 {
        let shared = &self.shared;
        let pool = if methods.iter().any(|m| m.borrow().on_pool) {
            self.dispatch_pool()
        } else {
            None
        };
        let Some(pool) = pool else {
            if let [only] = methods {
                let only = only.borrow();
                if only.handler.takes_message() {
                    // The one method takes the message by value: it gets this one.
                    return u64::from(call_taking(shared, only, msg.into_owned(), ctx));
                }
            }
            return methods
                .iter()
                .map(|m| u64::from(call(shared, m.borrow(), Msg::Owned(&msg), ctx)))
                .sum();
        };
        let mut calls = 0;
        // One pool method, selected last: its job takes the message itself, after the
        // inline methods before it (no `Arc` to share it).
        if let [before @ .., last] = methods {
            let last = last.borrow();
            if last.on_pool && !before.iter().any(|m| m.borrow().on_pool) {
                for m in before {
                    calls += u64::from(call(shared, m.borrow(), Msg::Owned(&msg), ctx));
                }
                let mut job = shared.pool_call(Arc::clone(last), ctx);
                job.alone = Some(msg.into_owned());
                // A refused job is logged and counted by the pool.
                let _ = pool.submit_call(job);
                return calls;
            }
        }
        let shared_msg = Arc::new(msg.into_owned());
        for m in methods {
            let m = m.borrow();
            if m.on_pool {
                let mut job = shared.pool_call(Arc::clone(m), ctx);
                job.msg = Some(Arc::clone(&shared_msg));
                // A refused job is logged and counted by the pool.
                let _ = pool.submit_call(job);
            } else {
                calls += u64::from(call(shared, m, Msg::Owned(&shared_msg), ctx));
            }
        }
        calls
    }

    /// Dispatches one message from its zero-copy view, at once. Methods whose handler
    /// takes the view ([`Handler::borrowed`], [`Handler::typed_ref`]) and run inline get
    /// the view itself: matching a literal address, calling them and reading their
    /// arguments allocates nothing. The others (owned handlers, methods on the worker
    /// pool) get an owned copy, made once and only when one of them is selected; every
    /// method is still called once, in registration order.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// use osc_codec::{decode, Message, PacketRef, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let (a, b) = (seen.clone(), seen.clone());
    /// d.register("/v/1", Handler::typed_ref(move |x: i32| a.lock().unwrap().push(format!("view {x}"))))?;
    /// d.register("/v/*", move |m: &Message| b.lock().unwrap().push(format!("owned {}", m.address)))?;
    /// let bytes = Message::new("/v/1").arg(7).to_bytes()?;
    /// let PacketRef::Message(view) = decode(&bytes)? else { unreachable!() };
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// d.dispatch_message_ref(&view, &Context::new(now))?;
    /// assert_eq!(*seen.lock().unwrap(), ["view 7", "owned /v/1"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dispatch_message_ref(&self, msg: &MessageRef<'_>, ctx: &Context) -> Result<()> {
        self.batch()?.dispatch_message_ref(msg, ctx)
    }

    /// Dispatches several messages in a row from their views
    /// ([`DispatchBatch::dispatch_message_ref`]), looking the registered methods up
    /// once rather than once per message and adding what the messages count to
    /// [`stats`](Self::stats) when the batch is dropped. A change to the methods made
    /// meanwhile (by a handler too) applies from the next message on, as with
    /// [`dispatch_message_ref`](Self::dispatch_message_ref), except within a bundle
    /// ([`DispatchBatch::dispatch_bundle_ref`]: from the next bundle). Keep a batch for one
    /// burst of messages: while it lives, a change to the methods copies their table.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// use osc_codec::{decode, Message, PacketRef, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::atomic::{AtomicI32, Ordering};
    /// use std::sync::Arc;
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let sum = Arc::new(AtomicI32::new(0));
    /// let s = sum.clone();
    /// d.register("/v/*", Handler::typed_ref(move |x: i32| { s.fetch_add(x, Ordering::Relaxed); }))?;
    /// let packets: Vec<Vec<u8>> = (1..=3).map(|i| Message::new(format!("/v/{i}")).arg(i).to_bytes()).collect::<Result<_, _>>()?;
    /// let ctx = Context::new(TimeTag::new(3_900_000_000, 0));
    /// let mut batch = d.batch()?;
    /// for bytes in &packets {
    ///     let PacketRef::Message(view) = decode(bytes)? else { unreachable!() };
    ///     batch.dispatch_message_ref(&view, &ctx)?;
    /// }
    /// drop(batch);
    /// assert_eq!((sum.load(Ordering::Relaxed), d.stats().handler_calls), (6, 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batch(&self) -> Result<DispatchBatch<'_>> {
        self.check_open()?;
        Ok(self.batch_of(self.snapshot()))
    }

    /// A [`batch`](Self::batch) that starts from `kept`, a look at the methods that a
    /// dispatching thread keeps from one batch to the next: when the methods did not
    /// change since, the batch takes the table with one atomic load and one reference
    /// count, where `batch` also takes the table's read lock. A `kept` from another
    /// dispatcher, or none yet, is replaced by a look at this one's methods.
    ///
    /// `kept` holds the table weakly: it keeps no handler alive, and a change to the
    /// methods between two batches does not copy the table (a batch alive during the
    /// change does, as with `batch`). After [`shutdown`](Self::shutdown) this call
    /// clears `kept`.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// use osc_codec::{decode, Message, PacketRef, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler, KeptMethods};
    /// use std::sync::atomic::{AtomicI32, Ordering};
    /// use std::sync::Arc;
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let sum = Arc::new(AtomicI32::new(0));
    /// let s = sum.clone();
    /// let h = d.register("/v", Handler::typed_ref(move |x: i32| { s.fetch_add(x, Ordering::Relaxed); }))?;
    /// let bytes = Message::new("/v").arg(5).to_bytes()?;
    /// let PacketRef::Message(view) = decode(&bytes)? else { unreachable!() };
    /// let ctx = Context::new(TimeTag::new(3_900_000_000, 0));
    /// let mut kept = KeptMethods::new();
    /// for _ in 0..2 {
    ///     // One batch per pass of a receive loop; the second takes no lock.
    ///     d.batch_kept(&mut kept)?.dispatch_message_ref(&view, &ctx)?;
    /// }
    /// assert_eq!(sum.load(Ordering::Relaxed), 10);
    /// d.unregister(h);
    /// d.batch_kept(&mut kept)?.dispatch_message_ref(&view, &ctx)?;
    /// assert_eq!(sum.load(Ordering::Relaxed), 10); // removed: not called
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn batch_kept(&self, kept: &mut KeptMethods) -> Result<DispatchBatch<'_>> {
        if let Err(e) = self.check_open() {
            kept.clear();
            return Err(e);
        }
        Ok(self.batch_of(self.kept_or_snapshot(kept)))
    }

    /// The table `kept` looks at when it is still current, else a snapshot, which
    /// `kept` then looks at.
    #[inline]
    fn kept_or_snapshot(&self, kept: &mut KeptMethods) -> Seen {
        let generation = self.generation.load(Ordering::Acquire);
        let current = kept
            .0
            .as_ref()
            .filter(|k| k.dispatcher == self.serial && k.generation == generation)
            .and_then(|k| k.table.upgrade());
        if let Some(table) = current {
            return Seen { table, generation };
        }
        let seen = self.snapshot();
        kept.0 = Some(KeptLook {
            dispatcher: self.serial,
            generation: seen.generation,
            table: Arc::downgrade(&seen.table),
        });
        seen
    }

    fn batch_of(&self, seen: Seen) -> DispatchBatch<'_> {
        DispatchBatch {
            d: self,
            seen,
            matched: 0,
            calls: 0,
        }
    }

    /// Dispatches a packet that arrived at `now`: a message runs at once; a bundle runs
    /// at once, is held until due, or is dropped, by the [`SchedulerConfig`] rules.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// use osc_codec::{Bundle, Message, MessageRef, Packet, PacketRef, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
    /// use std::time::Duration;
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/go", |_: &osc_codec::Message| {})?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let later = now + Duration::from_secs(2);
    /// d.dispatch_packet(Bundle::new(later).add(Message::new("/go")).into(), Context::new(now), now)?;
    /// assert_eq!((d.pending(), d.next_due()), (1, Some(later)));
    /// assert_eq!(d.run_due(later), 1);
    /// assert_eq!(d.stats().handler_calls, 1);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn dispatch_packet(&self, packet: Packet, ctx: Context, now: TimeTag) -> Result<()> {
        self.packet_now(packet, Cow::Owned(ctx), now)
    }

    /// [`dispatch_packet`](Self::dispatch_packet) with a context the caller keeps (a
    /// receive loop lends one from packet to packet): it is cloned only for a bundle,
    /// which may be held for later.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/n", |m: &Message| assert_eq!(m.args.len(), 1))?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let ctx = Context::new(now).with_channel("in");
    /// for i in 0..3 {
    ///     d.dispatch_packet_lent(Message::new("/n").arg(i).into(), &ctx, now)?;
    /// }
    /// assert_eq!(d.stats().handler_calls, 3);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn dispatch_packet_lent(&self, packet: Packet, ctx: &Context, now: TimeTag) -> Result<()> {
        self.packet_now(packet, Cow::Borrowed(ctx), now)
    }

    fn packet_now(&self, packet: Packet, ctx: Cow<'_, Context>, now: TimeTag) -> Result<()> {
        self.check_open()?;
        match packet {
            Packet::Message(m) => self.message_now(Cow::Owned(m), &ctx),
            Packet::Bundle(b) => self.bundle_arrived(b, None, ctx.into_owned(), now),
        }
        Ok(())
    }

    /// Decodes `bytes` (with [`DispatcherConfig::codec`]) and dispatches the packet. When
    /// some handler takes the view ([`takes_views`](Self::takes_views)), the packet is
    /// decoded into a view: a message is dispatched by
    /// [`dispatch_message_ref`](Self::dispatch_message_ref), a bundle by
    /// [`DispatchBatch::dispatch_bundle_ref`] (copied into an owned one only when it is
    /// held for later; with a method on the worker pool, its borrowed handlers read one
    /// copy of its bytes).
    ///
    /// # Errors
    /// [`DispatchError::Decode`] (counted, nothing dispatched) or
    /// [`DispatchError::ShutDown`].
    pub fn dispatch_bytes(&self, bytes: &[u8], ctx: Context, now: TimeTag) -> Result<()> {
        self.check_open()?;
        let decoded = if self.takes_views() {
            match osc_codec::decode_with(bytes, &self.config.codec) {
                Ok(PacketRef::Message(m)) => return self.dispatch_message_ref(&m, &ctx),
                Ok(PacketRef::Bundle(b)) => {
                    return self.batch()?.dispatch_bundle_ref(&b, &ctx, now);
                }
                Err(e) => Err(e),
            }
        } else {
            Packet::decode_with(bytes, &self.config.codec)
        };
        match decoded {
            Ok(p) => self.dispatch_packet(p, ctx, now),
            Err(e) => {
                bump(&self.shared.counters.decode_errors);
                log::warn!("osc-dispatch: undecodable packet from {:?}: {e}", ctx.peer);
                Err(e.into())
            }
        }
    }

    /// Dispatches to the local methods without encoding (osc4py3's `_local` target);
    /// the context is [`Context::local`].
    ///
    /// # Errors
    /// As [`dispatch_packet`](Self::dispatch_packet).
    pub fn dispatch_local(&self, packet: Packet, now: TimeTag) -> Result<()> {
        self.dispatch_packet(packet, Context::local(now), now)
    }

    /// Admits a bundle (`parent`: the raw timetag of the bundle it is nested in) and runs
    /// it if the rules run it now.
    fn bundle_arrived(&self, b: Bundle, parent: Option<TimeTag>, ctx: Context, now: TimeTag) {
        let mut calls = self.shared.call_list();
        if let Some(s) = self.admit(b, parent, ctx, now) {
            self.collect(s, now, &mut calls);
        }
        self.execute(calls);
    }

    /// What the rules decide for `nested`, a bundle in one with the raw timetag `parent`
    /// that runs now.
    fn nested_verdict(&self, nested: &BundleRef<'_>, parent: TimeTag, now: TimeTag) -> Verdict {
        let rules = &self.config.scheduler;
        rules.verdict(nested.timetag(), Some(parent), now)
    }

    /// The bundles nested in `bundle`, which runs now from its view
    /// ([`DispatchBatch::dispatch_bundle_ref`]), that the rules do not run now: dropped
    /// (counted, from the view) or copied and admitted (held, or dropped when
    /// `max_pending` bundles wait), in the order [`collect`](Self::collect) admits them
    /// (depth first, through the nested bundles that run now), before any of the
    /// bundle's handlers runs. `outer` is the context of the bundle's parent, or of its
    /// packet.
    fn hold_nested(&self, bundle: &BundleRef<'_>, outer: &Context, now: TimeTag) {
        let timetag = bundle.timetag();
        let ctx = outer.clone().with_bundle_timetag(timetag);
        for element in bundle.elements() {
            let PacketRef::Bundle(nested) = element else {
                continue;
            };
            match self.nested_verdict(&nested, timetag, now) {
                Verdict::Run { .. } if nested.holds_bundles() => {
                    self.hold_nested(&nested, &ctx, now)
                }
                Verdict::Run { .. } => {}
                Verdict::Drop { due, reason } => {
                    self.dropped_view(&nested, &ctx, (due, reason), now)
                }
                Verdict::Later { .. } => {
                    self.bundle_arrived(nested.to_owned(), Some(timetag), ctx.clone(), now);
                }
            }
        }
    }

    /// Asks the scheduler; returns the bundle if it runs now.
    fn admit(
        &self,
        b: Bundle,
        parent: Option<TimeTag>,
        ctx: Context,
        now: TimeTag,
    ) -> Option<Scheduled> {
        let decision = self.with_scheduler(|s| s.admit(b, parent, ctx, now));
        match decision {
            Decision::Run(s) => Some(s),
            Decision::Held { new_head } => {
                bump(&self.shared.counters.bundles_held);
                if new_head {
                    let waker = self.waker.read().as_ref().map(|w| Arc::clone(&w.0));
                    if let Some(w) = waker {
                        w();
                    }
                }
                None
            }
            Decision::Drop(s, reason) => {
                self.dropped(&s, reason, now);
                None
            }
        }
    }

    fn dropped(&self, s: &Scheduled, reason: BundleDrop, now: TimeTag) {
        let b = &s.bundle;
        let elements = || b.content.len();
        self.count_dropped(b.timetag, s.due, elements, &s.context, reason, now);
    }

    /// [`dropped`](Self::dropped) for a bundle the rules dropped before it was copied.
    fn dropped_view(
        &self,
        b: &BundleRef<'_>,
        ctx: &Context,
        verdict: (TimeTag, BundleDrop),
        now: TimeTag,
    ) {
        let (due, reason) = verdict;
        let elements = || b.elements().count();
        self.count_dropped(b.timetag(), due, elements, ctx, reason, now);
    }

    /// Counts a dropped bundle and logs it (`elements` counted only for the log).
    fn count_dropped(
        &self,
        timetag: TimeTag,
        due: TimeTag,
        elements: impl FnOnce() -> usize,
        ctx: &Context,
        reason: BundleDrop,
        now: TimeTag,
    ) {
        self.shared.counters.dropped(reason);
        log::warn!(
            "osc-dispatch: bundle {timetag} (due {due}, now {now}, {} elements, from {:?}) dropped: {reason:?}",
            elements(),
            ctx.peer
        );
    }

    /// Resolves a released bundle into its calls, in element order; nested bundles are
    /// admitted in turn (run now: their calls join this unit; later: held).
    fn collect(&self, s: Scheduled, now: TimeTag, calls: &mut Vec<Call>) {
        bump(&self.shared.counters.bundles_run);
        let timetag = s.bundle.timetag;
        let ctx = s.context.with_bundle_timetag(timetag);
        let mut stack = vec![(s.bundle.content.into_iter(), timetag, ctx)];
        let mut methods = Methods::new();
        while let Some((iter, tt, ctx)) = stack.last_mut() {
            let Some(element) = iter.next() else {
                stack.pop();
                continue;
            };
            match element {
                Packet::Message(m) => {
                    self.resolve(&m.address, &mut methods);
                    let msg = Arc::new(m);
                    calls.extend(methods.drain(..).map(|method| Call {
                        method,
                        msg: CallMsg::Owned(Arc::clone(&msg)),
                        ctx: ctx.clone(),
                    }));
                }
                Packet::Bundle(b) => {
                    let (parent, outer) = (*tt, ctx.clone());
                    if let Some(n) = self.admit(b, Some(parent), outer, now) {
                        bump(&self.shared.counters.bundles_run);
                        let t = n.bundle.timetag;
                        let c = n.context.with_bundle_timetag(t);
                        stack.push((n.bundle.content.into_iter(), t, c));
                    }
                }
            }
        }
    }

    /// Runs one bundle's calls as a unit: inline, or on the pool's bundle lane when
    /// any of its methods runs on the pool.
    fn execute(&self, calls: Vec<Call>) {
        if calls.is_empty() {
            self.shared.keep_call_list(calls);
            return;
        }
        let pool = if calls.iter().any(|c| c.method.on_pool) {
            self.pool()
        } else {
            None
        };
        match pool {
            Some(pool) => submit_bundle(&self.shared, pool, calls),
            None => run_calls(&self.shared, calls),
        }
    }

    /// Releases every bundle due at `now` (due time at most `now` + tolerance), in due
    /// order (arrival order among equal timetags), and runs each as a unit. Returns how
    /// many were released (run or dropped as late).
    pub fn run_due(&self, now: TimeTag) -> usize {
        let mut n = 0;
        loop {
            let released = self.with_scheduler(|s| s.pop_due(now));
            match released {
                None => return n,
                Some(Release::Run(s)) => {
                    let mut calls = self.shared.call_list();
                    self.collect(s, now, &mut calls);
                    self.execute(calls);
                }
                Some(Release::Drop(s, reason)) => self.dropped(&s, reason, now),
            }
            n += 1;
        }
    }

    /// Runs `f` on the scheduler, then records its length for
    /// [`has_pending`](Self::has_pending).
    fn with_scheduler<R>(&self, f: impl FnOnce(&mut Scheduler) -> R) -> R {
        let mut scheduler = self.scheduler.lock();
        let r = f(&mut scheduler);
        self.pending.store(scheduler.len(), Ordering::Release);
        r
    }

    /// Whether any bundle is held for later: one atomic load, no lock. A driver that
    /// sees `false` needs neither the clock nor [`run_due`](Self::run_due) nor
    /// [`poll_timeout`](Self::poll_timeout) for this pass.
    ///
    /// ```
    /// use osc_codec::{Bundle, Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
    /// use std::time::Duration;
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// assert!(!d.has_pending());
    /// let now = TimeTag::now();
    /// let later = Bundle::new(now + Duration::from_secs(60)).add(Message::new("/a"));
    /// d.dispatch_packet(later.into(), Context::new(now), now)?;
    /// assert!(d.has_pending());
    /// assert_eq!(d.run_due(now + Duration::from_secs(61)), 1);
    /// assert!(!d.has_pending());
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    #[must_use]
    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// The local due time of the earliest pending bundle.
    #[must_use]
    pub fn next_due(&self) -> Option<TimeTag> {
        self.scheduler.lock().next_due()
    }

    /// How long the driver may wait before calling [`run_due`](Self::run_due) (`None`:
    /// nothing pending).
    #[must_use]
    pub fn poll_timeout(&self, now: TimeTag) -> Option<Duration> {
        self.scheduler.lock().poll_timeout(now)
    }

    /// Number of pending bundles.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Stops dispatching: later calls return [`DispatchError::ShutDown`]; pending bundles
    /// are dropped (counted) or flushed at once, never waited for; the worker pool
    /// finishes or drops its queued jobs within the deadline and its threads are joined.
    /// Calling it again does nothing.
    pub fn shutdown(&self, options: ShutdownOptions, now: TimeTag) -> ShutdownSummary {
        let mut summary = ShutdownSummary::default();
        if self.shut.swap(true, Ordering::AcqRel) {
            return summary;
        }
        // One at a time: flushing may admit nested future bundles, which then take
        // their place in due order.
        loop {
            let next = self.with_scheduler(Scheduler::pop_next);
            let Some(s) = next else { break };
            if options.flush_pending {
                summary.flushed_bundles += 1;
                let mut calls = Vec::new();
                self.collect(s, now, &mut calls);
                self.execute(calls);
            } else {
                summary.dropped_bundles += 1;
                self.dropped(&s, BundleDrop::Shutdown, now);
            }
        }
        if let Some(pool) = self.pool.get().and_then(Option::as_ref) {
            summary.pool = pool.shutdown(options.finish_queued, options.deadline);
        }
        summary
    }
}

/// Queues a bundle's calls on the lane; starts a pool job to drain the lane unless one
/// is already draining it. So pool-executed bundles run one at a time, in the order
/// they were released.
fn submit_bundle(shared: &Arc<ExecState>, pool: &WorkerPool, calls: Vec<Call>) {
    if !shared.queue_bundle(calls) {
        return;
    }
    let job_shared = Arc::clone(shared);
    if let Err(e) = pool.submit(Box::new(move || drain_lane(&job_shared))) {
        let dropped = shared.abandon_lane();
        log::warn!("osc-dispatch: {dropped} bundle(s) not run: {e}");
    }
}

thread_local! {
    /// Inside [`Dispatcher::runs_here`]: the dispatcher (its address) whose selected
    /// methods run inline in this thread; 0 outside.
    static HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A [`Dispatcher::runs_here`] scope: gives the outer scope back when it ends, also
/// when its closure panics.
struct Here(usize);

impl Here {
    fn enter(id: usize) -> Here {
        Here(HERE.replace(id))
    }
}

impl Drop for Here {
    fn drop(&mut self) {
        HERE.set(self.0);
    }
}

/// Messages dispatched in a row with one look at the registered methods: see
/// [`Dispatcher::batch`]. What they count is added to the dispatcher's stats when the
/// batch is dropped. A method removed while a batch holds the table it was in is
/// not called again (for the rest of a bundle it still is, as for an owned bundle,
/// whose calls are gathered first), but its handler (and what it captured) is dropped
/// when the batch next looks at the methods or drops.
#[derive(Debug)]
pub struct DispatchBatch<'d> {
    d: &'d Dispatcher,
    seen: Seen,
    matched: u64,
    calls: u64,
}

/// A batch's look at its dispatcher's methods: their table as of a generation.
#[derive(Debug)]
struct Seen {
    table: Arc<Table>,
    generation: u64,
}

/// What [`KeptMethods`] holds: a [`Seen`] with the table held weakly, and the
/// dispatcher it was taken from.
#[derive(Debug)]
struct KeptLook {
    dispatcher: u64,
    table: Weak<Table>,
    generation: u64,
}

/// A dispatching thread's look at a dispatcher's methods, kept from one
/// [`DispatchBatch`] to the next: see [`Dispatcher::batch_kept`]. Empty at first. It
/// holds the methods' table weakly: no handler is kept alive by it.
#[derive(Debug, Default)]
pub struct KeptMethods(Option<KeptLook>);

impl KeptMethods {
    /// An empty look: the first batch made with it takes the methods.
    ///
    /// ```
    /// let kept = osc_dispatch::KeptMethods::new();
    /// assert!(kept.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        KeptMethods(None)
    }

    /// Forgets the look (the next batch made with it takes the methods again).
    ///
    /// ```
    /// use osc_codec::Message;
    /// use osc_dispatch::{Dispatcher, DispatcherConfig, KeptMethods};
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/a", |_m: &Message| {})?;
    /// let mut kept = KeptMethods::new();
    /// drop(d.batch_kept(&mut kept)?);
    /// assert!(!kept.is_empty());
    /// kept.clear();
    /// assert!(kept.is_empty());
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// Whether it has no look at any methods.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl DispatchBatch<'_> {
    /// Dispatches one message from its zero-copy view, at once: what
    /// [`Dispatcher::dispatch_message_ref`] does. Methods whose handler takes the view
    /// and run inline get the view itself; the others (owned handlers, methods on the
    /// worker pool) get an owned copy, made once and only when one of them is
    /// selected; every method is called once, in registration order.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`Dispatcher::shutdown`].
    pub fn dispatch_message_ref(&mut self, msg: &MessageRef<'_>, ctx: &Context) -> Result<()> {
        self.d.check_open()?;
        self.refresh();
        self.run_view(msg, ctx);
        Ok(())
    }

    /// Calls the methods `msg` selects in the batch's table, each as the selection meets
    /// it (in registration order): the table is this batch's snapshot, which nothing
    /// changes meanwhile, so nothing is collected first.
    fn run_view(&mut self, msg: &MessageRef<'_>, ctx: &Context) {
        let d = self.d;
        let mut call_one = ViewCall::new(d, msg, ctx);
        if d.select(&self.seen.table, msg.address(), |m| call_one.call(m)) {
            self.matched += 1;
        }
        self.calls += call_one.calls;
    }

    /// Dispatches a packet that arrived at `now`, as [`Dispatcher::dispatch_packet`]
    /// does, with the batch's look at the methods and its counts: a message runs at
    /// once; a bundle runs at once, is held until due, or is dropped.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`Dispatcher::shutdown`].
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/n", |m: &Message| assert_eq!(m.args.len(), 1))?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let mut batch = d.batch()?;
    /// for i in 0..3 {
    ///     batch.dispatch_packet(Message::new("/n").arg(i).into(), Context::new(now), now)?;
    /// }
    /// drop(batch);
    /// assert_eq!((d.stats().matched, d.stats().handler_calls), (3, 3));
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn dispatch_packet(&mut self, packet: Packet, ctx: Context, now: TimeTag) -> Result<()> {
        self.packet_now(packet, Cow::Owned(ctx), now)
    }

    /// [`dispatch_packet`](Self::dispatch_packet) with a context the caller keeps (a
    /// receive loop lends one from packet to packet): it is cloned only for a bundle,
    /// which may be held for later.
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`Dispatcher::shutdown`].
    ///
    /// ```
    /// use osc_codec::{Message, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// d.register("/n", |m: &Message| assert_eq!(m.args.len(), 1))?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let ctx = Context::new(now).with_channel("in");
    /// let mut batch = d.batch()?;
    /// for i in 0..3 {
    ///     batch.dispatch_packet_lent(Message::new("/n").arg(i).into(), &ctx, now)?;
    /// }
    /// drop(batch);
    /// assert_eq!((d.stats().matched, d.stats().handler_calls), (3, 3));
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn dispatch_packet_lent(
        &mut self,
        packet: Packet,
        ctx: &Context,
        now: TimeTag,
    ) -> Result<()> {
        self.packet_now(packet, Cow::Borrowed(ctx), now)
    }

    fn packet_now(&mut self, packet: Packet, ctx: Cow<'_, Context>, now: TimeTag) -> Result<()> {
        let d = self.d;
        d.check_open()?;
        let m = match packet {
            Packet::Message(m) => m,
            Packet::Bundle(b) => {
                d.bundle_arrived(b, None, ctx.into_owned(), now);
                return Ok(());
            }
        };
        self.refresh();
        let mut methods = Selected::new();
        if d.select(&self.seen.table, &m.address, |method| methods.push(method)) {
            self.matched += 1;
        }
        self.calls += d.run_owned(&methods, Cow::Owned(m), &ctx);
        Ok(())
    }

    /// Dispatches a bundle that arrived at `now` from its zero-copy view, as
    /// [`dispatch_packet`](Self::dispatch_packet) dispatches an owned one, without
    /// copying it when it runs at once: when the [`SchedulerConfig`] rules run it now
    /// (immediate, due, or late under [`LatePolicy::Run`](crate::LatePolicy::Run)) and
    /// no method runs on the worker pool, its messages go to their methods in order as
    /// the bundle is read. A handler that takes the view gets it; an owned handler gets a
    /// copy of its message, as from [`dispatch_message_ref`](Self::dispatch_message_ref).
    /// The bundle runs as a unit, as an owned one does: under the bundle gate (see
    /// [`DispatcherConfig::serialize_bundles`]), each message with
    /// [`Context::bundle_timetag`] set, and every message going to the methods as they
    /// were when the bundle began. A nested bundle due at its turn runs the same way; one
    /// that waits is copied and held (or dropped when `max_pending` bundles wait), one the
    /// rules drop is counted and logged, before any handler of the bundle runs.
    ///
    /// While some method runs on the worker pool, a bundle that runs now has its calls
    /// gathered from its view first (against the same methods, in the same order) and
    /// run as a unit, on the pool's bundle lane when one of them is a pool method: a
    /// handler that takes the view reads it from one copy of the bundle's bytes (made
    /// once, shared by the bundle's calls), an owned handler gets an owned copy of its
    /// message.
    ///
    /// A bundle the rules drop (late, beyond the horizon) is counted and logged from its
    /// view. A bundle that waits is copied into an owned bundle and goes the way of
    /// [`dispatch_packet`](Self::dispatch_packet).
    ///
    /// # Errors
    /// [`DispatchError::ShutDown`] after [`Dispatcher::shutdown`].
    ///
    /// ```
    /// use osc_codec::{Bundle, Message, Packet, PacketRef, TimeTag};
    /// use osc_dispatch::{Context, Dispatcher, DispatcherConfig, Handler};
    /// use std::sync::{Arc, Mutex};
    ///
    /// let d = Dispatcher::new(DispatcherConfig::default());
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let s = seen.clone();
    /// d.register("/v/*", Handler::borrowed(move |m, ctx| {
    ///     let tag = ctx.bundle_timetag.map(|t| t.seconds);
    ///     s.lock().unwrap().push((m.address().to_owned(), tag));
    /// }))?;
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let bundle = Bundle::new(now).add(Message::new("/v/1")).add(Message::new("/v/2"));
    /// let bytes = Packet::from(bundle).to_bytes()?;
    /// let PacketRef::Bundle(view) = osc_codec::decode(&bytes)? else { unreachable!() };
    /// d.batch()?.dispatch_bundle_ref(&view, &Context::new(now), now)?;
    /// let at = Some(3_900_000_000);
    /// assert_eq!(*seen.lock().unwrap(), [("/v/1".to_owned(), at), ("/v/2".to_owned(), at)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dispatch_bundle_ref(
        &mut self,
        bundle: &BundleRef<'_>,
        ctx: &Context,
        now: TimeTag,
    ) -> Result<()> {
        let d = self.d;
        d.check_open()?;
        self.refresh();
        match d.config.scheduler.verdict(bundle.timetag(), None, now) {
            Verdict::Run { .. } => {}
            Verdict::Drop { due, reason } => {
                d.dropped_view(bundle, ctx, (due, reason), now);
                return Ok(());
            }
            Verdict::Later { .. } => {
                d.bundle_arrived(bundle.to_owned(), None, ctx.clone(), now);
                return Ok(());
            }
        }
        if bundle.holds_bundles() {
            // Before any handler runs, as the owned path gathers every call first.
            d.hold_nested(bundle, ctx, now);
        }
        if self.seen.table.runs_inline() {
            let _unit = d.shared.bundle_unit();
            self.each_message_run(bundle, ctx, now, &mut |b, m, ctx| b.run_view(m, ctx));
        } else {
            // Some method runs on the pool: the calls are gathered first, as the owned
            // path gathers them, and run as a unit (on the pool's lane when one of them
            // is a pool method); borrowed handlers read their messages from one copy
            // of the bundle's bytes.
            let mut calls = BundleCalls::new(d.shared.call_list(), bundle.as_bytes());
            let mut gather = |b: &mut Self, m: &MessageRef<'_>, ctx: &Context| {
                b.collect_message(m, ctx, &mut calls);
            };
            self.each_message_run(bundle, ctx, now, &mut gather);
            d.execute(calls.calls);
        }
        Ok(())
    }

    /// Gathers the calls of the methods `msg` selects in the batch's table: a borrowed
    /// handler's reads the bundle's copied bytes, an owned handler's an owned copy made
    /// once for the message.
    fn collect_message(
        &mut self,
        msg: &MessageRef<'_>,
        ctx: &Context,
        calls: &mut BundleCalls<'_>,
    ) {
        let mut owned: Option<Arc<Message>> = None;
        let selected = self.d.select(&self.seen.table, msg.address(), |method| {
            let m = if method.handler.takes_view() {
                calls.in_bundle(msg)
            } else {
                let o = owned.get_or_insert_with(|| Arc::new(msg.to_owned()));
                CallMsg::Owned(Arc::clone(o))
            };
            calls.calls.push(Call {
                method: Arc::clone(method),
                msg: m,
                ctx: ctx.clone(),
            });
        });
        if selected {
            self.matched += 1;
        }
    }

    /// Gives `on_message` each message of a bundle that the rules run now, in order,
    /// with its context: its own messages, and those of the bundles nested in it that
    /// the rules run now (the others were held or dropped by
    /// [`Dispatcher::hold_nested`], which `dispatch_bundle_ref` calls whenever the bundle
    /// holds bundles, with the same verdict). Counts each bundle run. `outer` is the
    /// context of the bundle's parent, or of its packet.
    fn each_message_run<F>(
        &mut self,
        bundle: &BundleRef<'_>,
        outer: &Context,
        now: TimeTag,
        on_message: &mut F,
    ) where
        F: FnMut(&mut Self, &MessageRef<'_>, &Context),
    {
        let d = self.d;
        bump(&d.shared.counters.bundles_run);
        let timetag = bundle.timetag();
        let ctx = outer.clone().with_bundle_timetag(timetag);
        for element in bundle.elements() {
            match element {
                PacketRef::Message(m) => on_message(self, &m, &ctx),
                PacketRef::Bundle(nested) => {
                    if let Verdict::Run { .. } = d.nested_verdict(&nested, timetag, now) {
                        self.each_message_run(&nested, &ctx, now, on_message);
                    }
                }
            }
        }
    }

    /// Takes the methods again when they changed since the batch last looked.
    #[inline]
    fn refresh(&mut self) {
        if !self.d.is_current(&self.seen) {
            self.seen = self.d.snapshot();
        }
    }
}

/// The calls of one message dispatched from its view ([`DispatchBatch::dispatch_message_ref`]):
/// a method whose handler takes the view and runs inline gets the view; the others
/// (owned handlers, methods on the worker pool) get an owned copy, made at the first
/// of them, and the pool is looked up at the first pool method.
struct ViewCall<'d, 'm, 'b> {
    d: &'d Dispatcher,
    msg: &'m MessageRef<'b>,
    ctx: &'m Context,
    owned: Option<Arc<Message>>,
    /// The pool, once a pool method asked for it (`None` inside `runs_here`).
    pool: Option<Option<&'d WorkerPool>>,
    /// Handlers that returned.
    calls: u64,
}

impl<'d, 'm, 'b> ViewCall<'d, 'm, 'b> {
    fn new(d: &'d Dispatcher, msg: &'m MessageRef<'b>, ctx: &'m Context) -> Self {
        ViewCall {
            d,
            msg,
            ctx,
            owned: None,
            pool: None,
            calls: 0,
        }
    }

    #[inline]
    fn call(&mut self, m: &Arc<Method>) {
        let shared = &self.d.shared;
        if m.handler.takes_view() && !m.on_pool {
            self.calls += u64::from(call(shared, m, Msg::View(self.msg), self.ctx));
            return;
        }
        self.call_other(m);
    }

    /// An owned handler, or a method on the pool.
    #[inline(never)]
    fn call_other(&mut self, m: &Arc<Method>) {
        let d = self.d;
        let pool = if m.on_pool {
            *self.pool.get_or_insert_with(|| d.dispatch_pool())
        } else {
            None
        };
        let msg = self.msg;
        if let Some(pool) = pool {
            // A borrowed handler's job carries the message's bytes (in its slot's
            // reused buffer), not an owned copy.
            let mut job = d.shared.pool_call(Arc::clone(m), self.ctx);
            if m.handler.takes_view() {
                job.bytes.extend_from_slice(msg.as_bytes());
                job.strings = msg.string_policy();
            } else {
                let o = self.owned.get_or_insert_with(|| Arc::new(msg.to_owned()));
                job.msg = Some(Arc::clone(o));
            }
            // A refused job is logged and counted by the pool.
            let _ = pool.submit_call(job);
            return;
        }
        if m.handler.takes_view() {
            // A pool method run here (inside `runs_here`).
            self.calls += u64::from(call(&d.shared, m, Msg::View(msg), self.ctx));
            return;
        }
        let o = self.owned.get_or_insert_with(|| Arc::new(msg.to_owned()));
        self.calls += u64::from(call(&d.shared, m, Msg::Owned(o), self.ctx));
    }
}

/// The calls of a bundle dispatched from its view while some method runs on the pool
/// ([`DispatchBatch::dispatch_bundle_ref`]), and the one copy of the bundle's bytes that
/// its borrowed handlers' calls share, made at the first of them.
struct BundleCalls<'b> {
    calls: Vec<Call>,
    /// The bundle's bytes, in the datagram.
    bundle: &'b [u8],
    copy: Option<Arc<[u8]>>,
}

impl<'b> BundleCalls<'b> {
    fn new(calls: Vec<Call>, bundle: &'b [u8]) -> Self {
        BundleCalls {
            calls,
            bundle,
            copy: None,
        }
    }

    /// `msg`, one of the bundle's messages, as the part of the copy that holds it (an
    /// owned copy if it were not in the bundle's bytes, which a decode never gives).
    fn in_bundle(&mut self, msg: &MessageRef<'_>) -> CallMsg {
        let offset = (msg.as_bytes().as_ptr() as usize).checked_sub(self.bundle.as_ptr() as usize);
        let at = offset.and_then(|start| {
            let end = start.checked_add(msg.as_bytes().len())?;
            let fits = end <= self.bundle.len();
            // A packet is at most `u32::MAX` bytes (the codec checks).
            Some(u32::try_from(start).ok()?..u32::try_from(end).ok()?).filter(|_| fits)
        });
        match at {
            Some(at) => CallMsg::InBundle {
                bytes: Arc::clone(self.copy.get_or_insert_with(|| Arc::from(self.bundle))),
                at,
                strings: msg.string_policy(),
            },
            None => CallMsg::Owned(Arc::new(msg.to_owned())),
        }
    }
}

impl Drop for DispatchBatch<'_> {
    fn drop(&mut self) {
        let c = &self.d.shared.counters;
        if self.matched > 0 {
            c.matched.fetch_add(self.matched, Ordering::Relaxed);
        }
        if self.calls > 0 {
            c.handler_calls.fetch_add(self.calls, Ordering::Relaxed);
        }
    }
}
