//! NTP timetags as OSC uses them.
//!
//! # Era handling
//!
//! A timetag holds 32 bits of seconds since 1900-01-01 and 32 bits of fraction. The
//! seconds wrap on 2036-02-07 (the end of NTP era 0). Conversions to and from calendar
//! time (`SystemTime`, Unix seconds) use the RFC 4330 pivot: a seconds field with its
//! top bit set is in era 0 (1968-01-20 to 2036-02-07), one with the top bit clear is in
//! era 1 (2036-02-07 to 2104-02-26). So every time from 1968 to 2104 converts both ways
//! exactly; times outside that window saturate at its ends. Arithmetic with
//! [`Duration`] wraps modulo 2^32 seconds, which is exactly how the era rolls over, and
//! [`TimeTag::duration_since`] uses serial-number arithmetic, valid for two times less
//! than 68 years apart. The NTP float conversions ([`TimeTag::from_ntp_secs_f64`],
//! [`TimeTag::to_ntp_secs_f64`]) work on the raw era-0 value and do not pivot.
//!
//! [`Ord`] compares the raw wire values (seconds, then fraction), so it follows era 0;
//! schedulers that must order times across 2036 compare with [`TimeTag::duration_since`].

use core::fmt;
use core::ops::{Add, AddAssign, Sub, SubAssign};
use core::time::Duration;

/// Seconds from 1900-01-01 (NTP epoch) to 1970-01-01 (Unix epoch).
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

const FRAC_PER_SEC: f64 = 4_294_967_296.0;
const ERA: u64 = 1 << 32;

/// An OSC/NTP timetag.
///
/// ```
/// use osc_codec::TimeTag;
/// use std::time::Duration;
///
/// let t = TimeTag::from_unix_secs_f64(1_700_000_000.5);
/// assert_eq!(t.fraction, 1 << 31);
/// assert_eq!(t.to_unix_secs_f64(), 1_700_000_000.5);
/// let later = t + Duration::from_millis(250);
/// assert_eq!(later.duration_since(t), Some(Duration::from_millis(250)));
/// assert!(TimeTag::IMMEDIATELY.is_immediate());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TimeTag {
    /// Seconds since 1900-01-01 00:00 UTC (modulo the NTP era).
    pub seconds: u32,
    /// Fraction of a second, in units of 2^-32 s.
    pub fraction: u32,
}

impl TimeTag {
    /// The special timetag "immediately": seconds 0, fraction 1.
    pub const IMMEDIATELY: TimeTag = TimeTag {
        seconds: 0,
        fraction: 1,
    };

    /// A timetag from its two wire fields.
    pub const fn new(seconds: u32, fraction: u32) -> Self {
        TimeTag { seconds, fraction }
    }

    /// Whether this is the special "immediately" value.
    pub const fn is_immediate(self) -> bool {
        self.seconds == 0 && self.fraction == 1
    }

    /// The 64-bit wire value: seconds in the high half, fraction in the low half.
    pub const fn to_bits(self) -> u64 {
        ((self.seconds as u64) << 32) | self.fraction as u64
    }

    /// A timetag from its 64-bit wire value.
    pub const fn from_bits(bits: u64) -> Self {
        TimeTag {
            seconds: (bits >> 32) as u32,
            fraction: bits as u32,
        }
    }

    /// A timetag from seconds since 1900 as a float (osc4py3 `float2timetag`).
    /// Negative or NaN values give 0; values beyond the era saturate.
    ///
    /// ```
    /// use osc_codec::TimeTag;
    /// assert_eq!(TimeTag::from_ntp_secs_f64(1.25), TimeTag::new(1, 1 << 30));
    /// // The fraction never rounds up to 2^32: it carries into the seconds.
    /// assert_eq!(TimeTag::from_ntp_secs_f64(1.9999999999), TimeTag::new(2, 0));
    /// ```
    pub fn from_ntp_secs_f64(secs: f64) -> Self {
        if secs.is_nan() || secs <= 0.0 {
            return TimeTag::from_bits(0);
        }
        if secs >= ERA as f64 {
            return TimeTag::from_bits(u64::MAX);
        }
        let (whole, fraction) = split_secs(secs);
        if whole >= ERA {
            return TimeTag::from_bits(u64::MAX);
        }
        TimeTag::new(whole as u32, fraction)
    }

    /// Seconds since 1900 as a float, without era pivot (osc4py3 `timetag2float`).
    ///
    /// ```
    /// use osc_codec::TimeTag;
    /// assert_eq!(TimeTag::new(3, 1 << 31).to_ntp_secs_f64(), 3.5);
    /// ```
    pub fn to_ntp_secs_f64(self) -> f64 {
        self.seconds as f64 + self.fraction as f64 / FRAC_PER_SEC
    }

