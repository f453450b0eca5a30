//! A server's connection count against its limit.

/// Counts a server's connections and says whether one more may come in.
///
/// ```
/// use osc_channel::machine::Admission;
/// let mut a = Admission::new(1);
/// assert!(a.admit());
/// assert!(!a.admit());          // over the limit: refuse (and count the drop)
/// a.release();
/// assert!(a.admit());
/// assert_eq!(a.count(), 1);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Admission {
    count: usize,
    max: usize,
}

impl Admission {
    /// At most `max` connections at once.
    pub fn new(max: usize) -> Self {
        Admission { count: 0, max }
    }

    /// Takes a place for a new connection; `false` (nothing taken) when full.
    pub fn admit(&mut self) -> bool {
        if self.count >= self.max {
            return false;
        }
        self.count += 1;
        true
    }

    /// A connection closed (or its set-up failed after [`admit`](Self::admit)).
    pub fn release(&mut self) {
        self.count = self.count.saturating_sub(1);
    }

    /// Connections now.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_admits_nobody_and_release_never_wraps() {
        let mut a = Admission::new(0);
        assert!(!a.admit());
        a.release();
        assert_eq!(a.count(), 0);
        assert_eq!(a.max(), 0);
    }
}
