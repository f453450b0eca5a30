//! The sans-I/O bundle scheduler: decides whether a bundle runs now, waits or is
//! dropped, and holds waiting bundles in timetag order. It never reads a clock: every
//! call takes `now`.
//!
//! # Time
//! Timetags are ordered with the RFC 4330 era pivot of [`osc_codec::TimeTag`]: a
//! seconds field with its top bit set is in 1968-2036, one without it in 2036-2104.
//! So a timetag with small seconds (some senders put `(0, 0)` or `(1, 0)`) lies in
//! the far future and is refused by the horizon check, not run at once. The resolution
//! is the timetag's own (2^-32 s); osc4py3 rounds to 1 ms.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;

use osc_codec::{Bundle, TimeTag};

use crate::Context;

/// What to do with a bundle whose time has passed by more than the
/// [`tolerance`](SchedulerConfig::tolerance) (osc4py3's `forget_oldmsg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LatePolicy {
    /// Run it anyway, at once (osc4py3's default).
    #[default]
    Run,
    /// Drop it (counted) if it is late by more than `after`; run it otherwise.
    /// `Drop { after: Duration::ZERO }` is osc4py3's `forget_oldmsg=True`.
    Drop {
        /// How late a bundle may be and still run.
        after: Duration,
    },
}

/// What to do with a nested bundle whose timetag is earlier than its parent's (which
/// the OSC specification forbids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NestedPolicy {
    /// No check: the nested bundle keeps its own timetag (it is then due at once,
    /// since its parent was due). The default, as in osc4py3.
    #[default]
    OwnTimetag,
    /// Treat it as due at its parent's time.
    ClampToParent,
    /// Drop it (counted as [`BundleDrop::NestedEarlierThanParent`]).
    Drop,
}

/// A correction applied to every incoming timetag before scheduling, for a sender whose
/// clock is known to differ from ours (osc4py3's `timetag_offset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimetagOffset {
    /// Local due time = timetag + offset (the sender's clock is behind ours).
    Add(Duration),
    /// Local due time = timetag - offset (the sender's clock is ahead of ours).
    Sub(Duration),
}

impl Default for TimetagOffset {
    fn default() -> Self {
        TimetagOffset::Add(Duration::ZERO)
    }
}

impl TimetagOffset {
    /// Applies the offset to a timetag.
    ///
    /// ```
    /// use osc_codec::TimeTag;
    /// use osc_dispatch::TimetagOffset;
    /// use std::time::Duration;
    /// let t = TimeTag::new(3_900_000_010, 0);
    /// assert_eq!(TimetagOffset::Sub(Duration::from_secs(10)).apply(t), TimeTag::new(3_900_000_000, 0));
    /// ```
    #[must_use]
    pub fn apply(self, t: TimeTag) -> TimeTag {
        match self {
            TimetagOffset::Add(d) => t + d,
            TimetagOffset::Sub(d) => t - d,
        }
    }
}

/// Scheduling rules (see `docs/dispatch.md`).
///
/// ```
/// use osc_dispatch::{LatePolicy, SchedulerConfig};
/// use std::time::Duration;
///
/// let cfg = SchedulerConfig {
///     late: LatePolicy::Drop { after: Duration::from_millis(20) },
///     max_pending: 100,
///     ..SchedulerConfig::default()
/// };
/// assert_eq!(cfg.tolerance, Duration::from_millis(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// When false, every bundle runs at once, whatever its timetag. Default true.
    pub honor_timetags: bool,
    /// A bundle due no later than `now + tolerance` runs at once. Default 1 ms.
    pub tolerance: Duration,
    /// Late bundles: run (default) or drop past a tolerance.
    pub late: LatePolicy,
    /// Nested bundles earlier than their parent. Default: keep their own timetag.
    pub nested: NestedPolicy,
    /// Correction applied to incoming timetags. Default none.
    pub timetag_offset: TimetagOffset,
    /// Bundles due further ahead than this are dropped (counted). Default one hour;
    /// `None` for no limit.
    pub max_horizon: Option<Duration>,
    /// At most this many bundles wait; a new one beyond it is dropped (counted; the
    /// held ones are kept). Default 10,000.
    pub max_pending: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            honor_timetags: true,
            tolerance: Duration::from_millis(1),
            late: LatePolicy::Run,
            nested: NestedPolicy::OwnTimetag,
            timetag_offset: TimetagOffset::default(),
            max_horizon: Some(Duration::from_secs(3600)),
            max_pending: 10_000,
        }
    }
}

