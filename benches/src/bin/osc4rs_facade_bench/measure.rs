//! Process CPU time, the bench message, result lines and statistics.

use std::collections::BTreeMap;
use std::time::Duration;

/// CPU time used so far by this process, all threads (user + system, nanoseconds,
/// exact), from `/proc/self/task/*/schedstat`.
pub(crate) fn cpu_ns() -> u64 {
    let mut ns = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for task in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(task.path().join("schedstat")) {
                ns += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    ns
}

/// The `i`-th bench message, osc4py3's `speedudpcli` one: `/test/here/<i> ,si "message" i`.
pub(crate) fn message(i: u32) -> osc_codec::Message {
    osc_codec::Message::new(format!("/test/here/{i}"))
        .arg("message")
        .arg(i32::try_from(i).unwrap_or(i32::MAX))
}

/// The `i`-th bench message, encoded.
pub(crate) fn message_bytes(i: u32) -> Vec<u8> {
    osc_codec::Packet::from(message(i))
        .to_bytes()
        .expect("a valid message")
}

/// Prints a result line: `RESULT key=value ...`.
pub(crate) fn report(fields: &[(&str, String)]) {
    let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", line.join(" "));
}

/// A parsed `RESULT` line.
pub(crate) type Fields = BTreeMap<String, String>;

/// Parses a `RESULT` line back into its fields.
pub(crate) fn parse_result(line: &str) -> Option<Fields> {
    let rest = line.strip_prefix("RESULT ")?;
    Some(
        rest.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

/// A numeric field (NaN when missing).
pub(crate) fn num(m: &Fields, k: &str) -> f64 {
    m.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// The median of some values (the lower middle one for an even count).
pub(crate) fn median(v: Vec<f64>) -> f64 {
    percentile(v, 0.5)
}

/// The `q`-quantile (nearest rank, lower) of some values.
pub(crate) fn percentile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((v.len() as f64 - 1.0) * q).floor() as usize;
    v.get(rank).copied().unwrap_or(f64::NAN)
}

/// Duration as nanoseconds, saturating.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
