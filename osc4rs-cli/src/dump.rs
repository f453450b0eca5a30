//! `osc4rs dump`: print what arrives.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use osc_channel::{
    ChannelEvent, Endpoint, EventHandler, Reactor, Received, StreamFraming, TcpServerConfig,
    UdpConfig, Verdict,
};
use osc_codec::{PacketRef, dumphex};
use osc_pattern::Filter;

use crate::Failure;
use crate::convert::address_hint;
use crate::net::{Proto, address};

/// Arguments of `osc4rs dump`.
#[derive(Debug, Args)]
pub(crate) struct DumpArgs {
    /// Transport: udp, tcp (OSC 1.0 length prefix) or slip (OSC 1.1).
    #[arg(long, value_enum, default_value = "udp")]
    proto: Proto,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on.
    #[arg(long, required_unless_present_any = ["url", "service"])]
    port: Option<u16>,
    /// Where to listen, as an endpoint URL instead of --proto/--host/--port:
    /// `osc.udp://HOST:PORT`, `osc.tcp://`, `osc.slip://` (add `?framing=auto` to detect
    /// it per connection), `ws://HOST:PORT/PATH`, `osc.unix:///PATH`,
    /// `osc.unix+stream:///PATH`, `serial:///DEVICE?baud=115200`.
    #[arg(long, conflicts_with_all = ["port", "group", "broadcast"])]
    url: Option<String>,
    /// TCP: detect the framing of each connection from its first byte.
    #[arg(long)]
    auto: bool,
    /// Resolve the host to IPv6 only.
    #[arg(long)]
    ipv6: bool,
    /// Write to this file instead of standard output.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// One line per packet (bundles whole) instead of one per message.
    #[arg(long)]
    packets: bool,
    /// Also print each packet as an osc4py3-style hex dump.
    #[arg(long)]
    hex: bool,
    /// Prefix each line with the sender's address.
    #[arg(long)]
    source: bool,
    /// Only messages whose address this OSC pattern matches.
    #[arg(long)]
    filter: Option<String>,
    /// Join this multicast group (UDP; listens on the wildcard address).
    #[arg(long)]
    group: Option<std::net::IpAddr>,
    /// Receive broadcasts (UDP; SO_BROADCAST).
    #[arg(long)]
    broadcast: bool,
    /// Instead of listening: print the values that the service advertised on the
    /// local network under this name streams (OSCQuery LISTEN on every method and
    /// parameter it lists).
    #[arg(long, conflicts_with_all = ["url", "port", "group", "broadcast", "packets", "hex", "source"])]
    service: Option<String>,
    /// How long to look for --service on the local network, in seconds.
    #[arg(long, default_value_t = 3.0)]
    discover_wait: f64,
    /// Share the port with other sockets (SO_REUSEADDR; implied by --group). Off by
    /// default: another local socket on the port could take the unicast traffic.
    #[arg(long)]
    reuse_addr: bool,
}

/// Most bytes printed for one packet, by rule: 16 times its size plus 4 KiB. Beyond
/// that, one `!note` line says how many messages were left out (a datagram of deeply
/// nested bundles around thousands of empty messages would otherwise print each
/// message with its whole chain of bundle prefixes, about 70 times its size).
fn output_cap(packet_len: usize) -> usize {
    packet_len.saturating_mul(16).saturating_add(4096)
}

struct Printer {
    out: Box<dyn Write>,
    packets: bool,
    hex: bool,
    source: bool,
    filter: Option<Filter>,
    failed: Option<std::io::Error>,
    /// Bytes this packet may still print ([`output_cap`]).
    left: usize,
    /// Messages of this packet left out for the cap.
    skipped: usize,
    /// `osc4rs record`: write a recording (see `osc4rs::record`) from this start.
    recording: Option<std::time::SystemTime>,
}

impl Printer {
    fn line(&mut self, peer: Option<SocketAddr>, text: &str) {
        let result = match (self.source, peer) {
            (true, Some(p)) => writeln!(self.out, "{p} {text}"),
            (true, None) => writeln!(self.out, "? {text}"),
            _ => writeln!(self.out, "{text}"),
        };
        if let Err(e) = result {
            self.failed.get_or_insert(e);
        }
    }

    /// A line of the current packet, within its output cap.
    fn capped_line(&mut self, peer: Option<SocketAddr>, text: &str) {
        if text.len() + 1 > self.left {
            self.skipped += 1;
            return;
        }
        self.left -= text.len() + 1;
        self.line(peer, text);
    }

