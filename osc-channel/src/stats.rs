//! Per-channel counters, readable from any thread.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a packet or a connection was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// A packet over the size limit (stream `max_packet_size`, or a datagram over the
    /// UDP limit).
    Oversized,
    /// The send queue or write buffer was full.
    QueueFull,
    /// A stream carried an unusable frame (negative length) and was closed.
    MalformedFrame,
    /// A connection over `max_connections` was refused.
    TooManyConnections,
    /// A connection refused by the `ConnectionRequest` event handler.
    Refused,
    /// A send failed at the socket (unreachable, reset, ...).
    SendFailed,
    /// Bytes of an incomplete packet lost when the peer disconnected.
    Truncated,
    /// A packet addressed to a connection or peer that does not exist (any more).
    NoRoute,
    /// A connection closed by a timeout: a frame left unfinished, no packet at all, or
    /// idle (see `StreamTimeouts`).
    TimedOut,
    /// A connection closed to make room for a new one when the server was full (the
    /// one idle or partial the longest).
    Evicted,
    /// A connection closed because the server's memory budget for buffered data was
    /// spent, or a send refused for that reason.
    MemoryBudget,
    /// A WebSocket text message: OSC packets travel in binary messages. Ignored; the
    /// connection goes on.
    NotBinary,
}

/// How many [`DropReason`]s there are.
const REASONS: usize = 12;

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; REASONS] = [
        DropReason::Oversized,
        DropReason::QueueFull,
        DropReason::MalformedFrame,
        DropReason::TooManyConnections,
        DropReason::Refused,
        DropReason::SendFailed,
        DropReason::Truncated,
        DropReason::NoRoute,
        DropReason::TimedOut,
        DropReason::Evicted,
        DropReason::MemoryBudget,
        DropReason::NotBinary,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Oversized => "oversized",
            DropReason::QueueFull => "queue full",
            DropReason::MalformedFrame => "malformed frame",
            DropReason::TooManyConnections => "too many connections",
            DropReason::Refused => "refused",
            DropReason::SendFailed => "send failed",
            DropReason::Truncated => "truncated by disconnect",
            DropReason::NoRoute => "no route",
            DropReason::TimedOut => "timed out",
            DropReason::Evicted => "evicted",
            DropReason::MemoryBudget => "memory budget",
            DropReason::NotBinary => "not a binary message",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counters of one channel: packets and bytes in and out, drops by reason.
///
/// ```
/// use osc_channel::{ChannelStats, DropReason};
/// let s = ChannelStats::default();
/// s.count_in(40);
/// s.count_drop(DropReason::QueueFull);
/// let snap = s.snapshot();
/// assert_eq!((snap.packets_in, snap.bytes_in), (1, 40));
/// assert_eq!(snap.drops(DropReason::QueueFull), 1);
/// ```
#[derive(Debug, Default)]
pub struct ChannelStats {
    packets_in: AtomicU64,
    bytes_in: AtomicU64,
    packets_out: AtomicU64,
    bytes_out: AtomicU64,
    /// What the reactor that owns the channel counts, apart: it is their one writer,
    /// so it adds with a load and a store instead of a read-modify-write (which on
    /// x86-64 is a locked instruction, about 20 cycles and a fence, twice per send).
    owned: Owned,
    drops: [AtomicU64; REASONS],
}

/// The counters only the owning reactor writes (see [`ChannelStats`]).
#[derive(Debug, Default)]
struct Owned {
    packets_in: AtomicU64,
    bytes_in: AtomicU64,
    packets_out: AtomicU64,
    bytes_out: AtomicU64,
}

/// Adds `n` to a counter that has one writer (readers see the old or the new value).
#[inline(always)]
fn add_owned(counter: &AtomicU64, n: u64) {
    counter.store(
        counter.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

impl ChannelStats {
    /// Counts one received packet.
    #[inline]
    pub fn count_in(&self, bytes: usize) {
        self.packets_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts `packets` received packets of `bytes` bytes in all, for the reactor
    /// that owns the channel (the only caller: see [`ChannelStats`]).
    #[inline]
    pub(crate) fn count_in_batch(&self, packets: usize, bytes: usize) {
        if packets > 0 {
            add_owned(&self.owned.packets_in, packets as u64);
            add_owned(&self.owned.bytes_in, bytes as u64);
        }
    }

    /// Counts one sent packet.
    #[inline]
    pub fn count_out(&self, bytes: usize) {
        self.packets_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts `packets` sent packets of `bytes` bytes in all, for the reactor that
    /// owns the channel (the only caller: see [`ChannelStats`]).
    #[inline]
    pub(crate) fn count_out_batch(&self, packets: usize, bytes: usize) {
        if packets > 0 {
            add_owned(&self.owned.packets_out, packets as u64);
            add_owned(&self.owned.bytes_out, bytes as u64);
        }
    }

    /// Counts one packet sent by the reactor that owns the channel (the only caller:
    /// see [`ChannelStats`]).
    #[inline]
    pub(crate) fn count_out_owned(&self, bytes: usize) {
        self.count_out_batch(1, bytes);
    }

    /// Counts one drop.
    pub fn count_drop(&self, reason: DropReason) {
        if let Some(c) = self.drops.get(reason.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops for every reason together, read without a snapshot: a cheap way to learn
    /// that the channel dropped something since the last look.
    ///
    /// ```
    /// use osc_channel::{ChannelStats, DropReason};
    /// let stats = ChannelStats::default();
    /// stats.count_drop(DropReason::Oversized);
    /// assert_eq!(stats.total_drops(), stats.snapshot().total_drops());
    /// assert_eq!(stats.total_drops(), 1);
    /// ```
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// A consistent-enough copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut drops = [0; REASONS];
        for (d, c) in drops.iter_mut().zip(&self.drops) {
            *d = c.load(Ordering::Relaxed);
        }
        let both = |shared: &AtomicU64, owned: &AtomicU64| {
            shared
                .load(Ordering::Relaxed)
                .wrapping_add(owned.load(Ordering::Relaxed))
        };
        let o = &self.owned;
        StatsSnapshot {
            packets_in: both(&self.packets_in, &o.packets_in),
            bytes_in: both(&self.bytes_in, &o.bytes_in),
            packets_out: both(&self.packets_out, &o.packets_out),
            bytes_out: both(&self.bytes_out, &o.bytes_out),
            drops,
        }
    }
}

/// A copy of a channel's counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Packets received.
    pub packets_in: u64,
    /// Bytes received (packet bytes, without framing).
    pub bytes_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Bytes sent (packet bytes, without framing).
    pub bytes_out: u64,
    drops: [u64; REASONS],
}

impl StatsSnapshot {
    /// Drops for one reason.
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.drops.get(reason.index()).copied().unwrap_or(0)
    }

    /// Drops for every reason together.
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_and_other_threads_count_into_one_snapshot() {
        let stats = std::sync::Arc::new(ChannelStats::default());
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let stats = std::sync::Arc::clone(&stats);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        stats.count_out(10);
                    }
                })
            })
            .collect();
        // The owning reactor's counts, meanwhile, on this thread.
        for _ in 0..10_000 {
            stats.count_out_owned(1);
        }
        stats.count_out_batch(5, 50);
        stats.count_in_batch(4, 40);
        stats.count_in(7);
        for w in writers {
            assert!(w.join().is_ok());
        }
        let snap = stats.snapshot();
        assert_eq!((snap.packets_out, snap.bytes_out), (40_005, 310_050));
        assert_eq!((snap.packets_in, snap.bytes_in), (5, 47));
    }
}
