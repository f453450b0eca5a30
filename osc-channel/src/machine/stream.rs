//! One stream connection without its socket: deframing what arrives, framing and
//! buffering what leaves.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use osc_codec::framing::{
    Framing, LengthDecoder, RETAINED, SlipDecoder, length_prefix, slip_encode,
};

use crate::{DropReason, StreamFraming, StreamLimits};

use super::Refusal;

#[derive(Debug)]
enum Deframer {
    /// Auto-detect: waiting for the first byte.
    Detect,
    Length(LengthDecoder),
    Slip(SlipDecoder),
    WebSocket(Box<super::ws::WsFramer>),
}

/// What a [`StreamMachine::on_bytes`] call found besides the packets it delivered.
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
    /// ([`StreamMachine::has_leftover`]).
    pub more: bool,
    /// WebSocket text messages, ignored (OSC packets travel in binary messages).
    pub not_binary: usize,
    /// The peer ended the stream cleanly (a WebSocket close): close it.
    pub ended: bool,
}

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

/// A stream connection's protocol state (TCP and Unix streams; any byte stream): the incoming
/// deframer (length prefix, SLIP, or detected from the first byte) and the outgoing
/// buffer of framed packets, with their limits (TCP and Unix streams). It never touches a socket: the driver
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
/// let now = std::time::Instant::now();
/// conn.on_bytes(now, b"\0\0\0\x08/a\0", 64, |p| got.push(p.to_vec()));
/// let report = conn.on_bytes(now, b"\0,\0\0\0", 64, |p| got.push(p.to_vec()));
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
    /// Input read but not deframed yet: the packet budget of a call ran out. Its
    /// first `leftover_pos` bytes were deframed since (a turn advances the position
    /// instead of copying the rest again).
    leftover: Vec<u8>,
    leftover_pos: usize,
    timeouts: StreamTimeouts,
    opened: Option<Instant>,
    last_input: Option<Instant>,
    /// When the frame in progress started (its first byte arrived).
    frame_since: Option<Instant>,
    packets: u64,
    /// A WebSocket server's accepted `Origin`s (`None`: any).
    ws_origins: Option<std::sync::Arc<[String]>>,
    /// The length-prefix decoder stands between two frames (it returned a packet,
    /// or none was started): whole frames in the input can be handed out in place.
    length_idle: bool,
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
            StreamFraming::WebSocket => Deframer::WebSocket(Box::new(super::ws::WsFramer::server(
                limits.max_packet_size,
                Default::default(),
            ))),
        };
        StreamMachine {
            peer,
            deframer,
            framing,
            wbuf: Vec::new(),
            wpos: 0,
            limits,
            leftover: Vec::new(),
            leftover_pos: 0,
            timeouts: StreamTimeouts::default(),
            opened: None,
            last_input: None,
            frame_since: None,
            packets: 0,
            ws_origins: None,
            length_idle: true,
        }
    }

    /// As a WebSocket server (declared or detected), accepts only handshakes whose
    /// `Origin` is one of `origins` (`None`: any); others get `403 Forbidden`.
    pub fn with_ws_origins(mut self, origins: Option<Vec<String>>) -> Self {
        self.ws_origins = origins.map(std::sync::Arc::from);
        if let (Deframer::WebSocket(_), StreamFraming::WebSocket) = (&self.deframer, self.framing) {
            if self.ws_origins.is_some() && self.packets == 0 {
                self.deframer = Deframer::WebSocket(Box::new(super::ws::WsFramer::server(
                    self.limits.max_packet_size,
                    super::ws::OriginCheck(self.ws_origins.clone()),
                )));
            }
        }
        self
    }

    /// The client side of a WebSocket connection to `url` (`ws://host:port/path`): the
    /// handshake request waits in [`to_write`](Self::to_write) at once; packets queued
    /// before the answer leave after it.
    ///
    /// ```
    /// use osc_channel::machine::StreamMachine;
    /// use osc_channel::StreamLimits;
    /// let peer = "127.0.0.1:9000".parse().unwrap();
    /// let m = StreamMachine::websocket_client(peer, "ws://127.0.0.1:9000/osc", StreamLimits::default())?;
    /// assert!(m.to_write().starts_with(b"GET /osc HTTP/1.1\r\n"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn websocket_client(
        peer: SocketAddr,
        url: &str,
        limits: StreamLimits,
    ) -> Result<Self, String> {
        let framer = super::ws::WsFramer::client(url, limits.max_packet_size)?;
        let mut m = StreamMachine::new(peer, StreamFraming::LengthPrefix, limits);
        framer.take_output(&mut m.wbuf);
        m.deframer = Deframer::WebSocket(Box::new(framer));
        m.framing = StreamFraming::WebSocket;
        Ok(m)
    }

    /// Starts the clocks of `timeouts` at `now` (the connection opened then).
    pub fn with_timeouts(mut self, now: Instant, timeouts: StreamTimeouts) -> Self {
        self.timeouts = timeouts;
        self.opened = Some(now);
        self.last_input = Some(now);
        self
    }

    /// Complete packets received so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The next time a limit of [`StreamTimeouts`] may expire (check it with
    /// [`expired`](Self::expired) then).
    pub fn deadline(&self) -> Option<Instant> {
        let t = self.timeouts;
        let frame = self.frame_since.zip(t.frame);
        let first = self
            .opened
            .filter(|_| self.packets == 0)
            .zip(t.first_packet);
        let idle = self.last_input.zip(t.idle);
        [frame, first, idle]
            .into_iter()
            .flatten()
            .filter_map(|(since, wait)| super::deadline(since, wait))
            .min()
    }

    /// The limit broken at `now`, if one is.
    pub fn expired(&self, now: Instant) -> Option<Timeout> {
        let t = self.timeouts;
        let past = |since: Option<Instant>, wait: Option<Duration>| {
            since
                .zip(wait)
                .and_then(|(s, w)| super::deadline(s, w))
                .is_some_and(|d| d <= now)
        };
        if past(self.frame_since, t.frame) {
            Some(Timeout::Frame)
        } else if self.packets == 0 && past(self.opened, t.first_packet) {
            Some(Timeout::FirstPacket)
        } else if past(self.last_input, t.idle) {
            Some(Timeout::Idle)
        } else {
            None
        }
    }

    /// Whether a full server may close this connection for a newcomer, and since when
    /// it has deserved it (the oldest goes first): one that never completed a packet
    /// (since it opened), one in the middle of a frame (since the frame started), and
    /// otherwise one silent for [`EVICT_IDLE_AFTER`] (since its last input). The
    /// boolean says whether it is of the first two kinds, which go before idle ones.
    pub fn evictable(&self, now: Instant) -> Option<(bool, Instant)> {
        if self.packets == 0 {
            return self.opened.map(|t| (true, t));
        }
        if let Some(t) = self.frame_since {
            return Some((true, t));
        }
        self.last_input
            .filter(|t| now.saturating_duration_since(*t) >= EVICT_IDLE_AFTER)
            .map(|t| (false, t))
    }

    /// Bytes this connection holds allocated: the deframer's buffer, input kept for
    /// the next call, and the write buffer.
    pub fn held(&self) -> usize {
        let deframer = match &self.deframer {
            Deframer::Detect => 0,
            Deframer::Length(d) => d.capacity(),
            Deframer::Slip(d) => d.capacity(),
            Deframer::WebSocket(w) => w.held(),
        };
        deframer + self.leftover.capacity() + self.wbuf.capacity()
    }

    /// Whether input is kept for the next [`on_bytes`](Self::on_bytes) call.
    pub fn has_leftover(&self) -> bool {
        match &self.deframer {
            Deframer::WebSocket(w) => w.has_input(),
            _ => self.leftover.len() > self.leftover_pos,
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

    /// Bytes not yet sent: those waiting to be written, and the packets a WebSocket
    /// client queued before its handshake completed (not framed yet).
    ///
    /// ```
    /// use osc_channel::StreamLimits;
    /// use osc_channel::machine::StreamMachine;
    /// let peer = "127.0.0.1:9000".parse().unwrap();
    /// let mut client = StreamMachine::websocket_client(peer, "ws://127.0.0.1:9000/", StreamLimits::default())?;
    /// let request = client.pending(); // the handshake request
    /// client.queue(b"/a\0\0,\0\0\0").unwrap();
    /// assert_eq!(client.pending(), request); // held until the server answers
    /// assert_eq!(client.unsent(), request + 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unsent(&self) -> usize {
        let early = match &self.deframer {
            Deframer::WebSocket(w) => w.early_bytes(),
            _ => 0,
        };
        self.pending() + early
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
            self.wbuf.shrink_to(RETAINED);
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
            // A binary message's header is at most 14 bytes.
            _ => data.len().saturating_add(14),
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
        if let Deframer::WebSocket(w) = &mut self.deframer {
            w.send(data).map_err(|_| Refusal::QueueFull {
                limit: self.limits.max_write_buffer,
                unit: "bytes",
            })?;
            w.take_output(&mut self.wbuf);
            return Ok(());
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
            Deframer::WebSocket(w) => w.buffered(),
        }
    }

    /// The stream ended: returns the bytes of an incomplete packet that are lost
    /// (0 when the stream ended between packets).
    pub fn on_eof(&mut self) -> usize {
        self.buffered()
    }

    /// Feeds bytes read from the stream at `now`, in any pieces; `on_packet` receives
    /// each complete packet (borrowed: copy or decode it before returning). At most
    /// `budget` packets are delivered: the rest of the input is kept and deframed
    /// first by the next call (`Deframed::more`), so that one busy connection takes
    /// its turn like the others.
    pub fn on_bytes(
        &mut self,
        now: Instant,
        input: &[u8],
        budget: usize,
        mut on_packet: impl FnMut(&[u8]),
    ) -> Deframed {
        let mut out = Deframed::default();
        if !input.is_empty() {
            self.last_input = Some(now);
        }
        if let Deframer::Detect = self.deframer {
            if input.first() == Some(&b'G') {
                self.deframer = Deframer::WebSocket(Box::new(super::ws::WsFramer::server(
                    self.limits.max_packet_size,
                    super::ws::OriginCheck(self.ws_origins.clone()),
                )));
                self.framing = StreamFraming::WebSocket;
            }
        }
        if let Deframer::WebSocket(w) = &mut self.deframer {
            let fed = w.feed(input, budget, &mut on_packet);
            w.take_output(&mut self.wbuf);
            self.packets += fed.packets as u64;
            out.packets = fed.packets;
            out.more = fed.more;
            out.not_binary = fed.text;
            out.ended = fed.closed;
            out.malformed = fed.error;
            self.frame_since = match (self.buffered(), self.frame_since) {
                (0, _) => None,
                (_, None) => Some(now),
                (_, since) => since,
            };
            return out;
        }
        let mut kept = std::mem::take(&mut self.leftover);
        let from = std::mem::take(&mut self.leftover_pos).min(kept.len());
        let rest = self
            .deframe(
                kept.get(from..).unwrap_or_default(),
                budget,
                &mut out,
                &mut on_packet,
            )
            .len();
        let stopped = out.more || out.malformed.is_some();
        if stopped {
            // The `rest` of the kept input, then all of the new input, wait. Without
            // new input the kept buffer stays as it is and only the position moves:
            // copying the rest on every turn would copy a large read once per 64
            // packets.
            let consumed = kept.len() - rest;
            if input.is_empty() {
                self.leftover_pos = consumed;
            } else {
                kept.drain(..consumed);
                kept.extend_from_slice(input);
            }
            self.leftover = kept;
        } else {
            let left = budget.saturating_sub(out.packets);
            let rest = self.deframe(input, left, &mut out, &mut on_packet);
            self.leftover = rest.to_vec();
        }
        if out.malformed.is_some() {
            self.leftover = Vec::new();
            self.leftover_pos = 0;
        }
        self.frame_since = match (self.buffered(), self.frame_since) {
            (0, _) => None,
            (_, None) => Some(now),
            (_, since) => since,
        };
        match &mut self.deframer {
            Deframer::Detect | Deframer::WebSocket(_) => {}
            Deframer::Length(d) => d.shrink(),
            Deframer::Slip(d) => d.shrink(),
        }
        out
    }

    /// Deframes `input` until `budget` packets were delivered; returns what is left.
    fn deframe<'i>(
        &mut self,
        mut input: &'i [u8],
        budget: usize,
        out: &mut Deframed,
        on_packet: &mut impl FnMut(&[u8]),
    ) -> &'i [u8] {
        if let Deframer::Detect = self.deframer {
            let Some(&first) = input.first() else {
                return input;
            };
            if let Err(why) = self.detect(first) {
                out.malformed = Some(why);
                return &[];
            }
        }
        let mut delivered = 0;
        loop {
            if delivered >= budget && !input.is_empty() {
                out.more = true;
                return input;
            }
            let step = match &mut self.deframer {
                Deframer::Detect | Deframer::WebSocket(_) => return input,
                Deframer::Length(d) => {
                    // Between frames, a whole frame in the input is handed out where it
                    // lies (the decoder would copy it into its buffer first); anything
                    // else (a part, an empty, oversized or negative size) goes to the
                    // decoder, which is in the state it would be in anyway.
                    let max = self.limits.max_packet_size;
                    if let Some((packet, rest)) =
                        whole_frame(input, max).filter(|_| self.length_idle)
                    {
                        on_packet(packet);
                        input = rest;
                        Ok(Some(()))
                    } else if input.is_empty() && self.length_idle {
                        Ok(None) // an idle decoder has nothing to hand out
                    } else {
                        let fed = !input.is_empty();
                        let step = d.decode(&mut input).map(|p| p.map(&mut *on_packet));
                        if fed {
                            self.length_idle = matches!(step, Ok(Some(())));
                        }
                        step
                    }
                }
                Deframer::Slip(d) => d.decode(&mut input).map(|p| p.map(&mut *on_packet)),
            };
            match step {
                Ok(Some(())) => {
                    delivered += 1;
                    out.packets += 1;
                    self.packets += 1;
                }
                Ok(None) => return input,
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
                    return &[];
                }
            }
        }
    }

    /// Chooses the framing from the first byte; a byte that fits neither is refused
    /// (a guess would read the next bytes as a length, and wait for up to 2 GB).
    fn detect(&mut self, first: u8) -> Result<(), String> {
        let max = self.limits.max_packet_size;
        self.deframer = match Framing::detect(first) {
            Some(Framing::Slip) => {
                self.framing = StreamFraming::Slip;
                Deframer::Slip(SlipDecoder::new(max))
            }
            Some(Framing::LengthPrefix) => {
                self.framing = StreamFraming::LengthPrefix;
                Deframer::Length(LengthDecoder::new(max))
            }
            None => {
                let why = format!(
                    "first byte 0x{first:02x} is neither a length prefix (0x00) nor SLIP (0xc0, '/', '#')"
                );
                log::warn!("connection from {}: {why}; closing", self.peer);
                return Err(why);
            }
        };
        log::debug!(
            "connection from {}: detected {:?} framing",
            self.peer,
            self.framing
        );
        Ok(())
    }
}

