//! What the OSC thread and the web server share: the monitor's state, the recording's
//! status, and the queue of requests (sends, recording) from pages to the OSC thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

use osc_channel::ReactorHandle;
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::aggregate::Monitor;

/// Requests queued for the OSC thread at most.
pub(crate) const REQUESTS: usize = 64;

/// The recording's state, as pages see it.
///
/// ```
/// let s = osc_monitor::RecordingStatus::default();
/// assert!(!s.active);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RecordingStatus {
    /// A recording is being written.
    pub active: bool,
    /// Its file (or the last one's).
    pub path: Option<String>,
    /// Packets written.
    pub records: u64,
    /// Why the last recording stopped or could not start, if it failed.
    pub error: Option<String>,
}

/// A page's answer: what happened, or why not.
pub(crate) type Answer = oneshot::Sender<Result<String, String>>;

/// What a page asks the OSC thread to do.
#[derive(Debug)]
pub(crate) enum Request {
    /// Send these bytes to this endpoint URL.
    Send {
        url: String,
        bytes: Vec<u8>,
        answer: Answer,
    },
    /// Start recording (into this file name of the record directory, or a new name).
    RecordStart {
        name: Option<String>,
        answer: Answer,
    },
    /// Stop recording.
    RecordStop { answer: Answer },
}

/// A text notation parser for the send panel.
pub(crate) type Parser = fn(&str) -> Result<osc_codec::Packet, String>;

#[derive(Debug)]
pub(crate) struct Hub {
    pub(crate) monitor: Mutex<Monitor>,
    pub(crate) recording: Mutex<RecordingStatus>,
    pub(crate) endpoints: Vec<String>,
    pub(crate) parser: Parser,
    requests: SyncSender<Request>,
    wake: ReactorHandle,
    clients: AtomicU64,
}

impl Hub {
    pub(crate) fn new(
        monitor: Monitor,
        endpoints: Vec<String>,
        parser: Parser,
        requests: SyncSender<Request>,
        wake: ReactorHandle,
    ) -> Self {
        Hub {
            monitor: Mutex::new(monitor),
            recording: Mutex::new(RecordingStatus::default()),
            endpoints,
            parser,
            requests,
            wake,
            clients: AtomicU64::new(0),
        }
    }

    /// Wakes the OSC thread (to see the stop flag at once).
    pub(crate) fn wake(&self) {
        self.wake.wake();
    }

    /// A number for a new page.
    pub(crate) fn client(&self) -> u64 {
        self.clients.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Queues a request for the OSC thread and wakes it; a full queue or a stopped
    /// thread answers at once.
    pub(crate) fn request(&self, r: Request) {
        match self.requests.try_send(r) {
            Ok(()) => self.wake.wake(),
            Err(TrySendError::Full(r)) => answer(r, "the monitor is busy; try again"),
            Err(TrySendError::Disconnected(r)) => answer(r, "the monitor is stopping"),
        }
    }
}

fn answer(r: Request, why: &str) {
    let a = match r {
        Request::Send { answer, .. }
        | Request::RecordStart { answer, .. }
        | Request::RecordStop { answer } => answer,
    };
    let _ = a.send(Err(why.to_owned()));
}
