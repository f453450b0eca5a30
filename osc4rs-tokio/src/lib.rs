//! # osc4rs-tokio
//!
//! Open Sound Control for async Rust on tokio: UDP sockets with borrowed, validated
//! packet views, tokio-util codecs for OSC streams (OSC 1.0 length prefix, OSC 1.1
//! SLIP, or detected), and an async server that dispatches to
//! [`osc_dispatch`] methods and holds bundles until their timetag on tokio's timer.
//! tokio is this crate's only runtime; the sync crates never depend on it.
//!
//! ```
//! use std::sync::Arc;
//! use osc4rs_tokio::{OscServer, OscSocket, MAX_DATAGRAM};
//! use osc_codec::{Bundle, Message, PacketRef};
//! use osc_dispatch::{Clock, Dispatcher, DispatcherConfig, Handler};
//! use std::time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! // Methods on a dispatcher; replies through the server's Replier.
//! let dispatcher = Arc::new(Dispatcher::new(DispatcherConfig::default()));
//! let mut server = OscServer::new(dispatcher.clone());
//! let replier = server.replier();
//! dispatcher.register("/synth/*/freq", Handler::with_context(move |msg, ctx| {
//!     let _ = replier.reply(ctx, Message::new("/ack").arg(msg.address.clone()).into());
//! }))?;
//!
//! let socket = OscSocket::bind("127.0.0.1:0").await?;
//! let addr = socket.local_addr()?;
//! server.add_udp("in", &socket);
//! let clock = server.clock();
//! let stopper = server.stopper();
//! let running = tokio::spawn(server.run());
//!
//! // A bundle 20 ms ahead: held, then dispatched on tokio's timer.
//! let mut client = OscSocket::bind("127.0.0.1:0").await?;
//! let bundle = Bundle::new(clock.now() + Duration::from_millis(20))
//!     .add(Message::new("/synth/1/freq").arg(440.0f32));
//! client.send_to(&bundle.into(), addr).await?;
//!
//! let mut buf = vec![0; MAX_DATAGRAM]; // reused: recv allocates nothing
//! let (PacketRef::Message(ack), _) = client.recv(&mut buf).await? else { unreachable!() };
//! assert_eq!(ack.address(), "/ack");
//!
//! stopper.stop(); // graceful: never waits for future bundles
//! running.await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Pieces
//! - [`OscSocket`]: `recv` into the caller's buffer giving a [`osc_codec::PacketRef`]
//!   and the peer (no allocation per packet), `send_to` encoding into a reused buffer,
//!   `send_ref_to` relaying a borrowed packet as it is; [`OscUnixSocket`] the same over
//!   Unix datagram sockets.
//! - [`OscCodec`]: `Decoder`/`Encoder` so that `Framed<TcpStream, OscCodec>` is a
//!   `Stream` of [`Frame`]s and a `Sink` of packets; limits and the bad-input rules
//!   are in its doc.
//! - [`OscServer`]: UDP sockets and TCP listeners into a dispatcher; [`Replier`] for
//!   replies from handlers; [`async_handler`] for handlers that return a future;
//!   [`Stopper`] for a graceful shutdown; [`TokioClock`] so `tokio::time::pause`
//!   drives scheduling.
//!
//! The guide is `docs/async.md` (compiled as doctests); examples are in `examples/`:
//! an echo server, a UDP-to-channel bridge, and a TCP client that reconnects.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clock;
mod codec;
mod error;
mod handler;
mod reply;
mod server;
mod udp;
#[cfg(unix)]
mod unix;

pub use clock::TokioClock;
pub use codec::{DEFAULT_MAX_PACKET, Frame, OscCodec, StreamFraming};
pub use error::{Error, Result};
pub use handler::async_handler;
pub use reply::Replier;
pub use server::{OscServer, ServerConfig, Stopper};
#[cfg(target_os = "linux")]
pub use udp::{Batch, RecvBatch};
pub use udp::{DEFAULT_RECV_BUFFER, MAX_DATAGRAM, OscSocket};
#[cfg(unix)]
pub use unix::OscUnixSocket;

/// The user guide (`docs/async.md`), compiled as doctests so its examples stay true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/async.md")]
pub struct UserGuide;
