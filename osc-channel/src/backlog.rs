//! What a UDP channel in the reactor and its writers share.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Counts the packets of one UDP channel that the reactor holds, so that a
/// [`UdpWriter`](crate::UdpWriter) in another thread queues behind them instead of
/// overtaking them, and tells writers when the channel is closed.
#[derive(Debug, Default)]
pub(crate) struct Backlog {
    /// Packets of the channel held by the reactor: queued in the channel, or sent by a
    /// writer through the send queue and not handled yet.
    pending: AtomicUsize,
    /// Set when the channel is closed.
    closed: AtomicBool,
}

impl Backlog {
    pub(crate) fn add(&self) {
        self.pending.fetch_add(1, Ordering::AcqRel);
    }

    /// One packet less; never below zero.
    pub(crate) fn remove(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
    }

    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
