//! Comthreads: I/O and decoding in a background thread, handlers and due bundles in
//! the application's `process()` calls.
//!
//! The reactor is passed like a baton (`baton.rs`). While the application is away
//! from `process_timeout`, the I/O thread holds it: it reads, decodes and queues
//! packets for `process()`. A thread that calls `process_timeout` with nothing queued
//! would only wait for that queue, so it takes the baton and reads the sockets itself,
//! and the I/O thread stands by. Handlers still run only in `process()`'s thread, after
//! the pass, with the baton released.
//!
//! This saves the hand-off between the threads for every packet: a thread wake-up each
//! time, which cost about as much CPU as everything else the packet needs (measured
//! with `osc4rs_facade_bench throughput`, see `docs/performance.md`). When the I/O
//! thread reads, it collects a pass's packets into a batch of its own and hands the
//! whole batch over at the end of the pass: one lock, and no copy when `process()`
//! has taken the previous one (the two batches are swapped, with their capacity).
//!
//! The I/O thread takes the baton back when it finds it free: at once when woken by
//! `Relay::nudge` (before calls that need the reactor to answer, and after a send
//! queued while nobody holds it), and otherwise at its next look. It looks every
//! [`STANDBY_MIN`] at first, less and less often (down to every [`STANDBY_MAX`]) while
//! `process_timeout` keeps the baton: each look costs a thread wake-up (~30 µs of CPU
//! on a VM), and an idle application that waits in `process_timeout` must stay under
//! 1% of a core. Packets that arrive while nobody reads wait in the socket's receive
//! buffer (4 MiB by default: some 5,000 small datagrams).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use osc_channel::Reactor;
use parking_lot::{Mutex, MutexGuard};

use crate::receive::{
    Batch, Deliver, IO_PASS, Room, Sink, dispatch_batch, io_pass, read_pending, with_batch,
};
use crate::state::Engine;
use crate::{OscError, Result};

use super::baton::{Baton, Relay, STANDBY_MAX, STANDBY_MIN};

/// The most bytes of packets the I/O thread keeps waiting for `process()` (past the
/// packet that reaches it): a `process()` that falls behind a flood of large packets
/// must not make the process hold gigabytes. Typical messages reach
/// `Config::incoming_queue` (65,536 packets by default) well before this.
const QUEUED_BYTES_MAX: usize = 32 << 20;

/// What the I/O thread and `process()` share.
struct Hub {
    relay: Relay,
    /// A `process_timeout` call waits for the baton: the I/O thread should let go.
    wanted: AtomicBool,
    /// Packets the I/O thread read, waiting for `process()`, appended once per pass
    /// (bounded by `Config::incoming_queue` and [`QUEUED_BYTES_MAX`]: beyond either
    /// they are dropped, logged and counted).
    queued: Mutex<Batch>,
    /// How many packets `queued` holds, read without its lock.
    queued_len: AtomicUsize,
    /// How many bytes of packets `queued` holds, read without its lock.
    queued_bytes: AtomicUsize,
    /// `Config::incoming_queue` (at least 1).
    limit: usize,
}

/// The comthreads driver.
pub(crate) struct CommThreads {
    hub: Arc<Hub>,
    thread: Mutex<Vec<JoinHandle<()>>>,
}

impl CommThreads {
    pub(super) fn start(engine: &Arc<Engine>, reactor: Reactor) -> Result<CommThreads> {
        let hub = Arc::new(Hub {
            relay: Relay::new(reactor),
            wanted: AtomicBool::new(false),
            queued: Mutex::new(Batch::default()),
            queued_len: AtomicUsize::new(0),
            queued_bytes: AtomicUsize::new(0),
            limit: engine.config.incoming_queue.max(1),
        });
        let (e, h) = (Arc::clone(engine), Arc::clone(&hub));
        let thread = hub.relay.spawn_io_threads(1, move || io_loop(&e, &h))?;
        Ok(CommThreads {
            hub,
            thread: Mutex::new(thread),
        })
    }

    pub(super) fn relay(&self) -> &Relay {
        &self.hub.relay
    }

    /// `process_timeout`: dispatches what the I/O thread queued; if that is nothing,
    /// takes the baton and reads for up to `max_wait` (or until the next bundle is
    /// due) first. Then runs the due bundles.
    pub(super) fn process(&self, e: &Engine, max_wait: Duration) -> Result<usize> {
        let wait = e.wait_within(max_wait);
        let handled = with_batch(|batch| {
            self.hub.take_queued(batch);
            let passed = if batch.is_empty() && !wait.is_zero() {
                self.hub.pass(e, wait, batch)
            } else {
                Ok(())
            };
            let n = dispatch_batch(e, batch);
            passed.map(|()| n)
        })?;
        Ok(handled + e.core.run_due())
    }

