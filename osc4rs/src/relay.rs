//! The thread modes: which thread reads the sockets.
//!
//! ## Comthreads
//!
//! The reactor is passed like a baton. While the application is away from
//! `process_timeout`, the I/O thread holds it: it reads, decodes and queues packets for
//! `process()`. A thread that calls `process_timeout` with nothing queued would only
//! wait for that queue, so it takes the baton and reads the sockets itself, and the I/O
//! thread stands by. Handlers still run only in `process()`'s thread, after the pass,
//! with the baton released.
//!
//! This saves the hand-off between the threads for every packet: a thread wake-up each
//! time, which cost about as much CPU as everything else the packet needs (measured
//! with `osc4rs_facade_bench throughput`, see `docs/performance.md`).
//!
//! The I/O thread takes the baton back when it finds it free: at once when woken by
//! [`Relay::nudge`] (before calls that need the reactor to answer), and otherwise at
//! its next look. It looks every [`STANDBY_MIN`] at first, less and less often (down to
//! every [`STANDBY_MAX`]) while `process_timeout` keeps the baton: each look costs a
//! thread wake-up (~30 µs of CPU on a VM), and an idle application that waits in
//! `process_timeout` must stay under 1% of a core. Packets that arrive while nobody
//! reads wait in the socket's receive buffer (4 MiB by default: some 5,000 small
//! datagrams).
//!
//! ## Allthreads
//!
//! Two I/O threads share the baton the same way, with no `process_timeout` in the
//! picture. The holder runs one reactor pass, releases the baton, and dispatches what
//! it read, running the pool jobs itself, in order (`Dispatcher::caller_runs`): no
//! worker is woken per message. While it runs them the baton is free: if a handler
//! takes long, the other I/O thread finds the baton at its next look, hands the jobs
//! still waiting to the workers (`Dispatcher::release_deferred`) and reads meanwhile,
//! handing what it reads to the workers too until the first is done: at most one I/O
//! thread is ever inside handlers. So a slow handler delays reading, and the handlers
//! behind it, by one look at most (5 to 20 ms).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use osc_channel::Reactor;
use parking_lot::{Mutex, MutexGuard};

use crate::io::{ChannelCache, Deliver, IO_PASS, Sink, io_pass};
use crate::runtime::{Incoming, Shared, dispatch_batch, read_pending};
use crate::{OscError, Result};

/// The first interval at which a standing-by I/O thread looks whether it should read
/// the sockets again.
pub(crate) const STANDBY_MIN: Duration = Duration::from_millis(5);
/// The longest interval between its looks.
pub(crate) const STANDBY_MAX: Duration = Duration::from_millis(20);

/// What the holder of the baton owns.
struct Baton {
    /// `None` once the I/O threads have stopped (the channels are closed).
    reactor: Option<Reactor>,
    cache: ChannelCache,
}

/// The reactor of the thread modes and who holds it.
pub(crate) struct Relay {
    baton: Mutex<Baton>,
    /// A `process_timeout` call waits for the baton: the I/O thread should let go.
    wanted: AtomicBool,
    /// Allthreads: an I/O thread is running the jobs of its pass itself.
    running_jobs: AtomicBool,
    io_threads: OnceLock<Vec<Thread>>,
}

impl Relay {
    pub(crate) fn new(reactor: Reactor) -> Relay {
        Relay {
            baton: Mutex::new(Baton {
                reactor: Some(reactor),
                cache: ChannelCache::default(),
            }),
            wanted: AtomicBool::new(false),
            running_jobs: AtomicBool::new(false),
            io_threads: OnceLock::new(),
        }
    }

    pub(crate) fn set_io_threads(&self, threads: Vec<Thread>) {
        let _ = self.io_threads.set(threads);
    }

    /// Wakes standing-by I/O threads so that one reads the sockets and runs commands
    /// now, unless some thread holds the baton (it runs them then: the handle's
    /// wake-up ends its wait).
    pub(crate) fn nudge(&self) {
        for t in self.io_threads.get().into_iter().flatten() {
            t.unpark();
        }
    }

    /// [`nudge`](Self::nudge)s only if nobody holds the baton.
    pub(crate) fn nudge_if_idle(&self) {
        if !self.baton.is_locked() {
            self.nudge();
        }
    }

