//! The few system calls that the standard library, socket2 and mio do not offer, for
//! osc4rs's channel crates (the mio reactor of `osc-channel` and the tokio driver of
//! `osc4rs-tokio`): batched UDP receive and send (`recvmmsg`, `sendmmsg`), a receive
//! buffer beyond `net.core.rmem_max` (`SO_RCVBUFFORCE`), and a serial device as a
//! non-blocking descriptor for a poll. This crate is the only place of the workspace
//! with `unsafe` code; every block says why it is sound.
//!
//! Everything takes a raw descriptor that the caller owns for the duration of the
//! call, so it works with std, mio and tokio sockets alike.
//!
//! The datagram calls (`recvfrom`, `recvmmsg`, `sendto`, `sendmmsg`) go to the kernel
//! through `syscall`, not glibc's wrappers of the same names: those are cancellation
//! points, and in a process with more than one thread each call first turns the
//! thread's asynchronous cancellation on and then off again, two atomic
//! read-modify-writes and about 80 instructions per call (callgrind, the pong of the
//! one-CPU round trip in comthreads: 3,811 instructions per hop with the wrappers,
//! 3,728 without). osc4rs never cancels a thread, so it has no use for them; the
//! kernel calls and their results (`errno` included) are the same.
#![allow(unsafe_code)]
#![deny(missing_docs)]

use std::io;

/// Asks for a receive buffer of `size` bytes with `SO_RCVBUFFORCE`, which (as root or
/// with `CAP_NET_ADMIN`) is not capped by `net.core.rmem_max`. Returns an error where
/// that is not allowed, so the caller can fall back to `SO_RCVBUF`.
///
/// ```
/// use std::os::fd::AsRawFd;
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// match osc_sys::force_recv_buffer(socket.as_raw_fd(), 4 << 20) {
///     Ok(()) => {}                      // root: 4 MiB whatever rmem_max says
///     Err(e) => eprintln!("not allowed here ({e}): use SO_RCVBUF"),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn force_recv_buffer(fd: std::os::fd::RawFd, size: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call;
    // `value` lives on this stack frame and its exact size is passed as the option
    // length, so the kernel reads only that `c_int`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Not available off Linux: always fails so the caller falls back to `SO_RCVBUF`.
#[cfg(not(target_os = "linux"))]
pub fn force_recv_buffer(_fd: i32, _size: usize) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Gives a socket a receive buffer of `size` bytes: [`force_recv_buffer`] where the
/// process may (root or `CAP_NET_ADMIN` on Linux), else `SO_RCVBUF`, which the kernel
/// caps at `net.core.rmem_max`. The reactors and the benches' plain baselines use it,
/// so that both get the same buffer.
///
/// ```
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// osc_sys::set_recv_buffer(socket2::SockRef::from(&socket), 1 << 20)?;
/// assert!(socket2::SockRef::from(&socket).recv_buffer_size()? > 0);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// The `SO_RCVBUF` refusal, when the forced size was not allowed either.
pub fn set_recv_buffer(socket: socket2::SockRef<'_>, size: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if force_recv_buffer(socket.as_raw_fd(), size).is_ok() {
            return Ok(());
        }
    }
    socket.set_recv_buffer_size(size)
}

/// The CPU time this process has used so far, all its threads together
/// (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`), or `None` where it cannot be read. The
/// reactor compares the cost of two ways of working with it; it costs a system call.
///
/// ```
/// let before = osc_sys::process_cpu_time().expect("a POSIX clock");
/// let mut x = 0u64;
/// for i in 0..1_000_000u64 {
///     x = std::hint::black_box(x.wrapping_add(i));
/// }
/// assert!(osc_sys::process_cpu_time().unwrap() > before);
/// ```
#[cfg(unix)]
#[must_use]
pub fn process_cpu_time() -> Option<std::time::Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec on this stack frame, the only memory
    // the call writes.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    Some(std::time::Duration::new(secs, nanos))
}

