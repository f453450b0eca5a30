//! The worker pool: a fixed set of threads taking jobs from one bounded
//! crossbeam-channel queue. Idle workers block in `recv` (no CPU); a panicking job is
//! caught; shutdown finishes or drops queued jobs within a deadline and joins.

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use parking_lot::{Mutex, RwLock};

use crate::exec::PoolCall;
use crate::{DispatchError, Result};

/// The fewest jobs [`WorkerPool::caller_runs`] and [`WorkerPool::hand_off`] scopes may
/// keep back, whatever the queue's capacity; beyond the limit, a job goes to the
/// pool's queue as any other.
const KEPT_BACK_MIN: usize = 1024;

/// A unit of work for the pool.
///
/// ```
/// let job: osc_dispatch::Job = Box::new(|| println!("run by a worker"));
/// job();
/// ```
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// What the pool's queue carries: a boxed closure, the dispatcher's call of one
/// method (in a slot that returns to the dispatcher for reuse once run: no allocation
/// per message), or a request to run the kept-back jobs (a whole batch handed over
/// with one queue entry and one wake-up, see [`WorkerPool::hand_off`]).
pub(crate) enum Task {
    Job(Job),
    Call(Box<PoolCall>),
    Drain,
}

impl Task {
    fn run(self) {
        match self {
            Task::Job(job) => job(),
            Task::Call(call) => call.run(),
            // Run by `worker` itself (it needs the pool's state).
            Task::Drain => {}
        }
    }
}

/// What [`WorkerPool::submit`] does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OverflowPolicy {
    /// Drop the new job at once, count it ([`PoolStats::overflow`]) and return
    /// [`DispatchError::PoolFull`]: the dispatching (receiving) thread never blocks.
    /// The default.
    #[default]
    Drop,
    /// Wait up to `timeout` for room, then drop as [`Drop`](Self::Drop) does. Applies
    /// back-pressure to the dispatching thread, bounded in time.
    Block {
        /// The longest wait.
        timeout: Duration,
    },
}

/// Worker pool settings.
///
/// ```
/// let cfg = osc_dispatch::PoolConfig::default();
/// assert_eq!((cfg.threads, cfg.queue_capacity), (10, 65_536));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Number of worker threads (osc4py3 `execthreadscount`, default 10). 0 runs every
    /// job in the submitting thread.
    pub threads: usize,
    /// Jobs that may wait in the queue. Default 65,536.
    pub queue_capacity: usize,
    /// What to do when the queue is full. Default: drop and count.
    pub overflow: OverflowPolicy,
    /// Thread name prefix (threads are named `{prefix}-{n}`).
    pub thread_name: String,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            threads: 10,
            queue_capacity: 65_536,
            overflow: OverflowPolicy::Drop,
            thread_name: "osc-worker".into(),
        }
    }
}

/// Counters of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolStats {
    /// Jobs run to completion (or to a caught panic).
    pub completed: u64,
    /// Jobs that panicked (caught).
    pub panicked: u64,
    /// Jobs refused because the queue was full.
    pub overflow: u64,
    /// Jobs dropped unrun: discarded at shutdown or submitted after it.
    pub dropped: u64,
}

/// What [`WorkerPool::shutdown`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Queued jobs discarded unrun.
    pub dropped_jobs: u64,
    /// Threads joined.
    pub joined_threads: usize,
    /// Threads still busy in a job at the deadline, left to finish on their own.
    pub detached_threads: usize,
}

/// What the pool and its workers share: kept-back jobs, the discard flag, counters.
#[derive(Debug, Default)]
struct PoolState {
    /// Jobs kept back for their submitting thread (see [`WorkerPool::caller_runs`]).
    deferred: Deferred,
    discard: AtomicBool,
    /// Shut down: kept-back jobs are no longer run (read per job, without the
    /// sender's lock).
    closed: AtomicBool,
    /// A wake-up for the kept-back jobs found the queue full: the next worker to finish
    /// a job runs them (so they never wait for a later release).
    drain_wanted: AtomicBool,
    completed: AtomicU64,
    panicked: AtomicU64,
    overflow: AtomicU64,
    dropped: AtomicU64,
}

