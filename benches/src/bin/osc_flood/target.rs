//! The server under attack, in a child process: its output lines with their arrival
//! times, and its peak resident memory.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

pub(crate) struct Target {
    child: Child,
    lines: Receiver<(String, Instant)>,
    peak_rss_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Target {
    pub(crate) fn start(command: &[String]) -> Target {
        let mut child = Command::new(&command[0])
            .args(&command[1..])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the target starts");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send((line, Instant::now())).is_err() {
                    break;
                }
            }
        });
        let peak_rss_kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (peak, done, pid) = (Arc::clone(&peak_rss_kib), Arc::clone(&stop), child.id());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        std::thread::sleep(Duration::from_millis(500));
        Target {
            child,
            lines,
            peak_rss_kib,
            stop,
        }
    }

    /// Whether the process still runs.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub(crate) fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }

    /// How long after `since` the target printed a line containing `what`, waiting at
    /// most `limit`.
    pub(crate) fn printed(&self, what: &str, since: Instant, limit: Duration) -> Option<Duration> {
        let deadline = since + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((line, at)) if line.contains(what) => {
                    return Some(at.saturating_duration_since(since));
                }
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Drops the lines printed so far.
    pub(crate) fn drain(&self) {
        while self.lines.try_recv().is_ok() {}
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
