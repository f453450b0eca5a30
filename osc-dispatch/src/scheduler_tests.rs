//! Virtual-time tests of every scheduling rule.

use std::time::Duration;

use osc_codec::{Bundle, Message, TimeTag};

use super::*;

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn bundle(at: TimeTag, tag: &str) -> Bundle {
    Bundle::new(at).add(Message::new(format!("/{tag}")))
}

fn name(s: &Scheduled) -> String {
    s.bundle.content[0].as_message().unwrap().address.clone()
}

fn admit(s: &mut Scheduler, at: TimeTag, tag: &str, now: TimeTag) -> Decision {
    s.admit(bundle(at, tag), None, Context::new(now), now)
}

fn released(s: &mut Scheduler, now: TimeTag) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(r) = s.pop_due(now) {
        match r {
            Release::Run(x) => out.push(name(&x)),
            Release::Drop(x, why) => out.push(format!("dropped {} {why:?}", name(&x))),
        }
    }
    out
}

fn sched(f: impl FnOnce(&mut SchedulerConfig)) -> Scheduler {
    let mut c = SchedulerConfig::default();
    f(&mut c);
    Scheduler::new(c)
}

#[test]
fn immediate_runs_now() {
    let mut s = sched(|_| {});
    assert!(
        matches!(admit(&mut s, TimeTag::IMMEDIATELY, "a", T0), Decision::Run(x) if x.due == T0)
    );
    assert!(s.is_empty());
}

#[test]
fn within_tolerance_runs_now_beyond_is_held() {
    let mut s = sched(|_| {});
    assert!(matches!(
        admit(&mut s, T0 + Duration::from_micros(999), "a", T0),
        Decision::Run(_)
    ));
    assert!(matches!(
        admit(&mut s, T0 + ms(1), "b", T0),
        Decision::Run(_)
    ));
    assert_eq!(
        admit(&mut s, T0 + ms(2), "c", T0),
        Decision::Held { new_head: true }
    );
    assert_eq!(s.len(), 1);
    // Released one tolerance early at most.
    assert!(s.pop_due(T0 + Duration::from_micros(999)).is_none());
    assert_eq!(released(&mut s, T0 + ms(1)), ["/c"]);
}

#[test]
fn future_bundles_are_released_in_time_order() {
    let mut s = sched(|_| {});
    assert_eq!(
        admit(&mut s, T0 + ms(300), "c", T0),
        Decision::Held { new_head: true }
    );
    assert_eq!(
        admit(&mut s, T0 + ms(100), "a", T0),
        Decision::Held { new_head: true }
    );
    assert_eq!(
        admit(&mut s, T0 + ms(200), "b", T0),
        Decision::Held { new_head: false }
    );
    assert_eq!(s.next_due(), Some(T0 + ms(100)));
    assert_eq!(s.poll_timeout(T0), Some(ms(99)));
    assert_eq!(released(&mut s, T0 + ms(50)), Vec::<String>::new());
    assert_eq!(released(&mut s, T0 + ms(150)), ["/a"]);
    assert_eq!(s.poll_timeout(T0 + ms(150)), Some(ms(49)));
    assert_eq!(s.poll_timeout(T0 + ms(250)), Some(Duration::ZERO));
    assert_eq!(released(&mut s, T0 + ms(1000)), ["/b", "/c"]);
    assert_eq!((s.next_due(), s.poll_timeout(T0)), (None, None));
}

#[test]
fn simultaneous_bundles_keep_arrival_order() {
    let mut s = sched(|_| {});
    let at = T0 + ms(10);
    for tag in ["1", "2", "3", "4", "5", "6", "7", "8"] {
        admit(&mut s, at, tag, T0);
    }
    admit(&mut s, T0 + ms(5), "early", T0);
    assert_eq!(
        released(&mut s, at),
        ["/early", "/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8"]
    );
}

#[test]
fn late_bundles_run_by_default() {
    let mut s = sched(|_| {});
    assert!(matches!(
        admit(&mut s, T0 - Duration::from_secs(60), "old", T0),
        Decision::Run(_)
    ));
}

#[test]
fn late_policy_drops_past_tolerance() {
    let mut s = sched(|c| c.late = LatePolicy::Drop { after: ms(20) });
    assert!(matches!(
        admit(&mut s, T0 - ms(20), "ok", T0),
        Decision::Run(_)
    ));
    assert!(matches!(
        admit(&mut s, T0 - ms(21), "old", T0),
        Decision::Drop(_, BundleDrop::Late)
    ));
    // A held bundle released late (the driver polled late) obeys the same rule.
    admit(&mut s, T0 + ms(100), "a", T0);
    admit(&mut s, T0 + ms(200), "b", T0);
    assert_eq!(released(&mut s, T0 + ms(210)), ["dropped /a Late", "/b"]);
}

#[test]
fn forget_oldmsg_equivalent_keeps_tolerance() {
    let mut s = sched(|c| {
        c.late = LatePolicy::Drop {
            after: Duration::ZERO,
        }
    });
    assert!(matches!(
        admit(&mut s, T0 - Duration::from_micros(500), "a", T0),
        Decision::Run(_)
    ));
    assert!(matches!(
        admit(&mut s, T0 - ms(2), "b", T0),
        Decision::Drop(_, BundleDrop::Late)
    ));
}

