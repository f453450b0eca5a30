//! `osc4rs encode` and `osc4rs decode`.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::Args;
use osc_codec::Packet;

use crate::Failure;

/// Arguments of `osc4rs encode`.
#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    /// Packets in text notation (default: one per line on standard input).
    packets: Vec<String>,
}

/// Arguments of `osc4rs decode`.
#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// Packets in hex (default: one per line on standard input).
    packets: Vec<String>,
}

/// The given strings, or the lines of standard input; blank lines are skipped.
pub(crate) fn inputs(args: Vec<String>) -> Result<Vec<(usize, String)>, Failure> {
    if !args.is_empty() {
        return Ok(args
            .into_iter()
            .enumerate()
            .map(|(i, s)| (i + 1, s))
            .collect());
    }
    let mut out = Vec::new();
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| Failure::runtime(format!("reading standard input: {e}")))?;
        if !line.trim().is_empty() {
            out.push((i + 1, line));
        }
    }
    Ok(out)
}

/// Parses one packet of text notation, pointing at the column of a mistake. A bare
/// address (`/status`) is a message without arguments, as liblo's `oscsend` takes it.
pub(crate) fn parse_line(line_no: usize, line: &str) -> Result<Packet, Failure> {
    let trimmed = line.trim();
    if trimmed.starts_with('/') && !trimmed.contains(char::is_whitespace) {
        return parse_line(line_no, &format!("{trimmed} ,"));
    }
    line.parse::<Packet>().map_err(|e| {
        let (column, reason) = match &e {
            osc_codec::Error::Notation { column, reason } => (*column, reason.to_string()),
            other => (1, other.to_string()),
        };
        Failure::input(format!(
            "line {line_no}, column {column}: {reason}\n  {line}\n  {:>width$}",
            "^",
            width = column
        ))
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The packet's hex of a recording line (`SECONDS PEER CHANNEL HEX  # NOTE`, see
/// `osc4rs::record`), so that `osc4rs decode` reads recordings too.
fn recording_hex(line: &str) -> Option<&str> {
    let body = line.split_once(" #").map_or(line, |(b, _)| b);
    let fields: Vec<&str> = body.split_whitespace().collect();
    match fields[..] {
        [secs, _, _, hex] if secs.parse::<f64>().is_ok() => Some(hex),
        _ => None,
    }
}

/// Text notation -> hex.
pub(crate) fn encode(a: EncodeArgs) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    for (n, line) in inputs(a.packets)? {
        let p = parse_line(n, &line)?;
        let bytes = p
            .to_bytes()
            .map_err(|e| Failure::input(format!("line {n}: cannot encode: {e}")))?;
        writeln!(out, "{}", hex(&bytes)).map_err(|e| Failure::runtime(e.to_string()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The address of a packet that failed to decode, or `?`.
pub(crate) fn address_hint(bytes: &[u8]) -> String {
    if bytes.first() == Some(&b'/') {
        let end = bytes
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(bytes.len())
            .min(256);
        if let Ok(s) = std::str::from_utf8(bytes.get(..end).unwrap_or_default()) {
            if !s.contains(char::is_whitespace) {
                return s.to_owned();
            }
        }
    }
    "?".to_owned()
}

/// Hex -> text notation; undecodable packets print as `!error ADDRESS reason`.
pub(crate) fn decode(a: DecodeArgs) -> Result<ExitCode, Failure> {
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for (n, line) in inputs(a.packets)? {
        if line.trim_start().starts_with('#') {
            continue; // a comment (recordings have them)
        }
        let text = match osc_codec::from_hex(recording_hex(&line).unwrap_or(&line)) {
            Err(e) => {
                failed = true;
                format!("!error ? line {n}: {e}")
            }
            Ok(bytes) => match osc_codec::decode(&bytes) {
                Ok(p) => p.to_string(),
                Err(e) => {
                    failed = true;
                    format!("!error {} {e}", address_hint(&bytes))
                }
            },
        };
        writeln!(out, "{text}").map_err(|e| Failure::runtime(e.to_string()))?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