/// The packet of the whole length-prefixed frame that starts `input`, and the bytes
/// after it, when its size is one a [`LengthDecoder`] hands out as it is (1 to `max`
/// bytes).
#[inline]
fn whole_frame(input: &[u8], max: usize) -> Option<(&[u8], &[u8])> {
    let (size, rest) = input.split_first_chunk::<4>()?;
    let size = usize::try_from(i32::from_be_bytes(*size))
        .ok()
        .filter(|&n| n > 0 && n <= max)?;
    rest.split_at_checked(size)
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
            (DropReason::NotBinary, self.not_binary),
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
            frame_timeout: None,
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
            let r = m.on_bytes(Instant::now(), c, usize::MAX, |p| got.push(p.to_vec()));
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
    fn whole_length_frames_are_handed_out_in_place_and_the_rest_decoded() {
        let frame = |body: &[u8]| {
            let mut f = (body.len() as u32).to_be_bytes().to_vec();
            f.extend_from_slice(body);
            f
        };
        let [a, b, c]: [Vec<u8>; 3] = packets().try_into().unwrap();
        // A whole frame, an empty one, one over the limit (64), a whole one, then the
        // start of one that the next read completes.
        let mut bytes = frame(&a);
        bytes.extend(frame(&[]));
        bytes.extend(frame(&[0; 65]));
        bytes.extend(frame(&b));
        let split = frame(&c);
        bytes.extend_from_slice(&split[..6]);
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
        let (got, report) = deliver(&mut m, &[&bytes]);
        assert_eq!(got, [a.clone(), b.clone()]);
        assert_eq!(report.oversized, 1);
        assert_eq!(m.buffered(), 6);
        let (got, _) = deliver(&mut m, &[&split[6..], &frame(&a)]);
        assert_eq!(got, [c, a]);
        assert_eq!(m.buffered(), 0);
        // A frame read whole is never copied: the connection holds no buffer for it.
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
        let (got, _) = deliver(&mut m, &[&frame(&b)]);
        assert_eq!(got, [b]);
        assert_eq!(m.held(), 0);
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
        let r = m.on_bytes(
            Instant::now(),
            b"\xff\xff\xff\xf0/a\0\0,\0\0\0",
            usize::MAX,
            |_| got += 1,
        );
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
        m.on_bytes(Instant::now(), b"\0\0\0\x08/a\0", usize::MAX, |_| {});
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
        m.on_bytes(Instant::now(), b"\xc0/a\0\0,\0\0\0\xc0", usize::MAX, |_| {});
        m.queue(b"/r\0\0,\0\0\0").unwrap();
        assert_eq!(m.to_write(), b"\xc0/r\0\0,\0\0\0\xc0");
    }

    fn frames(n: usize) -> Vec<u8> {
        wire(
            StreamFraming::LengthPrefix,
            &(0..n)
                .map(|i| {
                    let mut p = b"/n\0\0,i\0\0".to_vec();
                    p.extend_from_slice(&(i as u32).to_be_bytes());
                    p
                })
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn the_packet_budget_keeps_the_rest_for_the_next_turn_in_order() {
        let t = Instant::now();
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
        let bytes = frames(100);
        let mut got = Vec::new();
        let r = m.on_bytes(t, &bytes[..700], 10, |p| got.push(p[11]));
        assert_eq!((r.packets, r.more, m.has_leftover()), (10, true, true));
        // Later input queues behind what was kept.
        let r = m.on_bytes(t, &bytes[700..], 25, |p| got.push(p[11]));
        assert_eq!((r.packets, r.more), (25, true));
        while m.has_leftover() {
            let r = m.on_bytes(t, &[], 30, |p| got.push(p[11]));
            assert!(r.packets <= 30);
        }
        assert_eq!(got, (0..100).map(|i| i as u8).collect::<Vec<_>>());
        assert_eq!(m.packets(), 100);
    }

    #[test]
    fn a_turn_without_new_input_does_not_copy_what_is_kept() {
        // Copying the rest of a large read on every turn of 64 packets cost a busy
        // connection about 10 ns per packet; the kept buffer stays, its position moves.
        let t = Instant::now();
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits());
        let bytes = frames(100);
        let mut got = 0;
        m.on_bytes(t, &bytes, 10, |_| got += 1);
        let held = m.held();
        while m.has_leftover() {
            m.on_bytes(t, &[], 10, |_| got += 1);
            if m.has_leftover() {
                assert_eq!(m.held(), held, "the kept input was copied");
            }
        }
        assert_eq!(got, 100);
        // Once drained, the kept buffer is given back.
        assert!(m.held() < held);
    }

    fn timed(t: Instant, timeouts: StreamTimeouts) -> StreamMachine {
        StreamMachine::new(peer(), StreamFraming::LengthPrefix, small_limits())
            .with_timeouts(t, timeouts)
    }

    #[test]
    fn a_frame_left_unfinished_times_out() {
        let s = Duration::from_secs(1);
        let t0 = Instant::now();
        let mut m = timed(
            t0,
            StreamTimeouts {
                frame: Some(10 * s),
                ..StreamTimeouts::default()
            },
        );
        assert_eq!(m.deadline(), None);
        m.on_bytes(t0 + s, b"\0\0", 64, |_| {});
        assert_eq!(m.deadline(), Some(t0 + 11 * s));
        // More bytes of the same frame do not move the deadline: a trickle is no escape.
        m.on_bytes(t0 + 5 * s, b"\0\x08/a", 64, |_| {});
        assert_eq!(m.expired(t0 + 10 * s), None);
        assert_eq!(m.expired(t0 + 11 * s), Some(Timeout::Frame));
        // Finishing the frame ends the clock.
        m.on_bytes(t0 + 10 * s, b"\0\0,\0\0\0", 64, |_| {});
        assert_eq!((m.deadline(), m.expired(t0 + 100 * s)), (None, None));
    }

    #[test]
    fn first_packet_and_idle_timeouts() {
        let s = Duration::from_secs(1);
        let t0 = Instant::now();
        let limits = StreamTimeouts {
            first_packet: Some(60 * s),
            idle: Some(300 * s),
            ..StreamTimeouts::default()
        };
        let mut silent = timed(t0, limits);
        assert_eq!(silent.deadline(), Some(t0 + 60 * s));
        assert_eq!(silent.expired(t0 + 60 * s), Some(Timeout::FirstPacket));
        let mut m = timed(t0, limits);
        m.on_bytes(t0 + s, &frames(1), 64, |_| {});
        assert_eq!(m.deadline(), Some(t0 + 301 * s));
        assert_eq!(m.expired(t0 + 300 * s), None);
        assert_eq!(m.expired(t0 + 301 * s), Some(Timeout::Idle));
        // Without limits nothing ever expires, and Duration::MAX is "never".
        let never = StreamTimeouts {
            frame: Some(Duration::MAX),
            first_packet: Some(Duration::MAX),
            idle: Some(Duration::MAX),
        };
        silent = timed(t0, never);
        silent.on_bytes(t0, b"\0", 64, |_| {});
        assert_eq!(
            (silent.deadline(), silent.expired(t0 + 1000 * s)),
            (None, None)
        );
    }

    #[test]
    fn eviction_prefers_silent_and_partial_connections() {
        let s = Duration::from_secs(1);
        let t0 = Instant::now();
        let mut fresh = timed(t0, StreamTimeouts::default());
        assert_eq!(fresh.evictable(t0), Some((true, t0)));
        fresh.on_bytes(t0 + s, &frames(1), 64, |_| {});
        // Active: not evictable until silent for EVICT_IDLE_AFTER.
        assert_eq!(fresh.evictable(t0 + 2 * s), None);
        assert_eq!(
            fresh.evictable(t0 + s + EVICT_IDLE_AFTER),
            Some((false, t0 + s))
        );
        fresh.on_bytes(t0 + 2 * s, b"\0\0", 64, |_| {});
        assert_eq!(fresh.evictable(t0 + 3 * s), Some((true, t0 + 2 * s)));
    }

    #[test]
    fn memory_held_goes_back_after_a_large_packet() {
        let limits = StreamLimits {
            max_packet_size: 1 << 20,
            max_write_buffer: 4 << 20,
            ..StreamLimits::default()
        };
        let t = Instant::now();
        let mut m = StreamMachine::new(peer(), StreamFraming::LengthPrefix, limits);
        let big = vec![b'/'; 600 << 10];
        let bytes = wire(StreamFraming::LengthPrefix, std::slice::from_ref(&big));
        m.on_bytes(t, &bytes[..bytes.len() - 1], 64, |_| {});
        assert!(m.held() >= (600 << 10) - 1);
        m.on_bytes(t, &bytes[bytes.len() - 1..], 64, |_| {});
        assert!(m.held() <= RETAINED, "held {}", m.held());
        m.queue(&big).unwrap();
        assert!(m.held() >= 600 << 10);
        m.wrote(m.pending());
        assert!(m.held() <= 2 * RETAINED, "held {}", m.held());
    }

    #[test]
    fn auto_detection_refuses_a_first_byte_that_fits_no_framing() {
        let mut m = StreamMachine::new(peer(), StreamFraming::Auto, StreamLimits::default());
        let r = m.on_bytes(Instant::now(), b"xyz\0", 64, |_| panic!("no packet"));
        assert!(r.malformed.unwrap().contains("0x78"));
        assert_eq!(m.framing(), StreamFraming::Auto);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod ws_tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:9".parse().unwrap()
    }

    /// Moves what `from` has to write into `to`, delivering packets to `got`.
    fn pump(from: &mut StreamMachine, to: &mut StreamMachine, got: &mut Vec<Vec<u8>>) -> Deframed {
        let bytes = from.to_write().to_vec();
        from.wrote(bytes.len());
        to.on_bytes(Instant::now(), &bytes, usize::MAX, |p| got.push(p.to_vec()))
    }

    #[test]
    fn a_websocket_client_and_server_machine_talk_without_sockets() {
        let limits = StreamLimits::default();
        let mut client =
            StreamMachine::websocket_client(peer(), "ws://127.0.0.1:9/osc", limits).unwrap();
        let mut server = StreamMachine::new(peer(), StreamFraming::Auto, limits);
        client.queue(b"/early\0\0,\0\0\0").unwrap();
        let (mut at_server, mut at_client) = (Vec::new(), Vec::new());
        for _ in 0..4 {
            let r = pump(&mut client, &mut server, &mut at_server);
            assert!(r.malformed.is_none(), "{r:?}");
            let r = pump(&mut server, &mut client, &mut at_client);
            assert!(r.malformed.is_none(), "{r:?}");
        }
        assert_eq!(server.framing(), StreamFraming::WebSocket);
        assert_eq!(at_server, [b"/early\0\0,\0\0\0".to_vec()]);
        server.queue(b"/back\0\0\0,\0\0\0").unwrap();
        pump(&mut server, &mut client, &mut at_client);
        assert_eq!(at_client, [b"/back\0\0\0,\0\0\0".to_vec()]);
        assert_eq!((server.buffered(), client.buffered()), (0, 0));
    }
}
