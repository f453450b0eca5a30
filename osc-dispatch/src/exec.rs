//! Calling handlers: per-method locks, panic catching, argument-error reporting, the
//! bundle lane that runs pool-executed bundles one after another, in release order, and
//! the reusable slots that carry one method's call to the worker pool.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use osc_codec::{Message, Options, PacketRef, StringPolicy};
use parking_lot::{Mutex, ReentrantMutex, ReentrantMutexGuard};

use crate::handler::Msg;
use crate::stats::{Counters, bump};
use crate::{Context, DispatchError, Handler};

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
    pub(crate) msg: CallMsg,
    pub(crate) ctx: Context,
}

/// The message of a bundle's call.
#[derive(Debug)]
pub(crate) enum CallMsg {
    /// Owned, shared by the message's calls: every call of an owned bundle (one held
    /// for later, or dispatched owned), and an owned handler's call in a bundle
    /// gathered from its view.
    Owned(Arc<Message>),
    /// Where the message is in a copy of its bundle's bytes, shared by the bundle's
    /// calls, for a borrowed handler: read again as a view when the call runs, without
    /// a second validation, with the strings read as the bundle's view read them.
    InBundle {
        bytes: Arc<[u8]>,
        at: std::ops::Range<u32>,
        strings: StringPolicy,
    },
}

impl CallMsg {
    /// Calls `method` with the message.
    fn invoke(&self, shared: &ExecState, method: &Method, ctx: &Context) {
        match self {
            CallMsg::Owned(msg) => invoke(shared, method, Msg::Owned(msg), ctx),
            CallMsg::InBundle { bytes, at, strings } => {
                let bytes = bytes
                    .get(at.start as usize..at.end as usize)
                    .unwrap_or_default();
                match reread(bytes, *strings) {
                    Some(view) => invoke(shared, method, Msg::View(&view), ctx),
                    None => not_reread(shared, method),
                }
            }
        }
    }
}

/// The view of a message's bytes copied from a view decoded with the string policy
/// `strings` (so validated): read again without checking.
fn reread(bytes: &[u8], strings: StringPolicy) -> Option<osc_codec::MessageRef<'_>> {
    let opts = Options {
        strings,
        ..Options::DEFAULT
    };
    match osc_codec::decode_validated(bytes, &opts) {
        Some(PacketRef::Message(view)) => Some(view),
        _ => None,
    }
}

/// Logs and counts a copied message that did not read again (cannot happen to bytes
/// copied from a view).
fn not_reread(shared: &ExecState, method: &Method) {
    bump(&shared.counters.decode_errors);
    log::error!(
        "osc-dispatch: method {}: a copied message did not decode again",
        method.source
    );
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
    /// Run [`PoolCall`] slots that no thread kept for itself, for the next call (at
    /// most [`PoolCall::KEPT`]). Boxed: a slot moves into the pool's queue as a box.
    #[allow(clippy::vec_box)]
    free: Mutex<Vec<Box<PoolCall>>>,
    /// Emptied call lists of bundles that ran, for the next bundles (at most
    /// [`SPARE_LISTS`], each of at most [`SPARE_CALLS`] calls).
    spare_calls: Mutex<Vec<Vec<Call>>>,
}

/// Call lists kept for reuse. An allthreads pass queues all its bundles on the lane
/// before it drains them, so a burst of up to this many bundles reuses its lists (the
/// `zero_alloc` test's bursts are 64 datagrams); a pass with more makes lists for the
/// rest.
const SPARE_LISTS: usize = 64;
/// A list that grew past this many calls is freed after its bundle ran (so the kept
/// lists hold at most about 600 KiB).
const SPARE_CALLS: usize = 64;

thread_local! {
    /// Run [`PoolCall`] slots this thread keeps for the next call it makes (at most
    /// [`PoolCall::KEPT_HERE`], of any dispatcher: a free slot holds nothing of its
    /// own). A thread that runs the jobs it makes, as allthreads' I/O thread does,
    /// reuses them without a lock; jobs run elsewhere return their slots to the
    /// dispatcher's shared list once the running thread's own is full.
    #[allow(clippy::vec_box)]
    static SLOTS_HERE: RefCell<Vec<Box<PoolCall>>> = const { RefCell::new(Vec::new()) };
}

impl ExecState {
    pub(crate) fn new(serialize_bundles: bool) -> Self {
        ExecState {
            counters: Counters::default(),
            bundle_gate: ReentrantMutex::new(()),
            serialize_bundles,
            lane: Mutex::new(LaneState::default()),
            free: Mutex::new(Vec::with_capacity(PoolCall::KEPT)),
            spare_calls: Mutex::new(Vec::new()),
        }
    }

