//! Waiting in a read: when one UDP socket is all a reactor watches, a pass can wait in
//! that socket's read (bounded by its receive timeout, `SO_RCVTIMEO`) instead of in
//! `epoll_wait` and then a read: one system call per datagram, as a plain blocking
//! loop makes. These rules say when a pass may, and which receive timeout it needs.

use std::time::Duration;

use super::ReadMode;

/// Waits shorter than this are left to `epoll_wait`, whose timeout is precise to the
/// microsecond: a receive timeout runs on the kernel's timer wheel, which counts
/// scheduler ticks and rounds a long wait up by as much as an eighth of it.
pub const NAP_MIN: Duration = Duration::from_millis(20);

/// Taken off a pass's wait for the read's timeout (with an eighth of the wait), so
/// that a read the timer wheel ends late (a tick, 10 ms at `HZ=100`, plus the eighth)
/// still ends before the pass's deadline; the pass waits the rest, measured, in
/// `epoll_wait`.
pub const NAP_SLACK: Duration = Duration::from_millis(10);

/// The longest wait in one read (a pass without a timeout too): a kick that another
/// socket of the same port took (`SO_REUSEADDR` lets two programs share it) costs at
/// most this, once (the socket then waits in the poll).
pub const NAP_MAX: Duration = Duration::from_secs(1);

/// Whether a pass that would wait up to `timeout` (`None`: without limit) may wait in
/// a read.
///
/// ```
/// use osc_channel::machine::may_nap;
/// use std::time::Duration;
/// assert!(may_nap(None));
/// assert!(may_nap(Some(Duration::from_millis(100))));
/// assert!(!may_nap(Some(Duration::from_millis(2))), "too short for a tick's precision");
/// assert!(!may_nap(Some(Duration::ZERO)));
/// ```
pub fn may_nap(timeout: Option<Duration>) -> bool {
    timeout.is_none_or(|t| t >= NAP_MIN)
}

/// The receive timeout to set before a wait of up to `timeout` in a read, or `None` to
/// keep the socket's `current` one. It is `timeout` less an eighth and [`NAP_SLACK`]
/// (of at most [`NAP_MAX`]), so that the read ends before the pass's deadline however
/// the timer wheel rounds it; a shorter timeout already set is kept while it is at
/// least half that, so a pass whose wait shrinks towards a deadline, or a loop of equal
/// waits, does not pay a `setsockopt` per pass.
///
/// ```
/// use osc_channel::machine::nap_read_timeout;
/// use std::time::Duration;
/// let ms = Duration::from_millis;
/// let us = Duration::from_micros;
/// assert_eq!(nap_read_timeout(None, Some(ms(100))), Some(us(77_500)));
/// assert_eq!(nap_read_timeout(Some(us(77_500)), Some(ms(100))), None, "kept");
/// assert_eq!(nap_read_timeout(Some(ms(77)), Some(ms(60))), Some(us(42_500)), "too long now");
/// assert_eq!(nap_read_timeout(Some(ms(77)), None), Some(us(865_000)), "too short a nap");
/// ```
pub fn nap_read_timeout(current: Option<Duration>, timeout: Option<Duration>) -> Option<Duration> {
    let wait = timeout.map_or(NAP_MAX, |t| t.min(NAP_MAX));
    let want = wait
        .saturating_sub(wait / 8)
        .saturating_sub(NAP_SLACK)
        .max(Duration::from_millis(1));
    match current {
        Some(c) if c <= want && c >= want / 2 => None,
        _ => Some(want),
    }
}

/// In single mode, one wait in this many takes a batch, to see whether datagrams
/// gather again.
pub const NAP_PROBE_EVERY: u8 = 16;

/// Waits in a row that took a batch and found one datagram before reading one at a
/// time.
pub const NAP_SINGLE_AFTER: u8 = 4;

