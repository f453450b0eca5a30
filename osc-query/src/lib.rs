//! # osc-query
//!
//! OSCQuery for osc4rs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attr;
mod error;
mod events;
mod json;
mod namespace;
mod node;
mod parameter;
mod server;
mod ws;

pub use attr::{ATTRIBUTES, Access, ClipMode, IMPLEMENTED, NOT_IMPLEMENTED, Range, Slot};
pub use error::{QueryError, Result};
pub use json::{value_to_json, values_from_json, values_to_json};
pub use namespace::{MethodDescription, MethodSource, Namespace};
pub use node::{HostInfo, Node, Transport};
pub use parameter::{ParamScalar, ParamSpec, ParamValue, Parameter};
pub use server::{QueryServer, ServerConfig};
