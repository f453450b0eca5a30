//! `OscSocket`: OSC over a tokio UDP socket, borrowed views on receive, a reused
//! buffer on send.

use std::net::SocketAddr;
use std::sync::Arc;

use osc_codec::{Options, Packet, PacketRef};
use tokio::net::{ToSocketAddrs, UdpSocket};

use crate::{Error, Result};

/// The receive buffer size that never truncates a datagram (the largest UDP payload is
/// 65,507 bytes over IPv4 and 65,527 over IPv6).
pub const MAX_DATAGRAM: usize = 65_536;

/// The kernel receive buffer [`OscSocket::bind`] asks for (4 MiB, as osc4rs's event
/// loop does): room for a burst of several thousand datagrams while the task is busy.
/// As root it is granted whatever `net.core.rmem_max` says (`SO_RCVBUFFORCE`); else
/// the kernel caps it at `rmem_max`.
pub const DEFAULT_RECV_BUFFER: usize = 4 << 20;

/// OSC packets over a [`tokio::net::UdpSocket`].
///
/// [`recv`](Self::recv) reads one datagram into a buffer the caller owns and returns a
/// validated, borrowed [`PacketRef`] and the sender: nothing is allocated per packet.
/// [`send_to`](Self::send_to) encodes into a buffer kept by this handle and reused.
/// A clone shares the socket and has its own send buffer, so each task can hold one.
///
/// Every error leaves the socket usable: a malformed datagram is
/// [`Error::Malformed`] and the next `recv` reads the next one.
///
/// ```
/// use osc4rs_tokio::{OscSocket, MAX_DATAGRAM};
/// use osc_codec::{Message, PacketRef};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let a = OscSocket::bind("127.0.0.1:0").await?;
/// let mut b = OscSocket::bind("127.0.0.1:0").await?;
/// b.send_to(&Message::new("/hello").arg(1).into(), a.local_addr()?).await?;
///
/// let mut buf = vec![0; MAX_DATAGRAM];
/// let (packet, from) = a.recv(&mut buf).await?;
/// let PacketRef::Message(msg) = packet else { unreachable!() };
/// assert_eq!((msg.address(), from), ("/hello", b.local_addr()?));
/// # Ok::<(), osc4rs_tokio::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct OscSocket {
    socket: Arc<UdpSocket>,
    options: Options,
    out: Vec<u8>,
}

impl OscSocket {
    /// Binds a UDP socket (`"127.0.0.1:0"` for any free port) with a kernel receive
    /// buffer of [`DEFAULT_RECV_BUFFER`] bytes, so that a fast sender's burst waits in
    /// the kernel instead of being lost. [`from_tokio`](Self::from_tokio) keeps a
    /// socket's own settings.
    ///
    /// # Errors
    /// [`Error::Io`] if the address does not resolve or bind.
    pub async fn bind(addr: impl ToSocketAddrs) -> Result<Self> {
        let socket = UdpSocket::bind(addr).await?;
        grow_recv_buffer(&socket, DEFAULT_RECV_BUFFER);
        Ok(OscSocket::from_tokio(socket))
    }

    /// Wraps a tokio socket (bound, possibly connected, broadcast or multicast set).
    #[must_use]
    pub fn from_tokio(socket: UdpSocket) -> Self {
        OscSocket::from_shared(Arc::new(socket))
    }

    /// Wraps a socket shared with other code.
    #[must_use]
    pub fn from_shared(socket: Arc<UdpSocket>) -> Self {
        OscSocket {
            socket,
            options: Options::default(),
            out: Vec::new(),
        }
    }

    /// Decodes and encodes with these codec options (limits, string policy, ...).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let mut opts = osc_codec::Options::default();
    /// opts.max_packet_size = 1024;
    /// let s = osc4rs_tokio::OscSocket::bind("127.0.0.1:0").await?.with_options(opts);
    /// assert_eq!(s.options().max_packet_size, 1024);
    /// # Ok::<(), osc4rs_tokio::Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The codec options in force.
    #[must_use]
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The tokio socket, shared (to set socket options, or to give to other code).
    #[must_use]
    pub fn socket(&self) -> &Arc<UdpSocket> {
        &self.socket
    }

