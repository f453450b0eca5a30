//! When a pass may read first (see [`ReadFirst`](super::ReadFirst)): whenever recent
//! tries found data, or only after something was sent since the last pass. Which costs
//! less depends on how the process is built and on the host, so it is measured: the
//! CPU time of the whole process per datagram delivered, over windows of passes, each
//! window under one policy.
//!
//! Measured on one host (`osc4rs_facade_bench recv`, a one-way stream at full speed):
//! reading only after a send cost 0.91x as much per message in eventloop mode with a
//! borrowed handler (waiting in `epoll` lets datagrams gather: 0.24 passes per message
//! instead of 0.62) and 1.07x in allthreads mode (whose two I/O threads share the
//! reactor and pay more for each wait). A request-reply exchange reads first under
//! either policy: each pass follows a send.
//!
//! The clock is the whole process's: in a process whose other threads are busy with
//! other work, their CPU time is noise in both policies' costs, and the 5% margin keeps
//! the policy from following that noise back and forth.

use std::time::Duration;

/// When a pass may read first.
///
/// ```
/// use osc_channel::machine::ReadFirstPolicy;
/// assert!(ReadFirstPolicy::Always.allows(false));
/// assert!(!ReadFirstPolicy::AfterSend.allows(false));
/// assert!(ReadFirstPolicy::AfterSend.allows(true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFirstPolicy {
    /// Whenever recent tries found data.
    Always,
    /// Only after something was sent since the last pass: reading first looks for the
    /// reply.
    AfterSend,
}

impl ReadFirstPolicy {
    /// Whether this policy lets a pass read first, `sent` saying whether anything was
    /// sent since the last pass.
    #[must_use]
    pub fn allows(self, sent: bool) -> bool {
        match self {
            ReadFirstPolicy::Always => true,
            ReadFirstPolicy::AfterSend => sent,
        }
    }

    fn index(self) -> usize {
        match self {
            ReadFirstPolicy::Always => 0,
            ReadFirstPolicy::AfterSend => 1,
        }
    }

    fn other(self) -> ReadFirstPolicy {
        match self {
            ReadFirstPolicy::Always => ReadFirstPolicy::AfterSend,
            ReadFirstPolicy::AfterSend => ReadFirstPolicy::Always,
        }
    }
}

/// Passes per measured window.
pub const WINDOW_PASSES: u32 = 256;

/// A window that delivered fewer datagrams says little about the cost of one: it is
/// not counted (an idle process keeps the policy it has).
const MIN_DATAGRAMS: u64 = 64;

/// Every this many windows, the policy not in use gets one, so that its cost is known
/// again when the traffic or the host changes.
pub const PROBE_WINDOWS: u32 = 16;

/// How much cheaper the other policy must be for a switch (5%).
const HYSTERESIS: f64 = 0.05;

/// The weight of a new window in a policy's running cost.
const WEIGHT: f64 = 0.25;

/// Picks the [`ReadFirstPolicy`] with the lower running CPU cost per datagram. The
/// driver asks [`policy`](Self::policy) each pass, tells [`pass`](Self::pass) what
/// the pass delivered, and when `pass` says a window is over, reads the process's CPU
/// time and gives it to [`window_over`](Self::window_over); nothing here reads a clock.
///
/// ```
/// use osc_channel::machine::{ReadFirstChooser, ReadFirstPolicy, WINDOW_PASSES};
/// use std::time::Duration;
///
/// let mut c = ReadFirstChooser::new();
/// let mut cpu = Duration::ZERO;
/// for _ in 0..WINDOW_PASSES * 20 {
///     // Four datagrams a pass; reading only after a send costs less here.
///     let ns = if c.policy() == ReadFirstPolicy::AfterSend { 900 } else { 1000 };
///     cpu += Duration::from_nanos(4 * ns);
///     if c.pass(4) {
///         c.window_over(Some(cpu));
///     }
/// }
/// assert_eq!(c.policy(), ReadFirstPolicy::AfterSend);
/// ```
#[derive(Debug, Clone)]
pub struct ReadFirstChooser {
    /// Running CPU nanoseconds per datagram, by policy (`None`: not measured yet).
    cost: [Option<f64>; 2],
    /// The policy the measurements favour.
    current: ReadFirstPolicy,
    /// The policy of the window under way (the other one while probing).
    trying: ReadFirstPolicy,
    /// Passes and datagrams of the window under way.
    passes: u32,
    datagrams: u64,
    /// The process's CPU time when the window under way began (`None`: unknown).
    started: Option<Duration>,
    /// Windows since the other policy was last tried.
    since_probe: u32,
}

impl Default for ReadFirstChooser {
    fn default() -> Self {
        ReadFirstChooser::new()
    }
}

