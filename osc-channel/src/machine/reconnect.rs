//! A client's connection state and reconnection backoff, without a socket.

use std::time::{Duration, Instant};

use crate::Backoff;

use super::deadline;

/// Where a client stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// A connection attempt is under way; `backoff` is the wait that led to it (zero
    /// for the first attempt).
    Connecting {
        /// The wait before this attempt.
        backoff: Duration,
    },
    /// Connected.
    Connected,
    /// Waiting to try again at `until` (`None`: a wait too long to represent, that is
    /// never); `backoff` is this wait.
    Waiting {
        /// When to try again.
        until: Option<Instant>,
        /// The length of this wait.
        backoff: Duration,
    },
    /// Failed and not reconnecting.
    Failed,
}

/// What [`Reconnect::lost`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lost {
    /// The client had been connected (so a `Disconnected` event is due).
    pub was_connected: bool,
    /// When the next attempt is due (`None`: not reconnecting, or never).
    pub retry_at: Option<Instant>,
}

/// A client's connection state machine: connect, lose the connection, wait with a
/// backoff that doubles after each failed attempt up to its maximum (and starts again
/// from the initial wait once a connection succeeds), or fail for good without a
/// reconnection policy.
///
/// ```
/// use osc_channel::machine::{ClientState, Reconnect};
/// use osc_channel::Backoff;
/// use std::time::{Duration, Instant};
///
/// let ms = Duration::from_millis;
/// let mut r = Reconnect::new(Some(Backoff { initial: ms(100), max: ms(300) }));
/// let t0 = Instant::now();
/// r.connecting();
/// // The server is down: 100 ms, then 200, then 300 (the maximum).
/// for wait in [100, 200, 300, 300] {
///     assert_eq!(r.lost(t0).retry_at, Some(t0 + ms(wait)));
///     assert!(r.due(t0 + ms(wait)));
///     r.connecting();
/// }
/// r.connected();
/// assert_eq!(r.state(), ClientState::Connected);
/// assert!(r.lost(t0).was_connected);
/// assert_eq!(r.deadline(), Some(t0 + ms(100)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Reconnect {
    policy: Option<Backoff>,
    state: ClientState,
}

impl Reconnect {
    /// A client about to make its first attempt, reconnecting by `policy` (`None`: it
    /// fails at the first loss).
    pub fn new(policy: Option<Backoff>) -> Self {
        Reconnect {
            policy,
            state: ClientState::Connecting {
                backoff: Duration::ZERO,
            },
        }
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// An attempt starts (the first, or a retry that was due).
    pub fn connecting(&mut self) {
        let backoff = match self.state {
            ClientState::Waiting { backoff, .. } | ClientState::Connecting { backoff } => backoff,
            ClientState::Connected | ClientState::Failed => Duration::ZERO,
        };
        self.state = ClientState::Connecting { backoff };
    }

    /// The attempt succeeded: the next loss waits the initial backoff again.
    pub fn connected(&mut self) {
        self.state = ClientState::Connected;
    }

    /// Whether a connection is established or being made.
    pub fn is_live(&self) -> bool {
        matches!(
            self.state,
            ClientState::Connected | ClientState::Connecting { .. }
        )
    }

    /// The connection failed or ended at `now`: wait before the next attempt, or fail.
    pub fn lost(&mut self, now: Instant) -> Lost {
        let was_connected = self.state == ClientState::Connected;
        let Some(policy) = self.policy else {
            self.state = ClientState::Failed;
            return Lost {
                was_connected,
                retry_at: None,
            };
        };
        let previous = match self.state {
            ClientState::Connecting { backoff } | ClientState::Waiting { backoff, .. } => backoff,
            ClientState::Connected | ClientState::Failed => Duration::ZERO,
        };
        let wait = if previous.is_zero() {
            policy.initial
        } else {
            previous
                .saturating_mul(2)
                .min(policy.max.max(policy.initial))
        };
        let until = deadline(now, wait);
        self.state = ClientState::Waiting {
            until,
            backoff: wait,
        };
        Lost {
            was_connected,
            retry_at: until,
        }
    }

    /// When the next attempt is due, if the client waits for one.
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            ClientState::Waiting { until, .. } => until,
            _ => None,
        }
    }

    /// Whether an attempt is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|t| t <= now)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn without_a_policy_the_first_loss_is_final() {
        let mut r = Reconnect::new(None);
        let now = Instant::now();
        assert_eq!(
            r.lost(now),
            Lost {
                was_connected: false,
                retry_at: None
            }
        );
        assert_eq!(r.state(), ClientState::Failed);
        assert!(!r.due(now + Duration::from_secs(3600)));
    }

    #[test]
    fn refused_attempts_grow_the_backoff_even_when_connect_itself_succeeds() {
        // A non-blocking connect returns at once; the refusal comes later, when the
        // attempt is in `Connecting`. The wait must still double.
        let mut r = Reconnect::new(Some(Backoff {
            initial: 10 * MS,
            max: 80 * MS,
        }));
        let now = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..6 {
            r.connecting();
            let at = r.lost(now).retry_at.unwrap();
            waits.push(at - now);
        }
        assert_eq!(
            waits,
            [10 * MS, 20 * MS, 40 * MS, 80 * MS, 80 * MS, 80 * MS]
        );
    }

    #[test]
    fn a_success_resets_the_backoff() {
        let mut r = Reconnect::new(Some(Backoff {
            initial: 10 * MS,
            max: 80 * MS,
        }));
        let now = Instant::now();
        r.lost(now);
        r.connecting();
        r.lost(now);
        r.connecting();
        r.connected();
        assert!(r.is_live());
        let lost = r.lost(now);
        assert!(lost.was_connected);
        assert_eq!(lost.retry_at, Some(now + 10 * MS));
    }

    #[test]
    fn huge_backoffs_never_panic() {
        let mut r = Reconnect::new(Some(Backoff {
            initial: Duration::MAX,
            max: Duration::MAX,
        }));
        let now = Instant::now();
        for _ in 0..3 {
            r.connecting();
            assert_eq!(r.lost(now).retry_at, None);
            assert!(!r.due(now));
        }
        let mut r = Reconnect::new(Some(Backoff {
            initial: Duration::from_secs(u64::MAX / 2),
            max: Duration::MAX,
        }));
        for _ in 0..4 {
            r.connecting();
            r.lost(now);
        }
        assert!(matches!(
            r.state(),
            ClientState::Waiting { until: None, .. }
        ));
    }

    #[test]
    fn a_max_below_the_initial_wait_keeps_the_initial_wait() {
        let mut r = Reconnect::new(Some(Backoff {
            initial: 50 * MS,
            max: 10 * MS,
        }));
        let now = Instant::now();
        for _ in 0..3 {
            r.connecting();
            assert_eq!(r.lost(now).retry_at, Some(now + 50 * MS));
        }
    }
}
