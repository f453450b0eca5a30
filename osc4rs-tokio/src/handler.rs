//! Async handlers: a future per message, spawned on the tokio runtime.

use std::future::Future;

use osc_codec::Message;
use osc_dispatch::{Context, Handler};
use tokio::runtime::Handle;

/// A dispatcher [`Handler`] that runs `f(message, context)` as a tokio task, so a
/// handler can await (a reply on a stream, a database, a timer) without holding up
/// the dispatch of the next packets.
///
/// The task is spawned on the runtime current when `async_handler` is called, else on
/// the one current when the message is dispatched (with neither, the message is
/// logged and dropped). Each call gets an owned copy of the message. A panicking task
/// is isolated by tokio and logged with the message's address; it is not counted in
/// [`Stats::handler_panics`](osc_dispatch::Stats::handler_panics). Tasks run
/// concurrently: order between messages is not kept (use a sync handler, or your own
/// channel to one task, when it matters).
///
/// ```
/// use osc4rs_tokio::async_handler;
/// use osc_codec::{Message, TimeTag};
/// use osc_dispatch::{Context, Dispatcher, DispatcherConfig};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let d = Dispatcher::new(DispatcherConfig::default());
/// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
/// d.register("/slow", async_handler(move |msg: Message, _ctx: Context| {
///     let tx = tx.clone();
///     async move {
///         tokio::task::yield_now().await;
///         let _ = tx.send(msg.address);
///     }
/// }))?;
/// let now = TimeTag::new(3_900_000_000, 0);
/// d.dispatch_packet(Message::new("/slow").into(), Context::new(now), now)?;
/// assert_eq!(rx.recv().await.as_deref(), Some("/slow"));
/// # Ok::<(), osc_dispatch::DispatchError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn async_handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Message, Context) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let captured = Handle::try_current().ok();
    Handler::with_context(move |msg, ctx| {
        let Some(handle) = captured.clone().or_else(|| Handle::try_current().ok()) else {
            log::error!(
                "osc4rs-tokio: no tokio runtime for the async handler of {}; message dropped",
                msg.address
            );
            return;
        };
        let task = handle.spawn(f(msg.clone(), ctx.clone()));
        let address = msg.address.clone();
        handle.spawn(async move {
            if matches!(task.await, Err(e) if e.is_panic()) {
                log::error!("osc4rs-tokio: the async handler of {address} panicked");
            }
        });
    })
}
