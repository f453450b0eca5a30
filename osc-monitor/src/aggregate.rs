//! The monitor's state, without I/O: packets go in with their arrival time, source
//! and channel; rows, bundles, malformed packets and plot points come out. Every
//! collection is bounded by [`Limits`].

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;

use osc_codec::{ArgRef, BundleRef, MessageRef, PacketRef};

use crate::limits::Limits;
use crate::rate::RateWindow;
use crate::series::Series;
use crate::snapshot::{
    BundleSeen, MalformedPacket, Plot, PlotSeries, Row, Snapshot, SortKey, Totals, View,
};

#[derive(Debug)]
struct Entry {
    sources: Vec<Option<SocketAddr>>,
    channels: Vec<u16>,
    tags: String,
    value: String,
    count: u64,
    last: f64,
    rate: RateWindow,
}

#[derive(Debug, Default)]
struct Plotted {
    clients: BTreeSet<u64>,
    /// By argument position: its tag and points.
    series: Vec<Option<(char, Series)>>,
}

/// The aggregation of everything observed: per address sources, type tags, last
/// value, count, rate and time since the last message; bundles with their lateness;
/// malformed packets with a hex dump; time series of the plotted addresses.
///
/// ```
/// use osc_monitor::{Limits, Monitor, View};
/// use osc_codec::{Message, Packet};
///
/// let mut m = Monitor::new(Limits::default());
/// let bytes = Packet::from(Message::new("/fader/1").arg(0.5f32)).to_bytes()?;
/// m.observe(100.0, Some("127.0.0.1:9000".parse()?), "osc.udp://:9000", &bytes);
/// m.observe(100.5, Some("127.0.0.1:9000".parse()?), "osc.udp://:9000", &bytes);
/// let (rows, _) = m.rows(101.0, &View::default());
/// assert_eq!(rows[0].address, "/fader/1");
/// assert_eq!(rows[0].value, "0.5");
/// assert_eq!(rows[0].count, 2);
/// assert_eq!(rows[0].age, 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Monitor {
    limits: Limits,
    entries: HashMap<String, Entry>,
    channels: Vec<String>,
    totals: Totals,
    rate: RateWindow,
    bundles: VecDeque<BundleSeen>,
    bundle_seq: u64,
    malformed: VecDeque<MalformedPacket>,
    malformed_seq: u64,
    plotted: HashMap<String, Plotted>,
}

/// A `fmt::Write` that stops (with an error) once `left` bytes are written.
struct Capped<'a> {
    out: &'a mut String,
    left: usize,
}

impl std::fmt::Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if s.len() <= self.left {
            self.out.push_str(s);
            self.left -= s.len();
            return Ok(());
        }
        let mut end = self.left;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.out.push_str(s.get(..end).unwrap_or_default());
        self.out.push('…');
        self.left = 0;
        Err(std::fmt::Error)
    }
}

fn number(a: &ArgRef<'_>) -> Option<(char, f64)> {
    Some(match *a {
        ArgRef::Int(v) => ('i', f64::from(v)),
        ArgRef::Float(v) => ('f', f64::from(v)),
        ArgRef::Long(v) => ('h', v as f64),
        ArgRef::Double(v) => ('d', v),
        _ => return None,
    })
}

