//! Where a message came from: the dispatch context handed to handlers.

use std::net::SocketAddr;
use std::sync::Arc;

use osc_codec::TimeTag;

/// The name of the pseudo-channel used by [`Context::local`] (osc4py3's `_local` target).
pub const LOCAL_CHANNEL: &str = "_local";

/// The source of a packet and the circumstances of one handler call: the reader
/// channel's name, the peer address, the arrival time and the enclosing bundle's
/// timetag (osc4py3's `readername`, `srcident` and `readtime` argument schemes).
///
/// A context is cheap to clone (the channel name is shared).
///
/// ```
/// use osc_codec::TimeTag;
/// use osc_dispatch::Context;
///
/// let arrival = TimeTag::new(3_900_000_000, 0);
/// let ctx = Context::new(arrival).with_channel("in").with_peer("127.0.0.1:9000".parse()?);
/// assert_eq!(ctx.channel.as_deref(), Some("in"));
/// assert_eq!(ctx.peer.map(|p| p.port()), Some(9000));
/// assert_eq!(ctx.arrival, arrival);
/// assert_eq!(ctx.bundle_timetag, None); // set by the dispatcher inside bundles
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Context {
    /// The name of the channel the packet was read from, if any.
    pub channel: Option<Arc<str>>,
    /// The peer that sent it (UDP source or TCP peer), if known.
    pub peer: Option<SocketAddr>,
    /// The path of the Unix datagram socket that sent it, when that socket was bound
    /// to one (what a reply on a Unix datagram channel goes to).
    pub peer_path: Option<Arc<std::path::Path>>,
    /// When the packet arrived (the driver's clock).
    pub arrival: TimeTag,
    /// The timetag of the innermost bundle that carried the message; `None` for a
    /// message that arrived on its own.
    pub bundle_timetag: Option<TimeTag>,
}

impl Context {
    /// A context with an arrival time and no channel or peer.
    #[must_use]
    pub fn new(arrival: TimeTag) -> Self {
        Context {
            arrival,
            ..Context::default()
        }
    }

    /// The context of a local dispatch (channel [`LOCAL_CHANNEL`], no peer).
    ///
    /// ```
    /// let ctx = osc_dispatch::Context::local(osc_codec::TimeTag::new(1, 0));
    /// assert_eq!(ctx.channel.as_deref(), Some("_local"));
    /// ```
    #[must_use]
    pub fn local(now: TimeTag) -> Self {
        Context::new(now).with_channel(LOCAL_CHANNEL)
    }

    /// Sets the channel name (builder style).
    #[must_use]
    pub fn with_channel(mut self, name: impl Into<Arc<str>>) -> Self {
        self.channel = Some(name.into());
        self
    }

    /// Sets the peer address (builder style).
    #[must_use]
    pub fn with_peer(mut self, peer: SocketAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    /// Sets the sending Unix datagram socket's path (builder style).
    ///
    /// ```
    /// let ctx = osc_dispatch::Context::new(osc_codec::TimeTag::new(1, 0)).with_peer_path("/tmp/asker.sock");
    /// assert_eq!(ctx.peer_path.as_deref(), Some(std::path::Path::new("/tmp/asker.sock")));
    /// ```
    #[must_use]
    pub fn with_peer_path(mut self, path: impl AsRef<std::path::Path>) -> Self {
        self.peer_path = Some(Arc::from(path.as_ref()));
        self
    }

    /// Sets the enclosing bundle's timetag (builder style; the dispatcher does this).
    #[must_use]
    pub fn with_bundle_timetag(mut self, timetag: TimeTag) -> Self {
        self.bundle_timetag = Some(timetag);
        self
    }
}
