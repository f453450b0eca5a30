//! Bounded time series of one numeric argument and their decimation for drawing.

use std::collections::VecDeque;

/// `(seconds, value)`.
type Point = (f64, f64);

/// The points of one numeric argument of one address, oldest first, at most `cap`
/// (the oldest go first).
///
/// ```
/// use osc_monitor::Series;
/// let mut s = Series::new(3);
/// for i in 0..5 {
///     s.push(f64::from(i), f64::from(i) * 10.0);
/// }
/// assert_eq!(s.len(), 3);
/// assert_eq!(s.window(0.0, 10.0, 100), vec![[2.0, 20.0], [3.0, 30.0], [4.0, 40.0]]);
/// ```
#[derive(Debug, Clone)]
pub struct Series {
    points: VecDeque<(f64, f64)>,
    cap: usize,
}

impl Series {
    /// An empty series of at most `cap` points (at least 1).
    ///
    /// ```
    /// assert!(osc_monitor::Series::new(10).is_empty());
    /// ```
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Series {
            points: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Adds the value `v` at time `t` (seconds).
    ///
    /// ```
    /// let mut s = osc_monitor::Series::new(10);
    /// s.push(1.0, 0.5);
    /// assert_eq!(s.len(), 1);
    /// ```
    pub fn push(&mut self, t: f64, v: f64) {
        if self.points.len() >= self.cap {
            self.points.pop_front();
        }
        self.points.push_back((t, v));
    }

    /// Points kept.
    ///
    /// ```
    /// assert_eq!(osc_monitor::Series::new(4).len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is kept.
    ///
    /// ```
    /// assert!(osc_monitor::Series::new(4).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points with `from <= t <= to`, decimated to at most `2 * buckets`
    /// `[t, v]` pairs (see [`decimate`]).
    ///
    /// ```
    /// let mut s = osc_monitor::Series::new(10_000);
    /// for i in 0..10_000 {
    ///     s.push(f64::from(i) / 1000.0, f64::from(i % 7));
    /// }
    /// assert!(s.window(0.0, 10.0, 100).len() <= 200);
    /// ```
    #[must_use]
    pub fn window(&self, from: f64, to: f64, buckets: usize) -> Vec<[f64; 2]> {
        // The points are in arrival order, which is time order unless the clock
        // stepped; a binary search finds the first point in the window.
        let start = self.points.partition_point(|&(t, _)| t < from);
        let inside = self.points.range(start..).take_while(|&&(t, _)| t <= to);
        decimate(inside.copied(), from, to, buckets)
    }
}

/// At most `2 * buckets` points of `points` (in time order, within `[from, to]`):
/// all of them when they are few enough, else the minimum and the maximum of each of
/// `buckets` equal slices of the time range (in time order), which is what a plot
/// `buckets` pixels wide can show anyway.
///
/// ```
/// use osc_monitor::decimate;
/// let few = vec![(0.0, 1.0), (1.0, 2.0)];
/// assert_eq!(decimate(few.into_iter(), 0.0, 1.0, 10), vec![[0.0, 1.0], [1.0, 2.0]]);
/// let many = (0..1000).map(|i| (f64::from(i), f64::from(i % 10)));
/// let out = decimate(many, 0.0, 999.0, 10);
/// assert_eq!(out.len(), 20);
/// assert!(out.iter().any(|p| p[1] == 9.0) && out.iter().any(|p| p[1] == 0.0));
/// ```
pub fn decimate(
    points: impl Iterator<Item = (f64, f64)> + Clone,
    from: f64,
    to: f64,
    buckets: usize,
) -> Vec<[f64; 2]> {
    let buckets = buckets.max(1);
    let n = points.clone().count();
    if n <= 2 * buckets {
        return points.map(|(t, v)| [t, v]).collect();
    }
    let span = (to - from).max(f64::MIN_POSITIVE);
    let mut out = Vec::with_capacity(2 * buckets);
    // (bucket, (t, v) of the minimum, (t, v) of the maximum)
    let mut current: Option<(usize, Point, Point)> = None;
    let flush = |out: &mut Vec<[f64; 2]>, lo: Point, hi: Point| {
        let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
        out.push([a.0, a.1]);
        if a != b {
            out.push([b.0, b.1]);
        }
    };
    for (t, v) in points {
        let b = (((t - from) / span) * buckets as f64).floor();
        let b = (b.max(0.0) as usize).min(buckets - 1);
        match &mut current {
            Some((cb, lo, hi)) if *cb == b => {
                if v < lo.1 {
                    *lo = (t, v);
                }
                if v > hi.1 {
                    *hi = (t, v);
                }
            }
            _ => {
                if let Some((_, lo, hi)) = current.take() {
                    flush(&mut out, lo, hi);
                }
                current = Some((b, (t, v), (t, v)));
            }
        }
    }
    if let Some((_, lo, hi)) = current {
        flush(&mut out, lo, hi);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_extremes_and_bound() {
        let pts: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (f64::from(i) / 1e4, (f64::from(i) / 100.0).sin()))
            .collect();
        let out = decimate(pts.iter().copied(), 0.0, 10.0, 500);
        assert!(out.len() <= 1000, "{}", out.len());
        assert!(out.len() >= 500);
        let max = out.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
        assert!(max > 0.999);
        assert!(out.windows(2).all(|w| w[0][0] <= w[1][0]), "time order");
    }

    #[test]
    fn window_selects_time_range() {
        let mut s = Series::new(100);
        for i in 0..100 {
            s.push(f64::from(i), 1.0);
        }
        assert_eq!(s.window(10.0, 19.0, 100).len(), 10);
        assert_eq!(s.window(200.0, 300.0, 100).len(), 0);
    }

    #[test]
    fn constant_bucket_gives_one_point() {
        let pts = (0..1000).map(|i| (f64::from(i), 5.0));
        let out = decimate(pts, 0.0, 1000.0, 10);
        assert_eq!(out.len(), 10);
    }
}
