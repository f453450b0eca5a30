//! osc4py3's optional wire extensions: address-pattern compression and advanced packet
//! control. Both are off the OSC standard; use them only between peers that agree.
//!
//! - **Address compression**: a message whose address is in the encode map is written
//!   with the address `/` followed by an int32 key before the type tags
//!   (`/\0\0\0` `KEY` `,tags...`); the receiver maps the key back. Keys must not
//!   start with the byte `,` (0x2C), which would read as type tags: use keys below
//!   0x2C00_0000.
//! - **Advanced packet control**: the encoded packet is wrapped in a message
//!   `/packet ,sbsbsb` carrying (checksum protocol, checksum, signature protocol,
//!   signature, encryption protocol, payload); the functions are yours
//!   ([`PacketControl`]).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::decoder::check_packet_size;
use crate::encode::{Out, patch_element_size, write_bundle_head};
use crate::read::Reader;
use crate::{BUNDLE_TAG, Error, Message, Options, Packet, PacketRef, Result, Value, decode_with};

/// Maps between addresses and int32 keys for address-pattern compression.
///
/// ```
/// use osc_codec::extensions::AddressCompression;
/// use osc_codec::{Message, Packet, Options};
///
/// let mut map = AddressCompression::default();
/// map.insert("/synth/1/freq", 7);
/// let packet = Packet::from(Message::new("/synth/1/freq").arg(440));
/// let wire = map.encode(&packet, &Options::DEFAULT)?;
/// assert_eq!(&wire[..12], b"/\0\0\0\0\0\0\x07,i\0\0");
/// assert_eq!(map.decode(&wire, &Options::DEFAULT)?, packet);
/// # Ok::<(), osc_codec::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressCompression {
    encode: BTreeMap<String, i32>,
    decode: BTreeMap<i32, String>,
}

impl AddressCompression {
    /// Adds an address and its key to both maps.
    pub fn insert(&mut self, address: impl Into<String>, key: i32) {
        let address = address.into();
        self.encode.insert(address.clone(), key);
        self.decode.insert(key, address);
    }

    /// The key of an address, if it has one.
    pub fn key(&self, address: &str) -> Option<i32> {
        self.encode.get(address).copied()
    }

    /// The address of a key, if it has one.
    pub fn address(&self, key: i32) -> Option<&str> {
        self.decode.get(&key).map(String::as_str)
    }

    /// Encodes a packet, compressing the addresses that have keys.
    pub fn encode(&self, packet: &Packet, opts: &Options) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.encode_into_vec(packet, opts, &mut out, 0)?;
        Ok(out)
    }

    fn encode_into_vec(
        &self,
        packet: &Packet,
        opts: &Options,
        out: &mut Vec<u8>,
        depth: usize,
    ) -> Result<()> {
        match packet {
            Packet::Message(m) => match self.key(&m.address) {
                Some(key) => {
                    let plain = Message {
                        address: String::from("/"),
                        args: m.args.clone(),
                    };
                    let start = out.len();
                    plain.encode_to_vec(out, opts)?;
                    // Insert the key right after the 4-byte "/" address.
                    let at = start + 4;
                    out.splice(at..at, key.to_be_bytes());
                    Ok(())
                }
                None => m.encode_to_vec(out, opts).map(|_| ()),
            },
            Packet::Bundle(b) => {
                if depth >= opts.depth_limit() {
                    return Err(Error::LimitExceeded {
                        what: "depth",
                        limit: opts.depth_limit(),
                        offset: out.len(),
                    });
                }
                let start = out.len();
                out.resize(start + 16, 0);
                write_bundle_head(
                    &mut Out::new(out.get_mut(start..).unwrap_or_default()),
                    0,
                    b.timetag,
                )?;
                for e in &b.content {
                    let size_pos = out.len();
                    out.extend_from_slice(&[0; 4]);
                    self.encode_into_vec(e, opts, out, depth + 1)?;
                    let end = out.len();
                    patch_element_size(&mut Out::new(out), size_pos, end)?;
                }
                Ok(())
            }
        }
    }

    /// Decodes a packet whose messages may have compressed addresses.
    pub fn decode(&self, bytes: &[u8], opts: &Options) -> Result<Packet> {
        check_packet_size(bytes, opts)?;
        let mut expanded = Vec::with_capacity(bytes.len());
        self.expand(bytes, 0, opts, 0, &mut expanded)?;
        Ok(decode_with(&expanded, opts)?.to_owned())
    }

    /// Rewrites compressed messages in standard form into `out`.
    fn expand(
        &self,
        raw: &[u8],
        base: usize,
        opts: &Options,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        if raw.starts_with(BUNDLE_TAG) {
            if depth >= opts.depth_limit() {
                return Err(Error::LimitExceeded {
                    what: "depth",
                    limit: opts.depth_limit(),
                    offset: base,
                });
            }
            let mut r = Reader::new(raw, base);
            out.extend_from_slice(r.take(16)?);
            while !r.is_empty() {
                let offset = r.offset();
                let size = r.u32()? as i32;
                let remaining = r.remaining();
                let n = usize::try_from(size)
                    .ok()
                    .filter(|&n| n > 0 && n <= remaining && n % 4 == 0)
                    .ok_or(Error::BadBundleElementSize {
                        offset,
                        size: size.into(),
                        remaining,
                    })?;
                let size_pos = out.len();
                out.extend_from_slice(&[0; 4]);
                self.expand(r.take(n)?, offset + 4, opts, depth + 1, out)?;
                let end = out.len();
                patch_element_size(&mut Out::new(out), size_pos, end)?;
            }
            return Ok(());
        }
        let compressed = raw.len() >= 8 && raw.starts_with(b"/\0\0\0") && raw.get(4) != Some(&b',');
        if !compressed {
            out.extend_from_slice(raw);
            return Ok(());
        }
        let mut r = Reader::new(raw, base);
        r.take(4)?;
        let key = r.u32()? as i32;
        let address = self.address(key).ok_or(Error::UnknownAddressKey { key })?;
        let start = out.len();
        out.extend_from_slice(address.as_bytes());
        let padded = crate::read::str_size(address.len());
        out.resize(start + padded, 0);
        out.extend_from_slice(r.rest());
        Ok(())
    }
}