impl Monitor {
    /// An empty monitor with these limits.
    ///
    /// ```
    /// let m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// assert_eq!(m.totals(0.0).packets, 0);
    /// ```
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Monitor {
            rate: RateWindow::new(limits.rate_window),
            limits,
            entries: HashMap::new(),
            channels: Vec::new(),
            totals: Totals::default(),
            bundles: VecDeque::new(),
            bundle_seq: 0,
            malformed: VecDeque::new(),
            malformed_seq: 0,
            plotted: HashMap::new(),
        }
    }

    /// The limits it was made with.
    ///
    /// ```
    /// let m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// assert_eq!(m.limits().max_plots, 32);
    /// ```
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn channel_index(&mut self, channel: &str) -> Option<u16> {
        if let Some(i) = self.channels.iter().position(|c| c == channel) {
            return u16::try_from(i).ok();
        }
        if self.channels.len() >= self.limits.max_channels.min(usize::from(u16::MAX)) {
            return None;
        }
        self.channels.push(channel.to_owned());
        u16::try_from(self.channels.len() - 1).ok()
    }

    fn source_text(&self, peer: Option<SocketAddr>, channel: &str) -> String {
        peer.map_or_else(|| channel.to_owned(), |p| p.to_string())
    }

    /// Takes one packet: `at` its arrival (Unix seconds, [`unix_secs`](crate::limits::unix_secs)), `peer` its
    /// sender when known, `channel` the endpoint it came in on, `data` its bytes.
    ///
    /// ```
    /// let mut m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// m.observe(1.0, None, "in", b"not osc");
    /// assert_eq!(m.totals(1.0).malformed, 1);
    /// assert!(m.malformed_since(0)[0].hex.contains("6e6f7420"));
    /// ```
    pub fn observe(&mut self, at: f64, peer: Option<SocketAddr>, channel: &str, data: &[u8]) {
        self.totals.packets += 1;
        self.totals.bytes += data.len() as u64;
        match osc_codec::decode(data) {
            Ok(packet) => {
                let ch = self.channel_index(channel);
                self.packet(at, peer, channel, ch, packet);
            }
            Err(e) => {
                self.totals.malformed += 1;
                self.malformed_seq += 1;
                let keep = data.get(..self.limits.malformed_bytes).unwrap_or(data);
                let mut hex = osc_codec::dumphex(keep);
                if keep.len() < data.len() {
                    let _ = writeln!(hex, "... {} more bytes", data.len() - keep.len());
                }
                let m = MalformedPacket {
                    seq: self.malformed_seq,
                    at,
                    source: self.source_text(peer, channel),
                    channel: channel.to_owned(),
                    error: e.to_string(),
                    size: data.len(),
                    hex,
                };
                if self.malformed.len() >= self.limits.max_malformed.max(1) {
                    self.malformed.pop_front();
                }
                self.malformed.push_back(m);
            }
        }
    }

    fn packet(
        &mut self,
        at: f64,
        peer: Option<SocketAddr>,
        channel: &str,
        ch: Option<u16>,
        packet: PacketRef<'_>,
    ) {
        match packet {
            PacketRef::Message(m) => self.message(at, peer, ch, &m),
            PacketRef::Bundle(b) => {
                self.bundle(at, peer, channel, &b);
                for e in b.elements() {
                    self.packet(at, peer, channel, ch, e);
                }
            }
        }
    }

    fn bundle(&mut self, at: f64, peer: Option<SocketAddr>, channel: &str, b: &BundleRef<'_>) {
        self.totals.bundles += 1;
        self.bundle_seq += 1;
        let tt = b.timetag();
        let late = (!tt.is_immediate()).then(|| at - tt.to_unix_secs_f64());
        match late {
            Some(l) if l > 0.0 => self.totals.late += 1,
            Some(_) => self.totals.early += 1,
            None => {}
        }
        let seen = BundleSeen {
            seq: self.bundle_seq,
            at,
            source: self.source_text(peer, channel),
            channel: channel.to_owned(),
            timetag: tt.to_string(),
            late,
            elements: b.elements().count(),
            size: b.as_bytes().len(),
        };
        if self.bundles.len() >= self.limits.max_bundles.max(1) {
            self.bundles.pop_front();
        }
        self.bundles.push_back(seen);
    }

    fn message(&mut self, at: f64, peer: Option<SocketAddr>, ch: Option<u16>, m: &MessageRef<'_>) {
        self.totals.messages += 1;
        self.rate.add(at);
        let address = m.address();
        if address.len() > self.limits.max_address_len {
            self.totals.others += 1;
            return;
        }
        if !self.entries.contains_key(address) {
            if self.entries.len() >= self.limits.max_addresses {
                self.totals.others += 1;
                return;
            }
            self.entries.insert(
                address.to_owned(),
                Entry {
                    sources: Vec::new(),
                    channels: Vec::new(),
                    tags: String::new(),
                    value: String::new(),
                    count: 0,
                    last: at,
                    rate: RateWindow::new(self.limits.rate_window),
                },
            );
        }
        let limits = &self.limits;
        let Some(e) = self.entries.get_mut(address) else {
            return;
        };
        e.count += 1;
        e.last = at;
        e.rate.add(at);
        if !e.sources.contains(&peer) && e.sources.len() < limits.max_sources {
            e.sources.push(peer);
        }
        if let Some(c) = ch {
            if !e.channels.contains(&c) && e.channels.len() < limits.max_sources {
                e.channels.push(c);
            }
        }
        if e.tags != m.type_tags() {
            e.tags.clear();
            e.tags.push_str(m.type_tags());
        }
        e.value.clear();
        let mut out = Capped {
            out: &mut e.value,
            left: limits.max_value_len,
        };
        for (i, a) in m.args().enumerate() {
            let r = if i == 0 {
                write!(out, "{a}")
            } else {
                write!(out, " {a}")
            };
            if r.is_err() {
                break;
            }
        }
        if self.plotted.is_empty() {
            return;
        }
        if let Some(p) = self.plotted.get_mut(address) {
            let args = m
                .args()
                .filter(|a| !matches!(a, ArgRef::ArrayOpen | ArgRef::ArrayClose));
            for (i, a) in args.enumerate().take(limits.max_plot_args) {
                let Some((tag, v)) = number(&a) else { continue };
                if p.series.len() <= i {
                    p.series.resize_with(i + 1, || None);
                }
                if let Some(slot) = p.series.get_mut(i) {
                    let (_, s) = slot.get_or_insert_with(|| (tag, Series::new(limits.plot_points)));
                    s.push(at, v);
                }
            }
        }
    }

    /// The counts over everything, with the message rate at `now`.
    ///
    /// ```
    /// let m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// assert_eq!(m.totals(0.0).rate, 0.0);
    /// ```
    #[must_use]
    pub fn totals(&self, now: f64) -> Totals {
        Totals {
            addresses: self.entries.len(),
            rate: self.rate.rate(now),
            ..self.totals.clone()
        }
    }

    /// The rows that match `view`'s filter, in its order, at most its limit, and how
    /// many matched.
    ///
    /// ```
    /// use osc_monitor::{Limits, Monitor, SortKey, View};
    /// use osc_codec::{Message, Packet};
    /// let mut m = Monitor::new(Limits::default());
    /// for (addr, n) in [("/a", 1), ("/b", 3), ("/c/x", 2)] {
    ///     let bytes = Packet::from(Message::new(addr)).to_bytes()?;
    ///     for _ in 0..n {
    ///         m.observe(1.0, None, "in", &bytes);
    ///     }
    /// }
    /// let mut view = View::default();
    /// view.sort = SortKey::Count;
    /// view.descending = true;
    /// view.filter = Some(osc_pattern::Filter::osc("/{a,b}")?);
    /// let (rows, matching) = m.rows(1.0, &view);
    /// assert_eq!(matching, 2);
    /// assert_eq!(rows.iter().map(|r| r.address.as_str()).collect::<Vec<_>>(), ["/b", "/a"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn rows(&self, now: f64, view: &View) -> (Vec<Row>, usize) {
        let mut picked: Vec<(&String, &Entry, f64)> = self
            .entries
            .iter()
            .filter(|(a, _)| view.filter.as_ref().is_none_or(|f| f.matches(a)))
            .map(|(a, e)| {
                let rate = if view.sort == SortKey::Rate {
                    e.rate.rate(now)
                } else {
                    0.0
                };
                (a, e, rate)
            })
            .collect();
        let matching = picked.len();
        picked.sort_by(|x, y| {
            let o = match view.sort {
                SortKey::Address => std::cmp::Ordering::Equal,
                SortKey::Count => x.1.count.cmp(&y.1.count),
                SortKey::Rate => x.2.total_cmp(&y.2),
                SortKey::Age => y.1.last.total_cmp(&x.1.last),
                SortKey::Tags => x.1.tags.cmp(&y.1.tags),
            };
            let o = if view.descending { o.reverse() } else { o };
            o.then_with(|| {
                if view.sort == SortKey::Address && view.descending {
                    y.0.cmp(x.0)
                } else {
                    x.0.cmp(y.0)
                }
            })
        });
        let rows = picked
            .into_iter()
            .take(view.limit)
            .map(|(a, e, _)| Row {
                address: a.clone(),
                sources: e
                    .sources
                    .iter()
                    .map(|p| p.map_or_else(|| "-".to_owned(), |p| p.to_string()))
                    .collect(),
                channels: e
                    .channels
                    .iter()
                    .filter_map(|c| self.channels.get(usize::from(*c)).cloned())
                    .collect(),
                tags: e.tags.clone(),
                value: e.value.clone(),
                count: e.count,
                rate: e.rate.rate(now),
                age: (now - e.last).max(0.0),
            })
            .collect();
        (rows, matching)
    }

    /// The bundles kept whose `seq` is after `seq`, oldest first.
    ///
    /// ```
    /// use osc_codec::{Bundle, Message, Packet, TimeTag};
    /// let mut m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// let due = TimeTag::from_unix_secs_f64(100.0);
    /// let b = Packet::from(Bundle::new(due).add(Message::new("/a"))).to_bytes()?;
    /// m.observe(100.25, None, "in", &b); // arrived 250 ms after its time
    /// let seen = m.bundles_since(0);
    /// assert!((seen[0].late.unwrap() - 0.25).abs() < 1e-6);
    /// assert!(m.bundles_since(seen[0].seq).is_empty());
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    #[must_use]
    pub fn bundles_since(&self, seq: u64) -> Vec<BundleSeen> {
        let skip = self.bundles.partition_point(|b| b.seq <= seq);
        self.bundles.range(skip..).cloned().collect()
    }

    /// The malformed packets kept whose `seq` is after `seq`, oldest first.
    ///
    /// ```
    /// let mut m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// m.observe(1.0, None, "in", b"/a\0\0,i\0\0"); // the int is missing
    /// assert_eq!(m.malformed_since(0).len(), 1);
    /// ```
    #[must_use]
    pub fn malformed_since(&self, seq: u64) -> Vec<MalformedPacket> {
        let skip = self.malformed.partition_point(|b| b.seq <= seq);
        self.malformed.range(skip..).cloned().collect()
    }

    /// Sets the addresses a client (a page, by a number of the caller's choosing)
    /// plots: their numeric arguments are kept as series from now on, while any
    /// client plots them. Returns the addresses accepted (at most
    /// [`Limits::max_plots`] addresses are plotted by all clients together).
    ///
    /// ```
    /// let mut m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// assert_eq!(m.set_plots(1, &["/a".to_owned()]), ["/a"]);
    /// m.forget(1);
    /// ```
    pub fn set_plots(&mut self, client: u64, addresses: &[String]) -> Vec<String> {
        self.forget(client);
        let mut accepted = Vec::new();
        for a in addresses {
            if accepted.contains(a) || a.len() > self.limits.max_address_len {
                continue;
            }
            if !self.plotted.contains_key(a) && self.plotted.len() >= self.limits.max_plots {
                continue;
            }
            self.plotted
                .entry(a.clone())
                .or_default()
                .clients
                .insert(client);
            accepted.push(a.clone());
        }
        accepted
    }

    /// Drops a client's plots (series nobody plots any more are dropped).
    ///
    /// ```
    /// let mut m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// m.forget(7); // unknown clients are fine
    /// ```
    pub fn forget(&mut self, client: u64) {
        self.plotted.retain(|_, p| {
            p.clients.remove(&client);
            !p.clients.is_empty()
        });
    }

    /// The series of `addresses` over `[now - window, now]`, each decimated to at
    /// most `2 * points` points.
    ///
    /// ```
    /// use osc_codec::{Message, Packet};
    /// let mut m = osc_monitor::Monitor::new(osc_monitor::Limits::default());
    /// m.set_plots(1, &["/xy".to_owned()]);
    /// for i in 0..10 {
    ///     let b = Packet::from(Message::new("/xy").arg(i).arg(0.5f32).arg("s")).to_bytes()?;
    ///     m.observe(f64::from(i), None, "in", &b);
    /// }
    /// let plots = m.plots(10.0, &["/xy".to_owned()], 60.0, 100);
    /// assert_eq!(plots[0].series.len(), 2); // the string is not plotted
    /// assert_eq!(plots[0].series[0].points.len(), 10);
    /// # Ok::<(), osc_codec::Error>(())
    /// ```
    #[must_use]
    pub fn plots(&self, now: f64, addresses: &[String], window: f64, points: usize) -> Vec<Plot> {
        addresses
            .iter()
            .filter_map(|a| {
                let p = self.plotted.get(a)?;
                let series = p
                    .series
                    .iter()
                    .enumerate()
                    .filter_map(|(arg, s)| {
                        let (tag, s) = s.as_ref()?;
                        Some(PlotSeries {
                            arg,
                            tag: *tag,
                            points: s.window(now - window, now, points),
                        })
                    })
                    .collect();
                Some(Plot {
                    address: a.clone(),
                    series,
                })
            })
            .collect()
    }

    /// One update for a page: totals, rows, what is new since the page's last
    /// snapshot (its cursors in `view` move on), and its plots.
    ///
    /// ```
    /// use osc_monitor::{Limits, Monitor, View};
    /// let mut m = Monitor::new(Limits::default());
    /// m.observe(1.0, None, "in", b"junk");
    /// let mut view = View::default();
    /// assert_eq!(m.snapshot(1.0, &mut view).malformed.len(), 1);
    /// assert_eq!(m.snapshot(1.1, &mut view).malformed.len(), 0); // sent once
    /// ```
    #[must_use]
    pub fn snapshot(&self, now: f64, view: &mut View) -> Snapshot {
        let (rows, matching) = self.rows(now, view);
        let bundles = self.bundles_since(view.bundle_seen);
        let malformed = self.malformed_since(view.malformed_seen);
        view.bundle_seen = self.bundle_seq;
        view.malformed_seen = self.malformed_seq;
        Snapshot {
            now,
            totals: self.totals(now),
            rows,
            matching,
            bundles,
            malformed,
            plots: self.plots(now, &view.plots, view.window, view.points),
        }
    }
}
