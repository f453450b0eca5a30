//! Deadlines of many channels in one heap.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// A min-heap of `(deadline, key)`: the driver asks for the earliest deadline to bound
/// its wait, and pops the keys that are due, instead of scanning every channel each
/// pass. Entries are not removed when a deadline is cancelled or moved: the owner
/// checks, for each key popped, whether it is still due (lazy deletion), so a stale
/// entry costs one check.
///
/// ```
/// use osc_channel::machine::Timers;
/// use std::time::{Duration, Instant};
///
/// let t0 = Instant::now();
/// let mut timers = Timers::default();
/// timers.insert(t0 + Duration::from_millis(20), 2);
/// timers.insert(t0 + Duration::from_millis(10), 1);
/// assert_eq!(timers.next(), Some(t0 + Duration::from_millis(10)));
/// assert_eq!(timers.pop_due(t0), None);
/// assert_eq!(timers.pop_due(t0 + Duration::from_millis(15)), Some(1));
/// assert_eq!(timers.pop_due(t0 + Duration::from_millis(15)), None);
/// assert_eq!(timers.len(), 1);
/// ```
#[derive(Debug, Default, Clone)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Timers {
    /// Adds a deadline for `key`.
    pub fn insert(&mut self, at: Instant, key: u64) {
        self.heap.push(Reverse((at, key)));
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Removes and returns a key whose deadline is at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<u64> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, k))| k),
            _ => None,
        }
    }

    /// Entries held (stale ones included).
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn due_keys_come_out_in_deadline_order() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        for (ms, key) in [(30, 3), (10, 1), (20, 2), (10, 4)] {
            t.insert(t0 + Duration::from_millis(ms), key);
        }
        let mut out = Vec::new();
        while let Some(k) = t.pop_due(t0 + Duration::from_millis(25)) {
            out.push(k);
        }
        out[..2].sort();
        assert_eq!(out, [1, 4, 2]);
        assert!(!t.is_empty());
        assert_eq!(t.next(), Some(t0 + Duration::from_millis(30)));
    }
}
