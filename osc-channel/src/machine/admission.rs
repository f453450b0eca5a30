//! A server's connection count against its limits.

use std::collections::HashMap;
use std::net::IpAddr;

/// What [`Admission::admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// A place was taken for the newcomer.
    Yes,
    /// Every place is taken: the server may evict a connection to make room.
    Full,
    /// The newcomer's address has all the places one address may have.
    SourceFull,
}

/// Counts a server's connections, in all and per source address, and says whether one
/// more may come in.
///
/// ```
/// use osc_channel::machine::{Admission, Admit};
/// let (a, b) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
/// let mut adm = Admission::new(3, 2);
/// assert_eq!(adm.admit(a), Admit::Yes);
/// assert_eq!(adm.admit(a), Admit::Yes);
/// assert_eq!(adm.admit(a), Admit::SourceFull); // one host cannot take every place
/// assert_eq!(adm.admit(b), Admit::Yes);
/// assert_eq!(adm.admit(b), Admit::Full);
/// adm.release(a);
/// assert_eq!(adm.admit(b), Admit::Yes);
/// assert_eq!(adm.count(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct Admission {
    count: usize,
    max: usize,
    per_source: HashMap<IpAddr, usize>,
    max_per_source: usize,
}

impl Admission {
    /// At most `max` connections at once, `max_per_source` of them from one address.
    pub fn new(max: usize, max_per_source: usize) -> Self {
        Admission {
            count: 0,
            max,
            per_source: HashMap::new(),
            max_per_source,
        }
    }

    /// Takes a place for a connection from `source`, if one is free.
    pub fn admit(&mut self, source: IpAddr) -> Admit {
        let from_source = self.per_source.get(&source).copied().unwrap_or(0);
        if from_source >= self.max_per_source {
            return Admit::SourceFull;
        }
        if self.count >= self.max {
            return Admit::Full;
        }
        self.count += 1;
        *self.per_source.entry(source).or_insert(0) += 1;
        Admit::Yes
    }

    /// A connection from `source` closed (or its set-up failed after
    /// [`admit`](Self::admit)).
    pub fn release(&mut self, source: IpAddr) {
        if let Some(n) = self.per_source.get_mut(&source) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&source);
            }
            self.count = self.count.saturating_sub(1);
        }
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn zero_admits_nobody_and_release_never_wraps() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut a = Admission::new(0, 8);
        assert_eq!(a.admit(ip), Admit::Full);
        a.release(ip);
        assert_eq!(a.count(), 0);
        let mut a = Admission::new(8, 0);
        assert_eq!(a.admit(ip), Admit::SourceFull);
    }

    #[test]
    fn releases_of_unknown_sources_change_nothing() {
        let (x, y): (IpAddr, IpAddr) = ("::1".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let mut a = Admission::new(2, 2);
        assert_eq!(a.admit(x), Admit::Yes);
        a.release(y);
        assert_eq!(a.count(), 1);
        a.release(x);
        a.release(x);
        assert_eq!(
            (a.count(), a.admit(y), a.admit(y)),
            (0, Admit::Yes, Admit::Yes)
        );
    }
}