/// Not available off Unix.
#[cfg(not(unix))]
#[must_use]
pub fn process_cpu_time() -> Option<std::time::Duration> {
    None
}

/// Bytes per receive slot: room for the largest UDP payload (65,527 bytes over IPv6),
/// so a datagram is never cut.
pub const SLOT_SIZE: usize = 1 << 16;

/// One datagram of a [`RecvBatch`].
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// The payload (when `truncated`, only its first bytes).
    pub data: &'a [u8],
    /// The sender, when the kernel gave an IPv4 or IPv6 address.
    pub peer: Option<std::net::SocketAddr>,
    /// The kernel cut the datagram to fit its slot (`MSG_TRUNC`).
    pub truncated: bool,
}

/// Buffers for receiving many datagrams with one `recvmmsg` call: `slots` buffers of
/// `slot_size` bytes, one address per slot, allocated once.
///
/// ```
/// use osc_sys::{RecvBatch, SLOT_SIZE};
/// use std::os::fd::AsRawFd;
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let me = socket.local_addr()?;
/// socket.send_to(b"/a\0\0,\0\0\0", me)?;
/// socket.send_to(b"/b\0\0,\0\0\0", me)?;
/// let mut batch = RecvBatch::new(8, SLOT_SIZE);
/// let mut got = Vec::new();
/// while got.len() < 2 {
///     let n = batch.recv(socket.as_raw_fd(), 8)?; // never waits
///     got.extend((0..n).filter_map(|i| batch.get(i)).map(|d| (d.data.to_vec(), d.peer)));
/// }
/// assert_eq!(got[1], (b"/b\0\0,\0\0\0".to_vec(), Some(me)));
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub struct RecvBatch {
    slot_size: usize,
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    /// How many slots the last call filled.
    filled: usize,
    /// How many headers the kernel may have written to in the last call: the next
    /// call resets only those.
    touched: usize,
}

// SAFETY: the raw pointers inside `iovs` and `hdrs` point into this value's own heap
// buffers (set once in `new`; the vectors are never resized, so their heap buffers
// never move, even when the value does). They are only used by `recvmmsg` calls made
// through `&mut self` and never dereferenced by Rust code, so moving or sharing the
// value between threads cannot create an aliasing access.
#[cfg(target_os = "linux")]
unsafe impl Send for RecvBatch {}

#[cfg(target_os = "linux")]
impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("slots", &self.addrs.len())
            .field("slot_size", &self.slot_size)
            .field("filled", &self.filled)
            .finish()
    }
}

/// The size of the address buffer each header offers the kernel.
#[cfg(target_os = "linux")]
const ADDR_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;

#[cfg(target_os = "linux")]
impl RecvBatch {
    /// Buffers for `slots` datagrams (at least 1) of up to `slot_size` bytes each.
    pub fn new(slots: usize, slot_size: usize) -> Self {
        let slots = slots.max(1);
        // SAFETY: `sockaddr_storage`, `iovec` and `mmsghdr` are plain C structs of
        // integers and raw pointers, for which all-zero bytes are a valid value.
        let (addr, iov, hdr) = unsafe {
            (
                std::mem::zeroed::<libc::sockaddr_storage>(),
                std::mem::zeroed::<libc::iovec>(),
                std::mem::zeroed::<libc::mmsghdr>(),
            )
        };
        let mut batch = RecvBatch {
            slot_size,
            bufs: vec![0; slots.saturating_mul(slot_size)],
            addrs: vec![addr; slots],
            iovs: vec![iov; slots],
            hdrs: vec![hdr; slots],
            filled: 0,
            touched: 0,
        };
        batch.point_headers();
        batch
    }

