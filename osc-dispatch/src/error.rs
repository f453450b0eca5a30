//! The crate's error type.

/// Everything that can go wrong when registering methods, dispatching packets or
/// extracting typed arguments.
///
/// osc4py3 mostly logs and swallows these conditions; where it raises, the exception is
/// named in the variant's documentation.
///
/// ```
/// use osc_dispatch::DispatchError;
///
/// let err = DispatchError::ArgCount { expected: 2, found: 3 };
/// assert_eq!(err.to_string(), "the handler takes 2 arguments, the message has 3");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// A method address or filter is not valid (osc4py3: `ValueError`).
    #[error("invalid method address: {0}")]
    Address(#[from] osc_pattern::PatternError),
    /// A packet handed to [`Dispatcher::dispatch_bytes`](crate::Dispatcher::dispatch_bytes)
    /// could not be decoded.
    #[error("undecodable packet: {0}")]
    Decode(#[from] osc_codec::Error),
    /// The message does not have the number of arguments a typed handler takes
    /// (osc4py3: the handler call raises `TypeError`).
    #[error("the handler takes {expected} arguments, the message has {found}")]
    ArgCount {
        /// How many the handler takes (its required ones when fewer are present).
        expected: usize,
        /// How many the message has.
        found: usize,
    },
    /// An argument has a type that the handler's parameter does not accept under the
    /// coercion policy (see [`FromValue`](crate::FromValue)).
    #[error("argument {index} is {found}, the handler wants {expected}")]
    ArgType {
        /// Position of the argument (0-based).
        index: usize,
        /// What the handler wants (a Rust type name such as `"f32"`).
        expected: &'static str,
        /// What the message carries (an OSC kind such as `"string"`).
        found: &'static str,
    },
    /// An integer argument does not fit the handler's integer type.
    #[error("argument {index} ({value}) is out of range for {expected}")]
    ArgRange {
        /// Position of the argument (0-based).
        index: usize,
        /// The value received.
        value: i64,
        /// The handler's type.
        expected: &'static str,
    },
    /// The worker pool's queue was full and the job was dropped (see
    /// [`OverflowPolicy`](crate::OverflowPolicy)).
    #[error("the worker pool's queue is full ({capacity} jobs): job dropped")]
    PoolFull {
        /// The queue's capacity.
        capacity: usize,
    },
    /// A worker thread could not be started.
    #[error("cannot start a worker thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// A method handle that names no registered method (never registered, or
    /// unregistered since).
    #[error("no such method")]
    NoSuchMethod,
    /// The dispatcher (or worker pool) was shut down; nothing more is dispatched.
    #[error("the dispatcher is shut down")]
    ShutDown,
}

/// `Result` with [`DispatchError`].
pub type Result<T, E = DispatchError> = core::result::Result<T, E>;
