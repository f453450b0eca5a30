//! The crate's one error type.

use crate::Tag;

/// Everything that can go wrong while encoding, decoding or deframing OSC data.
///
/// Decoding errors carry the byte `offset` in the packet where the problem was found.
///
/// Mapping to osc4py3's exception classes (for users porting code):
///
/// | osc4py3 | osc-codec |
/// |---|---|
/// | `OSCInvalidRawError` | [`Error::UnexpectedEnd`], [`Error::Misaligned`], [`Error::MissingTerminator`], [`Error::NonZeroPadding`], [`Error::TrailingBytes`], [`Error::BadBundleElementSize`], [`Error::BadBlobSize`], [`Error::MissingTypeTags`], [`Error::NotAPacket`] |
/// | `OSCUnknownTypetagError` | [`Error::UnknownTag`], [`Error::UnbalancedArray`] |
/// | `OSCInvalidDataError` | [`Error::TagMismatch`], [`Error::ArgCount`], [`Error::InvalidString`], [`Error::InvalidAddress`], [`Error::InvalidChar`], [`Error::TagNotAllowed`] |
/// | `OSCCorruptedRawError` | [`Error::ChecksumMismatch`] |
/// | `OSCInvalidSignatureError` | [`Error::InvalidSignature`] |
/// | `OSCBufferOverflow` (implicit in osc4py3) | [`Error::BufferTooSmall`], [`Error::LimitExceeded`], [`Error::FrameTooLarge`], [`Error::BadFrameSize`] |
///
/// ```
/// use osc_codec::{decode, Error};
/// let err = decode(b"/a\0\0,ii\0\0\0\0\x01").unwrap_err();
/// assert!(matches!(err, Error::UnexpectedEnd { offset: 12, needed: 4, available: 0 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Text given as hex is not hex (see [`from_hex`](crate::from_hex)).
    #[error("invalid hex at character {position}: {reason}")]
    BadHex {
        /// Where the problem is (1-based, counting the characters kept after spaces
        /// are removed).
        position: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The data ended before a complete item could be read.
    #[error(
        "unexpected end of data at offset {offset}: needed {needed} bytes, {available} available"
    )]
    UnexpectedEnd {
        /// Where the item starts.
        offset: usize,
        /// How many bytes the item needs.
        needed: usize,
        /// How many bytes remain.
        available: usize,
    },
    /// A packet, bundle element or blob size is not a multiple of 4.
    #[error("size {size} at offset {offset} is not a multiple of 4")]
    Misaligned {
        /// Where the sized item starts.
        offset: usize,
        /// The offending size.
        size: usize,
    },
    /// A string has no NUL terminator before the end of the packet.
    #[error("string starting at offset {offset} has no NUL terminator")]
    MissingTerminator {
        /// Where the string starts.
        offset: usize,
    },
    /// Padding bytes after a string or blob are not zero (strict padding is on).
    #[error("non-zero padding byte at offset {offset}")]
    NonZeroPadding {
        /// Offset of the first non-zero padding byte.
        offset: usize,
    },
    /// Bytes remain after the end of a message.
    #[error("{count} trailing bytes after the message, starting at offset {offset}")]
    TrailingBytes {
        /// Where the extra bytes start.
        offset: usize,
        /// How many bytes are extra.
        count: usize,
    },
    /// The data starts with neither `/` (a message) nor `#bundle\0` (a bundle).
    #[error("data at offset {offset} is neither a message (`/...`) nor a bundle (`#bundle`)")]
    NotAPacket {
        /// Where the packet starts.
        offset: usize,
    },
    /// A message has no type-tag string (allowed only with [`Options::allow_missing_typetags`](crate::Options::allow_missing_typetags)).
    #[error("message at offset {offset} has no type-tag string")]
    MissingTypeTags {
        /// Where the type-tag string was expected.
        offset: usize,
    },
    /// A bundle element size is negative, misaligned, zero or beyond the bundle.
    #[error("bad bundle element size {size} at offset {offset} ({remaining} bytes remain)")]
    BadBundleElementSize {
        /// Offset of the size field.
        offset: usize,
        /// The size read, as a signed int32.
        size: i64,
        /// Bytes remaining in the bundle after the size field.
        remaining: usize,
    },
    /// A blob length is negative or beyond the packet.
    #[error("bad blob size {size} at offset {offset} ({remaining} bytes remain)")]
    BadBlobSize {
        /// Offset of the size field.
        offset: usize,
        /// The size read, as a signed int32.
        size: i64,
        /// Bytes remaining after the size field.
        remaining: usize,
    },
    /// A type tag that OSC does not define.
    #[error("unknown type tag {tag:?} at offset {offset}")]
    UnknownTag {
        /// Offset of the tag in the type-tag string.
        offset: usize,
        /// The tag byte, as a character.
        tag: char,
    },
    /// `[` without `]` or `]` without `[` in a type-tag string.
    #[error("unbalanced array bracket in type tags at offset {offset}")]
    UnbalancedArray {
        /// Offset of the offending bracket (or of the end of the tags).
        offset: usize,
    },
    /// A tag refused by `DecodeOptions::allowed_tags`.
    #[error("type tag {tag} is not allowed by the codec options (offset {offset})")]
    TagNotAllowed {
        /// Offset of the tag (for encoding: index of the argument).
        offset: usize,
        /// The refused tag.
        tag: Tag,
    },
    /// A string is not valid for the string policy (UTF-8 or ASCII).
    #[error("string at offset {offset} is not valid {expected}")]
    InvalidString {
        /// Where the string starts (for encoding: index of the argument).
        offset: usize,
        /// What was expected: "UTF-8", "ASCII" or "NUL-free".
        expected: &'static str,
    },
    /// A `c` argument does not hold a valid character: when decoding, its four bytes
    /// are neither a code point as a big-endian int32 nor osc4py3's character in the
    /// first byte followed by three zeros; when encoding with
    /// [`CharLayout::FirstByte`](crate::CharLayout::FirstByte), the character is above U+00FF.
    #[error(
        "invalid `c` value {value:#x} at offset {offset}: neither an int32 code point nor osc4py3's first-byte form (which holds at most U+00FF)"
    )]
    InvalidChar {
        /// Where the argument starts.
        offset: usize,
        /// The raw 32-bit value.
        value: u32,
    },
    /// An address does not start with `/` or contains forbidden characters.
    #[error("invalid address at offset {offset}: {reason}")]
    InvalidAddress {
        /// Where the address starts.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An explicit type-tag string does not fit the value at `index`.
    #[error(
        "type tag {expected:?} does not fit argument {index} ({found}): give a value of that type, or the tag of this one"
    )]
    TagMismatch {
        /// Index of the argument (flattened, arrays included).
        index: usize,
        /// The tag that was asked for.
        expected: char,
        /// What the value is.
        found: &'static str,
    },
    /// An explicit type-tag string has a different number of tags than there are values.
    #[error("type tags describe {tags} arguments but {values} were given")]
    ArgCount {
        /// Number of arguments the tags describe.
        tags: usize,
        /// Number of values given.
        values: usize,
    },
    /// A configured input limit was exceeded.
    #[error("{what} limit of {limit} exceeded at offset {offset}")]
    LimitExceeded {
        /// Which limit: "depth", "packet size" or "argument count".
        what: &'static str,
        /// The limit in force.
        limit: usize,
        /// Where it was exceeded.
        offset: usize,
    },
    /// The output buffer is too small for the encoded packet.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes the encoded packet needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A packet too large for the size field or a configured frame limit.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// The frame size (or the bytes buffered so far).
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A stream frame header announces a negative size: the stream cannot be resynchronised.
    #[error("stream frame header announces a negative size ({size})")]
    BadFrameSize {
        /// The size read, as a signed int32.
        size: i64,
    },
    /// An address-pattern compression key has no entry in the decode map.
    #[error("unknown compressed address key {key}")]
    UnknownAddressKey {
        /// The int32 key found on the wire.
        key: i32,
    },
    /// An advanced-packet-control checksum did not verify.
    #[error("packet checksum does not match its content")]
    ChecksumMismatch,
    /// An advanced-packet-control signature did not verify.
    #[error("packet signature is invalid")]
    InvalidSignature,
    /// An advanced-packet-control decryption failed.
    #[error("packet could not be decrypted")]
    DecryptionFailed,
    /// A text-notation line could not be parsed.
    #[error("text notation error at column {column}: {reason}")]
    Notation {
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