    /// The local address.
    ///
    /// # Errors
    /// [`Error::Io`] from the operating system.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }

    /// Waits for one datagram, reads it into `buf` and returns it validated and
    /// borrowed from `buf`, with its sender. Use a buffer of [`MAX_DATAGRAM`] bytes and
    /// reuse it: this call allocates nothing.
    ///
    /// # Errors
    /// [`Error::Malformed`] for a datagram that is not OSC (skipped; call again),
    /// [`Error::MaybeTruncated`] if it filled a buffer smaller than [`MAX_DATAGRAM`],
    /// [`Error::Io`] from the socket (on some systems an ICMP "port unreachable"
    /// for an earlier send shows up here; the socket stays usable).
    pub async fn recv<'b>(&self, buf: &'b mut [u8]) -> Result<(PacketRef<'b>, SocketAddr)> {
        let (n, peer) = self.socket.recv_from(buf).await?;
        let buf: &'b [u8] = buf;
        if n == buf.len() && n < MAX_DATAGRAM {
            return Err(Error::MaybeTruncated {
                len: n,
                peer: Some(peer),
            });
        }
        let data = buf.get(..n).unwrap_or_default();
        match osc_codec::decode_with(data, &self.options) {
            Ok(packet) => Ok((packet, peer)),
            Err(source) => Err(Error::Malformed {
                peer: Some(peer),
                source,
            }),
        }
    }

    /// Encodes `packet` into this handle's reused buffer and sends it to `to`.
    /// Returns the datagram's size.
    ///
    /// # Errors
    /// [`Error::Encode`] (nothing sent), [`Error::Io`] (for example a datagram too
    /// large for UDP).
    pub async fn send_to(&mut self, packet: &Packet, to: SocketAddr) -> Result<usize> {
        self.out.clear();
        packet
            .encode_to_vec(&mut self.out, &self.options)
            .map_err(Error::Encode)?;
        Ok(self.socket.send_to(&self.out, to).await?)
    }

    /// Sends a borrowed packet (for example one just received: a relay) as it is,
    /// without encoding.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub async fn send_ref_to(&self, packet: PacketRef<'_>, to: SocketAddr) -> Result<usize> {
        Ok(self.socket.send_to(packet.as_bytes(), to).await?)
    }

    /// Sends without waiting: `Err(Error::Io)` of kind `WouldBlock` when the socket's
    /// send buffer is full (for callers outside async code, such as handlers).
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to), plus `WouldBlock`.
    pub fn try_send_to(&mut self, packet: &Packet, to: SocketAddr) -> Result<usize> {
        self.out.clear();
        packet
            .encode_to_vec(&mut self.out, &self.options)
            .map_err(Error::Encode)?;
        Ok(self.socket.try_send_to(&self.out, to)?)
    }
}

/// Asks for a receive buffer of `size` bytes: forced as root, else as large as the
/// kernel allows. A refusal is logged; the socket works with its default.
fn grow_recv_buffer(socket: &UdpSocket, size: usize) {
    if let Err(e) = osc_sys::set_recv_buffer(socket2::SockRef::from(socket), size) {
        log::debug!("osc4rs-tokio: receive buffer of {size} bytes refused: {e}");
    }
}

/// Buffers for [`OscSocket::recv_batch`]: `slots` datagrams of up to
/// [`MAX_DATAGRAM`] bytes each, allocated once and reused by every call.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct RecvBatch(osc_sys::RecvBatch);

#[cfg(target_os = "linux")]
impl RecvBatch {
    /// Room for `slots` datagrams (at least 1; 32 is a good size: 2 MiB).
    ///
    /// ```
    /// let batch = osc4rs_tokio::RecvBatch::new(32);
    /// assert_eq!(batch.slots(), 32);
    /// ```
    #[must_use]
    pub fn new(slots: usize) -> Self {
        RecvBatch(osc_sys::RecvBatch::new(slots, MAX_DATAGRAM))
    }

