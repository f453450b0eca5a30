//! A UDP channel's sending side, without the socket.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::options::{MAX_DATAGRAM_V4, MAX_DATAGRAM_V6};

use super::Refusal;

/// The largest datagram that can go to `dest` (65,507 bytes over IPv4, 65,527 over
/// IPv6).
///
/// ```
/// use osc_channel::machine::max_datagram;
/// assert_eq!(max_datagram(&"127.0.0.1:9".parse().unwrap()), 65_507);
/// assert_eq!(max_datagram(&"[::1]:9".parse().unwrap()), 65_527);
/// ```
pub fn max_datagram(dest: &SocketAddr) -> usize {
    if dest.is_ipv4() {
        MAX_DATAGRAM_V4
    } else {
        MAX_DATAGRAM_V6
    }
}

/// Where a packet of `len` bytes goes: `dest` if given, else the channel's `default`
/// destination. Refused without a destination, or when it cannot fit a datagram.
///
/// ```
/// use osc_channel::machine::{route, Refusal};
/// let d = "127.0.0.1:9".parse().unwrap();
/// assert_eq!(route(Some(d), 8, None), Ok(d));
/// assert_eq!(route(None, 8, None), Err(Refusal::NoDestination));
/// ```
pub fn route(
    default: Option<SocketAddr>,
    len: usize,
    dest: Option<SocketAddr>,
) -> Result<SocketAddr, Refusal> {
    let dest = dest.or(default).ok_or(Refusal::NoDestination)?;
    let limit = max_datagram(&dest);
    if len > limit {
        return Err(Refusal::TooLarge { size: len, limit });
    }
    Ok(dest)
}

/// A UDP channel's sending rules: where a packet goes (the given peer, else the
/// channel's destination), whether it fits a datagram, and the bounded queue of
/// datagrams waiting for the socket to take them, in order. The driver writes at once
/// while the queue is empty, and otherwise queues and watches the socket for
/// writability ([`wants_write`](Self::wants_write)).
///
/// ```
/// use osc_channel::machine::{Refusal, UdpMachine};
/// use std::sync::Arc;
///
/// let dest = "127.0.0.1:9000".parse().unwrap();
/// let mut udp = UdpMachine::new(Some(dest), 1, false);
/// assert_eq!(udp.route(8, None), Ok(dest));
/// // The socket would block: the datagram waits, and the next one finds the queue full.
/// udp.enqueue(Arc::from(&b"/a\0\0,\0\0\0"[..]), dest).unwrap();
/// assert!(udp.wants_write());
/// assert_eq!(
///     udp.enqueue(Arc::from(&b"/b\0\0,\0\0\0"[..]), dest),
///     Err(Refusal::QueueFull { limit: 1, unit: "packets" })
/// );
/// // The socket became writable and took one datagram.
/// let batch: Vec<_> = udp.batch(64).collect();
/// assert_eq!(batch.len(), 1);
/// assert_eq!(udp.sent(1), 8);
/// assert!(!udp.wants_write());
/// ```
///
/// The queue rules hold for any datagram socket: the address type `A` is
/// `SocketAddr` for UDP and a socket path (`Arc<Path>`) for Unix datagram sockets,
/// whose size limit the driver passes to [`route_within`](Self::route_within).
#[derive(Debug)]
pub struct UdpMachine<A = SocketAddr> {
    dest: Option<A>,
    queue: VecDeque<(Arc<[u8]>, A)>,
    max_queue: usize,
    queued_bytes: usize,
    max_queue_bytes: usize,
    read: bool,
}

impl UdpMachine<SocketAddr> {
    /// A UDP channel sending to `dest` by default, queueing at most `max_queue`
    /// datagrams (at least 1), that reads (`read`: a server or peer) or only writes.
    pub fn new(dest: Option<SocketAddr>, max_queue: usize, read: bool) -> Self {
        Self::datagram(dest, max_queue, read)
    }

    /// Where a packet of `len` bytes goes: `dest` if given, else the channel's
    /// destination. Refused without a destination, or when it cannot fit a datagram.
    pub fn route(&self, len: usize, dest: Option<SocketAddr>) -> Result<SocketAddr, Refusal> {
        route(self.dest, len, dest)
    }
}

impl<A: Clone> UdpMachine<A> {
    /// A datagram channel of any address type (a Unix socket's path, say) sending to
    /// `dest` by default, queueing at most `max_queue` datagrams (at least 1), that
    /// reads or only writes; [`new`](UdpMachine::new) is this for UDP.
    pub fn datagram(dest: Option<A>, max_queue: usize, read: bool) -> Self {
        UdpMachine {
            dest,
            queue: VecDeque::new(),
            max_queue: max_queue.max(1),
            queued_bytes: 0,
            max_queue_bytes: usize::MAX,
            read,
        }
    }

    /// Bounds the queue in bytes as well (at least one largest datagram, 65,527
    /// bytes, so that any datagram can wait).
    ///
    /// ```
    /// use osc_channel::machine::{Refusal, UdpMachine};
    /// use std::sync::Arc;
    /// let d = "127.0.0.1:9".parse().unwrap();
    /// let mut udp = UdpMachine::new(Some(d), 100, false).with_byte_limit(65_527);
    /// udp.enqueue(Arc::from(vec![0u8; 65_000]), d).unwrap();
    /// assert_eq!(
    ///     udp.enqueue(Arc::from(vec![0u8; 1_000]), d),
    ///     Err(Refusal::QueueFull { limit: 65_527, unit: "bytes" })
    /// );
    /// ```
    pub fn with_byte_limit(mut self, bytes: usize) -> Self {
        self.max_queue_bytes = bytes.max(crate::options::MAX_DATAGRAM_V6);
        self
    }

