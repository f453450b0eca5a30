//! `osc4rs bench`: throughput and round-trip latency between an osc4rs sender and an
//! osc4rs receiver on loopback, in one process (two runtimes) or two (this binary
//! spawns itself), in each scheduling mode. A table on stdout; progress on stderr.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use osc4rs::{Message, Mode, Osc};

use crate::Failure;
use crate::demo::ModeArg;

/// How long a receiver waits for the first message, and for more after the last one.
const FIRST_WAIT: Duration = Duration::from_secs(10);
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// Round trips not measured, at the start.
const WARMUP: usize = 50;

/// The part a process plays (the two-process form runs the receiver and the pong in a
/// child).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Role {
    /// Count messages; print `READY PORT`, then `RESULT RECEIVED SECONDS`.
    Receiver,
    /// Answer `/ping` with `/pong` to `--peer-port` until standard input closes.
    Pong,
}

/// Arguments of `osc4rs bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// One mode only (default: eventloop, comthreads and allthreads).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Messages sent for the throughput measurement.
    #[arg(long, short = 'n', default_value_t = 100_000)]
    count: u64,
    /// Round trips for the latency measurement (0 skips it).
    #[arg(long, default_value_t = 2000)]
    rounds: usize,
    /// Run the receiver (and the pong) in a second process.
    #[arg(long)]
    two_processes: bool,
    /// Internal: the part this process plays in the two-process form.
    #[arg(long, value_enum, hide = true)]
    role: Option<Role>,
    /// Internal: the ping's port (pong role).
    #[arg(long, hide = true, default_value_t = 0)]
    peer_port: u16,
}

fn fail(e: osc4rs::OscError) -> Failure {
    Failure::runtime(e.to_string())
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::EventLoop => "eventloop",
        Mode::CommThreads => "comthreads",
        Mode::AllThreads => "allthreads",
    }
}

