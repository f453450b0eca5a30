//! One WebSocket client of the query server: `LISTEN` / `IGNORE` commands in, value
//! updates (binary OSC packets) and `PATH_ADDED` / `PATH_REMOVED` notifications out.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::events::Event;
use crate::namespace::{Namespace, rebase, under};

/// The most paths one client may listen to at once.
pub(crate) const MAX_LISTENS: usize = 4096;

/// A command from a client.
#[derive(Debug, Deserialize)]
struct Command {
    #[serde(rename = "COMMAND")]
    command: String,
    #[serde(rename = "DATA", default)]
    data: serde_json::Value,
}

fn notice(command: &str, data: impl serde::Serialize) -> Ws {
    Ws::text(serde_json::json!({"COMMAND": command, "DATA": data}).to_string())
}

/// Moves a client's subscriptions under `old` to the same paths under `new`, and
/// returns the `PATH_RENAMED` notice.
fn renamed(old: &str, new: &str, ns: &Namespace, listening: &mut HashSet<String>) -> Ws {
    let moved: Vec<String> = listening
        .iter()
        .filter(|p| under(p, old))
        .cloned()
        .collect();
    for path in moved {
        listening.remove(&path);
        ns.listen(&path, false);
        let to = rebase(&path, old, new);
        ns.listen(&to, true);
        listening.insert(to);
    }
    notice("PATH_RENAMED", serde_json::json!({"OLD": old, "NEW": new}))
}

/// What to do with one text message from the client.
enum Reply {
    None,
    Send(Ws),
    Close(CloseCode, String),
}

fn on_text(text: &str, ns: &Namespace, listening: &mut HashSet<String>) -> Reply {
    let cmd: Command = match serde_json::from_str(text) {
        Ok(c) => c,
        Err(e) => {
            return Reply::Close(CloseCode::Invalid, format!("malformed command JSON: {e}"));
        }
    };
    let Some(path) = cmd.data.as_str() else {
        return Reply::Send(notice(
            "ERROR",
            format!("{}: DATA must be a string (an OSC address)", cmd.command),
        ));
    };
    match cmd.command.as_str() {
        "LISTEN" => {
            if ns.node(path).is_none() {
                return Reply::Send(notice("ERROR", format!("LISTEN: no OSC node at {path}")));
            }
            if listening.len() >= MAX_LISTENS && !listening.contains(path) {
                return Reply::Send(notice(
                    "ERROR",
                    format!("LISTEN: more than {MAX_LISTENS} paths"),
                ));
            }
            if listening.insert(path.to_owned()) {
                ns.listen(path, true);
            }
            Reply::None
        }
        "IGNORE" => {
            if listening.remove(path) {
                ns.listen(path, false);
            }
            Reply::None
        }
        other => {
            log::debug!("osc-query: unknown WebSocket command {other:?}");
            Reply::Send(notice("ERROR", format!("unknown COMMAND {other:?}")))
        }
    }
}

/// Runs one client until it goes away, sends something unreadable, or stops reading
/// for `write_timeout`.
pub(crate) async fn session<S>(ws: WebSocketStream<S>, ns: Arc<Namespace>, write_timeout: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut tx, mut rx) = ws.split();
    let mut events = ns.subscribe();
    let mut listening: HashSet<String> = HashSet::new();
    loop {
        let out = tokio::select! {
            incoming = rx.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Ws::Close(_))) => break,
                Some(Ok(Ws::Text(t))) => match on_text(t.as_str(), &ns, &mut listening) {
                    Reply::None => continue,
                    Reply::Send(m) => m,
                    Reply::Close(code, reason) => {
                        log::info!("osc-query: closing a WebSocket client: {reason}");
                        let frame = CloseFrame { code, reason: reason.into() };
                        let _ = tokio::time::timeout(write_timeout, tx.send(Ws::Close(Some(frame)))).await;
                        break;
                    }
                },
                Some(Ok(Ws::Binary(_))) => notice(
                    "ERROR",
                    "OSC packets are not accepted on this WebSocket; send them to HOST_INFO's OSC_PORT",
                ),
                // Pings are answered by the protocol layer.
                Some(Ok(_)) => continue,
            },
            event = events.recv() => match event {
                Ok(Event::Value { path, packet }) if listening.contains(&*path) => Ws::binary(packet.to_vec()),
                Ok(Event::Value { .. }) => continue,
                Ok(Event::PathAdded(p)) => notice("PATH_ADDED", &*p),
                Ok(Event::PathRemoved(p)) => {
                    if listening.remove(&*p) {
                        ns.listen(&p, false);
                    }
                    notice("PATH_REMOVED", &*p)
                }
                Ok(Event::PathChanged(p)) => notice("PATH_CHANGED", &*p),
                Ok(Event::PathRenamed { old, new }) => renamed(&old, &new, &ns, &mut listening),
                Err(RecvError::Lagged(n)) => {
                    log::warn!("osc-query: a slow WebSocket client missed {n} updates");
                    continue;
                }
                Err(RecvError::Closed) => break,
            },
        };
        match tokio::time::timeout(write_timeout, tx.send(out)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                log::debug!("osc-query: WebSocket client gone: {e}");
                break;
            }
            Err(_) => {
                log::warn!("osc-query: a WebSocket client stopped reading; closed");
                break;
            }
        }
    }
    for path in listening {
        ns.listen(&path, false);
    }
}
