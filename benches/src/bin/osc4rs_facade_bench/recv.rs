//! Throughput: the receivers (baseline, the facade in each mode, osc4py3), the sender,
//! and the idle-CPU probe.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use osc4rs::{Message, Mode, Osc};

use crate::measure::{cpu_ns, message_bytes, nanos, report};

/// How long a receiver waits for the first datagram.
const FIRST_WAIT: Duration = Duration::from_secs(10);

/// The receiver kinds of the throughput table, in table order (osc4py3 is added by the
/// driver when it is installed). `+view`: the same receiver with a borrowed handler
/// (`Handler::borrowed` over the zero-copy view; the baseline decodes a view with
/// `osc_codec::decode` instead of an owned packet).
pub(crate) const KINDS: [&str; 10] = [
    "baseline",
    "baseline+view",
    "epoll",
    "epoll+view",
    "eventloop",
    "eventloop+view",
    "comthreads",
    "comthreads+view",
    "allthreads",
    "allthreads+view",
];

/// The facade mode of a kind name.
pub(crate) fn mode(kind: &str) -> Option<Mode> {
    match kind {
        "eventloop" => Some(Mode::EventLoop),
        "comthreads" => Some(Mode::CommThreads),
        "allthreads" => Some(Mode::AllThreads),
        _ => None,
    }
}

/// Counts what arrives and when the count last changed.
struct Progress {
    first: Option<Instant>,
    last: Instant,
    seen: u64,
    /// Calls that found the count changed.
    changes: u64,
}

/// [`Progress::update`] reads the clock at every this many changes of the count (and
/// at the first and the last): the baselines call it per message and the facade per
/// `process()` call, so a clock read per call would cost the baselines more (about a
/// tenth of their instructions) than the facade, whose ratio it would flatter.
const CLOCK_EVERY: u64 = 64;

impl Progress {
    fn new() -> Self {
        Progress {
            first: None,
            last: Instant::now(),
            seen: 0,
            changes: 0,
        }
    }

    /// Notes the current count; returns true when the receiver should stop: at
    /// `count`, or after `idle` without a change (`FIRST_WAIT` before the first). When
    /// messages are lost, the time of the last one is known to within
    /// [`CLOCK_EVERY`] changes.
    fn update(&mut self, n: u64, count: u64, idle: Duration) -> bool {
        if n != self.seen {
            self.seen = n;
            self.changes += 1;
            if self.first.is_none() || n >= count || self.changes % CLOCK_EVERY == 0 {
                let now = Instant::now();
                self.first.get_or_insert(now);
                self.last = now;
            }
            return n >= count;
        }
        let limit = if self.first.is_some() {
            idle
        } else {
            FIRST_WAIT
        };
        self.last.elapsed() >= limit
    }

    fn finish(&self, kind: &str, count: u64, cpu: u64) {
        let wall = self.first.map_or(0, |f| nanos(self.last.duration_since(f)));
        report(&[
            ("kind", kind.to_owned()),
            ("received", self.seen.to_string()),
            ("lost", count.saturating_sub(self.seen).to_string()),
            ("wall_ns", wall.to_string()),
            ("cpu_ns", cpu.to_string()),
        ]);
    }
}

/// The handler every receiver calls: counts the messages of the bench.
fn counting_handler(n: &AtomicU64) -> impl Fn(&Message) + '_ {
    move |_m: &Message| {
        n.fetch_add(1, Ordering::Relaxed);
    }
}

/// `recv KIND COUNT IDLE_MS`: receives until COUNT messages or IDLE_MS of silence after
/// the first, then prints a RESULT line. The receiving process's CPU time is counted
/// from just after `READY PORT` is printed to the end (with no loss, to the last
/// message).
/// The baselines' socket: on 127.0.0.1, with the same receive buffer request as the
/// facade's default (`osc_channel::DEFAULT_RECV_BUFFER`).
fn baseline_socket() -> UdpSocket {
    let sock = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )
    .expect("socket");
    osc_sys::set_recv_buffer(
        socket2::SockRef::from(&sock),
        osc4rs::channel::DEFAULT_RECV_BUFFER,
    )
    .expect("SO_RCVBUF");
    sock.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind");
    sock.into()
}

