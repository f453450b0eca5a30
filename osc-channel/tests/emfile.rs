//! A server out of file descriptors keeps trying: the connections that waited in the
//! kernel's backlog are accepted once descriptors free up, without a new connection
//! arriving to raise a readiness edge. Its own test binary: it lowers the process's
//! descriptor limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::TcpStream;
use std::time::{Duration, Instant};

use osc_channel::{Reactor, TcpServerConfig};

/// The descriptor number the next open would get: the kernel always takes the lowest.
fn lowest_free_fd() -> u64 {
    use std::os::fd::AsRawFd;
    let probe = std::fs::File::open("/dev/null").unwrap();
    probe.as_raw_fd() as u64
}

fn set_soft_limit(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write and read one plain struct owned by this frame.
    #[allow(unsafe_code)]
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = n as libc::rlim_t;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

#[test]
fn accept_resumes_when_descriptors_free_up() {
    let mut r = Reactor::new().unwrap();
    let srv = r
        .open_tcp_server("srv", TcpServerConfig::new("127.0.0.1:0".parse().unwrap()))
        .unwrap();
    let addr = r.local_addr(srv).unwrap();
    let _client = TcpStream::connect(addr).unwrap();
    let normal = 4096;
    set_soft_limit(lowest_free_fd());
    // The pass that sees the connection cannot accept it.
    r.poll(Some(Duration::from_millis(200)), |_| {}).unwrap();
    assert!(r.connections(srv).is_empty());
    set_soft_limit(normal);
    let deadline = Instant::now() + Duration::from_secs(3);
    while r.connections(srv).is_empty() && Instant::now() < deadline {
        r.poll(Some(Duration::from_millis(20)), |_| {}).unwrap();
    }
    assert_eq!(r.connections(srv).len(), 1, "accept never resumed");
}
