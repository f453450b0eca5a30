//! One stream connection without its socket: deframing what arrives, framing and
//! buffering what leaves.

use std::net::SocketAddr;

use osc_codec::framing::{Framing, LengthDecoder, SlipDecoder, length_prefix, slip_encode};

use crate::{DropReason, StreamFraming, StreamLimits};

use super::Refusal;

#[derive(Debug)]
enum Deframer {
    /// Auto-detect: waiting for the first byte.
    Detect,
    Length(LengthDecoder),
    Slip(SlipDecoder),
}

/// What a [`StreamMachine::on_bytes`] call found besides the packets it delivered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Deframed {
    /// Complete packets handed to the callback.
    pub packets: usize,
    /// Packets skipped for being over [`StreamLimits::max_packet_size`]; the stream
    /// goes on after each.
    pub oversized: usize,
    /// The stream carried an unusable frame (a negative length): it cannot be read
    /// further and must be closed. The text says what was wrong.
    pub malformed: Option<String>,
}

/// A stream connection's protocol state (TCP today; any byte stream): the incoming
/// deframer (length prefix, SLIP, or detected from the first byte) and the outgoing
/// buffer of framed packets, with their limits. It never touches a socket: the driver
/// feeds it the bytes it read and writes the bytes it hands out.
///
/// ```
/// use osc_channel::machine::StreamMachine;
/// use osc_channel::{StreamFraming, StreamLimits};
///
/// let peer = "127.0.0.1:9000".parse().unwrap();
/// let mut conn = StreamMachine::new(peer, StreamFraming::LengthPrefix, StreamLimits::default());
/// // What leaves: framed into the write buffer until the driver writes it.
/// conn.queue(b"/a\0\0,\0\0\0").unwrap();
/// assert_eq!(conn.to_write(), b"\0\0\0\x08/a\0\0,\0\0\0");
/// conn.wrote(12);
/// assert_eq!(conn.pending(), 0);
/// // What arrives: bytes in any pieces, packets out.
/// let mut got = Vec::new();
/// conn.on_bytes(b"\0\0\0\x08/a\0", |p| got.push(p.to_vec()));
/// let report = conn.on_bytes(b"\0,\0\0\0", |p| got.push(p.to_vec()));
/// assert_eq!((report.packets, got.len()), (1, 1));
/// ```
#[derive(Debug)]
pub struct StreamMachine {
    peer: SocketAddr,
    deframer: Deframer,
    framing: StreamFraming,
    wbuf: Vec<u8>,
    wpos: usize,
    limits: StreamLimits,
}

impl StreamMachine {
    /// A connection to `peer` with this framing (`Auto` detects it from the first byte
    /// received; until then, replies use the length prefix).
    pub fn new(peer: SocketAddr, framing: StreamFraming, limits: StreamLimits) -> Self {
        let deframer = match framing {
            StreamFraming::Auto => Deframer::Detect,
            StreamFraming::LengthPrefix => {
                Deframer::Length(LengthDecoder::new(limits.max_packet_size))
            }
            StreamFraming::Slip => Deframer::Slip(SlipDecoder::new(limits.max_packet_size)),
        };
        StreamMachine {
            peer,
            deframer,
            framing,
            wbuf: Vec::new(),
            wpos: 0,
            limits,
        }
    }

    /// The peer.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The framing in use (for `Auto`, what was detected; `Auto` until the first byte).
    pub fn framing(&self) -> StreamFraming {
        self.framing
    }

    /// The limits in force.
    pub fn limits(&self) -> StreamLimits {
        self.limits
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.wbuf.len().saturating_sub(self.wpos)
    }

    /// The bytes to write next (empty when nothing waits).
    pub fn to_write(&self) -> &[u8] {
        self.wbuf.get(self.wpos..).unwrap_or_default()
    }

