//! `udp-drain`: the receive cost per datagram with nothing else running.
//!
//! One thread fills a receiver's socket with `burst` datagrams, then drains it and
//! counts only the drain's CPU time (its own thread's CPU clock). The receivers take
//! turns, cycle after cycle, so a change in the machine's state touches all of them
//! alike. Without a sender process, scheduler or sleep in the measured span, this
//! separates the receive paths far more steadily than the two-process `udp` driver.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use osc_channel::{Reactor, ReactorConfig, UdpConfig};

use crate::measure::{median, message};

/// This thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID` through the
/// `cpu-time` crate; unlike `schedstat`, it counts up to the present instant).
fn thread_cpu_ns() -> u64 {
    let t = cpu_time::ThreadTime::try_now().map_or(Duration::ZERO, |t| t.as_duration());
    u64::try_from(t.as_nanos()).unwrap_or(u64::MAX)
}

/// A receiver under test: drains whatever its socket holds, returns the count.
enum Receiver {
    Plain(UdpSocket, Vec<u8>),
    Reactor(Box<Reactor>),
}

impl Receiver {
    fn open(mode: &str, batch: usize) -> (Receiver, SocketAddr) {
        let bind: SocketAddr = "127.0.0.1:0".parse().expect("address");
        if mode == "plain" {
            let (sock, _rcvbuf) = super::udp::plain_socket(bind, true);
            sock.set_nonblocking(true).expect("O_NONBLOCK");
            let addr = sock.local_addr().expect("addr");
            return (Receiver::Plain(sock, vec![0; 1 << 16]), addr);
        }
        let opts = ReactorConfig {
            batch_receive: if mode == "reactor" { 0 } else { batch },
            adaptive_receive: mode == "reactor-adaptive",
            ..ReactorConfig::default()
        };
        let mut r = Reactor::with_options(opts).expect("reactor");
        let id = r.open_udp("in", UdpConfig::server(bind)).expect("open");
        let addr = r.local_addr(id).expect("addr");
        (Receiver::Reactor(Box::new(r)), addr)
    }

    fn drain(&mut self) -> u64 {
        let mut n = 0u64;
        match self {
            Receiver::Plain(sock, buf) => {
                while let Ok((len, _peer)) = sock.recv_from(buf) {
                    n += u64::from(len > 0);
                }
            }
            Receiver::Reactor(r) => loop {
                let got = r
                    .poll(Some(Duration::ZERO), |p| {
                        n += u64::from(!p.data.is_empty());
                    })
                    .expect("poll");
                if got == 0 {
                    break;
                }
            },
        }
        n
    }
}

/// `udp-drain [BURST [CYCLES [BATCH]]]`: prints the median drain cost per datagram of
/// each receiver, and its ratio to the plain loop.
pub(crate) fn drive(burst: u32, cycles: usize, batch: usize) {
    let modes = super::udp::RECV_MODES
        .iter()
        .filter(|m| **m != "plain-defaultbuf");
    let mut receivers: Vec<(&str, Receiver, SocketAddr, Vec<f64>)> = modes
        .map(|m| {
            let (r, a) = Receiver::open(m, batch);
            (*m, r, a, Vec::new())
        })
        .collect();
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let packets: Vec<Vec<u8>> = (0..burst).map(message).collect();
    let mut lost = 0u64;
    for _ in 0..cycles {
        for (_, rx, addr, costs) in &mut receivers {
            for p in &packets {
                sender.send_to(p, *addr).expect("send");
            }
            let cpu0 = thread_cpu_ns();
            let got = rx.drain();
            let cpu = thread_cpu_ns().saturating_sub(cpu0);
            lost += u64::from(burst).saturating_sub(got);
            costs.push(cpu as f64 / got.max(1) as f64);
        }
    }
    println!(
        "UDP drain: {burst} datagrams of 40 bytes queued on 127.0.0.1, then read; median of {cycles} cycles, batch_receive = {batch}, datagrams lost: {lost}\n"
    );
    println!("| receiver | CPU per datagram | ratio to plain |");
    println!("|---|---|---|");
    let plain = receivers.first().map_or(f64::NAN, |r| median(r.3.clone()));
    for (mode, _, _, costs) in &receivers {
        let cost = median(costs.clone());
        println!("| {mode} | {cost:.0} ns | {:.2}x |", cost / plain);
    }
}
