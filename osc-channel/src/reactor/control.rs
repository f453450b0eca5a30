//! What other threads ask of the reactor: queued sends, and requests it answers.

use std::net::SocketAddr;

use super::Reactor;
use crate::command::{QueuedSend, SendTo};
use crate::handle::Control;
use crate::machine::deadline;
use crate::{ChannelError, ChannelEvent, ChannelId, DropReason};

impl Reactor {
    /// Sends everything other threads queued.
    // Inlined, with the drain out of line: empty is the usual case, twice a pass, and
    // the flag answers it with one load and no call frame.
    #[inline]
    pub(super) fn run_queued_sends(&mut self) {
        if self.handle.send_queue().queued().take() {
            self.deliver_queued_sends();
        }
    }

    /// The part of [`run_queued_sends`](Self::run_queued_sends) that runs when the flag
    /// was up.
    #[inline(never)]
    fn deliver_queued_sends(&mut self) {
        while let Ok(send) = self.sends.try_recv() {
            self.deliver(send);
        }
    }

    /// Answers other threads' requests (after their earlier sends: see [`Control`]).
    #[inline]
    pub(super) fn run_control(&mut self) {
        if self.handle.control_queued().take() {
            self.answer_queued();
        }
    }

    /// The part of [`run_control`](Self::run_control) that runs when the flag was up.
    #[inline(never)]
    fn answer_queued(&mut self) {
        while let Ok(request) = self.control.try_recv() {
            // The sends queued before the request go first (they raised the flag).
            self.run_queued_sends();
            self.answer(request);
        }
    }

    fn answer(&mut self, request: Control) {
        match request {
            Control::Open { name, spec, reply } => {
                let _ = reply.send(self.open(&name, *spec));
            }
            Control::Close { id, reply } => {
                let _ = reply.send(self.close(id));
            }
            Control::LocalAddr { id, reply } => {
                let _ = reply.send(self.local_addr(id));
            }
            Control::UdpWriter { id, reply } => {
                let _ = reply.send(self.udp_writer(id));
            }
            Control::Stats { id, reply } => {
                let _ = reply.send(self.stats(id));
            }
            Control::Flush { timeout, reply } => {
                let until = deadline(std::time::Instant::now(), timeout);
                self.flush_waiters.push((until, reply));
            }
            Control::Stop => self.stop_requested = true,
        }
    }

    /// Sends one queued packet. Failures are logged, counted and reported to the
    /// channel's event handler, as the crate docs promise for every drop.
    fn deliver(&mut self, send: QueuedSend) {
        let QueuedSend {
            to,
            data,
            dest,
            path,
            from_writer,
        } = send;
        let id = match to {
            SendTo::Id(id) => id,
            SendTo::Name(name) => match self.id_of(&name) {
                Some(id) => id,
                None => return self.no_such_name(&name, dest),
            },
        };
        let sent = match path {
            Some(path) => self.send_to_path(id, data, &path),
            None => self.send(id, data, dest),
        };
        if from_writer {
            self.release_backlog(id);
        }
        if let Err(e) = sent {
            log::warn!("queued send failed: {e}");
            if let ChannelError::UnknownChannel(_) | ChannelError::NotWritable(..) = e {
                if let Some(ch) = self.channels.get(&id.0) {
                    log::warn!(
                        "channel {}: {}",
                        ch.name,
                        ChannelEvent::Dropped {
                            reason: DropReason::NoRoute,
                            peer: dest
                        }
                    );
                    ch.report_drop(DropReason::NoRoute, dest);
                }
            }
        }
    }

    /// A queued send to a name that is not open. For a connection `SERVER/PEER` that
    /// has gone, the drop counts on its server and goes to the server's event handler.
    fn no_such_name(&mut self, name: &str, dest: Option<SocketAddr>) {
        log::warn!("queued send to unknown channel {name:?} dropped");
        let Some((server, peer)) = name.rsplit_once('/') else {
            return;
        };
        let peer = dest.or_else(|| peer.parse().ok());
        if let Some(ch) = self.id_of(server).and_then(|id| self.channels.get(&id.0)) {
            ch.report_drop(DropReason::NoRoute, peer);
        }
    }

    /// A packet a writer queued has been handled (written, queued in the channel, or
    /// dropped): it no longer holds the writer back.
    fn release_backlog(&self, id: ChannelId) {
        if let Some(crate::channel::Channel {
            kind: crate::channel::Kind::Udp(u),
            ..
        }) = self.channels.get(&id.0).map(|c| &**c)
        {
            u.backlog().remove();
        }
    }
}
