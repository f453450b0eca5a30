//! Allthreads: everything in the background; handlers on the worker pool (or in the
//! I/O threads); `process()` does nothing.
//!
//! Two I/O threads share the baton (`baton.rs`), with no `process_timeout` in the
//! picture. The holder runs one reactor pass (waking for the next due bundle: the
//! dispatcher's waker wakes the reactor when a newly held bundle is due sooner),
//! releases the baton, and dispatches what it read, running the pool jobs itself, in
//! order (`Dispatcher::caller_runs`): no worker is woken per message. While it runs
//! them the baton is free: if a handler takes long, the other I/O thread finds the
//! baton at its next look, hands the jobs still waiting to the workers
//! (`Dispatcher::release_deferred`) and reads meanwhile, handing what it reads to the
//! workers too until the first is done (`Dispatcher::hand_off`: a pass's jobs in one
//! hand-over, one worker woken for them): at most one I/O thread is ever inside
//! handlers. So a slow handler delays reading, and the handlers behind it, by one look
//! at most ([`STANDBY_MIN`] to [`STANDBY_MAX`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use osc_channel::Reactor;
use parking_lot::Mutex;

use crate::Result;
use crate::receive::{Batch, Deliver, IO_PASS, Sink, dispatch_batch, io_pass};
use crate::state::Engine;

use super::baton::{Baton, Relay, STANDBY_MAX, STANDBY_MIN};

/// What the two I/O threads share.
struct Crew {
    relay: Relay,
    /// An I/O thread is running the jobs of its pass itself.
    running_jobs: AtomicBool,
    /// When it started them (nanoseconds since `epoch`).
    jobs_since: AtomicU64,
    epoch: Instant,
}

/// The allthreads driver.
pub(crate) struct AllThreads {
    crew: Arc<Crew>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl AllThreads {
    pub(super) fn start(engine: &Arc<Engine>, reactor: Reactor) -> Result<AllThreads> {
        let crew = Arc::new(Crew {
            relay: Relay::new(reactor),
            running_jobs: AtomicBool::new(false),
            jobs_since: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        let (e, c) = (Arc::clone(engine), Arc::clone(&crew));
        let threads = crew.relay.spawn_io_threads(2, move || io_loop(&e, &c))?;
        Ok(AllThreads {
            crew,
            threads: Mutex::new(threads),
        })
    }

    pub(super) fn relay(&self) -> &Relay {
        &self.crew.relay
    }

    /// `process_timeout`: nothing to do here; waits `max_wait` so that a loop calling
    /// it does not spin.
    pub(super) fn process(max_wait: Duration) -> usize {
        if !max_wait.is_zero() {
            std::thread::sleep(max_wait);
        }
        0
    }

    pub(super) fn terminate(&self, e: &Engine) {
        let threads = std::mem::take(&mut *self.threads.lock());
        self.crew.relay.terminate(e.config.flush_timeout, threads);
    }
}

/// An I/O thread: holds the baton when it can (reading, then dispatching what it
/// read), stands by while the other holds it. On stop, closes the channels.
fn io_loop(e: &Engine, crew: &Crew) {
    let relay = &crew.relay;
    let mut standby = STANDBY_MIN;
    // Sized for a typical pass up front: each of the two I/O threads has its own, and
    // either may read first long after the other.
    let mut batch = Batch::with_capacity(256, 16 * 1024);
    while !relay.stopping() {
        // The other I/O thread runs the jobs of its pass and will read again when done:
        // taking over now would only send jobs to the workers. Unless its jobs are slow,
        // or a call waits for the reactor.
        let held = if crew.briefly_in_jobs() && !relay.take_nudge() {
            None
        } else {
            relay.try_take()
        };
        let Some(mut baton) = held else {
            std::thread::park_timeout(standby);
            standby = (standby * 2).min(STANDBY_MAX);
            continue;
        };
        standby = STANDBY_MIN;
        // Jobs the other I/O thread kept back while it runs a slow one.
        e.core.dispatcher().release_deferred();
        let open = read_once(e, &mut baton, &mut batch);
        drop(baton);
        if !open {
            break;
        }
        crew.run(e, &mut batch);
    }
    relay.io_thread_done();
}

/// One reactor pass (waking for the next due bundle), collecting decoded packets;
/// `false` once the channels are closed.
fn read_once(e: &Engine, baton: &mut Baton, batch: &mut Batch) -> bool {
    let Baton { reactor, cache } = baton;
    let Some(reactor) = reactor.as_mut() else {
        return false;
    };
    let timeout = e.core.poll_timeout().map_or(IO_PASS, |d| d.min(IO_PASS));
    let mut sink = Sink::new(e, cache, Deliver::Collect(batch));
    io_pass(reactor, Some(timeout), &mut sink);
    true
}

impl Crew {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// An I/O thread runs the jobs of its pass, and started less than [`STANDBY_MIN`]
    /// ago.
    fn briefly_in_jobs(&self) -> bool {
        self.running_jobs.load(Ordering::Acquire)
            && self
                .now()
                .saturating_sub(self.jobs_since.load(Ordering::Acquire))
                < STANDBY_MIN.as_nanos() as u64
    }

    /// Dispatches what a pass read, then the bundles that are due. The pool jobs run
    /// in this thread (unless the other I/O thread hands them to the workers), or, if
    /// the other I/O thread is running jobs already, on the workers: one thread must
    /// stay free to read. A pass that read one message runs its methods at once, with
    /// no job made for them: there is nothing behind them for the other I/O thread to
    /// hand over.
    fn run(&self, e: &Engine, batch: &mut Batch) {
        let d = e.core.dispatcher();
        if self.running_jobs.swap(true, Ordering::AcqRel) {
            // The pass's jobs go to the workers in one hand-over: one wake-up.
            d.hand_off(|| {
                dispatch_batch(e, batch);
                e.core.run_due();
            });
            return;
        }
        self.jobs_since.store(self.now(), Ordering::Release);
        if batch.is_one_message() {
            d.runs_here(|| dispatch_batch(e, batch));
            if d.has_pending() {
                d.caller_runs(|| e.core.run_due());
            }
        } else {
            d.caller_runs(|| {
                dispatch_batch(e, batch);
                e.core.run_due();
            });
        }
        self.running_jobs.store(false, Ordering::Release);
    }
}