/// Runs `osc4rs bench`.
pub(crate) fn run(a: BenchArgs) -> Result<ExitCode, Failure> {
    let modes: Vec<Mode> = match a.mode {
        Some(m) => vec![m.into()],
        None => vec![Mode::EventLoop, Mode::CommThreads, Mode::AllThreads],
    };
    if let Some(role) = a.role {
        let mode = modes.first().copied().unwrap_or_default();
        return match role {
            Role::Receiver => {
                let (n, secs) = receive(mode, a.count, |port| {
                    println!("READY {port}");
                })?;
                println!("RESULT {n} {secs}");
                Ok(ExitCode::SUCCESS)
            }
            Role::Pong => {
                let stop = Arc::new(AtomicBool::new(false));
                let s = Arc::clone(&stop);
                std::thread::spawn(move || {
                    // Standard input closing (the parent is done) stops the pong.
                    let _ = std::io::stdin().lock().read_line(&mut String::new());
                    s.store(true, Ordering::Release);
                });
                pong(mode, a.peer_port, &stop, |port| println!("READY {port}"))?;
                Ok(ExitCode::SUCCESS)
            }
        };
    }
    let processes = if a.two_processes { 2 } else { 1 };
    println!(
        "osc4rs bench: {} messages `/test/here/<i> ,si` and {} round trips over UDP on 127.0.0.1, {processes} process(es)\n",
        a.count, a.rounds
    );
    println!("| mode | processes | sent | received | lost | messages/s | RTT median | RTT p99 |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut all_received = true;
    for mode in modes {
        let name = mode_name(mode);
        eprintln!("{name}: throughput, {} messages", a.count);
        let (received, secs) = if a.two_processes {
            throughput_two(mode, a.count)?
        } else {
            throughput_one(mode, a.count)?
        };
        let lat = if a.rounds > 0 {
            eprintln!("{name}: latency, {} round trips", a.rounds);
            Some(if a.two_processes {
                latency_two(mode, a.rounds)?
            } else {
                latency_one(mode, a.rounds)?
            })
        } else {
            None
        };
        let (med, p99) = lat.map_or(("-".to_owned(), "-".to_owned()), |(m, p)| {
            (format!("{m:.1} µs"), format!("{p:.1} µs"))
        });
        all_received &= received == a.count;
        println!(
            "| {name} | {processes} | {} | {received} | {} | {:.0} | {med} | {p99} |",
            a.count,
            a.count.saturating_sub(received),
            if secs > 0.0 {
                received as f64 / secs
            } else {
                0.0
            },
        );
    }
    Ok(if all_received {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

// ---------------------------------------------------------------- throughput

/// A receiver runtime counting `/test/here/*` until `count` arrived or the line went
/// quiet; returns (received, seconds from the first message to the last).
fn receive(mode: Mode, count: u64, ready: impl FnOnce(u16)) -> Result<(u64, f64), Failure> {
    let osc = Osc::builder().mode(mode).start().map_err(fail)?;
    osc.udp_server("bench-in", "127.0.0.1:0").map_err(fail)?;
    let n = Arc::new(AtomicU64::new(0));
    let c = Arc::clone(&n);
    osc.method("/test/here/*", move |_m: &Message| {
        c.fetch_add(1, Ordering::Relaxed);
    })
    .map_err(fail)?;
    let port = osc
        .local_addr("bench-in")
        .map(|a| a.port())
        .ok_or_else(|| Failure::runtime("the receiver has no address"))?;
    ready(port);
    let (mut first, mut last, mut seen) = (None::<Instant>, Instant::now(), 0);
    loop {
        match mode {
            Mode::AllThreads => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                osc.process_timeout(Duration::from_millis(50))
                    .map_err(fail)?;
            }
        }
        let now_n = n.load(Ordering::Relaxed);
        if now_n != seen {
            seen = now_n;
            last = Instant::now();
            first.get_or_insert(last);
        }
        let limit = if first.is_some() {
            IDLE_WAIT
        } else {
            FIRST_WAIT
        };
        if seen >= count || last.elapsed() >= limit {
            break;
        }
    }
    osc.terminate().map_err(fail)?;
    let secs = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
    Ok((seen, secs))
}

/// A sender runtime sending `count` messages to `port` as fast as it can (a full send
/// queue is waited out, never dropped), with progress on stderr.
fn send_all(mode: Mode, port: u16, count: u64) -> Result<(), Failure> {
    let osc = Osc::builder().mode(mode).start().map_err(fail)?;
    osc.udp_client("bench-out", ("127.0.0.1", port))
        .map_err(fail)?;
    let mut shown = Instant::now();
    for i in 0..count {
        let msg = Message::new(format!("/test/here/{i}"))
            .arg("message")
            .arg(i32::try_from(i).unwrap_or(i32::MAX));
        while osc.send(msg.clone(), "bench-out").is_err() {
            osc.process_timeout(Duration::from_millis(1))
                .map_err(fail)?;
        }
        if mode == Mode::EventLoop {
            osc.process().map_err(fail)?;
        }
        if shown.elapsed() >= Duration::from_secs(1) {
            eprintln!("  sent {i} of {count}");
            shown = Instant::now();
        }
    }
    osc.terminate().map_err(fail)
}

fn throughput_one(mode: Mode, count: u64) -> Result<(u64, f64), Failure> {
    let (tx, rx) = mpsc::channel();
    let receiver = std::thread::spawn(move || {
        receive(mode, count, move |p| {
            let _ = tx.send(p);
        })
    });
    let port = rx
        .recv()
        .map_err(|_| Failure::runtime("the receiver did not start"))?;
    send_all(mode, port, count)?;
    receiver
        .join()
        .map_err(|_| Failure::runtime("the receiver thread panicked"))?
}

/// Spawns this binary in a role; returns the child and the port of its `READY` line.
fn spawn_role(
    args: &[String],
) -> Result<(Child, BufReader<std::process::ChildStdout>, u16), Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::runtime(format!("cannot find this program: {e}")))?;
    let mut child = Command::new(exe)
        .arg("bench")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Failure::runtime(format!("cannot start the second process: {e}")))?;
    let mut out = BufReader::new(
        child
            .stdout
            .take()
            .ok_or_else(|| Failure::runtime("no output from the second process"))?,
    );
    let mut line = String::new();
    let _ = out.read_line(&mut line);
    let port = line
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Failure::runtime(format!("the second process said {line:?}")))?;
    Ok((child, out, port))
}

fn throughput_two(mode: Mode, count: u64) -> Result<(u64, f64), Failure> {
    let args = vec![
        "--role".to_owned(),
        "receiver".to_owned(),
        "--mode".to_owned(),
        mode_name(mode).to_owned(),
        "--count".to_owned(),
        count.to_string(),
    ];
    let (mut child, out, port) = spawn_role(&args)?;
    send_all(mode, port, count)?;
    let result = out.lines().map_while(Result::ok).find_map(|l| {
        let rest = l.strip_prefix("RESULT ")?.to_owned();
        let (n, s) = rest.split_once(' ')?;
        Some((n.parse().ok()?, s.parse().ok()?))
    });
    let _ = child.wait();
    result.ok_or_else(|| Failure::runtime("the receiver process gave no result"))
}

// ---------------------------------------------------------------- latency

/// Runs a runtime's application loop until `stop`.
fn serve(osc: &Osc, stop: &AtomicBool) -> Result<(), Failure> {
    while !stop.load(Ordering::Acquire) {
        match osc.mode() {
            Mode::AllThreads => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                osc.process_timeout(Duration::from_millis(10))
                    .map_err(fail)?;
            }
        }
    }
    Ok(())
}

