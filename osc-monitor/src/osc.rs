//! The OSC side: one thread drives an osc-channel reactor over the monitored
//! endpoints, feeds every packet to the [`Monitor`](crate::Monitor), writes the
//! recording, and carries out the pages' requests (sends, recording start and stop).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, SystemTime};

use osc_channel::{ChannelId, ChannelSpec, Endpoint, Reactor, Received};

use crate::hub::{Hub, Request};
use crate::limits::unix_secs;

/// Destinations of the send panel kept open at most (the oldest is closed).
const DESTINATIONS: usize = 16;
/// The longest wait of one pass when nothing happens.
const PASS: Duration = Duration::from_millis(50);

struct Recording {
    out: BufWriter<File>,
    started: SystemTime,
    records: u64,
}

pub(crate) struct OscSide {
    pub(crate) reactor: Reactor,
    /// Channel name prefix `eN` -> endpoint URL.
    pub(crate) labels: Vec<String>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) requests: Receiver<Request>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) record_dir: PathBuf,
}

fn label<'a>(labels: &'a [String], name: &'a str) -> &'a str {
    name.strip_prefix('e')
        .and_then(|n| n.split('/').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|i| labels.get(i))
        .map_or(name, String::as_str)
}

/// A file name the page may choose: letters, digits, `.`, `_` and `-`, not starting
/// with a dot, at most 100 characters.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl OscSide {
    pub(crate) fn run(mut self) {
        let mut recording: Option<Recording> = None;
        let mut destinations: VecDeque<(String, ChannelId)> = VecDeque::new();
        while !self.stop.load(Ordering::Relaxed) {
            self.pass(&mut recording);
            while let Ok(req) = self.requests.try_recv() {
                match req {
                    Request::Send { url, bytes, answer } => {
                        let _ = answer.send(self.send(&mut destinations, &url, bytes));
                    }
                    Request::RecordStart { name, answer } => {
                        let _ = answer.send(self.record_start(&mut recording, name.as_deref()));
                    }
                    Request::RecordStop { answer } => {
                        let _ = answer.send(self.record_stop(&mut recording));
                    }
                }
            }
        }
        if let Some(mut r) = recording {
            let _ = r.out.flush();
        }
        let _ = self.reactor.flush(Duration::from_secs(1), |_| {});
    }

    /// One reactor pass: every packet read goes to the monitor (and the recording).
    fn pass(&mut self, recording: &mut Option<Recording>) {
        let hub = &self.hub;
        let labels = &self.labels;
        let mut failed = None;
        let result = self.reactor.poll(Some(PASS), |p: Received<'_>| {
            let channel = label(labels, p.name);
            hub.monitor
                .lock()
                .observe(unix_secs(p.arrival), p.peer, channel, p.data);
            if let Some(r) = recording.as_mut() {
                let rec = osc4rs::record::Record {
                    at: p.arrival.duration_since(r.started).unwrap_or_default(),
                    peer: p.peer,
                    channel: channel.to_owned(),
                    data: p.data.to_vec(),
                };
                match osc4rs::record::write_record(&mut r.out, &rec) {
                    Ok(()) => r.records += 1,
                    Err(e) => failed = Some(e.to_string()),
                }
            }
        });
        if let Err(e) = result {
            log::error!("osc-monitor: the reactor failed: {e}");
            std::thread::sleep(PASS);
        }
        if let Some(r) = recording.as_mut() {
            if let Err(e) = r.out.flush() {
                failed.get_or_insert(e.to_string());
            }
            let mut st = self.hub.recording.lock();
            st.records = r.records;
            if let Some(e) = failed {
                log::error!("osc-monitor: recording stopped: {e}");
                st.active = false;
                st.error = Some(format!("recording stopped: {e}"));
                *recording = None;
            }
        }
    }

    fn record_start(
        &self,
        recording: &mut Option<Recording>,
        name: Option<&str>,
    ) -> Result<String, String> {
        if recording.is_some() {
            return Err("already recording".to_owned());
        }
        match self.start_recording(name) {
            Ok((r, path)) => {
                *recording = Some(r);
                *self.hub.recording.lock() = crate::RecordingStatus {
                    active: true,
                    path: Some(path.clone()),
                    records: 0,
                    error: None,
                };
                Ok(path)
            }
            Err(e) => {
                self.hub.recording.lock().error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn record_stop(&self, recording: &mut Option<Recording>) -> Result<String, String> {
        let Some(mut r) = recording.take() else {
            return Err("not recording".to_owned());
        };
        let mut st = self.hub.recording.lock();
        st.active = false;
        st.records = r.records;
        match r.out.flush() {
            Ok(()) => Ok(format!(
                "{} packets in {}",
                r.records,
                st.path.as_deref().unwrap_or("?")
            )),
            Err(e) => {
                st.error = Some(e.to_string());
                Err(e.to_string())
            }
        }
    }

    fn start_recording(&self, name: Option<&str>) -> Result<(Recording, String), String> {
        let started = SystemTime::now();
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) if plain_name(n) => n.to_owned(),
            Some(n) => {
                return Err(format!(
                    "{n:?} is not a plain file name (letters, digits, '.', '_', '-')"
                ));
            }
            None => format!("monitor-{}.rec", unix_secs(started) as u64),
        };
        let path: PathBuf = Path::new(&self.record_dir).join(&name);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let mut out = BufWriter::new(file);
        osc4rs::record::write_header(&mut out)
            .and_then(|()| {
                osc4rs::record::write_started(&mut out, osc4rs::TimeTag::from_system_time(started))
            })
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        log::info!("osc-monitor: recording to {}", path.display());
        Ok((
            Recording {
                out,
                started,
                records: 0,
            },
            path.display().to_string(),
        ))
    }

    fn send(
        &mut self,
        destinations: &mut VecDeque<(String, ChannelId)>,
        url: &str,
        bytes: Vec<u8>,
    ) -> Result<String, String> {
        let id = match destinations.iter().find(|(u, _)| u == url) {
            Some((_, id)) => *id,
            None => {
                let endpoint: Endpoint = url
                    .parse()
                    .map_err(|e| format!("bad endpoint URL {url:?}: {e}"))?;
                let spec = endpoint
                    .client_spec()
                    .map_err(|e| format!("cannot send to {url}: {e}"))?;
                let spec = match spec {
                    ChannelSpec::Udp(mut c) => {
                        c.recv_buffer = None;
                        ChannelSpec::Udp(c)
                    }
                    other => other,
                };
                if destinations.len() >= DESTINATIONS {
                    if let Some((_, old)) = destinations.pop_front() {
                        let _ = self.reactor.close(old);
                    }
                }
                let id = self
                    .reactor
                    .open("send", spec)
                    .map_err(|e| format!("cannot open {url}: {e}"))?;
                destinations.push_back((url.to_owned(), id));
                id
            }
        };
        let n = bytes.len();
        self.reactor
            .send(id, Arc::from(bytes), None)
            .map_err(|e| format!("cannot send to {url}: {e}"))?;
        Ok(format!("{n} bytes sent to {url}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_file_names_stay_in_the_directory() {
        assert!(plain_name("show-1.rec"));
        for bad in ["", "../x", "/etc/passwd", ".hidden", "a/b", "a b", "x\0"] {
            assert!(!plain_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn channel_names_map_to_endpoints() {
        let labels = vec!["osc.udp://:1".to_owned(), "osc.tcp://:2".to_owned()];
        assert_eq!(label(&labels, "e1/127.0.0.1:5"), "osc.tcp://:2");
        assert_eq!(label(&labels, "e0"), "osc.udp://:1");
        assert_eq!(label(&labels, "send"), "send");
    }
}
