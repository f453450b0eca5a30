//! The bounds of the aggregation, and its clock.

use std::time::SystemTime;

/// The bounds on the monitor's memory, with safe defaults.
///
/// ```
/// let l = osc_monitor::Limits::default();
/// assert_eq!(l.max_addresses, 10_000);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Limits {
    /// Addresses in the table at most; messages to further addresses are counted in
    /// [`Totals::others`](crate::snapshot::Totals::others).
    pub max_addresses: usize,
    /// Longer addresses are counted in `others` instead of getting a row.
    pub max_address_len: usize,
    /// Sources and channels kept per address.
    pub max_sources: usize,
    /// Characters of a last value kept (longer ones end with `…`).
    pub max_value_len: usize,
    /// The window of the rates, in seconds.
    pub rate_window: f64,
    /// Bundles kept for the bundle list.
    pub max_bundles: usize,
    /// Malformed packets kept.
    pub max_malformed: usize,
    /// Bytes of a malformed packet kept for its hex dump.
    pub malformed_bytes: usize,
    /// Addresses plotted at once (all pages together).
    pub max_plots: usize,
    /// Numeric arguments plotted per address (the first ones).
    pub max_plot_args: usize,
    /// Points kept per plotted argument.
    pub plot_points: usize,
    /// Endpoints named at most (more are shown as `others`).
    pub max_channels: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_addresses: 10_000,
            max_address_len: 512,
            max_sources: 8,
            max_value_len: 256,
            rate_window: 2.0,
            max_bundles: 200,
            max_malformed: 50,
            malformed_bytes: 512,
            max_plots: 32,
            max_plot_args: 16,
            plot_points: 10_000,
            max_channels: 64,
        }
    }
}

/// Seconds since the Unix epoch (negative before it), the monitor's clock.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1500);
/// assert_eq!(osc_monitor::unix_secs(t), 1.5);
/// ```
#[must_use]
pub fn unix_secs(t: SystemTime) -> f64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}