/// A runtime answering `/ping` with `/pong` sent to `127.0.0.1:peer_port`, until `stop`.
fn pong(
    mode: Mode,
    peer_port: u16,
    stop: &AtomicBool,
    ready: impl FnOnce(u16),
) -> Result<(), Failure> {
    let osc = Arc::new(Osc::builder().mode(mode).start().map_err(fail)?);
    osc.udp_server("pong-in", "127.0.0.1:0").map_err(fail)?;
    osc.udp_client("pong-out", ("127.0.0.1", peer_port))
        .map_err(fail)?;
    // The handler replies through the runtime; a weak reference avoids a cycle.
    let me: Arc<OnceLock<std::sync::Weak<Osc>>> = Arc::new(OnceLock::new());
    let m2 = Arc::clone(&me);
    osc.method("/ping", move |m: &Message| {
        if let Some(osc) = m2.get().and_then(std::sync::Weak::upgrade) {
            let mut reply = Message::new("/pong");
            reply.args = m.args.clone();
            let _ = osc.send(reply, "pong-out");
        }
    })
    .map_err(fail)?;
    let _ = me.set(Arc::downgrade(&osc));
    let port = osc
        .local_addr("pong-in")
        .map(|a| a.port())
        .ok_or_else(|| Failure::runtime("the pong has no address"))?;
    ready(port);
    serve(&osc, stop)?;
    osc.terminate().map_err(fail)
}

/// The ping side: a runtime whose server is already open; measures `rounds` round
/// trips to `pong_port`; returns (median, p99) in microseconds.
fn ping(osc: &Osc, pong_port: u16, rounds: usize) -> Result<(f64, f64), Failure> {
    osc.udp_client("ping-out", ("127.0.0.1", pong_port))
        .map_err(fail)?;
    let (tx, rx) = mpsc::channel::<()>();
    let tx = std::sync::Mutex::new(tx);
    osc.method("/pong", move |_m: &Message| {
        if let Ok(tx) = tx.lock() {
            let _ = tx.send(());
        }
    })
    .map_err(fail)?;
    let mut rtts = Vec::with_capacity(rounds);
    for r in 0..WARMUP + rounds {
        let t0 = Instant::now();
        osc.send(
            Message::new("/ping").arg(i32::try_from(r).unwrap_or(0)),
            "ping-out",
        )
        .map_err(fail)?;
        let deadline = t0 + Duration::from_secs(5);
        loop {
            let got = match osc.mode() {
                Mode::AllThreads => rx.recv_timeout(Duration::from_millis(100)).is_ok(),
                _ => {
                    osc.process_timeout(Duration::from_millis(100))
                        .map_err(fail)?;
                    rx.try_recv().is_ok()
                }
            };
            if got {
                break;
            }
            if Instant::now() >= deadline {
                return Err(Failure::runtime("no /pong within 5 s"));
            }
        }
        if r >= WARMUP {
            rtts.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        if r > 0 && r % 1000 == 0 {
            eprintln!("  {r} round trips");
        }
    }
    rtts.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((rtts.len().saturating_sub(1)) as f64 * q) as usize;
        rtts.get(i).copied().unwrap_or(f64::NAN)
    };
    Ok((at(0.5), at(0.99)))
}

fn ping_runtime(mode: Mode) -> Result<(Osc, u16), Failure> {
    let osc = Osc::builder().mode(mode).start().map_err(fail)?;
    osc.udp_server("ping-in", "127.0.0.1:0").map_err(fail)?;
    let port = osc
        .local_addr("ping-in")
        .map(|a| a.port())
        .ok_or_else(|| Failure::runtime("the ping has no address"))?;
    Ok((osc, port))
}

fn latency_one(mode: Mode, rounds: usize) -> Result<(f64, f64), Failure> {
    let (osc, ping_port) = ping_runtime(mode)?;
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    let (tx, rx) = mpsc::channel();
    let server = std::thread::spawn(move || {
        pong(mode, ping_port, &s, move |p| {
            let _ = tx.send(p);
        })
    });
    let result = match rx.recv() {
        Ok(pong_port) => ping(&osc, pong_port, rounds),
        Err(_) => Err(Failure::runtime("the pong did not start")),
    };
    stop.store(true, Ordering::Release);
    let _ = server.join();
    osc.terminate().map_err(fail)?;
    result
}

fn latency_two(mode: Mode, rounds: usize) -> Result<(f64, f64), Failure> {
    let (osc, ping_port) = ping_runtime(mode)?;
    let args = vec![
        "--role".to_owned(),
        "pong".to_owned(),
        "--mode".to_owned(),
        mode_name(mode).to_owned(),
        "--peer-port".to_owned(),
        ping_port.to_string(),
    ];
    let (mut child, _out, pong_port) = spawn_role(&args)?;
    let result = ping(&osc, pong_port, rounds);
    // Closing its standard input stops the pong.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.flush();
    }
    let _ = child.wait();
    osc.terminate().map_err(fail)?;
    result
}
