//! The facade's error type.

/// What can go wrong using the runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OscError {
    /// Opening, closing or sending on a channel failed.
    #[error(transparent)]
    Channel(#[from] osc_channel::ChannelError),
    /// Registering a method failed (bad pattern, ...).
    #[error(transparent)]
    Dispatch(#[from] osc_dispatch::DispatchError),
    /// Building, encoding or decoding a packet failed (the codec's error says which
    /// and where).
    #[error("OSC codec: {0}")]
    Codec(#[from] osc_codec::Error),
    /// An address pattern or filter is not valid.
    #[error(transparent)]
    Pattern(#[from] osc_pattern::PatternError),
    /// A send target names no channel (and is not `_local` or `_all`).
    #[error("no channel named {0:?}")]
    UnknownTarget(String),
    /// The runtime was terminated.
    #[error("the runtime is terminated")]
    Terminated,
    /// The global runtime of the `as_*` modules is not started (call `osc_startup`).
    #[error("the OSC runtime is not started: call osc_startup() first")]
    NotStarted,
    /// An address could not be parsed or resolved.
    #[error("bad address {0:?}: {1}")]
    Address(String, String),
    /// A channel's encode hook panicked; the packet was not sent on that channel.
    #[error("the encode hook of channel {0:?} panicked")]
    HookPanicked(String),
    /// The background I/O thread could not be started.
    #[error("cannot start the I/O thread: {0}")]
    Thread(std::io::Error),
}

/// Result alias for the facade.
pub type Result<T, E = OscError> = std::result::Result<T, E>;
