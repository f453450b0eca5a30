//! The poll registration of a datagram socket (UDP or Unix), kept to what it needs.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use mio::{Interest, Registry, Token, event::Source};

/// The interest of a datagram socket that `reads` and has datagrams `queued`:
/// readable when it reads, writable only while datagrams wait (`None`: not at all).
///
/// Writability is not watched otherwise. With edge-triggered polling, every datagram
/// the socket sends raises a writable edge when the kernel frees it, so a reactor
/// that always watched it would wake for each send (the facade's writers send from
/// other threads) and a reading socket would report a writable-only event, one
/// wasted `epoll_wait` return, whenever a datagram arrived while the last read was
/// still running. A write-only channel with nothing queued is not registered at all.
pub(crate) fn datagram_interest(reads: bool, queued: bool) -> Option<Interest> {
    match (reads, queued) {
        (true, false) => Some(Interest::READABLE),
        (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
        (false, false) => None,
        (false, true) => Some(Interest::WRITABLE),
    }
}

/// Counts the changes of datagram sockets' registrations, in every reactor of the
/// process: a reactor that worked out something from them (which socket it can wait
/// in the read of, `reactor::nap`) knows it still holds while this has not moved.
static CHANGES: AtomicU64 = AtomicU64::new(0);

/// How many datagram socket registrations changed so far (see [`CHANGES`]).
pub(crate) fn changes() -> u64 {
    CHANGES.load(Ordering::Relaxed)
}

/// Notes a change of a datagram socket's registration made outside [`rewatch`].
pub(crate) fn note_change() {
    CHANGES.fetch_add(1, Ordering::Relaxed);
}

/// Registers, re-registers or deregisters `source` so that its interest goes from
/// `*registered` to `wanted` (nothing when they are the same).
pub(crate) fn rewatch(
    registry: &Registry,
    token: Token,
    source: &mut impl Source,
    registered: &mut Option<Interest>,
    wanted: Option<Interest>,
) -> io::Result<()> {
    if wanted == *registered {
        return Ok(());
    }
    match (*registered, wanted) {
        (None, Some(i)) => registry.register(source, token, i)?,
        (Some(_), Some(i)) => registry.reregister(source, token, i)?,
        (Some(_), None) => registry.deregister(source)?,
        (None, None) => {}
    }
    *registered = wanted;
    note_change();
    Ok(())
}

/// Takes `source` out of the poll, if it is in it.
pub(crate) fn unwatch(
    registry: &Registry,
    source: &mut impl Source,
    registered: &mut Option<Interest>,
) {
    if registered.take().is_some() {
        let _ = registry.deregister(source);
        note_change();
    }
}
