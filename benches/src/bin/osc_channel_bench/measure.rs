//! Process CPU time, message building and result lines shared by the bench modes.

use std::collections::BTreeMap;
use std::time::Duration;

/// CPU time used so far by this process.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cpu {
    /// Time on a CPU, all threads, from `/proc/self/task/*/schedstat` (nanoseconds,
    /// exact: user + system).
    pub(crate) ns: u64,
    /// User time from `/proc/self/stat` (clock ticks of 10 ms).
    pub(crate) user_ticks: u64,
    /// System time from `/proc/self/stat` (clock ticks of 10 ms).
    pub(crate) sys_ticks: u64,
}

impl Cpu {
    /// Reads the counters now.
    pub(crate) fn now() -> Cpu {
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
        let (mut user_ticks, mut sys_ticks) = (0, 0);
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the command name (which may hold spaces) start at field 3.
            if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                let f: Vec<&str> = rest.split_whitespace().collect();
                user_ticks = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
                sys_ticks = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
        }
        Cpu {
            ns,
            user_ticks,
            sys_ticks,
        }
    }

    /// The time used since `earlier`.
    pub(crate) fn since(self, earlier: Cpu) -> Cpu {
        Cpu {
            ns: self.ns.saturating_sub(earlier.ns),
            user_ticks: self.user_ticks.saturating_sub(earlier.user_ticks),
            sys_ticks: self.sys_ticks.saturating_sub(earlier.sys_ticks),
        }
    }
}

/// The `i`-th bench message: `/test/here/NNNNNNNNNNNNNNNN ,ii i 0`, exactly 40 bytes.
pub(crate) fn message(i: u32) -> Vec<u8> {
    let msg = osc_codec::Message::new(format!("/test/here/{i:016}"))
        .arg(i as i32)
        .arg(0i32);
    let bytes = osc_codec::Packet::from(msg)
        .to_bytes()
        .expect("a valid message");
    assert_eq!(bytes.len(), 40, "bench messages are 40 bytes");
    bytes
}

/// Prints a result line: `RESULT key=value ...`.
pub(crate) fn report(fields: &[(&str, String)]) {
    let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", line.join(" "));
}

/// Parses a `RESULT` line back into its fields.
pub(crate) fn parse_result(line: &str) -> Option<BTreeMap<String, String>> {
    let rest = line.strip_prefix("RESULT ")?;
    Some(
        rest.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

/// The median of some values (the lower middle one for an even count).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// Duration as nanoseconds, saturating.
pub(crate) fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
