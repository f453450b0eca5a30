//! The scheduling modes, one driver each: which threads read the sockets, decode,
//! dispatch and run due bundles, how they hand packets and the reactor to each other,
//! and what wakes them.
//!
//! - `eventloop.rs`: everything inside the application's `process()` calls;
//! - `comthreads.rs`: an I/O thread reads and decodes while the application is away
//!   from `process_timeout`; handlers run in `process()`;
//! - `allthreads.rs`: two I/O threads read and dispatch; handlers on the pool;
//! - `baton.rs`: what the two thread modes share (the reactor passed like a baton,
//!   starting, stopping and joining the I/O threads, queued sends).
//!
//! [`Driver`] is an enum rather than a trait object or a type parameter: the modes
//! are a closed set chosen at startup; each variant owns exactly the state its mode
//! needs (a reactor behind a mutex, or a baton and its threads and queue), so no
//! mix of them can be built; a `match` costs nothing on the send and receive paths
//! (no virtual call, no box); and `Osc` stays one concrete type, as its public API
//! requires. The receive path itself (`receive.rs`) is the same code in every mode.

mod allthreads;
mod baton;
mod comthreads;
mod eventloop;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use osc_channel::{ChannelId, ChannelSpec, Reactor, UdpWriter};

use crate::state::{Engine, Opened};
use crate::stats::Counters;
use crate::{Mode, Result};

use allthreads::AllThreads;
use comthreads::CommThreads;
use eventloop::EventLoop;

/// The running mode and its state.
// One per runtime, built once and never moved on a hot path: the event loop's reactor
// stays inline rather than behind a box (one pointer less on every send and pass).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Driver {
    /// See `eventloop.rs`.
    EventLoop(EventLoop),
    /// See `comthreads.rs`.
    CommThreads(CommThreads),
    /// See `allthreads.rs`.
    AllThreads(AllThreads),
}

impl Driver {
    /// Creates the reactor and starts the mode's threads (none in the event loop).
    pub(crate) fn start(engine: &Arc<Engine>) -> Result<Driver> {
        let reactor = Reactor::with_options(engine.config.reactor)?;
        // A newly held bundle may be due before the current wait ends: it wakes the
        // reactor (a `process_timeout` waiting there, or an I/O thread's pass), so the
        // next wait is bounded by it. From another thread (a send to `_local`) this is
        // all that ends the wait.
        let h = reactor.handle();
        engine.core.set_waker(move || h.wake());
        Ok(match engine.config.mode {
            Mode::EventLoop => Driver::EventLoop(EventLoop::new(reactor)),
            Mode::CommThreads => Driver::CommThreads(CommThreads::start(engine, reactor)?),
            Mode::AllThreads => Driver::AllThreads(AllThreads::start(engine, reactor)?),
        })
    }

    /// Opens a channel in the reactor.
    pub(crate) fn open(&self, name: &str, spec: ChannelSpec) -> Result<Opened> {
        match self {
            Driver::EventLoop(d) => d.open(name, spec),
            Driver::CommThreads(d) => d.relay().open(name, spec),
            Driver::AllThreads(d) => d.relay().open(name, spec),
        }
    }

    pub(crate) fn close(&self, id: ChannelId) -> Result<()> {
        match self {
            Driver::EventLoop(d) => d.close(id),
            Driver::CommThreads(d) => d.relay().close(id),
            Driver::AllThreads(d) => d.relay().close(id),
        }
    }

    pub(crate) fn local_addr(&self, id: ChannelId) -> Option<SocketAddr> {
        match self {
            Driver::EventLoop(d) => d.local_addr(id),
            Driver::CommThreads(d) => d.relay().local_addr(id),
            Driver::AllThreads(d) => d.relay().local_addr(id),
        }
    }

    /// Writes `data` on UDP channel `id` at once from this thread when the driver
    /// lets it (the event loop, when no other thread holds its reactor): `Some(Ok(true))`
    /// when written, `Some(Ok(false))` or `None` when it must be sent through the
    /// outbox instead (the thread modes write through their `UdpWriter`s).
    pub(crate) fn try_send_now(
        &self,
        id: ChannelId,
        data: &[u8],
    ) -> Option<osc_channel::Result<bool>> {
        match self {
            Driver::EventLoop(d) => d.try_send_now(id, data),
            Driver::CommThreads(_) | Driver::AllThreads(_) => None,
        }
    }