    /// A timetag from Unix seconds as a float (osc4py3 `unixtime2timetag`).
    /// Times before 1968-01-20 or after 2104-02-26 saturate at those ends.
    ///
    /// ```
    /// use osc_codec::TimeTag;
    /// let t = TimeTag::from_unix_secs_f64(0.0);
    /// assert_eq!(t.seconds, 2_208_988_800);
    /// ```
    pub fn from_unix_secs_f64(secs: f64) -> Self {
        let ntp = secs + NTP_UNIX_OFFSET as f64;
        let lo = (ERA / 2) as f64;
        let hi = (ERA + ERA / 2) as f64;
        if ntp.is_nan() || ntp < lo {
            return TimeTag::from_bits((ERA / 2) << 32);
        }
        if ntp >= hi {
            return TimeTag::from_bits(((ERA / 2) << 32) - 1);
        }
        let (whole, fraction) = split_secs(ntp);
        if whole >= ERA + ERA / 2 {
            return TimeTag::from_bits(((ERA / 2) << 32) - 1);
        }
        // Wrapping into era 1 is the era rule itself.
        TimeTag::new(whole as u32, fraction)
    }

    /// Unix seconds as a float (osc4py3 `timetag2unixtime`), using the era pivot.
    pub fn to_unix_secs_f64(self) -> f64 {
        self.unpivoted_secs() as f64 - NTP_UNIX_OFFSET as f64 + self.fraction as f64 / FRAC_PER_SEC
    }

    /// A timetag from a duration since the Unix epoch (era pivot applied; saturates
    /// outside 1968-2104).
    pub fn from_unix_duration(d: Duration) -> Self {
        let secs = d.as_secs().saturating_add(NTP_UNIX_OFFSET);
        if secs >= ERA + ERA / 2 {
            return TimeTag::from_bits(((ERA / 2) << 32) - 1);
        }
        TimeTag {
            seconds: secs as u32,
            fraction: nanos_to_fraction(d.subsec_nanos()),
        }
    }

    /// The duration since the Unix epoch (era pivot applied), or `None` for a time
    /// before 1970 (possible for era-0 values from 1968-1970).
    pub fn to_unix_duration(self) -> Option<Duration> {
        let secs = self.unpivoted_secs().checked_sub(NTP_UNIX_OFFSET)?;
        Some(Duration::new(secs, fraction_to_nanos(self.fraction)))
    }

    /// Seconds since 1900 with the RFC 4330 era pivot applied.
    fn unpivoted_secs(self) -> u64 {
        if self.seconds & 0x8000_0000 != 0 {
            self.seconds as u64
        } else {
            self.seconds as u64 + ERA
        }
    }

    /// A timetag from `std::time::SystemTime` (saturates outside 1970-2104).
    #[cfg(feature = "std")]
    pub fn from_system_time(t: std::time::SystemTime) -> Self {
        match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Self::from_unix_duration(d),
            Err(e) => Self::from_unix_secs_f64(-e.duration().as_secs_f64()),
        }
    }

    /// This timetag as a `std::time::SystemTime` (era pivot applied).
    #[cfg(feature = "std")]
    pub fn to_system_time(self) -> std::time::SystemTime {
        match self.to_unix_duration() {
            Some(d) => std::time::UNIX_EPOCH + d,
            None => {
                let before = NTP_UNIX_OFFSET - self.unpivoted_secs();
                std::time::UNIX_EPOCH - Duration::from_secs(before)
                    + Duration::from_nanos(fraction_to_nanos(self.fraction) as u64)
            }
        }
    }

    /// The current time as a timetag.
    #[cfg(feature = "std")]
    pub fn now() -> Self {
        Self::from_system_time(std::time::SystemTime::now())
    }

    /// How long after `earlier` this time is, or `None` if it is before it. Uses
    /// serial-number arithmetic on the 64-bit values, so it is right across the 2036
    /// wrap for times less than 68 years apart.
    pub fn duration_since(self, earlier: TimeTag) -> Option<Duration> {
        let diff = self.to_bits().wrapping_sub(earlier.to_bits());
        if diff >> 63 != 0 {
            return None;
        }
        Some(Duration::new(diff >> 32, fraction_to_nanos(diff as u32)))
    }
}

/// Splits non-negative seconds into whole seconds and a 32-bit fraction rounded to
/// nearest; a fraction that would round to 2^32 carries into the seconds instead.
fn split_secs(secs: f64) -> (u64, u32) {
    // `as` truncates, which is floor for the non-negative values we get (no `floor` or
    // `round` in `core`).
    let whole = secs as u64;
    let fraction = ((secs - whole as f64) * FRAC_PER_SEC + 0.5) as u64;
    if fraction >= 1 << 32 {
        (whole + 1, 0)
    } else {
        (whole, fraction as u32)
    }
}

/// Converts nanoseconds (below 10^9) to a 32-bit fraction, rounding to nearest.
/// The result never reaches 2^32.
fn nanos_to_fraction(nanos: u32) -> u32 {
    let n = u64::from(nanos.min(999_999_999));
    ((n << 32) + 500_000_000)
        .checked_div(1_000_000_000)
        .unwrap_or(0) as u32
}