    /// Points each header at its address, its `iovec` and, through it, its slot of
    /// the buffer, with the lengths of each. Done once: none of them ever moves.
    fn point_headers(&mut self) {
        let bufs = self.bufs.chunks_exact_mut(self.slot_size.max(1));
        for (((buf, addr), iov), hdr) in bufs
            .zip(self.addrs.iter_mut())
            .zip(self.iovs.iter_mut())
            .zip(self.hdrs.iter_mut())
        {
            iov.iov_base = buf.as_mut_ptr().cast();
            iov.iov_len = buf.len();
            hdr.msg_hdr.msg_name = (addr as *mut libc::sockaddr_storage).cast();
            hdr.msg_hdr.msg_namelen = ADDR_LEN;
            hdr.msg_hdr.msg_iov = iov as *mut libc::iovec;
            hdr.msg_hdr.msg_iovlen = 1;
            hdr.msg_hdr.msg_control = std::ptr::null_mut();
            hdr.msg_hdr.msg_controllen = 0;
        }
    }

    /// How many datagrams one call can receive.
    pub fn slots(&self) -> usize {
        self.addrs.len()
    }

    /// Receives up to `max` datagrams (at most [`slots`](Self::slots)) from the UDP
    /// socket `fd` with one `recvmmsg` call, without waiting (`MSG_DONTWAIT`); returns
    /// how many came. Fewer than asked means the socket had no more (or an error is
    /// pending, which the next call reports). No datagram at all is `WouldBlock`.
    pub fn recv(&mut self, fd: std::os::fd::RawFd, max: usize) -> io::Result<usize> {
        self.recv_flags(fd, max, libc::MSG_DONTWAIT)
    }

    /// As [`recv`](Self::recv), but waits for the first datagram as the socket's mode
    /// says (a blocking socket: up to its `SO_RCVTIMEO`, then `WouldBlock`), then
    /// takes what else is there without waiting (`MSG_WAITFORONE`).
    ///
    /// ```
    /// use osc_sys::{RecvBatch, SLOT_SIZE};
    /// use std::os::fd::AsRawFd;
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?; // blocking mode
    /// socket.set_read_timeout(Some(std::time::Duration::from_millis(20)))?;
    /// let mut batch = RecvBatch::new(8, SLOT_SIZE);
    /// let timed_out = batch.recv_waiting(socket.as_raw_fd(), 8).unwrap_err();
    /// assert_eq!(timed_out.kind(), std::io::ErrorKind::WouldBlock);
    /// socket.send_to(b"/a\0\0,\0\0\0", socket.local_addr()?)?;
    /// socket.send_to(b"/b\0\0,\0\0\0", socket.local_addr()?)?;
    /// assert_eq!(batch.recv_waiting(socket.as_raw_fd(), 8)?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_waiting(&mut self, fd: std::os::fd::RawFd, max: usize) -> io::Result<usize> {
        self.recv_flags(fd, max, libc::MSG_WAITFORONE)
    }

    fn recv_flags(
        &mut self,
        fd: std::os::fd::RawFd,
        max: usize,
        flags: libc::c_int,
    ) -> io::Result<usize> {
        self.filled = 0;
        let n = max.clamp(1, self.slots());
        // The kernel wrote the address length, the flags and the length of the headers
        // it filled; the rest of every header is as `point_headers` left it. Resetting
        // those few (one for a datagram at a time) instead of all `n` saves most of
        // the call's own cost.
        for hdr in self.hdrs.iter_mut().take(self.touched) {
            hdr.msg_hdr.msg_namelen = ADDR_LEN;
            hdr.msg_hdr.msg_controllen = 0;
            hdr.msg_hdr.msg_flags = 0;
            hdr.msg_len = 0;
        }
        let vlen = libc::c_uint::try_from(n).unwrap_or(libc::c_uint::MAX);
        // SAFETY: `fd` is an open socket owned by the caller for the duration of the
        // call. Each of the first `n` headers (n <= slots) points at its own `iovec`
        // and `sockaddr_storage`, and each `iovec` at a distinct `slot_size`-byte slot
        // of `bufs`, with the exact lengths of those buffers (`point_headers`; the
        // vectors are never resized, so the pointers stay valid). All of them are
        // owned by `self`, borrowed mutably for the whole call, so the kernel writes
        // only inside live, exclusively borrowed memory. A null timeout means none.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_recvmmsg,
                libc::c_long::from(fd),
                self.hdrs.as_mut_ptr(),
                libc::c_long::from(vlen),
                libc::c_long::from(flags),
                std::ptr::null_mut::<libc::timespec>(),
            )
        };
        if rc < 0 {
            // Whatever the kernel did before failing: reset every header it was given.
            self.touched = n;
            return Err(io::Error::last_os_error());
        }
        self.filled = usize::try_from(rc).unwrap_or(0).min(n);
        self.touched = self.filled;
        Ok(self.filled)
    }

    /// The `i`-th datagram of the last [`recv`](Self::recv).
    pub fn get(&self, i: usize) -> Option<Datagram<'_>> {
        if i >= self.filled {
            return None;
        }
        let hdr = self.hdrs.get(i)?;
        let start = i.checked_mul(self.slot_size)?;
        let len = (hdr.msg_len as usize).min(self.slot_size);
        let data = self.bufs.get(start..start + len)?;
        let peer = self
            .addrs
            .get(i)
            .and_then(|a| socket_addr(a, hdr.msg_hdr.msg_namelen));
        Some(Datagram {
            data,
            peer,
            truncated: hdr.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
        })
    }
}

