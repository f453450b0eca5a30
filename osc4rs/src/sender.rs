//! A sender bound to one open channel: the send by name without the name's lookup.

use osc_codec::Packet;

use crate::runtime::{Bound, Osc, OscHandle};
use crate::{OscError, Result};

/// Sends on one open channel, as [`Osc::send`] to its name does, without looking the
/// name up for each send (liblo's `lo_address`, python-osc's `SimpleUDPClient`).
/// Made by [`Osc::sender`]; clone it freely and move it into handlers and threads.
///
/// It belongs to the channel that was open under the name when it was made: once that
/// channel is closed, sends fail with [`OscError::UnknownTarget`], even if a channel
/// of the same name is opened again (ask for a new sender then). It does not keep the
/// runtime alive: once the runtime is terminated, sends fail with
/// [`OscError::Terminated`].
///
/// ```
/// use osc4rs::{Message, Mode, Osc};
/// use std::net::UdpSocket;
///
/// let osc = Osc::builder().mode(Mode::EventLoop).start()?;
/// let peer = UdpSocket::bind("127.0.0.1:0")?;
/// osc.udp_client("synth", peer.local_addr()?)?;
///
/// let synth = osc.sender("synth")?;
/// synth.send(Message::new("/synth/1/freq").arg(440))?;
/// let mut buf = [0; 64];
/// let n = peer.recv(&mut buf)?;
/// assert_eq!(&buf[..14], b"/synth/1/freq\0");
/// assert_eq!(n, 24);
///
/// osc.close("synth")?;
/// assert!(matches!(synth.send(Message::new("/a")), Err(osc4rs::OscError::UnknownTarget(_))));
/// osc.terminate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sender {
    osc: OscHandle,
    to: Bound,
}

impl Sender {
    /// Sends `packet` on the channel, as [`Osc::send`] does: its address is checked,
    /// the channel's encode hook runs, and a packet the socket cannot take at once
    /// waits in the channel's queue.
    pub fn send(&self, packet: impl Into<Packet>) -> Result<()> {
        self.osc
            .get()
            .ok_or(OscError::Terminated)?
            .send_bound(packet.into(), &self.to)
    }

    /// The name of the channel this sender writes to.
    ///
    /// ```
    /// let osc = osc4rs::Osc::builder().start()?;
    /// osc.udp_client("out", "127.0.0.1:9")?;
    /// assert_eq!(osc.sender("out")?.channel(), "out");
    /// # osc.terminate()?;
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    pub fn channel(&self) -> &str {
        self.to.name()
    }
}

impl Osc {
    /// A [`Sender`] for the open channel `name`: repeated sends to one channel without
    /// looking its name up each time. [`OscError::UnknownTarget`] when no channel of
    /// that name is open; `_all`, `_local`, groups and a TCP server's connections
    /// (`SERVER/PEER`) are sent to with [`send`](Osc::send).
    ///
    /// ```
    /// let osc = osc4rs::Osc::builder().start()?;
    /// assert!(osc.sender("nowhere").is_err());
    /// # osc.terminate()?;
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    pub fn sender(&self, name: &str) -> Result<Sender> {
        Ok(Sender {
            osc: self.handle(),
            to: self.bind(name)?,
        })
    }
}