    /// The sending side of one `Osc::send` call; failures are counted in `counters`.
    pub(crate) fn outbox<'a>(&'a self, counters: &'a Counters) -> Outbox<'a> {
        match self {
            Driver::EventLoop(d) => Outbox(Out::EventLoop(d.outbox(counters))),
            Driver::CommThreads(d) => Outbox(Out::Threads(d.relay().outbox(counters))),
            Driver::AllThreads(d) => Outbox(Out::Threads(d.relay().outbox(counters))),
        }
    }

    /// `process_timeout`: returns the number of packets and due bundles handled.
    pub(crate) fn process(&self, engine: &Engine, max_wait: Duration) -> Result<usize> {
        match self {
            Driver::EventLoop(d) => d.process(engine, max_wait),
            Driver::CommThreads(d) => d.process(engine, max_wait),
            Driver::AllThreads(_) => Ok(AllThreads::process(max_wait)),
        }
    }

    /// Flushes queued sends, closes the channels, stops and joins the threads.
    pub(crate) fn terminate(&self, engine: &Engine) {
        match self {
            Driver::EventLoop(d) => d.terminate(engine),
            Driver::CommThreads(d) => d.terminate(engine),
            Driver::AllThreads(d) => d.terminate(engine),
        }
    }
}

/// Whether a channel opened with `spec` gets a [`UdpWriter`]: a UDP channel with a
/// destination, which the sending thread can write itself.
fn writes_udp(spec: &ChannelSpec) -> bool {
    matches!(spec, ChannelSpec::Udp(c) if c.dest.is_some())
}

/// The sends of one `Osc::send` call.
pub(crate) struct Outbox<'a>(Out<'a>);

enum Out<'a> {
    /// Written at once, or queued if another thread runs a pass.
    EventLoop(eventloop::Outbox<'a>),
    /// Written from this thread (UDP with a writer) or queued for the I/O threads.
    Threads(baton::Outbox<'a>),
}

impl Outbox<'_> {
    /// Sends on an open channel (`writer`: its UDP writer, thread modes).
    pub(crate) fn send(
        &mut self,
        id: ChannelId,
        writer: Option<&UdpWriter>,
        data: Arc<[u8]>,
    ) -> Result<()> {
        self.send_to(id, writer, data, None)
    }

    /// Sends on an open channel to `dest` (a UDP server's reply, or one connection of
    /// a TCP server), or to the channel's own destination.
    pub(crate) fn send_to(
        &mut self,
        id: ChannelId,
        writer: Option<&UdpWriter>,
        data: Arc<[u8]>,
        dest: Option<SocketAddr>,
    ) -> Result<()> {
        match &mut self.0 {
            Out::EventLoop(o) => o.send(id, data, dest),
            Out::Threads(o) => o.send(id, writer, data, dest),
        }
    }

    /// Sends on a Unix datagram channel to the socket at `path` (a reply).
    pub(crate) fn send_to_path(
        &mut self,
        id: ChannelId,
        data: Arc<[u8]>,
        path: &std::path::Path,
    ) -> Result<()> {
        match &mut self.0 {
            Out::EventLoop(o) => o.send_to_path(id, data, path),
            Out::Threads(o) => o.send_to_path(id, data, path),
        }
    }

    /// Sends on a TCP connection channel (`SERVER/PEER`), known to the reactor only.
    pub(crate) fn send_named(&mut self, name: &str, data: Arc<[u8]>) -> Result<()> {
        match &mut self.0 {
            Out::EventLoop(o) => o.send_named(name, data),
            Out::Threads(o) => o.send_named(name, data),
        }
    }

    /// Ends the call: wakes who must write what was queued.
    pub(crate) fn finish(self) {
        match self.0 {
            Out::EventLoop(_) => {}
            Out::Threads(o) => o.finish(),
        }
    }
}