impl SchedulerConfig {
    /// What these rules decide for a bundle with `timetag` that arrived (or, when
    /// nested, whose parent was released) at `now`, with `parent` the raw timetag of
    /// the enclosing bundle for a nested one: run it now, drop it, or keep it for later.
    /// [`Scheduler::admit`] decides by it, then holds a later bundle unless
    /// [`max_pending`](Self::max_pending) are already waiting; a driver that can run a
    /// bundle without copying it asks this first.
    ///
    /// ```
    /// use osc_codec::TimeTag;
    /// use osc_dispatch::{SchedulerConfig, Verdict};
    /// use std::time::Duration;
    ///
    /// let rules = SchedulerConfig::default();
    /// let now = TimeTag::new(3_900_000_000, 0);
    /// let later = now + Duration::from_secs(1);
    /// assert_eq!(rules.verdict(TimeTag::IMMEDIATELY, None, now), Verdict::Run { due: now });
    /// assert_eq!(rules.verdict(later, None, now), Verdict::Later { due: later });
    /// ```
    #[must_use]
    pub fn verdict(&self, timetag: TimeTag, parent: Option<TimeTag>, now: TimeTag) -> Verdict {
        if !self.honor_timetags || timetag.is_immediate() {
            return Verdict::Run { due: now };
        }
        let mut timetag = timetag;
        if let Some(parent) = parent.filter(|p| !p.is_immediate()) {
            if key(timetag) < key(parent) {
                match self.nested {
                    NestedPolicy::OwnTimetag => {}
                    NestedPolicy::ClampToParent => timetag = parent,
                    NestedPolicy::Drop => {
                        let reason = BundleDrop::NestedEarlierThanParent;
                        return Verdict::Drop { due: now, reason };
                    }
                }
            }
        }
        let due = self.timetag_offset.apply(timetag);
        let (due_key, now_key) = (key(due), key(now));
        if due_key <= now_key + span(self.tolerance) {
            return match self.late_verdict(due_key, now_key) {
                Some(reason) => Verdict::Drop { due, reason },
                None => Verdict::Run { due },
            };
        }
        if let Some(horizon) = self.max_horizon {
            if due_key - now_key > span(horizon) {
                let reason = BundleDrop::Horizon;
                return Verdict::Drop { due, reason };
            }
        }
        Verdict::Later { due }
    }

    fn late_verdict(&self, due_key: u128, now_key: u128) -> Option<BundleDrop> {
        match self.late {
            LatePolicy::Run => None,
            LatePolicy::Drop { after } => {
                let late_by = now_key.saturating_sub(due_key);
                (late_by > span(self.tolerance.max(after))).then_some(BundleDrop::Late)
            }
        }
    }
}

/// What the [`SchedulerConfig`] rules decide for a bundle
/// ([`SchedulerConfig::verdict`]), before the scheduler holds it. `due` is its due time
/// on the local clock (the timetag with the offset applied; `now` for a bundle that
/// runs at once whatever its timetag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Due: run it now.
    Run {
        /// Its local due time.
        due: TimeTag,
    },
    /// Dropped (late, beyond the horizon, or nested earlier than its parent).
    Drop {
        /// Its local due time (`now` for a nested bundle earlier than its parent).
        due: TimeTag,
        /// Why.
        reason: BundleDrop,
    },
    /// Due later: to be held.
    Later {
        /// Its local due time.
        due: TimeTag,
    },
}

impl Verdict {
    /// The bundle's local due time, whatever the verdict.
    fn due(&self) -> TimeTag {
        match *self {
            Verdict::Run { due } | Verdict::Drop { due, .. } | Verdict::Later { due } => due,
        }
    }
}

/// Why the scheduler dropped a bundle (not to be confused with
/// `osc_channel::DropReason`, why a channel dropped a packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BundleDrop {
    /// Late beyond [`LatePolicy::Drop`]'s tolerance.
    Late,
    /// Due beyond [`SchedulerConfig::max_horizon`].
    Horizon,
    /// [`SchedulerConfig::max_pending`] bundles were already waiting.
    PendingFull,
    /// A nested bundle earlier than its parent, under [`NestedPolicy::Drop`].
    NestedEarlierThanParent,
    /// Still waiting at shutdown.
    Shutdown,
}

/// A bundle with its source context and its local due time.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scheduled {
    /// The bundle.
    pub bundle: Bundle,
    /// Where it came from.
    pub context: Context,
    /// When it is due, on the local clock (timetag with the offset applied; `now` for
    /// bundles that run at once).
    pub due: TimeTag,
}

/// The scheduler's verdict on a new bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run it now.
    Run(Scheduled),
    /// Held; `new_head` is true when it is now the earliest pending bundle (a driver
    /// sleeping until the previous head must wake up and recompute its timeout).
    Held {
        /// Whether it became the earliest pending bundle.
        new_head: bool,
    },
    /// Dropped.
    Drop(Scheduled, BundleDrop),
}

/// A bundle taken out of the queue by [`Scheduler::pop_due`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// Due: run it.
    Run(Scheduled),
    /// Due, but too late under [`LatePolicy::Drop`].
    Drop(Scheduled, BundleDrop),
}

#[derive(Debug)]
struct Entry {
    key: u128,
    seq: u64,
    item: Scheduled,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.seq == other.seq
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest, then the first
    /// to arrive.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.key, other.seq).cmp(&(self.key, self.seq))
    }
}

/// Units of 2^-32 s since 1968-01-20 (the start of the era-pivot window).
fn key(t: TimeTag) -> u128 {
    let bits = u128::from(t.to_bits());
    if t.seconds & 0x8000_0000 != 0 {
        bits
    } else {
        bits + (1u128 << 64)
    }
}

