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
    /// Binds a UDP socket (`"127.0.0.1:0"` for any free port).
    ///
    /// # Errors
    /// [`Error::Io`] if the address does not resolve or bind.
    pub async fn bind(addr: impl ToSocketAddrs) -> Result<Self> {
        Ok(OscSocket::from_tokio(UdpSocket::bind(addr).await?))
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

impl From<UdpSocket> for OscSocket {
    fn from(socket: UdpSocket) -> Self {
        OscSocket::from_tokio(socket)
    }
}