/// Jobs kept back by [`WorkerPool::caller_runs`] and [`WorkerPool::hand_off`] scopes,
/// run by whoever gets to them first: the scope's thread or a worker woken for them.
/// The queue keeps its capacity, so keeping jobs back allocates nothing in steady
/// state.
#[derive(Default)]
struct Deferred {
    queue: Mutex<VecDeque<Task>>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Deferred({} jobs)", self.queue.lock().len())
    }
}

thread_local! {
    /// Inside [`WorkerPool::caller_runs`]: the pool (its address) whose jobs this
    /// thread keeps back; 0 outside.
    static DEFERRING: Cell<usize> = const { Cell::new(0) };
}

/// Ends a [`WorkerPool::caller_runs`] scope, also when its closure panics: runs the
/// jobs still kept back.
struct Scope<'a>(&'a WorkerPool);

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        DEFERRING.set(0);
        self.0.run_deferred();
    }
}

/// Ends a [`WorkerPool::hand_off`] scope, also when its closure panics: wakes one
/// worker to run the jobs kept back.
struct HandOff<'a>(&'a WorkerPool);

impl Drop for HandOff<'_> {
    fn drop(&mut self) {
        DEFERRING.set(0);
        if !self.0.shared.deferred.queue.lock().is_empty() {
            self.0.wake_drainers(1);
        }
    }
}

/// A pool of worker threads.
///
/// ```
/// use osc_dispatch::{PoolConfig, WorkerPool};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let pool = WorkerPool::new(PoolConfig { threads: 2, ..PoolConfig::default() })?;
/// let n = Arc::new(AtomicUsize::new(0));
/// for _ in 0..100 {
///     let n = n.clone();
///     pool.submit(Box::new(move || { n.fetch_add(1, Ordering::Relaxed); }))?;
/// }
/// // Finish the queued jobs (within a deadline), then join the threads.
/// let report = pool.shutdown(true, Duration::from_secs(5));
/// assert_eq!((n.load(Ordering::Relaxed), report.dropped_jobs, report.joined_threads), (100, 0, 2));
/// # Ok::<(), osc_dispatch::DispatchError>(())
/// ```
#[derive(Debug)]
pub struct WorkerPool {
    sender: RwLock<Option<Sender<Task>>>,
    receiver: Receiver<Task>,
    /// Each worker sends its index as its last act.
    done: Receiver<usize>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    shared: Arc<PoolState>,
    config: PoolConfig,
}

impl WorkerPool {
    /// Starts the threads.
    ///
    /// # Errors
    /// [`DispatchError::Spawn`] if a thread cannot be started (those already started
    /// are stopped).
    pub fn new(config: PoolConfig) -> Result<Self> {
        let (tx, rx) = bounded::<Task>(config.queue_capacity.max(1));
        let (done_tx, done) = bounded::<usize>(config.threads);
        let shared = Arc::new(PoolState::default());
        let pool = WorkerPool {
            sender: RwLock::new(Some(tx)),
            receiver: rx.clone(),
            done,
            handles: Mutex::new(Vec::with_capacity(config.threads)),
            shared: shared.clone(),
            config,
        };
        for n in 0..pool.config.threads {
            let (rx, done_tx, shared) = (rx.clone(), done_tx.clone(), shared.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("{}-{n}", pool.config.thread_name))
                .spawn(move || worker(n, &rx, &shared, &done_tx));
            match spawned {
                Ok(h) => pool.handles.lock().push(h),
                Err(e) => {
                    pool.shutdown(false, Duration::from_secs(1));
                    return Err(DispatchError::Spawn(e));
                }
            }
        }
        Ok(pool)
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Jobs waiting in the queue.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.receiver.len()
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> PoolStats {
        let s = &self.shared;
        PoolStats {
            completed: s.completed.load(Ordering::Relaxed),
            panicked: s.panicked.load(Ordering::Relaxed),
            overflow: s.overflow.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
        }
    }

    /// Queues a job (runs it at once, in this thread, when the pool has no threads).
    ///
    /// # Errors
    /// [`DispatchError::PoolFull`] under the [`OverflowPolicy`], or
    /// [`DispatchError::ShutDown`] after [`shutdown`](Self::shutdown); the job is then
    /// dropped and counted.
    pub fn submit(&self, job: Job) -> Result<()> {
        self.submit_task(Task::Job(job))
    }

    /// Queues the dispatcher's call of one method (as [`submit`](Self::submit)).
    pub(crate) fn submit_call(&self, call: Box<PoolCall>) -> Result<()> {
        self.submit_task(Task::Call(call))
    }

    fn submit_task(&self, task: Task) -> Result<()> {
        if DEFERRING.get() == self.id() {
            let mut kept = self.shared.deferred.queue.lock();
            if kept.len() < self.kept_back_limit() {
                kept.push_back(task);
                return Ok(());
            }
            // Full: the pool's queue takes it, under its overflow policy, so that a
            // flood handed over faster than the workers run it stays bounded.
        }
        self.enqueue(task)
    }

    /// The most jobs kept back at once: the queue's capacity, and at least
    /// [`KEPT_BACK_MIN`] (a pass's jobs fit even with a small queue).
    fn kept_back_limit(&self) -> usize {
        self.config.queue_capacity.max(KEPT_BACK_MIN)
    }

    /// Runs `f`; the jobs it submits to this pool from this thread are kept back and
    /// run in this thread, in order, when `f` returns: no worker is woken for them.
    /// Until this thread gets to them, any thread may call
    /// [`release_deferred`](Self::release_deferred) to hand those still waiting to the
    /// workers, so a slow job never holds the others back for longer than it takes
    /// someone to notice.
    ///
    /// A thread that receives and dispatches a message at a time saves a thread
    /// wake-up per message this way (a wake-up costs more than a short handler).
    ///
    /// ```
    /// use osc_dispatch::{PoolConfig, WorkerPool};
    ///
    /// let pool = WorkerPool::new(PoolConfig { threads: 2, ..PoolConfig::default() })?;
    /// let here = std::thread::current().id();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.caller_runs(|| {
    ///     pool.submit(Box::new(move || tx.send(std::thread::current().id()).unwrap()))
    /// })?;
    /// // The job ran in this thread, before `caller_runs` returned.
    /// assert_eq!(rx.try_recv().unwrap(), here);
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn caller_runs<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.config.threads == 0 || DEFERRING.get() != 0 {
            return f();
        }
        DEFERRING.set(self.id());
        let _scope = Scope(self);
        f()
    }

