//! The crate's error type.

use std::net::SocketAddr;

/// What went wrong in the OSCQuery layer: serving, publishing, reading a remote
/// namespace, or advertising.
///
/// ```
/// use osc_query::QueryError;
/// let e = QueryError::NotFound { path: "/nope".into() };
/// assert_eq!(e.to_string(), "no OSC node at /nope");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The HTTP server could not listen on the address.
    #[error("cannot listen for OSCQuery on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Another I/O failure (starting the server thread, connecting as a client).
    #[error("OSCQuery I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A path that is not a plain OSC address (patterns are not nodes).
    #[error("{path:?} is not a plain OSC address: {reason}")]
    Address {
        /// The path given.
        path: String,
        /// Why it was refused.
        reason: String,
    },
    /// No node at that path (HTTP 404 on the wire).
    #[error("no OSC node at {path}")]
    NotFound {
        /// The path asked for.
        path: String,
    },
    /// A value that does not fit the type tags it is read or written with.
    #[error("value does not fit TYPE {types:?}: {reason}")]
    Value {
        /// The type tag string.
        types: String,
        /// What did not fit.
        reason: String,
    },
    /// JSON that is not what the OSCQuery proposal describes.
    #[error("malformed OSCQuery JSON ({context}): {reason}")]
    Json {
        /// What was being read.
        context: String,
        /// The parser's message.
        reason: String,
    },
    /// An HTTP exchange as a client that did not succeed.
    #[error("HTTP {status} from {url}")]
    Http {
        /// The status code.
        status: u16,
        /// The URL asked.
        url: String,
    },
    /// The osc4rs runtime refused a call (or has terminated).
    #[error(transparent)]
    Osc(#[from] osc4rs::OscError),
    /// A WebSocket exchange as a client failed (handshake refused, connection lost,
    /// a frame that is not OSCQuery's).
    #[error("WebSocket: {0}")]
    WebSocket(String),
    /// No service by that instance name answered on the local network in time.
    #[error("no OSC or OSCQuery service named {0:?} answered on the local network")]
    NoService(String),
    /// DNS-SD (mDNS) advertising or browsing failed.
    #[error("DNS-SD: {0}")]
    DnsSd(String),
}

/// `Result` with [`QueryError`].
pub type Result<T, E = QueryError> = std::result::Result<T, E>;
