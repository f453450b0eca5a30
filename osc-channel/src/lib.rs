//! # osc-channel
//!
//! Moves raw OSC packets in and out of sockets, for any number of channels, from one
//! `mio::Poll`: UDP unicast, broadcast and multicast (IPv4 and IPv6), TCP servers and
//! clients with OSC 1.0 length-prefix or OSC 1.1 SLIP framing, Unix domain datagram
//! and stream sockets ([`UnixDatagramConfig`], [`UnixServerConfig`],
//! [`UnixClientConfig`]); [`Endpoint`] parses liblo-style URLs into channel specs. It never decodes a
//! message and never calls a user handler: packets come out as bytes with their source
//! (channel, peer address, arrival time) and you decide what to do with them.
//!
//! ```
//! use osc_channel::{Reactor, StreamFraming, TcpClientConfig, TcpServerConfig};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let mut reactor = Reactor::new()?;
//! let mut server_cfg = TcpServerConfig::new("127.0.0.1:0".parse().unwrap());
//! server_cfg.framing = StreamFraming::Auto;
//! let server = reactor.open_tcp_server("in", server_cfg)?;
//! let mut client_cfg = TcpClientConfig::new(reactor.local_addr(server).unwrap());
//! client_cfg.framing = StreamFraming::Slip;
//! let client = reactor.open_tcp_client("out", client_cfg)?;
//! reactor.send(client, Arc::from(&b"/a\0\0,\0\0\0"[..]), None)?;
//!
//! let mut got = None;
//! while got.is_none() {
//!     reactor.poll(Some(Duration::from_millis(50)), |p| got = Some((p.name.to_owned(), p.data.len())))?;
//! }
//! let (name, len) = got.unwrap();
//! assert!(name.starts_with("in/127.0.0.1:"));   // one channel per connection
//! assert_eq!(len, 8);
//! # Ok::<(), osc_channel::ChannelError>(())
//! ```
//!
//! ## Threads
//! [`Reactor::poll`] runs one pass and returns (an event loop calls it); [`Reactor::run`]
//! loops until [`ReactorHandle::stop`]. A [`ReactorHandle`] lets other threads send,
//! open and close channels: commands go through a bounded crossbeam channel and a mio
//! `Waker`.
//!
//! ## Limits and failures
//! Every limit is a typed option with a safe default (see [`UdpConfig`],
//! [`TcpServerConfig`], [`StreamLimits`]). A packet or connection that breaks one is
//! dropped, logged, counted in [`ChannelStats`] and reported as a
//! [`ChannelEvent::Dropped`]; the channel keeps serving everyone else. Nothing a peer
//! sends can make the reactor panic or grow without bound.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod backlog;
mod channel;
mod command;
mod endpoint;
mod error;
mod event;
mod handle;
mod id;
mod interest;
pub mod machine;
mod options;
mod reactor;
mod recv_errors;
mod serial_options;
mod socket;
mod spec;
mod stats;
mod stream_io;
mod udp_io;
mod unix_io;
mod unix_options;
mod unix_socket;
mod writer;

pub use endpoint::Endpoint;
pub use error::{ChannelError, Result, UrlError};
pub use event::{ChannelEvent, EventHandler, Verdict};
pub use handle::ReactorHandle;
pub use id::{ChannelId, Received};
pub use options::{
    Backoff, DEFAULT_RECV_BUFFER, IpVersion, MAX_DATAGRAM_V4, MAX_DATAGRAM_V6, Multicast,
    ReactorConfig, StreamFraming, StreamLimits, TcpClientConfig, TcpServerConfig, UdpConfig,
    resolve,
};
pub use reactor::Reactor;
pub use serial_options::{DEFAULT_BAUD, SerialConfig};
pub use socket::{SocketInfo, send_batch};
pub use spec::ChannelSpec;
pub use stats::{ChannelStats, DropReason, StatsSnapshot};
pub use unix_options::{
    DEFAULT_SOCKET_MODE, MAX_UNIX_DATAGRAM, UnixClientConfig, UnixDatagramConfig, UnixServerConfig,
};
pub use writer::UdpWriter;

/// The channel guide (`docs/channels.md`), compiled as doctests so its examples stay
/// true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/channels.md")]
pub struct ChannelGuide;