#[test]
fn clock_offset_moves_due_times() {
    let mut s = sched(|c| c.timetag_offset = TimetagOffset::Sub(Duration::from_secs(10)));
    // The sender's clock is 10 s ahead: its "now + 10 s" is our now.
    assert!(
        matches!(admit(&mut s, T0 + Duration::from_secs(10), "a", T0), Decision::Run(x) if x.due == T0)
    );
    admit(&mut s, T0 + Duration::from_secs(11), "b", T0);
    assert_eq!(s.next_due(), Some(T0 + Duration::from_secs(1)));
    let mut s = sched(|c| c.timetag_offset = TimetagOffset::Add(ms(500)));
    admit(&mut s, T0, "c", T0);
    assert_eq!(released(&mut s, T0 + ms(400)), Vec::<String>::new());
    assert_eq!(released(&mut s, T0 + ms(500)), ["/c"]);
    // Immediate stays immediate.
    assert!(matches!(
        admit(&mut s, TimeTag::IMMEDIATELY, "d", T0),
        Decision::Run(_)
    ));
}

#[test]
fn horizon_drops_far_future() {
    let mut s = sched(|c| c.max_horizon = Some(Duration::from_secs(60)));
    assert!(matches!(
        admit(&mut s, T0 + Duration::from_secs(60), "ok", T0),
        Decision::Held { .. }
    ));
    assert!(matches!(
        admit(&mut s, T0 + Duration::from_secs(61), "far", T0),
        Decision::Drop(_, BundleDrop::Horizon)
    ));
    // A small-seconds timetag is in the next era (2036+): far future, not "late".
    assert!(matches!(
        admit(&mut s, TimeTag::new(1, 0), "bogus", T0),
        Decision::Drop(_, BundleDrop::Horizon)
    ));
    let mut s = sched(|c| c.max_horizon = None);
    assert!(matches!(
        admit(&mut s, T0 + Duration::from_secs(86_400 * 365), "y", T0),
        Decision::Held { .. }
    ));
}

#[test]
fn max_pending_drops_the_newest() {
    let mut s = sched(|c| c.max_pending = 2);
    admit(&mut s, T0 + ms(30), "a", T0);
    admit(&mut s, T0 + ms(20), "b", T0);
    assert!(matches!(
        admit(&mut s, T0 + ms(10), "c", T0),
        Decision::Drop(_, BundleDrop::PendingFull)
    ));
    // Bundles that run now are not limited.
    assert!(matches!(admit(&mut s, T0, "now", T0), Decision::Run(_)));
    assert_eq!(released(&mut s, T0 + ms(30)), ["/b", "/a"]);
}

#[test]
fn nested_bundle_policies() {
    let parent = T0 + ms(100);
    let early = T0 + ms(50);
    let now = parent;
    let nested =
        |s: &mut Scheduler| s.admit(bundle(early, "n"), Some(parent), Context::new(now), now);
    // Own timetag: earlier than the parent means due, so it runs.
    let mut s = sched(|_| {});
    assert!(matches!(nested(&mut s), Decision::Run(x) if x.due == early));
    let mut s = sched(|c| c.nested = NestedPolicy::ClampToParent);
    assert!(matches!(nested(&mut s), Decision::Run(x) if x.due == parent));
    let mut s = sched(|c| c.nested = NestedPolicy::Drop);
    assert!(matches!(
        nested(&mut s),
        Decision::Drop(_, BundleDrop::NestedEarlierThanParent)
    ));
    // A later nested bundle is held under every policy; an immediate one runs.
    let later = s.admit(
        bundle(parent + ms(10), "l"),
        Some(parent),
        Context::new(now),
        now,
    );
    assert_eq!(later, Decision::Held { new_head: true });
    let imm = s.admit(
        bundle(TimeTag::IMMEDIATELY, "i"),
        Some(parent),
        Context::new(now),
        now,
    );
    assert!(matches!(imm, Decision::Run(_)));
}

#[test]
fn honor_timetags_off_runs_everything_now() {
    let mut s = sched(|c| c.honor_timetags = false);
    assert!(matches!(
        admit(&mut s, T0 + Duration::from_secs(5), "a", T0),
        Decision::Run(_)
    ));
    assert!(matches!(
        admit(&mut s, TimeTag::new(1, 0), "b", T0),
        Decision::Run(_)
    ));
}

#[test]
fn drain_returns_pending_in_due_order() {
    let mut s = sched(|_| {});
    admit(&mut s, T0 + ms(3), "c", T0);
    admit(&mut s, T0 + ms(2), "b", T0);
    admit(&mut s, T0 + ms(2), "b2", T0);
    let order: Vec<String> = s.drain().iter().map(name).collect();
    assert_eq!(order, ["/b", "/b2", "/c"]);
    assert!(s.is_empty());
}

#[test]
fn ordering_holds_across_the_2036_era_wrap() {
    let now = TimeTag::new(0xFFFF_FFF0, 0);
    let mut s = sched(|_| {});
    admit(&mut s, now + Duration::from_secs(32), "after-wrap", now);
    admit(&mut s, now + Duration::from_secs(8), "before-wrap", now);
    assert_eq!((now + Duration::from_secs(32)).seconds, 0x10);
    assert_eq!(s.poll_timeout(now), Some(Duration::from_secs(8) - ms(1)));
    assert_eq!(
        released(&mut s, now + Duration::from_secs(8)),
        ["/before-wrap"]
    );
    assert_eq!(
        released(&mut s, now + Duration::from_secs(31)),
        Vec::<String>::new()
    );
    assert_eq!(
        released(&mut s, now + Duration::from_secs(32)),
        ["/after-wrap"]
    );
}
