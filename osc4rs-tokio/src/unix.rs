//! `OscUnixSocket`: OSC over a tokio Unix datagram socket (Unix only).

use std::path::Path;
use std::sync::Arc;

use osc_codec::{Options, Packet, PacketRef};
use tokio::net::UnixDatagram;
use tokio::net::unix::SocketAddr;

use crate::{Error, Result};

/// OSC packets over a [`tokio::net::UnixDatagram`]: the same calls as
/// [`OscSocket`](crate::OscSocket), with paths for addresses. `recv` returns a
/// validated [`PacketRef`] borrowed from the caller's buffer and the sender's address
/// (unnamed for an unbound sender), allocating nothing.
///
/// A Unix datagram can be larger than 64 KiB (up to the socket's buffer size): a
/// datagram that fills the whole buffer is reported as [`Error::MaybeTruncated`],
/// never passed on cut.
///
/// ```
/// use osc4rs_tokio::{OscUnixSocket, MAX_DATAGRAM};
/// use osc_codec::{Message, PacketRef};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let (a, mut b) = OscUnixSocket::pair()?;
/// b.send(&Message::new("/over/unix").arg(1).into()).await?;
/// let mut buf = vec![0; MAX_DATAGRAM];
/// let (PacketRef::Message(m), _) = a.recv(&mut buf).await? else { unreachable!() };
/// assert_eq!(m.address(), "/over/unix");
/// # Ok::<(), osc4rs_tokio::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct OscUnixSocket {
    socket: Arc<UnixDatagram>,
    options: Options,
    out: Vec<u8>,
}

impl OscUnixSocket {
    /// Binds a socket to a filesystem path (which must not exist yet).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn bind(path: impl AsRef<Path>) -> Result<Self> {
        Ok(OscUnixSocket::from_tokio(UnixDatagram::bind(path)?))
    }

    /// An unbound socket, for sending (replies cannot reach it).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn unbound() -> Result<Self> {
        Ok(OscUnixSocket::from_tokio(UnixDatagram::unbound()?))
    }

    /// Two sockets connected to each other.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn pair() -> Result<(Self, Self)> {
        let (a, b) = UnixDatagram::pair()?;
        Ok((OscUnixSocket::from_tokio(a), OscUnixSocket::from_tokio(b)))
    }

    /// Wraps a tokio socket.
    #[must_use]
    pub fn from_tokio(socket: UnixDatagram) -> Self {
        OscUnixSocket {
            socket: Arc::new(socket),
            options: Options::default(),
            out: Vec::new(),
        }
    }

    /// Decodes and encodes with these codec options.
    #[must_use]
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The tokio socket, shared.
    #[must_use]
    pub fn socket(&self) -> &Arc<UnixDatagram> {
        &self.socket
    }

    /// The local address.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }

    /// Waits for one datagram, reads it into `buf` and returns it validated and
    /// borrowed, with the sender's address.
    ///
    /// # Errors
    /// [`Error::Malformed`] (skipped; call again), [`Error::MaybeTruncated`],
    /// [`Error::Io`].
    pub async fn recv<'b>(&self, buf: &'b mut [u8]) -> Result<(PacketRef<'b>, SocketAddr)> {
        let (n, peer) = self.socket.recv_from(buf).await?;
        let buf: &'b [u8] = buf;
        if n == buf.len() {
            return Err(Error::MaybeTruncated { len: n, peer: None });
        }
        let data = buf.get(..n).unwrap_or_default();
        match osc_codec::decode_with(data, &self.options) {
            Ok(packet) => Ok((packet, peer)),
            Err(source) => Err(Error::Malformed { peer: None, source }),
        }
    }

    /// Encodes `packet` into this handle's reused buffer and sends it to the socket
    /// bound at `path`.
    ///
    /// # Errors
    /// [`Error::Encode`] (nothing sent), [`Error::Io`].
    pub async fn send_to(&mut self, packet: &Packet, path: impl AsRef<Path>) -> Result<usize> {
        self.encode(packet)?;
        Ok(self.socket.send_to(&self.out, path).await?)
    }

    /// Sends `packet` to the connected peer (see [`pair`](Self::pair)).
    ///
    /// # Errors
    /// As [`send_to`](Self::send_to).
    pub async fn send(&mut self, packet: &Packet) -> Result<usize> {
        self.encode(packet)?;
        Ok(self.socket.send(&self.out).await?)
    }

    /// Sends a borrowed packet as it is.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub async fn send_ref_to(
        &self,
        packet: PacketRef<'_>,
        path: impl AsRef<Path>,
    ) -> Result<usize> {
        Ok(self.socket.send_to(packet.as_bytes(), path).await?)
    }

    fn encode(&mut self, packet: &Packet) -> Result<()> {
        self.out.clear();
        packet
            .encode_to_vec(&mut self.out, &self.options)
            .map_err(Error::Encode)?;
        Ok(())
    }
}