/// Receives one datagram from the UDP socket `fd` into `buf`: without waiting when
/// `wait` is false (`MSG_DONTWAIT`, whatever the socket's mode), else as the socket's
/// mode says (a blocking socket waits up to its `SO_RCVTIMEO`). Returns the length
/// (cut to `buf`) and the sender. A socket that only ever receives through here and
/// sends through [`send_to`] and [`send_batch`] can stay in blocking mode for a
/// thread that wants to wait in its read, while every other call stays non-blocking.
///
/// ```
/// use std::os::fd::AsRawFd;
/// let socket = std::net::UdpSocket::bind("127.0.0.1:0")?; // blocking mode
/// let me = socket.local_addr()?;
/// let mut buf = [0u8; 16];
/// let empty = osc_sys::recv_from(socket.as_raw_fd(), &mut buf, false).unwrap_err();
/// assert_eq!(empty.kind(), std::io::ErrorKind::WouldBlock);
/// osc_sys::send_to(socket.as_raw_fd(), b"/a\0\0,\0\0\0", me)?;
/// assert_eq!(osc_sys::recv_from(socket.as_raw_fd(), &mut buf, true)?, (8, me));
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn recv_from(
    fd: std::os::fd::RawFd,
    buf: &mut [u8],
    wait: bool,
) -> io::Result<(usize, std::net::SocketAddr)> {
    // SAFETY: all-zero bytes are a valid `sockaddr_storage` (integers only).
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = ADDR_LEN;
    let flags = if wait { 0 } else { libc::MSG_DONTWAIT };
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the
    // call; `buf` is exclusively borrowed and its exact length is passed; `storage`
    // is a live local of `len` bytes, which the kernel writes at most.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            libc::c_long::from(fd),
            buf.as_mut_ptr(),
            buf.len(),
            libc::c_long::from(flags),
            &mut storage as *mut libc::sockaddr_storage,
            &mut len as *mut libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let peer = socket_addr(&storage, len)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "sender is not IPv4 or IPv6"))?;
    Ok((usize::try_from(rc).unwrap_or(0).min(buf.len()), peer))
}

/// Sends one datagram from the UDP socket `fd` to `dest` without waiting
/// (`MSG_DONTWAIT`, whatever the socket's mode): a full send buffer is `WouldBlock`.
/// Returns the bytes sent.
///
/// ```
/// use std::os::fd::AsRawFd;
/// let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// assert_eq!(osc_sys::send_to(tx.as_raw_fd(), b"/a\0\0,\0\0\0", rx.local_addr()?)?, 8);
/// let mut buf = [0u8; 16];
/// assert_eq!(rx.recv(&mut buf)?, 8);
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn send_to(
    fd: std::os::fd::RawFd,
    data: &[u8],
    dest: std::net::SocketAddr,
) -> io::Result<usize> {
    let (addr, addr_len) = c_addr(dest);
    sendto(fd, data, Some((&addr, addr_len)))
}

