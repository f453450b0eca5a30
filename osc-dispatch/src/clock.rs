//! Clocks for drivers: the dispatcher and scheduler never read the time themselves,
//! they take `now` as an argument; a driver reads it from a [`Clock`].

use std::sync::Arc;
use std::time::Duration;

use osc_codec::TimeTag;
use parking_lot::Mutex;

/// A source of "now" as an OSC timetag. Drivers read it and pass the value to
/// [`Dispatcher`](crate::Dispatcher) methods; tests use a [`VirtualClock`].
///
/// ```
/// use osc_dispatch::{Clock, SystemClock};
/// let now = SystemClock.now();
/// assert!(now.seconds > 3_900_000_000); // after 2023
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> osc_codec::TimeTag;
}

/// The system's wall clock ([`TimeTag::now`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> TimeTag {
        TimeTag::now()
    }
}

/// A manually driven clock for deterministic tests; clones share the same time.
///
/// ```
/// use osc_codec::TimeTag;
/// use osc_dispatch::{Clock, VirtualClock};
/// use std::time::Duration;
///
/// let clock = VirtualClock::new(TimeTag::new(3_900_000_000, 0));
/// let view = clock.clone();
/// clock.advance(Duration::from_millis(500));
/// assert_eq!(view.now(), TimeTag::new(3_900_000_000, 1 << 31));
/// ```
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now: Arc<Mutex<TimeTag>>,
}

impl VirtualClock {
    /// A clock stopped at `start`.
    #[must_use]
    pub fn new(start: TimeTag) -> Self {
        VirtualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock();
        *now += by;
    }

    /// Sets the clock (it may go backwards, as wall clocks do).
    pub fn set(&self, to: TimeTag) {
        *self.now.lock() = to;
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> TimeTag {
        *self.now.lock()
    }
}
