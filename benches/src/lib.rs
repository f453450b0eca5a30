//! Shared helpers for the osc4rs benches and the multi-process bench programs
//! (`osc_channel_bench`, `osc4rs_facade_bench`).

pub mod reading;

/// Measuring a process and passing results between bench processes.
pub mod measure {
    use std::collections::BTreeMap;
    use std::time::Duration;

    /// CPU time used so far by this process, all its threads, those that have ended
    /// too (user + system, nanoseconds, exact: `CLOCK_PROCESS_CPUTIME_ID`, which Linux
    /// keeps from the scheduler's run times); 0 where that clock is not available. A
    /// sum over `/proc/self/task` would miss the threads a runtime's `terminate` has
    /// joined.
    ///
    /// ```
    /// let before = osc4rs_benches::measure::cpu_ns();
    /// std::thread::spawn(|| (0..1_000_000u64).sum::<u64>()).join().unwrap();
    /// assert!(osc4rs_benches::measure::cpu_ns() > before);
    /// ```
    pub fn cpu_ns() -> u64 {
        cpu_time::ProcessTime::try_now().map_or(0, |t| nanos(t.as_duration()))
    }

    /// Prints a result line: `RESULT key=value ...`.
    pub fn report(fields: &[(&str, String)]) {
        let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("RESULT {}", line.join(" "));
    }

    /// A parsed `RESULT` line.
    pub type Fields = BTreeMap<String, String>;

    /// Parses a `RESULT` line back into its fields.
    ///
    /// ```
    /// let f = osc4rs_benches::measure::parse_result("RESULT a=1 b=x").unwrap();
    /// assert_eq!(osc4rs_benches::measure::num(&f, "a"), 1.0);
    /// ```
    pub fn parse_result(line: &str) -> Option<Fields> {
        let rest = line.strip_prefix("RESULT ")?;
        Some(
            rest.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// A numeric field (NaN when missing).
    pub fn num(m: &Fields, k: &str) -> f64 {
        m.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }

    /// The median of some values (the lower middle one for an even count).
    ///
    /// ```
    /// assert_eq!(osc4rs_benches::measure::median(vec![3.0, 1.0, 2.0, 4.0]), 2.0);
    /// ```
    pub fn median(v: Vec<f64>) -> f64 {
        percentile(v, 0.5)
    }

    /// The `q`-quantile (nearest rank, lower) of some values; NaN when empty.
    pub fn percentile(mut v: Vec<f64>, q: f64) -> f64 {
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return f64::NAN;
        }
        let rank = ((v.len() as f64 - 1.0) * q).floor() as usize;
        v.get(rank).copied().unwrap_or(f64::NAN)
    }

    /// Duration as nanoseconds, saturating.
    pub fn nanos(d: Duration) -> u64 {
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The `i`-th command-line argument parsed, or `default`.
    pub fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
        args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default)
    }
}