    /// The driver wrote the first `n` bytes of [`to_write`](Self::to_write).
    pub fn wrote(&mut self, n: usize) {
        self.wpos = self.wpos.saturating_add(n).min(self.wbuf.len());
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
        }
    }

    /// Frames a packet into the write buffer. Refused, and nothing queued, when the
    /// packet is over [`StreamLimits::max_packet_size`] or the buffer would pass
    /// [`StreamLimits::max_write_buffer`].
    pub fn queue(&mut self, data: &[u8]) -> Result<(), Refusal> {
        if data.len() > self.limits.max_packet_size {
            return Err(Refusal::TooLarge {
                size: data.len(),
                limit: self.limits.max_packet_size,
            });
        }
        let framed = match self.framing {
            StreamFraming::Slip => osc_codec::framing::slip_encoded_len(data),
            _ => data.len().saturating_add(4),
        };
        if self.pending().saturating_add(framed) > self.limits.max_write_buffer {
            return Err(Refusal::QueueFull {
                limit: self.limits.max_write_buffer,
                unit: "bytes",
            });
        }
        if self.wpos > 0 && self.wpos.saturating_mul(2) >= self.wbuf.len() {
            self.wbuf.drain(..self.wpos);
            self.wpos = 0;
        }
        match self.framing {
            StreamFraming::Slip => slip_encode(data, &mut self.wbuf),
            _ => {
                let prefix = length_prefix(data.len()).map_err(|_| Refusal::TooLarge {
                    size: data.len(),
                    limit: i32::MAX as usize,
                })?;
                self.wbuf.extend_from_slice(&prefix);
                self.wbuf.extend_from_slice(data);
            }
        }
        Ok(())
    }

    /// Bytes of an incomplete packet held by the deframer.
    pub fn buffered(&self) -> usize {
        match &self.deframer {
            Deframer::Detect => 0,
            Deframer::Length(d) => d.buffered(),
            Deframer::Slip(d) => d.buffered(),
        }
    }

    /// The stream ended: returns the bytes of an incomplete packet that are lost
    /// (0 when the stream ended between packets).
    pub fn on_eof(&mut self) -> usize {
        self.buffered()
    }

    /// Feeds bytes read from the stream, in any pieces; `on_packet` receives each
    /// complete packet (borrowed: copy or decode it before returning).
    pub fn on_bytes(&mut self, mut input: &[u8], mut on_packet: impl FnMut(&[u8])) -> Deframed {
        let mut out = Deframed::default();
        if let Deframer::Detect = self.deframer {
            let Some(&first) = input.first() else {
                return out;
            };
            self.detect(first);
        }
        loop {
            let step = match &mut self.deframer {
                Deframer::Detect => return out,
                Deframer::Length(d) => d.decode(&mut input).map(|p| p.map(&mut on_packet)),
                Deframer::Slip(d) => d.decode(&mut input).map(|p| p.map(&mut on_packet)),
            };
            match step {
                Ok(Some(())) => out.packets += 1,
                Ok(None) => return out,
                Err(osc_codec::Error::FrameTooLarge { size, limit }) => {
                    log::warn!(
                        "connection from {}: skipping a {size}-byte packet (limit {limit})",
                        self.peer
                    );
                    out.oversized += 1;
                }
                Err(e) => {
                    log::warn!("connection from {}: {e}; closing", self.peer);
                    out.malformed = Some(e.to_string());
                    return out;
                }
            }
        }
    }

    fn detect(&mut self, first: u8) {
        let max = self.limits.max_packet_size;
        self.deframer = match Framing::detect(first) {
            Some(Framing::Slip) => {
                self.framing = StreamFraming::Slip;
                Deframer::Slip(SlipDecoder::new(max))
            }
            _ => {
                self.framing = StreamFraming::LengthPrefix;
                Deframer::Length(LengthDecoder::new(max))
            }
        };
        log::debug!(
            "connection from {}: detected {:?} framing",
            self.peer,
            self.framing
        );
    }
}