    /// Something the channel dropped or survived (the reactor's events): the peer and
    /// the reason, as an `!error` line.
    fn event(&mut self, peer: Option<SocketAddr>, what: &str) {
        let text = match peer {
            Some(p) => format!("!error ? {what} from {p}"),
            None => format!("!error ? {what}"),
        };
        self.line(peer, &text);
    }

    fn flush(&mut self) {
        if let Err(e) = self.out.flush() {
            self.failed.get_or_insert(e);
        }
    }

    fn packet(&mut self, p: Received<'_>) {
        if let Some(started) = self.recording {
            return self.record(started, p);
        }
        self.left = output_cap(p.data.len());
        self.skipped = 0;
        match osc_codec::decode(p.data) {
            Err(e) => {
                let text = format!("!error {} {e}", address_hint(p.data));
                self.line(p.peer, &text);
            }
            Ok(packet) if self.packets => {
                if self.selected(&packet) {
                    self.line(p.peer, &packet.to_string());
                }
            }
            Ok(packet) => {
                let mut prefix = String::new();
                self.messages(p.peer, packet, &mut prefix);
                if self.skipped > 0 {
                    let note = format!(
                        "!note {} more messages of this {}-byte packet not printed (--packets prints it whole)",
                        self.skipped,
                        p.data.len()
                    );
                    self.line(p.peer, &note);
                }
            }
        }
        if self.hex {
            let dump = dumphex(p.data);
            if let Err(e) = self.out.write_all(dump.as_bytes()) {
                self.failed.get_or_insert(e);
            }
        }
    }

    /// One line of a recording: the exact bytes, whatever they are (a malformed
    /// packet is recorded too), with the time since the start.
    fn record(&mut self, started: std::time::SystemTime, p: Received<'_>) {
        if let (Some(_), Ok(packet)) = (&self.filter, osc_codec::decode(p.data)) {
            if !self.selected(&packet) {
                return;
            }
        }
        let rec = osc4rs::record::Record {
            at: p.arrival.duration_since(started).unwrap_or_default(),
            peer: p.peer,
            channel: p.name.to_owned(),
            data: p.data.to_vec(),
        };
        if let Err(e) = osc4rs::record::write_record(&mut self.out, &rec) {
            self.failed.get_or_insert(e);
        }
    }

    fn selected(&self, packet: &PacketRef<'_>) -> bool {
        let Some(f) = &self.filter else { return true };
        match packet {
            PacketRef::Message(m) => f.matches(m.address()),
            PacketRef::Bundle(b) => b.elements().any(|e| self.selected(&e)),
        }
    }

    fn messages(&mut self, peer: Option<SocketAddr>, packet: PacketRef<'_>, prefix: &mut String) {
        match packet {
            PacketRef::Message(m) => {
                if self.filter.as_ref().is_none_or(|f| f.matches(m.address())) {
                    self.capped_line(peer, &format!("{prefix}{m}"));
                }
            }
            PacketRef::Bundle(b) => {
                let len = prefix.len();
                prefix.push_str(&format!("#bundle({}) ", b.timetag()));
                for e in b.elements() {
                    self.messages(peer, e, prefix);
                }
                prefix.truncate(len);
            }
        }
    }
}

/// `dump --service NAME` (not `record`: a recording holds packets as they arrived).
fn dump_service(name: &str, a: &DumpArgs, record: bool) -> Result<ExitCode, Failure> {
    if record {
        return Err(Failure::input(
            "record --service: a recording holds packets as they arrive; record the \
             service's traffic with --url instead",
        ));
    }
    let wait = crate::seconds("--discover-wait", a.discover_wait)?;
    let timeout = a
        .timeout
        .map(|s| crate::seconds("--timeout", s))
        .transpose()?;
    let mut out: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(BufWriter::new(File::create(path).map_err(|e| {
            Failure::runtime(format!("cannot write {}: {e}", path.display()))
        })?)),
        None => Box::new(std::io::stdout()),
    };
    crate::service::dump(name, wait, timeout, &mut out)
}