    /// A slot for a pool job calling `method` in context `ctx` (a slot run before, when
    /// one is free: no allocation); the caller puts the message in it.
    pub(crate) fn pool_call(self: &Arc<Self>, method: Arc<Method>, ctx: &Context) -> Box<PoolCall> {
        let mut call = PoolCall::take_here()
            .or_else(|| self.free.lock().pop())
            .unwrap_or_default();
        call.shared = Some(Arc::clone(self));
        call.method = Some(method);
        call.ctx.clone_from(ctx);
        call
    }

    /// An empty list for a bundle's calls: one a bundle that ran left, when there is one
    /// (so a bundle's calls cost no allocation once lists have grown to size).
    pub(crate) fn call_list(&self) -> Vec<Call> {
        self.spare_calls.lock().pop().unwrap_or_default()
    }

    /// Keeps the `list` of a bundle that ran, emptied, for the next one, unless enough
    /// are kept or it grew large.
    pub(crate) fn keep_call_list(&self, mut list: Vec<Call>) {
        if list.capacity() > SPARE_CALLS {
            return;
        }
        // Its callers hand it over empty; a call left in it must not run with the next
        // bundle's (nor keep its method and message alive meanwhile).
        list.clear();
        let mut spare = self.spare_calls.lock();
        if spare.len() < SPARE_LISTS {
            spare.push(list);
        }
    }

    /// Queues a bundle's calls on the lane; true if the caller must start a pool job
    /// that drains it ([`drain_lane`]): none is draining it yet.
    pub(crate) fn queue_bundle(&self, calls: Vec<Call>) -> bool {
        let mut lane = self.lane.lock();
        lane.queue.push_back(calls);
        !std::mem::replace(&mut lane.draining, true)
    }

    /// Empties the lane when its draining job could not start; returns how many
    /// bundles were dropped.
    pub(crate) fn abandon_lane(&self) -> usize {
        let mut lane = self.lane.lock();
        lane.draining = false;
        std::mem::take(&mut lane.queue).len()
    }
}

/// One method's call on the worker pool, in a slot that returns to the dispatcher once
/// run, so a pool job costs no allocation per message: not boxed, the message shared
/// (owned handlers) or its bytes copied into the slot's own buffer (borrowed handlers,
/// read into a view again when the job runs, without a second validation).
#[derive(Debug, Default)]
pub(crate) struct PoolCall {
    /// Set while the slot is in use (a kept slot must not keep the dispatcher alive).
    shared: Option<Arc<ExecState>>,
    method: Option<Arc<Method>>,
    /// The message, for an owned handler, shared with other methods' jobs.
    pub(crate) msg: Option<Arc<Message>>,
    /// The message, for an owned handler, when no other job needs it.
    pub(crate) alone: Option<Message>,
    /// The message's bytes, for a borrowed handler (when `msg` is `None`).
    pub(crate) bytes: Vec<u8>,
    /// How the view those bytes were copied from read strings.
    pub(crate) strings: StringPolicy,
    ctx: Context,
}

impl PoolCall {
    /// Slots a dispatcher keeps for reuse: more are made when more jobs wait, and freed
    /// after.
    const KEPT: usize = 1024;
    /// Slots a thread keeps for itself.
    const KEPT_HERE: usize = 32;
    /// A slot whose byte buffer grew past this frees the buffer before it is kept.
    const KEPT_BYTES: usize = 4096;

    /// Calls the method, then returns the slot to its dispatcher.
    pub(crate) fn run(mut self: Box<Self>) {
        let (Some(shared), Some(method)) = (self.shared.take(), self.method.take()) else {
            return;
        };
        if let Some(msg) = self.alone.take() {
            if call_taking(&shared, &method, msg, &self.ctx) {
                bump(&shared.counters.handler_calls);
            }
        } else if let Some(msg) = self.msg.take() {
            invoke(&shared, &method, Msg::Owned(&msg), &self.ctx);
        } else {
            // The bytes of a view, validated when it was decoded.
            match reread(&self.bytes, self.strings) {
                Some(view) => invoke(&shared, &method, Msg::View(&view), &self.ctx),
                None => not_reread(&shared, &method),
            }
        }
        drop(method);
        self.bytes.clear();
        if self.bytes.capacity() > Self::KEPT_BYTES {
            self.bytes = Vec::new();
        }
        self.ctx = Context::default();
        self.keep(&shared);
    }

    /// A slot this thread kept, if it has one.
    fn take_here() -> Option<Box<PoolCall>> {
        SLOTS_HERE
            .try_with(|here| here.try_borrow_mut().ok()?.pop())
            .ok()
            .flatten()
    }

