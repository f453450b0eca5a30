//! Process CPU time, message building and result lines shared by the bench modes.

use osc4rs_benches::measure::cpu_ns;
pub(crate) use osc4rs_benches::measure::{median, nanos, parse_result, report};

/// CPU time used so far by this process.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cpu {
    /// Time on a CPU, all threads, ended ones too, from `CLOCK_PROCESS_CPUTIME_ID`
    /// (nanoseconds, exact: user + system).
    pub(crate) ns: u64,
    /// User time from `/proc/self/stat` (clock ticks of 10 ms).
    pub(crate) user_ticks: u64,
    /// System time from `/proc/self/stat` (clock ticks of 10 ms).
    pub(crate) sys_ticks: u64,
}

impl Cpu {
    /// Reads the counters now.
    pub(crate) fn now() -> Cpu {
        let ns = cpu_ns();
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
