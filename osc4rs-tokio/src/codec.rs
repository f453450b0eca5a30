//! `OscCodec`: tokio-util `Decoder`/`Encoder` for OSC streams (OSC 1.0 length prefix,
//! OSC 1.1 SLIP, or detected from the first byte), on osc-codec's sans-I/O deframers.

use bytes::{Buf, BufMut, BytesMut};
use osc_codec::framing::{
    Framing, LengthDecoder, SlipDecoder, length_prefix, slip_encode_into, slip_encoded_len,
};
use osc_codec::{Options, Packet, PacketRef};
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Which framing an [`OscCodec`] reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamFraming {
    /// OSC 1.0: a big-endian int32 size before each packet.
    #[default]
    LengthPrefix,
    /// OSC 1.1: SLIP (RFC 1055), `END packet END` (`packet END` accepted).
    Slip,
    /// Decided from the first byte received (0x00: length prefix; 0xC0, `/` or `#`:
    /// SLIP). Packets written before that byte arrives use the length prefix.
    Auto,
}

#[derive(Debug)]
enum Deframer {
    Detect,
    Length(LengthDecoder),
    Slip(SlipDecoder),
}

/// One decoded stream item: a packet, or a bad frame that was skipped (the stream goes
/// on). See [`OscCodec`] for which errors end the stream instead.
pub type Frame = Result<Packet, Error>;

/// A tokio-util codec for OSC over byte streams, so that
/// `Framed<TcpStream, OscCodec>` is a `Stream` of [`Frame`]s and a `Sink` of packets.
///
/// Deframing is osc-codec's [`LengthDecoder`] and [`SlipDecoder`]: packets split
/// anywhere, several per read, and at most `max_packet` bytes buffered for one packet.
///
/// # Bad input
/// - A frame over `max_packet` (an absurd length prefix, an endless SLIP frame):
///   the item `Ok(Err(Error::FrameTooLarge))`, once; its bytes are skipped as they
///   arrive (for a length prefix, as many as it announced; for SLIP, up to the next
///   `END`) and the stream goes on.
/// - A frame that is not a valid OSC packet: the item `Ok(Err(Error::Malformed))`, and
///   the stream goes on.
/// - A negative length prefix, or (with [`StreamFraming::Auto`]) a first byte that
///   fits neither framing: `Err(Error::BadFrameSize)` / `Err(Error::UnknownFraming)`.
///   tokio-util ends a framed stream after a decoder error: the next item is `None`;
///   close the connection.
/// - The stream ending inside a frame: the item `Ok(Err(Error::TruncatedFrame))`, then
///   the end.
///
/// ```
/// use bytes::BytesMut;
/// use osc4rs_tokio::{OscCodec, StreamFraming};
/// use osc_codec::{Message, Packet};
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = OscCodec::new(StreamFraming::Slip);
/// let mut wire = BytesMut::new();
/// codec.encode(Packet::from(Message::new("/a").arg(1)), &mut wire)?;
/// codec.encode(Packet::from(Message::new("/b").arg(2)), &mut wire)?;
///
/// let mut first = wire.split_to(5); // bytes arrive in pieces
/// assert!(codec.decode(&mut first)?.is_none());
/// wire.unsplit(first);
/// let a = codec.decode(&mut wire)?.unwrap()?;
/// let b = codec.decode(&mut wire)?.unwrap()?;
/// assert_eq!((a, b), (Message::new("/a").arg(1).into(), Message::new("/b").arg(2).into()));
/// # Ok::<(), osc4rs_tokio::Error>(())
/// ```
#[derive(Debug)]
pub struct OscCodec {
    framing: StreamFraming,
    deframer: Deframer,
    max_packet: usize,
    options: Options,
    scratch: Vec<u8>,
}

/// The default `max_packet` of an [`OscCodec`]: 1 MiB.
pub const DEFAULT_MAX_PACKET: usize = 1 << 20;

impl OscCodec {
    /// A codec for `framing`, with packets of at most [`DEFAULT_MAX_PACKET`] bytes.
    #[must_use]
    pub fn new(framing: StreamFraming) -> Self {
        OscCodec::with_limit(framing, DEFAULT_MAX_PACKET)
    }

    /// A codec accepting packets of at most `max_packet` bytes (each direction).
    ///
    /// ```
    /// let c = osc4rs_tokio::OscCodec::with_limit(osc4rs_tokio::StreamFraming::Auto, 4096);
    /// assert_eq!(c.max_packet(), 4096);
    /// ```
    #[must_use]
    pub fn with_limit(framing: StreamFraming, max_packet: usize) -> Self {
        OscCodec {
            framing,
            deframer: Deframer::Detect,
            max_packet,
            options: Options::default(),
            scratch: Vec::new(),
        }
        .reset()
    }

    /// Decodes and encodes packets with these codec options.
    #[must_use]
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The largest packet accepted.
    #[must_use]
    pub fn max_packet(&self) -> usize {
        self.max_packet
    }

    /// The framing configured ([`StreamFraming::Auto`] stays `Auto`; see
    /// [`detected`](Self::detected)).
    #[must_use]
    pub fn framing(&self) -> StreamFraming {
        self.framing
    }