    /// Bytes queued.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// The default destination.
    pub fn dest(&self) -> Option<A> {
        self.dest.clone()
    }

    /// Where a packet of `len` bytes goes: `dest` if given, else the channel's
    /// destination; refused without a destination, or when `len` is over `limit`.
    ///
    /// ```
    /// use osc_channel::machine::{Refusal, UdpMachine};
    /// use std::path::Path;
    /// use std::sync::Arc;
    /// let server: Arc<Path> = Arc::from(Path::new("/tmp/synth.sock"));
    /// let unix = UdpMachine::datagram(Some(Arc::clone(&server)), 16, false);
    /// assert_eq!(unix.route_within(8, None, 1024), Ok(server));
    /// assert_eq!(unix.route_within(2048, None, 1024), Err(Refusal::TooLarge { size: 2048, limit: 1024 }));
    /// ```
    pub fn route_within(&self, len: usize, dest: Option<A>, limit: usize) -> Result<A, Refusal> {
        let dest = dest
            .or_else(|| self.dest.clone())
            .ok_or(Refusal::NoDestination)?;
        if len > limit {
            return Err(Refusal::TooLarge { size: len, limit });
        }
        Ok(dest)
    }

    /// Whether a packet may be written at once (nothing queued before it).
    pub fn can_write_now(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues a datagram behind the others; refused when the queue is full.
    pub fn enqueue(&mut self, data: Arc<[u8]>, dest: A) -> Result<(), Refusal> {
        if self.queue.len() >= self.max_queue {
            return Err(Refusal::QueueFull {
                limit: self.max_queue,
                unit: "packets",
            });
        }
        if self.queued_bytes.saturating_add(data.len()) > self.max_queue_bytes {
            return Err(Refusal::QueueFull {
                limit: self.max_queue_bytes,
                unit: "bytes",
            });
        }
        self.queued_bytes += data.len();
        self.queue.push_back((data, dest));
        Ok(())
    }

    /// Datagrams queued.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The first `max` queued datagrams, in order, for one batched write.
    pub fn batch(&self, max: usize) -> impl Iterator<Item = (&[u8], A)> {
        self.queue
            .iter()
            .take(max)
            .map(|(d, a)| (&d[..], a.clone()))
    }

    /// The socket took the first `n` queued datagrams: removes them and returns their
    /// bytes.
    pub fn sent(&mut self, n: usize) -> usize {
        let n = n.min(self.queue.len());
        let bytes: usize = self.queue.drain(..n).map(|(d, _)| d.len()).sum();
        self.queued_bytes = self.queued_bytes.saturating_sub(bytes);
        bytes
    }

    /// The first queued datagram failed at the socket: removes it and returns where it
    /// was going.
    pub fn failed(&mut self) -> Option<A> {
        let (data, to) = self.queue.pop_front()?;
        self.queued_bytes = self.queued_bytes.saturating_sub(data.len());
        Some(to)
    }

    /// Whether the socket must be watched for readability.
    pub fn wants_read(&self) -> bool {
        self.read
    }

    /// Whether the socket must be watched for writability (datagrams wait).
    pub fn wants_write(&self) -> bool {
        !self.queue.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pkt(tag: u8) -> Arc<[u8]> {
        Arc::from(vec![tag; 8])
    }

    #[test]
    fn routing_rules() {
        let v4: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let none = UdpMachine::new(None, 4, true);
        assert_eq!(none.route(8, None), Err(Refusal::NoDestination));
        assert_eq!(none.route(8, Some(v6)), Ok(v6));
        let u = UdpMachine::new(Some(v4), 4, false);
        assert_eq!(u.route(65_507, None), Ok(v4));
        assert_eq!(
            u.route(65_508, None),
            Err(Refusal::TooLarge {
                size: 65_508,
                limit: 65_507
            })
        );
        assert_eq!(u.route(65_527, Some(v6)), Ok(v6));
        assert!(!u.wants_read());
        assert!(none.wants_read());
    }

    #[test]
    fn the_queue_keeps_order_and_batches() {
        let d: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut u = UdpMachine::new(Some(d), 100, false);
        assert!(u.can_write_now());
        for i in 0..100u8 {
            u.enqueue(pkt(i), d).unwrap();
        }
        assert!(!u.can_write_now());
        assert!(u.enqueue(pkt(0), d).is_err());
        let first: Vec<u8> = u.batch(64).map(|(b, _)| b[0]).collect();
        assert_eq!(first, (0..64).collect::<Vec<u8>>());
        assert_eq!(u.queued_bytes(), 800);
        assert_eq!(u.sent(10), 80);
        assert_eq!(u.failed(), Some(d));
        assert_eq!(u.queued_bytes(), 712);
        assert_eq!(u.batch(1).next().unwrap().0[0], 11);
        assert_eq!(u.sent(usize::MAX), 89 * 8);
        assert_eq!((u.queued(), u.failed(), u.wants_write()), (0, None, false));
        assert_eq!(u.queued_bytes(), 0);
    }
}
