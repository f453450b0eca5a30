//! What the namespace tells the streaming side: values that changed and paths that
//! came or went. One bounded broadcast queue; a reader that falls behind loses the
//! oldest events (counted by the reader), so a slow WebSocket client never makes the
//! queue grow.

use std::collections::HashMap;
use std::sync::Arc;

use osc_codec::{Message, Packet, Value};
use parking_lot::Mutex;
use tokio::sync::broadcast;

/// Told when a path gets its first listener (true) or loses its last (false).
pub(crate) type ListenHook = Arc<dyn Fn(&str, bool) + Send + Sync>;

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
    /// A node's attributes changed (its description, type tags or access).
    PathChanged(Arc<str>),
    /// What was at `old` (and under it) now lives at `new`.
    PathRenamed { old: Arc<str>, new: Arc<str> },
}

/// The sending end, shared by the namespace and its parameters.
pub(crate) struct Hub {
    tx: broadcast::Sender<Event>,
    /// How many WebSocket clients listen to each path.
    listeners: Mutex<HashMap<String, usize>>,
    hook: Mutex<Option<ListenHook>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("listened", &self.listeners.lock().len())
            .finish()
    }
}

impl Hub {
    pub(crate) fn new() -> Self {
        Hub {
            tx: broadcast::channel(EVENT_QUEUE).0,
            listeners: Mutex::new(HashMap::new()),
            hook: Mutex::new(None),
        }
    }

    pub(crate) fn set_hook(&self, hook: Option<ListenHook>) {
        *self.hook.lock() = hook;
    }

    /// A client listens to `path` (each client counts once per path).
    pub(crate) fn listen(&self, path: &str) {
        let first = {
            let mut l = self.listeners.lock();
            let n = l.entry(path.to_owned()).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first {
            self.call_hook(path, true);
        }
    }

    /// A client stops listening to `path`.
    pub(crate) fn unlisten(&self, path: &str) {
        let last = {
            let mut l = self.listeners.lock();
            match l.get_mut(path) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    l.remove(path);
                    true
                }
                None => false,
            }
        };
        if last {
            self.call_hook(path, false);
        }
    }

    /// Calls the hook with no lock held (it registers methods).
    fn call_hook(&self, path: &str, on: bool) {
        let hook = self.hook.lock().clone();
        if let Some(h) = hook {
            h(path, on);
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
