//! The runtime's `log` records, delivered to the Python `logging.Logger` given to
//! `osc_startup(logger=...)`.
//!
//! Records are queued (bounded; beyond it they are counted and dropped, never waited
//! for) and a thread of their own takes the GIL to hand them to the logger, so that
//! the I/O threads never wait for the GIL. `flush` delivers what is queued from the
//! calling thread (used by `osc_terminate`, so that the last records are not lost).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;
use pyo3::prelude::*;

/// Most records waiting for the logging thread.
const QUEUE: usize = 4096;

struct Record {
    level: log::Level,
    target: String,
    text: String,
}

struct Bridge {
    tx: Sender<Record>,
    rx: Receiver<Record>,
    dropped: AtomicU64,
}

static BRIDGE: OnceLock<Bridge> = OnceLock::new();

/// The Python logger records go to (`None`: the bridge is off).
static LOGGER: Mutex<Option<Py<PyAny>>> = Mutex::new(None);

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let r = Record {
            level: record.level(),
            target: record.target().to_owned(),
            text: record.args().to_string(),
        };
        if let Err(TrySendError::Full(_)) = self.tx.try_send(r) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn flush(&self) {}
}

/// Python's level number for a record's level.
fn python_level(level: log::Level) -> u32 {
    match level {
        log::Level::Error => 40,
        log::Level::Warn => 30,
        log::Level::Info => 20,
        log::Level::Debug => 10,
        log::Level::Trace => 5,
    }
}

/// The most verbose `log` level a Python logger wants, from its effective level.
fn level_filter(level: u32) -> log::LevelFilter {
    match level {
        0..=5 => log::LevelFilter::Trace,
        6..=10 => log::LevelFilter::Debug,
        11..=20 => log::LevelFilter::Info,
        21..=30 => log::LevelFilter::Warn,
        31..=40 => log::LevelFilter::Error,
        _ => log::LevelFilter::Off,
    }
}

fn bridge() -> &'static Bridge {
    BRIDGE.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE);
        let rx_thread = rx.clone();
        let spawned = std::thread::Builder::new()
            .name("osc4rs-log".into())
            .spawn(move || {
                for record in rx_thread {
                    // At interpreter shutdown there is nobody left to tell.
                    let _ = Python::try_attach(|py| deliver(py, &record));
                }
            });
        if spawned.is_err() {
            // Without the thread, records are still delivered by `flush`.
            log::set_max_level(log::LevelFilter::Off);
        }
        Bridge {
            tx,
            rx,
            dropped: AtomicU64::new(0),
        }
    })
}

fn deliver(py: Python<'_>, record: &Record) {
    let logger = LOGGER.lock().as_ref().map(|l| l.clone_ref(py));
    if let Some(logger) = logger {
        let _ = logger.bind(py).call_method1(
            "log",
            (
                python_level(record.level),
                "%s: %s",
                record.target.as_str(),
                record.text.as_str(),
            ),
        );
    }
}

/// Sends the runtime's records to `logger` (a `logging.Logger`), or turns the bridge
/// off with `None`. The `log` level follows the logger's effective level at this call.
pub(crate) fn set_logger(py: Python<'_>, logger: Option<Py<PyAny>>) -> PyResult<()> {
    let filter = match &logger {
        Some(l) => level_filter(l.bind(py).call_method0("getEffectiveLevel")?.extract()?),
        None => log::LevelFilter::Off,
    };
    let b = bridge();
    // Only the first call installs it; later ones find it (or another logger) there.
    let _ = log::set_logger(b);
    *LOGGER.lock() = logger;
    log::set_max_level(filter);
    Ok(())
}

/// Delivers the queued records from this thread, then reports records dropped for a
/// full queue (if any).
pub(crate) fn flush(py: Python<'_>) {
    let Some(b) = BRIDGE.get() else {
        return;
    };
    while let Ok(record) = b.rx.try_recv() {
        deliver(py, &record);
    }
    let dropped = b.dropped.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        deliver(
            py,
            &Record {
                level: log::Level::Warn,
                target: "osc4rs".into(),
                text: format!("{dropped} log records dropped: the logger could not keep up"),
            },
        );
    }
}
