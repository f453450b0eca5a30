//! The drivers: run the bench processes side by side, interleaved, and print tables.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::measure::{Fields, median, num, parse_result};
use crate::recv::{KINDS, osc4py3_command, osc4py3_python};

pub(crate) fn own(args: &[String]) -> Command {
    let mut c = Command::new(std::env::current_exe().expect("own path"));
    c.args(args);
    c
}

pub(crate) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// Spawns a process that prints `READY PORT` first; returns it, its output and the port.
fn spawn_ready(mut cmd: Command) -> (Child, BufReader<ChildStdout>, u16) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("READY line");
    let port = line
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("expected READY PORT, got {line:?}"));
    (child, out, port)
}

/// Reads lines until the process's RESULT line.
fn result_of(out: BufReader<ChildStdout>) -> Fields {
    out.lines()
        .map_while(Result::ok)
        .find_map(|l| parse_result(&l))
        .expect("a RESULT line")
}

/// Ratio of the `k`-th run of a row to the `k`-th run of the reference row, median.
pub(crate) fn paired_ratio(
    row: &[Fields],
    reference: &[Fields],
    f: impl Fn(&Fields) -> f64,
) -> f64 {
    median(
        row.iter()
            .zip(reference)
            .map(|(a, b)| f(a) / f(b))
            .collect(),
    )
}

/// Receiver CPU per message (ns).
fn cpu_per_msg(r: &Fields) -> f64 {
    num(r, "cpu_ns") / num(r, "received").max(1.0)
}

/// The CPU target (ratio to the baseline) of a receiver kind.
fn cpu_target(kind: &str) -> Option<f64> {
    match kind {
        "eventloop" => Some(1.3),
        "comthreads" => Some(1.5),
        "allthreads" => Some(2.0),
        // Issue #22's targets, for the receive path of borrowed handlers.
        "eventloop+view" => Some(1.1),
        "comthreads+view" => Some(1.2),
        "allthreads+view" => Some(1.4),
        _ => None,
    }
}