    /// Stops the I/O thread (flushing what waits to be sent), then dispatches what it
    /// had queued for `process()`, as eventloop's `terminate` dispatches what its flush
    /// read.
    pub(super) fn terminate(&self, e: &Engine) {
        let threads = std::mem::take(&mut *self.thread.lock());
        self.hub.relay.terminate(e.config.flush_timeout, threads);
        with_batch(|batch| {
            self.hub.take_queued(batch);
            dispatch_batch(e, batch)
        });
    }
}

impl Hub {
    /// Moves what the I/O thread queued into `batch` (at most a queue's worth, so a
    /// flood cannot keep one call busy forever).
    fn take_queued(&self, batch: &mut Batch) {
        if self.queued_len.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut queued = self.queued.lock();
        batch.append(&mut queued);
        self.queued_len.store(0, Ordering::Release);
        self.queued_bytes.store(0, Ordering::Release);
    }

    /// Hands what one pass of the I/O thread collected to `process()`.
    fn hand_over(&self, stage: &mut Batch) {
        if stage.is_empty() {
            return;
        }
        let mut queued = self.queued.lock();
        queued.append(stage);
        self.queued_len.store(queued.len(), Ordering::Release);
        self.queued_bytes.store(queued.bytes(), Ordering::Release);
    }

    /// A `process_timeout` pass: takes the baton (asking the I/O thread for it, within
    /// `wait`), then appends to `batch` first what the I/O thread queued and, if that
    /// was nothing, what a reactor pass of up to `wait` receives (and the passes that
    /// read what it left pending). The baton is released on return, so the caller
    /// dispatches without holding it.
    fn pass(&self, e: &Engine, wait: Duration, batch: &mut Batch) -> Result<()> {
        let relay = &self.relay;
        let mut baton = match relay.try_take() {
            Some(baton) => baton,
            None => {
                self.wanted.store(true, Ordering::Release);
                relay.handle().wake();
                let got = relay.baton().try_lock_for(wait);
                self.wanted.store(false, Ordering::Release);
                match got {
                    Some(baton) => baton,
                    None => return Ok(()),
                }
            }
        };
        // Queued before the hand-over, so older than anything read now.
        self.take_queued(batch);
        if !batch.is_empty() {
            return Ok(());
        }
        let Baton { reactor, cache } = &mut *baton;
        let Some(reactor) = reactor.as_mut() else {
            return Err(OscError::Terminated);
        };
        let mut sink = Sink::new(e, cache, Deliver::Collect(batch));
        read_pending(reactor, wait, &mut sink)
    }

    /// The I/O thread's turn: runs passes, collecting each pass's packets in `stage`
    /// and handing them to `process()` at its end, until stopped or until
    /// `process_timeout` wants the baton.
    fn lead(&self, e: &Engine, baton: &mut Baton, stage: &mut Batch) {
        let Baton { reactor, cache } = baton;
        let Some(reactor) = reactor.as_mut() else {
            return;
        };
        while !self.relay.stopping() && !self.wanted.load(Ordering::Acquire) {
            // Room left under the bounds; `process()` only ever makes more.
            let room = Room {
                packets: self
                    .limit
                    .saturating_sub(self.queued_len.load(Ordering::Acquire)),
                bytes: QUEUED_BYTES_MAX.saturating_sub(self.queued_bytes.load(Ordering::Acquire)),
            };
            let mut sink = Sink::new(e, cache, Deliver::Stage(stage, room));
            io_pass(reactor, Some(IO_PASS), &mut sink);
            self.hand_over(stage);
        }
    }
}

/// The I/O thread: holds the baton when `process_timeout` does not (reading and
/// queueing for `process()`), stands by while it does. On stop, closes the channels.
fn io_loop(e: &Engine, hub: &Hub) {
    let relay = &hub.relay;
    let mut standby = STANDBY_MIN;
    // Sized for a typical pass up front, like allthreads' (it trades its capacity
    // with `process()`'s batch at each hand-over).
    let mut stage = Batch::with_capacity(256, 16 * 1024);
    while !relay.stopping() {
        let held = relay
            .try_take()
            .filter(|_| !hub.wanted.load(Ordering::Acquire));
        let Some(mut baton) = held else {
            std::thread::park_timeout(standby);
            standby = (standby * 2).min(STANDBY_MAX);
            continue;
        };
        standby = STANDBY_MIN;
        hub.lead(e, &mut baton, &mut stage);
        // Fair: a waiting `process_timeout` gets it before this loop does.
        MutexGuard::unlock_fair(baton);
    }
    relay.io_thread_done();
}