/// Opens the listening channel of --proto/--host/--port.
fn open_listener(reactor: &mut Reactor, a: &DumpArgs, events: EventHandler) -> Result<(), Failure> {
    let bind = address(&a.host, a.port.unwrap_or(0), a.ipv6)?;
    match a.proto {
        Proto::Udp => {
            let cfg = match (a.group, a.broadcast) {
                (Some(group), _) => {
                    UdpConfig::multicast_server(SocketAddr::new(group, a.port.unwrap_or(0)))
                }
                (None, true) => UdpConfig::broadcast_server(bind),
                (None, false) => UdpConfig::server(bind),
            };
            // A plain or broadcast server must see "port in use" rather than share the
            // port (a socket sharing it may take the unicast traffic), unless asked.
            let cfg = UdpConfig {
                reuse_addr: a.group.is_some() || a.reuse_addr,
                events: Some(events),
                ..cfg
            };
            reactor.open_udp("dump", cfg)?;
        }
        Proto::Tcp | Proto::Slip => {
            let mut cfg = TcpServerConfig::new(bind);
            cfg.framing = if a.auto {
                StreamFraming::Auto
            } else {
                a.proto.framing()
            };
            cfg.events = Some(events);
            reactor.open_tcp_server("dump", cfg)?;
        }
    }
    Ok(())
}

/// Listens and prints (or, `record`, writes a recording) until a signal or the timeout.
pub(crate) fn run(a: DumpArgs, record: bool) -> Result<ExitCode, Failure> {
    if let Some(name) = &a.service {
        return dump_service(name, &a, record);
    }
    let filter = a
        .filter
        .as_deref()
        .map(Filter::osc)
        .transpose()
        .map_err(|e| Failure::input(format!("bad --filter pattern: {e}")))?;
    let out: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(BufWriter::new(File::create(path).map_err(|e| {
            Failure::runtime(format!("cannot write {}: {e}", path.display()))
        })?)),
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let mut reactor = Reactor::new()?;
    let (events, reported) = event_log();
    match &a.url {
        Some(url) => {
            let endpoint: Endpoint = url
                .parse()
                .map_err(|e| Failure::input(format!("bad --url: {e}")))?;
            let spec = endpoint.server_spec()?.with_events(events);
            reactor.open("dump", spec)?;
        }
        None => open_listener(&mut reactor, &a, events)?,
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| Failure::runtime(format!("cannot handle signals: {e}")))?;
    }
    // `None`: no timeout, or one too far to matter (`--timeout inf`).
    let deadline = match a.timeout {
        Some(s) => crate::deadline_after(crate::seconds("--timeout", s)?),
        None => None,
    };
    let mut printer = Printer {
        out,
        packets: a.packets,
        hex: a.hex,
        source: a.source,
        filter,
        failed: None,
        left: 0,
        skipped: 0,
        recording: record.then(std::time::SystemTime::now),
    };
    if let Some(start) = printer.recording {
        let started = osc4rs::TimeTag::from_system_time(start);
        osc4rs::record::write_header(&mut printer.out)
            .and_then(|()| osc4rs::record::write_started(&mut printer.out, started))
            .map_err(|e| Failure::runtime(format!("cannot write the recording: {e}")))?;
    }
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
        let wait = deadline.map_or(Duration::from_millis(100), |d| {
            d.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100))
        });
        reactor.poll(Some(wait), |p| printer.packet(p))?;
        let events = reported.lock().map(|mut v| std::mem::take(&mut *v));
        for (peer, what) in events.unwrap_or_default() {
            printer.event(peer, &what);
        }
        // One write of the whole pass, not one per line.
        printer.flush();
        if let Some(e) = printer.failed.take() {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(Failure::runtime(format!("cannot write output: {e}")));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Events the reactor reports (drops, survived errors), kept until the pass ends.
type Reported = Arc<std::sync::Mutex<Vec<(Option<SocketAddr>, String)>>>;

/// An event handler that keeps every drop and error for printing.
fn event_log() -> (EventHandler, Reported) {
    let reported: Reported = Arc::default();
    let keep = Arc::clone(&reported);
    let handler: EventHandler = Arc::new(move |_name: &str, ev: &ChannelEvent<'_>| {
        match ev {
            ChannelEvent::Dropped { reason, peer } => {
                if let Ok(mut v) = keep.lock() {
                    v.push((*peer, format!("dropped ({reason})")));
                }
            }
            ChannelEvent::Error(what) => {
                if let Ok(mut v) = keep.lock() {
                    v.push((None, (*what).to_owned()));
                }
            }
            _ => {}
        }
        Verdict::Accept
    });
    (handler, reported)
}
