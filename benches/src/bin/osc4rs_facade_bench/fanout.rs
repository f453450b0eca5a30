//! Sending one message to many destinations: the sender's CPU per datagram when each
//! message goes to N UDP destinations on 127.0.0.1. The facade sends each message
//! once, to a group target of N client channels (each a connected socket); the plain
//! baseline encodes it once and calls `send_to` N times from one unconnected socket.
//! The driver drains the destinations (its CPU is not counted) and prints, per N, each
//! sender against the baseline and against its own cost at the first N.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use osc4rs::{Mode, Osc, Target};

use crate::drive::{own, paired_ratio, strings};
use crate::measure::{Fields, cpu_ns, median, message, nanos, num, parse_result, report};
use crate::recv::mode;

/// The senders, the plain one first (the ratios' reference).
const KINDS: [&str; 4] = ["baseline", "eventloop", "comthreads", "allthreads"];

/// `fanout TOTAL RUNS NS`: for each N of the comma-separated NS, every sender kind sends
/// TOTAL / N messages to N destinations (TOTAL datagrams), RUNS times, kinds taken in
/// turn.
pub(crate) fn fanout(total: u64, runs: usize, ns: &str) {
    let ns: Vec<u64> = ns
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect();
    let first_n = ns.first().copied().unwrap_or(1);
    println!(
        "One message `/test/here/<i> ,si \"message\" i` sent to each of N UDP destinations on \
         127.0.0.1 ({total} datagrams per run, so {total}/N messages; message built, encoded \
         and written; the facade: one `send` to a group target of N client channels, each a \
         connected socket, its `terminate` included; plain: encoded once, then `send_to` N \
         times from one unconnected socket); the sender's CPU per datagram from its first \
         message on (opening the channels is not counted), median of {runs} runs:\n"
    );
    println!(
        "| destinations | sender | CPU per datagram | ratio to baseline (paired) | against {first_n} destination{} |",
        if first_n == 1 { "" } else { "s" }
    );
    println!("|---:|---|---:|---:|---:|");
    let mut smallest: Vec<Option<f64>> = vec![None; KINDS.len()];
    for &n in &ns {
        let sinks = Sinks::open(n);
        let count = (total / n).max(1);
        let mut results: Vec<Vec<Fields>> = vec![Vec::new(); KINDS.len()];
        for run in 0..runs {
            for (i, kind) in KINDS.iter().enumerate() {
                let r = run_sender(kind, &sinks.ports, count);
                eprintln!(
                    "fanout {n} run {run}: {kind:10} {:>6.0} ns CPU/datagram, {} sends retried",
                    per_datagram(&r),
                    num(&r, "retries")
                );
                if let Some(cell) = results.get_mut(i) {
                    cell.push(r);
                }
            }
        }
        sinks.stop();
        let base = results.first().cloned().unwrap_or_default();
        for (i, (kind, cell)) in KINDS.iter().zip(&results).enumerate() {
            let cpu = median(cell.iter().map(per_datagram).collect());
            let first = match smallest.get_mut(i) {
                Some(slot) => *slot.get_or_insert(cpu),
                None => cpu,
            };
            println!(
                "| {n} | {kind} | {cpu:.0} ns | {:.2}x | {:.2}x |",
                paired_ratio(cell, &base, per_datagram),
                cpu / first
            );
        }
    }
}

/// The sender's CPU per datagram (ns).
fn per_datagram(r: &Fields) -> f64 {
    num(r, "cpu_ns") / num(r, "datagrams").max(1.0)
}

