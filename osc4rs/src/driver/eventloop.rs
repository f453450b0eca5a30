//! The event loop: everything runs inside the application's `process()` calls, and
//! `send()` writes at once (from handlers too).
//!
//! `process()` reads (until nothing is pending, or `PROCESS_MAX_PACKETS` packets) and
//! collects the decoded packets, releases the reactor, then dispatches them and runs
//! the due bundles: handlers can call anything that needs the reactor. A call from
//! another thread that needs it (`channel`, `close`, `local_addr`, `terminate`) wakes a
//! pass that waits in `process_timeout` until the pass lets go, instead of waiting for
//! its timeout; a `send()` from another thread while a pass runs is queued on the
//! reactor's handle, which wakes the pass to write it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use osc_channel::{ChannelId, ChannelSpec, Reactor, ReactorHandle};
use parking_lot::{Mutex, MutexGuard};

use crate::receive::{
    Batch, ChannelCache, Deliver, Sink, dispatch_batch, read_pending, with_batch,
};
use crate::state::{Engine, Opened};
use crate::stats::Counters;
use crate::{OscError, Result};

/// The event-loop driver.
pub(crate) struct EventLoop {
    /// `None` once terminated.
    reactor: Mutex<Option<Held>>,
    handle: ReactorHandle,
    /// Threads waiting in [`reactor_now`](Self::reactor_now): a `process()` loop lets
    /// them have the reactor before it takes it again.
    waiting: AtomicUsize,
}

/// What the reactor's lock holds: the reactor and the receive path's per-channel
/// cache, which only a pass that holds the reactor uses (one lock per pass, not two).
pub(super) struct Held {
    reactor: Reactor,
    cache: ChannelCache,
}

impl EventLoop {
    pub(super) fn new(reactor: Reactor) -> EventLoop {
        EventLoop {
            handle: reactor.handle(),
            reactor: Mutex::new(Some(Held {
                reactor,
                cache: ChannelCache::default(),
            })),
            waiting: AtomicUsize::new(0),
        }
    }

    /// `process_timeout`: waits up to `max_wait` (less if a bundle is due sooner), reads
    /// what is pending, then, with the reactor released, dispatches it and runs the
    /// due bundles.
    pub(super) fn process(&self, e: &Engine, max_wait: Duration) -> Result<usize> {
        if max_wait.is_zero() && self.reactor_is_idle() {
            // Nothing to read, write or fire: only the bundles that fell due, and the
            // failures a send may have counted, are left to see to.
            let n = e.core.run_due();
            e.notice();
            return Ok(n);
        }
        let wait = e.wait_within(max_wait);
        let handled = with_batch(|batch| {
            let passed = self.pass(e, wait, batch);
            let n = dispatch_batch(e, batch);
            passed.map(|()| n)
        })?;
        Ok(handled + e.core.run_due())
    }

    /// Waits up to `wait`, then reads until nothing is pending (at most
    /// `PROCESS_MAX_PACKETS`), collecting into `batch`.
    fn pass(&self, e: &Engine, wait: Duration, batch: &mut Batch) -> Result<()> {
        self.let_waiters_go_first();
        let mut guard = self.reactor.lock();
        let Some(Held { reactor, cache }) = guard.as_mut() else {
            return Err(OscError::Terminated);
        };
        let mut sink = Sink::new(e, cache, Deliver::Collect(batch));
        let read = read_pending(reactor, wait, &mut sink);
        if self.waiting.load(Ordering::Acquire) > 0 {
            // Hand the reactor straight to the thread that woke this pass: with a
            // plain unlock, a loop around `process()` takes it back at once, and the
            // other thread can starve for seconds on a busy machine.
            MutexGuard::unlock_fair(guard);
        }
        read
    }

    /// Whether the reactor has nothing to do (see [`Reactor::is_idle`]); `false` when
    /// another thread holds it or it is gone.
    fn reactor_is_idle(&self) -> bool {
        self.reactor
            .try_lock()
            .is_some_and(|r| r.as_ref().is_some_and(|h| h.reactor.is_idle()))
    }

    /// A loop around `process()` would take the reactor back before a thread waiting
    /// for it gets a turn: yield while one waits (a few milliseconds at most).
    fn let_waiters_go_first(&self) {
        // Most passes have no waiter: they skip the clock read.
        if self.waiting.load(Ordering::Acquire) == 0 {
            return;
        }
        let started = std::time::Instant::now();
        while self.waiting.load(Ordering::Acquire) > 0
            && started.elapsed() < Duration::from_millis(20)
        {
            std::thread::yield_now();
        }
    }

