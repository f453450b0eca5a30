//! # osc4rs-tokio
//!
//! Open Sound Control for async Rust on tokio.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod clock;
mod codec;
mod error;
mod handler;
mod reply;
mod server;
mod udp;

pub use clock::TokioClock;
pub use codec::{DEFAULT_MAX_PACKET, Frame, OscCodec, StreamFraming};
pub use error::{Error, Result};
pub use handler::async_handler;
pub use reply::Replier;
pub use server::{OscServer, ServerConfig, Stopper};
pub use udp::{MAX_DATAGRAM, OscSocket};
