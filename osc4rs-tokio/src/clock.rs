//! A clock on tokio's time, so that `tokio::time::pause` drives bundle scheduling.

use osc_codec::TimeTag;
use osc_dispatch::Clock;
use tokio::time::Instant;

/// "Now" as an OSC timetag, read from tokio's clock: the wall-clock time when the
/// clock was made plus the tokio time elapsed since. Under `tokio::time::pause` the
/// timetags advance with tokio's virtual time, so scheduling tests run instantly.
/// Clones share the same origin.
///
/// ```
/// use osc4rs_tokio::TokioClock;
/// use osc_codec::TimeTag;
/// use osc_dispatch::Clock;
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build()?.block_on(async {
/// let clock = TokioClock::starting_at(TimeTag::new(3_900_000_000, 0));
/// tokio::time::sleep(Duration::from_millis(500)).await; // instant: the clock is paused
/// assert_eq!(clock.now(), TimeTag::new(3_900_000_000, 1 << 31));
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: TimeTag,
    start: Instant,
}

impl TokioClock {
    /// A clock starting at the system's wall-clock time ([`TimeTag::now`]).
    #[must_use]
    pub fn new() -> Self {
        TokioClock::starting_at(TimeTag::now())
    }

    /// A clock that reads `origin` now (tests use a fixed origin).
    #[must_use]
    pub fn starting_at(origin: TimeTag) -> Self {
        TokioClock {
            origin,
            start: Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> TimeTag {
        self.origin + self.start.elapsed()
    }
}
