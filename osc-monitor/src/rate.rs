//! Messages per second over a sliding window: a ring of counts per slice of the
//! window, so that memory per address is fixed whatever the rate.

/// Slices of the window; the rate is the count of the slices inside the window
/// divided by its length.
const SLICES: usize = 20;

/// A sliding-window rate counter on a clock the caller passes in (seconds).
///
/// ```
/// use osc_monitor::RateWindow;
/// let mut r = RateWindow::new(2.0);
/// for i in 0..40 {
///     r.add(100.0 + f64::from(i) * 0.05); // 20 per second for 2 s
/// }
/// assert!((r.rate(101.96) - 20.0).abs() < 1.5);
/// assert_eq!(r.rate(200.0), 0.0);
/// ```
#[derive(Debug, Clone)]
pub struct RateWindow {
    counts: [u32; SLICES],
    /// Index (time / slice) of the newest slice.
    head: i64,
    slice: f64,
}

impl RateWindow {
    /// A counter over `window` seconds (at least 1 ms).
    ///
    /// ```
    /// let r = osc_monitor::RateWindow::new(1.0);
    /// assert_eq!(r.rate(0.0), 0.0);
    /// ```
    #[must_use]
    pub fn new(window: f64) -> Self {
        let window = if window.is_finite() {
            window.max(0.001)
        } else {
            1.0
        };
        RateWindow {
            counts: [0; SLICES],
            head: i64::MIN,
            slice: window / SLICES as f64,
        }
    }

    fn index(&self, t: f64) -> i64 {
        // `as` saturates (NaN gives 0): a clock gone wrong cannot panic.
        (t / self.slice).floor() as i64
    }

    fn cell(&mut self, i: i64) -> Option<&mut u32> {
        let n = SLICES as i64;
        self.counts
            .get_mut(usize::try_from(i.rem_euclid(n)).unwrap_or(0))
    }

    /// Counts one event at time `t` (seconds). Events older than the window are
    /// not counted; a clock that steps back counts into the newest slice.
    ///
    /// ```
    /// let mut r = osc_monitor::RateWindow::new(1.0);
    /// r.add(5.0);
    /// assert_eq!(r.rate(5.0), 1.0);
    /// ```
    pub fn add(&mut self, t: f64) {
        let i = self.index(t);
        if self.head == i64::MIN || i >= self.head.saturating_add(SLICES as i64) {
            self.counts = [0; SLICES];
            self.head = i;
        } else if i > self.head {
            for k in self.head + 1..=i {
                if let Some(c) = self.cell(k) {
                    *c = 0;
                }
            }
            self.head = i;
        }
        let at = i.max(self.head - SLICES as i64 + 1).min(self.head);
        if let Some(c) = self.cell(at) {
            *c = c.saturating_add(1);
        }
    }

    /// Events per second over the window that ends at `now`.
    ///
    /// ```
    /// let mut r = osc_monitor::RateWindow::new(1.0);
    /// r.add(0.5);
    /// r.add(0.6);
    /// assert_eq!(r.rate(0.9), 2.0);
    /// assert_eq!(r.rate(3.0), 0.0);
    /// ```
    #[must_use]
    pub fn rate(&self, now: f64) -> f64 {
        if self.head == i64::MIN {
            return 0.0;
        }
        let now_i = self.index(now);
        let oldest = now_i.saturating_sub(SLICES as i64 - 1);
        let mut sum: u64 = 0;
        for k in 0..SLICES as i64 {
            let i = self.head - k;
            if i >= oldest && i <= now_i {
                let c = self
                    .counts
                    .get(usize::try_from(i.rem_euclid(SLICES as i64)).unwrap_or(0));
                sum += u64::from(c.copied().unwrap_or(0));
            }
        }
        sum as f64 / (self.slice * SLICES as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_is_measured() {
        let mut r = RateWindow::new(2.0);
        for i in 0..1000 {
            r.add(f64::from(i) * 0.01); // 100 per second for 10 s
        }
        let got = r.rate(9.99);
        assert!((got - 100.0).abs() <= 5.0, "{got}");
    }

    #[test]
    fn old_events_leave_the_window() {
        let mut r = RateWindow::new(1.0);
        for _ in 0..10 {
            r.add(1.0);
        }
        assert_eq!(r.rate(1.0), 10.0);
        assert_eq!(r.rate(2.5), 0.0);
        r.add(10.0);
        assert_eq!(r.rate(10.0), 1.0);
    }

    #[test]
    fn clock_going_back_or_wild_does_not_panic() {
        let mut r = RateWindow::new(1.0);
        r.add(100.0);
        r.add(50.0);
        r.add(f64::NAN);
        r.add(f64::INFINITY);
        r.add(-f64::INFINITY);
        let _ = r.rate(f64::NAN);
        let _ = r.rate(100.0);
    }
}
