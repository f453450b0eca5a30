//! Opening Unix domain socket channels and sending to a socket path.

use std::path::Path;
use std::sync::Arc;

use super::{Reactor, token};
use crate::channel::{Channel, Kind};
use crate::machine::Reconnect;
use crate::stream_io::{ClientCfg, Listener};
use crate::udp_io::Sent;
use crate::unix_io::UnixDatagramIo;
use crate::{
    ChannelError, ChannelEvent, ChannelId, Result, UnixClientConfig, UnixDatagramConfig,
    UnixServerConfig,
};

impl Reactor {
    /// Opens a Unix datagram channel (server, client or peer). A server's socket file
    /// is created with [`UnixDatagramConfig::mode`] (a stale file from a dead process
    /// is replaced; a live socket is an `AddrInUse` error) and removed when the
    /// channel closes or the reactor is dropped.
    ///
    /// ```
    /// use osc_channel::{Reactor, UnixDatagramConfig};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let dir = std::env::temp_dir().join(format!("osc-doc-udg-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let (server_path, client_path) = (dir.join("server"), dir.join("client"));
    /// let mut reactor = Reactor::new()?;
    /// let server = reactor.open_unix_datagram("in", UnixDatagramConfig::server(&server_path))?;
    /// // A client that binds a path can be answered.
    /// let client = reactor.open_unix_datagram(
    ///     "out",
    ///     UnixDatagramConfig::peer(&client_path, Some(server_path.clone())),
    /// )?;
    /// reactor.send(client, Arc::from(&b"/ping\0\0\0,\0\0\0"[..]), None)?;
    /// let mut from = None;
    /// while from.is_none() {
    ///     reactor.poll(Some(Duration::from_millis(50)), |p| from = p.peer_path.map(|p| p.to_owned()))?;
    /// }
    /// reactor.send_to_path(server, Arc::from(&b"/pong\0\0\0,\0\0\0"[..]), &from.unwrap())?;
    /// let mut got = 0;
    /// while got == 0 {
    ///     got = reactor.poll(Some(Duration::from_millis(50)), |p| assert_eq!(p.name, "out"))?;
    /// }
    /// reactor.close(server)?;
    /// assert!(!server_path.exists()); // removed on close
    /// # drop(reactor);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), osc_channel::ChannelError>(())
    /// ```
    pub fn open_unix_datagram(&mut self, name: &str, cfg: UnixDatagramConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let events = cfg.events.clone();
        let emit = |ev| crate::event::emit(events.as_ref(), name, ev);
        emit(ChannelEvent::Activating);
        let mut channel = UnixDatagramIo::open(name, &cfg)?;
        emit(ChannelEvent::Activated);
        let id = self.take_id();
        emit(ChannelEvent::Scheduling);
        channel
            .watch(self.poll.registry(), token(id.0))
            .map_err(|e| ChannelError::io("register", name, e))?;
        emit(ChannelEvent::Scheduled);
        log::debug!(
            "channel {name}: Unix datagram socket at {:?}",
            channel.local_path()
        );
        self.insert(id, Channel::new(name, Kind::UnixDatagram(channel), events));
        Ok(id)
    }

    /// The socket path a Unix channel is bound to (`None` for other channels and
    /// unbound Unix clients).
    pub fn local_path(&self, id: ChannelId) -> Option<&Path> {
        self.channels.get(&id.0).and_then(|c| c.local_path())
    }

    /// Sends a packet on a Unix datagram channel to the socket at `path` (a reply to
    /// a [`Received::peer_path`](crate::Received::peer_path)). Other channels refuse with
    /// [`ChannelError::NotWritable`].
    pub fn send_to_path(&mut self, id: ChannelId, data: Arc<[u8]>, path: &Path) -> Result<()> {
        let result = self.send_unix(id.0, data, Some(path));
        if result.is_ok() {
            self.handle.send_queue().note_sent();
        }
        self.count_refusal(id, &result, None);
        result
    }

