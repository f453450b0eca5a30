//! Codec options: osc4py3's out-of-band ("oob") options as a typed struct.

use crate::TagSet;

/// How strings (`s`, `S`, and addresses) are checked and converted.
///
/// | policy | encode | decode |
/// |---|---|---|
/// | [`Utf8`](StringPolicy::Utf8) (default) | UTF-8 bytes as they are | must be valid UTF-8, else [`Error::InvalidString`](crate::Error::InvalidString) |
/// | [`Ascii`](StringPolicy::Ascii) (osc4py3's default) | non-ASCII is an error | non-ASCII is an error |
/// | [`AsciiReplace`](StringPolicy::AsciiReplace) | each non-ASCII character written as `?` | non-ASCII bytes are kept as raw bytes ([`ArgRef::RawStr`](crate::ArgRef::RawStr)) |
/// | [`Raw`](StringPolicy::Raw) | as [`Utf8`](StringPolicy::Utf8) (raw variants as their bytes) | valid UTF-8 gives `Str`, anything else raw bytes; never an error |
///
/// A string may never contain a NUL byte: encoding one is an error under every policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StringPolicy {
    /// UTF-8, checked strictly.
    #[default]
    Utf8,
    /// Strict 7-bit ASCII, as the OSC specification says.
    Ascii,
    /// ASCII, replacing what does not fit (encode) or keeping it as raw bytes (decode).
    AsciiReplace,
    /// No check: strings that are not UTF-8 come out as raw bytes.
    Raw,
}

/// Where an encoded `c` (character) argument's byte sits in its 4-byte slot.
///
/// This is an encoding choice only: decoding reads both layouts whatever the option
/// says, since they cannot be confused (osc4py3's `41 00 00 00` is above 0x10FFFF, never
/// a code point; `00 00 00 00` is U+0000 in both). Four bytes that are neither are an
/// [`Error::InvalidChar`](crate::Error::InvalidChar).
///
/// ```
/// use osc_codec::{CharLayout, Message, Options, Packet};
/// let m = Packet::from(Message::new("/c").arg('A'));
/// let py = Options { char_layout: CharLayout::FirstByte, ..Options::DEFAULT };
/// assert_eq!(m.to_bytes()?, b"/c\0\0,c\0\0\0\0\0A");
/// assert_eq!(m.to_bytes_with(&py)?, b"/c\0\0,c\0\0A\0\0\0");
/// // Either form reads back with the default options.
/// assert_eq!(Packet::decode(b"/c\0\0,c\0\0A\0\0\0")?, m);
/// # Ok::<(), osc_codec::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CharLayout {
    /// A big-endian int32 holding the character code (`00 00 00 41` for `'A'`): liblo,
    /// python-osc and the specification's reading. Any Unicode scalar value is accepted.
    #[default]
    Int32,
    /// osc4py3's form: the character in the first byte (`41 00 00 00`); characters above
    /// U+00FF cannot be written. (Only used when encoding: decoding reads both forms.)
    FirstByte,
}

/// Options for encoding and decoding, with safe defaults.
///
/// The mapping to osc4py3's oob keys: `str_encode`/`str_decode` -> [`strings`](Self::strings),
/// `char_encode`/`char_decode` -> [`char_layout`](Self::char_layout),
/// `restrict_typetags` -> [`allowed_tags`](Self::allowed_tags), `check_addrpattern` ->
/// [`check_address`](Self::check_address). Address compression and advanced packet
/// control are in [`extensions`](crate::extensions).
///
/// # Input safety
/// Decoding is bounded by [`max_depth`](Self::max_depth) (bundles and arrays together),
/// [`max_packet_size`](Self::max_packet_size) and [`max_args`](Self::max_args).
///
/// ```
/// use osc_codec::{decode_with, Error, Options, StringPolicy};
/// let opts = Options { strings: StringPolicy::Ascii, ..Options::default() };
/// let err = decode_with(b"/\xc3\xa9\0,\0\0\0", &opts).unwrap_err();
/// assert!(matches!(err, Error::InvalidString { expected: "ASCII", .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// String checking and conversion.
    pub strings: StringPolicy,
    /// Layout of `c` arguments when encoding (decoding accepts both layouts).
    pub char_layout: CharLayout,
    /// Tags accepted on encode and decode (default: all).
    pub allowed_tags: TagSet,
    /// Check that addresses start with `/` and hold no space or `#` (and, when
    /// encoding, that a literal address has none of `*?,[]{}`: patterns are allowed).
    /// Default: on. Decoding always requires the leading `/`.
    pub check_address: bool,
    /// Reject non-zero padding bytes after strings and blobs (default: on).
    pub strict_padding: bool,
    /// Accept a message without a type-tag string (OSC 1.0 allowed it) as a message
    /// with no arguments. Default: off (it is an error).
    pub allow_missing_typetags: bool,
    /// Deepest nesting of bundles and arrays together (default 32, capped at [`DEPTH_CAP`]).
    pub max_depth: usize,
    /// Largest packet accepted by the decoder, in bytes (default 16 MiB).
    pub max_packet_size: usize,
    /// Most arguments (array brackets included) in one message (default 16384).
    pub max_args: usize,
}

/// Hard cap for [`Options::max_depth`], so that a large setting cannot exhaust the stack.
pub const DEPTH_CAP: usize = 128;

impl Options {
    /// The defaults, as a constant.
    pub const DEFAULT: Options = Options {
        strings: StringPolicy::Utf8,
        char_layout: CharLayout::Int32,
        allowed_tags: TagSet::ALL,
        check_address: true,
        strict_padding: true,
        allow_missing_typetags: false,
        max_depth: 32,
        max_packet_size: 16 << 20,
        max_args: 16384,
    };

    /// Options matching osc4py3 1.0.8's defaults: ASCII strings and first-byte chars
    /// (for encoding; decoding reads `c` in either layout under any options).
    pub const OSC4PY3: Options = Options {
        strings: StringPolicy::Ascii,
        char_layout: CharLayout::FirstByte,
        ..Options::DEFAULT
    };

    pub(crate) fn depth_limit(&self) -> usize {
        self.max_depth.min(DEPTH_CAP)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::DEFAULT
    }
}
