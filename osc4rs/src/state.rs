//! What every thread of a runtime shares, whatever the mode: the options, the
//! dispatcher, the channels' hooks and the runtime's counters. The drivers
//! (`driver/`) and the public API (`runtime.rs`) both build on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use osc_channel::{ChannelId, ChannelStats, UdpWriter};

use crate::core::Core;
use crate::hooks::HookTable;
use crate::notice::Notices;
use crate::stats::Counters;
use crate::{Config, Result};

pub(crate) struct Engine {
    pub(crate) config: Config,
    pub(crate) core: Core,
    pub(crate) hooks: HookTable,
    pub(crate) counters: Counters,
    notices: Notices,
    /// The open channels' counters, for the notices.
    channel_stats: parking_lot::RwLock<Vec<Arc<ChannelStats>>>,
    /// The drops of the channels closed so far: the sum the notices compare never
    /// goes down when a channel closes.
    closed_drops: AtomicU64,
}

impl Engine {
    pub(crate) fn new(config: Config) -> Result<Engine> {
        let core = Core::new(&config)?;
        Ok(Engine {
            notices: Notices::new(config.notices),
            config,
            core,
            hooks: HookTable::default(),
            counters: Counters::default(),
            channel_stats: parking_lot::RwLock::new(Vec::new()),
            closed_drops: AtomicU64::new(0),
        })
    }

    /// Counts a channel's drops in the notices (until [`unwatch`](Self::unwatch)).
    pub(crate) fn watch(&self, stats: &Arc<ChannelStats>) {
        self.channel_stats.write().push(Arc::clone(stats));
    }

    /// A channel closed.
    pub(crate) fn unwatch(&self, stats: &Arc<ChannelStats>) {
        let mut open = self.channel_stats.write();
        let before = open.len();
        open.retain(|s| !Arc::ptr_eq(s, stats));
        if open.len() < before {
            self.closed_drops
                .fetch_add(stats.total_drops(), Ordering::Relaxed);
        }
    }

    /// Tells failures nobody would see otherwise (see [`Notices`]); after each batch,
    /// looking at the counters after one batch in [`LOOK_EVERY`](crate::notice::LOOK_EVERY).
    pub(crate) fn notice(&self) {
        if self.notices.due() {
            self.notice_now();
        }
    }

    /// [`notice`](Self::notice) without waiting for its turn: when the runtime ends.
    pub(crate) fn notice_now(&self) {
        if !self.notices.wanted() {
            return;
        }
        let channel_drops: u64 = self
            .channel_stats
            .read()
            .iter()
            .map(|s| s.total_drops())
            .sum();
        let d = self.core.dispatcher();
        let closed = self.closed_drops.load(Ordering::Relaxed);
        if self
            .notices
            .changed(d.failures() + self.counters.failures() + channel_drops + closed)
        {
            self.notices
                .check(&d.stats(), &self.counters.snapshot(), channel_drops);
        }
    }

    /// How long a `process_timeout(max_wait)` pass may wait: `max_wait`, or less if a
    /// bundle is due sooner.
    pub(crate) fn wait_within(&self, max_wait: Duration) -> Duration {
        self.core
            .poll_timeout()
            .map_or(max_wait, |d| d.min(max_wait))
    }
}

/// A channel just opened.
pub(crate) struct Opened {
    pub(crate) id: ChannelId,
    /// Thread modes, UDP channels with a destination: writes from the sending thread
    /// instead of waking an I/O thread.
    pub(crate) writer: Option<Arc<UdpWriter>>,
    pub(crate) stats: Option<Arc<ChannelStats>>,
}
