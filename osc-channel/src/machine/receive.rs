//! How to read a UDP socket: one datagram per `recv_from`, or a batch per `recvmmsg`,
//! chosen from what each has cost on this host lately. Which is cheaper depends on the
//! kernel and the machine's state (measured here: a batch cost 0.74x a plain receive
//! per datagram one day and 1.35x another), so it is observed, not assumed.

use std::time::Duration;

/// One way of reading a datagram socket.
///
/// ```
/// use osc_channel::machine::ReadMode;
/// assert_ne!(ReadMode::Single, ReadMode::Batch);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// A `recv_from` per datagram.
    Single,
    /// A `recvmmsg` per batch of datagrams.
    Batch,
}

impl ReadMode {
    fn index(self) -> usize {
        match self {
            ReadMode::Single => 0,
            ReadMode::Batch => 1,
        }
    }

    fn other(self) -> ReadMode {
        match self {
            ReadMode::Single => ReadMode::Batch,
            ReadMode::Batch => ReadMode::Single,
        }
    }
}

/// Every this many reads, the mode not in use is tried once, so that its cost is
/// known again when the host changes.
pub const PROBE_EVERY: u32 = 64;

/// Reads that are all timed, at first.
const WARM_UP: u32 = 16;

/// Afterwards, one read of the mode in use in this many is timed.
const TIME_EVERY: u32 = 8;

/// How much cheaper the other way must be for a switch (5%).
const HYSTERESIS: f64 = 0.05;

/// The weight of a new observation in a mode's running cost.
const WEIGHT: f64 = 0.125;

/// Picks the read mode with the lower running cost per datagram, trying the other
/// one every [`PROBE_EVERY`] reads (and each once at first). The driver asks
/// [`mode`](Self::mode) before a read and tells [`observed`](Self::observed) what
/// it cost; nothing here reads a clock.
///
/// ```
/// use osc_channel::machine::{ReadMode, ReceiveChooser};
/// use std::time::Duration;
///
/// let mut c = ReceiveChooser::new();
/// // Both modes take turns at first, then the cheaper one is used.
/// for _ in 0..40 {
///     let mode = c.mode();
///     let per_datagram = if mode == ReadMode::Single { 700 } else { 900 };
///     c.observed(mode, 10, Duration::from_nanos(10 * per_datagram));
/// }
/// assert_eq!(c.mode(), ReadMode::Single);
/// ```
#[derive(Debug, Clone)]
pub struct ReceiveChooser {
    /// Running nanoseconds per datagram, by mode (`None`: not measured yet).
    cost: [Option<f64>; 2],
    /// Observations so far, by mode (saturating).
    samples: [u32; 2],
    /// Reads since the other mode was last tried.
    since_probe: u32,
    /// Reads so far (saturating).
    reads: u32,
    /// The mode in use (what the probes are compared with).
    current: ReadMode,
    /// Whether the read [`mode`](Self::mode) just chose is worth timing.
    timed: bool,
}

impl Default for ReceiveChooser {
    fn default() -> Self {
        ReceiveChooser::new()
    }
}

