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
    drops: [AtomicU64; REASONS],
}

impl ChannelStats {
    /// Counts one received packet.
    #[inline]
    pub fn count_in(&self, bytes: usize) {
        self.packets_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts `packets` received packets of `bytes` bytes in all.
    #[inline]
    pub(crate) fn count_in_batch(&self, packets: usize, bytes: usize) {
        if packets > 0 {
            self.packets_in.fetch_add(packets as u64, Ordering::Relaxed);
            self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
        }
    }

    /// Counts one sent packet.
    #[inline]
    pub fn count_out(&self, bytes: usize) {
        self.packets_out.fetch_add(1, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts `packets` sent packets of `bytes` bytes in all.
    #[inline]
    pub(crate) fn count_out_batch(&self, packets: usize, bytes: usize) {
        if packets > 0 {
            self.packets_out
                .fetch_add(packets as u64, Ordering::Relaxed);
            self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
        }
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
        StatsSnapshot {
            packets_in: self.packets_in.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            packets_out: self.packets_out.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
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
