//! The attacks. Each starts the target, runs for a bounded time and returns one
//! Markdown table row: attack, survived, peak RSS, the fresh client's wait during the
//! attack and after it.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::target::Target;

/// How long the fresh client waits before it counts as not served.
const PATIENCE: Duration = Duration::from_secs(10);

fn frame(packet: &[u8]) -> Vec<u8> {
    let mut v = (packet.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(packet);
    v
}

/// An OSC message with no arguments.
fn message(address: &str) -> Vec<u8> {
    let mut p = address.as_bytes().to_vec();
    p.resize((p.len() / 4 + 1) * 4, 0);
    p.extend_from_slice(b",\0\0\0");
    p
}

/// The `n`-th of many loopback source addresses (127.1.0.0/16), so that a server sees
/// many hosts.
fn source(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8))
}

fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = Socket::new(Domain::for_address(to), Type::STREAM, None)?;
    if from.is_ipv4() == to.is_ipv4() && !from.is_unspecified() {
        s.bind(&SockAddr::from(SocketAddr::new(from, 0)))?;
    }
    s.connect_timeout(&SockAddr::from(to), Duration::from_secs(2))?;
    Ok(s.into())
}

/// A fresh client sends `address` over TCP at once; how long until the target prints
/// it (`None`: not within [`PATIENCE`]).
fn fresh_tcp(t: &Target, to: SocketAddr, address: &str) -> Option<Duration> {
    let since = Instant::now();
    let mut c = connect_from(source(60_000), to).ok()?;
    c.write_all(&frame(&message(address))).ok()?;
    let waited = t.printed(address, since, PATIENCE);
    drop(c);
    waited
}

/// A fresh client sends `address` over UDP every 50 ms until the target prints it.
fn fresh_udp(t: &Target, to: SocketAddr, address: &str) -> Option<Duration> {
    let sock = UdpSocket::bind((to.ip(), 0)).ok()?;
    let since = Instant::now();
    while since.elapsed() < PATIENCE {
        let _ = sock.send_to(&message(address), to);
        if let Some(d) = t.printed(address, Instant::now(), Duration::from_millis(50)) {
            let _ = d;
            return Some(since.elapsed());
        }
    }
    None
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(
        || "never".into(),
        |d| format!("{:.0} ms", d.as_secs_f64() * 1e3),
    )
}

/// The longest a fresh client may wait, during an attack or after it, for the run to
/// pass (the target).
pub(crate) const MAX_WAIT: Duration = Duration::from_millis(500);

/// The most resident memory the target may reach: its memory budget (32 MiB by
/// default, dump's and the facade's) plus 32 MiB for the process itself.
pub(crate) const MAX_RSS_MIB: f64 = 32.0 + 32.0;

/// One attack's table row, and what went wrong (empty: the target passed).
pub(crate) struct Outcome {
    pub(crate) row: String,
    pub(crate) failures: Vec<String>,
}

/// What makes a run fail: the target died, its peak RSS is over [`MAX_RSS_MIB`], or
/// the fresh client waited more than [`MAX_WAIT`] (or was never served) during the
/// attack or after it.
fn verdict(
    alive: bool,
    peak_rss_mib: f64,
    during: Option<Duration>,
    after: Option<Option<Duration>>,
) -> Vec<String> {
    let mut failures = Vec::new();
    if !alive {
        failures.push("the target died".to_owned());
    }
    if peak_rss_mib > MAX_RSS_MIB {
        failures.push(format!(
            "peak RSS {peak_rss_mib:.1} MiB is over {MAX_RSS_MIB:.0} MiB"
        ));
    }
    let waits = [("during", Some(during)), ("after", after)];
    for (when, wait) in waits {
        match wait {
            Some(Some(d)) if d > MAX_WAIT => failures.push(format!(
                "the fresh client waited {} {when} the attack (limit {})",
                ms(Some(d)),
                ms(Some(MAX_WAIT))
            )),
            Some(None) => failures.push(format!(
                "the fresh client was never served {when} the attack"
            )),
            _ => {}
        }
    }
    failures
}

pub(crate) fn run(attack: &str, port: u16, command: &[String]) -> Outcome {
    let v4 = SocketAddr::from(([127, 0, 0, 1], port));
    let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port);
    let mut t = Target::start(command);
    let started = Instant::now();
    let (during, after, note) = match attack {
        "lockout" => lockout(&t, v4, 500, true),
        "lockout-one-host" => lockout(&t, v4, 500, false),
        // ::1 is one host: stay under its per-host cap (64), or the fresh client from
        // the same address is refused too, as it should be.
        "lockout-ipv6" => lockout(&t, v6, 60, false),
        "memory" => memory(&t, v4, 500),
        "fairness" => fairness(&t, v4, 32),
        "udp-garbage" => udp_garbage(&t, v4, 2000),
        "churn" => churn(&t, v4, 10_000),
        "rst" => rst(&t, v4, 500),
        other => panic!("unknown attack {other}"),
    };
    let alive = t.alive();
    let survived = if alive { "yes" } else { "**no**" };
    let row = format!(
        "| {attack} | {note} | {survived} | {:.1} MiB | {} | {} | {:.1} s |",
        t.peak_rss_mib(),
        ms(during),
        after.map_or_else(|| "-".into(), ms),
        started.elapsed().as_secs_f64()
    );
    Outcome {
        row,
        failures: verdict(alive, t.peak_rss_mib(), during, after),
    }
}

