//! The time limits of a stream connection, and which one it broke.

use std::fmt;
use std::time::Duration;

/// The time limits of a stream connection; `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamTimeouts {
    /// A frame that has started must be complete within this.
    pub frame: Option<Duration>,
    /// The first complete packet must arrive within this after the connection opened.
    pub first_packet: Option<Duration>,
    /// Nothing received for this long closes the connection.
    pub idle: Option<Duration>,
}

/// Which time limit a connection broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// A frame was left unfinished ([`StreamTimeouts::frame`]).
    Frame,
    /// No complete packet since the connection opened
    /// ([`StreamTimeouts::first_packet`]).
    FirstPacket,
    /// Nothing received for too long ([`StreamTimeouts::idle`]).
    Idle,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Timeout::Frame => "a frame left unfinished too long",
            Timeout::FirstPacket => "no complete packet in time",
            Timeout::Idle => "idle too long",
        })
    }
}

/// How long an established connection must have been silent before a full server may
/// evict it for a newcomer (connections that never sent a packet, or sit in the
/// middle of a frame, go first).
pub const EVICT_IDLE_AFTER: Duration = Duration::from_secs(10);
