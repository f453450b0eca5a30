//! SLIP framing (RFC 1055) as OSC 1.1 uses it.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use crate::{Error, Result};

/// Frame delimiter.
pub const END: u8 = 0xC0;
/// Escape byte.
pub const ESC: u8 = 0xDB;
/// `ESC ESC_END` stands for a literal `END` byte.
pub const ESC_END: u8 = 0xDC;
/// `ESC ESC_ESC` stands for a literal `ESC` byte.
pub const ESC_ESC: u8 = 0xDD;

/// The size of `packet` once SLIP-framed as `END escaped-packet END`.
pub fn slip_encoded_len(packet: &[u8]) -> usize {
    2 + packet.len() + packet.iter().filter(|&&b| b == END || b == ESC).count()
}

/// Writes `END escaped-packet END` into `buf`; returns the bytes written. Needs no
/// allocator.
///
/// ```
/// use osc_codec::framing::slip_encode_into;
/// let mut buf = [0u8; 8];
/// let n = slip_encode_into(&[1, 0xC0, 0xDB], &mut buf)?;
/// assert_eq!(&buf[..n], &[0xC0, 1, 0xDB, 0xDC, 0xDB, 0xDD, 0xC0]);
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub fn slip_encode_into(packet: &[u8], buf: &mut [u8]) -> Result<usize> {
    let needed = slip_encoded_len(packet);
    if buf.len() < needed {
        return Err(Error::BufferTooSmall {
            needed,
            available: buf.len(),
        });
    }
    let mut n = 0;
    let mut put = |b: u8| {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b;
        }
        n += 1;
    };
    put(END);
    for &b in packet {
        match b {
            END => {
                put(ESC);
                put(ESC_END);
            }
            ESC => {
                put(ESC);
                put(ESC_ESC);
            }
            b => put(b),
        }
    }
    put(END);
    Ok(n)
}

/// Appends `END escaped-packet END` to `out`.
#[cfg(feature = "alloc")]
pub fn slip_encode(packet: &[u8], out: &mut Vec<u8>) {
    out.reserve(slip_encoded_len(packet));
    out.push(END);
    let mut rest = packet;
    while let Some(i) = rest.iter().position(|&b| b == END || b == ESC) {
        let (run, tail) = rest.split_at(i);
        out.extend_from_slice(run);
        let (&special, tail) = match tail.split_first() {
            Some(x) => x,
            None => break,
        };
        out.push(ESC);
        out.push(if special == END { ESC_END } else { ESC_ESC });
        rest = tail;
    }
    out.extend_from_slice(rest);
    out.push(END);
}

#[cfg(feature = "alloc")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Collecting a packet.
    Filling,
    /// The buffer holds a packet just returned; clear it before going on.
    Returned,
    /// A packet went over the limit: skip to the next `END`.
    Discarding,
}

/// Incremental SLIP decoder: accepts `END pkt END` and `pkt END`, several packets per
/// chunk, and packets split anywhere. Empty frames (`END END`) are skipped. An escape
/// followed by anything but `ESC_END`/`ESC_ESC` keeps that byte, as RFC 1055 advises.
///
/// A packet growing past `max_packet` bytes is dropped: [`decode`](Self::decode) returns
/// [`Error::FrameTooLarge`] once, skips to the next `END`, and then goes on normally.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone)]
pub struct SlipDecoder {
    buf: Vec<u8>,
    escaped: bool,
    state: State,
    max_packet: usize,
}

#[cfg(feature = "alloc")]
impl SlipDecoder {
    /// A decoder that buffers at most `max_packet` bytes of one packet.
    pub fn new(max_packet: usize) -> Self {
        SlipDecoder {
            buf: Vec::new(),
            escaped: false,
            state: State::Filling,
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

    /// Bytes of an incomplete packet held so far.
    pub fn buffered(&self) -> usize {
        match self.state {
            State::Filling => self.buf.len(),
            _ => 0,
        }
    }

    /// Consumes bytes from the front of `input` until a packet is complete and returns
    /// it, or returns `Ok(None)` once `input` is empty. Call again with the same
    /// `input` to get the next packet.
    pub fn decode<'s>(&'s mut self, input: &mut &[u8]) -> Result<Option<&'s [u8]>> {
        if self.state == State::Returned {
            self.buf.clear();
            self.state = State::Filling;
        }
        while !input.is_empty() {
            if self.state == State::Discarding {
                match input.iter().position(|&b| b == END) {
                    Some(i) => {
                        *input = input.get(i + 1..).unwrap_or_default();
                        self.state = State::Filling;
                        self.escaped = false;
                    }
                    None => *input = &[],
                }
                continue;
            }
            let stop = input
                .iter()
                .position(|&b| b == END || b == ESC || self.escaped);
            let run_len = stop.unwrap_or(input.len());
            let (run, rest) = input.split_at(run_len);
            if self.buf.len() + run.len() > self.max_packet {
                return Err(self.overflow(run.len(), rest));
            }
            self.buf.extend_from_slice(run);
            *input = rest;
            let Some((&b, rest)) = input.split_first() else {
                break;
            };
            *input = rest;
            if self.escaped {
                self.escaped = false;
                let byte = match b {
                    ESC_END => END,
                    ESC_ESC => ESC,
                    other => other,
                };
                if self.buf.len() >= self.max_packet {
                    return Err(self.overflow(1, input));
                }
                self.buf.push(byte);
            } else if b == ESC {
                self.escaped = true;
            } else if !self.buf.is_empty() {
                self.state = State::Returned;
                return Ok(Some(&self.buf));
            }
        }
        Ok(None)
    }

    fn overflow(&mut self, more: usize, rest: &[u8]) -> Error {
        let size = self.buf.len() + more;
        self.buf.clear();
        self.escaped = false;
        // If the END is already in `rest`, the next call skips to it.
        let _ = rest;
        self.state = State::Discarding;
        Error::FrameTooLarge {
            size,
            limit: self.max_packet,
        }
    }
}
