//! # osc-dispatch
//!
//! Calls the right Open Sound Control handlers at the right time: a method registry
//! (spec dispatch of incoming patterns, plus registered filters), typed handlers, a
//! sans-I/O bundle scheduler driven with an explicit `now`, per-method locks and
//! executors, and a worker pool. No sockets and no clock reads: the caller (the
//! `osc4rs` facade, or a test with a [`VirtualClock`]) passes time in.
//!
//! ```
//! use osc_codec::{Bundle, Message, Packet, TimeTag};
//! use osc_dispatch::{Clock, Context, Dispatcher, DispatcherConfig, Handler, VirtualClock};
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//!
//! let d = Dispatcher::new(DispatcherConfig::default());
//! let heard = Arc::new(Mutex::new(Vec::new()));
//! let h = heard.clone();
//! d.register("/synth/1/freq", Handler::typed(move |freq: f32| h.lock().unwrap().push(freq)))?;
//!
//! let clock = VirtualClock::new(TimeTag::new(3_900_000_000, 0));
//! let ctx = Context::new(clock.now()).with_channel("in");
//!
//! // A message (or an immediate bundle) runs at once; incoming patterns select methods.
//! d.dispatch_packet(Message::new("/synth/*/freq").arg(440.0f32).into(), ctx.clone(), clock.now())?;
//!
//! // A future bundle waits until due; the driver asks how long it may sleep.
//! let at = clock.now() + Duration::from_millis(250);
//! let bundle = Bundle::new(at).add(Message::new("/synth/1/freq").arg(880));
//! d.dispatch_packet(Packet::from(bundle), ctx, clock.now())?;
//! assert_eq!(d.poll_timeout(clock.now()), Some(Duration::from_millis(249))); // 1 ms tolerance
//! clock.advance(Duration::from_millis(250));
//! assert_eq!(d.run_due(clock.now()), 1);
//! assert_eq!(*heard.lock().unwrap(), [440.0, 880.0]);
//! # Ok::<(), osc_dispatch::DispatchError>(())
//! ```
//!
//! ## Pieces
//! - [`Dispatcher`]: registry ([`register`](Dispatcher::register),
//!   [`unregister`](Dispatcher::unregister), [`set_fallback`](Dispatcher::set_fallback)),
//!   dispatch ([`dispatch_packet`](Dispatcher::dispatch_packet),
//!   [`dispatch_bytes`](Dispatcher::dispatch_bytes),
//!   [`dispatch_local`](Dispatcher::dispatch_local)), time
//!   ([`run_due`](Dispatcher::run_due), [`next_due`](Dispatcher::next_due),
//!   [`poll_timeout`](Dispatcher::poll_timeout)), [`stats`](Dispatcher::stats) and
//!   [`shutdown`](Dispatcher::shutdown).
//! - [`Handler`] constructors and [`FromArgs`]/[`FromValue`] (typed arguments, with the
//!   [coercion policy](args#coercion-policy)); [`Context`] (channel, peer, arrival,
//!   bundle timetag); [`MethodOptions`] (lock, [`Executor`]).
//! - Borrowed handlers over the zero-copy view ([`Handler::borrowed`],
//!   [`Handler::typed_ref`] with [`FromArgRef`]/[`FromArgRefs`]) and
//!   [`dispatch_message_ref`](Dispatcher::dispatch_message_ref): a message dispatched
//!   from its view to them allocates nothing, and neither does a bundle that runs at
//!   once ([`DispatchBatch::dispatch_bundle_ref`]).
//! - [`Scheduler`]: the bundle rules alone, usable by any driver
//!   ([`SchedulerConfig::verdict`]: what they decide for a timetag).
//! - [`WorkerPool`]: bounded, blocking-idle, panic-proof, with a deadline shutdown.
//!
//! ## Guarantees
//! - Nothing grows without bound: pending bundles ([`SchedulerConfig::max_pending`],
//!   [`SchedulerConfig::max_horizon`]) and pool jobs ([`PoolConfig::queue_capacity`])
//!   are capped; what is refused is dropped, logged and counted in [`Stats`].
//! - A panicking handler is caught, logged with its method and address, counted, and
//!   dispatch goes on; a malformed packet is an error for that packet only.
//! - No internal lock is held while a user handler runs (only the method's own lock and,
//!   inside a bundle, the re-entrant bundle gate that keeps bundles from interleaving).
//! - Idle workers block; shutdown never waits for future bundles.
//!
//! Scheduling semantics, and how they differ from osc4py3's, are in `docs/dispatch.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod args_ref;
mod clock;
mod context;
mod dispatcher;
mod error;
mod exec;
mod handler;
mod pool;
mod scheduler;
mod stats;

pub use args::{FromArgs, FromValue};
pub use args_ref::{FromArgRef, FromArgRefs};
pub use clock::{Clock, SystemClock, VirtualClock};
pub use context::{Context, LOCAL_CHANNEL};
pub use dispatcher::{
    DispatchBatch, Dispatcher, DispatcherConfig, KeptMethods, MethodHandle, MethodInfo,
    ShutdownOptions, ShutdownSummary,
};
pub use error::{DispatchError, Result};
pub use handler::{Executor, Handler, IntoHandler, MethodOptions, ThreadSafe, TypedFn, TypedRefFn};
pub use pool::{Job, OverflowPolicy, PoolConfig, PoolStats, ShutdownReport, WorkerPool};
pub use scheduler::{
    BundleDrop, Decision, LatePolicy, NestedPolicy, Release, Scheduled, Scheduler, SchedulerConfig,
    TimetagOffset, Verdict,
};
pub use stats::Stats;

/// The user guide (`docs/dispatch.md`), compiled as doctests so its examples stay true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/dispatch.md")]
pub struct UserGuide;
