//! One page's WebSocket: commands in (JSON, see the `protocol` module),
//! snapshots out at a fixed rate, and the answers to sends and recording requests.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::config::HttpLimits;
use crate::hub::{Hub, RecordingStatus, Request};
use crate::limits::unix_secs;
use crate::protocol::{self, Command, MAX_POINTS, MAX_ROWS, MAX_WINDOW};
use crate::snapshot::{Snapshot, SortKey, View};

/// Addresses one page may plot at once.
pub(crate) const PAGE_PLOTS: usize = 8;
/// How long a page waits for the OSC thread's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

#[derive(Serialize)]
struct Update<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    snapshot: &'a Snapshot,
    recording: &'a RecordingStatus,
}

fn error(text: &str) -> String {
    json!({"type": "error", "error": text}).to_string()
}

fn update(hub: &Hub, view: &mut View) -> String {
    let now = unix_secs(SystemTime::now());
    let snapshot = hub.monitor.lock().snapshot(now, view);
    let recording = hub.recording.lock().clone();
    let u = Update {
        kind: "snapshot",
        snapshot: &snapshot,
        recording: &recording,
    };
    serde_json::to_string(&u).unwrap_or_else(|e| error(&format!("cannot write JSON: {e}")))
}

/// Hands a request to the OSC thread; its answer reaches the page as a `kind`
/// message (with `id` when given).
fn ask(
    hub: &Hub,
    kind: &'static str,
    id: Option<u64>,
    make: impl FnOnce(oneshot::Sender<Result<String, String>>) -> Request,
    answers: &mpsc::Sender<String>,
) {
    let (tx, rx) = oneshot::channel();
    hub.request(make(tx));
    let answers = answers.clone();
    tokio::spawn(async move {
        let r = match tokio::time::timeout(ANSWER_WITHIN, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err("the monitor is stopping".to_owned()),
            Err(_) => Err("no answer within 5 s".to_owned()),
        };
        let msg = match r {
            Ok(text) => json!({"type": kind, "id": id, "ok": true, "text": text}),
            Err(e) => json!({"type": kind, "id": id, "ok": false, "error": e}),
        };
        let _ = answers.send(msg.to_string()).await;
    });
}

fn on_text(
    text: &str,
    hub: &Hub,
    client: u64,
    view: &mut View,
    answers: &mpsc::Sender<String>,
) -> Option<String> {
    let cmd = match protocol::parse(text) {
        Ok(c) => c,
        Err(e) => return Some(error(&e)),
    };
    match cmd {
        Command::View(v) => {
            if let Some(f) = v.filter {
                view.filter = if f.trim().is_empty() {
                    None
                } else {
                    match osc_pattern::Filter::osc(f.trim()) {
                        Ok(f) => Some(f),
                        Err(e) => return Some(error(&format!("view: bad filter {f:?}: {e}"))),
                    }
                };
            }
            if let Some(s) = v.sort {
                match SortKey::parse(&s) {
                    Some(k) => view.sort = k,
                    None => return Some(error(&format!("view: cannot sort by {s:?}"))),
                }
            }
            if let Some(d) = v.desc {
                view.descending = d;
            }
            if let Some(l) = v.limit {
                view.limit = l.min(MAX_ROWS);
            }
            None
        }
        Command::Plot(p) => {
            if let Some(w) = p.window.filter(|w| w.is_finite()) {
                view.window = w.clamp(0.1, MAX_WINDOW);
            }
            if let Some(n) = p.points {
                view.points = n.clamp(10, MAX_POINTS);
            }
            let wanted: Vec<String> = p.addresses.into_iter().take(PAGE_PLOTS).collect();
            view.plots = hub.monitor.lock().set_plots(client, &wanted);
            Some(json!({"type": "plot", "addresses": view.plots}).to_string())
        }
        Command::Send(s) => {
            let bytes = (hub.parser)(&s.packet)
                .and_then(|p| p.to_bytes().map_err(|e| format!("cannot encode: {e}")));
            match bytes {
                Err(e) => {
                    Some(json!({"type": "sent", "id": s.id, "ok": false, "error": e}).to_string())
                }
                Ok(bytes) => {
                    let url = s.url;
                    ask(
                        hub,
                        "sent",
                        s.id,
                        |answer| Request::Send { url, bytes, answer },
                        answers,
                    );
                    None
                }
            }
        }
        Command::Record(r) => match r.action.as_str() {
            "start" => {
                let name = r.name;
                ask(
                    hub,
                    "record",
                    None,
                    |answer| Request::RecordStart { name, answer },
                    answers,
                );
                None
            }
            "stop" => {
                ask(
                    hub,
                    "record",
                    None,
                    |answer| Request::RecordStop { answer },
                    answers,
                );
                None
            }
            other => Some(error(&format!(
                "record: action {other:?} is not start or stop"
            ))),
        },
    }
}

pub(crate) async fn run<S>(
    ws: WebSocketStream<S>,
    hub: Arc<Hub>,
    limits: HttpLimits,
    mut stopped: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let client = hub.client();
    let (mut tx, mut rx) = ws.split();
    let mut view = View::default();
    let (answers_tx, mut answers) = mpsc::channel::<String>(16);
    let mut tick = tokio::time::interval(limits.update_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let hello = json!({
        "type": "hello",
        "endpoints": hub.endpoints,
        "update_ms": limits.update_every.as_millis() as u64,
        "version": env!("CARGO_PKG_VERSION"),
    });
    let mut out = Some(hello.to_string());
    loop {
        if let Some(text) = out.take() {
            match tokio::time::timeout(limits.ws_write_timeout, tx.send(Ws::text(text))).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    log::info!("osc-monitor: page {client} gone: {e}");
                    break;
                }
                Err(_) => {
                    log::info!("osc-monitor: page {client} takes no updates; closed");
                    break;
                }
            }
        }
        out = tokio::select! {
            _ = stopped.changed() => break,
            incoming = rx.next() => match incoming {
                None | Some(Ok(Ws::Close(_))) => break,
                Some(Err(e)) => {
                    // Too long a message, bad framing: say why, then close.
                    log::info!("osc-monitor: page {client}: {e}");
                    let frame = CloseFrame { code: CloseCode::Size, reason: e.to_string().chars().take(100).collect::<String>().into() };
                    let _ = tokio::time::timeout(limits.ws_write_timeout, tx.send(Ws::Close(Some(frame)))).await;
                    break;
                }
                Some(Ok(Ws::Text(t))) => on_text(t.as_str(), &hub, client, &mut view, &answers_tx),
                Some(Ok(Ws::Binary(_))) => Some(error("binary messages are not understood; send JSON text")),
                Some(Ok(_)) => None,
            },
            _ = tick.tick() => Some(update(&hub, &mut view)),
            Some(a) = answers.recv() => Some(a),
        };
    }
    hub.monitor.lock().forget(client);
}
