//! Byte tests on 8 bytes at a time ("SIMD within a register"), shared by the fast
//! decoder (`validate`) and the fast encoder (`encode_fast`).

/// `0x01` in every byte.
pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
pub(crate) const HI: u64 = 0x8080_8080_8080_8080;

/// Marks (with its high bit) the first zero byte of `w` (little-endian byte order);
/// non-zero exactly when `w` holds a zero byte.
#[inline(always)]
pub(crate) const fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(LO) & !w & HI
}

/// Marks (with its high bit) every non-zero byte of `w`, exactly: unlike
/// [`zero_bytes`], no byte is marked because of its neighbour.
#[inline(always)]
pub(crate) const fn nonzero_bytes(w: u64) -> u64 {
    ((w & !HI).wrapping_add(!HI) | w) & HI
}

/// Non-zero exactly when `w` holds a byte an address may not contain: an ASCII control
/// character (NUL included), a space, `#` or DEL.
#[inline(always)]
pub(crate) const fn address_bad(w: u64) -> u64 {
    (w.wrapping_sub(LO * 0x21) & !w & HI)
        | zero_bytes(w ^ (LO * 0x23))
        | zero_bytes(w ^ (LO * 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_bytes() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut bytes = *b"abcdefgh";
                if let Some(x) = bytes.get_mut(at) {
                    *x = b;
                }
                let forbidden = b <= b' ' || b == b'#' || b == 0x7f;
                let bad = address_bad(u64::from_le_bytes(bytes));
                assert_eq!(bad != 0, forbidden, "byte {b:#x} at {at}");
            }
        }
    }

    #[test]
    fn nonzero_bytes_marks_each_byte_alone() {
        for b in 0..=255u8 {
            for at in 0..8 {
                for fill in [0u8, 1, 0x7f, 0x80, 0xff] {
                    let mut bytes = [fill; 8];
                    if let Some(x) = bytes.get_mut(at) {
                        *x = b;
                    }
                    let marks = nonzero_bytes(u64::from_le_bytes(bytes)).to_le_bytes();
                    for (i, (&m, &byte)) in marks.iter().zip(&bytes).enumerate() {
                        assert_eq!(m == 0x80, byte != 0, "byte {i} of {bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn zero_bytes_finds_any_nul() {
        assert_eq!(zero_bytes(u64::from_le_bytes(*b"abcdefgh")), 0);
        for at in 0..8 {
            let mut bytes = *b"abcdefgh";
            if let Some(x) = bytes.get_mut(at) {
                *x = 0;
            }
            assert_ne!(zero_bytes(u64::from_le_bytes(bytes)), 0, "NUL at {at}");
        }
    }
}
