//! One TCP connection: deframing what arrives, framing and buffering what leaves.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use osc_codec::framing::{Framing, LengthDecoder, SlipDecoder, length_prefix, slip_encode};

use crate::{DropReason, StreamFraming, StreamLimits};

#[derive(Debug)]
enum Deframer {
    /// Auto-detect: waiting for the first byte.
    Detect,
    Length(LengthDecoder),
    Slip(SlipDecoder),
}

/// What reading produced, besides the packets handed to the callback.
#[derive(Debug, Default)]
pub(crate) struct ReadOutcome {
    /// The peer closed the connection (or it failed); close it on our side.
    pub(crate) closed: Option<&'static str>,
    /// Bytes of an incomplete packet lost if `closed`.
    pub(crate) truncated: usize,
    /// The per-event byte budget ran out before the socket said `WouldBlock`.
    pub(crate) more: bool,
    /// Packets skipped for being over the size limit.
    pub(crate) oversized: usize,
    /// A negative frame length was read: the stream is unusable.
    pub(crate) malformed: bool,
}

/// A TCP connection's state.
#[derive(Debug)]
pub(crate) struct StreamConn {
    pub(crate) stream: mio::net::TcpStream,
    pub(crate) peer: SocketAddr,
    deframer: Deframer,
    framing: StreamFraming,
    wbuf: Vec<u8>,
    wpos: usize,
    limits: StreamLimits,
}

impl StreamConn {
    pub(crate) fn new(
        stream: mio::net::TcpStream,
        peer: SocketAddr,
        framing: StreamFraming,
        limits: StreamLimits,
    ) -> Self {
        if limits.nodelay {
            let _ = stream.set_nodelay(true);
        }
        let deframer = match framing {
            StreamFraming::Auto => Deframer::Detect,
            StreamFraming::LengthPrefix => {
                Deframer::Length(LengthDecoder::new(limits.max_packet_size))
            }
            StreamFraming::Slip => Deframer::Slip(SlipDecoder::new(limits.max_packet_size)),
        };
        StreamConn {
            stream,
            peer,
            deframer,
            framing,
            wbuf: Vec::new(),
            wpos: 0,
            limits,
        }
    }

    /// Bytes waiting to be written.
    pub(crate) fn pending(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// Frames a packet into the write buffer; refuses it if that would pass the limit.
    pub(crate) fn queue(&mut self, data: &[u8]) -> Result<(), DropReason> {
        if data.len() > self.limits.max_packet_size {
            return Err(DropReason::Oversized);
        }
        let framed = match self.framing {
            StreamFraming::Slip => osc_codec::framing::slip_encoded_len(data),
            _ => data.len() + 4,
        };
        if self.pending() + framed > self.limits.max_write_buffer {
            return Err(DropReason::QueueFull);
        }
        if self.wpos > 0 && self.wpos * 2 >= self.wbuf.len() {
            self.wbuf.drain(..self.wpos);
            self.wpos = 0;
        }
        match self.framing {
            StreamFraming::Slip => slip_encode(data, &mut self.wbuf),
            _ => {
                let prefix = length_prefix(data.len()).map_err(|_| DropReason::Oversized)?;
                self.wbuf.extend_from_slice(&prefix);
                self.wbuf.extend_from_slice(data);
            }
        }
        Ok(())
    }

    /// Writes buffered bytes until done or the socket would block. An error means the
    /// connection is broken.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        while self.wpos < self.wbuf.len() {
            let pending = self.wbuf.get(self.wpos..).unwrap_or_default();
            match self.stream.write(pending) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.wpos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.wbuf.clear();
        self.wpos = 0;
        Ok(())
    }

    /// Reads what the socket has (up to `budget` bytes), hands each complete packet
    /// to `on_packet`.
    pub(crate) fn read(
        &mut self,
        buf: &mut [u8],
        budget: usize,
        mut on_packet: impl FnMut(&[u8]),
    ) -> ReadOutcome {
        let mut out = ReadOutcome::default();
        let mut total = 0;
        loop {
            if total >= budget {
                out.more = true;
                return out;
            }
            let n = match self.stream.read(buf) {
                Ok(0) => {
                    out.closed = Some("closed by peer");
                    out.truncated = self.buffered();
                    return out;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    out.closed = Some(if e.kind() == io::ErrorKind::ConnectionReset {
                        "reset by peer"
                    } else {
                        "read error"
                    });
                    out.truncated = self.buffered();
                    return out;
                }
            };
            total += n;
            let chunk = buf.get(..n).unwrap_or_default();
            self.feed(chunk, &mut out, &mut on_packet);
            if out.malformed {
                out.closed = Some("malformed frame length");
                return out;
            }
        }
    }

    fn buffered(&self) -> usize {
        match &self.deframer {
            Deframer::Detect => 0,
            Deframer::Length(d) => d.buffered(),
            Deframer::Slip(d) => d.buffered(),
        }
    }

    fn feed(&mut self, mut input: &[u8], out: &mut ReadOutcome, on_packet: &mut impl FnMut(&[u8])) {
        if let Deframer::Detect = self.deframer {
            let Some(&first) = input.first() else { return };
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
        loop {
            let step = match &mut self.deframer {
                Deframer::Detect => return,
                Deframer::Length(d) => d.decode(&mut input).map(|p| p.map(&mut *on_packet)),
                Deframer::Slip(d) => d.decode(&mut input).map(|p| p.map(&mut *on_packet)),
            };
            match step {
                Ok(Some(())) => {}
                Ok(None) => return,
                Err(osc_codec::Error::FrameTooLarge { size, limit }) => {
                    log::warn!(
                        "connection from {}: skipping a {size}-byte packet (limit {limit})",
                        self.peer
                    );
                    out.oversized += 1;
                }
                Err(e) => {
                    log::warn!("connection from {}: {e}; closing", self.peer);
                    out.malformed = true;
                    return;
                }
            }
        }
    }
}
