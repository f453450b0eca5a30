//! Whether a reactor pass should read the datagram sockets that just delivered before
//! it asks `epoll`: when a reply or the next datagram of a stream is usually there
//! already, the read alone does the job of `epoll_wait` plus a read, one system call
//! per hop as in a plain blocking loop; when it usually is not, trying first costs one
//! call more, so it is decided from what recent tries found.
//!
//! Whether a pass may try at all is a [`ReadFirstPolicy`](super::ReadFirstPolicy): always,
//! or only after something was sent (what reading first is for is the reply), chosen
//! by [`ReadFirstChooser`](super::ReadFirstChooser) from what each costs.

/// Credit a try that found data earns, and the most credit kept.
const EARN: u8 = 2;
const MAX_CREDIT: u8 = 8;

/// While out of credit, one pass in this many tries anyway, so that a change in the
/// traffic is noticed.
const PROBE_EVERY: u32 = 32;

/// At most this many passes in a row are served by reading first without asking
/// `epoll`; the next one asks it (without waiting), so that the other channels, the
/// waker and timers are never left behind by a busy socket.
pub const POLL_AT_LEAST_EVERY: u32 = 8;

/// Decides, pass by pass, whether to read first, when the policy allows it, from what
/// recent tries found. A try that found data earns 2 credit
/// (at most 8), one that found nothing costs 1: reading first stays on while more
/// than a third of the tries find data, about where the saved `epoll_wait` pays for
/// the wasted reads. The driver asks [`try_now`](Self::try_now), reads, tells
/// [`found`](Self::found) what came, and asks [`must_poll`](Self::must_poll) after a
/// pass served by reading first.
///
/// ```
/// use osc_channel::machine::ReadFirst;
/// let mut rf = ReadFirst::default();
/// assert!(!rf.try_now(false)); // the policy does not allow it
/// assert!(rf.try_now(true)); // the first tries are free
/// rf.found(false);
/// rf.found(false);
/// assert!(!rf.try_now(true)); // out of credit: only probes now and then
/// ```
#[derive(Debug, Clone)]
pub struct ReadFirst {
    credit: u8,
    passes_since_probe: u32,
    served_in_a_row: u32,
}

impl Default for ReadFirst {
    fn default() -> Self {
        ReadFirst {
            credit: EARN,
            passes_since_probe: 0,
            served_in_a_row: 0,
        }
    }
}

impl ReadFirst {
    /// Whether this pass should read the sockets that delivered last pass before it
    /// waits, `allowed` saying whether the [`ReadFirstPolicy`](super::ReadFirstPolicy)
    /// lets it.
    pub fn try_now(&mut self, allowed: bool) -> bool {
        if !allowed {
            return false;
        }
        if self.credit > 0 {
            return true;
        }
        self.passes_since_probe += 1;
        if self.passes_since_probe >= PROBE_EVERY {
            self.passes_since_probe = 0;
            return true;
        }
        false
    }

    /// What a try found.
    pub fn found(&mut self, data: bool) {
        self.credit = if data {
            self.credit.saturating_add(EARN).min(MAX_CREDIT)
        } else {
            self.credit.saturating_sub(1)
        };
        if !data {
            self.served_in_a_row = 0;
        }
    }

    /// After a pass that reading first served: whether it must still ask `epoll`
    /// (without waiting), because [`POLL_AT_LEAST_EVERY`] passes in a row skipped it.
    pub fn must_poll(&mut self) -> bool {
        self.served_in_a_row += 1;
        if self.served_in_a_row >= POLL_AT_LEAST_EVERY {
            self.served_in_a_row = 0;
            return true;
        }
        false
    }

    /// A pass that waited in `epoll`: the count of passes without it starts again.
    pub fn polled(&mut self) {
        self.served_in_a_row = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_on_while_more_than_a_third_of_tries_find_data() {
        // Half the tries find data: always on.
        let mut rf = ReadFirst::default();
        for i in 0..1000 {
            assert!(rf.try_now(true), "try {i}");
            rf.found(i % 2 == 0);
        }
        // One in four: mostly off, probing every PROBE_EVERY passes.
        let mut rf = ReadFirst::default();
        let mut tries = 0;
        for _ in 0..3200u32 {
            if rf.try_now(true) {
                tries += 1;
                rf.found(tries % 4 == 0);
            }
        }
        assert!(tries < 3200 / 4, "{tries} tries");
        assert!(tries >= 3200 / PROBE_EVERY as usize, "{tries} tries");
    }

    #[test]
    fn a_pass_the_policy_forbids_never_reads_first() {
        let mut rf = ReadFirst::default();
        for _ in 0..1000 {
            assert!(!rf.try_now(false));
        }
        // Nor does it use up the credit or the probes of the passes it allows.
        assert!(rf.try_now(true));
        rf.found(true);
        assert!(!rf.try_now(false));
        assert!(rf.try_now(true));
    }

    #[test]
    fn never_finding_data_costs_one_try_in_probe_every() {
        let mut rf = ReadFirst::default();
        let tries = (0..PROBE_EVERY * 100)
            .filter(|_| {
                let t = rf.try_now(true);
                if t {
                    rf.found(false);
                }
                t
            })
            .count();
        assert!(tries <= 100 + 2, "{tries}");
    }

    #[test]
    fn epoll_is_asked_at_least_every_few_passes() {
        let mut rf = ReadFirst::default();
        let polls = (0..POLL_AT_LEAST_EVERY * 10)
            .filter(|_| {
                rf.found(true);
                rf.must_poll()
            })
            .count();
        assert_eq!(polls, 10);
        // A pass that waited starts the count again.
        for _ in 1..POLL_AT_LEAST_EVERY {
            assert!(!rf.must_poll());
        }
        rf.polled();
        for _ in 1..POLL_AT_LEAST_EVERY {
            assert!(!rf.must_poll());
        }
        assert!(rf.must_poll());
    }
}
