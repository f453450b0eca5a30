//! The dispatcher as the facade uses it: one per runtime, configured from the mode.

use std::time::Duration;

use osc_codec::{Packet, TimeTag};
use osc_dispatch::{
    Context, DispatchBatch, Dispatcher, DispatcherConfig, Executor, Handler, MethodHandle,
    MethodOptions, ShutdownOptions,
};

use crate::{Config, Mode, Result};

pub(crate) struct Core {
    d: Dispatcher,
}

impl Core {
    // `DispatcherConfig` is `#[non_exhaustive]`: a struct literal is not allowed here.
    #[allow(clippy::field_reassign_with_default)]
    pub(crate) fn new(config: &Config) -> Result<Core> {
        let pool_threads = match config.mode {
            Mode::AllThreads => config.exec_threads,
            Mode::EventLoop | Mode::CommThreads => 0,
        };
        let mut dc = DispatcherConfig::default();
        dc.scheduler = config.scheduler;
        dc.pool.threads = pool_threads;
        dc.default_executor = if pool_threads > 0 {
            Executor::Pool
        } else {
            Executor::Inline
        };
        dc.codec = config.codec.clone();
        Ok(Core {
            d: Dispatcher::new(dc),
        })
    }

    pub(crate) fn dispatcher(&self) -> &Dispatcher {
        &self.d
    }

    pub(crate) fn register(
        &self,
        address: &str,
        handler: Handler,
        options: MethodOptions,
    ) -> Result<MethodHandle> {
        Ok(self.d.register_with(address, handler, options)?)
    }

    pub(crate) fn unregister(&self, id: MethodHandle) -> bool {
        self.d.unregister(id)
    }

    /// Dispatches a received packet with a context the caller lends (cloned only for
    /// a bundle); failures are the dispatcher's to log and count.
    pub(crate) fn dispatch(&self, packet: Packet, ctx: &Context, now: TimeTag) {
        if let Err(e) = self.d.dispatch_packet_lent(packet, ctx, now) {
            log::warn!("dispatch: {e}");
        }
    }

    /// Dispatches a received packet in `batch` (started at the first packet): one look
    /// at the methods and one count for all the packets of a pass.
    pub(crate) fn dispatch_in<'d>(
        &'d self,
        batch: &mut Option<DispatchBatch<'d>>,
        packet: Packet,
        ctx: &Context,
        now: TimeTag,
    ) {
        self.in_batch(batch, |b| b.dispatch_packet_lent(packet, ctx, now));
    }

    /// Dispatches a received message from its zero-copy view, in `batch` (started at
    /// the first message).
    pub(crate) fn dispatch_ref<'d>(
        &'d self,
        batch: &mut Option<DispatchBatch<'d>>,
        msg: &osc_codec::MessageRef<'_>,
        ctx: &Context,
    ) {
        self.in_batch(batch, |b| b.dispatch_message_ref(msg, ctx));
    }

    /// Runs `dispatch` in `batch`, started here if it is not yet; failures are the
    /// dispatcher's to log and count.
    #[inline]
    fn in_batch<'d>(
        &'d self,
        batch: &mut Option<DispatchBatch<'d>>,
        dispatch: impl FnOnce(&mut DispatchBatch<'d>) -> osc_dispatch::Result<()>,
    ) {
        let dispatched = match batch {
            Some(b) => dispatch(b),
            None => self.d.batch().and_then(|b| dispatch(batch.insert(b))),
        };
        if let Err(e) = dispatched {
            log::warn!("dispatch: {e}");
        }
    }

    /// Dispatches a packet sent to `_local`.
    pub(crate) fn dispatch_local(&self, packet: Packet, now: TimeTag) {
        if let Err(e) = self.d.dispatch_local(packet, now) {
            log::warn!("local dispatch: {e}");
        }
    }

    /// Runs the bundles that are due; reads the clock only when some are pending.
    pub(crate) fn run_due(&self) -> usize {
        if !self.d.has_pending() {
            return 0;
        }
        self.d.run_due(TimeTag::now())
    }

    /// How long until the next bundle is due (`None`: none pending, and the clock is
    /// not read).
    pub(crate) fn poll_timeout(&self) -> Option<Duration> {
        if !self.d.has_pending() {
            return None;
        }
        self.d.poll_timeout(TimeTag::now())
    }

    pub(crate) fn set_waker(&self, waker: impl Fn() + Send + Sync + 'static) {
        self.d.set_waker(waker);
    }

    pub(crate) fn shutdown(&self) {
        let summary = self.d.shutdown(ShutdownOptions::default(), TimeTag::now());
        if summary.dropped_bundles > 0 {
            log::info!(
                "terminate: dropped {} future bundles",
                summary.dropped_bundles
            );
        }
    }
}