    pub(super) fn send_unix(
        &mut self,
        id: u64,
        data: Arc<[u8]>,
        path: Option<&Path>,
    ) -> Result<()> {
        let Some(ch) = self.channels.get_mut(&id) else {
            return Err(ChannelError::UnknownChannel(format!("{:?}", ChannelId(id))));
        };
        let len = data.len();
        let Kind::UnixDatagram(u) = &mut ch.kind else {
            return Err(ChannelError::NotWritable(
                ch.name.clone(),
                "only Unix datagram channels send to a path",
            ));
        };
        match u.send(data, path) {
            Ok(Sent::Now) => {
                ch.stats.count_out_owned(len);
                Ok(())
            }
            Ok(Sent::Queued) => {
                if let Err(e) = u.watch(self.poll.registry(), token(id)) {
                    log::warn!(
                        "channel {}: cannot update its poll registration: {e}",
                        ch.name
                    );
                }
                Ok(())
            }
            Err(not_sent) => Err(not_sent.into_error(&ch.name)),
        }
    }

    /// Opens a Unix stream server at `cfg.path`: one channel per connection, named
    /// `SERVER/N` (`N` from 1), with the TCP server's limits, timeouts and memory
    /// budget. The socket file is created with [`UnixServerConfig::mode`] (a stale
    /// file from a dead process is replaced; a live socket is an `AddrInUse` error)
    /// and removed when the channel closes or the reactor is dropped.
    ///
    /// ```
    /// use osc_channel::{Reactor, StreamFraming, UnixClientConfig, UnixServerConfig};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let path = std::env::temp_dir().join(format!("osc-doc-ustream-{}", std::process::id()));
    /// let mut reactor = Reactor::new()?;
    /// let mut server = UnixServerConfig::new(&path);
    /// server.framing = StreamFraming::Auto;
    /// reactor.open_unix_server("in", server)?;
    /// let mut client = UnixClientConfig::new(&path);
    /// client.framing = StreamFraming::Slip;
    /// let out = reactor.open_unix_client("out", client)?;
    /// reactor.send(out, Arc::from(&b"/a\0\0,\0\0\0"[..]), None)?;
    /// let mut got = None;
    /// while got.is_none() {
    ///     reactor.poll(Some(Duration::from_millis(50)), |p| got = Some(p.name.to_owned()))?;
    /// }
    /// assert_eq!(got.as_deref(), Some("in/1"));
    /// drop(reactor);
    /// assert!(!path.exists()); // removed with the reactor
    /// # Ok::<(), osc_channel::ChannelError>(())
    /// ```
    pub fn open_unix_server(&mut self, name: &str, cfg: UnixServerConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let rules = cfg.rules();
        let emit = |ev| crate::event::emit(cfg.events.as_ref(), name, ev);
        emit(ChannelEvent::Activating);
        crate::unix_socket::clear(&cfg.path, true)
            .map_err(|e| ChannelError::io("listen", name, e))?;
        let listener = mio::net::UnixListener::bind(&cfg.path)
            .map_err(|e| ChannelError::io("listen", name, e))?;
        let file = crate::unix_socket::SocketFile::claim(&cfg.path, cfg.mode)
            .map_err(|e| ChannelError::io("chmod", name, e))?;
        emit(ChannelEvent::Activated);
        log::debug!(
            "channel {name}: Unix stream server at {}",
            cfg.path.display()
        );
        let listener = Listener::Unix {
            listener,
            file,
            path: Arc::from(cfg.path.as_path()),
            accepted: 0,
        };
        self.listen(name, listener, None, rules)
    }

    /// Opens a Unix stream client of the server at `cfg.path`.
    pub fn open_unix_client(&mut self, name: &str, cfg: UnixClientConfig) -> Result<ChannelId> {
        self.check_name(name)?;
        let events = cfg.events.clone();
        let reconnect = Reconnect::new(cfg.reconnect);
        self.open_client(name, ClientCfg::Unix(cfg), reconnect, events)
    }
}
