//! What a datagram read loop does with a failed receive, the same for UDP (single and
//! batched) and Unix datagram sockets: `WouldBlock` means the socket is drained,
//! `Interrupted` is retried, and any other error is passed over once (an ICMP error
//! from an earlier send can sit before the datagrams) but a second one in a row ends
//! the read as drained, so a persistent error cannot keep the reactor reading.

use std::io;

/// The next step of the read loop after a failed receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterError {
    /// Try again at once (`Interrupted`); it does not count against the cap.
    Retry,
    /// Count it against the cap and read on (a first error).
    Skip,
    /// End the read as drained (`WouldBlock`, or a second error in a row).
    Stop,
}

/// Errors in a row of one read.
#[derive(Debug, Default)]
pub(crate) struct RecvErrors {
    failed: bool,
}

impl RecvErrors {
    /// A receive succeeded.
    pub(crate) fn ok(&mut self) {
        self.failed = false;
    }

    /// A receive on channel `name` failed with `e`.
    pub(crate) fn failed(&mut self, name: &str, e: &io::Error) -> AfterError {
        match e.kind() {
            io::ErrorKind::WouldBlock => AfterError::Stop,
            io::ErrorKind::Interrupted => AfterError::Retry,
            _ => {
                log::debug!("channel {name}: receive error: {e}");
                if std::mem::replace(&mut self.failed, true) {
                    AfterError::Stop
                } else {
                    AfterError::Skip
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn would_block_stops_interrupted_retries_and_a_second_error_in_a_row_stops() {
        let mut e = RecvErrors::default();
        let err = |k| io::Error::from(k);
        assert_eq!(
            e.failed("t", &err(io::ErrorKind::WouldBlock)),
            AfterError::Stop
        );
        assert_eq!(
            e.failed("t", &err(io::ErrorKind::Interrupted)),
            AfterError::Retry
        );
        assert_eq!(
            e.failed("t", &err(io::ErrorKind::ConnectionRefused)),
            AfterError::Skip
        );
        e.ok();
        assert_eq!(
            e.failed("t", &err(io::ErrorKind::ConnectionRefused)),
            AfterError::Skip
        );
        assert_eq!(
            e.failed("t", &err(io::ErrorKind::ConnectionRefused)),
            AfterError::Stop
        );
    }
}