/// The functions behind osc4py3's advanced packet control. Every method has a
/// do-nothing default, so implement only what you use.
pub trait PacketControl {
    /// The checksum protocol name written in the wrapper (osc4py3 `packet_checksum_prot`).
    fn checksum_protocol(&self) -> &str {
        ""
    }
    /// Makes the checksum of the raw packet.
    fn make_checksum(&self, _raw: &[u8]) -> Vec<u8> {
        Vec::new()
    }
    /// Checks a checksum; `false` gives [`Error::ChecksumMismatch`].
    fn check_checksum(&self, _raw: &[u8], _checksum: &[u8], _protocol: &str) -> bool {
        true
    }
    /// The signature protocol name (osc4py3 `packet_authsign_prot`).
    fn signature_protocol(&self) -> &str {
        ""
    }
    /// Signs the raw packet.
    fn make_signature(&self, _raw: &[u8]) -> Vec<u8> {
        Vec::new()
    }
    /// Checks a signature; `false` gives [`Error::InvalidSignature`].
    fn check_signature(&self, _raw: &[u8], _signature: &[u8], _protocol: &str) -> bool {
        true
    }
    /// The encryption protocol name (osc4py3 `packet_crypt_prot`).
    fn encryption_protocol(&self) -> &str {
        ""
    }
    /// Encrypts the raw packet (default: unchanged).
    fn encrypt(&self, raw: &[u8]) -> Vec<u8> {
        raw.to_vec()
    }
    /// Decrypts a payload; `None` gives [`Error::DecryptionFailed`].
    fn decrypt(&self, payload: &[u8], _protocol: &str) -> Option<Vec<u8>> {
        Some(payload.to_vec())
    }
}

/// The address of the advanced-packet-control wrapper message.
pub const PACKET_CONTROL_ADDRESS: &str = "/packet";

/// Wraps an encoded packet in a `/packet ,sbsbsb` message (checksum and signature
/// computed on the plain bytes, then the bytes encrypted), and encodes the wrapper.
///
/// ```
/// use osc_codec::extensions::{unwrap_packet, wrap_packet, PacketControl};
/// use osc_codec::Options;
///
/// struct Sum8;
/// impl PacketControl for Sum8 {
///     fn checksum_protocol(&self) -> &str { "sum8" }
///     fn make_checksum(&self, raw: &[u8]) -> Vec<u8> {
///         vec![raw.iter().fold(0u8, |a, b| a.wrapping_add(*b))]
///     }
///     fn check_checksum(&self, raw: &[u8], sum: &[u8], _: &str) -> bool {
///         self.make_checksum(raw) == sum
///     }
/// }
/// let inner = b"/a\0\0,\0\0\0";
/// let wire = wrap_packet(inner, &Sum8, &Options::DEFAULT)?;
/// assert_eq!(unwrap_packet(&wire, &Sum8, &Options::DEFAULT)?, inner);
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub fn wrap_packet(raw: &[u8], control: &dyn PacketControl, opts: &Options) -> Result<Vec<u8>> {
    let m = Message::new(PACKET_CONTROL_ADDRESS)
        .arg(control.checksum_protocol())
        .arg(control.make_checksum(raw))
        .arg(control.signature_protocol())
        .arg(control.make_signature(raw))
        .arg(control.encryption_protocol())
        .arg(control.encrypt(raw));
    let mut out = Vec::new();
    m.encode_to_vec(&mut out, opts)?;
    Ok(out)
}

/// Unwraps a `/packet ,sbsbsb` message: decrypts the payload, checks the signature and
/// the checksum, and returns the inner packet's bytes.
pub fn unwrap_packet(wire: &[u8], control: &dyn PacketControl, opts: &Options) -> Result<Vec<u8>> {
    let PacketRef::Message(m) = decode_with(wire, opts)? else {
        return Err(Error::InvalidAddress {
            offset: 0,
            reason: "advanced packet control needs a /packet message, found a bundle",
        });
    };
    if m.address() != PACKET_CONTROL_ADDRESS || m.type_tags() != ",sbsbsb" {
        return Err(Error::InvalidAddress {
            offset: 0,
            reason: "advanced packet control needs a /packet ,sbsbsb message",
        });
    }
    let args: Vec<Value> = m.to_owned().args;
    let text = |i: usize| args.get(i).and_then(Value::as_str).unwrap_or("");
    let blob = |i: usize| args.get(i).and_then(Value::as_blob).unwrap_or(&[]);
    let raw = control
        .decrypt(blob(5), text(4))
        .ok_or(Error::DecryptionFailed)?;
    if !control.check_signature(&raw, blob(3), text(2)) {
        return Err(Error::InvalidSignature);
    }
    if !control.check_checksum(&raw, blob(1), text(0)) {
        return Err(Error::ChecksumMismatch);
    }
    Ok(raw)
}
