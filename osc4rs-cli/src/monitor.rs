//! `osc4rs monitor`: a live view of the traffic in the browser (the `osc-monitor`
//! crate), served by this process.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use osc_monitor::{MonitorConfig, MonitorError, MonitorServer};

use crate::Failure;
use crate::convert::parse_line;

/// Arguments of `osc4rs monitor`.
#[derive(Debug, Args)]
pub(crate) struct MonitorArgs {
    /// Endpoint URLs to listen on, several at once: `osc.udp://HOST:PORT`,
    /// `osc.tcp://`, `osc.slip://` (add `?framing=auto`), `ws://HOST:PORT/PATH`,
    /// `osc.unix:///PATH`, `osc.unix+stream:///PATH`, `serial:///DEVICE?baud=115200`.
    /// (`listen:URL`, as `bridge` writes it, is the same: the monitor listens on all).
    #[arg(required_unless_present_any = ["port", "url"])]
    endpoints: Vec<String>,
    /// An endpoint URL as `dump` and `record` take it (repeatable; the same as a
    /// positional URL).
    #[arg(long)]
    url: Vec<String>,
    /// Also listen on UDP 127.0.0.1:PORT (shorthand for `osc.udp://127.0.0.1:PORT`).
    #[arg(long)]
    port: Option<u16>,
    /// Where the page is served. Loopback by default: whoever reaches the page can
    /// send OSC from this machine and write recordings.
    #[arg(long, default_value = "127.0.0.1:0")]
    http: SocketAddr,
    /// Where the record button writes its files.
    #[arg(long, default_value = ".")]
    record_dir: PathBuf,
    /// Addresses in the table at most (messages to more are counted as "others").
    #[arg(long, default_value_t = 10_000)]
    max_addresses: usize,
    /// The window of the message rates, in seconds.
    #[arg(long, default_value_t = 2.0)]
    rate_window: f64,
    /// Stop after this many seconds.
    #[arg(long)]
    timeout: Option<f64>,
}

/// The send panel's notation, parsed exactly as `osc4rs send` parses it.
fn parse_like_send(text: &str) -> Result<osc_codec::Packet, String> {
    parse_line(1, text).map_err(|f| f.message)
}

pub(crate) fn run(a: MonitorArgs) -> Result<ExitCode, Failure> {
    let mut endpoints: Vec<String> = a
        .endpoints
        .iter()
        .chain(&a.url)
        .map(|e| e.strip_prefix("listen:").unwrap_or(e).to_owned())
        .collect();
    if let Some(port) = a.port {
        endpoints.push(format!("osc.udp://127.0.0.1:{port}"));
    }
    let mut cfg = MonitorConfig::new(endpoints);
    cfg.http = a.http;
    cfg.record_dir = a.record_dir;
    cfg.limits.max_addresses = a.max_addresses;
    if !(a.rate_window.is_finite() && a.rate_window > 0.0) {
        return Err(Failure::input(
            "--rate-window must be a positive number of seconds",
        ));
    }
    cfg.limits.rate_window = a.rate_window;
    cfg.parser = parse_like_send;
    let monitor = MonitorServer::start(cfg).map_err(|e| match e {
        MonitorError::Endpoint { .. } => Failure::input(e.to_string()),
        other => Failure::runtime(other.to_string()),
    })?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| Failure::runtime(format!("cannot handle signals: {e}")))?;
    }
    for (url, addr) in monitor.endpoints() {
        match addr {
            Some(addr) => eprintln!("osc4rs monitor: listening on {url} ({addr})"),
            None => eprintln!("osc4rs monitor: listening on {url}"),
        }
    }
    if !a.http.ip().is_loopback() {
        eprintln!(
            "osc4rs monitor: warning: the page is reachable beyond this machine; whoever opens it can send OSC from here and write recordings"
        );
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", monitor.url());
    let _ = out.flush();
    let deadline = a
        .timeout
        .map(|s| Instant::now() + Duration::from_secs_f64(s.clamp(0.0, 1e9)));
    while !stop.load(Ordering::Relaxed) && deadline.is_none_or(|d| Instant::now() < d) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let t = monitor.totals();
    monitor.stop();
    eprintln!(
        "osc4rs monitor: {} packets, {} messages, {} bundles, {} malformed, {} addresses",
        t.packets, t.messages, t.bundles, t.malformed, t.addresses
    );
    Ok(ExitCode::SUCCESS)
}
