//! What the two thread modes share: the reactor passed between threads like a baton,
//! the flag that stops their I/O threads, starting and joining those threads, and the
//! calls that need the reactor's answer (made through its handle, waking a
//! standing-by I/O thread to give it).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use osc_channel::{ChannelId, ChannelSpec, Reactor, ReactorHandle, UdpWriter};
use parking_lot::{Mutex, MutexGuard};

use crate::receive::ChannelCache;
use crate::state::Opened;
use crate::stats::Counters;
use crate::{OscError, Result};

/// The first interval at which a standing-by I/O thread looks whether it should read
/// the sockets again.
pub(super) const STANDBY_MIN: Duration = Duration::from_millis(5);
/// The longest interval between its looks.
pub(super) const STANDBY_MAX: Duration = Duration::from_millis(20);

/// How long `terminate` waits for an I/O thread that runs a handler (allthreads).
const JOIN_DEADLINE: Duration = Duration::from_secs(1);

/// What the holder of the baton owns.
pub(super) struct Baton {
    /// `None` once the I/O threads have stopped (the channels are closed).
    pub(super) reactor: Option<Reactor>,
    pub(super) cache: ChannelCache,
}

/// The reactor of the thread modes, who holds it, and the I/O threads.
pub(super) struct Relay {
    baton: Mutex<Baton>,
    handle: ReactorHandle,
    stop: AtomicBool,
    /// Set by [`nudge`](Self::nudge): a standing-by I/O thread should take the baton
    /// now (taken by [`take_nudge`](Self::take_nudge)).
    nudged: AtomicBool,
    io_threads: OnceLock<Vec<Thread>>,
}

impl Relay {
    pub(super) fn new(reactor: Reactor) -> Relay {
        Relay {
            handle: reactor.handle(),
            baton: Mutex::new(Baton {
                reactor: Some(reactor),
                cache: ChannelCache::default(),
            }),
            stop: AtomicBool::new(false),
            nudged: AtomicBool::new(false),
            io_threads: OnceLock::new(),
        }
    }

    pub(super) fn handle(&self) -> &ReactorHandle {
        &self.handle
    }

    pub(super) fn baton(&self) -> &Mutex<Baton> {
        &self.baton
    }

    /// The baton if nobody holds it.
    pub(super) fn try_take(&self) -> Option<MutexGuard<'_, Baton>> {
        self.baton.try_lock()
    }

    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// The end of an I/O thread: closes the channels (after a pass in progress in
    /// another thread ends).
    pub(super) fn io_thread_done(&self) {
        self.baton.lock().reactor.take();
        log::debug!("I/O thread stopped");
    }

    /// Wakes standing-by I/O threads so that one reads the sockets and runs commands
    /// now, unless some thread holds the baton (it runs them then: the handle's
    /// wake-up ends its wait).
    pub(super) fn nudge(&self) {
        self.nudged.store(true, Ordering::Release);
        for t in self.io_threads.get().into_iter().flatten() {
            t.unpark();
        }
    }

    /// Whether a [`nudge`](Self::nudge) came since the last call.
    pub(super) fn take_nudge(&self) -> bool {
        self.nudged.swap(false, Ordering::AcqRel)
    }

    /// [`nudge`](Self::nudge)s only if nobody holds the baton.
    pub(super) fn nudge_if_idle(&self) {
        if !self.baton.is_locked() {
            self.nudge();
        }
    }

    /// The handle, for a call that waits for the reactor's answer: a standing-by I/O
    /// thread is woken to give it.
    fn answering_handle(&self) -> &ReactorHandle {
        self.nudge();
        &self.handle
    }

    /// Opens a channel; a UDP channel with a destination gets a [`UdpWriter`], so
    /// sends write from the sending thread instead of waking an I/O thread.
    pub(super) fn open(&self, name: &str, spec: ChannelSpec) -> Result<Opened> {
        let writes_udp = super::writes_udp(&spec);
        let handle = self.answering_handle();
        let id = handle.open(name, spec)?;
        let stats = handle.stats(id).ok().flatten();
        // The writer only saves a wake-up: without one, sends use the queue, and the
        // channel (already open in the reactor) stays usable.
        let writer = if writes_udp {
            self.answering_handle()
                .udp_writer(id)
                .unwrap_or_else(|e| {
                    log::debug!("channel {name}: no UDP writer ({e}), sends are queued");
                    None
                })
                .map(Arc::new)
        } else {
            None
        };
        Ok(Opened { id, writer, stats })
    }

    pub(super) fn close(&self, id: ChannelId) -> Result<()> {
        Ok(self.answering_handle().close(id)?)
    }

    pub(super) fn local_addr(&self, id: ChannelId) -> Option<SocketAddr> {
        self.answering_handle().local_addr(id).ok().flatten()
    }

    /// Starts `count` I/O threads running `body` (`osc4rs-io`, `osc4rs-io-1`, ...); if
    /// one cannot start, stops those already started.
    pub(super) fn spawn_io_threads(
        &self,
        count: usize,
        body: impl Fn() + Send + Clone + 'static,
    ) -> Result<Vec<JoinHandle<()>>> {
        let mut threads = Vec::with_capacity(count);
        for n in 0..count {
            let name = if n == 0 {
                "osc4rs-io".to_owned()
            } else {
                format!("osc4rs-io-{n}")
            };
            let body = body.clone();
            match std::thread::Builder::new().name(name).spawn(body) {
                Ok(t) => threads.push(t),
                Err(e) => {
                    self.stop.store(true, Ordering::Release);
                    self.handle.wake();
                    for t in threads {
                        t.thread().unpark();
                        let _ = t.join();
                    }
                    return Err(OscError::Thread(e));
                }
            }
        }
        let _ = self
            .io_threads
            .set(threads.iter().map(|t| t.thread().clone()).collect());
        Ok(threads)
    }

    /// Flushes queued sends (within `flush`), stops the I/O threads and joins them,
    /// waiting up to [`JOIN_DEADLINE`] for one inside a handler (then detached).
    pub(super) fn terminate(&self, flush: Duration, threads: Vec<JoinHandle<()>>) {
        match self.answering_handle().flush(flush) {
            Ok(true) => {}
            _ => log::warn!("terminate: some queued packets could not be written within {flush:?}"),
        }
        self.stop.store(true, Ordering::Release);
        let _ = self.answering_handle().stop();
        self.handle.wake();
        let detached = join_within(threads, JOIN_DEADLINE);
        if detached > 0 {
            log::warn!("terminate: {detached} I/O thread(s) still in a handler, detached");
        }
    }

    /// The sending side of one `Osc::send` call.
    pub(super) fn outbox<'a>(&'a self, counters: &'a Counters) -> Outbox<'a> {
        Outbox {
            relay: self,
            counters,
            queued: false,
        }
    }
}

