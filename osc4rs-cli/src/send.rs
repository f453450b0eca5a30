//! `osc4rs send`: send packets written in text notation.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use osc_channel::{
    ChannelEvent, ChannelId, EventHandler, Reactor, TcpClientConfig, UdpConfig, Verdict,
};

use crate::Failure;
use crate::convert::{address_hint, inputs, parse_line};
use crate::net::{Proto, address};

/// Arguments of `osc4rs send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// Transport: udp, tcp (OSC 1.0 length prefix) or slip (OSC 1.1).
    #[arg(long, value_enum, default_value = "udp")]
    proto: Proto,
    /// Destination host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Destination port.
    #[arg(long, required_unless_present_any = ["url", "service"])]
    port: Option<u16>,
    /// Where to send, as an endpoint URL instead of --proto/--host/--port:
    /// `osc.udp://HOST:PORT`, `osc.tcp://`, `osc.slip://`, `ws://HOST:PORT/PATH`,
    /// `osc.unix:///PATH`, `osc.unix+stream:///PATH`, `serial:///DEVICE?baud=115200`.
    #[arg(long, conflicts_with = "port")]
    url: Option<String>,
    /// Where to send, as the name of a service advertised on the local network
    /// (DNS-SD): its OSCQuery server's HOST_INFO, or its `_osc._udp`/`_osc._tcp`
    /// record, says the address and transport.
    #[arg(long, conflicts_with_all = ["url", "port", "broadcast"])]
    service: Option<String>,
    /// How long to look for --service on the local network, in seconds.
    #[arg(long, default_value_t = 3.0)]
    discover_wait: f64,
    /// Resolve the host to IPv6 only.
    #[arg(long)]
    ipv6: bool,
    /// Packets in text notation; without any, read them from --file or standard input,
    /// one per line.
    packets: Vec<String>,
    /// Read packets from this file, one per line.
    #[arg(long, conflicts_with = "packets")]
    file: Option<std::path::PathBuf>,
    /// Send everything this many times.
    #[arg(long, default_value_t = 1)]
    repeat: u64,
    /// At most this many packets per second.
    #[arg(long)]
    rate: Option<f64>,
    /// Then wait this many seconds and print what comes back to the sending socket;
    /// exit 1 if nothing came.
    #[arg(long)]
    wait_reply: Option<f64>,
    /// Allow sending to a broadcast address (UDP).
    #[arg(long)]
    broadcast: bool,
    /// TTL (multicast: hop limit) of the datagrams sent.
    #[arg(long)]
    ttl: Option<u32>,
}

fn read_packets(a: &SendArgs) -> Result<Vec<Arc<[u8]>>, Failure> {
    let lines = match &a.file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::runtime(format!("cannot read {}: {e}", path.display())))?
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l.to_owned()))
            .collect(),
        None => inputs(a.packets.clone())?,
    };
    lines
        .iter()
        .map(|(n, line)| {
            let p = parse_line(*n, line)?;
            let bytes = p
                .to_bytes()
                .map_err(|e| Failure::input(format!("line {n}: cannot encode: {e}")))?;
            Ok(Arc::from(bytes))
        })
        .collect()
}

/// What the connection did: connected yet, and the last error.
pub(crate) type Connection = Arc<Mutex<(bool, Option<String>)>>;

/// Records connection events so failures can be reported.
fn watcher() -> (EventHandler, Connection) {
    let state = Arc::new(Mutex::new((false, None)));
    let s = Arc::clone(&state);
    let handler: EventHandler = Arc::new(move |_name: &str, ev: &ChannelEvent<'_>| {
        if let Ok(mut st) = s.lock() {
            match ev {
                ChannelEvent::Connected(_) | ChannelEvent::UnixConnected(_) => st.0 = true,
                ChannelEvent::Error(e) => st.1 = Some((*e).to_owned()),
                _ => {}
            }
        }
        Verdict::Accept
    });
    (handler, state)
}

/// Opens the channel that sends to `dest`: a UDP peer (it also reads replies), or a
/// TCP client, connected before this returns.
pub(crate) fn open_sender(
    reactor: &mut Reactor,
    proto: Proto,
    dest: SocketAddr,
    broadcast: bool,
    ttl: Option<u32>,
) -> Result<(ChannelId, Connection), Failure> {
    let (events, state) = watcher();
    let id = match proto {
        Proto::Udp => {
            let any: SocketAddr = if dest.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            }
            .parse()
            .map_err(|_| Failure::runtime("internal: bad wildcard address"))?;
            let mut cfg = UdpConfig::peer(any, Some(dest));
            cfg.broadcast = broadcast;
            cfg.recv_buffer = None;
            if dest.ip().is_multicast() {
                let mut m = osc_channel::Multicast::group(dest.ip());
                m.ttl = ttl.unwrap_or(1);
                cfg.multicast = Some(m);
            } else {
                cfg.ttl = ttl;
            }
            reactor.open_udp("send", cfg)?
        }
        Proto::Tcp | Proto::Slip => {
            let mut cfg = TcpClientConfig::new(dest);
            cfg.framing = proto.framing();
            cfg.events = Some(events);
            let id = reactor.open_tcp_client("send", cfg)?;
            wait_connected(reactor, &state, &dest.to_string())?;
            id
        }
    };
    Ok((id, state))
}

