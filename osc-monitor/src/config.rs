//! The monitor's configuration: where it listens and its web server's limits.

use std::time::Duration;

/// The web server's limits, with safe defaults.
///
/// ```
/// let l = osc_monitor::HttpLimits::default();
/// assert_eq!(l.max_websockets, 8);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpLimits {
    /// Open connections at most (HTTP and WebSocket together); more are closed at once.
    pub max_connections: usize,
    /// WebSocket clients (pages) at most; more get 503.
    pub max_websockets: usize,
    /// The request head's size at most (at least 8192); beyond it: 431.
    pub max_header_bytes: usize,
    /// Header lines at most; beyond: 431.
    pub max_headers: usize,
    /// The whole request head must arrive within this time.
    pub header_timeout: Duration,
    /// A connection with no byte in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// The longest WebSocket message (and frame) accepted from a page.
    pub max_ws_message: usize,
    /// A page that does not take an update within this time is closed.
    pub ws_write_timeout: Duration,
    /// How often each page gets an update.
    pub update_every: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: 32,
            max_websockets: 8,
            max_header_bytes: 8192,
            max_headers: 32,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_ws_message: 16 << 10,
            ws_write_timeout: Duration::from_secs(5),
            update_every: Duration::from_millis(100),
        }
    }
}