/// Sends one datagram from the connected UDP socket `fd` to its peer without waiting
/// (`MSG_DONTWAIT`): the kernel reuses the route it keeps for the connection instead
/// of looking one up per datagram, as [`send_to`] does. Returns the bytes sent; an
/// ICMP error from an earlier datagram (`ConnectionRefused`) is returned once, and
/// this datagram is not sent then.
///
/// ```
/// use std::os::fd::AsRawFd;
/// let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// tx.connect(rx.local_addr()?)?;
/// assert_eq!(osc_sys::send(tx.as_raw_fd(), b"/a\0\0,\0\0\0")?, 8);
/// let mut buf = [0u8; 16];
/// assert_eq!(rx.recv(&mut buf)?, 8);
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn send(fd: std::os::fd::RawFd, data: &[u8]) -> io::Result<usize> {
    sendto(fd, data, None)
}

/// `sendto` without waiting, to `to` (an address `c_addr` built and its length) or,
/// with `None`, to the connected socket's peer. Returns the bytes sent.
#[cfg(target_os = "linux")]
fn sendto(
    fd: std::os::fd::RawFd,
    data: &[u8],
    to: Option<(&CAddr, libc::socklen_t)>,
) -> io::Result<usize> {
    let (addr, addr_len) = match to {
        Some((addr, len)) => (std::ptr::from_ref(addr).cast::<libc::sockaddr>(), len),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the
    // call; `data` is live and its exact length is passed; `addr` is null (no
    // address, length 0) or points at a live `CAddr` whose initialised variant is
    // `addr_len` bytes (what `c_addr` reports); the kernel only reads them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sendto,
            libc::c_long::from(fd),
            data.as_ptr(),
            data.len(),
            libc::c_long::from(libc::MSG_DONTWAIT),
            addr,
            libc::c_long::from(addr_len),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(rc).unwrap_or(0))
}

/// Dissolves the association of the connected datagram socket `fd` with its peer
/// (`connect` with `AF_UNSPEC`): it sends only where told again, and, unless it was
/// bound to an address and port of its own, it forgets the source address and port
/// the connection fixed, so a later `connect` picks them from the routes of the time.
///
/// ```
/// use std::os::fd::AsRawFd;
/// let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// tx.connect("127.0.0.1:9")?;
/// osc_sys::disconnect(tx.as_raw_fd())?;
/// assert!(tx.peer_addr().is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn disconnect(fd: std::os::fd::RawFd) -> io::Result<()> {
    // SAFETY: an all-zero `sockaddr` is valid (its family is AF_UNSPEC); its exact
    // size is passed and the kernel only reads it; `fd` is the caller's open socket.
    let rc = unsafe {
        let mut unspec: libc::sockaddr = std::mem::zeroed();
        unspec.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
        libc::connect(
            fd,
            &raw const unspec,
            std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A socket address as the kernel reads it: a `sockaddr_in` or a `sockaddr_in6`.
#[cfg(target_os = "linux")]
#[derive(Clone, Copy)]
#[repr(C)]
union CAddr {
    v4: libc::sockaddr_in,
    v6: libc::sockaddr_in6,
}

/// `dest` as the kernel reads it, and the length of the variant written. Built in
/// place: a conversion through `sockaddr_storage` zeroes 128 bytes per send.
#[cfg(target_os = "linux")]
#[inline]
fn c_addr(dest: std::net::SocketAddr) -> (CAddr, libc::socklen_t) {
    const V4_LEN: usize = std::mem::size_of::<libc::sockaddr_in>();
    const V6_LEN: usize = std::mem::size_of::<libc::sockaddr_in6>();
    match dest {
        std::net::SocketAddr::V4(a) => (
            CAddr {
                v4: libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.ip().octets()),
                    },
                    sin_zero: [0; 8],
                },
            },
            V4_LEN as libc::socklen_t,
        ),
        std::net::SocketAddr::V6(a) => (
            CAddr {
                v6: libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    },
                    sin6_scope_id: a.scope_id(),
                },
            },
            V6_LEN as libc::socklen_t,
        ),
    }
}

