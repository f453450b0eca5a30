//! The reactor's table of channels: a hash map keyed by channel id, with a hash made
//! for those ids.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::channel::Channel;

/// The channels by id. Every readiness event looks its channel up (a busy server with
/// 1,000 connections does so thousands of times per pass), so the hash is one
/// multiplication instead of std's SipHash. Each channel is boxed: a table keeps
/// up to twice as many slots as entries, and a slot of 16 bytes instead of a
/// channel's 600 halves the memory an idle connection holds.
pub(super) type Channels = HashMap<u64, Box<Channel>, BuildHasherDefault<IdHasher>>;

/// Hashes a channel id. SipHash's keyed hash defends a map against keys chosen to
/// collide; these keys are the reactor's own (a counter, never a peer's input), so
/// the defence buys nothing. Multiplying by 2^64 / phi and folding the 128-bit
/// product spreads consecutive ids over both the low bits (the bucket) and the high
/// bits (hashbrown's tag).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

/// 2^64 / phi, odd: consecutive ids land far apart.
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `u64` keys; any other input still hashes whole.
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let p = u128::from(n) * u128::from(SPREAD);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn consecutive_ids_spread_over_buckets_and_tags() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let hashes: Vec<u64> = (1..=4096u64).map(|id| build.hash_one(id)).collect();
        // Buckets of a 4,096-slot table (low 12 bits) and hashbrown's 7-bit tags (top
        // bits): consecutive ids must not pile up in either.
        let buckets: HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
        let tags: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(buckets.len() > 2500, "{} buckets used", buckets.len());
        assert_eq!(tags.len(), 128);
    }
}
