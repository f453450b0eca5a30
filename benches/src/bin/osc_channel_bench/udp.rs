//! UDP receiver and sender processes, and the driver that runs them side by side.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use osc_channel::{Reactor, ReactorConfig, UdpConfig};

use crate::measure::{Cpu, median, message, nanos, parse_result, report};

/// The receiver modes, in table order.
pub(crate) const RECV_MODES: [&str; 5] = [
    "plain",
    "plain-defaultbuf",
    "reactor",
    "reactor-batch",
    "reactor-adaptive",
];
/// The sender modes.
pub(crate) const SEND_MODES: [&str; 2] = ["plain", "sendmmsg"];

/// How long a receiver waits for the first datagram.
pub(crate) const FIRST_WAIT: Duration = Duration::from_secs(10);

struct Tally {
    received: u64,
    bytes: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            received: 0,
            bytes: 0,
            first: None,
            last: None,
        }
    }

    /// Counts a datagram (the clock is read for the first one only, so the receive
    /// loops do no more per-message work than counting).
    #[inline]
    fn add(&mut self, len: usize) {
        if self.received == 0 {
            self.first = Some(Instant::now());
        }
        self.received += 1;
        self.bytes += len as u64;
    }

    /// How long to wait for more: longer before the first datagram.
    fn idle_limit(&self, idle: Duration) -> Duration {
        if self.received == 0 { FIRST_WAIT } else { idle }
    }

    /// Marks the end of receiving: now, or `idle` ago when the loop gave up waiting.
    fn end(&mut self, idle: Option<Duration>) {
        let now = Instant::now();
        self.last = Some(idle.and_then(|d| now.checked_sub(d)).unwrap_or(now));
    }
}

/// The plain receivers' socket, bound to `bind`: with the library's default receive
/// buffer request when `big_buffer`, else the kernel's default. Returns the socket and
/// the buffer size the kernel granted.
pub(crate) fn plain_socket(bind: SocketAddr, big_buffer: bool) -> (UdpSocket, usize) {
    let sock = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .expect("socket");
    if big_buffer {
        osc_sys::set_recv_buffer(
            socket2::SockRef::from(&sock),
            osc_channel::DEFAULT_RECV_BUFFER,
        )
        .expect("SO_RCVBUF");
    }
    sock.bind(&bind.into()).expect("bind");
    let rcvbuf = sock.recv_buffer_size().unwrap_or(0);
    (sock.into(), rcvbuf)
}