/// Converts an address the kernel wrote into a `sockaddr_storage` of `len` bytes
/// (`None` for families other than IPv4 and IPv6, or a length too short for one).
#[cfg(target_os = "linux")]
fn socket_addr(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Option<std::net::SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    let len = len as usize;
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family is AF_INET and the kernel wrote at least a whole
            // `sockaddr_in`; `sockaddr_storage` is at least as large and as aligned as
            // every socket address type, so the reference is in bounds and aligned.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(
                SocketAddrV4::new(
                    Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                    u16::from_be(sin.sin_port),
                )
                .into(),
            )
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for AF_INET6 and `sockaddr_in6`.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            Some(
                SocketAddrV6::new(
                    Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )
                .into(),
            )
        }
        _ => None,
    }
}

/// Most datagrams one [`send_batch`] call hands to `sendmmsg`.
pub const SEND_BATCH: usize = 64;

/// Sends datagrams with one `sendmmsg` call (at most [`SEND_BATCH`]) without waiting
/// (`MSG_DONTWAIT`, whatever the socket's mode); returns how many the kernel took, in
/// order. An error on the first datagram is returned; an error on a later one ends the
/// batch early (the next call reports it).
///
/// ```
/// use std::os::fd::AsRawFd;
/// let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
/// let to = rx.local_addr()?;
/// let sent = osc_sys::send_batch(tx.as_raw_fd(), &[(&b"one"[..], to), (&b"two"[..], to)])?;
/// assert_eq!(sent, 2);
/// let mut buf = [0u8; 8];
/// assert_eq!(rx.recv(&mut buf)?, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(target_os = "linux")]
pub fn send_batch(
    fd: std::os::fd::RawFd,
    packets: &[(&[u8], std::net::SocketAddr)],
) -> io::Result<usize> {
    let packets = packets
        .get(..packets.len().min(SEND_BATCH))
        .unwrap_or(packets);
    if packets.is_empty() {
        return Ok(0);
    }
    // Headers, vectors and addresses on the stack (about 13 KiB for 64 datagrams):
    // a flush allocates nothing.
    // SAFETY: `mmsghdr`, `iovec` and `sockaddr_storage` are plain C structs of
    // integers and raw pointers, for which all-zero bytes are a valid value.
    let (mut hdrs, mut iovs, mut addrs) = unsafe {
        (
            [std::mem::zeroed::<libc::mmsghdr>(); SEND_BATCH],
            [std::mem::zeroed::<libc::iovec>(); SEND_BATCH],
            [std::mem::zeroed::<libc::sockaddr_storage>(); SEND_BATCH],
        )
    };
    for ((((data, dest), hdr), iov), storage) in packets
        .iter()
        .zip(hdrs.iter_mut())
        .zip(iovs.iter_mut())
        .zip(addrs.iter_mut())
    {
        let (addr, len) = c_addr(*dest);
        // SAFETY: `addr` holds a valid `sockaddr_in` or `sockaddr_in6` of `len` bytes,
        // which is never more than `sockaddr_storage`'s size; the two regions are
        // distinct values on this stack frame.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&raw const addr).cast::<u8>(),
                (storage as *mut libc::sockaddr_storage).cast::<u8>(),
                len as usize,
            );
        }
        iov.iov_base = data.as_ptr().cast_mut().cast();
        iov.iov_len = data.len();
        hdr.msg_hdr.msg_name = (storage as *mut libc::sockaddr_storage).cast();
        hdr.msg_hdr.msg_namelen = len;
        hdr.msg_hdr.msg_iov = iov as *mut libc::iovec;
        hdr.msg_hdr.msg_iovlen = 1;
    }
    let hdrs = hdrs.get_mut(..packets.len()).unwrap_or_default();
    let vlen = libc::c_uint::try_from(hdrs.len()).unwrap_or(libc::c_uint::MAX);
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the
    // call. Each of the first `packets.len()` headers (`vlen` of them) points at one
    // `iovec` of `iovs` and one address of `addrs` with its exact length; each `iovec` points at the bytes of one packet slice
    // with its exact length. All of them outlive the call and are not touched during
    // it; the kernel only reads the payloads and addresses and writes `msg_len`.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sendmmsg,
            libc::c_long::from(fd),
            hdrs.as_mut_ptr(),
            libc::c_long::from(vlen),
            libc::c_long::from(libc::MSG_DONTWAIT),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(rc).unwrap_or(0))
}

