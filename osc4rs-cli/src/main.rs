//! `osc4rs`: watch what arrives on a port, fire messages at a device, convert between
//! the OSC text notation and bytes, check patterns, measure, and run the demo.
//!
//! Logging goes to standard error; `RUST_LOG=warn osc4rs dump ...` shows dropped
//! packets and connections.

mod bench;
mod bridge;
mod convert;
mod demo;
mod dump;
mod matching;
mod monitor;
mod net;
mod query;
mod replay;
mod send;
mod service;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Open Sound Control from the command line.
#[derive(Debug, Parser)]
#[command(name = "osc4rs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every message received on a port, one line each, in OSC text notation.
    Dump(dump::DumpArgs),
    /// Record every packet received on a port, byte for byte with its arrival time,
    /// sender and channel (to --out, else standard output; the format is documented in
    /// `osc4rs::record`). Takes the options of `dump`.
    Record(dump::DumpArgs),
    /// Serve a live view of the traffic on the endpoints to a browser (a table per
    /// address, plots, bundles, malformed packets, a send panel, a record button);
    /// prints the page's URL.
    Monitor(monitor::MonitorArgs),
    /// Send a recording again with its original timing.
    Replay(replay::ReplayArgs),
    /// Send packets written in OSC text notation.
    Send(send::SendArgs),
    /// Relay every packet between endpoints, in every direction (a browser page on a
    /// WebSocket and a synth on UDP, say), with counts per direction.
    Bridge(bridge::BridgeArgs),
    /// Text notation to hex, one packet per line.
    Encode(convert::EncodeArgs),
    /// Hex to text notation, one packet per line.
    Decode(convert::DecodeArgs),
    /// Print each address that an OSC pattern matches.
    Match(matching::MatchArgs),
    /// A server and a client on loopback exchange messages, a bundle and a delayed bundle.
    Demo(demo::DemoArgs),
    /// Throughput and round-trip latency between an osc4rs sender and receiver on loopback.
    Bench(bench::BenchArgs),
    /// Read an OSCQuery server's address space: a table of paths, types, access,
    /// values, ranges, units and descriptions (or the JSON with --json).
    Query(query::QueryArgs),
    /// List the OSCQuery and OSC services advertised on the local network (DNS-SD).
    Discover(query::DiscoverArgs),
}

/// A failure the user can act on, with the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// A runtime failure (exit status 1).
    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Bad input from the user (exit status 2, as for usage errors).
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

/// A number of seconds given on the command line, as a `Duration`: a negative value is
/// zero, `inf` is `Duration::MAX` ("never"); NaN or a finite value beyond what a
/// `Duration` holds (about 5.8e11 years) is bad input (exit status 2).
pub(crate) fn seconds(flag: &str, value: f64) -> Result<std::time::Duration, Failure> {
    if value == f64::INFINITY {
        return Ok(std::time::Duration::MAX);
    }
    std::time::Duration::try_from_secs_f64(value.max(0.0))
        .ok()
        .filter(|_| !value.is_nan())
        .ok_or_else(|| {
            Failure::input(format!(
                "{flag} {value}: not a number of seconds (0 to {}, or inf)",
                u64::MAX
            ))
        })
}

/// `now + wait`, or `None` ("never") when that is beyond what an `Instant` holds.
pub(crate) fn deadline_after(wait: std::time::Duration) -> Option<std::time::Instant> {
    std::time::Instant::now().checked_add(wait)
}

impl From<osc_channel::ChannelError> for Failure {
    fn from(e: osc_channel::ChannelError) -> Self {
        Failure::runtime(net::explain(&e))
    }
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("error")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dump(a) => dump::run(a, false),
        Command::Record(a) => dump::run(a, true),
        Command::Monitor(a) => monitor::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Bridge(a) => bridge::run(a),
        Command::Send(a) => send::run(a),
        Command::Encode(a) => convert::encode(a),
        Command::Decode(a) => convert::decode(a),
        Command::Match(a) => matching::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Query(a) => query::run_query(a),
        Command::Discover(a) => query::run_discover(a),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("osc4rs: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
