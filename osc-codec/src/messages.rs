//! Decoding that keeps every message's view as the validation finds it:
//! [`decode_messages`] into a caller's list, and [`MessageScratch`] for a receiver that
//! reads one packet after another into the same buffer.
//!
//! A bundle's view keeps no per-element positions, so walking
//! [`BundleRef::elements`](crate::BundleRef::elements) parses each element's address and
//! type tags a second time. These keep the views the validation built instead.

use alloc::vec::Vec;

use crate::decoder::{check_packet_size, checked};
use crate::{MessageRef, Options, PacketRef, Result, fast};

/// [`decode_with`](crate::decode_with), and every message of the packet in
/// `messages`, in order, as the validation found them: a lone message gives a list of
/// one; a bundle, its messages and those of its nested bundles. Reading them from there
/// needs no second parse, where [`BundleRef::elements`](crate::BundleRef::elements)
/// parses each element's address and type tags again. `messages` is cleared first and
/// left empty on an error.
///
/// The views borrow `bytes`, so the list does too: a receiver that reads each packet
/// into the same buffer keeps its list's allocation from packet to packet with
/// [`MessageScratch`]. A nested bundle's timetag is not in the list (walk
/// [`BundleRef::elements`](crate::BundleRef::elements) for that).
///
/// ```
/// use osc_codec::{decode_messages, Bundle, Message, Options, Packet, PacketRef, TimeTag};
///
/// let bytes = Packet::from(
///     Bundle::new(TimeTag::IMMEDIATELY)
///         .add(Message::new("/a").arg(1))
///         .add(Bundle::new(TimeTag::IMMEDIATELY).add(Message::new("/b").arg(2.5f32))),
/// )
/// .to_bytes()?;
/// let mut messages = Vec::new();
/// let packet = decode_messages(&bytes, &Options::DEFAULT, &mut messages)?;
/// assert!(matches!(packet, PacketRef::Bundle(_)));
/// let read: Vec<_> = messages.iter().map(|m| (m.address(), m.args().count())).collect();
/// assert_eq!(read, [("/a", 1), ("/b", 1)]);
/// assert_eq!(messages[1].args_as::<(f32,)>(), Some((2.5,)));
///
/// assert!(decode_messages(b"/bad", &Options::DEFAULT, &mut messages).is_err());
/// assert!(messages.is_empty());
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub fn decode_messages<'a>(
    bytes: &'a [u8],
    opts: &Options,
    messages: &mut Vec<MessageRef<'a>>,
) -> Result<PacketRef<'a>> {
    messages.clear();
    check_packet_size(bytes, opts)?;
    if let Some(p) = fast::packet_found(bytes, 0, opts, 0, messages) {
        return Ok(p);
    }
    // The fast path declined, maybe after some messages: the reference reader decides,
    // and the messages are found again in its view.
    messages.clear();
    let p = checked(bytes, 0, opts, 0)?;
    collect_messages(&p, messages);
    Ok(p)
}

/// Every message of a validated view, in order, into `out`.
#[cold]
#[inline(never)]
fn collect_messages<'a>(p: &PacketRef<'a>, out: &mut Vec<MessageRef<'a>>) {
    match p {
        PacketRef::Message(m) => out.push(*m),
        PacketRef::Bundle(b) => b.elements().for_each(|e| collect_messages(&e, out)),
    }
}

