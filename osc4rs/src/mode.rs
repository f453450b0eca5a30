//! Scheduling modes and the runtime's options.

use std::time::Duration;

use osc_channel::ReactorConfig;
use osc_codec::Options as CodecOptions;
use osc_dispatch::SchedulerConfig;

/// Where the work happens (osc4py3's `as_eventloop`, `as_comthreads`, `as_allthreads`).
///
/// | step | `EventLoop` | `CommThreads` | `AllThreads` |
/// |---|---|---|---|
/// | socket I/O, framing, decode | in `process()` | the thread waiting in `process_timeout`, else the background I/O thread | one of two background I/O threads |
/// | handler calls | in `process()` | in `process()` | worker pool (`exec_threads`; 0 = the I/O thread): jobs run by the I/O thread that read them unless it is busy with a slow one, then by the workers |
/// | delayed bundles | checked in `process()` | checked in `process()` | the I/O threads (woken when one is due) |
/// | `send()` over UDP | written at once by the caller (queued only if the socket would block) | written by the caller (queued for the I/O thread if the socket would block or earlier packets wait) | same as `CommThreads` |
/// | `send()` over TCP | written at once by the caller (from another thread while `process()` runs: queued, and that pass is woken) | queued for whichever thread holds the reactor, which is woken | same as `CommThreads` |
///
/// Each mode is one driver in `osc4rs/src/driver/` (see `docs/developers.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Everything runs inside [`Osc::process`](crate::Osc::process).
    #[default]
    EventLoop,
    /// I/O and decoding in a background thread (or in `process_timeout` while it waits);
    /// handlers and due bundles in `process()`.
    CommThreads,
    /// Everything in the background; handlers on a worker pool; `process()` does nothing.
    AllThreads,
}

impl Mode {
    /// Every mode, for programs and tests that try each.
    ///
    /// ```
    /// use osc4rs::{Mode, Osc};
    /// for mode in Mode::ALL {
    ///     let osc = Osc::builder().mode(mode).start()?;
    ///     assert_eq!(osc.mode(), mode);
    /// }
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    pub const ALL: [Mode; 3] = [Mode::EventLoop, Mode::CommThreads, Mode::AllThreads];
}

/// Runtime options, with osc4py3's defaults where it has them.
#[derive(Debug, Clone)]
pub struct Config {
    /// The scheduling mode.
    pub mode: Mode,
    /// Worker threads for handlers in `AllThreads` mode (osc4py3 `execthreadscount`,
    /// default 10; 0 runs handlers in the I/O thread).
    pub exec_threads: usize,
    /// Codec options used to decode incoming and encode outgoing packets.
    pub codec: CodecOptions,
    /// Bundle scheduling policies (tolerance, late bundles, offset, limits).
    pub scheduler: SchedulerConfig,
    /// Reactor work bounds.
    pub reactor: ReactorConfig,
    /// Tell the first failure of each kind (a message no method takes, a malformed
    /// packet, ...) on standard error when no logger is installed (default on; with a
    /// logger, every failure goes to it instead).
    pub notices: bool,
    /// How long `terminate()` waits for queued sends to be written.
    pub flush_timeout: Duration,
    /// Most decoded packets waiting for `process()` in `CommThreads` mode (and at most
    /// 32 MiB of them); beyond it packets are dropped, logged and counted (never
    /// unbounded memory).
    pub incoming_queue: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::EventLoop,
            exec_threads: 10,
            codec: CodecOptions::DEFAULT,
            scheduler: SchedulerConfig::default(),
            reactor: ReactorConfig::default(),
            notices: true,
            flush_timeout: Duration::from_secs(2),
            incoming_queue: 65_536,
        }
    }
}
