//! What feeding bytes to a stream machine found, besides its packets.

use crate::DropReason;
#[cfg(doc)]
use crate::StreamLimits;

/// What a [`StreamMachine::on_bytes`](super::StreamMachine::on_bytes) call found
/// besides the packets it delivered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Deframed {
    /// Complete packets handed to the callback.
    pub packets: usize,
    /// Packets skipped for being over [`StreamLimits::max_packet_size`]; the stream
    /// goes on after each.
    pub oversized: usize,
    /// The stream carried an unusable frame (a negative length, or a first byte that
    /// fits no framing): it cannot be read further and must be closed. The text says
    /// what was wrong.
    pub malformed: Option<String>,
    /// The packet budget of the call ran out: input is kept for the next call
    /// ([`StreamMachine::has_leftover`](super::StreamMachine::has_leftover)).
    pub more: bool,
    /// WebSocket text messages, ignored (OSC packets travel in binary messages).
    pub not_binary: usize,
    /// The peer ended the stream cleanly (a WebSocket close): close it.
    pub ended: bool,
}

impl Deframed {
    /// The drops this report stands for, as `(reason, how many)`.
    ///
    /// ```
    /// use osc_channel::machine::Deframed;
    /// use osc_channel::DropReason;
    ///
    /// let report = Deframed { packets: 3, oversized: 2, ..Deframed::default() };
    /// assert_eq!(report.drops().collect::<Vec<_>>(), [(DropReason::Oversized, 2)]);
    /// ```
    pub fn drops(&self) -> impl Iterator<Item = (DropReason, usize)> {
        [
            (DropReason::Oversized, self.oversized),
            (
                DropReason::MalformedFrame,
                usize::from(self.malformed.is_some()),
            ),
            (DropReason::NotBinary, self.not_binary),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
    }
}
