//! Starting a runtime.

use std::time::Duration;

use osc_dispatch::SchedulerConfig;

use crate::{Config, Mode, Osc, Result};

impl Osc {
    /// A builder with the defaults (event-loop mode).
    pub fn builder() -> OscBuilder {
        OscBuilder::default()
    }
}

/// Builds an [`Osc`] runtime.
///
/// ```
/// use osc4rs::{Mode, Osc};
/// let osc = Osc::builder().mode(Mode::CommThreads).exec_threads(0).start()?;
/// osc.terminate()?;
/// # Ok::<(), osc4rs::OscError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct OscBuilder {
    config: Config,
}

impl OscBuilder {
    /// The scheduling mode (default [`Mode::EventLoop`]).
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.config.mode = mode;
        self
    }

    /// Worker threads for `AllThreads` mode (default 10; 0 = handlers in the I/O thread).
    #[must_use]
    pub fn exec_threads(mut self, n: usize) -> Self {
        self.config.exec_threads = n;
        self
    }

    /// Codec options.
    #[must_use]
    pub fn codec(mut self, options: osc_codec::Options) -> Self {
        self.config.codec = options;
        self
    }

    /// Bundle scheduling policies.
    #[must_use]
    pub fn scheduler(mut self, config: SchedulerConfig) -> Self {
        self.config.scheduler = config;
        self
    }

    /// How long `terminate()` waits for queued sends (default 2 s).
    #[must_use]
    pub fn flush_timeout(mut self, d: Duration) -> Self {
        self.config.flush_timeout = d;
        self
    }

    /// Busy polling before blocking (default off): for up to `d`, the threads that
    /// wait for packets (the reactor's, in whichever thread runs it) check again and again instead of sleeping, so a reply finds them awake.
    /// This cuts round trips when a core is free to spin, and costs that core for `d`
    /// after every burst; on a machine whose cores are all busy it makes things worse.
    /// See `docs/performance.md` for measurements.
    ///
    /// ```
    /// use osc4rs::{Mode, Osc};
    /// use std::time::Duration;
    /// let osc = Osc::builder().mode(Mode::EventLoop).busy_poll(Duration::from_micros(50)).start()?;
    /// osc.terminate()?;
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    #[must_use]
    pub fn busy_poll(mut self, d: Duration) -> Self {
        self.config.reactor.busy_poll = d;
        self
    }

    /// All options at once.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Starts the runtime (and its threads in the thread modes).
    pub fn start(self) -> Result<Osc> {
        Osc::start(self.config)
    }
}
