//! `osc4rs replay`: send a recording again with its original timing.

use std::io::BufReader;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use osc_channel::Reactor;
use osc_pattern::Filter;
use osc4rs::TimeTag;
use osc4rs::record::{Record, read_recording, read_started, shift_timetags};

use crate::Failure;
use crate::net::{Proto, address};
use crate::send::{open_sender, open_url};

/// Arguments of `osc4rs replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The recording (`osc4rs record`).
    file: std::path::PathBuf,
    /// Transport: udp, tcp (OSC 1.0 length prefix) or slip (OSC 1.1).
    #[arg(long, value_enum, default_value = "udp")]
    proto: Proto,
    /// Host to send to.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to send to.
    #[arg(long, required_unless_present = "url")]
    port: Option<u16>,
    /// Where to send, as an endpoint URL instead of --proto/--host/--port (see
    /// `osc4rs send --help`).
    #[arg(long, conflicts_with = "port")]
    url: Option<String>,
    /// Resolve the host to IPv6 only.
    #[arg(long)]
    ipv6: bool,
    /// Play faster (2) or slower (0.5); the gaps between packets are divided by it.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Play it this many times.
    #[arg(long = "loop", default_value_t = 1)]
    loops: u32,
    /// Start at this many seconds into the recording.
    #[arg(long)]
    from: Option<f64>,
    /// Stop at this many seconds into the recording.
    #[arg(long)]
    to: Option<f64>,
    /// Only packets with a message whose address this OSC pattern matches.
    #[arg(long)]
    filter: Option<String>,
    /// Skip lines that cannot be read (each is reported) instead of stopping there.
    #[arg(long)]
    skip_bad: bool,
    /// Move bundle timetags to the time of the replay: each bundle keeps the lead it
    /// had over its arrival (needs the recording's `# started` line).
    #[arg(long)]
    retime: bool,
}

/// Reads the recording, keeping the records the options select.
fn load(a: &ReplayArgs) -> Result<Vec<Record>, Failure> {
    let file = std::fs::File::open(&a.file)
        .map_err(|e| Failure::runtime(format!("cannot read {}: {e}", a.file.display())))?;
    let filter = a
        .filter
        .as_deref()
        .map(Filter::osc)
        .transpose()
        .map_err(|e| Failure::input(format!("bad --filter pattern: {e}")))?;
    let window = |r: &Record| {
        let t = r.at.as_secs_f64();
        a.from.is_none_or(|f| t >= f) && a.to.is_none_or(|to| t <= to)
    };
    let mut records = Vec::new();
    for item in read_recording(BufReader::new(file)) {
        match item {
            Ok(r) if window(&r) && filter.as_ref().is_none_or(|f| selected(f, &r.data)) => {
                records.push(r);
            }
            Ok(_) => {}
            Err(e) if a.skip_bad => eprintln!("osc4rs: {}: {e} (skipped)", a.file.display()),
            Err(e) => return Err(Failure::input(format!("{}: {e}", a.file.display()))),
        }
    }
    Ok(records)
}

/// When the recording at `path` started, for `--retime`.
fn recording_start(path: &std::path::Path) -> Result<TimeTag, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::runtime(format!("cannot read {}: {e}", path.display())))?;
    read_started(BufReader::new(file)).ok_or_else(|| {
        Failure::input(format!(
            "{}: no '# started' line after the header, so --retime cannot tell how far \
             ahead each bundle was (record again with this version of osc4rs record)",
            path.display()
        ))
    })
}

/// Whether a packet has a message whose address `filter` matches.
fn selected(filter: &Filter, data: &[u8]) -> bool {
    fn any(filter: &Filter, p: &osc_codec::PacketRef<'_>) -> bool {
        match p {
            osc_codec::PacketRef::Message(m) => filter.matches(m.address()),
            osc_codec::PacketRef::Bundle(b) => b.elements().any(|e| any(filter, &e)),
        }
    }
    osc_codec::decode(data).is_ok_and(|p| any(filter, &p))
}

/// Sleeps until `due`: coarsely, then spinning the last half millisecond, so that
/// packets leave within tens of microseconds of their time.
fn wait_until(due: Instant) {
    loop {
        let left = due.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        if left > Duration::from_micros(500) {
            std::thread::sleep(left - Duration::from_micros(500));
        } else {
            std::hint::spin_loop();
        }
    }
}

pub(crate) fn run(a: ReplayArgs) -> Result<ExitCode, Failure> {
    if !(a.speed.is_finite() && a.speed > 0.0) {
        return Err(Failure::input("--speed must be a positive number"));
    }
    let records = load(&a)?;
    let started = if a.retime {
        Some(recording_start(&a.file)?)
    } else {
        None
    };
    let mut reactor = Reactor::new()?;
    let (id, dest) = match &a.url {
        Some(url) => open_url(&mut reactor, url)?,
        None => {
            let dest = address(&a.host, a.port.unwrap_or(0), a.ipv6)?;
            (
                open_sender(&mut reactor, a.proto, dest, false, None)?.0,
                dest.to_string(),
            )
        }
    };
    let offset = records.first().map_or(Duration::ZERO, |r| r.at);
    let mut sent = 0usize;
    for _ in 0..a.loops {
        let start = Instant::now();
        for r in &records {
            let gap = r.at.saturating_sub(offset).as_secs_f64() / a.speed;
            wait_until(start + Duration::from_secs_f64(gap.min(1e9)));
            // One copy per packet, into the buffer the reactor sends from.
            let mut data: Arc<[u8]> = Arc::from(&r.data[..]);
            if let (Some(started), Some(bytes)) = (started, Arc::get_mut(&mut data)) {
                shift_timetags(bytes, started + r.at, TimeTag::now());
            }
            reactor.send(id, data, None)?;
            sent += 1;
        }
    }
    if !reactor.flush(Duration::from_secs(10), |_| {})? {
        return Err(Failure::runtime("could not write everything within 10 s"));
    }
    eprintln!("osc4rs: replayed {sent} packets to {dest}");
    Ok(ExitCode::SUCCESS)
}