    /// The reactor for a call from outside `process()`: if another thread waits in
    /// `process_timeout`, its pass is woken (again, until it lets go), so the call does
    /// not wait for that timeout.
    fn reactor_now(&self) -> MutexGuard<'_, Option<Held>> {
        if let Some(guard) = self.reactor.try_lock() {
            return guard;
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let guard = loop {
            self.handle.wake();
            if let Some(guard) = self.reactor.try_lock_for(Duration::from_millis(1)) {
                break guard;
            }
        };
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        guard
    }

    /// Opens a channel. A UDP channel with a destination gets a writer, as in the
    /// thread modes: a send writes through it without taking the reactor's lock or
    /// looking the channel up in the reactor.
    pub(super) fn open(&self, name: &str, spec: ChannelSpec) -> Result<Opened> {
        let writes_udp = super::writes_udp(&spec);
        let mut guard = self.reactor_now();
        let reactor = &mut guard.as_mut().ok_or(OscError::Terminated)?.reactor;
        let id = reactor.open(name, spec)?;
        let writer = writes_udp
            .then(|| reactor.udp_writer(id))
            .flatten()
            .map(Arc::new);
        Ok(Opened {
            id,
            writer,
            stats: reactor.stats(id),
        })
    }

    pub(super) fn close(&self, id: ChannelId) -> Result<()> {
        let mut guard = self.reactor_now();
        let held = guard.as_mut().ok_or(OscError::Terminated)?;
        Ok(held.reactor.close(id)?)
    }

    pub(super) fn local_addr(&self, id: ChannelId) -> Option<SocketAddr> {
        self.reactor_now().as_ref()?.reactor.local_addr(id)
    }

    /// [`Driver::try_send_now`](super::Driver::try_send_now): `None` when another
    /// thread holds the reactor (or it is gone).
    pub(super) fn try_send_now(
        &self,
        id: ChannelId,
        data: &[u8],
    ) -> Option<osc_channel::Result<bool>> {
        let mut guard = self.reactor.try_lock()?;
        let held = guard.as_mut()?;
        Some(held.reactor.try_send_now(id, data, None))
    }

    /// The sending side of one `Osc::send` call: writes at once, with errors returned
    /// to the caller, unless another thread is in `process()` (then queues and wakes
    /// it).
    pub(super) fn outbox<'a>(&'a self, counters: &'a Counters) -> Outbox<'a> {
        Outbox {
            direct: self.reactor.try_lock(),
            handle: &self.handle,
            counters,
        }
    }

    /// Flushes queued sends, closes the channels (the reactor is dropped), then
    /// dispatches what arrived meanwhile, with the reactor gone: handlers that call the
    /// runtime get `Terminated`, never a wait.
    pub(super) fn terminate(&self, e: &Engine) {
        let Some(Held {
            mut reactor,
            mut cache,
        }) = self.reactor_now().take()
        else {
            return;
        };
        let flush = e.config.flush_timeout;
        let mut batch = Batch::default();
        let flushed = {
            let mut sink = Sink::new(e, &mut cache, Deliver::Collect(&mut batch));
            reactor.flush(flush, |p| sink.packet(p)).unwrap_or(false)
        };
        drop(reactor);
        if !flushed {
            log::warn!("terminate: some queued packets could not be written within {flush:?}");
        }
        dispatch_batch(e, &mut batch);
    }
}

/// Sends of one call: the reactor if this thread got it, else its handle's queue.
pub(super) struct Outbox<'a> {
    direct: Option<MutexGuard<'a, Option<Held>>>,
    handle: &'a ReactorHandle,
    counters: &'a Counters,
}

impl Outbox<'_> {
    /// The reactor, when this thread got it for the call.
    fn reactor(&mut self) -> Option<&mut Reactor> {
        Some(&mut self.direct.as_mut()?.as_mut()?.reactor)
    }

    pub(super) fn send(
        &mut self,
        id: ChannelId,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    ) -> Result<()> {
        let r = match self.reactor() {
            Some(reactor) => reactor.send(id, data, dest),
            None => self.handle.send(id, data, dest),
        };
        self.counters.send_result(r)
    }

    /// A Unix datagram channel, to the socket at `path`.
    pub(super) fn send_to_path(
        &mut self,
        id: ChannelId,
        data: Arc<[u8]>,
        path: &std::path::Path,
    ) -> Result<()> {
        let r = match self.reactor() {
            Some(reactor) => reactor.send_to_path(id, data, path),
            None => self.handle.send_to_path(id, data, path),
        };
        self.counters.send_result(r)
    }

    /// A TCP connection channel (`SERVER/PEER`), known to the reactor only.
    pub(super) fn send_named(&mut self, name: &str, data: Arc<[u8]>) -> Result<()> {
        let r = match self.reactor() {
            Some(reactor) => match reactor.id_of(name) {
                Some(id) => reactor.send(id, data, None),
                None => return Err(OscError::UnknownTarget(name.to_owned())),
            },
            None => self.handle.send_named(name, data, None),
        };
        self.counters.send_result(r)
    }
}
