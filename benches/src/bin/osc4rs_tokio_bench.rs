//! Receiver CPU per message of UDP receive loops on tokio, side by side in one run,
//! the receivers taking turns: `rosc` is the loop a tokio user writes today
//! (`UdpSocket::recv_from` + `rosc::decoder::decode_udp` + a match on the address);
//! `osc-socket` is `osc4rs_tokio::OscSocket::recv` (a borrowed, validated view) + the
//! same match; `osc-socket-batch` is `OscSocket::recv_batch` (`recvmmsg`, 32 slots) +
//! the same match; `osc-server` is `OscServer` dispatching to an osc-dispatch method;
//! `eventloop` is the osc4rs facade's `process()` loop (no tokio); `floor` is a tokio
//! loop that only receives (no decoding): what no tokio receiver can go below;
//! `floor-batch` the same with `recvmmsg` (32 slots). Each receiver runs
//! on one thread (a current-thread runtime); its CPU time is that thread's, from the
//! first datagram to the last. The sender is another thread sending COUNT datagrams of
//! `/test/here ,ii` with `sendmmsg`, in bursts of 64.
//!
//! ```text
//! cargo run --release -p osc4rs-benches --bin osc4rs_tokio_bench -- [COUNT [ROUNDS]]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use osc_codec::{Message, Packet, PacketRef};

/// A UDP socket with the same 4 MiB receive buffer `OscSocket::bind` asks for, so
/// that every receiver gets the same chance and CPU per message is compared on the
/// same traffic, not on what one of them lost.
fn bound_socket() -> UdpSocket {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let _ = osc_sys::set_recv_buffer(
        socket2::SockRef::from(&sock),
        osc4rs_tokio::DEFAULT_RECV_BUFFER,
    );
    sock
}

fn thread_cpu() -> Duration {
    cpu_time::ThreadTime::try_now().map_or(Duration::ZERO, |t| t.as_duration())
}

/// Sends `count` datagrams to `dest` in bursts of 64 (a short pause between bursts, so
/// that the comparison is of receive cost rather than of buffer overflow).
fn sender(dest: SocketAddr, count: u64) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let packet = Packet::from(Message::new("/test/here").arg(1).arg(2))
        .to_bytes()
        .unwrap();
    let batch: Vec<(&[u8], SocketAddr)> = (0..64).map(|_| (&packet[..], dest)).collect();
    let mut sent = 0;
    while sent < count {
        let n = (count - sent).min(64) as usize;
        sent += osc_channel::send_batch(&sock, &batch[..n]).unwrap_or(0) as u64;
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// What one receiver measured: messages, CPU time from the first to the last.
type Run = (u64, Duration);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Waits for datagrams until `count` or an idle second, on a tokio socket.
fn rosc_loop(count: u64) -> (SocketAddr, std::thread::JoinHandle<Run>) {
    let std_sock = bound_socket();
    let addr = std_sock.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        runtime().block_on(async move {
            std_sock.set_nonblocking(true).unwrap();
            let sock = tokio::net::UdpSocket::from_std(std_sock).unwrap();
            let mut buf = vec![0u8; 65_536];
            let (mut got, mut start) = (0u64, None);
            while got < count {
                let Ok(Ok((n, _))) =
                    tokio::time::timeout(Duration::from_secs(1), sock.recv_from(&mut buf)).await
                else {
                    break;
                };
                start.get_or_insert_with(thread_cpu);
                if let Ok((_, rosc::OscPacket::Message(m))) = rosc::decoder::decode_udp(&buf[..n]) {
                    if m.addr == "/test/here" {
                        got += 1;
                    }
                }
            }
            (got, thread_cpu() - start.unwrap_or_default())
        })
    });
    (addr, t)
}