/// Opens the channel that sends to an endpoint URL (`--url`); stream clients are
/// connected before this returns. Returns the channel and a label for messages.
pub(crate) fn open_url(reactor: &mut Reactor, url: &str) -> Result<(ChannelId, String), Failure> {
    let endpoint: osc_channel::Endpoint = url
        .parse()
        .map_err(|e| Failure::input(format!("bad --url: {e}")))?;
    let (events, state) = watcher();
    let spec = endpoint.client_spec()?.with_events(events);
    let stream = !matches!(
        spec,
        osc_channel::ChannelSpec::Udp(_) | osc_channel::ChannelSpec::UnixDatagram(_)
    );
    let id = reactor.open("send", spec)?;
    if stream {
        wait_connected(reactor, &state, url)?;
    }
    Ok((id, url.to_owned()))
}

/// Sends, then optionally prints replies.
pub(crate) fn run(a: SendArgs) -> Result<ExitCode, Failure> {
    let wait_reply = match a.wait_reply {
        Some(s) => Some((s, crate::seconds("--wait-reply", s)?)),
        None => None,
    };
    let packets = read_packets(&a)?;
    let mut reactor = Reactor::new()?;
    let url = match &a.service {
        Some(name) => {
            let wait = crate::seconds("--discover-wait", a.discover_wait)?;
            Some(crate::service::resolve(name, wait)?.url())
        }
        None => a.url.clone(),
    };
    let (id, state, dest) = match &url {
        Some(url) => {
            let (id, label) = open_url(&mut reactor, url)?;
            (id, None, label)
        }
        None => {
            let dest = address(&a.host, a.port.unwrap_or(0), a.ipv6)?;
            let (id, state) = open_sender(&mut reactor, a.proto, dest, a.broadcast, a.ttl)?;
            (id, Some(state), dest.to_string())
        }
    };
    let replies = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut printer = |p: osc_channel::Received<'_>| {
        let line = match osc_codec::decode(p.data) {
            Ok(packet) => packet.to_string(),
            Err(e) => format!("!error {} {e}", address_hint(p.data)),
        };
        println!("{line}");
        if let Ok(mut r) = replies.lock() {
            r.push(line);
        }
    };
    send_all(&mut reactor, id, &packets, &a, &mut printer)?;
    if !reactor.flush(Duration::from_secs(10), &mut printer)? {
        return Err(Failure::runtime("could not write everything within 10 s"));
    }
    if let Some((secs, wait)) = wait_reply {
        // `None`: wait for ever (`--wait-reply inf`).
        let until = crate::deadline_after(wait);
        while until.is_none_or(|u| Instant::now() < u) {
            reactor.poll(
                Some(until.map_or(Duration::from_secs(3600), |u| {
                    u.saturating_duration_since(Instant::now())
                })),
                &mut printer,
            )?;
        }
        if replies.lock().map(|r| r.is_empty()).unwrap_or(true) {
            eprintln!("osc4rs: no reply within {secs} s");
            return Ok(ExitCode::from(1));
        }
    }
    if let Some(Ok(st)) = state.as_ref().map(|s| s.lock()) {
        if let Some(e) = &st.1 {
            return Err(Failure::runtime(format!(
                "connection to {dest} failed: {e}"
            )));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn wait_connected(reactor: &mut Reactor, state: &Connection, dest: &str) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        reactor.poll(Some(Duration::from_millis(20)), |_| {})?;
        let (connected, error) = state
            .lock()
            .map(|s| (s.0, s.1.clone()))
            .unwrap_or((false, None));
        if connected {
            return Ok(());
        }
        if let Some(e) = error {
            return Err(Failure::runtime(format!("cannot connect to {dest}: {e}")));
        }
        if Instant::now() > deadline {
            return Err(Failure::runtime(format!(
                "cannot connect to {dest}: timed out"
            )));
        }
    }
}

fn send_all(
    reactor: &mut Reactor,
    id: ChannelId,
    packets: &[Arc<[u8]>],
    a: &SendArgs,
    printer: &mut impl FnMut(osc_channel::Received<'_>),
) -> Result<(), Failure> {
    let start = Instant::now();
    let mut sent: u64 = 0;
    for _ in 0..a.repeat {
        for p in packets {
            if let Some(rate) = a.rate.filter(|r| *r > 0.0) {
                // `None`: due beyond what an `Instant` holds (a rate so low that the
                // next packet never goes).
                let due = Duration::try_from_secs_f64(sent as f64 / rate)
                    .ok()
                    .and_then(|d| start.checked_add(d));
                while due.is_none_or(|d| Instant::now() < d) {
                    reactor.poll(
                        Some(due.map_or(Duration::from_secs(3600), |d| {
                            d.saturating_duration_since(Instant::now())
                        })),
                        &mut *printer,
                    )?;
                }
            }
            loop {
                match reactor.send(id, Arc::clone(p), None) {
                    Ok(()) => break,
                    Err(osc_channel::ChannelError::QueueFull { .. }) => {
                        reactor.poll(Some(Duration::from_millis(5)), &mut *printer)?;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            sent += 1;
        }
    }
    Ok(())
}
