//! TCP receiver (a reactor TCP server) and sender processes, and their driver.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use osc_channel::{Reactor, StreamFraming, TcpServerConfig};

use crate::measure::{Cpu, median, message, nanos, report};
use crate::udp::{FIRST_WAIT, run_pair};

/// The framings measured.
pub(crate) const FRAMINGS: [&str; 2] = ["length", "slip"];

fn framing(name: &str) -> StreamFraming {
    match name {
        "length" => StreamFraming::LengthPrefix,
        "slip" => StreamFraming::Slip,
        other => panic!("unknown framing {other}"),
    }
}

/// `tcp-recv FRAMING COUNT`: a reactor TCP server that receives COUNT packets on one
/// connection, then prints a RESULT line.
pub(crate) fn recv(name: &str, count: u64, idle: Duration) {
    let mut cfg = TcpServerConfig::new("127.0.0.1:0".parse().expect("address"));
    cfg.framing = framing(name);
    let mut r = Reactor::new().expect("reactor");
    let id = r.open_tcp_server("in", cfg).expect("listen");
    let port = r.local_addr(id).expect("addr").port();
    println!("READY {port}");
    let (mut received, mut bytes) = (0u64, 0u64);
    let mut first = None;
    let cpu0 = Cpu::now();
    let mut quiet_since = Instant::now();
    while received < count {
        let n = r
            .poll(Some(idle), |p| {
                if received == 0 {
                    first = Some(Instant::now());
                }
                received += 1;
                bytes += p.data.len() as u64;
            })
            .expect("poll");
        if n > 0 {
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= if received == 0 { FIRST_WAIT } else { idle } {
            break;
        }
    }
    let cpu = Cpu::now().since(cpu0);
    let wall = first.map_or(0, |f| nanos(f.elapsed()));
    report(&[
        ("framing", name.to_owned()),
        ("received", received.to_string()),
        ("lost", count.saturating_sub(received).to_string()),
        ("bytes", bytes.to_string()),
        ("wall_ns", wall.to_string()),
        ("cpu_ns", cpu.ns.to_string()),
        ("user_ticks", cpu.user_ticks.to_string()),
        ("sys_ticks", cpu.sys_ticks.to_string()),
    ]);
}

/// `tcp-send FRAMING PORT COUNT`: writes COUNT framed 40-byte messages over one
/// connection, as fast as the socket takes them.
pub(crate) fn send(name: &str, port: u16, count: u64) {
    let count = u32::try_from(count).expect("count fits u32");
    let mut stream = Vec::with_capacity(count as usize * 48);
    for i in 0..count {
        let m = message(i);
        match framing(name) {
            StreamFraming::Slip => osc_codec::framing::slip_encode(&m, &mut stream),
            _ => {
                let prefix = osc_codec::framing::length_prefix(m.len()).expect("small");
                stream.extend_from_slice(&prefix);
                stream.extend_from_slice(&m);
            }
        }
    }
    let mut conn = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let cpu0 = Cpu::now();
    let start = Instant::now();
    for chunk in stream.chunks(64 << 10) {
        conn.write_all(chunk).expect("write");
    }
    conn.flush().expect("flush");
    let wall = start.elapsed();
    let cpu = Cpu::now().since(cpu0);
    report(&[
        ("framing", name.to_owned()),
        ("sent", count.to_string()),
        ("stream_bytes", stream.len().to_string()),
        ("wall_ns", nanos(wall).to_string()),
        ("cpu_ns", cpu.ns.to_string()),
    ]);
    // Keep the connection open until the receiver has everything (it closes first).
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut sink = [0u8; 16];
    let _ = std::io::Read::read(&mut conn, &mut sink);
}

fn num(m: &std::collections::BTreeMap<String, String>, k: &str) -> f64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// `tcp [COUNT] [RUNS]`: both framings, RUNS times interleaved; prints a Markdown table.
pub(crate) fn drive(count: u64, runs: usize) {
    let mut results = vec![Vec::new(); FRAMINGS.len()];
    for run in 0..runs {
        for (fi, f) in FRAMINGS.iter().enumerate() {
            let recv_args = vec![
                "tcp-recv".to_owned(),
                (*f).to_owned(),
                count.to_string(),
                "1000".to_owned(),
            ];
            let (r, _s) = run_pair(&recv_args, |port| {
                vec![
                    "tcp-send".to_owned(),
                    (*f).to_owned(),
                    port.to_string(),
                    count.to_string(),
                ]
            });
            eprintln!(
                "run {run}: framing {f:6} received {:>8} cpu/msg {:>6.0} ns",
                num(&r, "received"),
                num(&r, "cpu_ns") / num(&r, "received").max(1.0)
            );
            if let Some(cell) = results.get_mut(fi) {
                cell.push(r);
            }
        }
    }
    println!(
        "TCP, {count} packets of 40 bytes over one connection on 127.0.0.1 to a reactor TCP server, median of {runs} runs:\n"
    );
    println!("| framing | received | packets/s | MB/s (payload) | receiver CPU per message |");
    println!("|---|---|---|---|---|");
    for (fi, f) in FRAMINGS.iter().enumerate() {
        let Some(cell) = results.get(fi) else {
            continue;
        };
        let received = median(cell.iter().map(|r| num(r, "received")).collect());
        let pps = median(
            cell.iter()
                .map(|r| num(r, "received") / (num(r, "wall_ns") / 1e9))
                .collect(),
        );
        let mbs = median(
            cell.iter()
                .map(|r| num(r, "bytes") / (num(r, "wall_ns") / 1e9) / 1e6)
                .collect(),
        );
        let cpu = median(
            cell.iter()
                .map(|r| num(r, "cpu_ns") / num(r, "received").max(1.0))
                .collect(),
        );
        println!("| {f} | {received:.0} | {pps:.0} | {mbs:.1} | {cpu:.0} ns |");
    }
}