/// Runs one `fanout-as` process and returns its RESULT line.
fn run_sender(kind: &str, ports: &[u16], count: u64) -> Fields {
    let ports = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let out = own(&strings(&["fanout-as", kind, &ports, &count.to_string()]))
        .output()
        .expect("run the sender");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(parse_result)
        .unwrap_or_else(|| {
            panic!(
                "{kind}: no RESULT line; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// The destinations: N sockets on 127.0.0.1 that a thread of the driver drains.
struct Sinks {
    ports: Vec<u16>,
    stop: Arc<AtomicBool>,
    drain: JoinHandle<()>,
}

impl Sinks {
    fn open(n: u64) -> Sinks {
        let mut poll = mio::Poll::new().expect("epoll");
        let mut sockets = Vec::new();
        let mut ports = Vec::new();
        for i in 0..n {
            let std_sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind a sink");
            std_sock.set_nonblocking(true).expect("non-blocking");
            ports.push(std_sock.local_addr().expect("sink address").port());
            let mut sock = mio::net::UdpSocket::from_std(std_sock);
            let token = mio::Token(usize::try_from(i).expect("a token"));
            poll.registry()
                .register(&mut sock, token, mio::Interest::READABLE)
                .expect("register a sink");
            sockets.push(sock);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let drain = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || drain(&mut poll, &sockets, &stop))
        };
        Sinks { ports, stop, drain }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.drain.join();
    }
}

/// Reads every datagram that reaches `sockets` until `stop` is set.
fn drain(poll: &mut mio::Poll, sockets: &[mio::net::UdpSocket], stop: &AtomicBool) {
    let mut events = mio::Events::with_capacity(256);
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        if poll
            .poll(&mut events, Some(Duration::from_millis(100)))
            .is_err()
        {
            continue;
        }
        for ev in &events {
            if let Some(sock) = sockets.get(ev.token().0) {
                while sock.recv(&mut buf).is_ok() {}
            }
        }
    }
}

/// `fanout-as KIND PORTS COUNT`: sends COUNT bench messages, each to every port of the
/// comma-separated PORTS on 127.0.0.1, and prints a RESULT line with the process's CPU
/// time. `baseline` encodes each message once and writes it with `send_to` per port;
/// the facade kinds open a UDP client per port and send each message once to the group
/// of them (eventloop also calls `process()` after each), then `terminate` (which
/// flushes) inside the timing.
pub(crate) fn fanout_as(kind: &str, ports: &str, count: u64) {
    let dests: Vec<SocketAddr> = ports
        .split(',')
        .filter_map(|p| p.parse::<u16>().ok())
        .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
        .collect();
    let count = u32::try_from(count).expect("count fits u32");
    let sent = if kind == "baseline" {
        send_plain(&dests, count)
    } else {
        send_facade(kind, &dests, count)
    };
    report(&[
        ("kind", kind.to_owned()),
        (
            "datagrams",
            (u64::from(count) * dests.len() as u64).to_string(),
        ),
        ("retries", sent.retries.to_string()),
        ("wall_ns", sent.wall_ns.to_string()),
        ("cpu_ns", sent.cpu_ns.to_string()),
    ]);
}

/// What a sender measured from its first message on.
struct Sent {
    cpu_ns: u64,
    wall_ns: u64,
    /// Sends that failed (a full queue) and were made again.
    retries: u64,
}

/// The clocks at the first message: [`Timing::done`] gives what was spent since.
struct Timing {
    cpu0: u64,
    start: Instant,
}

impl Timing {
    fn start() -> Timing {
        Timing {
            cpu0: cpu_ns(),
            start: Instant::now(),
        }
    }

    fn done(self, retries: u64) -> Sent {
        Sent {
            cpu_ns: cpu_ns().saturating_sub(self.cpu0),
            wall_ns: nanos(self.start.elapsed()),
            retries,
        }
    }
}

/// Retries of a full queue allowed per message before the run is given up.
const MAX_RETRIES_PER_MESSAGE: u64 = 1000;

/// The plain sender: each message encoded once, then `send_to` every destination.
fn send_plain(dests: &[SocketAddr], count: u32) -> Sent {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut buf = vec![0u8; 1024];
    let mut retries = 0;
    let timing = Timing::start();
    for i in 0..count {
        let n = osc_codec::Packet::from(message(i))
            .encode_into(&mut buf)
            .expect("encode");
        let bytes = buf.get(..n).unwrap_or_default();
        for dest in dests {
            while sock.send_to(bytes, dest).is_err() {
                retries += 1;
                assert!(
                    retries < MAX_RETRIES_PER_MESSAGE * u64::from(count),
                    "the destinations take nothing"
                );
            }
        }
    }
    timing.done(retries)
}

/// The facade sender: a client channel per destination, each message sent once to
/// the group of them. A send that fails (a full queue) is made again after a pass,
/// to the whole group: a destination written before the failure then gets the message
/// twice, which the RESULT's `retries` shows (the driver prints it).
fn send_facade(kind: &str, dests: &[SocketAddr], count: u32) -> Sent {
    let mode = mode(kind).unwrap_or_else(|| panic!("unknown sender kind {kind}"));
    let osc = Osc::builder().mode(mode).start().expect("start");
    let names: Vec<String> = (0..dests.len()).map(|i| format!("d{i}")).collect();
    for (name, dest) in names.iter().zip(dests) {
        osc.udp_client(name, *dest).expect("client");
    }
    let group = Target::Group(names.iter().map(|n| Target::Name(n.clone())).collect());
    let mut retries = 0;
    let timing = Timing::start();
    for i in 0..count {
        // A full queue is an error value: let it drain, then send again.
        while let Err(e) = osc.send(message(i), &group) {
            retries += 1;
            assert!(
                retries < MAX_RETRIES_PER_MESSAGE * u64::from(count),
                "sends keep failing: {e}"
            );
            osc.process_timeout(Duration::from_millis(1))
                .expect("process");
        }
        if mode == Mode::EventLoop {
            osc.process().expect("process");
        }
    }
    osc.terminate().expect("terminate");
    timing.done(retries)
}