impl Deframed {
    /// The drops this report stands for, as `(reason, how many)`.
    pub fn drops(&self) -> impl Iterator<Item = (DropReason, usize)> {
        [
            (DropReason::Oversized, self.oversized),
            (
                DropReason::MalformedFrame,
                usize::from(self.malformed.is_some()),
            ),
        ]
        .into_iter()
        .filter(|&(_, n)| n > 0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:9".parse().unwrap()
    }

    fn small_limits() -> StreamLimits {
        StreamLimits {
            max_packet_size: 64,
            max_write_buffer: 100,
            nodelay: true,
        }
    }

    fn packets() -> Vec<Vec<u8>> {
        vec![
            b"/a\0\0,\0\0\0".to_vec(),
            b"/bb\0,i\0\0\0\0\0\x07".to_vec(),
            // Bytes SLIP must escape.
            b"/c\0\0,b\0\0\0\0\0\x04\xc0\xdb\xc0\xdb".to_vec(),
        ]
    }

    /// Frames `packets` as the sending side of this framing would.
    fn wire(framing: StreamFraming, packets: &[Vec<u8>]) -> Vec<u8> {
        let mut sender = StreamMachine::new(peer(), framing, StreamLimits::default());
        for p in packets {
            sender.queue(p).unwrap();
        }
        sender.to_write().to_vec()
    }

    fn deliver(m: &mut StreamMachine, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Deframed) {
        let mut got = Vec::new();
        let mut total = Deframed::default();
        for c in chunks {
            let r = m.on_bytes(c, |p| got.push(p.to_vec()));
            total.packets += r.packets;
            total.oversized += r.oversized;
            total.malformed = total.malformed.or(r.malformed);
        }
        (got, total)
    }

    #[test]
    fn every_framing_survives_a_split_at_every_byte() {
        for (send, recv) in [
            (StreamFraming::LengthPrefix, StreamFraming::LengthPrefix),
            (StreamFraming::Slip, StreamFraming::Slip),
            (StreamFraming::LengthPrefix, StreamFraming::Auto),
            (StreamFraming::Slip, StreamFraming::Auto),
        ] {
            let bytes = wire(send, &packets());
            for cut in 0..=bytes.len() {
                for cut2 in cut..=bytes.len() {
                    let mut m = StreamMachine::new(peer(), recv, StreamLimits::default());
                    let (got, report) =
                        deliver(&mut m, &[&bytes[..cut], &bytes[cut..cut2], &bytes[cut2..]]);
                    assert_eq!(got, packets(), "{send:?}->{recv:?} cut at {cut},{cut2}");
                    assert_eq!(report.packets, 3);
                    assert_eq!(m.buffered(), 0);
                    assert_eq!(m.framing(), send);
                }
            }
        }
    }

    #[test]
    fn single_end_slip_frames_are_accepted() {
        let mut m = StreamMachine::new(peer(), StreamFraming::Slip, StreamLimits::default());
        let (got, _) = deliver(&mut m, &[b"/a\0\0,\0\0\0\xc0/b\0\0,\0\0\0\xc0"]);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn an_oversized_packet_is_skipped_and_the_stream_goes_on() {
        for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
            let big = vec![b'x'; 100];
            let mut all = packets();
            all.insert(1, big);
            let bytes = wire(framing, &all);
            let mut m = StreamMachine::new(peer(), framing, small_limits());
            for chunk_size in [1, 3, bytes.len()] {
                let chunks: Vec<&[u8]> = bytes.chunks(chunk_size).collect();
                let (got, report) = deliver(&mut m, &chunks);
                assert_eq!(got, packets(), "{framing:?} in chunks of {chunk_size}");
                assert_eq!(report.oversized, 1);
                assert_eq!(
                    report.drops().collect::<Vec<_>>(),
                    [(DropReason::Oversized, 1)]
                );
            }
        }
    }

    #[test]
    fn a_negative_length_is_malformed_and_stops_reading() {
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
        let mut got = 0;
        let r = m.on_bytes(b"\xff\xff\xff\xf0/a\0\0,\0\0\0", |_| got += 1);
        assert!(r.malformed.is_some());
        assert_eq!(got, 0);
        assert_eq!(
            r.drops().collect::<Vec<_>>(),
            [(DropReason::MalformedFrame, 1)]
        );
    }

    #[test]
    fn eof_reports_the_bytes_of_an_incomplete_packet() {
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
        m.on_bytes(b"\0\0\0\x08/a\0", |_| {});
        assert_eq!(m.on_eof(), 7);
        let mut m = StreamMachine::new(peer(), StreamFraming::Auto, small_limits());
        assert_eq!(m.on_eof(), 0);
        assert_eq!(m.framing(), StreamFraming::Auto);
    }

    #[test]
    fn the_write_buffer_is_bounded_and_refusals_carry_the_limit() {
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
        assert_eq!(
            m.queue(&[0; 65]),
            Err(Refusal::TooLarge {
                size: 65,
                limit: 64
            })
        );
        m.queue(&[0; 60]).unwrap();
        assert_eq!(
            m.queue(&[0; 40]),
            Err(Refusal::QueueFull {
                limit: 100,
                unit: "bytes"
            })
        );
        assert_eq!(m.pending(), 64);
        // Partly written: the rest stays in order and room comes back.
        m.wrote(50);
        assert_eq!(m.pending(), 14);
        m.queue(&[1; 32]).unwrap();
        assert_eq!(m.pending(), 50);
        assert_eq!(&m.to_write()[14..18], &[0, 0, 0, 32]);
        m.wrote(usize::MAX);
        assert_eq!((m.pending(), m.to_write()), (0, &[][..]));
    }

    #[test]
    fn replies_use_the_detected_framing() {
        let mut m = StreamMachine::new(peer(), StreamFraming::Auto, StreamLimits::default());
        m.queue(b"/r\0\0,\0\0\0").unwrap();
        assert_eq!(&m.to_write()[..4], &[0, 0, 0, 8]);
        m.wrote(12);
        m.on_bytes(b"\xc0/a\0\0,\0\0\0\xc0", |_| {});
        m.queue(b"/r\0\0,\0\0\0").unwrap();
        assert_eq!(m.to_write(), b"\xc0/r\0\0,\0\0\0\xc0");
    }
}