/// The list of [`decode_messages`], kept from one packet to the next by a receiver that
/// reads every packet into the same buffer: [`decode`](Self::decode) lends the packet
/// and its messages to a closure and takes the list back, so the views' borrow of the
/// buffer ends with the closure and the list's allocation stays.
///
/// ```
/// use osc_codec::{Bundle, Message, MessageScratch, Options, Packet};
///
/// let packets: Vec<Vec<u8>> = (0..3)
///     .map(|i| {
///         let b = Bundle::immediate()
///             .add(Message::new("/fader").arg(i).arg(0.5f32))
///             .add(Message::new("/mute").arg(i));
///         Packet::from(b).to_bytes()
///     })
///     .collect::<Result<_, _>>()?;
///
/// let mut scratch = MessageScratch::new();
/// let mut buffer = [0u8; 1536];
/// let mut faders = Vec::new();
/// for packet in &packets {
///     // A receive into the same buffer each time.
///     let n = packet.len();
///     buffer[..n].copy_from_slice(packet);
///     scratch.decode(&buffer[..n], &Options::DEFAULT, |_packet, messages| {
///         faders.extend(messages.iter().filter_map(|m| m.args_as::<(i32, f32)>()));
///     })?;
/// }
/// assert_eq!(faders, [(0, 0.5), (1, 0.5), (2, 0.5)]);
/// # Ok::<(), osc_codec::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct MessageScratch {
    /// Always empty between calls; only its allocation is kept.
    spare: Vec<MessageRef<'static>>,
}

impl MessageScratch {
    /// An empty scratch list; it allocates when the first packet with messages needs it.
    pub fn new() -> Self {
        MessageScratch::default()
    }

    /// [`decode_messages`] of `bytes` into the kept list, then `read` of the packet and
    /// its messages; `read`'s answer, or the decode's error (and `read` is not called).
    pub fn decode<'a, R>(
        &mut self,
        bytes: &'a [u8],
        opts: &Options,
        read: impl FnOnce(PacketRef<'a>, &[MessageRef<'a>]) -> R,
    ) -> Result<R> {
        let mut messages = recycle(core::mem::take(&mut self.spare));
        let answer = decode_messages(bytes, opts, &mut messages).map(|p| read(p, &messages));
        self.spare = recycle(messages);
        answer
    }
}

/// `list`'s allocation, emptied, as a list of views of another lifetime. Collecting an
/// emptied `Vec` into one of a type of the same size and alignment reuses its
/// allocation (std's in-place collection).
// The `filter_map` changes nothing but the item's lifetime, which is its purpose.
#[allow(clippy::unnecessary_filter_map)]
fn recycle<'to>(mut list: Vec<MessageRef<'_>>) -> Vec<MessageRef<'to>> {
    list.clear();
    list.into_iter().filter_map(|_| None).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{Bundle, Message, Packet};

    #[test]
    fn the_scratch_list_keeps_its_allocation_and_lends_each_packet_s_messages() {
        let bundle = |n: i32| {
            let b = (0..n).fold(Bundle::immediate(), |b, i| b.add(Message::new("/x").arg(i)));
            Packet::from(b).to_bytes().unwrap()
        };
        let mut scratch = MessageScratch::new();
        let mut buffer = Vec::new();
        let mut capacities = Vec::new();
        for n in [8, 3, 8, 0, 5] {
            buffer.clear();
            buffer.extend(bundle(n));
            let read = scratch.decode(&buffer, &Options::DEFAULT, |_, messages| {
                messages
                    .iter()
                    .filter_map(|m| m.args_as::<(i32,)>())
                    .map(|(i,)| i)
                    .collect::<Vec<_>>()
            });
            assert_eq!(read.unwrap(), (0..n).collect::<Vec<_>>());
            assert!(scratch.spare.is_empty());
            capacities.push(scratch.spare.capacity());
        }
        // Grown once, for the first 8, then kept.
        assert!(capacities[0] >= 8, "{capacities:?}");
        assert!(
            capacities.iter().all(|&c| c == capacities[0]),
            "{capacities:?}"
        );
        // An error leaves the list empty and `read` uncalled.
        let mut called = false;
        assert!(
            scratch
                .decode(b"/bad", &Options::DEFAULT, |_, _| called = true)
                .is_err()
        );
        assert!(!called && scratch.spare.is_empty());
        assert_eq!(scratch.spare.capacity(), capacities[0]);
    }
}
