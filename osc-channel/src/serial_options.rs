//! The configuration of serial port channels (Arduino, Teensy, ESP32 over USB).

use std::path::PathBuf;

use crate::{Backoff, EventHandler, StreamLimits};

/// The baud rate a serial channel uses unless told otherwise (the usual rate of
/// CNMAT's OSC library examples for Arduino and Teensy).
pub const DEFAULT_BAUD: u32 = 115_200;

/// A serial port channel: OSC 1.1 SLIP frames over a serial device, 8 data bits,
/// no parity, one stop bit, no flow control.
///
/// The device is opened exclusively. Frames may be delimited by an END byte at both
/// ends (OSC 1.1, as CNMAT's `SLIPEncodedSerial` sends) or at the end only; sent
/// packets carry an END at both ends. When the device goes away (a USB cable pulled)
/// the channel reopens it with [`SerialConfig::reconnect`]'s backoff until it comes
/// back; sends made meanwhile are refused with
/// `ChannelError::NotWritable`.
///
/// ```
/// use osc_channel::SerialConfig;
/// let cfg = SerialConfig::new("/dev/ttyACM0");
/// assert_eq!(cfg.baud, 115_200);
/// assert!(cfg.reconnect.is_some());
/// ```
#[derive(Clone)]
pub struct SerialConfig {
    /// The device (`/dev/ttyACM0`, `/dev/ttyUSB0`, or a symbolic link to one).
    pub path: PathBuf,
    /// Baud rate (default [`DEFAULT_BAUD`]).
    pub baud: u32,
    /// Reopen the device after it fails or disappears (default: on, with the default
    /// [`Backoff`]). The first open is not retried: `Reactor::open_serial` fails at
    /// once, so a wrong path is reported.
    pub reconnect: Option<Backoff>,
    /// Size limits (the packet size limit applies to SLIP frames).
    pub limits: StreamLimits,
    /// Event callback.
    pub events: Option<EventHandler>,
}

impl std::fmt::Debug for SerialConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialConfig")
            .field("path", &self.path)
            .field("baud", &self.baud)
            .field("reconnect", &self.reconnect)
            .field("limits", &self.limits)
            .field("events", &self.events.is_some())
            .finish()
    }
}

impl SerialConfig {
    /// The device at `path` with the defaults.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SerialConfig {
            path: path.into(),
            baud: DEFAULT_BAUD,
            reconnect: Some(Backoff::default()),
            limits: StreamLimits::default(),
            events: None,
        }
    }
}