/// Opens the serial device `path` at `baud` (8N1, raw, exclusive, by the
/// `serialport` crate) and hands it back as a non-blocking file for the poll.
/// `serialport` reads and writes in blocking mode with a timeout; the reactor needs
/// the descriptor itself, non-blocking, with raw mode's `VMIN = 1` so that a read of
/// 0 bytes means the device hung up (a USB cable pulled), not "no data yet".
///
/// ```
/// use std::io::{Read, Write};
/// // A pseudo-terminal pair stands in for a board on a USB cable.
/// let (mut board, tty) = serialport::TTYPort::pair()?;
/// let device = serialport::SerialPort::name(&tty).unwrap();
/// let mut port = osc_sys::open_serial(device.as_ref(), 115_200)?;
/// let mut buf = [0u8; 4];
/// assert_eq!(port.read(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
/// board.write_all(b"\xc0")?;
/// # std::thread::sleep(std::time::Duration::from_millis(50));
/// assert_eq!(port.read(&mut buf)?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_serial(path: &std::path::Path, baud: u32) -> io::Result<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
    let port = serialport::new(path.to_string_lossy(), baud)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::None)
        .stop_bits(serialport::StopBits::One)
        .flow_control(serialport::FlowControl::None)
        .open_native()
        .map_err(io::Error::from)?;
    // SAFETY: `into_raw_fd` gives up the port's ownership of its open descriptor
    // (its destructor does not run), so the file becomes its only owner.
    let file = unsafe { std::fs::File::from_raw_fd(port.into_raw_fd()) };
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is open and owned by `file` for both calls, which only read and
    // set its status flags.
    let rc = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            flags
        } else {
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)
        }
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The first `len` bytes of `addr`: what the kernel reads.
    fn bytes(addr: &CAddr, len: libc::socklen_t) -> Vec<u8> {
        // SAFETY: `c_addr` initialised the variant of `len` bytes it reports.
        unsafe { std::slice::from_raw_parts((&raw const *addr).cast::<u8>(), len as usize) }
            .to_vec()
    }

    #[test]
    fn c_addr_is_what_socket2_builds() {
        let cases: [std::net::SocketAddr; 5] = [
            "127.0.0.1:9000".parse().unwrap(),
            "0.0.0.0:0".parse().unwrap(),
            "192.168.1.200:65535".parse().unwrap(),
            "[::1]:57120".parse().unwrap(),
            std::net::SocketAddr::V6(std::net::SocketAddrV6::new(
                "fe80::1:2:3:4".parse().unwrap(),
                1234,
                0x000a_bcde,
                7,
            )),
        ];
        for dest in cases {
            let (addr, len) = c_addr(dest);
            let theirs = socket2::SockAddr::from(dest);
            assert_eq!(len, theirs.len(), "{dest}");
            // SAFETY: `theirs` holds `len` initialised bytes.
            let expected =
                unsafe { std::slice::from_raw_parts(theirs.as_ptr().cast::<u8>(), len as usize) };
            assert_eq!(bytes(&addr, len), expected, "{dest}");
        }
    }
}