    /// How many datagrams one call can receive.
    #[must_use]
    pub fn slots(&self) -> usize {
        self.0.slots()
    }
}

/// The datagrams one [`OscSocket::recv_batch`] call received, each validated on its
/// own: an iterator of `Result<(PacketRef, SocketAddr)>` in arrival order, borrowed
/// from the batch's buffers. A malformed or truncated datagram is an error item and
/// the others are unaffected.
#[cfg(target_os = "linux")]
#[derive(Debug)]
pub struct Batch<'s, 'b> {
    batch: &'b osc_sys::RecvBatch,
    options: &'s Options,
    next: usize,
    len: usize,
}

#[cfg(target_os = "linux")]
impl<'b> Iterator for Batch<'_, 'b> {
    type Item = Result<(PacketRef<'b>, SocketAddr)>;

    fn next(&mut self) -> Option<Self::Item> {
        let d = self.batch.get(self.next)?;
        self.next += 1;
        // The kernel gives an address for every datagram of an IP socket.
        let peer = d
            .peer
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        if d.truncated {
            return Some(Err(Error::MaybeTruncated {
                len: d.data.len(),
                peer: Some(peer),
            }));
        }
        Some(match osc_codec::decode_with(d.data, self.options) {
            Ok(packet) => Ok((packet, peer)),
            Err(source) => Err(Error::Malformed {
                peer: Some(peer),
                source,
            }),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len.saturating_sub(self.next);
        (left, Some(left))
    }
}

/// Waits until `socket` is readable and receives what is queued into `batch` with one
/// `recvmmsg`; how many came (at least one).
#[cfg(target_os = "linux")]
pub(crate) async fn recv_raw_batch(
    socket: &UdpSocket,
    batch: &mut RecvBatch,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    let slots = batch.0.slots();
    loop {
        socket.readable().await?;
        match socket.try_io(tokio::io::Interest::READABLE, || batch.0.recv(fd, slots)) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(target_os = "linux")]
impl RecvBatch {
    /// The `i`-th datagram of the last receive: bytes, sender, whether it was cut.
    pub(crate) fn datagram(&self, i: usize) -> Option<osc_sys::Datagram<'_>> {
        self.0.get(i)
    }
}

#[cfg(target_os = "linux")]
impl OscSocket {
    /// Waits for datagrams and receives as many as are queued, up to the batch's
    /// size, with one system call (`recvmmsg`); returns them validated and borrowed
    /// from `batch`. At a high rate this costs fewer system calls than a
    /// [`recv`](Self::recv) per datagram; at a low rate it is the same. Allocates
    /// nothing.
    ///
    /// ```
    /// use osc4rs_tokio::{OscSocket, RecvBatch};
    /// use osc_codec::Message;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let a = OscSocket::bind("127.0.0.1:0").await?;
    /// let mut b = OscSocket::bind("127.0.0.1:0").await?;
    /// for i in 0..3 {
    ///     b.send_to(&Message::new("/n").arg(i).into(), a.local_addr()?).await?;
    /// }
    /// let mut batch = RecvBatch::new(32);
    /// let mut seen = 0;
    /// while seen < 3 {
    ///     for item in a.recv_batch(&mut batch).await? {
    ///         let (packet, from) = item?;
    ///         assert_eq!(from, b.local_addr()?);
    ///         assert!(packet.to_string().starts_with("/n ,i"));
    ///         seen += 1;
    ///     }
    /// }
    /// # Ok::<(), osc4rs_tokio::Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] from the socket (the batch is then empty).
    pub async fn recv_batch<'s, 'b>(&'s self, batch: &'b mut RecvBatch) -> Result<Batch<'s, 'b>> {
        let len = recv_raw_batch(&self.socket, batch).await?;
        Ok(Batch {
            batch: &batch.0,
            options: &self.options,
            next: 0,
            len,
        })
    }
}

impl From<UdpSocket> for OscSocket {
    fn from(socket: UdpSocket) -> Self {
        OscSocket::from_tokio(socket)
    }
}
