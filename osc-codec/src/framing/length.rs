//! OSC 1.0 length-prefix framing for streams.

use alloc::vec::Vec;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the 4-byte header (`n` bytes of it so far).
    Header(usize),
    /// Reading a body of `len` bytes.
    Body(usize),
    /// The buffer holds a packet just returned.
    Returned,
    /// Skipping the `left` remaining bytes of an oversized packet.
    Skipping(usize),
    /// A negative length was read: the stream cannot be resynchronised.
    Broken(i32),
}

/// Incremental decoder for OSC 1.0 streams: each packet preceded by its size as a
/// big-endian int32, packets split anywhere.
///
/// The buffer grows only as bytes arrive, never to a size announced by a header. A
/// packet announced larger than `max_packet` is skipped (its bytes discarded as they
/// come) after [`Error::FrameTooLarge`] is returned once; a negative size breaks the
/// stream for good (every later call returns [`Error::BadFrameSize`]): close the
/// connection.
///
/// ```
/// use osc_codec::framing::LengthDecoder;
/// let wire = [0, 0, 0, 8, b'/', b'a', 0, 0, b',', 0, 0, 0];
/// let mut dec = LengthDecoder::new(1 << 20);
/// let mut input = &wire[..5];
/// assert_eq!(dec.decode(&mut input)?, None);
/// let mut input = &wire[5..];
/// assert_eq!(dec.decode(&mut input)?, Some(&b"/a\0\0,\0\0\0"[..]));
/// # Ok::<(), osc_codec::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LengthDecoder {
    header: [u8; 4],
    buf: Vec<u8>,
    state: State,
    max_packet: usize,
}

impl LengthDecoder {
    /// A decoder that accepts packets of at most `max_packet` bytes.
    pub fn new(max_packet: usize) -> Self {
        LengthDecoder {
            header: [0; 4],
            buf: Vec::new(),
            state: State::Header(0),
            max_packet,
        }
    }

    /// Bytes the decoder holds allocated (at least [`buffered`](Self::buffered)).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives back memory kept from a large packet: when no packet is in progress,
    /// what is allocated beyond [`RETAINED`](super::RETAINED) bytes is freed, so one
    /// large packet does not cost its size for the rest of the stream.
    pub fn shrink(&mut self) {
        if self.buffered() == 0 {
            super::shrink_idle(&mut self.buf);
        }
    }

    /// Bytes of an incomplete packet (or header) held so far.
    pub fn buffered(&self) -> usize {
        match self.state {
            State::Header(n) => n,
            State::Body(_) => 4 + self.buf.len(),
            _ => 0,
        }
    }

    /// Consumes bytes from the front of `input` until a packet is complete and returns
    /// it, or `Ok(None)` once `input` is empty. Zero-length frames are skipped.
    pub fn decode<'s>(&'s mut self, input: &mut &[u8]) -> Result<Option<&'s [u8]>> {
        if self.state == State::Returned {
            self.buf.clear();
            self.state = State::Header(0);
        }
        loop {
            match self.state {
                State::Broken(size) => {
                    *input = &[];
                    return Err(Error::BadFrameSize {
                        size: i64::from(size),
                    });
                }
                State::Returned => return Ok(None),
                State::Header(n) => {
                    let want = 4 - n;
                    let take = want.min(input.len());
                    let (head, rest) = input.split_at(take);
                    if let Some(dst) = self.header.get_mut(n..n + take) {
                        dst.copy_from_slice(head);
                    }
                    *input = rest;
                    if take < want {
                        self.state = State::Header(n + take);
                        return Ok(None);
                    }
                    let size = i32::from_be_bytes(self.header);
                    match usize::try_from(size) {
                        Err(_) => {
                            self.state = State::Broken(size);
                        }
                        Ok(0) => self.state = State::Header(0),
                        Ok(len) if len > self.max_packet => {
                            self.state = State::Skipping(len);
                            return Err(Error::FrameTooLarge {
                                size: len,
                                limit: self.max_packet,
                            });
                        }
                        Ok(len) => self.state = State::Body(len),
                    }
                }
                State::Skipping(left) => {
                    let take = left.min(input.len());
                    *input = input.get(take..).unwrap_or_default();
                    if take < left {
                        self.state = State::Skipping(left - take);
                        return Ok(None);
                    }
                    self.state = State::Header(0);
                }
                State::Body(len) => {
                    let want = len - self.buf.len();
                    let take = want.min(input.len());
                    let (body, rest) = input.split_at(take);
                    self.buf.extend_from_slice(body);
                    *input = rest;
                    if take < want {
                        return Ok(None);
                    }
                    self.state = State::Returned;
                    return Ok(Some(&self.buf));
                }
            }
            if input.is_empty() && !matches!(self.state, State::Broken(_)) {
                return Ok(None);
            }
        }
    }
}
