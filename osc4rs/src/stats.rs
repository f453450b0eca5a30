//! The runtime's own counters (the channels and the dispatcher keep their own).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{OscError, Result};

/// A copy of the runtime's own counters at one moment ([`Osc::stats`](crate::Osc::stats));
/// the channels ([`StatsSnapshot`](crate::StatsSnapshot)) and the dispatcher
/// ([`Stats`](crate::dispatch::Stats)) keep their own.
///
/// ```
/// use osc4rs::Osc;
///
/// let osc = Osc::builder().start()?;
/// let stats = osc.stats();
/// assert_eq!((stats.decode_errors, stats.send_errors), (0, 0));
/// # osc.terminate()?;
/// # Ok::<(), osc4rs::OscError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RuntimeStats {
    /// Packets received that failed to decode (each logged with its peer).
    pub decode_errors: u64,
    /// Decoded packets dropped because `process()` fell too far behind (comthreads).
    pub incoming_dropped: u64,
    /// Packets that could not be queued for sending.
    pub send_errors: u64,
    /// Packets a decode hook dropped.
    pub hook_dropped: u64,
}

/// The live counters behind [`RuntimeStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) decode_errors: AtomicU64,
    pub(crate) incoming_dropped: AtomicU64,
    pub(crate) send_errors: AtomicU64,
    pub(crate) hook_dropped: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed send.
    pub(crate) fn send_result<T>(&self, r: osc_channel::Result<T>) -> Result<T> {
        r.map_err(|e| {
            Counters::bump(&self.send_errors);
            OscError::from(e)
        })
    }

    /// The counters the notices tell about, added up.
    pub(crate) fn failures(&self) -> u64 {
        self.decode_errors.load(Ordering::Relaxed) + self.incoming_dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> RuntimeStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RuntimeStats {
            decode_errors: g(&self.decode_errors),
            incoming_dropped: g(&self.incoming_dropped),
            send_errors: g(&self.send_errors),
            hook_dropped: g(&self.hook_dropped),
        }
    }
}