/// The floor of any tokio receive loop: `recv_from` and nothing else (no decoding).
fn floor_loop(count: u64) -> (SocketAddr, std::thread::JoinHandle<Run>) {
    let std_sock = bound_socket();
    let addr = std_sock.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        runtime().block_on(async move {
            std_sock.set_nonblocking(true).unwrap();
            let sock = tokio::net::UdpSocket::from_std(std_sock).unwrap();
            let mut buf = vec![0u8; 65_536];
            let (mut got, mut start) = (0u64, None);
            while got < count {
                let Ok(Ok(_)) =
                    tokio::time::timeout(Duration::from_secs(1), sock.recv_from(&mut buf)).await
                else {
                    break;
                };
                start.get_or_insert_with(thread_cpu);
                got += 1;
            }
            (got, thread_cpu() - start.unwrap_or_default())
        })
    });
    (addr, t)
}

fn osc_socket_loop(count: u64) -> (SocketAddr, std::thread::JoinHandle<Run>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        runtime().block_on(async move {
            let sock = osc4rs_tokio::OscSocket::bind("127.0.0.1:0").await.unwrap();
            tx.send(sock.local_addr().unwrap()).unwrap();
            let mut buf = vec![0u8; osc4rs_tokio::MAX_DATAGRAM];
            let (mut got, mut start) = (0u64, None);
            while got < count {
                let Ok(Ok((p, _))) =
                    tokio::time::timeout(Duration::from_secs(1), sock.recv(&mut buf)).await
                else {
                    break;
                };
                start.get_or_insert_with(thread_cpu);
                if let PacketRef::Message(m) = p {
                    if m.address() == "/test/here" {
                        got += 1;
                    }
                }
            }
            (got, thread_cpu() - start.unwrap_or_default())
        })
    });
    (rx.recv().unwrap(), t)
}

/// The batched floor: `recvmmsg` (32 slots) on a tokio socket, nothing decoded.
fn floor_batch_loop(count: u64) -> (SocketAddr, std::thread::JoinHandle<Run>) {
    use std::os::fd::AsRawFd;
    let std_sock = bound_socket();
    let addr = std_sock.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        runtime().block_on(async move {
            std_sock.set_nonblocking(true).unwrap();
            let sock = tokio::net::UdpSocket::from_std(std_sock).unwrap();
            let fd = sock.as_raw_fd();
            let mut batch = osc_sys::RecvBatch::new(32, osc_sys::SLOT_SIZE);
            let (mut got, mut start) = (0u64, None);
            while got < count {
                let Ok(Ok(())) =
                    tokio::time::timeout(Duration::from_secs(1), sock.readable()).await
                else {
                    break;
                };
                let Ok(n) = sock.try_io(tokio::io::Interest::READABLE, || batch.recv(fd, 32))
                else {
                    continue;
                };
                start.get_or_insert_with(thread_cpu);
                got += n as u64;
            }
            (got, thread_cpu() - start.unwrap_or_default())
        })
    });
    (addr, t)
}

/// `OscSocket::recv_batch`: every queued datagram with one `recvmmsg` (Linux).
fn osc_socket_batch_loop(count: u64) -> (SocketAddr, std::thread::JoinHandle<Run>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        runtime().block_on(async move {
            let sock = osc4rs_tokio::OscSocket::bind("127.0.0.1:0").await.unwrap();
            tx.send(sock.local_addr().unwrap()).unwrap();
            let mut batch = osc4rs_tokio::RecvBatch::new(32);
            let (mut got, mut start) = (0u64, None);
            while got < count {
                let Ok(Ok(items)) =
                    tokio::time::timeout(Duration::from_secs(1), sock.recv_batch(&mut batch)).await
                else {
                    break;
                };
                start.get_or_insert_with(thread_cpu);
                for (p, _) in items.flatten() {
                    if let PacketRef::Message(m) = p {
                        if m.address() == "/test/here" {
                            got += 1;
                        }
                    }
                }
            }
            (got, thread_cpu() - start.unwrap_or_default())
        })
    });
    (rx.recv().unwrap(), t)
}

