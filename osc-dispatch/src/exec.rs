//! Calling handlers: per-method locks, panic catching, argument-error reporting, and the
//! bundle lane that runs pool-executed bundles one after another, in release order.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use osc_codec::Message;
use parking_lot::{Mutex, ReentrantMutex};

use crate::handler::Msg;
use crate::stats::{Counters, bump};
use crate::{Context, DispatchError, Handler, WorkerPool};

/// A registered method, as the dispatcher keeps it.
#[derive(Debug)]
pub(crate) struct Method {
    pub(crate) source: Box<str>,
    pub(crate) handler: Handler,
    pub(crate) lock: Option<Arc<Mutex<()>>>,
    pub(crate) on_pool: bool,
}

/// One handler call of a bundle.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) method: Arc<Method>,
    pub(crate) msg: Arc<Message>,
    pub(crate) ctx: Context,
}

#[derive(Debug, Default)]
struct LaneState {
    queue: VecDeque<Vec<Call>>,
    draining: bool,
}

/// What the dispatcher and its pool jobs share to execute calls: the counters and the
/// bundle ordering (gate and serializing lane).
#[derive(Debug)]
pub(crate) struct ExecState {
    pub(crate) counters: Counters,
    /// Held while a bundle's calls run, so two bundles never interleave. Re-entrant: a
    /// handler may dispatch a bundle locally from inside a bundle.
    bundle_gate: ReentrantMutex<()>,
    serialize_bundles: bool,
    lane: Mutex<LaneState>,
}

impl ExecState {
    pub(crate) fn new(serialize_bundles: bool) -> Self {
        ExecState {
            counters: Counters::default(),
            bundle_gate: ReentrantMutex::new(()),
            serialize_bundles,
            lane: Mutex::new(LaneState::default()),
        }
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "(non-text panic payload)"
    }
}

/// Calls one handler: holds the method's lock, catches a panic, logs and counts.
pub(crate) fn invoke(shared: &ExecState, method: &Method, msg: Msg<'_, '_>, ctx: &Context) {
    let _guard = method.lock.as_ref().map(|l| l.lock());
    let c = &shared.counters;
    match catch_unwind(AssertUnwindSafe(|| method.handler.call(msg, ctx))) {
        Ok(Ok(())) => bump(&c.handler_calls),
        Ok(Err(e)) => {
            bump(&c.handler_calls);
            if matches!(
                e,
                DispatchError::ArgCount { .. }
                    | DispatchError::ArgType { .. }
                    | DispatchError::ArgRange { .. }
            ) {
                bump(&c.arg_errors);
            }
            log::warn!(
                "osc-dispatch: {} {} not handled by method {}: {e}",
                msg.address(),
                msg.type_tags(),
                method.source
            );
        }
        Err(payload) => {
            bump(&c.handler_panics);
            log::error!(
                "osc-dispatch: handler of method {} panicked on {}: {}",
                method.source,
                msg.address(),
                panic_text(payload.as_ref())
            );
        }
    }
}

/// Runs a bundle's calls in order, holding the bundle gate.
pub(crate) fn run_calls(shared: &ExecState, calls: Vec<Call>) {
    let _gate = shared.serialize_bundles.then(|| shared.bundle_gate.lock());
    for call in calls {
        invoke(shared, &call.method, Msg::Owned(&call.msg), &call.ctx);
    }
}

/// Queues a bundle's calls on the lane; starts a pool job to drain the lane unless one
/// is already draining it. So pool-executed bundles run one at a time, in the order
/// they were released.
pub(crate) fn submit_bundle(shared: &Arc<ExecState>, pool: &WorkerPool, calls: Vec<Call>) {
    let start = {
        let mut lane = shared.lane.lock();
        lane.queue.push_back(calls);
        !std::mem::replace(&mut lane.draining, true)
    };
    if !start {
        return;
    }
    let job_shared = Arc::clone(shared);
    if let Err(e) = pool.submit(Box::new(move || drain_lane(&job_shared))) {
        let dropped = {
            let mut lane = shared.lane.lock();
            lane.draining = false;
            std::mem::take(&mut lane.queue)
        };
        log::warn!("osc-dispatch: {} bundle(s) not run: {e}", dropped.len());
    }
}

fn drain_lane(shared: &ExecState) {
    loop {
        let batch = {
            let mut lane = shared.lane.lock();
            match lane.queue.pop_front() {
                Some(b) => b,
                None => {
                    lane.draining = false;
                    return;
                }
            }
        };
        run_calls(shared, batch);
    }
}
