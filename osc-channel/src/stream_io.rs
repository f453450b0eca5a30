//! A stream connection's socket, driven by the reactor: reads fed to its
//! [`StreamMachine`], the bytes it hands out written.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use crate::machine::{Deframed, StreamMachine};
use crate::{StreamFraming, StreamLimits};

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
    pub(crate) fn new(
        stream: mio::net::TcpStream,
        peer: SocketAddr,
        framing: StreamFraming,
        limits: StreamLimits,
    ) -> Self {
        if limits.nodelay {
            let _ = stream.set_nodelay(true);
        }
        StreamIo {
            stream,
            machine: StreamMachine::new(peer, framing, limits),
        }
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

    /// Reads what the socket has (up to `budget` bytes) and hands each complete packet
    /// to `on_packet`.
    pub(crate) fn read(
        &mut self,
        buf: &mut [u8],
        budget: usize,
        mut on_packet: impl FnMut(&[u8]),
    ) -> StreamRead {
        let mut out = StreamRead::default();
        let mut total = 0usize;
        loop {
            if total >= budget {
                out.more = true;
                return out;
            }
            let n = match self.stream.read(buf) {
                Ok(0) => {
                    out.closed = Some("closed by peer");
                    out.truncated = self.machine.on_eof();
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
                    out.truncated = self.machine.on_eof();
                    return out;
                }
            };
            total = total.saturating_add(n);
            let fed = self
                .machine
                .on_bytes(buf.get(..n).unwrap_or_default(), &mut on_packet);
            out.deframed.packets += fed.packets;
            out.deframed.oversized += fed.oversized;
            if fed.malformed.is_some() {
                out.deframed.malformed = fed.malformed;
                out.closed = Some("malformed frame length");
                return out;
            }
        }
    }
}