/// A tolerance as a key span, rounded up: timetag arithmetic rounds each duration to
/// the nearest 2^-32 s, so "due within 1 ms" must not miss by one unit.
fn span(d: Duration) -> u128 {
    (u128::from(d.as_secs()) << 32) + (u128::from(d.subsec_nanos()) << 32).div_ceil(1_000_000_000)
}

/// A key span as a duration, rounded to the nearest nanosecond.
fn duration_of(span: u128) -> Duration {
    let secs = u64::try_from(span >> 32).unwrap_or(u64::MAX);
    let nanos = (((span & 0xFFFF_FFFF) * 1_000_000_000) + (1 << 31)) >> 32;
    Duration::new(secs, u32::try_from(nanos).unwrap_or(0))
}

/// The bundle scheduler: a timetag-ordered queue of waiting bundles plus the rules of
/// [`SchedulerConfig`]. Bundles due at the same time are released in arrival order.
///
/// ```
/// use osc_codec::{Bundle, Message, TimeTag};
/// use osc_dispatch::{Context, Decision, Release, Scheduler, SchedulerConfig};
/// use std::time::Duration;
///
/// let mut s = Scheduler::new(SchedulerConfig::default());
/// let now = TimeTag::new(3_900_000_000, 0);
/// let later = now + Duration::from_millis(100);
/// let b = Bundle::new(later).add(Message::new("/x"));
/// assert_eq!(s.admit(b, None, Context::new(now), now), Decision::Held { new_head: true });
/// assert_eq!(s.poll_timeout(now), Some(Duration::from_millis(99)));
/// assert!(s.pop_due(now).is_none());
/// assert!(matches!(s.pop_due(later), Some(Release::Run(_))));
/// assert!(s.is_empty());
/// ```
#[derive(Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl Scheduler {
    /// An empty scheduler.
    #[must_use]
    pub fn new(config: SchedulerConfig) -> Self {
        Scheduler {
            config,
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// The rules in force.
    #[must_use]
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Number of waiting bundles.
    #[must_use]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Decides what to do with a bundle that arrived (or, when nested, whose parent was
    /// released) at `now`. `parent` is the raw timetag of the enclosing bundle for a
    /// nested one. A held bundle is kept until [`pop_due`](Self::pop_due) releases it.
    pub fn admit(
        &mut self,
        bundle: Bundle,
        parent: Option<TimeTag>,
        context: Context,
        now: TimeTag,
    ) -> Decision {
        let verdict = self.config.verdict(bundle.timetag, parent, now);
        let item = Scheduled {
            bundle,
            context,
            due: verdict.due(),
        };
        match verdict {
            Verdict::Run { .. } => Decision::Run(item),
            Verdict::Drop { reason, .. } => Decision::Drop(item, reason),
            Verdict::Later { due } => self.hold(item, key(due)),
        }
    }

    /// Holds a bundle due later (its key `due_key`), unless
    /// [`max_pending`](SchedulerConfig::max_pending) bundles wait already.
    fn hold(&mut self, item: Scheduled, due_key: u128) -> Decision {
        if self.heap.len() >= self.config.max_pending {
            return Decision::Drop(item, BundleDrop::PendingFull);
        }
        let new_head = self.heap.peek().is_none_or(|head| due_key < head.key);
        self.seq += 1;
        self.heap.push(Entry {
            key: due_key,
            seq: self.seq,
            item,
        });
        Decision::Held { new_head }
    }

    /// Takes the earliest waiting bundle if it is due (`due <= now + tolerance`).
    /// Call it until it returns `None`.
    pub fn pop_due(&mut self, now: TimeTag) -> Option<Release> {
        let now_key = key(now);
        if self.heap.peek()?.key > now_key + span(self.config.tolerance) {
            return None;
        }
        let entry = self.heap.pop()?;
        Some(match self.config.late_verdict(entry.key, now_key) {
            Some(reason) => Release::Drop(entry.item, reason),
            None => Release::Run(entry.item),
        })
    }

    /// The local due time of the earliest waiting bundle.
    #[must_use]
    pub fn next_due(&self) -> Option<TimeTag> {
        self.heap.peek().map(|e| e.item.due)
    }

    /// How long a driver may sleep before calling [`pop_due`](Self::pop_due): `None`
    /// when nothing waits, `Some(Duration::ZERO)` when something is due.
    #[must_use]
    pub fn poll_timeout(&self, now: TimeTag) -> Option<Duration> {
        let head = self.heap.peek()?.key;
        let ready_at = head.saturating_sub(span(self.config.tolerance));
        Some(duration_of(ready_at.saturating_sub(key(now))))
    }

    /// Takes the earliest waiting bundle whether it is due or not (for a shutdown
    /// flush).
    pub fn pop_next(&mut self) -> Option<Scheduled> {
        self.heap.pop().map(|e| e.item)
    }

    /// Removes every waiting bundle, in due order (for shutdown).
    pub fn drain(&mut self) -> Vec<Scheduled> {
        let mut out = Vec::with_capacity(self.heap.len());
        while let Some(e) = self.heap.pop() {
            out.push(e.item);
        }
        out
    }
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
