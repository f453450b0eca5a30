//! A Unix datagram channel's socket, driven by the reactor. The rules (routing, size
//! limit, the queue) are the [`UdpMachine`]'s, with socket paths for addresses.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use crate::interest::{datagram_interest, rewatch, unwatch};
use crate::machine::UdpMachine;
use crate::recv_errors::{AfterError, RecvErrors};
use crate::udp_io::{NotSent, Sent, UdpRead};
use crate::unix_options::MAX_UNIX_DATAGRAM;
use crate::unix_socket::{SocketFile, clear};
use crate::{ChannelError, ChannelId, Received, Result, UnixDatagramConfig};

/// A Unix datagram channel: its socket, the file it bound (removed on drop) and its
/// sending rules.
#[derive(Debug)]
pub(crate) struct UnixDatagramIo {
    socket: mio::net::UnixDatagram,
    machine: UdpMachine<Arc<Path>>,
    file: Option<SocketFile>,
    registered: Option<mio::Interest>,
}

impl UnixDatagramIo {
    /// Opens the socket: bound to `cfg.bind` (a stale file there replaced), else
    /// unbound.
    pub(crate) fn open(name: &str, cfg: &UnixDatagramConfig) -> Result<Self> {
        let (socket, file) = match &cfg.bind {
            Some(path) => {
                clear(path, false).map_err(|e| ChannelError::io("bind", name, e))?;
                let socket = mio::net::UnixDatagram::bind(path)
                    .map_err(|e| ChannelError::io("bind", name, e))?;
                let file = SocketFile::claim(path, cfg.mode)
                    .map_err(|e| ChannelError::io("chmod", name, e))?;
                (socket, Some(file))
            }
            None => (
                mio::net::UnixDatagram::unbound()
                    .map_err(|e| ChannelError::io("socket", name, e))?,
                None,
            ),
        };
        let dest = cfg.dest.as_deref().map(Arc::from);
        Ok(UnixDatagramIo {
            socket,
            machine: UdpMachine::datagram(dest, cfg.max_queue, cfg.read)
                .with_byte_limit(cfg.max_queue_bytes),
            file,
            registered: None,
        })
    }

    /// The path the socket is bound to.
    pub(crate) fn local_path(&self) -> Option<&Path> {
        self.file.as_ref().map(SocketFile::path)
    }

    pub(crate) fn queued(&self) -> usize {
        self.machine.queued()
    }

    /// Whether the channel reads (a send-only client does not).
    pub(crate) fn reads(&self) -> bool {
        self.machine.wants_read()
    }

    /// Registers the socket for what it needs now, when that changed: readable when the
    /// channel reads, writable only while datagrams wait in its queue
    /// (see `interest::datagram_interest`).
    pub(crate) fn watch(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        let wanted = datagram_interest(self.machine.wants_read(), self.machine.wants_write());
        rewatch(
            registry,
            token,
            &mut self.socket,
            &mut self.registered,
            wanted,
        )
    }

    /// Takes the socket out of the reactor's poll, if it is in it.
    pub(crate) fn unwatch(&mut self, registry: &mio::Registry) {
        unwatch(registry, &mut self.socket, &mut self.registered);
    }

    /// Whether the socket is in the reactor's poll now.
    pub(crate) fn is_watched(&self) -> bool {
        self.registered.is_some()
    }

    /// Sends now if the queue is empty and the socket takes it, else queues.
    pub(crate) fn send(&mut self, data: Arc<[u8]>, dest: Option<&Path>) -> Result<Sent, NotSent> {
        let to = self
            .machine
            .route_within(data.len(), dest.map(Arc::from), MAX_UNIX_DATAGRAM)
            .map_err(|r| NotSent::Refused(r, None))?;
        if self.machine.can_write_now() {
            match self.socket.send_to(&data, &to) {
                Ok(_) => return Ok(Sent::Now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NotSent::Io(e)),
            }
        }
        self.machine
            .enqueue(data, to)
            .map_err(|r| NotSent::Refused(r, None))?;
        Ok(Sent::Queued)
    }

    /// Writes queued datagrams until the socket would block; reports the packets and
    /// bytes sent and each error met (an error costs its packet).
    pub(crate) fn flush(&mut self, mut on_error: impl FnMut(io::Error)) -> (usize, usize) {
        let (mut packets, mut bytes) = (0, 0);
        loop {
            let result = match self.machine.batch(1).next() {
                Some((data, to)) => self.socket.send_to(data, &to),
                None => break,
            };
            match result {
                Ok(_) => {
                    bytes += self.machine.sent(1);
                    packets += 1;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.machine.failed();
                    on_error(e);
                }
            }
        }
        (packets, bytes)
    }

    /// Reads datagrams until the socket would block or `cap` were taken. `buf` must
    /// be larger than [`MAX_UNIX_DATAGRAM`]: a datagram over it is dropped (in `cut`).
    /// Two receive errors in a row end the read as drained, as for UDP, and the
    /// datagrams of one call share one arrival time.
    pub(crate) fn read<F: FnMut(Received<'_>)>(
        &self,
        id: ChannelId,
        name: &str,
        buf: &mut [u8],
        cap: usize,
        sink: &mut F,
    ) -> UdpRead {
        let mut out = UdpRead::default();
        let mut taken = 0;
        let mut errors = RecvErrors::default();
        let mut arrival = None;
        while taken < cap {
            let got = self.socket.recv_from(buf);
            if got.is_ok() {
                errors.ok();
            }
            match got {
                Ok((n, _)) if n > MAX_UNIX_DATAGRAM => {
                    taken += 1;
                    log::warn!(
                        "channel {name}: a datagram of {n} bytes or more is over {MAX_UNIX_DATAGRAM}: dropped"
                    );
                    out.cut.push(None);
                }
                Ok((n, from)) => {
                    taken += 1;
                    out.delivered += 1;
                    out.bytes += n;
                    sink(Received {
                        channel: id,
                        name,
                        peer: None,
                        peer_path: from.as_pathname(),
                        arrival: *arrival.get_or_insert_with(SystemTime::now),
                        data: buf.get(..n).unwrap_or_default(),
                    });
                }
                Err(e) => match errors.failed(name, &e) {
                    AfterError::Retry => {}
                    AfterError::Skip => taken += 1,
                    AfterError::Stop => {
                        out.drained = true;
                        return out;
                    }
                },
            }
        }
        out
    }
}
