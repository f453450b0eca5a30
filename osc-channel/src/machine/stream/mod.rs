//! One stream connection without its socket: deframing what arrives, framing and
//! buffering what leaves.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use osc_codec::framing::{
    Framing, LengthDecoder, RETAINED, SlipDecoder, length_prefix, slip_encode,
};

use crate::{StreamFraming, StreamLimits};

use super::Refusal;

mod report;
mod timeouts;

pub use report::Deframed;
pub use timeouts::{EVICT_IDLE_AFTER, StreamTimeouts, Timeout};

#[derive(Debug)]
enum Deframer {
    /// Auto-detect: waiting for the first byte.
    Detect,
    Length(LengthDecoder),
    Slip(SlipDecoder),
    WebSocket(Box<super::ws::WsFramer>),
}

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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod ws_tests;
