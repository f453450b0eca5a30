//! What the page receives: the JSON shapes of a snapshot (serde), and the view a
//! client asks for (filter, sort, rows, plotted addresses, time window).

use osc_pattern::Filter;
use serde::Serialize;

/// Counts over everything observed.
///
/// ```
/// let t = osc_monitor::Totals::default();
/// assert_eq!(t.messages, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Packets observed (messages, bundles and malformed).
    pub packets: u64,
    /// Messages (inside bundles too).
    pub messages: u64,
    /// Bundles (nested ones too).
    pub bundles: u64,
    /// Packets that did not decode.
    pub malformed: u64,
    /// Bytes of all packets.
    pub bytes: u64,
    /// Addresses in the table.
    pub addresses: usize,
    /// Messages to addresses not in the table (the table was full, or the address
    /// longer than the limit).
    pub others: u64,
    /// Messages per second over the rate window.
    pub rate: f64,
    /// Bundles that arrived after their timetag.
    pub late: u64,
    /// Bundles that arrived before their timetag.
    pub early: u64,
}

/// One row of the table: one address.
///
/// ```
/// let m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
/// assert!(m.rows(0.0, &osc_monitor::View::default()).0.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Row {
    /// The OSC address.
    pub address: String,
    /// Who sent to it (peer address, or the channel when there is none), first ones
    /// first, at most [`Limits::max_sources`](crate::Limits::max_sources).
    pub sources: Vec<String>,
    /// The endpoints it arrived on.
    pub channels: Vec<String>,
    /// The type tags of the last message (`,if`).
    pub tags: String,
    /// The last message's arguments in the text notation (`440 0.5`).
    pub value: String,
    /// Messages received.
    pub count: u64,
    /// Messages per second over the rate window.
    pub rate: f64,
    /// Seconds since the last message.
    pub age: f64,
}

/// A bundle as it arrived.
///
/// ```
/// let m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
/// assert!(m.bundles_since(0).is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BundleSeen {
    /// Its number, counting from 1 (a page asks for those after the last it has).
    pub seq: u64,
    /// Arrival (Unix seconds).
    pub at: f64,
    /// The sender (or the channel).
    pub source: String,
    /// The endpoint.
    pub channel: String,
    /// The timetag in the text notation (`SSSSSSSS.FFFFFFFF`).
    pub timetag: String,
    /// Seconds the bundle arrived after its timetag (negative: early); `None` for
    /// "immediately".
    pub late: Option<f64>,
    /// Elements (messages and bundles) directly inside.
    pub elements: usize,
    /// Bytes.
    pub size: usize,
}

/// A packet that did not decode.
///
/// ```
/// let m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
/// assert!(m.malformed_since(0).is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MalformedPacket {
    /// Its number, counting from 1.
    pub seq: u64,
    /// Arrival (Unix seconds).
    pub at: f64,
    /// The sender (or the channel).
    pub source: String,
    /// The endpoint.
    pub channel: String,
    /// The decoding error.
    pub error: String,
    /// Bytes.
    pub size: usize,
    /// A hex dump of the first [`Limits::malformed_bytes`](crate::Limits::malformed_bytes)
    /// bytes (osc-codec's `dumphex`).
    pub hex: String,
}

/// The points of one numeric argument of a plotted address.
///
/// ```
/// let s = osc_monitor::PlotSeries { arg: 0, tag: 'f', points: vec![[1.0, 0.5]] };
/// assert_eq!(s.points.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlotSeries {
    /// The argument's position (0 for the first).
    pub arg: usize,
    /// Its type tag (`i`, `h`, `f` or `d`).
    pub tag: char,
    /// `[unix seconds, value]`, decimated.
    pub points: Vec<[f64; 2]>,
}

/// The plot of one address.
///
/// ```
/// let p = osc_monitor::Plot { address: "/a".into(), series: vec![] };
/// assert!(p.series.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plot {
    /// The address.
    pub address: String,
    /// One per numeric argument seen since it was plotted.
    pub series: Vec<PlotSeries>,
}

/// One update for one page.
///
/// ```
/// use osc_monitor::{Limits, Monitor, View};
/// let mut m = Monitor::new(Limits::default());
/// let mut view = View::default();
/// let s = m.snapshot(0.0, &mut view);
/// assert_eq!(s.totals.messages, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The monitor's clock when it was taken (Unix seconds).
    pub now: f64,
    /// Counts over everything.
    pub totals: Totals,
    /// The rows that match the view's filter, sorted, at most the view's limit.
    pub rows: Vec<Row>,
    /// How many rows match the filter (before the limit).
    pub matching: usize,
    /// Bundles since the page's last snapshot (at most the kept ones).
    pub bundles: Vec<BundleSeen>,
    /// Malformed packets since the page's last snapshot.
    pub malformed: Vec<MalformedPacket>,
    /// The plotted addresses' series over the view's window.
    pub plots: Vec<Plot>,
}

/// A table column to sort by.
///
/// ```
/// assert_eq!(osc_monitor::SortKey::parse("rate"), Some(osc_monitor::SortKey::Rate));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SortKey {
    /// Alphabetical.
    #[default]
    Address,
    /// Messages received.
    Count,
    /// Messages per second.
    Rate,
    /// Time since the last message.
    Age,
    /// Type tags.
    Tags,
}

impl SortKey {
    /// The key named `address`, `count`, `rate`, `age` or `tags`.
    ///
    /// ```
    /// assert!(osc_monitor::SortKey::parse("colour").is_none());
    /// ```
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "address" => SortKey::Address,
            "count" => SortKey::Count,
            "rate" => SortKey::Rate,
            "age" => SortKey::Age,
            "tags" => SortKey::Tags,
            _ => return None,
        })
    }
}

/// What one page looks at: the table's filter, order and length, the plotted
/// addresses and their time window, and what it has already received.
///
/// ```
/// let v = osc_monitor::View::default();
/// assert_eq!(v.limit, 200);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct View {
    /// Only addresses this OSC pattern matches (`None`: all).
    pub filter: Option<Filter>,
    /// The sort column.
    pub sort: SortKey,
    /// Largest first.
    pub descending: bool,
    /// Rows sent at most.
    pub limit: usize,
    /// The plotted addresses.
    pub plots: Vec<String>,
    /// The plots' time window (seconds, ending now).
    pub window: f64,
    /// The plots' width in pixels: at most twice as many points per series are sent.
    pub points: usize,
    /// The last bundle sent (its `seq`).
    pub bundle_seen: u64,
    /// The last malformed packet sent.
    pub malformed_seen: u64,
}

impl Default for View {
    fn default() -> Self {
        View {
            filter: None,
            sort: SortKey::Address,
            descending: false,
            limit: 200,
            plots: Vec::new(),
            window: 10.0,
            points: 600,
            bundle_seen: 0,
            malformed_seen: 0,
        }
    }
}
