//! The dispatcher as the facade uses it: one per runtime, configured from the mode.

use std::time::Duration;

use osc_codec::{Packet, TimeTag};
use osc_dispatch::{
    Context, DispatchBatch, Dispatcher, DispatcherConfig, Executor, Handler, KeptMethods,
    MethodHandle, MethodOptions, ShutdownOptions,
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

    /// A dispatch batch for the packets of a pass, starting from `kept` (the
    /// dispatching thread's look at the methods, kept from pass to pass); `None` after
    /// shutdown (logged).
    pub(crate) fn batch(&self, kept: &mut KeptMethods) -> Option<DispatchBatch<'_>> {
        self.d
            .batch_kept(kept)
            .map_err(|e| log::warn!("dispatch: {e}"))
            .ok()
    }

    /// Dispatches a received packet in `batch`, with a context the caller lends (cloned
    /// only for a bundle); failures are the dispatcher's to log and count.
    pub(crate) fn dispatch_in(
        batch: &mut DispatchBatch<'_>,
        packet: Packet,
        ctx: &Context,
        now: TimeTag,
    ) {
        if let Err(e) = batch.dispatch_packet_lent(packet, ctx, now) {
            log::warn!("dispatch: {e}");
        }
    }

    /// Dispatches a received message from its zero-copy view, in `batch`.
    pub(crate) fn dispatch_ref(
        batch: &mut DispatchBatch<'_>,
        msg: &osc_codec::MessageRef<'_>,
        ctx: &Context,
    ) {
        if let Err(e) = batch.dispatch_message_ref(msg, ctx) {
            log::warn!("dispatch: {e}");
        }
    }

    /// Dispatches a received bundle from its zero-copy view, in `batch`, against its
    /// arrival time (copied into an owned one only if it is held for later).
    pub(crate) fn dispatch_bundle_ref(
        batch: &mut DispatchBatch<'_>,
        bundle: &osc_codec::BundleRef<'_>,
        ctx: &Context,
    ) {
        if let Err(e) = batch.dispatch_bundle_ref(bundle, ctx, ctx.arrival) {
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
