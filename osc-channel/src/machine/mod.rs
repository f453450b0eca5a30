//! The transports without I/O: state machines that take what a driver observed (bytes
//! read, a connection made or lost, the time) and return what to do (packets to
//! deliver, bytes to write, refusals and drops to report, the next deadline).
//!
//! The mio [`Reactor`](crate::Reactor) is one driver of these machines; a test, or an
//! async runtime, can be another. None of them opens a socket, reads the clock or
//! calls an event handler: time comes in as an argument and every outcome is a
//! returned value, so each rule (framing, limits, queues, backoff) is unit-tested
//! without a socket.
//!
//! | machine | what it owns |
//! |---|---|
//! | [`StreamMachine`] | one stream connection: deframing (length prefix, SLIP, auto), the framed write buffer, packet and buffer limits |
//! | [`UdpMachine`] | a datagram channel's sending side (UDP, or Unix with paths for addresses): destination choice, datagram size limit, the bounded queue of datagrams waiting for the socket |
//! | [`Reconnect`] | a client's connection state and reconnection backoff |
//! | [`Admission`] | a server's connection count against its limit |
//! | [`Timers`] | deadlines of many channels in one heap |
//! | [`ReceiveChooser`] | whether a UDP socket is read one datagram or a batch at a time, by what each costs here |
//! | [`nap_read_timeout`] | when a pass may wait in its only socket's read, and with which receive timeout |

mod admission;
mod nap;
mod read_first;
mod read_first_policy;
mod receive;
mod reconnect;
mod stream;
mod timers;
mod udp;
mod ws;

pub use admission::{Admission, Admit};
pub use nap::{
    NAP_MAX, NAP_MIN, NAP_PROBE_EVERY, NAP_SINGLE_AFTER, NAP_SLACK, NapReads, may_nap,
    nap_read_timeout,
};
pub use read_first::{POLL_AT_LEAST_EVERY, ReadFirst};
pub use read_first_policy::{PROBE_WINDOWS, ReadFirstChooser, ReadFirstPolicy, WINDOW_PASSES};
pub use receive::{PROBE_EVERY, ReadMode, ReceiveChooser};
pub use reconnect::{ClientState, Lost, Reconnect};
pub use stream::{Deframed, EVICT_IDLE_AFTER, StreamMachine, StreamTimeouts, Timeout};
pub use timers::Timers;
pub use udp::{UdpMachine, max_datagram, route};

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::{ChannelError, DropReason};

/// Why a machine refused a packet handed to it for sending. Nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The channel has no destination and none was given.
    NoDestination,
    /// The packet is larger than the limit (the UDP maximum for the destination's
    /// family, or the stream's `max_packet_size`).
    TooLarge {
        /// The packet's size.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The queue is full.
    QueueFull {
        /// The limit in force.
        limit: usize,
        /// "packets" or "bytes".
        unit: &'static str,
    },
}

impl Refusal {
    /// How the drop is counted, if it is one (`NoDestination` is a usage error, not a
    /// drop).
    ///
    /// ```
    /// use osc_channel::{machine::Refusal, DropReason};
    /// assert_eq!(Refusal::TooLarge { size: 9, limit: 8 }.drop_reason(), Some(DropReason::Oversized));
    /// assert_eq!(Refusal::NoDestination.drop_reason(), None);
    /// ```
    pub fn drop_reason(self) -> Option<DropReason> {
        match self {
            Refusal::NoDestination => None,
            Refusal::TooLarge { .. } => Some(DropReason::Oversized),
            Refusal::QueueFull { .. } => Some(DropReason::QueueFull),
        }
    }

    /// The error a caller of `send` on channel `name` gets (`dest`: where a datagram
    /// was going, for [`ChannelError::DatagramTooLarge`]; `None` for streams).
    ///
    /// ```
    /// use osc_channel::{machine::Refusal, ChannelError};
    /// let e = Refusal::QueueFull { limit: 4, unit: "packets" }.into_error("out", None);
    /// assert!(matches!(e, ChannelError::QueueFull { limit: 4, .. }));
    /// ```
    pub fn into_error(self, name: &str, dest: Option<SocketAddr>) -> ChannelError {
        match (self, dest) {
            (Refusal::NoDestination, _) => {
                ChannelError::NotWritable(name.to_owned(), "no destination")
            }
            (Refusal::TooLarge { size, limit }, Some(dest)) => {
                ChannelError::DatagramTooLarge { size, limit, dest }
            }
            (Refusal::TooLarge { size, limit }, None) => {
                ChannelError::PacketTooLarge { size, limit }
            }
            (Refusal::QueueFull { limit, unit }, _) => ChannelError::QueueFull {
                channel: name.to_owned(),
                limit,
                unit,
            },
        }
    }
}

/// `now + wait`, or `None` when that is beyond what an `Instant` can hold (a wait of
/// `Duration::MAX` means "never"). Every deadline of the crate is computed with it.
///
/// ```
/// use std::time::{Duration, Instant};
/// let now = Instant::now();
/// assert_eq!(osc_channel::machine::deadline(now, Duration::ZERO), Some(now));
/// assert_eq!(osc_channel::machine::deadline(now, Duration::MAX), None);
/// ```
pub fn deadline(now: Instant, wait: Duration) -> Option<Instant> {
    now.checked_add(wait)
}
