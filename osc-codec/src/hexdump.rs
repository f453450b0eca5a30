//! Hex dumps in osc4py3's `dumphex_buffer` layout, and hex text back to bytes.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

/// A hex dump of `data` in osc4py3's layout: one line per 16 bytes, the decimal offset
/// (at least 3 digits) and a colon, the bytes in hex in groups of 4 padded to 40
/// columns, then the printable text (other bytes as `.`) grouped the same way.
///
/// ```
/// use osc_codec::dumphex;
/// let dump = dumphex(b"/test\0\0\0,i\0\0\0\0\0\x07");
/// assert_eq!(dump, "\
/// 000:2f746573 74000000 2c690000 00000007     /tes t... ,i.. ....\n");
/// ```
pub fn dumphex(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 4 + 16);
    let mut hex = String::with_capacity(40);
    let mut text = String::with_capacity(20);
    for (line_no, line) in data.chunks(16).enumerate() {
        hex.clear();
        text.clear();
        for (group_no, group) in line.chunks(4).enumerate() {
            if group_no > 0 {
                hex.push(' ');
                text.push(' ');
            }
            for &b in group {
                let _ = write!(hex, "{b:02x}");
                text.push(if (32..=126).contains(&b) {
                    b as char
                } else {
                    '.'
                });
            }
        }
        let _ = writeln!(out, "{:03}:{:40}{}", line_no * 16, hex, text);
    }
    out
}

/// Bytes from hex text such as `2f610000 2c000000`: pairs of hex digits, upper or lower
/// case; whitespace anywhere is ignored, so a hex dump's hex column and the output of
/// `osc4rs encode` both parse.
///
/// ```
/// use osc_codec::{from_hex, Error};
/// assert_eq!(from_hex("2f61 0000 2C000000")?, b"/a\0\0,\0\0\0");
/// assert!(matches!(from_hex("2f6"), Err(Error::BadHex { position: 3, .. })));
/// assert!(matches!(from_hex("2fxz"), Err(Error::BadHex { position: 3, .. })));
/// # Ok::<(), osc_codec::Error>(())
/// ```
pub fn from_hex(text: &str) -> crate::Result<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(crate::Error::BadHex {
            position: digits.len(),
            reason: "odd number of hex digits",
        });
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            let digit = |b: u8| (b as char).to_digit(16);
            match pair {
                [hi, lo] => match (digit(*hi), digit(*lo)) {
                    (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                    (None, _) => Err(2 * i + 1),
                    (_, None) => Err(2 * i + 2),
                },
                _ => Err(2 * i + 1),
            }
            .map_err(|position| crate::Error::BadHex {
                position,
                reason: "not a hex digit",
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_osc4py3() {
        assert_eq!(dumphex(b""), "");
        assert_eq!(dumphex(b"ab"), format!("000:{:40}ab\n", "6162"));
        let data: Vec<u8> = (0u8..20).collect();
        let dump = dumphex(&data);
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "000:00010203 04050607 08090a0b 0c0d0e0f     .... .... .... ...."
        );
        assert_eq!(lines[1], format!("016:{:40}....", "10111213"));
    }
}
