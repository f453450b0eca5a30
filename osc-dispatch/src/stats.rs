//! Counters of what the dispatcher did, dropped or survived.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::scheduler::BundleDrop;

/// A snapshot of a dispatcher's counters (see [`Dispatcher::stats`](crate::Dispatcher::stats)).
/// Every count starts at zero and only grows.
///
/// ```
/// use osc_codec::{Message, Packet, TimeTag};
/// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
///
/// let d = Dispatcher::new(DispatcherConfig::default());
/// let now = TimeTag::new(3_900_000_000, 0);
/// d.dispatch_packet(Packet::from(Message::new("/nobody")), Context::new(now), now)?;
/// assert_eq!(d.stats().unmatched, 1);
/// # Ok::<(), osc_dispatch::DispatchError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Messages that selected at least one method.
    pub matched: u64,
    /// Messages that selected no method (the fallback handler, if any, got them).
    pub unmatched: u64,
    /// Messages whose address is neither a literal address nor a valid pattern.
    pub bad_address: u64,
    /// Handler calls that returned (including those whose arguments did not fit).
    pub handler_calls: u64,
    /// Handler calls that panicked (caught, logged, dispatch went on).
    pub handler_panics: u64,
    /// Typed handler calls skipped because the arguments did not fit.
    pub arg_errors: u64,
    /// Packets given as bytes that could not be decoded.
    pub decode_errors: u64,
    /// Bundles held for later.
    pub bundles_held: u64,
    /// Bundles run (at once or when due).
    pub bundles_run: u64,
    /// Bundles dropped because they were late beyond the late tolerance.
    pub dropped_late: u64,
    /// Bundles dropped because they were due beyond the horizon.
    pub dropped_horizon: u64,
    /// Bundles dropped because the pending queue was full.
    pub dropped_pending_full: u64,
    /// Nested bundles dropped because their timetag was earlier than their parent's.
    pub dropped_nested_order: u64,
    /// Bundles dropped because they were pending at shutdown.
    pub dropped_shutdown: u64,
    /// Jobs refused because the worker pool's queue was full.
    pub pool_overflow: u64,
    /// Jobs dropped unrun at pool shutdown (or submitted after it).
    pub pool_dropped: u64,
}

impl Stats {
    /// All bundles dropped, whatever the reason.
    ///
    /// ```
    /// assert_eq!(osc_dispatch::Stats::default().bundles_dropped(), 0);
    /// ```
    #[must_use]
    pub fn bundles_dropped(&self) -> u64 {
        self.dropped_late
            + self.dropped_horizon
            + self.dropped_pending_full
            + self.dropped_nested_order
            + self.dropped_shutdown
    }
}

/// The live counters, shared with pool jobs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) matched: AtomicU64,
    pub(crate) unmatched: AtomicU64,
    pub(crate) bad_address: AtomicU64,
    pub(crate) handler_calls: AtomicU64,
    pub(crate) handler_panics: AtomicU64,
    pub(crate) arg_errors: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    pub(crate) bundles_held: AtomicU64,
    pub(crate) bundles_run: AtomicU64,
    pub(crate) dropped_late: AtomicU64,
    pub(crate) dropped_horizon: AtomicU64,
    pub(crate) dropped_pending_full: AtomicU64,
    pub(crate) dropped_nested_order: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    pub(crate) pool_overflow: AtomicU64,
    pub(crate) pool_dropped: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn dropped(&self, reason: BundleDrop) {
        bump(match reason {
            BundleDrop::Late => &self.dropped_late,
            BundleDrop::Horizon => &self.dropped_horizon,
            BundleDrop::PendingFull => &self.dropped_pending_full,
            BundleDrop::NestedEarlierThanParent => &self.dropped_nested_order,
            BundleDrop::Shutdown => &self.dropped_shutdown,
        });
    }

    /// The failure counters added up ([`Dispatcher::failures`](crate::Dispatcher::failures)).
    pub(crate) fn failures(&self) -> u64 {
        [
            &self.unmatched,
            &self.bad_address,
            &self.handler_panics,
            &self.arg_errors,
            &self.decode_errors,
            &self.dropped_late,
            &self.dropped_horizon,
            &self.dropped_pending_full,
            &self.dropped_nested_order,
            &self.dropped_shutdown,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            matched: g(&self.matched),
            unmatched: g(&self.unmatched),
            bad_address: g(&self.bad_address),
            handler_calls: g(&self.handler_calls),
            handler_panics: g(&self.handler_panics),
            arg_errors: g(&self.arg_errors),
            decode_errors: g(&self.decode_errors),
            bundles_held: g(&self.bundles_held),
            bundles_run: g(&self.bundles_run),
            dropped_late: g(&self.dropped_late),
            dropped_horizon: g(&self.dropped_horizon),
            dropped_pending_full: g(&self.dropped_pending_full),
            dropped_nested_order: g(&self.dropped_nested_order),
            dropped_shutdown: g(&self.dropped_shutdown),
            pool_overflow: g(&self.pool_overflow),
            pool_dropped: g(&self.pool_dropped),
        }
    }
}