    /// Runs `f`; the jobs it submits to this pool from this thread are kept back and,
    /// when `f` returns, handed to the workers all at once: one queue entry and one
    /// worker woken for the lot, instead of one of each per job. That worker runs them
    /// in order (with any other kept-back jobs); while they wait,
    /// [`release_deferred`](Self::release_deferred) wakes more workers for them.
    ///
    /// A thread that receives a burst of messages and must not run their handlers
    /// itself hands them over this way. At most the queue's capacity (and at least
    /// 1,024) jobs are kept back at once: beyond that, jobs go to the pool's queue
    /// under its [`OverflowPolicy`], so memory stays bounded when messages come faster
    /// than the workers run them.
    ///
    /// ```
    /// use osc_dispatch::{PoolConfig, WorkerPool};
    /// use std::time::Duration;
    ///
    /// let pool = WorkerPool::new(PoolConfig { threads: 2, ..PoolConfig::default() })?;
    /// let here = std::thread::current().id();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.hand_off(|| {
    ///     for i in 0..3 {
    ///         let tx = tx.clone();
    ///         pool.submit(Box::new(move || tx.send((i, std::thread::current().id())).unwrap()))?;
    ///     }
    ///     Ok::<(), osc_dispatch::DispatchError>(())
    /// })?;
    /// let ran: Vec<_> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
    /// // In order, on a worker.
    /// assert_eq!(ran.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1, 2]);
    /// assert!(ran.iter().all(|r| r.1 != here));
    /// # Ok::<(), osc_dispatch::DispatchError>(())
    /// ```
    pub fn hand_off<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.config.threads == 0 || DEFERRING.get() != 0 {
            return f();
        }
        DEFERRING.set(self.id());
        let _scope = HandOff(self);
        f()
    }

    /// Wakes the workers for the jobs kept back by [`caller_runs`](Self::caller_runs)
    /// and [`hand_off`](Self::hand_off) scopes and not yet started: one worker per job,
    /// up to the pool's size, each running them one by one, in order, until none is
    /// left; returns how many jobs were waiting.
    pub fn release_deferred(&self) -> usize {
        let n = self.shared.deferred.queue.lock().len();
        if n > 0 {
            self.wake_drainers(n.min(self.config.threads));
        }
        n
    }

    /// Queues `n` requests to run the kept-back jobs. When the queue is full, the
    /// workers busy with it are asked instead to run them after their current job
    /// (nothing is lost and nobody blocks); shut down, they stay for the shutdown.
    fn wake_drainers(&self, n: usize) {
        let guard = self.sender.read();
        let Some(tx) = guard.as_ref() else {
            return;
        };
        for _ in 0..n {
            if tx.try_send(Task::Drain).is_err() {
                self.ask_busy_workers(tx);
                return;
            }
        }
    }

    /// Sets the flag the workers read after each job, then tries the queue once more:
    /// either that succeeds, or the queue is still full and one of the jobs in it ends
    /// after the flag was set, so its worker sees it.
    fn ask_busy_workers(&self, tx: &Sender<Task>) {
        self.shared.drain_wanted.store(true, Ordering::SeqCst);
        let _ = tx.try_send(Task::Drain);
    }

    fn id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// Runs the kept-back jobs one by one until none is left (another thread's
    /// included: they are all the pool's jobs).
    fn run_deferred(&self) {
        self.shared.run_kept_back(true);
    }

    fn enqueue(&self, job: Task) -> Result<()> {
        if self.config.threads == 0 {
            if !self.sender.read().is_some() {
                bump(&self.shared.dropped);
                return Err(DispatchError::ShutDown);
            }
            run_job(job, &self.shared);
            return Ok(());
        }
        let guard = self.sender.read();
        let Some(tx) = guard.as_ref() else {
            bump(&self.shared.dropped);
            return Err(DispatchError::ShutDown);
        };
        let job = match tx.try_send(job) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(_)) => {
                bump(&self.shared.dropped);
                return Err(DispatchError::ShutDown);
            }
            Err(TrySendError::Full(job)) => job,
        };
        if let OverflowPolicy::Block { timeout } = self.config.overflow {
            if tx.send_timeout(job, timeout).is_ok() {
                return Ok(());
            }
        }
        let n = self.shared.overflow.fetch_add(1, Ordering::Relaxed);
        if n.is_power_of_two() || n == 0 {
            log::warn!(
                "osc-dispatch: worker pool queue full ({} jobs): job dropped ({} so far)",
                self.config.queue_capacity,
                n + 1
            );
        }
        Err(DispatchError::PoolFull {
            capacity: self.config.queue_capacity,
        })
    }

    /// Stops the pool: no new jobs are accepted; queued jobs are run
    /// (`finish_queued`) or discarded (counted); the threads are joined. Nothing waits
    /// past `deadline`: at the deadline the jobs still queued are discarded, and a
    /// thread still busy in a job is detached (reported, not joined). Calling it again
    /// does nothing.
    pub fn shutdown(&self, finish_queued: bool, deadline: Duration) -> ShutdownReport {
        let Some(tx) = self.sender.write().take() else {
            return ShutdownReport::default();
        };
        self.shared.closed.store(true, Ordering::Release);
        drop(tx);
        let dropped_before = self.shared.dropped.load(Ordering::Relaxed);
        if !finish_queued {
            self.shared.discard.store(true, Ordering::Relaxed);
        }
        let handles = std::mem::take(&mut *self.handles.lock());
        let mut exited = vec![false; handles.len()];
        let mut count = 0;
        // `None`: a deadline too far for an `Instant` (`Duration::MAX`) is no limit.
        let end = Instant::now().checked_add(deadline);
        while count < handles.len() {
            let next = match end {
                Some(end) => self.done.recv_deadline(end).ok(),
                None => self.done.recv().ok(),
            };
            let Some(n) = next else {
                break;
            };
            if let Some(e) = exited.get_mut(n) {
                *e = true;
                count += 1;
            }
        }
        if count < handles.len() {
            // Deadline passed: discard what is left and give the workers a moment to
            // skip through it.
            self.shared.discard.store(true, Ordering::Relaxed);
            let grace = Instant::now() + Duration::from_millis(50);
            while count < handles.len() {
                let Ok(n) = self.done.recv_deadline(grace) else {
                    break;
                };
                if let Some(e) = exited.get_mut(n) {
                    *e = true;
                    count += 1;
                }
            }
        }
        let mut report = ShutdownReport::default();
        for (h, exited) in handles.into_iter().zip(exited) {
            // A worker that said goodbye is about to return: joining it is immediate.
            if exited {
                if h.join().is_err() {
                    log::error!("osc-dispatch: a worker thread panicked");
                }
                report.joined_threads += 1;
            } else {
                report.detached_threads += 1;
            }
        }
        if report.detached_threads > 0 {
            log::warn!(
                "osc-dispatch: {} worker(s) still busy at the shutdown deadline, detached",
                report.detached_threads
            );
        }
        if report.detached_threads == 0 {
            while let Ok(task) = self.receiver.try_recv() {
                if !matches!(task, Task::Drain) {
                    bump(&self.shared.dropped);
                }
            }
        }
        // Kept back and not run: no worker is left to run them.
        let left = std::mem::take(&mut *self.shared.deferred.queue.lock());
        self.shared
            .dropped
            .fetch_add(left.len() as u64, Ordering::Relaxed);
        report.dropped_jobs = self.shared.dropped.load(Ordering::Relaxed) - dropped_before;
        report
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.shutdown(false, Duration::from_secs(1));
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl PoolState {
    /// Runs the kept-back jobs one by one, in order, until none is left (dropping and
    /// counting them when the pool discards jobs, or, with `not_after_close`, once it
    /// is shut down: a scope's own thread then leaves them; a worker woken for them
    /// runs them while the pool drains).
    fn run_kept_back(&self, not_after_close: bool) {
        loop {
            let next = self.deferred.queue.lock().pop_front();
            let Some(job) = next else { return };
            if self.discard.load(Ordering::Relaxed)
                || (not_after_close && self.closed.load(Ordering::Acquire))
            {
                bump(&self.dropped);
            } else {
                run_job(job, self);
            }
        }
    }
}

fn run_job(job: Task, shared: &PoolState) {
    if catch_unwind(AssertUnwindSafe(|| job.run())).is_err() {
        bump(&shared.panicked);
        log::error!("osc-dispatch: a pool job panicked");
    }
    bump(&shared.completed);
}

fn worker(index: usize, rx: &Receiver<Task>, shared: &PoolState, done: &Sender<usize>) {
    // `recv` blocks on the channel (a futex on Linux): an idle worker uses no CPU.
    while let Ok(job) = rx.recv() {
        if let Task::Drain = job {
            shared.run_kept_back(false);
            continue;
        }
        if shared.discard.load(Ordering::Relaxed) {
            bump(&shared.dropped);
            continue;
        }
        run_job(job, shared);
        if shared.drain_wanted.load(Ordering::SeqCst)
            && shared.drain_wanted.swap(false, Ordering::SeqCst)
        {
            shared.run_kept_back(false);
        }
    }
    let _ = done.send(index);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn pool(threads: usize, cap: usize, overflow: OverflowPolicy) -> WorkerPool {
        WorkerPool::new(PoolConfig {
            threads,
            queue_capacity: cap,
            overflow,
            ..PoolConfig::default()
        })
        .unwrap()
    }

    /// Submits `n` jobs inside a `caller_runs` scope; returns, in the order they ran,
    /// each job's index and whether it ran in the calling thread.
    fn scoped(p: &WorkerPool, n: usize) -> Vec<(usize, bool)> {
        let here = std::thread::current().id();
        let (tx, rx) = crossbeam_channel::unbounded();
        p.caller_runs(|| {
            for i in 0..n {
                let tx = tx.clone();
                p.submit(Box::new(move || {
                    tx.send((i, std::thread::current().id() == here)).unwrap();
                }))
                .unwrap();
            }
        });
        (0..n)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect()
    }

    fn ran_here_unscoped(p: &WorkerPool) -> bool {
        let here = std::thread::current().id();
        let (tx, rx) = crossbeam_channel::bounded(1);
        p.submit(Box::new(move || {
            tx.send(std::thread::current().id() == here).unwrap();
        }))
        .unwrap();
        rx.recv_timeout(Duration::from_secs(5)).unwrap()
    }

    #[test]
    fn a_scope_runs_its_jobs_in_the_caller_in_order() {
        let p = pool(2, 16, OverflowPolicy::Drop);
        assert_eq!(scoped(&p, 3), [(0, true), (1, true), (2, true)]);
        // Outside a scope, jobs go to the workers.
        assert!(!ran_here_unscoped(&p));
        assert_eq!(p.shutdown(true, Duration::from_secs(5)).dropped_jobs, 0);
    }

    #[test]
    fn released_jobs_go_to_the_workers_while_the_caller_is_busy() {
        let p = Arc::new(pool(2, 16, OverflowPolicy::Drop));
        let (started_tx, started_rx) = crossbeam_channel::bounded(1);
        let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(1);
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let p2 = Arc::clone(&p);
        let caller = std::thread::spawn(move || {
            let here = std::thread::current().id();
            p2.caller_runs(|| {
                // The first job is slow: it waits for the test.
                p2.submit(Box::new(move || {
                    started_tx.send(()).unwrap();
                    let _ = release_rx.recv();
                }))
                .unwrap();
                for i in 1..3 {
                    let done_tx = done_tx.clone();
                    p2.submit(Box::new(move || {
                        done_tx
                            .send((i, std::thread::current().id() == here))
                            .unwrap();
                    }))
                    .unwrap();
                }
            });
        });
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(p.release_deferred(), 2);
        let mut got: Vec<(i32, bool)> = (0..2)
            .map(|_| done_rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, [(1, false), (2, false)], "run by the workers");
        release_tx.send(()).unwrap();
        caller.join().unwrap();
        assert_eq!(p.release_deferred(), 0);
    }

    #[test]
    fn a_panic_in_the_scope_still_runs_its_jobs_and_ends_the_scope() {
        let p = pool(1, 16, OverflowPolicy::Drop);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            p.caller_runs(|| {
                p.submit(Box::new(move || {
                    r.fetch_add(1, Ordering::SeqCst);
                }))
                .unwrap();
                panic!("dispatch failed on purpose");
            })
        }));
        assert!(caught.is_err());
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(!ran_here_unscoped(&p), "the scope ended");
    }

    #[test]
    fn scopes_nest_and_other_pools_are_not_kept_back() {
        let p = pool(1, 16, OverflowPolicy::Drop);
        let q = pool(1, 16, OverflowPolicy::Drop);
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        p.caller_runs(|| {
            // Nested: the outer scope keeps the job back.
            p.caller_runs(|| {
                p.submit(Box::new(move || {
                    r.fetch_add(1, Ordering::SeqCst);
                }))
                .unwrap();
            });
            assert_eq!(ran.load(Ordering::SeqCst), 0, "still kept back");
            // Another pool's jobs are not kept back by this scope.
            assert!(!ran_here_unscoped(&q));
        });
        assert_eq!(ran.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_hand_off_runs_its_jobs_on_the_workers_in_order() {
        let p = pool(2, 4, OverflowPolicy::Drop);
        let here = std::thread::current().id();
        let (tx, rx) = crossbeam_channel::unbounded();
        // More jobs than the queue holds: they take one queue entry.
        p.hand_off(|| {
            for i in 0..100 {
                let tx = tx.clone();
                p.submit(Box::new(move || {
                    tx.send((i, std::thread::current().id() == here)).unwrap();
                }))
                .unwrap();
            }
        });
        let got: Vec<(usize, bool)> = (0..100)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        assert_eq!(got, (0..100).map(|i| (i, false)).collect::<Vec<_>>());
        assert_eq!(p.stats().overflow, 0);
        // Inside a caller-runs scope, a hand-off keeps its jobs for the caller.
        let here_too = scoped_hand_off(&p);
        assert!(here_too);
        let r = p.shutdown(true, Duration::from_secs(5));
        assert_eq!(r.dropped_jobs, 0);
        assert_eq!(p.stats().completed, 101);
    }

    #[test]
    fn jobs_kept_back_beyond_the_limit_go_through_the_bounded_queue() {
        let p = pool(2, 4, OverflowPolicy::Drop);
        // Both workers busy until released.
        let (go_tx, go_rx) = crossbeam_channel::unbounded::<()>();
        for _ in 0..2 {
            let go = go_rx.clone();
            p.submit(Box::new(move || {
                let _ = go.recv();
            }))
            .unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
        let refused = p.hand_off(|| {
            (0..KEPT_BACK_MIN + 4 + 10)
                .filter(|_| p.submit(Box::new(|| {})).is_err())
                .count()
        });
        // The limit kept back, the queue's 4, and the rest refused by its policy.
        assert_eq!(refused, 10);
        assert_eq!(p.stats().overflow, 10);
        for _ in 0..2 {
            go_tx.send(()).unwrap();
        }
        // The scope's wake-up found the queue full: the workers run the kept-back
        // jobs after the queued ones, with no release.
        let total = 2 + KEPT_BACK_MIN as u64 + 4;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while p.stats().completed < total && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(p.stats().completed, total);
        assert_eq!(p.release_deferred(), 0);
        let r = p.shutdown(true, Duration::from_secs(5));
        assert_eq!(r.dropped_jobs, 0);
        assert_eq!(p.stats().completed, 2 + KEPT_BACK_MIN as u64 + 4);
    }

    fn scoped_hand_off(p: &WorkerPool) -> bool {
        let here = std::thread::current().id();
        let (tx, rx) = crossbeam_channel::bounded(1);
        p.caller_runs(|| {
            p.hand_off(|| {
                p.submit(Box::new(move || {
                    tx.send(std::thread::current().id() == here).unwrap();
                }))
                .unwrap();
            });
        });
        rx.try_recv().unwrap()
    }

    #[test]
    fn zero_threads_runs_inline() {
        let p = pool(0, 1, OverflowPolicy::Drop);
        let here = std::thread::current().id();
        let same = Arc::new(AtomicBool::new(false));
        let s = same.clone();
        p.submit(Box::new(move || {
            s.store(std::thread::current().id() == here, Ordering::SeqCst)
        }))
        .unwrap();
        assert!(same.load(Ordering::SeqCst));
    }

    #[test]
    fn overflow_drops_and_counts() {
        let p = pool(1, 1, OverflowPolicy::Drop);
        let (block_tx, block_rx) = bounded::<()>(0);
        let (started_tx, started_rx) = bounded::<()>(1);
        p.submit(Box::new(move || {
            let _ = started_tx.send(());
            let _ = block_rx.recv();
        }))
        .unwrap();
        started_rx.recv().unwrap();
        p.submit(Box::new(|| {})).unwrap(); // fills the queue
        assert!(matches!(
            p.submit(Box::new(|| {})),
            Err(DispatchError::PoolFull { capacity: 1 })
        ));
        assert_eq!(p.stats().overflow, 1);
        drop(block_tx);
        let r = p.shutdown(true, Duration::from_secs(2));
        assert_eq!((r.dropped_jobs, r.joined_threads), (0, 1));
        assert_eq!(p.stats().completed, 2);
    }

    #[test]
    fn block_policy_waits_for_room() {
        let p = pool(
            1,
            1,
            OverflowPolicy::Block {
                timeout: Duration::from_secs(2),
            },
        );
        let n = Arc::new(AtomicUsize::new(0));
        for _ in 0..20 {
            let n = n.clone();
            p.submit(Box::new(move || {
                std::thread::sleep(Duration::from_millis(1));
                n.fetch_add(1, Ordering::SeqCst);
            }))
            .unwrap();
        }
        p.shutdown(true, Duration::from_secs(2));
        assert_eq!(n.load(Ordering::SeqCst), 20);
        assert_eq!(p.stats().overflow, 0);
    }

    #[test]
    fn panicking_job_is_caught_and_worker_survives() {
        let p = pool(1, 8, OverflowPolicy::Drop);
        p.submit(Box::new(|| panic!("boom"))).unwrap();
        let ok = Arc::new(AtomicBool::new(false));
        let o = ok.clone();
        p.submit(Box::new(move || o.store(true, Ordering::SeqCst)))
            .unwrap();
        p.shutdown(true, Duration::from_secs(2));
        assert!(ok.load(Ordering::SeqCst));
        assert_eq!(p.stats().panicked, 1);
    }

    #[test]
    fn submit_after_shutdown_is_refused() {
        let p = pool(2, 8, OverflowPolicy::Drop);
        p.shutdown(true, Duration::from_secs(1));
        assert!(matches!(
            p.submit(Box::new(|| {})),
            Err(DispatchError::ShutDown)
        ));
        assert_eq!(
            p.shutdown(true, Duration::from_secs(1)),
            ShutdownReport::default()
        );
    }

    #[test]
    fn a_duration_max_deadline_waits_for_the_jobs_without_panicking() {
        let p = pool(2, 16, OverflowPolicy::Drop);
        let ran = Arc::new(AtomicUsize::new(0));
        for _ in 0..4 {
            let ran = Arc::clone(&ran);
            p.submit(Box::new(move || {
                std::thread::sleep(Duration::from_millis(5));
                ran.fetch_add(1, Ordering::Relaxed);
            }))
            .unwrap();
        }
        p.shutdown(true, Duration::MAX);
        assert_eq!(ran.load(Ordering::Relaxed), 4);
    }
}