    /// The framing in use: the configured one, or once detected the one the peer
    /// uses; `None` while `Auto` waits for the first byte.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use osc4rs_tokio::{OscCodec, StreamFraming};
    /// use tokio_util::codec::Decoder;
    ///
    /// let mut c = OscCodec::new(StreamFraming::Auto);
    /// assert_eq!(c.detected(), None);
    /// c.decode(&mut BytesMut::from(&[0xc0u8][..]))?;
    /// assert_eq!(c.detected(), Some(StreamFraming::Slip));
    /// # Ok::<(), osc4rs_tokio::Error>(())
    /// ```
    #[must_use]
    pub fn detected(&self) -> Option<StreamFraming> {
        match self.deframer {
            Deframer::Detect => None,
            Deframer::Length(_) => Some(StreamFraming::LengthPrefix),
            Deframer::Slip(_) => Some(StreamFraming::Slip),
        }
    }

    /// Bytes of an incomplete packet held by the deframer.
    #[must_use]
    pub fn buffered(&self) -> usize {
        match &self.deframer {
            Deframer::Detect => 0,
            Deframer::Length(d) => d.buffered(),
            Deframer::Slip(d) => d.buffered(),
        }
    }

    fn reset(mut self) -> Self {
        self.deframer = self.fresh_deframer(self.framing);
        self
    }

    fn fresh_deframer(&self, framing: StreamFraming) -> Deframer {
        match framing {
            StreamFraming::LengthPrefix => Deframer::Length(LengthDecoder::new(self.max_packet)),
            StreamFraming::Slip => Deframer::Slip(SlipDecoder::new(self.max_packet)),
            StreamFraming::Auto => Deframer::Detect,
        }
    }

    /// Frames already encoded packet bytes into `dst`.
    fn frame(&self, packet: &[u8], dst: &mut BytesMut) -> Result<(), Error> {
        if packet.len() > self.max_packet {
            return Err(Error::FrameTooLarge {
                size: packet.len(),
                limit: self.max_packet,
            });
        }
        match self.detected().unwrap_or(StreamFraming::LengthPrefix) {
            StreamFraming::Slip => {
                let n = slip_encoded_len(packet);
                let start = dst.len();
                dst.resize(start + n, 0);
                let room = dst.get_mut(start..).unwrap_or_default();
                slip_encode_into(packet, room).map_err(Error::Encode)?;
            }
            _ => {
                dst.reserve(4 + packet.len());
                dst.put_slice(&length_prefix(packet.len()).map_err(Error::Encode)?);
                dst.put_slice(packet);
            }
        }
        Ok(())
    }
}

impl Decoder for OscCodec {
    type Item = Frame;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, Error> {
        if let Deframer::Detect = self.deframer {
            let Some(&first) = src.first() else {
                return Ok(None);
            };
            let framing = match Framing::detect(first) {
                Some(Framing::Slip) => StreamFraming::Slip,
                Some(Framing::LengthPrefix) => StreamFraming::LengthPrefix,
                None => {
                    src.clear();
                    return Err(Error::UnknownFraming { first });
                }
            };
            log::debug!("osc4rs-tokio: detected {framing:?} framing");
            self.deframer = self.fresh_deframer(framing);
        }
        let mut input: &[u8] = src;
        let before = input.len();
        let step = match &mut self.deframer {
            Deframer::Detect => Ok(None),
            Deframer::Length(d) => d.decode(&mut input),
            Deframer::Slip(d) => d.decode(&mut input),
        };
        let consumed = before - input.len();
        let item = match step {
            Ok(Some(frame)) => Some(match osc_codec::decode_with(frame, &self.options) {
                Ok(packet) => Ok(packet.to_owned()),
                Err(source) => Err(Error::Malformed { peer: None, source }),
            }),
            Ok(None) => None,
            Err(osc_codec::Error::FrameTooLarge { size, limit }) => {
                log::warn!("osc4rs-tokio: skipping a {size}-byte frame (limit {limit})");
                Some(Err(Error::FrameTooLarge { size, limit }))
            }
            Err(osc_codec::Error::BadFrameSize { size }) => {
                src.clear();
                return Err(Error::BadFrameSize { size });
            }
            Err(other) => {
                src.clear();
                return Err(Error::Malformed {
                    peer: None,
                    source: other,
                });
            }
        };
        src.advance(consumed);
        if item.is_none() {
            match &mut self.deframer {
                Deframer::Detect => {}
                Deframer::Length(d) => d.shrink(),
                Deframer::Slip(d) => d.shrink(),
            }
        }
        Ok(item)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, Error> {
        if let Some(item) = self.decode(src)? {
            return Ok(Some(item));
        }
        let buffered = self.buffered();
        if buffered == 0 {
            return Ok(None);
        }
        self.deframer = self.fresh_deframer(self.detected().unwrap_or(self.framing));
        Ok(Some(Err(Error::TruncatedFrame { buffered })))
    }
}

impl Encoder<&Packet> for OscCodec {
    type Error = Error;

    fn encode(&mut self, packet: &Packet, dst: &mut BytesMut) -> Result<(), Error> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let result = packet
            .encode_to_vec(&mut scratch, &self.options)
            .map_err(Error::Encode)
            .and_then(|_| self.frame(&scratch, dst));
        self.scratch = scratch;
        result
    }
}

impl Encoder<Packet> for OscCodec {
    type Error = Error;

    fn encode(&mut self, packet: Packet, dst: &mut BytesMut) -> Result<(), Error> {
        self.encode(&packet, dst)
    }
}

impl Encoder<PacketRef<'_>> for OscCodec {
    type Error = Error;

    /// Frames a borrowed packet as it is (no re-encoding).
    fn encode(&mut self, packet: PacketRef<'_>, dst: &mut BytesMut) -> Result<(), Error> {
        self.frame(packet.as_bytes(), dst)
    }
}