/// The fresh client's wait during the attack, after it (where measured), and a note.
type Waits = (Option<Duration>, Option<Option<Duration>>, String);

/// `n` connections each send two bytes of a length prefix and stay; then a fresh
/// client.
fn lockout(t: &Target, to: SocketAddr, n: usize, many_hosts: bool) -> Waits {
    let mut held = Vec::new();
    for i in 0..n {
        let from = if many_hosts && to.is_ipv4() {
            source(i)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        if let Ok(mut c) = connect_from(from, to) {
            let _ = c.write_all(&[0, 0]);
            held.push(c);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    t.drain();
    let note = format!("{} idle partial connections", held.len());
    (fresh_tcp(t, to, "/fresh"), None, note)
}

/// `n` connections each send all but one byte of a 1 MiB packet; then a fresh client.
fn memory(t: &Target, to: SocketAddr, n: usize) -> Waits {
    let body = vec![b'/'; 1 << 20];
    let wire = frame(&body);
    let partial = Arc::new(wire[..wire.len() - 1].to_vec());
    let threads: Vec<_> = (0..8)
        .map(|k| {
            let partial = Arc::clone(&partial);
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for i in (k..n).step_by(8) {
                    if let Ok(mut c) = connect_from(source(i), to) {
                        let _ = c.set_write_timeout(Some(Duration::from_millis(500)));
                        let _ = c.write_all(&partial);
                        held.push(c);
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
                drop(held);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let during = fresh_tcp(t, to, "/fresh");
    for th in threads {
        let _ = th.join();
    }
    (during, None, format!("{n} x 1 MiB - 1 byte"))
}

/// `n` connections flood 8-byte packets; a fresh client during the flood and another
/// right after it stops.
fn fairness(t: &Target, to: SocketAddr, n: usize) -> Waits {
    let stop = Arc::new(AtomicBool::new(false));
    let burst: Vec<u8> = (0..4096).flat_map(|_| frame(&message("/a"))).collect();
    let burst = Arc::new(burst);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (stop, burst) = (Arc::clone(&stop), Arc::clone(&burst));
            std::thread::spawn(move || {
                let Ok(mut c) = connect_from(source(i), to) else {
                    return;
                };
                let _ = c.set_write_timeout(Some(Duration::from_millis(200)));
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
                    if c.write_all(&burst).is_err() && stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let during = fresh_tcp(t, to, "/fresh");
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    for th in threads {
        let _ = th.join();
    }
    let after = fresh_tcp(t, to, "/after");
    (
        during,
        Some(after),
        format!("{n} connections, 8-byte packets"),
    )
}

/// Datagrams from `n` source ports, valid and garbage in turn, at full rate for 3 s.
fn udp_garbage(t: &Target, to: SocketAddr, n: usize) -> Waits {
    let sockets: Vec<UdpSocket> = (0..n)
        .filter_map(|i| UdpSocket::bind(SocketAddr::new(source(i % 250), 0)).ok())
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let good = message("/a");
            let garbage = [b"\xff\xfe\xfd".as_slice(), b"/x\0\0,zz\0", b"#bundle\0\0\0"];
            let started = Instant::now();
            let mut k = 0usize;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(10) {
                for s in &sockets {
                    let data = if k % 2 == 0 {
                        &good[..]
                    } else {
                        garbage[k % 3]
                    };
                    let _ = s.send_to(data, to);
                    k += 1;
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let during = fresh_udp(t, to, "/fresh");
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    let _ = flood.join();
    let after = fresh_udp(t, to, "/after");
    (
        during,
        Some(after),
        format!("{n} source ports, half garbage"),
    )
}

/// `n` connections opened and closed one after the other; then a fresh client.
fn churn(t: &Target, to: SocketAddr, n: usize) -> Waits {
    let started = Instant::now();
    let mut made = 0;
    for i in 0..n {
        if started.elapsed() > Duration::from_secs(90) {
            break;
        }
        match connect_from(source(i), to) {
            Ok(_) => made += 1,
            Err(e) if made == 0 && i == 0 => eprintln!("churn: connect failed: {e}"),
            Err(_) => {}
        }
    }
    let note = format!("{made} connect/close cycles");
    (fresh_tcp(t, to, "/fresh"), None, note)
}

/// `n` connections each send half a frame and reset; then a fresh client.
fn rst(t: &Target, to: SocketAddr, n: usize) -> Waits {
    let half = frame(&message("/half"));
    for i in 0..n {
        if let Ok(mut c) = connect_from(source(i), to) {
            let _ = c.write_all(&half[..half.len() / 2]);
            let s = Socket::from(c);
            let _ = s.set_linger(Some(Duration::ZERO));
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    (
        fresh_tcp(t, to, "/fresh"),
        None,
        format!("{n} half frames then RST"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_fails_on_death_memory_and_slow_or_missing_service() {
        let ok = Some(Duration::from_millis(20));
        assert!(verdict(true, 40.0, ok, Some(ok)).is_empty());
        assert!(verdict(true, 40.0, ok, None).is_empty());
        assert_eq!(verdict(false, 40.0, ok, None).len(), 1);
        assert_eq!(verdict(true, 64.5, ok, None).len(), 1);
        let slow = Some(Duration::from_millis(501));
        assert_eq!(verdict(true, 40.0, slow, Some(ok)).len(), 1);
        assert_eq!(verdict(true, 40.0, ok, Some(slow)).len(), 1);
        assert_eq!(verdict(true, 40.0, None, Some(None)).len(), 2);
    }
}