    /// An I/O thread: holds the baton when it can (comthreads: queueing decoded packets
    /// for `process()`; allthreads: dispatching them), stands by while another thread
    /// holds it. On stop, closes the channels (after a pass in progress in another
    /// thread ends).
    pub(crate) fn io_loop(&self, s: &Shared) {
        let mut standby = STANDBY_MIN;
        let mut batch = Vec::new();
        while !s.stop.load(Ordering::Acquire) {
            let held = self
                .baton
                .try_lock()
                .filter(|_| !self.wanted.load(Ordering::Acquire));
            let Some(mut baton) = held else {
                std::thread::park_timeout(standby);
                standby = (standby * 2).min(STANDBY_MAX);
                continue;
            };
            standby = STANDBY_MIN;
            match &s.incoming {
                Some((tx, _)) => {
                    self.lead(s, &mut baton, tx);
                    // Fair: a waiting `process_timeout` gets it before this loop does.
                    MutexGuard::unlock_fair(baton);
                }
                None => {
                    // Jobs another I/O thread kept back while it runs a slow one.
                    s.core.dispatcher().release_deferred();
                    let open = read_once(s, &mut baton, &mut batch);
                    drop(baton);
                    if !open {
                        break;
                    }
                    self.run(s, &mut batch);
                }
            }
        }
        self.baton.lock().reactor.take();
        log::debug!("I/O thread stopped");
    }

    /// Comthreads: runs passes until stopped or until `process_timeout` wants the baton.
    fn lead(&self, s: &Shared, baton: &mut Baton, tx: &Sender<Incoming>) {
        let Baton { reactor, cache } = baton;
        let Some(reactor) = reactor.as_mut() else {
            return;
        };
        let mut sink = Sink::new(s, cache, Deliver::Queue(tx));
        while !s.stop.load(Ordering::Acquire) && !self.wanted.load(Ordering::Acquire) {
            io_pass(reactor, Some(IO_PASS), &mut sink);
        }
    }

    /// Allthreads: dispatches what a pass read, then the bundles that are due. The pool
    /// jobs run in this thread (unless the other I/O thread hands them to the
    /// workers), or, if the other I/O thread is running jobs already, on the workers:
    /// one thread must stay free to read.
    fn run(&self, s: &Shared, batch: &mut Vec<Incoming>) {
        let dispatch = |batch: &mut Vec<Incoming>| {
            dispatch_batch(s, batch);
            s.core.run_due();
        };
        if self.running_jobs.swap(true, Ordering::AcqRel) {
            dispatch(batch);
            return;
        }
        s.core.dispatcher().caller_runs(|| dispatch(batch));
        self.running_jobs.store(false, Ordering::Release);
    }

    /// A comthreads `process_timeout` pass: takes the baton (asking the I/O thread for
    /// it, within `wait`), then appends to `batch` first what the I/O thread queued
    /// and, if that was nothing, what a reactor pass of up to `wait` receives (and the
    /// passes that read what it left pending). The
    /// baton is released on return, so the caller dispatches without holding it.
    pub(crate) fn pass(&self, s: &Shared, wait: Duration, batch: &mut Vec<Incoming>) -> Result<()> {
        let mut baton = match self.baton.try_lock() {
            Some(baton) => baton,
            None => {
                self.wanted.store(true, Ordering::Release);
                s.handle().wake();
                let got = self.baton.try_lock_for(wait);
                self.wanted.store(false, Ordering::Release);
                match got {
                    Some(baton) => baton,
                    None => return Ok(()),
                }
            }
        };
        // Queued before the hand-over, so older than anything read now.
        s.take_queued(batch);
        if !batch.is_empty() {
            return Ok(());
        }
        let Baton { reactor, cache } = &mut *baton;
        let Some(reactor) = reactor.as_mut() else {
            return Err(OscError::Terminated);
        };
        let mut sink = Sink::new(s, cache, Deliver::Collect(batch));
        read_pending(reactor, wait, &mut sink)
    }
}

/// Allthreads: one reactor pass (waking for the next due bundle), collecting decoded
/// packets; `false` once the channels are closed.
fn read_once(s: &Shared, baton: &mut Baton, batch: &mut Vec<Incoming>) -> bool {
    let Baton { reactor, cache } = baton;
    let Some(reactor) = reactor.as_mut() else {
        return false;
    };
    let timeout = s.core.poll_timeout().map_or(IO_PASS, |d| d.min(IO_PASS));
    let mut sink = Sink::new(s, cache, Deliver::Collect(batch));
    io_pass(reactor, Some(timeout), &mut sink);
    true
}

/// Joins the I/O threads, waiting up to `deadline` for one that runs a handler;
/// returns how many were left running (detached).
pub(crate) fn join_within(threads: Vec<JoinHandle<()>>, deadline: Duration) -> usize {
    let end = Instant::now() + deadline;
    while threads.iter().any(|t| !t.is_finished()) && Instant::now() < end {
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
