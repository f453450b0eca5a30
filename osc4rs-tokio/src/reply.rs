//! `Replier`: sends replies to a packet's peer, from a handler (sync code).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};

use osc_codec::{Options, Packet};
use osc_dispatch::Context;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::{Error, Result};

#[derive(Debug, Default)]
struct Routes {
    udp: HashMap<Arc<str>, Arc<UdpSocket>>,
    streams: HashMap<(Arc<str>, SocketAddr), mpsc::Sender<Packet>>,
}

thread_local! {
    /// The encode buffer of UDP replies, reused by each thread.
    static REPLY_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Sends packets to the peers of an [`OscServer`](crate::OscServer)'s channels from
/// anywhere, without waiting: from a sync handler with the handler's [`Context`]
/// ([`reply`](Self::reply)), or to a named channel and peer ([`send`](Self::send)).
///
/// A UDP reply is written at once from the channel's socket (so it comes from the
/// address the peer sent to); a stream reply is queued for the connection's task
/// (bounded by [`ServerConfig::reply_queue`](crate::ServerConfig::reply_queue)).
/// Neither waits: a full socket buffer or queue drops the reply with
/// [`Error::ReplyDropped`].
///
/// ```
/// use osc4rs_tokio::Replier;
/// use osc_codec::{Message, TimeTag};
/// use osc_dispatch::Context;
///
/// let replier = Replier::default(); // OscServer::replier() gives one with routes
/// let ctx = Context::new(TimeTag::new(1, 0)).with_channel("in");
/// assert!(replier.reply(&ctx, Message::new("/ack").into()).is_err()); // no route "in"
/// ```
#[derive(Debug, Clone, Default)]
pub struct Replier {
    routes: Arc<RwLock<Routes>>,
}

impl Replier {
    /// Sends `packet` to the peer the context's packet came from, on the same channel.
    ///
    /// # Errors
    /// [`Error::NoRoute`] (no such channel or connection, or no peer in the context),
    /// [`Error::ReplyDropped`], [`Error::Encode`], [`Error::Io`].
    pub fn reply(&self, ctx: &Context, packet: Packet) -> Result<()> {
        match (ctx.channel.as_deref(), ctx.peer) {
            (Some(channel), Some(peer)) => self.send(channel, peer, packet),
            (channel, peer) => Err(Error::NoRoute {
                channel: channel.map(str::to_owned),
                peer,
            }),
        }
    }

    /// Sends `packet` to `peer` on the channel named `channel` (a UDP channel: any
    /// peer; a stream channel: the connection from `peer`).
    ///
    /// # Errors
    /// As [`reply`](Self::reply).
    pub fn send(&self, channel: &str, peer: SocketAddr, packet: Packet) -> Result<()> {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(socket) = routes.udp.get(channel) {
            return REPLY_BUF.with(|buf| {
                let mut buf = buf.borrow_mut();
                buf.clear();
                packet
                    .encode_to_vec(&mut buf, &Options::DEFAULT)
                    .map_err(Error::Encode)?;
                match socket.try_send_to(&buf, peer) {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        Err(Error::ReplyDropped("the socket's send buffer is full"))
                    }
                    Err(e) => Err(Error::Io(e)),
                }
            });
        }
        let key: (Arc<str>, SocketAddr) = (Arc::from(channel), peer);
        match routes.streams.get(&key) {
            Some(tx) => tx.try_send(packet).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    Error::ReplyDropped("the connection's reply queue is full")
                }
                mpsc::error::TrySendError::Closed(_) => Error::NoRoute {
                    channel: Some(channel.to_owned()),
                    peer: Some(peer),
                },
            }),
            None => Err(Error::NoRoute {
                channel: Some(channel.to_owned()),
                peer: Some(peer),
            }),
        }
    }

    /// The peers connected on stream channel `channel`.
    #[must_use]
    pub fn connections(&self, channel: &str) -> Vec<SocketAddr> {
        let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        routes
            .streams
            .keys()
            .filter(|(name, _)| &**name == channel)
            .map(|&(_, peer)| peer)
            .collect()
    }

    pub(crate) fn add_udp(&self, name: Arc<str>, socket: Arc<UdpSocket>) {
        self.write().udp.insert(name, socket);
    }

    pub(crate) fn add_stream(&self, name: Arc<str>, peer: SocketAddr, tx: mpsc::Sender<Packet>) {
        self.write().streams.insert((name, peer), tx);
    }

    pub(crate) fn remove_stream(&self, name: &Arc<str>, peer: SocketAddr) {
        self.write().streams.remove(&(name.clone(), peer));
    }

    /// Drops every route: stream connections then flush what they queued and close.
    pub(crate) fn close(&self) {
        let mut routes = self.write();
        routes.udp.clear();
        routes.streams.clear();
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Routes> {
        self.routes.write().unwrap_or_else(PoisonError::into_inner)
    }
}
