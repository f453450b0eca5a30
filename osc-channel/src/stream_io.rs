//! A stream connection's socket, driven by the reactor: reads fed to its
//! [`StreamMachine`], the bytes it hands out written.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Instant;

use crate::machine::{Deframed, StreamMachine};

/// What one read of a stream did, besides the packets handed to the callback.
#[derive(Debug, Default)]
pub(crate) struct StreamRead {
    /// What the deframer reported (packets, oversized skips, a malformed frame).
    pub(crate) deframed: Deframed,
    /// The peer closed the connection or it failed: close it on our side.
    pub(crate) closed: Option<&'static str>,
    /// Bytes of an incomplete packet lost if `closed`.
    pub(crate) truncated: usize,
    /// The per-event byte budget ran out before the socket said `WouldBlock`.
    pub(crate) more: bool,
}

/// A TCP connection: the socket and its protocol state.
#[derive(Debug)]
pub(crate) struct StreamIo {
    pub(crate) stream: mio::net::TcpStream,
    pub(crate) machine: StreamMachine,
}

impl StreamIo {
    pub(crate) fn new(stream: mio::net::TcpStream, machine: StreamMachine) -> Self {
        if machine.limits().nodelay {
            let _ = stream.set_nodelay(true);
        }
        StreamIo { stream, machine }
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.machine.peer()
    }

    /// Writes what the machine holds until done or the socket would block. An error
    /// means the connection is broken.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        while self.machine.pending() > 0 {
            match self.stream.write(self.machine.to_write()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.machine.wrote(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads what the socket has, up to `bytes` bytes and `packets` packets (input
    /// kept from the last turn goes first), and hands each complete packet to
    /// `on_packet`.
    pub(crate) fn read(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        bytes: usize,
        packets: usize,
        mut on_packet: impl FnMut(&[u8]),
    ) -> StreamRead {
        let mut out = StreamRead::default();
        if self.machine.has_leftover() {
            let fed = self.machine.on_bytes(now, &[], packets, &mut on_packet);
            if out.absorb(fed) {
                return out;
            }
        }
        let mut total = 0usize;
        loop {
            if total >= bytes || out.deframed.packets >= packets {
                out.more = true;
                return out;
            }
            let n = match self.stream.read(buf) {
                Ok(0) => return self.ended(now, out, "closed by peer", on_packet),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return out,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let why = if e.kind() == io::ErrorKind::ConnectionReset {
                        "reset by peer"
                    } else {
                        "read error"
                    };
                    return self.ended(now, out, why, on_packet);
                }
            };
            total = total.saturating_add(n);
            let left = packets.saturating_sub(out.deframed.packets);
            let chunk = buf.get(..n).unwrap_or_default();
            let fed = self.machine.on_bytes(now, chunk, left, &mut on_packet);
            if out.absorb(fed) {
                return out;
            }
        }
    }

    /// The stream ended: what was read whole is delivered, the rest is lost.
    fn ended(
        &mut self,
        now: Instant,
        mut out: StreamRead,
        why: &'static str,
        mut on_packet: impl FnMut(&[u8]),
    ) -> StreamRead {
        let fed = self.machine.on_bytes(now, &[], usize::MAX, &mut on_packet);
        out.absorb(fed);
        out.more = false;
        out.closed = Some(why);
        out.truncated = self.machine.on_eof();
        out
    }
}

impl StreamRead {
    /// Adds what one `on_bytes` call reported; whether reading must stop (the packet
    /// budget ran out, or the stream is unusable and closes).
    fn absorb(&mut self, fed: Deframed) -> bool {
        self.deframed.packets += fed.packets;
        self.deframed.oversized += fed.oversized;
        if fed.malformed.is_some() {
            self.deframed.malformed = fed.malformed;
            self.closed = Some("malformed frame");
            return true;
        }
        if fed.more {
            self.more = true;
            return true;
        }
        false
    }
}
