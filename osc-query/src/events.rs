//! What the namespace tells the streaming side: values that changed and paths that
//! came or went. One bounded broadcast queue; a reader that falls behind loses the
//! oldest events (counted by the reader), so a slow WebSocket client never makes the
//! queue grow.

use std::sync::Arc;

use osc_codec::{Message, Packet, Value};
use tokio::sync::broadcast;

/// How many events wait for the slowest reader before the oldest are dropped.
pub(crate) const EVENT_QUEUE: usize = 1024;

/// One change.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A value was set (by a message or by the application): the OSC packet that
    /// carries it, encoded once for every listener.
    Value { path: Arc<str>, packet: Arc<[u8]> },
    /// A method or parameter appeared.
    PathAdded(Arc<str>),
    /// A method or parameter went away.
    PathRemoved(Arc<str>),
}

/// The sending end, shared by the namespace and its parameters.
#[derive(Debug)]
pub(crate) struct Hub {
    tx: broadcast::Sender<Event>,
}

impl Hub {
    pub(crate) fn new() -> Self {
        Hub {
            tx: broadcast::channel(EVENT_QUEUE).0,
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    pub(crate) fn send(&self, event: Event) {
        // No receiver is not an error: nobody streams.
        let _ = self.tx.send(event);
    }

    /// Encodes and broadcasts a value change, only when someone may listen.
    pub(crate) fn value(&self, path: &str, args: Vec<Value>) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let mut msg = Message::new(path);
        msg.args = args;
        match Packet::from(msg).to_bytes() {
            Ok(bytes) => self.send(Event::Value {
                path: path.into(),
                packet: bytes.into(),
            }),
            Err(e) => log::warn!("osc-query: cannot encode the value of {path}: {e}"),
        }
    }
}