fn osc_server_loop(count: u64) -> (SocketAddr, std::thread::JoinHandle<Run>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        runtime().block_on(async move {
            let d = Arc::new(osc_dispatch::Dispatcher::new(
                osc_dispatch::DispatcherConfig::default(),
            ));
            let seen = Arc::new(AtomicU64::new(0));
            let first = Arc::new(std::sync::Mutex::new(None));
            let (s, f) = (Arc::clone(&seen), Arc::clone(&first));
            d.register("/test/here", move |_: &Message| {
                f.lock().unwrap().get_or_insert_with(thread_cpu);
                s.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
            let mut server = osc4rs_tokio::OscServer::new(d);
            let sock = osc4rs_tokio::OscSocket::bind("127.0.0.1:0").await.unwrap();
            tx.send(sock.local_addr().unwrap()).unwrap();
            server.add_udp("in", &sock);
            let stopper = server.stopper();
            let running = tokio::spawn(server.run());
            let mut last = (0, Instant::now());
            while seen.load(Ordering::Relaxed) < count {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let n = seen.load(Ordering::Relaxed);
                if n != last.0 {
                    last = (n, Instant::now());
                } else if last.1.elapsed() > Duration::from_secs(1) {
                    break;
                }
            }
            let end = thread_cpu();
            stopper.stop();
            let _ = running.await;
            let start = first.lock().unwrap().unwrap_or(end);
            (seen.load(Ordering::Relaxed), end - start)
        })
    });
    (rx.recv().unwrap(), t)
}

fn eventloop_loop(count: u64) -> (SocketAddr, std::thread::JoinHandle<Run>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let osc = osc4rs::Osc::builder().start().unwrap();
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        tx.send(osc.local_addr("in").unwrap()).unwrap();
        let seen = Arc::new(AtomicU64::new(0));
        let s = Arc::clone(&seen);
        osc.method("/test/here", move |_: &Message| {
            s.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        let (mut start, mut idle) = (None, Instant::now());
        while seen.load(Ordering::Relaxed) < count && idle.elapsed() < Duration::from_secs(1) {
            if osc.process_timeout(Duration::from_millis(50)).unwrap() > 0 {
                start.get_or_insert_with(thread_cpu);
                idle = Instant::now();
            }
        }
        (
            seen.load(Ordering::Relaxed),
            thread_cpu() - start.unwrap_or_default(),
        )
    });
    (rx.recv().unwrap(), t)
}

type Receiver = fn(u64) -> (SocketAddr, std::thread::JoinHandle<Run>);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let receivers: [(&str, Receiver); 7] = [
        ("rosc", rosc_loop),
        ("floor", floor_loop),
        ("floor-batch", floor_batch_loop),
        ("osc-socket", osc_socket_loop),
        ("osc-socket-batch", osc_socket_batch_loop),
        ("osc-server", osc_server_loop),
        ("eventloop", eventloop_loop),
    ];
    let mut results: Vec<Vec<(u64, f64)>> = vec![Vec::new(); receivers.len()];
    for round in 0..rounds {
        for (i, (name, start)) in receivers.iter().enumerate() {
            let (addr, handle) = start(count);
            std::thread::sleep(Duration::from_millis(100));
            let tx = std::thread::spawn(move || sender(addr, count));
            tx.join().unwrap();
            let (got, cpu) = handle.join().unwrap();
            let ns = cpu.as_secs_f64() * 1e9 / got.max(1) as f64;
            eprintln!("round {round}: {name:<16} received {got:>7} of {count}, {ns:6.0} ns/msg");
            results[i].push((got, ns));
        }
    }
    println!(
        "UDP receive on tokio, {count} datagrams `/test/here ,ii` from a sendmmsg sender in bursts of 64; median of {rounds} rounds, receivers in turn:\n"
    );
    println!("| receiver | CPU per message | ratio to rosc loop | lost (worst round) |");
    println!("|---|---|---|---|");
    let median = |v: &[(u64, f64)]| {
        let mut ns: Vec<f64> = v.iter().map(|r| r.1).collect();
        ns.sort_by(f64::total_cmp);
        ns[ns.len() / 2]
    };
    let base = median(&results[0]);
    for ((name, _), r) in receivers.iter().zip(&results) {
        let m = median(r);
        let lost = r.iter().map(|(g, _)| count - g).max().unwrap_or(0);
        println!("| {name} | {m:.0} ns | {:.2}x | {lost} |", m / base);
    }
}
