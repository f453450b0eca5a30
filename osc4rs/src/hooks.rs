//! Per-channel encode and decode hooks (osc4py3's `encodepacket`/`decodepacket` action
//! handlers).

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use osc_codec::{Packet, TimeTag};
use parking_lot::RwLock;

/// What a decode hook decides for one received packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Replacement bytes to decode instead of the received ones (`None`: keep them).
    pub bytes: Option<Vec<u8>>,
    /// Drop the packet (counted and logged at debug level).
    pub drop: bool,
    /// Per-packet options.
    pub options: PacketOptions,
}

/// Per-packet scheduling options a decode hook may set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketOptions {
    /// `Some(false)`: run this packet's bundles at once, whatever their timetags.
    pub honor_timetag: Option<bool>,
    /// Shift this packet's bundle timetags (osc4py3 `timetag_offset` per packet): a
    /// positive offset delays them, a negative one advances them.
    pub timetag_offset: Option<(Duration, bool)>,
}

/// Turns encoded bytes into the bytes sent on one channel.
pub type EncodeHook = Arc<dyn Fn(&Packet, Vec<u8>) -> Vec<u8> + Send + Sync>;
/// Looks at received bytes before decoding.
pub type DecodeHook = Arc<dyn Fn(&[u8]) -> Decoded + Send + Sync>;

/// Hooks of one channel. A TCP server's hooks also apply to its connections.
///
/// ```
/// use osc4rs::{ChannelHooks, Decoded};
/// use std::sync::Arc;
///
/// // Sign outgoing packets with a trailing byte, check and strip it on the way in.
/// let hooks = ChannelHooks {
///     encode: Some(Arc::new(|_packet, mut bytes: Vec<u8>| { bytes.extend_from_slice(&[0, 0, 0, 0x5a]); bytes })),
///     decode: Some(Arc::new(|bytes: &[u8]| match bytes.split_last_chunk::<4>() {
///         Some((body, [0, 0, 0, 0x5a])) => Decoded { bytes: Some(body.to_vec()), ..Decoded::default() },
///         _ => Decoded { drop: true, ..Decoded::default() },
///     })),
/// };
/// # let _ = hooks;
/// ```
#[derive(Clone, Default)]
pub struct ChannelHooks {
    /// Post-processes (or replaces) the encoded bytes before they are sent.
    pub encode: Option<EncodeHook>,
    /// Pre-processes received bytes and sets per-packet options.
    pub decode: Option<DecodeHook>,
}

impl std::fmt::Debug for ChannelHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelHooks")
            .field("encode", &self.encode.is_some())
            .field("decode", &self.decode.is_some())
            .finish()
    }
}

/// The hooks of the channels that have some.
#[derive(Debug, Default)]
pub(crate) struct HookTable {
    map: RwLock<HashMap<String, Arc<ChannelHooks>>>,
    /// Whether `map` has any entry: every send asks, and most runtimes have no hooks
    /// (a load instead of taking the lock). Written under the write lock.
    any: AtomicBool,
    /// Bumped when hooks change, so the receive path refreshes its cache.
    generation: AtomicU64,
}

impl HookTable {
    /// Sets (`None`: removes) a channel's hooks.
    pub(crate) fn set(&self, name: &str, hooks: Option<ChannelHooks>) {
        let mut map = self.map.write();
        match hooks {
            Some(h) => map.insert(name.to_owned(), Arc::new(h)),
            None => map.remove(name),
        };
        self.any.store(!map.is_empty(), Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Removes a closed channel's hooks, if it had some.
    pub(crate) fn remove(&self, name: &str) {
        let mut map = self.map.write();
        if map.remove(name).is_some() {
            self.any.store(!map.is_empty(), Ordering::Release);
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The hooks of a channel, or of its TCP server for a connection `SERVER/PEER`.
    /// Inlined: every send asks, and most runtimes have none.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<Arc<ChannelHooks>> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        self.look_up(name)
    }

    /// [`get`](Self::get) when some channel has hooks.
    fn look_up(&self, name: &str) -> Option<Arc<ChannelHooks>> {
        let hooks = self.map.read();
        hooks
            .get(name)
            .or_else(|| {
                name.rsplit_once('/')
                    .and_then(|(server, _)| hooks.get(server))
            })
            .cloned()
    }
}

/// Runs a channel's decode hook. A panic in it drops the packet (logged as an error)
/// instead of unwinding through the thread that reads.
pub(crate) fn run_decode(hook: &DecodeHook, channel: &str, bytes: &[u8]) -> Decoded {
    catch_unwind(AssertUnwindSafe(|| hook(bytes))).unwrap_or_else(|_| {
        log::error!("decode hook of channel {channel} panicked: packet dropped");
        Decoded {
            drop: true,
            ..Decoded::default()
        }
    })
}

/// Runs a channel's encode hook; `None` if it panicked (logged as an error).
pub(crate) fn run_encode(
    hook: &EncodeHook,
    channel: &str,
    packet: &Packet,
    bytes: Vec<u8>,
) -> Option<Vec<u8>> {
    let out = catch_unwind(AssertUnwindSafe(|| hook(packet, bytes)));
    if out.is_err() {
        log::error!("encode hook of channel {channel} panicked: packet not sent there");
    }
    out.ok()
}

/// Applies per-packet options to a decoded packet's bundle timetags.
pub(crate) fn apply(packet: &mut Packet, options: PacketOptions) {
    if options == PacketOptions::default() {
        return;
    }
    if let Packet::Bundle(b) = packet {
        if !b.timetag.is_immediate() {
            if options.honor_timetag == Some(false) {
                b.timetag = TimeTag::IMMEDIATELY;
            } else if let Some((d, later)) = options.timetag_offset {
                b.timetag = if later { b.timetag + d } else { b.timetag - d };
            }
        }
        for e in &mut b.content {
            apply(e, options);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use osc_codec::{Bundle, Message};

    #[test]
    fn options_rewrite_nested_timetags() {
        let t = TimeTag::new(3_900_000_000, 0);
        let mut p = Packet::from(Bundle::new(t).add(Bundle::new(t).add(Message::new("/a"))));
        apply(
            &mut p,
            PacketOptions {
                honor_timetag: Some(false),
                ..PacketOptions::default()
            },
        );
        let Packet::Bundle(b) = &p else { panic!() };
        assert!(b.timetag.is_immediate());
        assert!(b.content[0].as_bundle().unwrap().timetag.is_immediate());
        let mut p = Packet::from(Bundle::new(t));
        apply(
            &mut p,
            PacketOptions {
                timetag_offset: Some((Duration::from_secs(2), true)),
                ..PacketOptions::default()
            },
        );
        assert_eq!(
            p.as_bundle().unwrap().timetag,
            TimeTag::new(3_900_000_002, 0)
        );
    }

    #[test]
    fn the_table_answers_from_its_entries_as_they_come_and_go() {
        let t = HookTable::default();
        assert!(t.get("a").is_none());
        t.set("a", Some(ChannelHooks::default()));
        t.set("srv", Some(ChannelHooks::default()));
        assert!(t.get("a").is_some());
        assert!(
            t.get("srv/127.0.0.1:9000").is_some(),
            "a connection has its server's"
        );
        assert!(t.get("b").is_none());
        t.remove("a");
        assert!(t.get("a").is_none());
        assert!(t.get("srv").is_some());
        t.set("srv", None);
        assert!(t.get("srv").is_none());
        t.set("a", Some(ChannelHooks::default()));
        assert!(t.get("a").is_some());
    }
}
