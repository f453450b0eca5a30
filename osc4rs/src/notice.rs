//! Failures a user without a logger would never see: the first of each kind is told
//! once on standard error, unless a logger is installed (it then gets every one) or
//! the notices are turned off ([`Config::notices`](crate::Config::notices)).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use osc_dispatch::Stats;

use crate::RuntimeStats;

/// The kinds told about, with what a user can do.
const KINDS: [&str; 8] = [
    "a received message matched no method (register one, or a fallback with osc.dispatcher().set_fallback)",
    "a received address was refused as a pattern (for example a trailing '/')",
    "a typed handler could not take a message's arguments (wrong types or count)",
    "a malformed packet was received and dropped",
    "a handler panicked; dispatch went on",
    "received packets were dropped: process() was not called often enough",
    "a bundle was dropped (late, beyond the horizon, or too many pending)",
    "a channel dropped a packet or a connection (an oversized or malformed frame, a full queue, a timed-out or evicted connection; Osc::channel_stats(name).drops(reason) counts each reason)",
];

/// Which kinds were told already.
#[derive(Debug)]
pub(crate) struct Notices {
    enabled: bool,
    told: [AtomicBool; KINDS.len()],
    /// The failure counters' sum at the last look ([`changed`](Self::changed)).
    seen: AtomicU64,
    /// Calls of [`due`](Self::due) so far.
    calls: AtomicU32,
}

/// The counters are read after one batch in this many ([`Notices::due`]): reading them
/// all after every batch cost about 3% of a request-reply hop, and a notice a few
/// batches late tells the same (the runtime also looks once more when it terminates).
pub(crate) const LOOK_EVERY: u32 = 8;

impl Notices {
    pub(crate) fn new(enabled: bool) -> Self {
        Notices {
            enabled,
            told: Default::default(),
            seen: AtomicU64::new(0),
            calls: AtomicU32::new(0),
        }
    }

    /// Whether this batch should look at the counters: one in [`LOOK_EVERY`], never
    /// when the notices are off (no shared counter written then). A load and a store,
    /// not an atomic add: two threads that race here only move the next look by a
    /// batch.
    pub(crate) fn due(&self) -> bool {
        if !self.enabled {
            return false;
        }
        let n = self.calls.load(Ordering::Relaxed).wrapping_add(1);
        self.calls.store(n, Ordering::Relaxed);
        n % LOOK_EVERY == 0
    }

    /// Whether the failure counters' sum moved since the last call: the counters only
    /// grow, so an unchanged sum means nothing new to tell, and the full counters need
    /// no reading.
    pub(crate) fn changed(&self, failures: u64) -> bool {
        // A load first: the usual answer, no change, needs no write.
        self.seen.load(Ordering::Relaxed) != failures
            && self.seen.swap(failures, Ordering::Relaxed) != failures
    }

    /// Whether there is anything to tell about: on, no logger installed, and a kind
    /// not told yet (so the counters need reading).
    pub(crate) fn wanted(&self) -> bool {
        self.enabled
            && log::max_level() == log::LevelFilter::Off
            && self.told.iter().any(|t| !t.load(Ordering::Relaxed))
    }

    /// Tells each kind of failure the counters show for the first time.
    pub(crate) fn check(&self, dispatch: &Stats, runtime: &RuntimeStats, channel_drops: u64) {
        let counts = [
            dispatch.unmatched,
            dispatch.bad_address,
            dispatch.arg_errors,
            dispatch.decode_errors + runtime.decode_errors,
            dispatch.handler_panics,
            runtime.incoming_dropped,
            dispatch.bundles_dropped(),
            channel_drops,
        ];
        for ((count, told), what) in counts.into_iter().zip(&self.told).zip(KINDS) {
            if count > 0 && !told.swap(true, Ordering::Relaxed) {
                tell(what);
            }
        }
    }
}

#[allow(clippy::print_stderr)]
fn tell(what: &str) {
    eprintln!(
        "osc4rs: {what}. (Told once: install a logger such as env_logger to see each \
         one, or read Osc::stats() and osc.dispatcher().stats(); Config::notices turns \
         this off.)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_batch_in_look_every_looks() {
        let n = Notices::new(true);
        let looks = (0..LOOK_EVERY * 10).filter(|_| n.due()).count();
        assert_eq!(looks, 10);
        // The first look comes within LOOK_EVERY batches.
        let n = Notices::new(true);
        assert!((0..LOOK_EVERY).any(|_| n.due()));
    }

    #[test]
    fn the_sum_is_new_once_per_change_whatever_the_order_of_looks() {
        let n = Notices::new(true);
        assert!(!n.changed(0), "no failure yet: nothing to read");
        assert!(n.changed(1));
        assert!(!n.changed(1));
        // A look that read the counters before the last change still reads again.
        assert!(n.changed(0));
        assert!(n.changed(1));
        assert!(n.changed(3));
        assert!(!n.changed(3));
    }
}