/// `throughput COUNT RUNS [KINDS]`: every receiver kind (or the comma-separated
/// `only`, the baseline first) against the same plain sender, RUNS times interleaved.
pub(crate) fn throughput(count: u64, runs: usize, only: &str) {
    let py = osc4py3_python();
    let mut kinds: Vec<&str> = if only.is_empty() {
        KINDS.to_vec()
    } else {
        only.split(',').collect()
    };
    // liblo's receiver: a C program that scripts/bench-facade.sh builds with liblo-dev.
    let liblo = std::env::var_os("OSC4RS_LIBLO_RECV")
        .map(std::path::PathBuf::from)
        .filter(|p| p.exists());
    if !only.is_empty() {
        // Only what was asked for.
    } else {
        if py.is_some() {
            kinds.push("osc4py3");
        } else {
            eprintln!("osc4py3 is not installed in .venv (scripts/install-peers.sh): skipped");
        }
        if liblo.is_some() {
            kinds.push("liblo");
        } else {
            eprintln!(
                "no liblo receiver (OSC4RS_LIBLO_RECV; scripts/bench-facade.sh builds it): skipped"
            );
        }
    }
    let mut results: Vec<Vec<(Fields, Fields)>> = vec![Vec::new(); kinds.len()];
    for run in 0..runs {
        for (i, kind) in kinds.iter().enumerate() {
            let cmd = match (*kind, &py, &liblo) {
                ("osc4py3", Some(py), _) => osc4py3_command(py, count, 1000),
                ("liblo", _, Some(bin)) => {
                    let mut c = Command::new(bin);
                    c.args([count.to_string(), "1000".to_owned()]);
                    c
                }
                _ => own(&strings(&["recv", kind, &count.to_string(), "1000"])),
            };
            let (mut rx, out, port) = spawn_ready(cmd);
            let sent = own(&strings(&[
                "send",
                &port.to_string(),
                &count.to_string(),
                "0",
            ]))
            .output()
            .expect("run the sender");
            let s = String::from_utf8_lossy(&sent.stdout)
                .lines()
                .find_map(parse_result)
                .expect("sender RESULT");
            let r = result_of(out);
            let _ = rx.wait();
            eprintln!(
                "run {run}: {kind:10} received {:>6} of {count}, {:>6.0} ns CPU/msg, sender {:.0} msg/s",
                num(&r, "received"),
                cpu_per_msg(&r),
                num(&s, "sent") / (num(&s, "wall_ns") / 1e9)
            );
            if let Some(cell) = results.get_mut(i) {
                cell.push((r, s));
            }
        }
    }
    println!(
        "{count} messages `/test/here/<i> ,si \"message\" i` over UDP on 127.0.0.1 from a plain \
         sender as fast as it can; receiver and sender are separate processes; median of {runs} runs:\n"
    );
    println!(
        "| receiver | sender rate (msg/s) | received | lost (worst run) | receiver msg/s | receiver CPU per message | ratio to baseline | target | met |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let base: Vec<Fields> = results
        .first()
        .map(|c| c.iter().map(|(r, _)| r.clone()).collect())
        .unwrap_or_default();
    for (kind, cell) in kinds.iter().zip(&results) {
        let rs: Vec<Fields> = cell.iter().map(|(r, _)| r.clone()).collect();
        let received = median(rs.iter().map(|r| num(r, "received")).collect());
        let lost = rs.iter().map(|r| num(r, "lost")).fold(0.0, f64::max);
        let rate = median(
            rs.iter()
                .map(|r| num(r, "received") / (num(r, "wall_ns") / 1e9))
                .collect(),
        );
        let srate = median(
            cell.iter()
                .map(|(_, s)| num(s, "sent") / (num(s, "wall_ns") / 1e9))
                .collect(),
        );
        let cpu = median(rs.iter().map(cpu_per_msg).collect());
        let ratio = paired_ratio(&rs, &base, cpu_per_msg);
        let (target, met) = match cpu_target(kind) {
            Some(t) => (
                format!("≤ {t}x, no loss"),
                if ratio <= t && lost == 0.0 {
                    "yes"
                } else {
                    "no"
                },
            ),
            None => ("".to_owned(), ""),
        };
        println!(
            "| {kind} | {srate:.0} | {received:.0} | {lost:.0} | {rate:.0} | {cpu:.0} ns | {ratio:.2}x | {target} | {met} |"
        );
    }
    // Borrowed against owned handlers of the same receiver, paired per run.
    let rows = |kind: &str| -> Option<Vec<Fields>> {
        let i = kinds.iter().position(|k| *k == kind)?;
        Some(results.get(i)?.iter().map(|(r, _)| r.clone()).collect())
    };
    // The facade against liblo's C receiver, paired per run (#22: at most 0.6x).
    if let Some(lo) = rows("liblo") {
        println!("\n| receiver | CPU per message against liblo's (paired runs, median) | target |");
        println!("|---|---|---|");
        for kind in [
            "eventloop",
            "eventloop+view",
            "comthreads",
            "comthreads+view",
        ] {
            if let Some(r) = rows(kind) {
                let target = if kind.starts_with("eventloop") {
                    "≤ 0.6x"
                } else {
                    ""
                };
                println!(
                    "| {kind} | {:.2}x | {target} |",
                    paired_ratio(&r, &lo, cpu_per_msg)
                );
            }
        }
    }
    // The facade against the plain epoll loop (the floor of a receiver that watches
    // more than one source), owned against owned and borrowed against borrowed.
    if let (Some(ep), Some(ep_view)) = (rows("epoll"), rows("epoll+view")) {
        println!(
            "\n| receiver | CPU per message against the plain epoll loop (paired runs, median) |"
        );
        println!("|---|---|");
        for kind in [
            "eventloop",
            "eventloop+view",
            "comthreads",
            "comthreads+view",
            "allthreads",
        ] {
            if let Some(r) = rows(kind) {
                let floor = if kind.ends_with("+view") {
                    &ep_view
                } else {
                    &ep
                };
                println!("| {kind} | {:.2}x |", paired_ratio(&r, floor, cpu_per_msg));
            }
        }
    }
    let pairs: Vec<(&str, Vec<Fields>, Vec<Fields>)> = kinds
        .iter()
        .filter_map(|k| {
            let owned = k.strip_suffix("+view")?;
            Some((*k, rows(k)?, rows(owned)?))
        })
        .collect();
    if !pairs.is_empty() {
        println!(
            "\n| borrowed handler | CPU per message against the owned handler (paired runs, median) |"
        );
        println!("|---|---|");
        for (kind, view, owned) in pairs {
            let ratio = paired_ratio(&view, &owned, cpu_per_msg);
            println!("| {kind} | {ratio:.2}x |");
        }
    }
}

/// `idle-all SECS RUNS`: the CPU share of an idle runtime in each mode.
pub(crate) fn idle(secs: f64, runs: usize) {
    let modes = ["eventloop", "comthreads", "allthreads"];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for run in 0..runs {
        for (i, kind) in modes.iter().enumerate() {
            let out = own(&strings(&["idle", kind, &secs.to_string()]))
                .output()
                .expect("run the idle probe");
            let r = String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(parse_result)
                .expect("idle RESULT");
            let share = num(&r, "cpu_ns") / num(&r, "wall_ns") * 100.0;
            eprintln!("run {run}: {kind:10} idle CPU {share:.3}% of a core");
            if let Some(v) = results.get_mut(i) {
                v.push(share);
            }
        }
    }
    println!(
        "Idle runtime (a UDP server channel open, a method registered, nothing arriving) for {secs} s; median and worst of {runs} runs:\n"
    );
    println!("| mode | CPU (% of one core), median | worst | target | met |");
    println!("|---|---|---|---|---|");
    for (kind, v) in modes.iter().zip(results) {
        let worst = v.iter().copied().fold(0.0, f64::max);
        println!(
            "| {kind} | {:.3}% | {worst:.3}% | < 1% | {} |",
            median(v),
            if worst < 1.0 { "yes" } else { "no" }
        );
    }
}

/// `sending COUNT RUNS`: the sender's side. Each kind sends COUNT bench messages
/// (`send-as`) to a socket this process drains; the table gives the sending
/// process's CPU per message against a plain encode-and-`send_to` loop.
pub(crate) fn sending(count: u64, runs: usize) {
    let sink = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind the sink");
    let port = sink.local_addr().expect("sink address").port();
    sink.set_read_timeout(Some(std::time::Duration::from_millis(200)))
        .expect("timeout");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let drain = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = sink.recv(&mut buf);
            }
        })
    };
    let kinds = ["baseline", "eventloop", "comthreads", "allthreads"];
    let mut results: Vec<Vec<Fields>> = vec![Vec::new(); kinds.len()];
    for run in 0..runs {
        for (i, kind) in kinds.iter().enumerate() {
            let out = own(&strings(&[
                "send-as",
                kind,
                &port.to_string(),
                &count.to_string(),
            ]))
            .output()
            .expect("run the sender");
            let r = String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(parse_result)
                .expect("sender RESULT");
            eprintln!(
                "run {run}: {kind:10} {:>6.0} ns CPU/msg, {:.0} msg/s",
                num(&r, "cpu_ns") / num(&r, "sent").max(1.0),
                num(&r, "sent") / (num(&r, "wall_ns") / 1e9)
            );
            if let Some(cell) = results.get_mut(i) {
                cell.push(r);
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = drain.join();
    println!(
        "{count} messages `/test/here/<i> ,si \"message\" i` sent over UDP to 127.0.0.1 as fast as \
         the sender goes (message built, encoded and written; the facade's `terminate` \
         included); median of {runs} runs:\n"
    );
    println!("| sender | msg/s | CPU per message | ratio to baseline |");
    println!("|---|---|---|---|");
    let per_msg = |r: &Fields| num(r, "cpu_ns") / num(r, "sent").max(1.0);
    let base = results.first().cloned().unwrap_or_default();
    for (kind, cell) in kinds.iter().zip(&results) {
        let rate = median(
            cell.iter()
                .map(|r| num(r, "sent") / (num(r, "wall_ns") / 1e9))
                .collect(),
        );
        let cpu = median(cell.iter().map(per_msg).collect());
        println!(
            "| {kind} | {rate:.0} | {cpu:.0} ns | {:.2}x |",
            paired_ratio(cell, &base, per_msg)
        );
    }
}

/// Round trips a latency pair makes before the next pair's turn.
const LATENCY_BLOCK: usize = 100;

/// A ping process and its pong, both running, the ping waiting for commands. Both are
/// [`Stopped`] when the pair is dropped, so a run that panics (a ping that got no
/// reply, or ended early) leaves no process behind.
struct Pair {
    ping: Stopped,
    ping_out: BufReader<ChildStdout>,
    _pong: Stopped,
    /// Kept open so that the pong never writes into a closed pipe.
    _pong_out: BufReader<ChildStdout>,
}

/// A child process that is killed and reaped when dropped (if it has not ended
/// already).
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `own(args)`, pinned to `cpu` with `taskset` when one is given.
fn own_on(cpu: Option<usize>, args: &[String]) -> Command {
    let Some(cpu) = cpu else { return own(args) };
    let mut c = Command::new("taskset");
    c.arg("-c")
        .arg(cpu.to_string())
        .arg(std::env::current_exe().expect("own path"))
        .args(args);
    c
}

fn start_pair(kind: &str, placement: &str) -> Pair {
    start_ends(kind, kind, placement)
}

/// A pair whose ends are of two kinds (`ping KIND` and `pong KIND2`).
fn start_ends(ping_kind: &str, pong_kind: &str, placement: &str) -> Pair {
    let (ping_cpu, pong_cpu) = match placement {
        "split" => (Some(0), Some(1)),
        "same" => (Some(0), Some(0)),
        _ => (None, None),
    };
    let (mut ping, ping_out, ping_port) =
        spawn_ready(own_on(ping_cpu, &strings(&["ping", ping_kind])));
    let (pong, pong_out, pong_port) = spawn_ready(own_on(
        pong_cpu,
        &strings(&["pong", pong_kind, &ping_port.to_string()]),
    ));
    if let Some(stdin) = ping.stdin.as_mut() {
        writeln!(stdin, "{pong_port}").expect("tell ping the pong's port");
    }
    Pair {
        ping: Stopped(ping),
        ping_out,
        _pong: Stopped(pong),
        _pong_out: pong_out,
    }
}

impl Pair {
    /// Makes `n` measured round trips and waits until they are done.
    fn go(&mut self, n: usize) {
        if let Some(stdin) = self.ping.0.stdin.as_mut() {
            writeln!(stdin, "go {n}").expect("send go");
        }
        let mut line = String::new();
        while line.trim() != "DONE" {
            line.clear();
            if self.ping_out.read_line(&mut line).expect("ping output") == 0 {
                panic!("ping ended before DONE");
            }
        }
    }

    /// Ends the ping (its RESULT) and stops the pong (which answers until it is
    /// stopped), as dropping the pair does.
    fn end(mut self) -> Fields {
        drop(self.ping.0.stdin.take());
        let r = result_of(self.ping_out);
        let _ = self.ping.0.wait();
        r
    }
}

/// Gives `blocks` blocks of [`LATENCY_BLOCK`] round trips to every pair in turn, block
/// `b` starting one pair further along, so a change in the machine's state during the
/// run touches every pair alike.
fn take_turns(pairs: &mut [Pair], blocks: usize) {
    let n = pairs.len();
    for b in 0..blocks {
        for k in 0..n {
            if let Some(pair) = pairs.get_mut((b + k) % n) {
                pair.go(LATENCY_BLOCK);
            }
        }
    }
}

/// `latency ROUNDS RUNS [split|same]`: ping-pong round trips, plain against each
/// mode, all pairs running at once and taking turns in blocks.
///
/// With `split`, every ping runs on CPU 0 and every pong on CPU 1 (`taskset`), so
/// each hop wakes an idle CPU, as between two machines. With `same`, both ends of
/// every pair run on CPU 0: a hop is a context switch, and the ends' own CPU time
/// decides the round trip. Without either the scheduler places them (on 2 cores it
/// mostly puts each pair on one CPU).
///
/// Besides the blocking plain pair (`plain`, a blocking `recv_from`), `plain+epoll`
/// waits in `epoll_wait` and then reads without blocking: the floor of any receiver
/// that watches more than one source, which the facade is.
pub(crate) fn latency(rounds: usize, runs: usize, placement: &str) {
    let all = [
        "plain",
        "plain+epoll",
        "eventloop",
        "comthreads",
        "allthreads",
        "plain+busy",
        "eventloop+busy",
        "comthreads+busy",
        "allthreads+busy",
        "allthreads+wait",
    ];
    // Busy polling on one CPU only keeps the peer from running, and the scheduler
    // often puts both ends on one CPU (each round trip then waits out the spin: about
    // 105 µs, plain or not): busy rows only with each end on its own CPU.
    let rows: Vec<&str> = all
        .into_iter()
        .filter(|k| placement == "split" || !k.ends_with("+busy"))
        .collect();
    let mut results: Vec<Vec<Fields>> = vec![Vec::new(); rows.len()];
    let blocks = rounds.div_ceil(LATENCY_BLOCK).max(1);
    for run in 0..runs {
        let mut pairs: Vec<_> = rows
            .iter()
            .map(|kind| start_pair(kind, placement))
            .collect();
        take_turns(&mut pairs, blocks);
        for ((kind, pair), v) in rows.iter().zip(pairs).zip(results.iter_mut()) {
            let r = pair.end();
            eprintln!(
                "run {run}: {kind:15} median {:>6.1} µs, p99 {:>6.1} µs",
                num(&r, "median_ns") / 1e3,
                num(&r, "p99_ns") / 1e3
            );
            v.push(r);
        }
    }
    let rounds = blocks * LATENCY_BLOCK;
    println!(
        "Round trip of one message `/ping ,i` answered by `/pong ,i` between two processes on 127.0.0.1 (both ends plain sockets, or both the facade in the same mode), from building the `/ping` (message built, encoded, written) to the end of the reply's receive and decode (plain) or the start of the `/pong` handler, which builds and sends the next ping (facade; `allthreads+wait`: the application thread waits for each reply instead); `+busy`: both ends busy-poll 50 µs before blocking; {rounds} round trips per kind after 100 warm-up ones, in blocks of {LATENCY_BLOCK} that the kinds take in turn; medians over {runs} runs{}:\n",
        match placement {
            "split" => ", pings on CPU 0 and pongs on CPU 1",
            "same" => ", both ends on CPU 0",
            _ => ", placed by the scheduler",
        }
    );
    // Issue 22's targets for the blocking modes, by placement.
    let line = match placement {
        "split" => 1.1,
        "same" => 1.15,
        _ => 1.2,
    };
    println!(
        "| ends | median RTT | p99 RTT | against | median ratio | p99 ratio | median against `plain+epoll` | target (median) | met |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let med = |r: &Fields| num(r, "median_ns");
    let p99 = |r: &Fields| num(r, "p99_ns");
    let results_of = |kind: &str| {
        rows.iter()
            .position(|k| *k == kind)
            .and_then(|i| results.get(i))
            .cloned()
            .unwrap_or_default()
    };
    for (kind, rs) in rows.iter().zip(&results) {
        // Busy polling is compared with the plain busy-polling pair (the limit), the rest
        // with the plain blocking pair. Only the blocking modes have a line (≤ 1.2x);
        // busy polling should come "close to the limit" (printed after the table).
        let against = if kind.ends_with("+busy") && *kind != "plain+busy" {
            "plain+busy"
        } else {
            "plain"
        };
        let reference = results_of(against);
        let ratio = paired_ratio(rs, &reference, med);
        let busy = kind.ends_with("+busy");
        let (target, met) = if kind.starts_with("plain") || kind.ends_with("+wait") {
            (String::new(), "")
        } else {
            let line = if busy { 1.2 } else { line };
            (
                format!("≤ {line}x"),
                if ratio <= line { "yes" } else { "no" },
            )
        };
        let floor = if busy || kind.starts_with("plain") {
            String::new()
        } else {
            format!("{:.2}x", paired_ratio(rs, &results_of("plain+epoll"), med))
        };
        println!(
            "| {kind} | {:.1} µs | {:.1} µs | {against} | {ratio:.2}x | {:.2}x | {floor} | {target} | {met} |",
            median(rs.iter().map(med).collect()) / 1e3,
            median(rs.iter().map(p99).collect()) / 1e3,
            paired_ratio(rs, &reference, p99),
        );
    }
    if rows.iter().any(|k| k.ends_with("+busy")) {
        println!(
            "\n`MODE+busy` should bring the round trip close to the busy-polling limit, which \
             `plain+busy` measures (a plain pair spinning in non-blocking `recv_from` for 50 µs \
             before it blocks)."
        );
    }
}

/// The pongs of `latency-layers`: each answers a plain ping; together they split the
/// facade pong's extra time into the layers it is built of.
const LAYER_PONGS: [(&str, &str); 5] = [
    (
        "plain",
        "a blocking `recv_from`, decode, reply with `send_to`",
    ),
    (
        "plain+epoll",
        "the same, waiting in `epoll_wait` then reading",
    ),
    (
        "reactor",
        "osc-channel's reactor as the event loop sets it up, answering from its callback",
    ),
    (
        "dispatch",
        "the plain blocking socket, each ping dispatched by osc-dispatch to a taking handler",
    ),
    (
        "eventloop",
        "the facade in eventloop mode (reactor, receive batch, dispatch, send by name)",
    ),
];

/// `latency-layers ROUNDS RUNS`: a plain ping against each pong of [`LAYER_PONGS`],
/// both ends on CPU 0, the pairs taking turns in blocks as in `latency`. What a pong
/// adds to the plain pong's round trip is its own extra CPU time per hop: the table
/// gives each as a share of what the facade's pong adds.
pub(crate) fn latency_layers(rounds: usize, runs: usize) {
    let mut results: Vec<Vec<Fields>> = vec![Vec::new(); LAYER_PONGS.len()];
    let blocks = rounds.div_ceil(LATENCY_BLOCK).max(1);
    for run in 0..runs {
        let mut pairs: Vec<_> = LAYER_PONGS
            .iter()
            .map(|(pong, _)| start_ends("plain", pong, "same"))
            .collect();
        take_turns(&mut pairs, blocks);
        for (((pong, _), pair), v) in LAYER_PONGS.iter().zip(pairs).zip(results.iter_mut()) {
            let r = pair.end();
            eprintln!(
                "run {run}: plain ping, {pong:11} pong: median {:>6.1} µs",
                num(&r, "median_ns") / 1e3
            );
            v.push(r);
        }
    }
    let med = |r: &Fields| num(r, "median_ns");
    // Per run, each pong's round trip less the plain pong's of the same run.
    let extra = |i: usize| -> Vec<f64> {
        let (Some(row), Some(plain)) = (results.get(i), results.first()) else {
            return Vec::new();
        };
        row.iter()
            .zip(plain)
            .map(|(a, b)| med(a) - med(b))
            .collect()
    };
    let facade = extra(LAYER_PONGS.len() - 1);
    println!(
        "Round trip of `/ping ,i` and `/pong ,i` between a plain ping and each kind of pong, both on CPU 0; {} round trips per pair and run after 100 warm-up ones, in blocks of {LATENCY_BLOCK} that the pairs take in turn; medians over {runs} runs. \"added\" is the pong's round trip less the plain pong's of the same run, \"share\" that as a part of what the eventloop pong adds.\n",
        blocks * LATENCY_BLOCK
    );
    println!("| pong | what it is | median RTT | added | share |");
    println!("|---|---|---|---|---|");
    for (i, ((pong, what), rs)) in LAYER_PONGS.iter().zip(&results).enumerate() {
        let added = extra(i);
        let share: Vec<f64> = added.iter().zip(&facade).map(|(a, f)| a / f).collect();
        println!(
            "| {pong} | {what} | {:.2} µs | {:.2} µs | {} |",
            median(rs.iter().map(med).collect()) / 1e3,
            median(added) / 1e3,
            if i == 0 {
                String::new()
            } else {
                format!("{:.0}%", median(share) * 100.0)
            }
        );
    }
}