/// Sends of one call in a thread mode: UDP written from the calling thread when the
/// channel has a writer and the socket takes it, everything else queued for the
/// thread that holds the reactor.
pub(super) struct Outbox<'a> {
    relay: &'a Relay,
    counters: &'a Counters,
    /// A packet went to the reactor's queue: someone must run the reactor, and the I/O
    /// threads may all be standing by.
    queued: bool,
}

impl Outbox<'_> {
    pub(super) fn send(
        &mut self,
        id: ChannelId,
        writer: Option<&UdpWriter>,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    ) -> Result<()> {
        let c = self.counters;
        if let Some(w) = writer {
            if !c.send_result(w.try_send(&data, dest))? {
                c.send_result(w.queue(data, dest))?;
                self.queued = true;
            }
            return Ok(());
        }
        c.send_result(self.relay.handle.send(id, data, dest))?;
        self.queued = true;
        Ok(())
    }

    /// A Unix datagram channel, to the socket at `path` (through the I/O thread).
    pub(super) fn send_to_path(
        &mut self,
        id: ChannelId,
        data: Arc<[u8]>,
        path: &std::path::Path,
    ) -> Result<()> {
        self.counters
            .send_result(self.relay.handle.send_to_path(id, data, path))?;
        self.queued = true;
        Ok(())
    }

    /// A TCP connection channel (`SERVER/PEER`), known to the reactor only.
    pub(super) fn send_named(&mut self, name: &str, data: Arc<[u8]>) -> Result<()> {
        self.counters
            .send_result(self.relay.handle.send_named(name, data, None))?;
        self.queued = true;
        Ok(())
    }

    /// Wakes a standing-by I/O thread if a packet was queued and nobody holds the
    /// baton.
    pub(super) fn finish(self) {
        if self.queued {
            self.relay.nudge_if_idle();
        }
    }
}

/// Joins the I/O threads, waiting up to `deadline` for one that runs a handler;
/// returns how many were left running (detached).
fn join_within(threads: Vec<JoinHandle<()>>, deadline: Duration) -> usize {
    // `None`: a wait too long for an `Instant` (`Duration::MAX`) is no limit.
    let end = Instant::now().checked_add(deadline);
    while threads.iter().any(|t| !t.is_finished()) && end.is_none_or(|e| Instant::now() < e) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut detached = 0;
    for t in threads {
        if t.is_finished() {
            let _ = t.join();
        } else {
            detached += 1;
        }
    }
    detached
}
