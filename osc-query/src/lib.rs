//! # osc-query
//!
//! OSCQuery (the Vidvox OSCQuery proposal) for osc4rs: an application's OSC address
//! space served as JSON over HTTP, values streamed over a WebSocket on the same port,
//! and the server advertised and found with DNS-SD.
//!
//! - [`OscQuery`] publishes an osc4rs runtime: every method registered at a plain
//!   address is a node, with `TYPE` from typed handlers
//!   (`Handler::typed(|freq: f32| ..)` is `"f"`) or declared with
//!   [`MethodDescription`]; methods added or removed later appear and disappear
//!   (and WebSocket clients hear `PATH_ADDED` / `PATH_REMOVED`). Methods registered
//!   with a pattern are not nodes ([`Namespace::filters`] lists them).
//! - [`Parameter`]s hold a value (`VALUE`, `RANGE`, `UNIT`, `CLIPMODE`) that
//!   incoming messages set and the application reads and sets; clients that `LISTEN`
//!   get each new value as a binary OSC packet.
//! - [`Namespace`], [`QueryServer`], [`Node`] and [`HostInfo`] work without the
//!   facade (with an `osc-dispatch` dispatcher, or parameters alone).
//! - [`Advertisement`] and [`browse`]: `_oscjson._tcp` and `_osc._udp` over mDNS.
//!
//! ```
//! use osc4rs::{Handler, Message, Osc};
//! use osc_query::{ClipMode, MethodDescription, OscQuery, ParamSpec, Range};
//! use std::io::{Read, Write};
//!
//! let osc = Osc::builder().start()?;
//! osc.udp_server("in", "127.0.0.1:0")?;
//! osc.method("/synth/1/note", Handler::typed(|note: i32, vel: f32| println!("{note} {vel}")))?;
//! let query = OscQuery::builder("synth")
//!     .http_addr("127.0.0.1:0".parse()?)
//!     .osc_channel("in")
//!     .start(&osc)?;
//! query.describe("/synth/1/note", MethodDescription::new().description("plays a note"));
//! let freq = query.add_parameter(
//!     ParamSpec::new("/synth/1/freq", 440.0f32)
//!         .range(Range::new(20.0, 20_000.0))
//!         .unit("frequency.hz")
//!         .clip(ClipMode::Both),
//! )?;
//! freq.set(30_000.0);
//! assert_eq!(freq.get(), 20_000.0);
//!
//! // What an OSCQuery client sees.
//! let mut http = std::net::TcpStream::connect(query.http_addr())?;
//! http.write_all(b"GET /synth/1/note HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! let mut answer = String::new();
//! http.read_to_string(&mut answer)?;
//! let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
//! let node = osc_query::Node::from_json(body)?;
//! assert_eq!(node.types.as_deref(), Some("if"));
//! assert_eq!(node.description.as_deref(), Some("plays a note"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The HTTP statuses, limits and streaming rules are in
//! `docs/discovery.md` (and [`ServerConfig`] for the limits).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attr;
mod client;
mod dnssd;
mod error;
mod events;
mod ext;
pub mod guard;
mod json;
mod namespace;
mod node;
mod parameter;
mod publish;
mod resolve;
mod server;
mod ws;

pub use attr::{ATTRIBUTES, Access, ClipMode, IMPLEMENTED, NOT_IMPLEMENTED, Range, Slot};
pub use client::{Listener, QueryClient, Update};
pub use dnssd::{Advertisement, Change, OSC_TCP, OSC_UDP, OSCJSON_TCP, Service, Watcher, browse};
pub use error::{QueryError, Result};
pub use ext::OscQueryExt;
pub use json::{value_to_json, values_from_json, values_to_json};
pub use namespace::{MethodDescription, MethodSource, Namespace};
pub use node::{HostInfo, Node, Transport};
pub use parameter::{ParamScalar, ParamSpec, ParamValue, Parameter};
pub use publish::{OscQuery, OscQueryBuilder};
pub use resolve::{OscTarget, resolve, resolve_query};
pub use server::{QueryServer, ServerConfig};

/// The discovery guide (`docs/discovery.md`), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/discovery.md")]
pub struct DiscoveryGuide;