    /// Keeps a run slot for the next call: in this thread's list, else in the
    /// dispatcher's; freed when both are full.
    fn keep(self: Box<Self>, shared: &ExecState) {
        let mut slot = Some(self);
        let _ = SLOTS_HERE.try_with(|here| {
            let Ok(mut here) = here.try_borrow_mut() else {
                return;
            };
            if here.len() < Self::KEPT_HERE {
                if here.capacity() == 0 {
                    // At its full size at once: one allocation per thread.
                    here.reserve_exact(Self::KEPT_HERE);
                }
                here.extend(slot.take());
            }
        });
        let Some(slot) = slot else {
            return;
        };
        let mut free = shared.free.lock();
        if free.len() < Self::KEPT {
            free.push(slot);
            return;
        }
        drop(free);
        // Both lists are full: the slot is freed, after the lock is released.
        drop(slot);
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
    if call(shared, method, msg, ctx) {
        bump(&shared.counters.handler_calls);
    }
}

/// [`invoke`] that leaves the `handler_calls` count to its caller: true when the
/// handler returned (with a value or an error), false when it panicked.
#[inline]
pub(crate) fn call(shared: &ExecState, method: &Method, msg: Msg<'_, '_>, ctx: &Context) -> bool {
    guarded(
        shared,
        method,
        || method.handler.call(msg, ctx),
        || format!("{} {}", msg.address(), msg.type_tags()),
    )
}

/// [`call`] giving the message itself to a handler that takes it by value
/// ([`Handler::taking`]; any other handler gets it by reference). Log lines name the
/// method, not the message, which the handler has taken.
pub(crate) fn call_taking(
    shared: &ExecState,
    method: &Method,
    msg: Message,
    ctx: &Context,
) -> bool {
    guarded(
        shared,
        method,
        || method.handler.call_taking(msg, ctx),
        || format!("a message for {}", method.source),
    )
}

/// Runs one handler call: holds the method's lock, catches a panic, logs and counts;
/// `describe` names the message in a log line (called only when one is written).
#[inline]
fn guarded(
    shared: &ExecState,
    method: &Method,
    run: impl FnOnce() -> crate::Result<()>,
    describe: impl FnOnce() -> String,
) -> bool {
    let _guard = method.lock.as_ref().map(|l| l.lock());
    let c = &shared.counters;
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            if matches!(
                e,
                DispatchError::ArgCount { .. }
                    | DispatchError::ArgType { .. }
                    | DispatchError::ArgRange { .. }
            ) {
                bump(&c.arg_errors);
            }
            log::warn!(
                "osc-dispatch: {} not handled by method {}: {e}",
                describe(),
                method.source
            );
            true
        }
        Err(payload) => {
            bump(&c.handler_panics);
            log::error!(
                "osc-dispatch: handler of method {} panicked on {}: {}",
                method.source,
                describe(),
                panic_text(payload.as_ref())
            );
            false
        }
    }
}

impl ExecState {
    /// Holds the bundle gate while a bundle's calls run, when bundles are serialized.
    pub(crate) fn bundle_unit(&self) -> Option<ReentrantMutexGuard<'_, ()>> {
        self.serialize_bundles.then(|| self.bundle_gate.lock())
    }
}

/// Runs a bundle's calls in order, holding the bundle gate.
pub(crate) fn run_calls(shared: &ExecState, mut calls: Vec<Call>) {
    let gate = shared.bundle_unit();
    for call in calls.drain(..) {
        call.msg.invoke(shared, &call.method, &call.ctx);
    }
    drop(gate);
    shared.keep_call_list(calls);
}

/// Runs the bundles queued on the lane, one after another, until it is empty.
pub(crate) fn drain_lane(shared: &ExecState) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn address(slot: &PoolCall) -> usize {
        std::ptr::from_ref(slot) as usize
    }

    #[test]
    fn a_thread_reuses_its_own_slots_first_then_the_dispatchers() {
        // A thread of its own: the slots this test's thread kept in other tests do not
        // count.
        std::thread::spawn(|| {
            let shared = Arc::new(ExecState::new(false));
            let slot = Box::<PoolCall>::default();
            let at = address(&slot);
            slot.keep(&shared);
            let again = PoolCall::take_here().expect("kept here");
            assert_eq!(address(&again), at, "the slot just kept is the next taken");
            assert!(PoolCall::take_here().is_none());
            again.keep(&shared);

            // Beyond its own list's size, a thread keeps slots in the dispatcher's.
            for _ in 0..PoolCall::KEPT_HERE + 2 {
                Box::<PoolCall>::default().keep(&shared);
            }
            assert_eq!(shared.free.lock().len(), 3);
            let here = std::iter::from_fn(PoolCall::take_here).count();
            assert_eq!(here, PoolCall::KEPT_HERE);
            assert!(shared.free.lock().pop().is_some());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn slots_kept_by_another_thread_are_shared_once_its_list_is_full() {
        let shared = Arc::new(ExecState::new(false));
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for _ in 0..PoolCall::KEPT_HERE + 5 {
                Box::<PoolCall>::default().keep(&s);
            }
        })
        .join()
        .unwrap();
        assert_eq!(shared.free.lock().len(), 5);
        // The dispatcher's list stays bounded: beyond it, slots are freed.
        for _ in 0..PoolCall::KEPT + PoolCall::KEPT_HERE + 10 {
            Box::<PoolCall>::default().keep(&shared);
        }
        assert_eq!(shared.free.lock().len(), PoolCall::KEPT);
    }
}
