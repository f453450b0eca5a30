//! # osc4rs
//!
//! Open Sound Control for Rust, after the Python library osc4py3: open named channels
//! (UDP unicast, broadcast and multicast, TCP with both framings), register methods,
//! send to a name or a group of names, and choose at startup where the work happens:
//!
//! - [`Mode::EventLoop`]: everything runs inside your [`Osc::process`] call;
//! - [`Mode::CommThreads`]: I/O and decoding in a background thread, handlers in `process()`;
//! - [`Mode::AllThreads`]: everything in the background, handlers on a worker pool.
//!
//! ```
//! use osc4rs::{Message, Mode, Osc};
//! use std::sync::mpsc;
//! use std::time::Duration;
//!
//! let osc = Osc::builder().mode(Mode::AllThreads).exec_threads(2).start()?;
//! osc.udp_server("in", "127.0.0.1:0")?;
//! let port = osc.local_addr("in").unwrap().port();
//! osc.udp_client("out", ("127.0.0.1", port))?;
//!
//! let (tx, rx) = mpsc::channel();
//! let tx = std::sync::Mutex::new(tx);
//! osc.method("/test/*", move |m: &Message| {
//!     let _ = tx.lock().unwrap().send(m.clone());
//! })?;
//! osc.send(Message::new("/test/me").arg("text").arg(672).arg(8.871f32), "out")?;
//! let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
//! assert_eq!(got.type_tags(), ",sif");
//! osc.terminate()?;
//! # Ok::<(), osc4rs::OscError>(())
//! ```
//!
//! The layers below are re-exported: [`codec`] (packets, timetags, text notation),
//! [`pattern`] (address patterns), [`channel`] (transports) and [`dispatch`] (methods,
//! typed handlers, bundle scheduling). Depend on `osc-codec` alone if you only encode
//! and decode.
//!
//! For code written from the osc4py3 documentation, [`as_eventloop`],
//! [`as_comthreads`] and [`as_allthreads`] offer its functions (`osc_startup`,
//! `osc_udp_server(address, port, name)`, `osc_method`, `osc_send`, `osc_process`,
//! `osc_terminate`, ...) over one global runtime.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builder;
mod compat;
mod core;
mod driver;
mod error;
mod hooks;
mod kind;
mod mode;
mod notice;
mod receive;
pub mod record;
mod runtime;
mod sender;
mod state;
mod stats;
mod target;

pub use builder::OscBuilder;
pub use compat::{as_allthreads, as_comthreads, as_eventloop};
pub use error::{OscError, Result};
pub use hooks::{ChannelHooks, DecodeHook, Decoded, EncodeHook, PacketOptions};
pub use kind::ChannelKind;
pub use mode::{Config, Mode};
pub use runtime::{IntoAddr, Osc, OscHandle};
pub use sender::Sender;
pub use stats::RuntimeStats;
pub use target::{ALL, IntoTarget, LOCAL, Target};

#[doc(inline)]
pub use osc_channel::{DropReason, StatsSnapshot};
#[doc(inline)]
pub use osc_codec::{Bundle, Message, Packet, TimeTag, Value, osc_message};
#[doc(inline)]
pub use osc_dispatch::{
    Context, Executor, FromArgRef, FromArgRefs, FromArgs, Handler, IntoHandler, MethodHandle,
    MethodOptions, TypedFn, TypedRefFn,
};

/// Transport channels.
#[doc(inline)]
pub use osc_channel as channel;
/// The codec: packets, values, timetags, options, framing, text notation.
#[doc(inline)]
pub use osc_codec as codec;
/// Method registry, handlers, bundle scheduling, worker pool.
#[doc(inline)]
pub use osc_dispatch as dispatch;
/// Address patterns and filters.
#[doc(inline)]
pub use osc_pattern as pattern;

/// The recording guide (`docs/recording.md`), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/recording.md")]
pub struct RecordingGuide;

/// The user guide (`docs/guide.md`), compiled as doctests so its examples stay true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
pub struct UserGuide;