/// Whether a wait in a read takes a batch (`recvmmsg` with `MSG_WAITFORONE`) or one
/// datagram (`recvfrom`). When a wait finds one datagram (a request-reply exchange),
/// the batch costs the kernel a second receive attempt that finds nothing, about a
/// tenth of a round trip on one CPU; when datagrams gather (a stream), one call takes
/// them all. Batches until [`NAP_SINGLE_AFTER`] of them in a row found one datagram,
/// then reads one at a time, taking a batch every [`NAP_PROBE_EVERY`]th wait: one that
/// finds more than one datagram goes back to batches. Waits that delivered nothing (a
/// kick, the timeout) say nothing.
///
/// ```
/// use osc_channel::machine::{NapReads, ReadMode};
/// let mut r = NapReads::default();
/// for _ in 0..4 {
///     assert_eq!(r.mode(), ReadMode::Batch);
///     r.observed(ReadMode::Batch, 1); // a reply at a time
/// }
/// assert_eq!(r.mode(), ReadMode::Single);
/// let probe = (0..16).map(|_| r.mode()).position(|m| m == ReadMode::Batch);
/// assert!(probe.is_some(), "a batch now and then");
/// r.observed(ReadMode::Batch, 20); // a stream again
/// assert_eq!(r.mode(), ReadMode::Batch);
/// ```
#[derive(Debug, Clone, Default)]
pub struct NapReads {
    single: bool,
    ones: u8,
    waits: u8,
}

impl NapReads {
    /// How the next wait reads.
    pub fn mode(&mut self) -> ReadMode {
        if !self.single {
            return ReadMode::Batch;
        }
        self.waits = self.waits.wrapping_add(1);
        if self.waits % NAP_PROBE_EVERY == 0 {
            ReadMode::Batch
        } else {
            ReadMode::Single
        }
    }

    /// A wait read in `mode` delivered `delivered` datagrams.
    pub fn observed(&mut self, mode: ReadMode, delivered: usize) {
        if mode != ReadMode::Batch || delivered == 0 {
            return;
        }
        if delivered > 1 {
            self.single = false;
            self.ones = 0;
        } else if !self.single {
            self.ones += 1;
            if self.ones >= NAP_SINGLE_AFTER {
                self.single = true;
                self.ones = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_never_outlasts_the_pass() {
        let ms = Duration::from_millis;
        let mut current = None;
        // A wait that shrinks towards a deadline, 1 ms a pass.
        for left in (20..=1500).rev() {
            let timeout = Some(ms(left));
            if let Some(t) = nap_read_timeout(current, timeout) {
                current = Some(t);
            }
            let read = current.unwrap();
            // Rounded up by an eighth and a tick, the read still ends in time.
            let late = read + read / 8 + NAP_SLACK;
            assert!(late <= ms(left), "{read:?} for a wait of {left} ms");
            let wait = ms(left).min(NAP_MAX);
            let want = wait - wait / 8 - NAP_SLACK;
            assert!(read >= want / 2, "{read:?} for a wait of {left} ms");
        }
    }

    #[test]
    fn a_loop_of_equal_waits_sets_the_timeout_once() {
        let ms = Duration::from_millis;
        let mut current = None;
        let mut sets = 0;
        for _ in 0..100 {
            if let Some(t) = nap_read_timeout(current, Some(ms(100))) {
                current = Some(t);
                sets += 1;
            }
        }
        assert_eq!(sets, 1);
        assert!(!may_nap(Some(NAP_MIN - ms(1))));
    }

    #[test]
    fn a_stream_goes_back_to_batches_within_a_probe_period() {
        let mut r = NapReads::default();
        for _ in 0..NAP_SINGLE_AFTER {
            let m = r.mode();
            r.observed(m, 1);
        }
        assert_eq!(r.mode(), ReadMode::Single);
        // Kicks and timeouts (nothing delivered) change nothing.
        r.observed(ReadMode::Batch, 0);
        // A stream: single reads find one each; the probe finds many.
        let mut waits = 0;
        loop {
            waits += 1;
            let m = r.mode();
            let got = if m == ReadMode::Batch { 32 } else { 1 };
            r.observed(m, got);
            if m == ReadMode::Batch {
                break;
            }
        }
        assert!(waits <= usize::from(NAP_PROBE_EVERY), "{waits}");
        assert_eq!(r.mode(), ReadMode::Batch);
        // A probe that finds one datagram keeps reading one at a time.
        let mut r = NapReads::default();
        for _ in 0..NAP_SINGLE_AFTER {
            r.observed(ReadMode::Batch, 1);
        }
        for _ in 0..(3 * u32::from(NAP_PROBE_EVERY)) {
            let m = r.mode();
            r.observed(m, 1);
        }
        assert_eq!(r.mode(), ReadMode::Single);
    }
}
