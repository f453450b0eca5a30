//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc_channel::{ChannelEvent, EventHandler, Reactor, Verdict};

/// A received packet, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub name: String,
    pub peer: Option<SocketAddr>,
    pub data: Vec<u8>,
}

/// Polls until `want` packets arrived (or 5 s passed) and returns them.
pub fn collect(reactor: &mut Reactor, want: usize) -> Vec<Got> {
    collect_for(reactor, want, Duration::from_secs(5))
}

pub fn collect_for(reactor: &mut Reactor, want: usize, limit: Duration) -> Vec<Got> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    while got.len() < want && Instant::now() < deadline {
        reactor
            .poll(Some(Duration::from_millis(20)), |p| {
                got.push(Got {
                    name: p.name.to_owned(),
                    peer: p.peer,
                    data: p.data.to_vec(),
                })
            })
            .expect("poll");
    }
    got
}

/// Polls for a while, for things that should *not* arrive or for connections to settle.
pub fn settle(reactor: &mut Reactor, d: Duration) -> Vec<Got> {
    collect_for(reactor, usize::MAX, d)
}

pub fn pkt(s: &str) -> Arc<[u8]> {
    let msg = osc_codec::Packet::from(osc_codec::Message::new(s));
    Arc::from(msg.to_bytes().unwrap())
}

/// An event handler that records every event as text, and refuses connections when
/// `refuse` is set.
pub fn recorder(refuse: bool) -> (EventHandler, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let l2 = Arc::clone(&log);
    let handler: EventHandler = Arc::new(move |name: &str, ev: &ChannelEvent<'_>| {
        l2.lock().unwrap().push(format!("{name}: {ev}"));
        match ev {
            ChannelEvent::ConnectionRequest(_) if refuse => Verdict::Refuse,
            _ => Verdict::Accept,
        }
    });
    (handler, log)
}

pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