/// Converts a 32-bit fraction to nanoseconds, rounding to nearest (at most 10^9,
/// which `Duration::new` carries into the seconds).
fn fraction_to_nanos(fraction: u32) -> u32 {
    ((u64::from(fraction) * 1_000_000_000 + (1 << 31)) >> 32) as u32
}

fn duration_bits(d: Duration) -> u64 {
    (d.as_secs() << 32).wrapping_add(u64::from(nanos_to_fraction(d.subsec_nanos())))
}

impl Add<Duration> for TimeTag {
    type Output = TimeTag;
    /// Adds a duration, wrapping into the next NTP era as the clock itself does.
    fn add(self, d: Duration) -> TimeTag {
        TimeTag::from_bits(self.to_bits().wrapping_add(duration_bits(d)))
    }
}

impl AddAssign<Duration> for TimeTag {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for TimeTag {
    type Output = TimeTag;
    /// Subtracts a duration, wrapping into the previous NTP era.
    fn sub(self, d: Duration) -> TimeTag {
        TimeTag::from_bits(self.to_bits().wrapping_sub(duration_bits(d)))
    }
}

impl SubAssign<Duration> for TimeTag {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl fmt::Display for TimeTag {
    /// The text-notation form `SSSSSSSS.FFFFFFFF` (hexadecimal seconds and fraction).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}.{:08x}", self.seconds, self.fraction)
    }
}

#[cfg(feature = "std")]
impl From<std::time::SystemTime> for TimeTag {
    fn from(t: std::time::SystemTime) -> Self {
        TimeTag::from_system_time(t)
    }
}

#[cfg(feature = "std")]
impl From<TimeTag> for std::time::SystemTime {
    fn from(t: TimeTag) -> Self {
        t.to_system_time()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fraction_conversions_stay_in_range() {
        assert_eq!(nanos_to_fraction(999_999_999), 4_294_967_292);
        // Rounds to a whole second; `Duration::new` carries it.
        assert_eq!(fraction_to_nanos(u32::MAX), 1_000_000_000);
        assert_eq!(fraction_to_nanos(0), 0);
        assert_eq!(nanos_to_fraction(500_000_000), 1 << 31);
    }

    #[test]
    fn float_fraction_carries_instead_of_reaching_2_pow_32() {
        let t = TimeTag::from_ntp_secs_f64(10.999_999_999_99);
        assert_eq!(t, TimeTag::new(11, 0));
        let u = TimeTag::from_unix_secs_f64(99.999_999_999_99);
        assert_eq!(u.fraction, 0);
    }

    #[test]
    fn era_pivot_round_trips_after_2036() {
        // 2040-01-01 in Unix seconds.
        let unix = 2_208_988_800.0_f64;
        let t = TimeTag::from_unix_secs_f64(unix);
        assert!(t.seconds < 0x8000_0000, "wrapped into era 1");
        assert_eq!(t.to_unix_secs_f64(), unix);
        let before = TimeTag::from_unix_secs_f64(2_085_978_495.0); // 2036-02-07 06:28:15
        assert_eq!(before.seconds, u32::MAX);
        let after = before + Duration::from_secs(1);
        assert_eq!(after.seconds, 0);
        assert_eq!(after.duration_since(before), Some(Duration::from_secs(1)));
        assert_eq!(before.duration_since(after), None);
    }

    #[test]
    fn saturates_outside_window() {
        let early = TimeTag::from_unix_secs_f64(-1e12);
        assert_eq!(early.seconds, 0x8000_0000);
        let late = TimeTag::from_unix_secs_f64(1e12);
        assert_eq!(late.seconds, 0x7fff_ffff);
        assert_eq!(TimeTag::from_unix_secs_f64(f64::NAN).seconds, 0x8000_0000);
        assert_eq!(
            TimeTag::from_ntp_secs_f64(f64::INFINITY).to_bits(),
            u64::MAX
        );
        assert_eq!(TimeTag::from_ntp_secs_f64(-5.0).to_bits(), 0);
    }

    #[cfg(feature = "std")]
    #[test]
    fn system_time_round_trip() {
        let now = std::time::SystemTime::now();
        let t = TimeTag::from_system_time(now);
        let back = t.to_system_time();
        let diff = match back.duration_since(now) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(diff < Duration::from_nanos(2));
        let pre1970 = std::time::UNIX_EPOCH - Duration::from_secs(86_400);
        let t = TimeTag::from_system_time(pre1970);
        assert_eq!(t.seconds as u64, NTP_UNIX_OFFSET - 86_400);
        assert_eq!(t.to_system_time(), pre1970);
    }

    #[test]
    fn add_and_sub_durations() {
        let t = TimeTag::new(100, 0);
        assert_eq!(t + Duration::from_millis(500), TimeTag::new(100, 1 << 31));
        assert_eq!(
            (t + Duration::from_millis(1500)) - Duration::from_millis(1500),
            t
        );
        assert_eq!(
            TimeTag::new(0, 0) - Duration::from_secs(1),
            TimeTag::new(u32::MAX, 0)
        );
    }
}
