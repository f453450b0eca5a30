//! UDP writers: sending on a channel from other threads without waking the reactor
//! (loopback only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{local, pkt};
use osc_channel::{
    ChannelError, ChannelSpec, DropReason, MAX_DATAGRAM_V4, Reactor, TcpServerConfig, UdpConfig,
};

/// A receiving socket whose buffer holds a whole burst of the tests (500 datagrams):
/// with the default buffer (about 200 KiB) a reader thread descheduled for a few
/// milliseconds on a loaded machine loses datagrams, and the test waits for them in
/// vain. As root the buffer is forced past `net.core.rmem_max`.
fn roomy_socket() -> UdpSocket {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    let want: libc::c_int = 4 << 20;
    // SAFETY: `s` is an open socket owned by this frame; `want` lives on this frame and
    // its exact size is passed, so the kernel reads only that int.
    #[allow(unsafe_code)]
    let forced = unsafe {
        use std::os::fd::AsRawFd;
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&want as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if forced != 0 {
        let _ = s.set_recv_buffer_size(4 << 20);
    }
    s.bind(&socket2::SockAddr::from(local(0))).unwrap();
    s.into()
}

/// A reactor running in its own thread, a probe socket, and a client channel `out`
/// that sends to the probe.
fn running_reactor() -> (
    osc_channel::ReactorHandle,
    std::thread::JoinHandle<Reactor>,
    UdpSocket,
    osc_channel::ChannelId,
) {
    let mut r = Reactor::new().unwrap();
    let handle = r.handle();
    let thread = std::thread::spawn(move || {
        r.run(|_| {}).unwrap();
        r
    });
    let probe = roomy_socket();
    probe
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let out = handle
        .open(
            "out",
            ChannelSpec::Udp(UdpConfig::client(probe.local_addr().unwrap())),
        )
        .unwrap();
    (handle, thread, probe, out)
}

#[test]
fn writers_send_from_other_threads_in_order() {
    let (handle, thread, probe, out) = running_reactor();
    let writer = handle
        .udp_writer(out)
        .unwrap()
        .expect("a UDP client has a writer");
    assert_eq!(writer.channel(), out);
    // Read while sending: the probe's default buffer would overflow otherwise.
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while got.len() < 500 {
            let n = probe.recv(&mut buf).unwrap();
            let text = String::from_utf8(buf[..n].to_vec()).unwrap();
            got.push(text.split('\0').next().unwrap().to_owned());
        }
        got
    });
    let senders: Vec<_> = (0..2)
        .map(|t| {
            let w = writer.clone();
            std::thread::spawn(move || {
                for i in 0..250 {
                    w.send(pkt(&format!("/t{t}/{i}")), None).unwrap();
                    if i % 25 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    assert!(handle.flush(Duration::from_secs(2)).unwrap());
    // Each thread's packets arrive in the order it sent them.
    let mut next = [0usize; 2];
    for address in reader.join().unwrap() {
        let (t, i) = address[2..].split_once('/').unwrap();
        let t: usize = t.parse().unwrap();
        assert_eq!(i.parse::<usize>().unwrap(), next[t], "{address}");
        next[t] += 1;
    }
    handle.stop().unwrap();
    let r = thread.join().unwrap();
    assert_eq!(r.stats(out).unwrap().snapshot().packets_out, 500);
}

#[test]
fn writer_errors_are_values_and_are_counted() {
    let (handle, thread, probe, out) = running_reactor();
    let writer = handle.udp_writer(out).unwrap().unwrap();
    let big = vec![0u8; MAX_DATAGRAM_V4 + 4];
    assert!(matches!(
        writer.send(big.into(), None),
        Err(ChannelError::DatagramTooLarge { .. })
    ));
    // A server channel has no destination: a writer needs one per packet.
    let server = handle
        .open("in", ChannelSpec::Udp(UdpConfig::server(local(0))))
        .unwrap();
    let server_writer = handle.udp_writer(server).unwrap().unwrap();
    assert!(matches!(
        server_writer.try_send(&pkt("/a"), None),
        Err(ChannelError::NotWritable(..))
    ));
    assert!(
        server_writer
            .try_send(&pkt("/a"), Some(probe.local_addr().unwrap()))
            .unwrap()
    );
    let mut buf = [0u8; 64];
    assert_eq!(probe.recv(&mut buf).unwrap(), 8);
    // Only UDP channels have writers.
    let tcp = handle
        .open(
            "tcp",
            ChannelSpec::TcpServer(TcpServerConfig::new(local(0))),
        )
        .unwrap();
    assert!(handle.udp_writer(tcp).unwrap().is_none());
    // A closed channel's writer stops writing.
    handle.close(out).unwrap();
    assert!(matches!(
        writer.send(pkt("/late"), None),
        Err(ChannelError::UnknownChannel(_))
    ));
    let stats = writer_stats(&handle, thread, server);
    assert_eq!(stats, 1);
}

/// Stops the reactor and returns the server channel's packets out.
fn writer_stats(
    handle: &osc_channel::ReactorHandle,
    thread: std::thread::JoinHandle<Reactor>,
    server: osc_channel::ChannelId,
) -> u64 {
    handle.stop().unwrap();
    let r = thread.join().unwrap();
    r.stats(server).unwrap().snapshot().packets_out
}

#[test]
fn an_oversized_send_through_a_writer_counts_a_drop() {
    let mut r = Reactor::new().unwrap();
    let probe = UdpSocket::bind(local(0)).unwrap();
    let out = r
        .open_udp("out", UdpConfig::client(probe.local_addr().unwrap()))
        .unwrap();
    let writer = r.udp_writer(out).unwrap();
    let _ = writer.try_send(&vec![0u8; MAX_DATAGRAM_V4 + 1], None);
    assert_eq!(
        r.stats(out)
            .unwrap()
            .snapshot()
            .drops(DropReason::Oversized),
        1
    );
}