impl ReadFirstChooser {
    /// Nothing measured yet: reading first whenever it finds data, as before a choice.
    ///
    /// ```
    /// use osc_channel::machine::{ReadFirstChooser, ReadFirstPolicy};
    /// assert_eq!(ReadFirstChooser::new().policy(), ReadFirstPolicy::Always);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        ReadFirstChooser {
            cost: [None, None],
            current: ReadFirstPolicy::Always,
            trying: ReadFirstPolicy::Always,
            passes: 0,
            datagrams: 0,
            started: None,
            since_probe: 0,
        }
    }

    /// The policy for this pass.
    #[must_use]
    pub fn policy(&self) -> ReadFirstPolicy {
        self.trying
    }

    /// The running cost per datagram of a policy, in nanoseconds of process CPU time.
    ///
    /// ```
    /// use osc_channel::machine::{ReadFirstChooser, ReadFirstPolicy};
    /// assert_eq!(ReadFirstChooser::new().cost(ReadFirstPolicy::Always), None);
    /// ```
    #[must_use]
    pub fn cost(&self, policy: ReadFirstPolicy) -> Option<f64> {
        self.cost.get(policy.index()).copied().flatten()
    }

    /// A pass delivered `datagrams`; `true` when that ended a window, and the driver
    /// should call [`window_over`](Self::window_over).
    pub fn pass(&mut self, datagrams: usize) -> bool {
        self.passes += 1;
        self.datagrams = self
            .datagrams
            .saturating_add(u64::try_from(datagrams).unwrap_or(u64::MAX));
        self.passes >= WINDOW_PASSES
    }

    /// A window ended with the process's CPU time at `cpu` (`None` where it cannot be
    /// read: nothing is measured and the policy stays): its cost per datagram is
    /// counted for the policy it ran under, and the next window's policy is chosen.
    pub fn window_over(&mut self, cpu: Option<Duration>) {
        if let (Some(start), Some(end)) = (self.started, cpu) {
            if self.datagrams >= MIN_DATAGRAMS {
                let per = end.saturating_sub(start).as_nanos() as f64 / self.datagrams as f64;
                self.observe(self.trying, per);
            }
        }
        self.started = cpu;
        self.passes = 0;
        self.datagrams = 0;
        self.trying = self.next();
    }

    fn observe(&mut self, policy: ReadFirstPolicy, per_datagram: f64) {
        if let Some(slot) = self.cost.get_mut(policy.index()) {
            *slot = Some(match *slot {
                Some(c) => c + WEIGHT * (per_datagram - c),
                None => per_datagram,
            });
        }
    }

    /// The policy for the next window: each once at first, then the cheaper one by a
    /// clear margin, with the other one every [`PROBE_WINDOWS`] windows.
    fn next(&mut self) -> ReadFirstPolicy {
        let (always, after_send) = match self.cost {
            [None, _] => return ReadFirstPolicy::Always,
            [_, None] => return ReadFirstPolicy::AfterSend,
            [Some(always), Some(after_send)] => (always, after_send),
        };
        let (mine, theirs) = match self.current {
            ReadFirstPolicy::Always => (always, after_send),
            ReadFirstPolicy::AfterSend => (after_send, always),
        };
        if theirs < mine * (1.0 - HYSTERESIS) {
            self.current = self.current.other();
        }
        self.since_probe += 1;
        if self.since_probe >= PROBE_WINDOWS {
            self.since_probe = 0;
            return self.current.other();
        }
        self.current
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Runs `windows` windows of `per_pass` datagrams a pass with the given costs per
    /// datagram (ns, by policy); returns how many windows ran under each policy.
    fn run(
        c: &mut ReadFirstChooser,
        windows: u32,
        per_pass: usize,
        cost: impl Fn(ReadFirstPolicy) -> u64,
        cpu: &mut Duration,
    ) -> [u32; 2] {
        let mut seen = [0; 2];
        for _ in 0..windows * WINDOW_PASSES {
            let p = c.policy();
            *cpu += Duration::from_nanos(cost(p) * per_pass as u64);
            if c.pass(per_pass) {
                seen[p.index()] += 1;
                c.window_over(Some(*cpu));
            }
        }
        seen
    }

    #[test]
    fn the_cheaper_policy_wins_and_the_other_is_probed() {
        let mut c = ReadFirstChooser::new();
        let mut cpu = Duration::ZERO;
        let after_send_cheaper = |p| match p {
            ReadFirstPolicy::Always => 1100,
            ReadFirstPolicy::AfterSend => 1000,
        };
        let seen = run(&mut c, 10, 2, after_send_cheaper, &mut cpu);
        assert_eq!(c.policy(), ReadFirstPolicy::AfterSend);
        assert!(seen[1] >= 6, "{seen:?}");
        // Steady state: one window in PROBE_WINDOWS tries the other policy.
        let seen = run(&mut c, PROBE_WINDOWS * 4, 2, after_send_cheaper, &mut cpu);
        assert_eq!(seen[0], 4, "{seen:?}");
        // The host changes: the probes notice and the choice follows.
        let always_cheaper = |p| match p {
            ReadFirstPolicy::Always => 800,
            ReadFirstPolicy::AfterSend => 1000,
        };
        run(&mut c, PROBE_WINDOWS * 6, 2, always_cheaper, &mut cpu);
        assert_eq!(c.current, ReadFirstPolicy::Always);
        assert!(c.cost(ReadFirstPolicy::Always).unwrap() < 850.0);
    }

    #[test]
    fn a_difference_within_the_margin_does_not_switch() {
        let mut c = ReadFirstChooser::new();
        let mut cpu = Duration::ZERO;
        let close = |p| match p {
            ReadFirstPolicy::Always => 1000,
            ReadFirstPolicy::AfterSend => 980,
        };
        run(&mut c, PROBE_WINDOWS * 4, 3, close, &mut cpu);
        assert_eq!(c.current, ReadFirstPolicy::Always);
    }

    #[test]
    fn idle_windows_and_an_unreadable_clock_measure_nothing() {
        let mut c = ReadFirstChooser::new();
        let mut cpu = Duration::ZERO;
        // Too few datagrams per window: no cost is learned, the policy stays.
        run(&mut c, 40, 0, |_| 1000, &mut cpu);
        assert_eq!(c.cost(ReadFirstPolicy::Always), None);
        assert_eq!(c.policy(), ReadFirstPolicy::Always);
        // No clock: the same.
        let mut c = ReadFirstChooser::new();
        for _ in 0..40 * WINDOW_PASSES {
            if c.pass(4) {
                c.window_over(None);
            }
        }
        assert_eq!(c.cost(ReadFirstPolicy::AfterSend), None);
        assert_eq!(c.policy(), ReadFirstPolicy::Always);
    }
}
