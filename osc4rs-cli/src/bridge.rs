//! `osc4rs bridge`: relays every packet between endpoints, in every direction (a
//! browser page on a WebSocket talks to a synth on UDP, like osc.js's relay).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use osc_channel::{ChannelId, ChannelSpec, Endpoint, Reactor};
use osc_pattern::Filter;

use crate::Failure;

/// Arguments of `osc4rs bridge`.
#[derive(Debug, Args)]
pub(crate) struct BridgeArgs {
    /// Two or more endpoint URLs. `listen:URL` listens there (a WebSocket or TCP server,
    /// a UDP port whose senders get the other endpoints' packets); a plain `URL`
    /// connects or sends there. For example `listen:ws://127.0.0.1:8080/` and
    /// `osc.udp://127.0.0.1:57120`.
    #[arg(required = true, num_args = 2..)]
    endpoints: Vec<String>,
    /// Relay only packets with a message whose address this OSC pattern matches.
    #[arg(long)]
    filter: Option<String>,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Print the counts every this many seconds (they are printed on exit and on
    /// SIGUSR1 too).
    #[arg(long)]
    status_every: Option<f64>,
}

/// Most senders a listening UDP endpoint remembers to relay to.
const UDP_PEERS: usize = 64;

struct Side {
    label: String,
    id: ChannelId,
    /// A listening UDP endpoint: the senders heard from, newest last.
    udp_peers: Option<VecDeque<SocketAddr>>,
}

fn open(reactor: &mut Reactor, n: usize, arg: &str) -> Result<Side, Failure> {
    let (listen, url) = match arg.strip_prefix("listen:") {
        Some(url) => (true, url),
        None => (false, arg),
    };
    let endpoint: Endpoint = url
        .parse()
        .map_err(|e| Failure::input(format!("bad endpoint {arg:?}: {e}")))?;
    let spec = if listen {
        endpoint.server_spec()?
    } else {
        endpoint.client_spec()?
    };
    let (spec, udp_server) = match spec {
        // A UDP destination reads too, so that its answers come back.
        ChannelSpec::Udp(mut c) if !listen => {
            c.read = true;
            (ChannelSpec::Udp(c), false)
        }
        ChannelSpec::Udp(c) => (ChannelSpec::Udp(c), true),
        other => (other, false),
    };
    let id = reactor.open(&format!("e{n}"), spec)?;
    Ok(Side {
        label: arg.to_owned(),
        id,
        udp_peers: udp_server.then(VecDeque::new),
    })
}

/// Which endpoint a channel belongs to (`eN`, or `eN/PEER` for a connection).
fn side_of(name: &str) -> Option<usize> {
    name.strip_prefix('e')?.split('/').next()?.parse().ok()
}

fn selected(filter: Option<&Filter>, data: &[u8]) -> bool {
    fn any(f: &Filter, p: &osc_codec::PacketRef<'_>) -> bool {
        match p {
            osc_codec::PacketRef::Message(m) => f.matches(m.address()),
            osc_codec::PacketRef::Bundle(b) => b.elements().any(|e| any(f, &e)),
        }
    }
    filter.is_none_or(|f| osc_codec::decode(data).is_ok_and(|p| any(f, &p)))
}

fn report(sides: &[Side], relayed: &[Vec<u64>], dropped: &[Vec<u64>]) {
    let count =
        |m: &[Vec<u64>], i: usize, j: usize| m.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
    for (i, from) in sides.iter().enumerate() {
        for (j, to) in sides.iter().enumerate() {
            if i != j {
                eprintln!(
                    "osc4rs bridge: {} -> {}: {} relayed, {} dropped",
                    from.label,
                    to.label,
                    count(relayed, i, j),
                    count(dropped, i, j)
                );
            }
        }
    }
}

pub(crate) fn run(a: BridgeArgs) -> Result<ExitCode, Failure> {
    let filter = a
        .filter
        .as_deref()
        .map(Filter::osc)
        .transpose()
        .map_err(|e| Failure::input(format!("bad --filter pattern: {e}")))?;
    let mut reactor = Reactor::new()?;
    let mut sides = Vec::new();
    for (n, arg) in a.endpoints.iter().enumerate() {
        sides.push(open(&mut reactor, n, arg)?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let status = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| Failure::runtime(format!("cannot handle signals: {e}")))?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&status))
        .map_err(|e| Failure::runtime(format!("cannot handle signals: {e}")))?;
    eprintln!("osc4rs bridge: relaying between {}", a.endpoints.join(", "));
    let n = sides.len();
    let mut relayed = vec![vec![0u64; n]; n];
    let mut dropped = vec![vec![0u64; n]; n];
    let deadline = match a.timeout {
        Some(s) => crate::deadline_after(crate::seconds("--timeout", s)?),
        None => None,
    };
    let every = match a.status_every {
        Some(s) => Some(crate::seconds("--status-every", s)?.max(Duration::from_millis(10))),
        None => None,
    };
    let mut next_status = every.and_then(crate::deadline_after);
    let mut inbox: Vec<(usize, Option<SocketAddr>, Vec<u8>)> = Vec::new();
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
        reactor.poll(Some(Duration::from_millis(50)), |p| {
            if let Some(i) = side_of(p.name) {
                inbox.push((i, p.peer, p.data.to_vec()));
            }
        })?;
        for (from, peer, data) in inbox.drain(..) {
            if let (Some(peers), Some(peer)) =
                (sides.get_mut(from).and_then(|s| s.udp_peers.as_mut()), peer)
            {
                if !peers.contains(&peer) {
                    if peers.len() == UDP_PEERS {
                        peers.pop_front();
                    }
                    peers.push_back(peer);
                }
            }
            if !selected(filter.as_ref(), &data) {
                continue;
            }
            let data: Arc<[u8]> = Arc::from(data);
            for (to, side) in sides.iter().enumerate() {
                if to == from {
                    continue;
                }
                let results: Vec<bool> = match &side.udp_peers {
                    Some(peers) => peers
                        .iter()
                        .map(|p| reactor.send(side.id, Arc::clone(&data), Some(*p)).is_ok())
                        .collect(),
                    None => vec![reactor.send(side.id, Arc::clone(&data), None).is_ok()],
                };
                for ok in results {
                    if let (Some(r), Some(d)) = (
                        relayed.get_mut(from).and_then(|r| r.get_mut(to)),
                        dropped.get_mut(from).and_then(|r| r.get_mut(to)),
                    ) {
                        if ok {
                            *r += 1;
                        } else {
                            *d += 1;
                        }
                    }
                }
            }
        }
        let due = next_status.is_some_and(|t| Instant::now() >= t);
        if status.swap(false, Ordering::Relaxed) || due {
            report(&sides, &relayed, &dropped);
            next_status = every.and_then(crate::deadline_after);
        }
    }
    let _ = reactor.flush(Duration::from_secs(2), |_| {});
    report(&sides, &relayed, &dropped);
    Ok(ExitCode::SUCCESS)
}