impl ReceiveChooser {
    /// Nothing measured yet.
    ///
    /// ```
    /// let c = osc_channel::machine::ReceiveChooser::new();
    /// assert_eq!(c.cost(osc_channel::machine::ReadMode::Batch), None);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        ReceiveChooser {
            cost: [None, None],
            samples: [0, 0],
            since_probe: 0,
            reads: 0,
            current: ReadMode::Batch,
            timed: true,
        }
    }

    /// The mode for the next read.
    ///
    /// ```
    /// use osc_channel::machine::{ReadMode, ReceiveChooser};
    /// let mut c = ReceiveChooser::new();
    /// assert_eq!(c.mode(), ReadMode::Batch); // the first read batches
    /// assert_eq!(c.mode(), ReadMode::Single); // then the two take turns a while
    /// ```
    pub fn mode(&mut self) -> ReadMode {
        self.reads = self.reads.saturating_add(1);
        self.timed = true;
        // At first the two ways take turns, a few reads each (the first read of a
        // socket pays for cold caches, whichever way it is made).
        if self.reads <= WARM_UP {
            return if self.reads % 2 == 1 {
                ReadMode::Batch
            } else {
                ReadMode::Single
            };
        }
        let (Some(s), Some(b)) = (self.cost[0], self.cost[1]) else {
            return if self.cost[1].is_none() {
                ReadMode::Batch
            } else {
                ReadMode::Single
            };
        };
        // Switch only for a clear gain: two ways within a few percent would otherwise
        // alternate on noise, each switch paying for the colder path.
        let (mine, theirs) = match self.current {
            ReadMode::Single => (s, b),
            ReadMode::Batch => (b, s),
        };
        if theirs < mine * (1.0 - HYSTERESIS) {
            self.current = self.current.other();
        }
        let best = self.current;
        self.since_probe += 1;
        if self.since_probe >= PROBE_EVERY {
            self.since_probe = 0;
            return best.other();
        }
        // Once both are known, one read in TIME_EVERY of the mode in use is enough to
        // follow it (a probe is always timed).
        self.timed = self.reads % TIME_EVERY == 0;
        best
    }

    /// Whether the read [`mode`](Self::mode) just chose should be timed and told to
    /// [`observed`](Self::observed): every probe and every read at first, then one in
    /// eight, so that the clock is read on few readiness events.
    ///
    /// ```
    /// let mut c = osc_channel::machine::ReceiveChooser::new();
    /// c.mode();
    /// assert!(c.wants_timing());
    /// ```
    #[must_use]
    pub fn wants_timing(&self) -> bool {
        self.timed
    }

    /// A read in `mode` delivered `datagrams` and took `elapsed` (system calls
    /// included, the one that found the socket empty too). Reads that delivered
    /// nothing say nothing about the cost per datagram and are ignored.
    ///
    /// ```
    /// use osc_channel::machine::{ReadMode, ReceiveChooser};
    /// use std::time::Duration;
    /// let mut c = ReceiveChooser::new();
    /// c.observed(ReadMode::Batch, 4, Duration::from_nanos(2_000));
    /// assert_eq!(c.cost(ReadMode::Batch), Some(500.0));
    /// c.observed(ReadMode::Batch, 0, Duration::from_nanos(9_000));
    /// assert_eq!(c.cost(ReadMode::Batch), Some(500.0));
    /// ```
    #[allow(clippy::cast_precision_loss)]
    pub fn observed(&mut self, mode: ReadMode, datagrams: usize, elapsed: Duration) {
        if datagrams == 0 {
            return;
        }
        let per = elapsed.as_nanos() as f64 / datagrams as f64;
        let i = mode.index();
        let seen = self.samples.get(i).copied().unwrap_or(0);
        if let Some(cost) = self.cost.get_mut(i) {
            *cost = Some(match *cost {
                // The first observation is replaced by the second (cold caches).
                Some(c) if seen >= 2 => c + WEIGHT * (per - c),
                Some(c) if seen == 1 => per.min(c),
                _ => per,
            });
        }
        if let Some(n) = self.samples.get_mut(i) {
            *n = n.saturating_add(1);
        }
    }

    /// The running cost per datagram of `mode`, in nanoseconds.
    ///
    /// ```
    /// let c = osc_channel::machine::ReceiveChooser::new();
    /// assert_eq!(c.cost(osc_channel::machine::ReadMode::Single), None);
    /// ```
    #[must_use]
    pub fn cost(&self, mode: ReadMode) -> Option<f64> {
        self.cost.get(mode.index()).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(c: &mut ReceiveChooser, reads: usize, single_ns: u64, batch_ns: u64) -> [usize; 2] {
        let mut used = [0, 0];
        for _ in 0..reads {
            let m = c.mode();
            used[m.index()] += 1;
            let per = if m == ReadMode::Single {
                single_ns
            } else {
                batch_ns
            };
            c.observed(m, 32, Duration::from_nanos(32 * per));
        }
        used
    }

    #[test]
    fn the_cheaper_mode_is_used_and_the_other_probed_now_and_then() {
        let mut c = ReceiveChooser::new();
        let used = feed(&mut c, 640, 600, 800);
        // Turns at first, then one probe of the batch every PROBE_EVERY reads.
        let at_most = (WARM_UP / 2) as usize + 1 + 640 / PROBE_EVERY as usize;
        assert!(used[1] <= at_most, "{used:?}");
        assert!(used[0] >= 640 - at_most, "{used:?}");
    }

    #[test]
    fn a_change_of_the_host_is_followed() {
        let mut c = ReceiveChooser::new();
        feed(&mut c, 200, 600, 800); // single cheaper
        assert_eq!(c.mode(), ReadMode::Single);
        // Batching becomes cheaper: the probes see it, the running cost moves.
        let used = feed(&mut c, 64 * 40, 900, 500);
        assert_eq!(c.mode(), ReadMode::Batch);
        assert!(used[1] > used[0], "{used:?}");
    }

    #[test]
    fn empty_reads_and_huge_durations_do_not_break_it() {
        let mut c = ReceiveChooser::new();
        c.observed(ReadMode::Single, 0, Duration::MAX);
        assert_eq!(c.cost(ReadMode::Single), None);
        c.observed(ReadMode::Single, 1, Duration::MAX);
        c.observed(ReadMode::Batch, 1, Duration::from_nanos(1));
        assert_eq!(c.mode(), ReadMode::Batch);
    }
}
