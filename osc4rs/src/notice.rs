//! Failures a user without a logger would never see: the first of each kind is told
//! once on standard error, unless a logger is installed (it then gets every one) or
//! the notices are turned off ([`Config::notices`](crate::Config::notices)).

use std::sync::atomic::{AtomicBool, Ordering};

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
}

impl Notices {
    pub(crate) fn new(enabled: bool) -> Self {
        Notices {
            enabled,
            told: Default::default(),
        }
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
