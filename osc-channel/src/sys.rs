//! The few socket calls the standard library and socket2 do not offer. This is the only
//! module of the crate with `unsafe` code.
#![allow(unsafe_code)]

use std::io;

/// Asks for a receive buffer of `size` bytes with `SO_RCVBUFFORCE`, which (as root or
/// with `CAP_NET_ADMIN`) is not capped by `net.core.rmem_max`. Returns an error where
/// that is not allowed, so the caller can fall back to `SO_RCVBUF`.
#[cfg(target_os = "linux")]
pub(crate) fn force_recv_buffer(fd: std::os::fd::RawFd, size: usize) -> io::Result<()> {
    let value = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    // SAFETY: `fd` is an open socket owned by the caller for the duration of the call;
    // `value` lives on this stack frame and its exact size is passed as the option
    // length, so the kernel reads only that `c_int`.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Not available off Linux: always fails so the caller falls back to `SO_RCVBUF`.
#[cfg(not(target_os = "linux"))]
pub(crate) fn force_recv_buffer(_fd: i32, _size: usize) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}
