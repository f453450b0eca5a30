//! Literal OSC addresses: validation and splitting into parts.

use crate::PatternError;

/// The characters OSC 1.0 forbids in a literal address (pattern syntax, plus
/// space and `#`). `/` is the part separator and is handled separately.
///
/// ```
/// assert!(osc_pattern::RESERVED_ADDRESS_CHARS.contains('*'));
/// assert!(!osc_pattern::is_literal_address("/a#b"));
/// ```
pub const RESERVED_ADDRESS_CHARS: &str = " #*,?[]{}";

/// `true` for bytes that may not appear in a literal address (except `/`).
const fn is_reserved(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'#' | b'*' | b',' | b'?' | b'[' | b']' | b'{' | b'}'
    )
}

/// Whether `address` is a valid literal OSC address: it starts with `/`, its
/// parts (between single `/`) are non-empty, and it contains none of
/// `` #*,?[]{}`` (see [`RESERVED_ADDRESS_CHARS`]).
///
/// A string for which this returns `false` is either a pattern or malformed;
/// [`validate_address`] says which character is wrong.
///
/// ```
/// use osc_pattern::is_literal_address;
///
/// assert!(is_literal_address("/synth/1/freq"));
/// assert!(!is_literal_address("/synth/*/freq")); // a pattern
/// assert!(!is_literal_address("//freq")); // OSC 1.1 pattern
/// assert!(!is_literal_address("synth")); // no leading '/'
/// assert!(!is_literal_address("/synth/")); // empty last part
/// ```
#[must_use]
pub fn is_literal_address(address: &str) -> bool {
    let [b'/', rest @ ..] = address.as_bytes() else {
        return false;
    };
    if let Some(clean) = crate::simd::no_reserved_byte_or_empty_part(address.as_bytes()) {
        return clean && rest.last() != Some(&b'/');
    }
    // Short addresses: one table look-up per byte, no branch.
    let (mut bad, mut previous) = (0, SLASH);
    for &b in rest {
        let class = BYTE_CLASS.get(usize::from(b)).copied().unwrap_or(RESERVED);
        bad |= (class & RESERVED) | (class & previous);
        previous = class & SLASH;
    }
    bad == 0 && previous == 0
}

/// Whether `part` can be the last part of a literal address: not empty, and neither a
/// reserved byte nor a `/` in it. A pattern that matched the address up to this part
/// with literal text asks only this (see `Pattern::match_literal`).
#[inline]
pub(crate) fn is_literal_part(part: &str) -> bool {
    // One table look-up per byte and no branch: the part is usually a few bytes.
    let bad = part.bytes().fold(0, |bad, b| {
        bad | BYTE_CLASS.get(usize::from(b)).copied().unwrap_or(RESERVED)
    });
    !part.is_empty() && bad == 0
}

/// [`BYTE_CLASS`] bits.
const RESERVED: u8 = 1;
const SLASH: u8 = 2;

/// Each byte's class for [`is_literal_address`]: reserved, `/`, or neither.
#[allow(clippy::indexing_slicing)] // `b` < 256
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = if is_reserved(b as u8) {
            RESERVED
        } else if b == b'/' as usize {
            SLASH
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Checks that `address` is a valid literal OSC address (see
/// [`is_literal_address`]) and says where it is not.
///
/// # Errors
///
/// [`PatternError::MissingLeadingSlash`], [`PatternError::EmptyPart`] (for
/// `//`, a trailing `/` or the lone `/`) or
/// [`PatternError::InvalidAddressChar`], each with the byte offset.
///
/// ```
/// use osc_pattern::{validate_address, PatternError};
///
/// assert_eq!(validate_address("/a/b"), Ok(()));
/// assert_eq!(
///     validate_address("/a/b*"),
///     Err(PatternError::InvalidAddressChar { offset: 4, found: '*' })
/// );
/// assert_eq!(validate_address("/a//b"), Err(PatternError::EmptyPart { offset: 3 }));
/// ```
pub fn validate_address(address: &str) -> Result<(), PatternError> {
    let bytes = address.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(PatternError::MissingLeadingSlash { offset: 0 });
    }
    let mut previous = b'/';
    for (offset, &b) in bytes.iter().enumerate().skip(1) {
        if is_reserved(b) {
            return Err(PatternError::InvalidAddressChar {
                offset,
                found: char::from(b),
            });
        }
        if b == b'/' && previous == b'/' {
            return Err(PatternError::EmptyPart { offset });
        }
        previous = b;
    }
    if previous == b'/' {
        return Err(PatternError::EmptyPart {
            offset: address.len(),
        });
    }
    Ok(())
}

/// Splits off the first part of `rest` (the text after a `/`): returns the
/// part and the text after the next `/`, or `None` when this was the last
/// part.
pub(crate) fn split_part(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once('/') {
        Some((part, after)) => (part, Some(after)),
        None => (rest, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_addresses() {
        for ok in ["/a", "/a/b", "/synth/1/freq", "/é/ü", "/a.b-c_d!"] {
            assert!(is_literal_address(ok), "{ok}");
            assert_eq!(validate_address(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "a", "/", "//", "/a/", "/a//b", "/a b", "/#a", "/a,b", "/a?", "/[a]", "/{a}",
        ] {
            assert!(!is_literal_address(bad), "{bad}");
            assert!(validate_address(bad).is_err(), "{bad}");
        }
    }

    /// The rule as written: a leading `/`, no reserved byte, no empty part.
    fn literal_by_parts(address: &[u8]) -> bool {
        let Some(rest) = address.strip_prefix(b"/") else {
            return false;
        };
        rest.split(|&b| b == b'/')
            .all(|part| !part.is_empty() && !part.iter().any(|&b| is_reserved(b)))
    }

    #[test]
    fn the_check_agrees_with_the_rule_for_every_byte_anywhere() {
        // Short shapes take the byte table, from 8 bytes on the vector code (x86-64),
        // from 16 bytes its 16-byte windows (which start 15 apart).
        let shapes: [&[u8]; 10] = [
            b"/abcd",
            b"/a/bc",
            b"/ab/c/",
            b"/a//b",
            b"/abc/def",
            b"/synth/1/freq/",
            b"/test/here/12345",
            b"/test/here/123456/",
            b"/mixer/channel/12/eq/band/3/gain",
            b"/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t",
        ];
        for shape in shapes {
            for at in 0..shape.len() {
                for b in 0..=255u8 {
                    let mut address = shape.to_vec();
                    address[at] = b;
                    let Ok(text) = core::str::from_utf8(&address) else {
                        continue;
                    };
                    assert_eq!(
                        is_literal_address(text),
                        literal_by_parts(&address),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn error_offsets() {
        assert_eq!(
            validate_address(""),
            Err(PatternError::MissingLeadingSlash { offset: 0 })
        );
        assert_eq!(
            validate_address("/"),
            Err(PatternError::EmptyPart { offset: 1 })
        );
        assert_eq!(
            validate_address("/ab/"),
            Err(PatternError::EmptyPart { offset: 4 })
        );
        assert_eq!(
            validate_address("/a#"),
            Err(PatternError::InvalidAddressChar {
                offset: 2,
                found: '#'
            })
        );
    }

    #[test]
    fn split() {
        assert_eq!(split_part("a/b"), ("a", Some("b")));
        assert_eq!(split_part("a"), ("a", None));
        assert_eq!(split_part(""), ("", None));
        assert_eq!(split_part("/"), ("", Some("")));
    }
}
