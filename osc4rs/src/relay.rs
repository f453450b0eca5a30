//! Comthreads mode: which thread reads the sockets.
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

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::Duration;

use osc_channel::Reactor;
use parking_lot::{Mutex, MutexGuard};

use crate::io::{ChannelCache, Deliver, IO_PASS, Sink, io_pass};
use crate::runtime::{Incoming, Shared};
use crate::{OscError, Result};

/// The first interval at which a standing-by I/O thread looks whether it should read
/// the sockets again.
pub(crate) const STANDBY_MIN: Duration = Duration::from_millis(5);
/// The longest interval between its looks.
pub(crate) const STANDBY_MAX: Duration = Duration::from_millis(20);

/// What the holder of the baton owns.
struct Baton {
    /// `None` once the I/O thread has stopped (the channels are closed).
    reactor: Option<Reactor>,
    cache: ChannelCache,
}

/// The reactor of the comthreads mode and who holds it.
pub(crate) struct Relay {
    baton: Mutex<Baton>,
    /// A `process_timeout` call waits for the baton: the I/O thread should let go.
    wanted: AtomicBool,
    io_thread: OnceLock<Thread>,
}

impl Relay {
    pub(crate) fn new(reactor: Reactor) -> Relay {
        Relay {
            baton: Mutex::new(Baton {
                reactor: Some(reactor),
                cache: ChannelCache::default(),
            }),
            wanted: AtomicBool::new(false),
            io_thread: OnceLock::new(),
        }
    }

    pub(crate) fn set_io_thread(&self, t: Thread) {
        let _ = self.io_thread.set(t);
    }

    /// Wakes a standing-by I/O thread so that it reads the sockets and runs commands
    /// now, unless `process_timeout` holds the baton (it runs them then).
    pub(crate) fn nudge(&self) {
        if let Some(t) = self.io_thread.get() {
            t.unpark();
        }
    }

    /// Wakes a standing-by I/O thread if no `process_timeout` pass holds the baton (one
    /// that does runs the queued commands itself: the handle's wake-up ends its wait).
    pub(crate) fn nudge_if_idle(&self) {
        if !self.baton.is_locked() {
            self.nudge();
        }
    }

    /// The I/O thread: holds the baton when it can, queueing decoded packets for
    /// `process()`; stands by while `process_timeout` holds it. On stop, closes the
    /// channels (after a pass in progress in another thread ends).
    pub(crate) fn io_loop(&self, s: &Shared) {
        let Some((tx, _)) = &s.incoming else { return };
        let mut standby = STANDBY_MIN;
        while !s.stop.load(Ordering::Acquire) {
            match self.baton.try_lock() {
                Some(mut baton) if !self.wanted.load(Ordering::Acquire) => {
                    self.lead(s, &mut baton, tx);
                    // Fair: a waiting `process_timeout` gets it before this loop does.
                    MutexGuard::unlock_fair(baton);
                    standby = STANDBY_MIN;
                }
                _ => {
                    std::thread::park_timeout(standby);
                    standby = (standby * 2).min(STANDBY_MAX);
                }
            }
        }
        self.baton.lock().reactor.take();
        log::debug!("I/O thread stopped");
    }

    /// Runs passes until stopped or until `process_timeout` wants the baton.
    fn lead(&self, s: &Shared, baton: &mut Baton, tx: &crossbeam_channel::Sender<Incoming>) {
        let Baton { reactor, cache } = baton;
        let Some(reactor) = reactor.as_mut() else {
            return;
        };
        let mut sink = Sink::new(s, cache, Deliver::Queue(tx));
        while !s.stop.load(Ordering::Acquire) && !self.wanted.load(Ordering::Acquire) {
            io_pass(reactor, Some(IO_PASS), &mut sink);
        }
    }

    /// A `process_timeout` pass: takes the baton (asking the I/O thread for it, within
    /// `wait`), then appends to `batch` first what the I/O thread queued and, if that
    /// was nothing, what one reactor pass of up to `wait` receives. The baton is
    /// released on return, so the caller dispatches without holding it.
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
        reactor.poll(Some(wait), |p| sink.packet(p))?;
        Ok(())
    }
}
