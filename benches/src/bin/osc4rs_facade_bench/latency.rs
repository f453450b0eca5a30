//! Round-trip latency: a ping process and a pong process (both plain UDP, or both the
//! facade in the same mode) bounce one message back and forth.

use std::io::BufRead;
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use osc4rs::{Message, Mode, Osc};

use crate::measure::{median, nanos, percentile, report};
use crate::recv::mode;

/// Round trips not measured, when a pair starts.
const WARMUP: usize = 100;

/// Busy polling of the `MODE+busy` kinds.
pub(crate) const BUSY_POLL: Duration = Duration::from_micros(50);

/// A facade runtime in a kind's mode: default options, or `MODE+busy` for busy polling.
fn start(kind: &str) -> Osc {
    let (name, busy) = match kind.strip_suffix("+busy") {
        Some(name) => (name, BUSY_POLL),
        None => (kind, Duration::ZERO),
    };
    let mode = mode(name).unwrap_or_else(|| panic!("unknown kind {kind}"));
    Osc::builder()
        .mode(mode)
        .busy_poll(busy)
        .start()
        .expect("start")
}

/// Lets the runtime work until `done` says so (the application loop of each mode).
fn drive_until(osc: &Osc, mut done: impl FnMut(Option<Duration>) -> bool) {
    loop {
        match osc.mode() {
            Mode::EventLoop | Mode::CommThreads => {
                if done(None) {
                    return;
                }
                osc.process_timeout(Duration::from_millis(100))
                    .expect("process");
            }
            Mode::AllThreads => {
                if done(Some(Duration::from_secs(1))) {
                    return;
                }
            }
        }
    }
}

fn read_port_line() -> u16 {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).expect("stdin");
    line.trim().parse().expect("a port number on stdin")
}

/// Round trips not measured at the start of each block, while the pair wakes up.
const BLOCK_WARMUP: usize = 5;

/// `ping KIND`: prints `READY PORT`, reads the pong's port on stdin, makes the warm-up
/// round trips, then obeys the commands that follow on stdin: `go N` measures N round
/// trips and prints `DONE`; `end` (or the end of input) prints a RESULT line
/// (nanoseconds) over all measured round trips.
///
/// The driver starts every pair at once and gives them blocks in turn, so a change in
/// the machine's state during the run touches every kind alike.
pub(crate) fn ping(kind: &str) {
    if kind == "plain" {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        println!("READY {}", sock.local_addr().expect("addr").port());
        let pong = SocketAddr::from(([127, 0, 0, 1], read_port_line()));
        sock.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = vec![0u8; 1 << 16];
        obey(kind, |r| {
            let bytes =
                osc_codec::Packet::from(Message::new("/ping").arg(i32::try_from(r).unwrap_or(0)))
                    .to_bytes()
                    .expect("encode");
            let t0 = Instant::now();
            sock.send_to(&bytes, pong).expect("send");
            let (n, _) = sock.recv_from(&mut buf).expect("reply within 5 s");
            let _ = osc_codec::Packet::decode(buf.get(..n).unwrap_or_default());
            t0.elapsed()
        });
    } else {
        let osc = start(kind);
        osc.udp_server("in", "127.0.0.1:0").expect("server");
        println!("READY {}", osc.local_addr("in").expect("addr").port());
        osc.udp_client("out", ("127.0.0.1", read_port_line()))
            .expect("client");
        let (tx, rx) = mpsc::channel::<()>();
        osc.method("/pong", move |_m: &Message| {
            let _ = tx.send(());
        })
        .expect("method");
        obey(kind, |r| {
            let t0 = Instant::now();
            osc.send(
                Message::new("/ping").arg(i32::try_from(r).unwrap_or(0)),
                "out",
            )
            .expect("send");
            let deadline = t0 + Duration::from_secs(5);
            drive_until(&osc, |wait| {
                assert!(Instant::now() < deadline, "no reply within 5 s");
                match wait {
                    None => rx.try_recv().is_ok(),
                    Some(d) => rx.recv_timeout(d).is_ok(),
                }
            });
            t0.elapsed()
        });
        let _ = osc.terminate();
    }
}

/// The command loop of [`ping`]; `round(r)` makes round trip number `r`.
fn obey(kind: &str, mut round: impl FnMut(usize) -> Duration) {
    let mut r = 0;
    for _ in 0..WARMUP {
        round(r);
        r += 1;
    }
    let mut rtts = Vec::new();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let Some(n) = line
            .strip_prefix("go ")
            .and_then(|n| n.trim().parse::<usize>().ok())
        else {
            break;
        };
        for i in 0..BLOCK_WARMUP + n {
            let rtt = round(r);
            r += 1;
            if i >= BLOCK_WARMUP {
                rtts.push(nanos(rtt) as f64);
            }
        }
        println!("DONE");
    }
    let mean = rtts.iter().sum::<f64>() / rtts.len().max(1) as f64;
    report(&[
        ("kind", kind.to_owned()),
        ("rounds", rtts.len().to_string()),
        ("median_ns", format!("{:.0}", median(rtts.clone()))),
        ("p99_ns", format!("{:.0}", percentile(rtts, 0.99))),
        ("mean_ns", format!("{mean:.0}")),
    ]);
}

/// `pong KIND PING_PORT`: prints `READY PORT` and answers every `/ping` with a
/// `/pong` carrying the same arguments, until killed.
pub(crate) fn pong(kind: &str, ping_port: u16) {
    if kind == "plain" {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        println!("READY {}", sock.local_addr().expect("addr").port());
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                continue;
            };
            if let Ok(osc_codec::Packet::Message(m)) =
                osc_codec::Packet::decode(buf.get(..n).unwrap_or_default())
            {
                let mut reply = Message::new("/pong");
                reply.args = m.args;
                let bytes = osc_codec::Packet::from(reply).to_bytes().expect("encode");
                let _ = sock.send_to(&bytes, peer);
            }
        }
    }
    let osc = Arc::new(start(kind));
    osc.udp_server("in", "127.0.0.1:0").expect("server");
    osc.udp_client("back", ("127.0.0.1", ping_port))
        .expect("client");
    let me: Arc<OnceLock<Arc<Osc>>> = Arc::new(OnceLock::new());
    let me2 = Arc::clone(&me);
    osc.method("/ping", move |m: &Message| {
        if let Some(osc) = me2.get() {
            let mut reply = Message::new("/pong");
            reply.args = m.args.clone();
            let _ = osc.send(reply, "back");
        }
    })
    .expect("method");
    let _ = me.set(Arc::clone(&osc));
    println!("READY {}", osc.local_addr("in").expect("addr").port());
    drive_until(&osc, |wait| {
        if let Some(d) = wait {
            std::thread::sleep(d);
        }
        false
    });
}
