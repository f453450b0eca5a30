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
