//! An idle worker pool uses no measurable CPU (Linux: process CPU time from
//! `/proc/self/stat`). Alone in its own test binary so no other test adds CPU time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use osc_dispatch::{Dispatcher, DispatcherConfig, Executor, PoolConfig, ShutdownOptions};

/// utime + stime of this process, in clock ticks (fields 14 and 15 of
/// `/proc/self/stat`, counted after the parenthesised command name).
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so utime (14) is index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[test]
fn idle_pool_of_ten_workers_uses_no_cpu() {
    let Some(_) = cpu_ticks() else {
        eprintln!("no /proc/self/stat: skipped");
        return;
    };
    let d = Dispatcher::new(DispatcherConfig {
        default_executor: Executor::Pool, // starts the pool at once
        pool: PoolConfig {
            threads: 10,
            ..PoolConfig::default()
        },
        ..DispatcherConfig::default()
    });
    std::thread::sleep(Duration::from_millis(100)); // let the threads settle
    let before = cpu_ticks().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks().unwrap() - before;
    // Clock ticks are 10 ms on Linux (USER_HZ = 100): < 5 ticks is < 50 ms of the
    // 10,000 ms ten spinning workers would burn.
    assert!(used < 5, "idle pool used {used} ticks of CPU in 1 s");
    let s = d.shutdown(
        ShutdownOptions::default(),
        osc_codec::TimeTag::new(3_900_000_000, 0),
    );
    assert_eq!(s.pool.joined_threads, 10);
}