/// `udp-recv MODE COUNT IDLE_MS BATCH`: receives until COUNT datagrams or IDLE_MS of
/// silence, then prints a RESULT line.
///
/// With a `period` (periodic mode), the receiver does not block: it reads whatever
/// is queued, then sleeps `period`, like an application that calls `process()` between
/// its own work. Datagrams then wait in the socket buffer and each wake-up finds many.
pub(crate) fn recv(mode: &str, count: u64, idle: Duration, batch: usize, period: Duration) {
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("address");
    match mode {
        "plain" | "plain-defaultbuf" => {
            let (sock, rcvbuf) = plain_socket(bind, mode == "plain");
            // Wait longer for the first datagram, while the sender starts.
            sock.set_read_timeout(Some(FIRST_WAIT)).expect("timeout");
            if !period.is_zero() {
                sock.set_nonblocking(true).expect("O_NONBLOCK");
            }
            let port = sock.local_addr().expect("addr").port();
            println!("READY {port}");
            let mut buf = vec![0u8; 1 << 16];
            let mut t = Tally::new();
            let cpu0 = Cpu::now();
            let mut timed_out = None;
            if period.is_zero() {
                while t.received < count {
                    match sock.recv_from(&mut buf) {
                        Ok((n, _peer)) => {
                            t.add(n);
                            if t.received == 1 {
                                sock.set_read_timeout(Some(idle)).expect("timeout");
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => {
                            timed_out = Some(idle);
                            break;
                        }
                    }
                }
            } else {
                let mut quiet_since = Instant::now();
                while t.received < count {
                    let before = t.received;
                    while t.received < count {
                        match sock.recv_from(&mut buf) {
                            Ok((n, _peer)) => t.add(n),
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(_) => break,
                        }
                    }
                    if t.received > before {
                        quiet_since = Instant::now();
                    } else if quiet_since.elapsed() >= t.idle_limit(idle) {
                        timed_out = Some(quiet_since.elapsed());
                        break;
                    }
                    if t.received < count {
                        std::thread::sleep(period);
                    }
                }
            }
            let cpu = Cpu::now().since(cpu0);
            t.end(timed_out);
            finish(mode, count, &t, cpu, rcvbuf);
        }
        "reactor" | "reactor-batch" | "reactor-adaptive" => {
            let opts = ReactorConfig {
                batch_receive: if mode == "reactor" { 0 } else { batch },
                adaptive_receive: mode == "reactor-adaptive",
                ..ReactorConfig::default()
            };
            let mut r = Reactor::with_options(opts).expect("reactor");
            let id = r.open_udp("in", UdpConfig::server(bind)).expect("open");
            let rcvbuf = r.socket_info(id).map_or(0, |i| i.recv_buffer);
            let port = r.local_addr(id).expect("addr").port();
            println!("READY {port}");
            let mut t = Tally::new();
            let cpu0 = Cpu::now();
            let mut quiet_since = Instant::now();
            let mut timed_out = None;
            let wait = if period.is_zero() {
                Some(idle)
            } else {
                Some(Duration::ZERO)
            };
            while t.received < count {
                let mut n = r.poll(wait, |p| t.add(p.data.len())).expect("poll");
                if !period.is_zero() {
                    // Drain like the plain loop does: pass after pass until one finds
                    // nothing (a pass reads at most `max_datagrams_per_event`).
                    let mut more = n;
                    while more > 0 && t.received < count {
                        more = r.poll(wait, |p| t.add(p.data.len())).expect("poll");
                        n += more;
                    }
                }
                if n > 0 {
                    quiet_since = Instant::now();
                } else if quiet_since.elapsed() >= t.idle_limit(idle) {
                    timed_out = Some(quiet_since.elapsed());
                    break;
                }
                if !period.is_zero() && t.received < count {
                    std::thread::sleep(period);
                }
            }
            let cpu = Cpu::now().since(cpu0);
            t.end(timed_out);
            finish(mode, count, &t, cpu, rcvbuf);
        }
        other => panic!("unknown receiver mode {other}"),
    }
}

fn finish(mode: &str, count: u64, t: &Tally, cpu: Cpu, rcvbuf: usize) {
    let wall = match (t.first, t.last) {
        (Some(a), Some(b)) => nanos(b - a),
        _ => 0,
    };
    report(&[
        ("mode", mode.to_owned()),
        ("received", t.received.to_string()),
        ("lost", count.saturating_sub(t.received).to_string()),
        ("bytes", t.bytes.to_string()),
        ("wall_ns", wall.to_string()),
        ("cpu_ns", cpu.ns.to_string()),
        ("user_ticks", cpu.user_ticks.to_string()),
        ("sys_ticks", cpu.sys_ticks.to_string()),
        ("rcvbuf", rcvbuf.to_string()),
    ]);
}

/// `udp-send MODE PORT COUNT`: sends COUNT 40-byte messages to 127.0.0.1:PORT as fast
/// as it can, then prints a RESULT line.
pub(crate) fn send(mode: &str, port: u16, count: u64) {
    let dest: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let count = u32::try_from(count).expect("count fits u32");
    let packets: Vec<Vec<u8>> = (0..count).map(message).collect();
    let cpu0 = Cpu::now();
    let start = Instant::now();
    let mut errors = 0u64;
    match mode {
        "plain" => {
            for p in &packets {
                while sock.send_to(p, dest).is_err() {
                    errors += 1;
                }
            }
        }
        "sendmmsg" => {
            let all: Vec<(&[u8], SocketAddr)> = packets.iter().map(|p| (&p[..], dest)).collect();
            let mut sent = 0;
            while sent < all.len() {
                match osc_channel::send_batch(&sock, all.get(sent..).unwrap_or_default()) {
                    Ok(n) => sent += n,
                    Err(_) => errors += 1,
                }
            }
        }
        other => panic!("unknown sender mode {other}"),
    }
    let wall = start.elapsed();
    let cpu = Cpu::now().since(cpu0);
    report(&[
        ("mode", mode.to_owned()),
        ("sent", count.to_string()),
        ("errors", errors.to_string()),
        ("wall_ns", nanos(wall).to_string()),
        ("cpu_ns", cpu.ns.to_string()),
    ]);
}

/// One receiver + sender run; returns the receiver's and the sender's results.
pub(crate) fn run_pair(
    recv_args: &[String],
    send_args: impl Fn(u16) -> Vec<String>,
) -> (
    std::collections::BTreeMap<String, String>,
    std::collections::BTreeMap<String, String>,
) {
    let exe = std::env::current_exe().expect("own path");
    let mut rx = Command::new(&exe)
        .args(recv_args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn receiver");
    let mut out = BufReader::new(rx.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("READY line");
    let port: u16 = line
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .expect("READY PORT");
    let tx = Command::new(&exe)
        .args(send_args(port))
        .output()
        .expect("run sender");
    let sent = String::from_utf8_lossy(&tx.stdout)
        .lines()
        .find_map(parse_result)
        .expect("sender RESULT");
    let mut got = None;
    for l in out.lines() {
        let l = l.expect("receiver output");
        if let Some(r) = parse_result(&l) {
            got = Some(r);
        }
    }
    rx.wait().expect("receiver exit");
    (got.expect("receiver RESULT"), sent)
}

fn num(m: &std::collections::BTreeMap<String, String>, k: &str) -> f64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// `udp [COUNT] [RUNS] [BATCH]`: runs every receiver mode against every sender mode,
/// RUNS times interleaved, and prints Markdown tables of the medians.
/// PERIOD_US 0 is streaming (the receiver blocks until data arrives); otherwise the
/// receivers are periodic (see [`recv`]).
pub(crate) fn drive(count: u64, runs: usize, batch: usize, period_us: u64) {
    let idle_ms = "1000".to_owned();
    // results[sender][receiver] = list of (recv, send) results
    let mut results: Vec<Vec<Vec<(_, _)>>> =
        vec![vec![Vec::new(); RECV_MODES.len()]; SEND_MODES.len()];
    for run in 0..runs {
        for (si, smode) in SEND_MODES.iter().enumerate() {
            for (ri, rmode) in RECV_MODES.iter().enumerate() {
                let recv_args = vec![
                    "udp-recv".to_owned(),
                    (*rmode).to_owned(),
                    count.to_string(),
                    idle_ms.clone(),
                    batch.to_string(),
                    period_us.to_string(),
                ];
                let (r, s) = run_pair(&recv_args, |port| {
                    vec![
                        "udp-send".to_owned(),
                        (*smode).to_owned(),
                        port.to_string(),
                        count.to_string(),
                    ]
                });
                eprintln!(
                    "run {run}: sender {smode:8} receiver {rmode:16} received {:>7} cpu/msg {:>7.0} ns",
                    num(&r, "received"),
                    num(&r, "cpu_ns") / num(&r, "received").max(1.0)
                );
                if let Some(cell) = results.get_mut(si).and_then(|v| v.get_mut(ri)) {
                    cell.push((r, s));
                }
            }
        }
    }
    let scenario = if period_us == 0 {
        "streaming: the receiver blocks (or sleeps in epoll) until data arrives".to_owned()
    } else {
        format!("periodic: the receiver drains the socket, then sleeps {period_us} µs")
    };
    println!(
        "UDP, {count} datagrams of 40 bytes on 127.0.0.1, {scenario}; median of {runs} runs, reactor-batch with batch_receive = {batch}:\n"
    );
    println!(
        "| sender | sender rate (pkt/s) | receiver | received | lost (worst run) | receiver CPU per message | user / sys (ticks) | ratio to plain | receive buffer granted |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (si, smode) in SEND_MODES.iter().enumerate() {
        let Some(row) = results.get(si) else { continue };
        let per_msg = |r: &std::collections::BTreeMap<String, String>| {
            num(r, "cpu_ns") / num(r, "received").max(1.0)
        };
        let plain: Vec<f64> = row
            .first()
            .map(|c| c.iter().map(|(r, _)| per_msg(r)).collect())
            .unwrap_or_default();
        for (ri, rmode) in RECV_MODES.iter().enumerate() {
            let Some(cell) = row.get(ri) else { continue };
            let received = median(cell.iter().map(|(r, _)| num(r, "received")).collect());
            let lost = cell.iter().map(|(r, _)| num(r, "lost")).fold(0.0, f64::max);
            let cpu = median(cell.iter().map(|(r, _)| per_msg(r)).collect());
            // Paired ratios: run k of this mode against run k of the plain loop.
            let ratio = median(
                cell.iter()
                    .zip(&plain)
                    .map(|((r, _), p)| per_msg(r) / p)
                    .collect(),
            );
            let user = median(cell.iter().map(|(r, _)| num(r, "user_ticks")).collect());
            let sys = median(cell.iter().map(|(r, _)| num(r, "sys_ticks")).collect());
            let rate = median(
                cell.iter()
                    .map(|(_, s)| num(s, "sent") / (num(s, "wall_ns") / 1e9))
                    .collect(),
            );
            let rcvbuf = median(cell.iter().map(|(r, _)| num(r, "rcvbuf")).collect());
            println!(
                "| {smode} | {:.0} | {rmode} | {received:.0} | {lost:.0} | {cpu:.0} ns | {user:.0} / {sys:.0} | {ratio:.2}x | {} KiB |",
                rate,
                rcvbuf / 1024.0
            );
        }
    }
}