/// The `epoll` receivers: the baseline's socket, decode and handler, but the socket
/// is non-blocking and read until `WouldBlock`, then waited for in `epoll_wait`, as
/// any receiver that watches more than one source must: the floor of the facade's
/// receive path, which the facade rows are compared with in their own table.
fn recv_epoll(
    kind: &str,
    view: bool,
    count: u64,
    idle: Duration,
    counter: &Arc<AtomicU64>,
    mut p: Progress,
) {
    let std_sock = baseline_socket();
    std_sock.set_nonblocking(true).expect("non-blocking");
    println!("READY {}", std_sock.local_addr().expect("addr").port());
    let mut sock = mio::net::UdpSocket::from_std(std_sock);
    let mut poll = mio::Poll::new().expect("epoll");
    poll.registry()
        .register(&mut sock, mio::Token(0), mio::Interest::READABLE)
        .expect("register");
    let mut events = mio::Events::with_capacity(8);
    let handler = counting_handler(counter);
    let mut buf = vec![0u8; 1 << 16];
    let cpu0 = cpu_ns();
    let mut wait = FIRST_WAIT;
    loop {
        match sock.recv_from(&mut buf) {
            Ok((len, _peer)) => {
                let bytes = buf.get(..len).unwrap_or_default();
                if view {
                    if let Ok(osc_codec::PacketRef::Message(_m)) = osc_codec::decode(bytes) {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                } else if let Ok(osc_codec::Packet::Message(m)) = osc_codec::Packet::decode(bytes) {
                    handler(&m);
                }
                wait = idle;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let _ = poll.poll(&mut events, Some(wait));
            }
            Err(_) => {}
        }
        if p.update(counter.load(Ordering::Relaxed), count, idle) {
            break;
        }
    }
    p.finish(kind, count, cpu_ns().saturating_sub(cpu0));
}

pub(crate) fn recv(kind: &str, count: u64, idle: Duration) {
    let counter = Arc::new(AtomicU64::new(0));
    let mut p = Progress::new();
    let (base, view) = kind
        .strip_suffix("+view")
        .map_or((kind, false), |k| (k, true));
    // `comthreads+away`: the application calls `process()` every 2 ms instead of
    // waiting in `process_timeout`, so the I/O thread reads and hands packets over.
    let (base, away) = base
        .strip_suffix("+away")
        .map_or((base, false), |k| (k, true));
    if base == "baseline" {
        // A blocking std socket with the same receive buffer request as the facade's
        // default (osc_channel::DEFAULT_RECV_BUFFER), decoded with osc_codec into an
        // owned packet, and the same counting handler.
        let sock = baseline_socket();
        sock.set_read_timeout(Some(FIRST_WAIT)).expect("timeout");
        println!("READY {}", sock.local_addr().expect("addr").port());
        let handler = counting_handler(&counter);
        let view_handler = |_m: &osc_codec::MessageRef<'_>| {
            counter.fetch_add(1, Ordering::Relaxed);
        };
        let mut buf = vec![0u8; 1 << 16];
        let cpu0 = cpu_ns();
        let mut n = 0;
        loop {
            match sock.recv_from(&mut buf) {
                Ok((len, _peer)) => {
                    let bytes = buf.get(..len).unwrap_or_default();
                    if view {
                        if let Ok(osc_codec::PacketRef::Message(m)) = osc_codec::decode(bytes) {
                            view_handler(&m);
                        }
                    } else if let Ok(osc_codec::Packet::Message(m)) =
                        osc_codec::Packet::decode(bytes)
                    {
                        handler(&m);
                    }
                    n += 1;
                    if n == 1 {
                        sock.set_read_timeout(Some(idle)).expect("timeout");
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => {}
            }
            if p.update(counter.load(Ordering::Relaxed), count, idle) {
                break;
            }
        }
        p.finish(kind, count, cpu_ns().saturating_sub(cpu0));
        return;
    }
    if base == "epoll" {
        recv_epoll(kind, view, count, idle, &counter, p);
        return;
    }
    let mode = mode(base).unwrap_or_else(|| panic!("unknown receiver kind {kind}"));
    // Default options: exec_threads 10 in allthreads, as osc4py3.
    let osc = Osc::builder().mode(mode).start().expect("start");
    osc.udp_server("in", "127.0.0.1:0").expect("server");
    let c = Arc::clone(&counter);
    if view {
        osc.method(
            "/test/here/*",
            osc4rs::Handler::borrowed(move |_m, _ctx| {
                c.fetch_add(1, Ordering::Relaxed);
            }),
        )
        .expect("method");
    } else {
        osc.method("/test/here/*", move |_m: &Message| {
            c.fetch_add(1, Ordering::Relaxed);
        })
        .expect("method");
    }
    println!("READY {}", osc.local_addr("in").expect("addr").port());
    let cpu0 = cpu_ns();
    loop {
        match mode {
            // The application away between calls: the I/O thread reads.
            Mode::CommThreads if away => {
                std::thread::sleep(Duration::from_millis(2));
                osc.process().expect("process");
            }
            // The application's loop: process, blocking up to 100 ms when idle.
            Mode::EventLoop | Mode::CommThreads => {
                osc.process_timeout(Duration::from_millis(100))
                    .expect("process");
            }
            // Nothing to do in the application thread: look at the counter now and then.
            Mode::AllThreads => std::thread::sleep(Duration::from_millis(2)),
        }
        if p.update(counter.load(Ordering::Relaxed), count, idle) {
            break;
        }
    }
    let cpu = cpu_ns().saturating_sub(cpu0);
    p.finish(kind, count, cpu);
    let _ = osc.terminate();
}

/// The osc4py3 1.0.8 receiver (eventloop mode: the only one that receives UDP
/// reliably), run by the venv's Python. Prints READY and RESULT lines like [`recv`].
const OSC4PY3_RECEIVER: &str = r#"
import sys, time
from osc4py3.as_eventloop import osc_startup, osc_udp_server, osc_method, osc_process, osc_terminate
port, count, idle = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000.0
n = [0]
def handler(s, i):
    n[0] += 1
osc_startup()
osc_udp_server("127.0.0.1", port, "srv")
osc_method("/test/here/*", handler)
print("READY %d" % port, flush=True)
cpu0 = time.process_time()
cpu_last = cpu0
first = None
seen = 0
last = time.monotonic()
while True:
    osc_process()
    if n[0] != seen:
        last = time.monotonic()
        cpu_last = time.process_time()
        if first is None:
            first = last
        seen = n[0]
    limit = idle if first is not None else 10.0
    if seen >= count or time.monotonic() - last >= limit:
        break
# osc_process() polls without blocking: count the CPU up to the last message only.
cpu = cpu_last - cpu0
wall = (last - first) if first is not None else 0.0
print("RESULT kind=osc4py3 received=%d lost=%d wall_ns=%d cpu_ns=%d" % (seen, count - seen, int(wall * 1e9), int(cpu * 1e9)), flush=True)
osc_terminate()
"#;

/// The venv's Python, when osc4py3 is installed there (`scripts/install-peers.sh`).
pub(crate) fn osc4py3_python() -> Option<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let py = root.join(".venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import osc4py3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(py)
}

/// The osc4py3 receiver as a command (a free port is chosen here: osc4py3 cannot report
/// the port it bound).
pub(crate) fn osc4py3_command(py: &std::path::Path, count: u64, idle_ms: u64) -> Command {
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut c = Command::new(py);
    c.args([
        "-c",
        OSC4PY3_RECEIVER,
        &port.to_string(),
        &count.to_string(),
        &idle_ms.to_string(),
    ]);
    c
}

/// `send PORT COUNT RATE`: sends COUNT messages to 127.0.0.1:PORT from a plain socket,
/// as fast as it can (RATE 0) or at RATE messages per second; prints a RESULT line.
pub(crate) fn send(port: u16, count: u64, rate: u64) {
    let dest = SocketAddr::from(([127, 0, 0, 1], port));
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let count = u32::try_from(count).expect("count fits u32");
    let packets: Vec<Vec<u8>> = (0..count).map(message_bytes).collect();
    let interval = (rate > 0).then(|| Duration::from_secs_f64(1.0 / rate as f64));
    let start = Instant::now();
    let mut errors = 0u64;
    for (i, p) in packets.iter().enumerate() {
        while sock.send_to(p, dest).is_err() {
            errors += 1;
        }
        if let Some(iv) = interval {
            let due = start + iv.mul_f64((i + 1) as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    }
    report(&[
        ("sent", count.to_string()),
        ("errors", errors.to_string()),
        ("wall_ns", nanos(start.elapsed()).to_string()),
    ]);
}

/// `empty-pass COUNT`: the cost of a `process()` that finds nothing (an application
/// loop that calls it after every send pays it each time), in eventloop and comthreads
/// mode, with a UDP server open and a method registered; prints the mean wall time
/// and CPU time per call.
pub(crate) fn empty_pass(count: u32) {
    println!("| mode | wall per `process()` | CPU per `process()` |");
    println!("|---|---:|---:|");
    for mode in [Mode::EventLoop, Mode::CommThreads] {
        let osc = Osc::builder().mode(mode).start().expect("start");
        osc.udp_server("in", "127.0.0.1:0").expect("server");
        osc.method("/test/here/*", |_m: &Message| {})
            .expect("method");
        let cpu0 = cpu_ns();
        let start = Instant::now();
        for _ in 0..count {
            osc.process().expect("process");
        }
        let wall = nanos(start.elapsed()) / u64::from(count.max(1));
        let cpu = cpu_ns().saturating_sub(cpu0) / u64::from(count.max(1));
        println!("| {mode:?} | {wall} ns | {cpu} ns |");
        let _ = osc.terminate();
    }
}

/// `idle KIND SECS`: a runtime with a UDP server channel open and a method registered,
/// left idle for SECS seconds while the application does what it would (eventloop and
/// comthreads: `process_timeout(100 ms)` in a loop; allthreads: nothing); prints the
/// process's CPU share of one core.
pub(crate) fn idle(kind: &str, secs: f64) {
    let mode = mode(kind).unwrap_or_else(|| panic!("unknown kind {kind}"));
    let osc = Osc::builder().mode(mode).start().expect("start");
    osc.udp_server("in", "127.0.0.1:0").expect("server");
    osc.method("/test/here/*", |_m: &Message| {})
        .expect("method");
    // Let the threads settle.
    std::thread::sleep(Duration::from_millis(200));
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let span = Duration::from_secs_f64(secs);
    while start.elapsed() < span {
        match mode {
            Mode::EventLoop | Mode::CommThreads => {
                osc.process_timeout(Duration::from_millis(100))
                    .expect("process");
            }
            Mode::AllThreads => std::thread::sleep(span.saturating_sub(start.elapsed())),
        }
    }
    let cpu = cpu_ns().saturating_sub(cpu0);
    let wall = nanos(start.elapsed());
    report(&[
        ("kind", kind.to_owned()),
        ("cpu_ns", cpu.to_string()),
        ("wall_ns", wall.to_string()),
    ]);
    let _ = osc.terminate();
}

/// `send-as KIND PORT COUNT`: sends COUNT bench messages to 127.0.0.1:PORT as an
/// application would, and prints a RESULT line with the process's CPU time. `baseline`
/// encodes each message with osc-codec and writes it with a plain std socket; the
/// facade kinds open a UDP client and call `send` (eventloop also calls `process()`
/// after each, where it writes), then `terminate` (which flushes) inside the timing.
pub(crate) fn send_as(kind: &str, port: u16, count: u64) {
    let dest = SocketAddr::from(([127, 0, 0, 1], port));
    let count = u32::try_from(count).expect("count fits u32");
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let mut retries = 0u64;
    if kind == "baseline" {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut buf = vec![0u8; 1024];
        for i in 0..count {
            let n = osc_codec::Packet::from(crate::measure::message(i))
                .encode_into(&mut buf)
                .expect("encode");
            while sock
                .send_to(buf.get(..n).unwrap_or_default(), dest)
                .is_err()
            {
                retries += 1;
            }
        }
    } else {
        let mode = mode(kind).unwrap_or_else(|| panic!("unknown sender kind {kind}"));
        let osc = Osc::builder().mode(mode).start().expect("start");
        osc.udp_client("out", dest).expect("client");
        for i in 0..count {
            // Built once and sent, as the baseline builds and encodes it once. A full
            // queue is an error value (the message is consumed): let it drain, then
            // build it again and retry.
            let mut sent = osc.send(crate::measure::message(i), "out");
            while sent.is_err() {
                retries += 1;
                osc.process_timeout(Duration::from_millis(1))
                    .expect("process");
                sent = osc.send(crate::measure::message(i), "out");
            }
            if mode == Mode::EventLoop {
                osc.process().expect("process");
            }
        }
        osc.terminate().expect("terminate");
    }
    report(&[
        ("kind", kind.to_owned()),
        ("sent", count.to_string()),
        ("retries", retries.to_string()),
        ("wall_ns", nanos(start.elapsed()).to_string()),
        ("cpu_ns", cpu_ns().saturating_sub(cpu0).to_string()),
    ]);
}
