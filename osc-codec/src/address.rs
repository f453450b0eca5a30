//! Address syntax, checked on the way in (decoding) and on the way out (encoding).

use crate::{Error, Options, Result};

/// Checks address syntax: a leading `/`, and no space, `#` or ASCII control character.
pub(crate) fn address_syntax(address: &str) -> core::result::Result<(), &'static str> {
    if !address.starts_with('/') {
        return Err("does not start with '/'");
    }
    for &b in address.as_bytes() {
        match b {
            b' ' => return Err("contains a space"),
            b'#' => return Err("contains '#'"),
            0..=0x1f | 0x7f => return Err("contains a control character"),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a decoded address at `offset`: a leading `/` always; with `check_address`,
/// no space, `#` or control character.
pub(crate) fn check_incoming_address(address: &str, offset: usize, opts: &Options) -> Result<()> {
    if !address.starts_with('/') {
        return Err(Error::InvalidAddress {
            offset,
            reason: "does not start with '/'",
        });
    }
    if opts.check_address {
        if let Err(reason) = address_syntax(address) {
            return Err(Error::InvalidAddress { offset, reason });
        }
    }
    Ok(())
}

/// Checks an outgoing address under the options.
#[inline]
pub(crate) fn check_outgoing_address(address: &str, opts: &Options) -> Result<()> {
    if opts.check_address {
        address_syntax(address).map_err(|reason| Error::InvalidAddress { offset: 0, reason })?;
    }
    Ok(())
}
