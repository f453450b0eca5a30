//! Unit tests of the aggregation through its public API, on a clock the tests pass in.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
// Limits and View are `#[non_exhaustive]`: users set fields on a default, as here.
#![allow(clippy::field_reassign_with_default)]

use std::net::SocketAddr;

use osc_codec::{Bundle, Message, Packet, TimeTag};

use crate::{Limits, Monitor, SortKey, View};

fn msg(addr: &str, args: impl FnOnce(Message) -> Message) -> Vec<u8> {
    Packet::from(args(Message::new(addr))).to_bytes().unwrap()
}

fn peer(port: u16) -> Option<SocketAddr> {
    Some(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn row<'a>(rows: &'a [crate::Row], addr: &str) -> &'a crate::Row {
    rows.iter().find(|r| r.address == addr).unwrap()
}

#[test]
fn counts_last_values_sources_and_tags() {
    let mut m = Monitor::new(Limits::default());
    m.observe(10.0, peer(1), "in", &msg("/a", |m| m.arg(1).arg(2.5f32)));
    m.observe(10.1, peer(2), "in", &msg("/a", |m| m.arg(3).arg("x")));
    m.observe(10.2, peer(1), "other", &msg("/b", |m| m.arg(true)));
    let (rows, matching) = m.rows(11.0, &View::default());
    assert_eq!(matching, 2);
    let a = row(&rows, "/a");
    assert_eq!(a.count, 2);
    assert_eq!(a.tags, ",is");
    assert_eq!(a.value, "3 \"x\"");
    assert_eq!(a.sources, ["127.0.0.1:1", "127.0.0.1:2"]);
    assert_eq!(a.channels, ["in"]);
    assert!((a.age - 0.9).abs() < 1e-9);
    let b = row(&rows, "/b");
    assert_eq!((b.tags.as_str(), b.value.as_str()), (",T", "true"));
    assert_eq!(b.channels, ["other"]);
    let t = m.totals(11.0);
    assert_eq!((t.packets, t.messages, t.addresses), (3, 3, 2));
}

#[test]
fn rates_over_the_window() {
    let mut limits = Limits::default();
    limits.rate_window = 1.0;
    let mut m = Monitor::new(limits);
    let fast = msg("/fast", |m| m.arg(1));
    let slow = msg("/slow", |m| m.arg(1));
    // 5 s: /fast at 200/s, /slow at 10/s.
    for i in 0..1000 {
        let t = 100.0 + f64::from(i) * 0.005;
        m.observe(t, None, "in", &fast);
        if i % 20 == 0 {
            m.observe(t, None, "in", &slow);
        }
    }
    let now = 104.999;
    let mut view = View::default();
    view.sort = SortKey::Rate;
    view.descending = true;
    let (rows, _) = m.rows(now, &view);
    assert_eq!(rows[0].address, "/fast");
    assert!((rows[0].rate - 200.0).abs() <= 10.0, "{}", rows[0].rate);
    assert!((rows[1].rate - 10.0).abs() <= 1.0, "{}", rows[1].rate);
    assert!((m.totals(now).rate - 210.0).abs() <= 11.0);
    // Silence: the rate falls to 0, the count stays.
    let (rows, _) = m.rows(110.0, &view);
    assert!(rows.iter().all(|r| r.rate == 0.0));
    assert_eq!(row(&rows, "/fast").count, 1000);
}

#[test]
fn bundles_late_early_and_immediate() {
    let mut m = Monitor::new(Limits::default());
    let inner = |tt| {
        Packet::from(
            Bundle::new(tt)
                .add(Message::new("/x").arg(1))
                .add(Message::new("/y")),
        )
        .to_bytes()
        .unwrap()
    };
    m.observe(
        100.5,
        peer(9),
        "in",
        &inner(TimeTag::from_unix_secs_f64(100.0)),
    );
    m.observe(
        100.5,
        peer(9),
        "in",
        &inner(TimeTag::from_unix_secs_f64(101.0)),
    );
    m.observe(100.5, peer(9), "in", &inner(TimeTag::IMMEDIATELY));
    let nested = Packet::from(
        Bundle::new(TimeTag::IMMEDIATELY)
            .add(Bundle::new(TimeTag::IMMEDIATELY).add(Message::new("/z"))),
    )
    .to_bytes()
    .unwrap();
    m.observe(100.6, None, "in", &nested);
    let b = m.bundles_since(0);
    assert_eq!(b.len(), 5, "nested bundles count too");
    assert!((b[0].late.unwrap() - 0.5).abs() < 1e-6);
    assert!((b[1].late.unwrap() + 0.5).abs() < 1e-6);
    assert_eq!(b[2].late, None);
    assert_eq!(b[0].elements, 2);
    assert_eq!(b[0].source, "127.0.0.1:9");
    let t = m.totals(101.0);
    assert_eq!((t.bundles, t.late, t.early, t.messages), (5, 1, 1, 7));
    assert_eq!(m.bundles_since(b[3].seq).len(), 1);
}

#[test]
fn malformed_packets_keep_error_and_hex() {
    let mut limits = Limits::default();
    limits.max_malformed = 3;
    limits.malformed_bytes = 8;
    let mut m = Monitor::new(limits);
    for i in 0..5u8 {
        m.observe(
            1.0,
            peer(5),
            "in",
            &[b'/', b'a', 0, 0, b',', b'i', 0, 0, i, 1, 2],
        );
    }
    let bad = m.malformed_since(0);
    assert_eq!(bad.len(), 3, "capped");
    assert_eq!(bad[0].seq, 3);
    assert!(!bad[0].error.is_empty());
    assert_eq!(bad[0].size, 11);
    assert!(bad[0].hex.contains("2f610000"), "{}", bad[0].hex);
    assert!(bad[0].hex.contains("3 more bytes"), "{}", bad[0].hex);
    assert_eq!(m.totals(1.0).malformed, 5);
    assert_eq!(m.totals(1.0).messages, 0);
}

#[test]
fn addresses_are_capped_with_others() {
    let mut limits = Limits::default();
    limits.max_addresses = 100;
    limits.max_address_len = 20;
    let mut m = Monitor::new(limits);
    for i in 0..250 {
        m.observe(1.0, None, "in", &msg(&format!("/n/{i}"), |m| m));
    }
    m.observe(1.0, None, "in", &msg("/n/0", |m| m));
    m.observe(
        1.0,
        None,
        "in",
        &msg(&format!("/{}", "x".repeat(30)), |m| m),
    );
    let t = m.totals(1.0);
    assert_eq!(t.addresses, 100);
    assert_eq!(t.others, 151);
    assert_eq!(t.messages, 252);
    let (rows, matching) = m.rows(1.0, &View::default());
    assert_eq!((rows.len(), matching), (100, 100));
}

#[test]
fn values_sources_and_channels_are_capped() {
    let mut limits = Limits::default();
    limits.max_value_len = 10;
    limits.max_sources = 2;
    let mut m = Monitor::new(limits);
    for p in 0..5 {
        m.observe(
            1.0,
            peer(p),
            &format!("ch{p}"),
            &msg("/s", |m| m.arg("a long string value")),
        );
    }
    let (rows, _) = m.rows(1.0, &View::default());
    assert_eq!(rows[0].sources.len(), 2);
    assert_eq!(rows[0].channels.len(), 2);
    assert!(rows[0].value.chars().count() <= 11, "{}", rows[0].value);
    assert!(rows[0].value.ends_with('…'));
}

#[test]
fn plots_keep_series_of_selected_addresses_only() {
    let mut limits = Limits::default();
    limits.plot_points = 1000;
    limits.max_plots = 2;
    let mut m = Monitor::new(limits);
    let addrs: Vec<String> = ["/p", "/q", "/r"].map(String::from).to_vec();
    assert_eq!(m.set_plots(1, &addrs), ["/p", "/q"], "max_plots");
    for i in 0..5000 {
        let t = 1000.0 + f64::from(i) * 0.001;
        m.observe(
            t,
            None,
            "in",
            &msg("/p", |m| m.arg(i).arg("s").arg(f64::from(i) * 0.5)),
        );
        m.observe(t, None, "in", &msg("/unplotted", |m| m.arg(i)));
    }
    let plots = m.plots(1005.0, &addrs, 1.0, 100);
    assert_eq!(plots.len(), 2);
    let p = &plots[0];
    assert_eq!(
        p.series.iter().map(|s| (s.arg, s.tag)).collect::<Vec<_>>(),
        [(0, 'i'), (2, 'd')]
    );
    // 1000 points kept, decimated to at most 2 per pixel.
    assert!(p.series[0].points.len() <= 200);
    assert!(p.series[0].points.len() >= 100);
    assert_eq!(p.series[0].points.last().unwrap()[1], 4999.0);
    // Few points in a wide plot: every one is sent.
    let wide = m.plots(1005.0, &addrs, 10.0, 1000);
    assert_eq!(wide[0].series[0].points.len(), 1000);
    // A narrow window: only its points.
    let narrow = m.plots(1005.0, &addrs, 0.1, 1000);
    assert!(narrow[0].series[0].points.len() <= 101);
    // Nobody plots /p any more: its series go.
    m.forget(1);
    assert!(m.plots(1005.0, &addrs, 10.0, 100).is_empty());
}

#[test]
fn plots_are_shared_between_clients() {
    let mut m = Monitor::new(Limits::default());
    let p = vec!["/p".to_owned()];
    m.set_plots(1, &p);
    m.set_plots(2, &p);
    m.observe(1.0, None, "in", &msg("/p", |m| m.arg(1.5f32)));
    m.forget(1);
    m.observe(2.0, None, "in", &msg("/p", |m| m.arg(2.5f32)));
    let plots = m.plots(2.0, &p, 10.0, 100);
    assert_eq!(plots[0].series[0].points, [[1.0, 1.5], [2.0, 2.5]]);
}

#[test]
fn sorting_and_filtering() {
    let mut m = Monitor::new(Limits::default());
    for (i, a) in ["/c/1", "/a/2", "/b/1", "/a/1"].iter().enumerate() {
        for _ in 0..=i {
            m.observe(
                f64::from(u32::try_from(i).unwrap()),
                None,
                "in",
                &msg(a, |m| m),
            );
        }
    }
    let names = |v: &View| {
        m.rows(10.0, v)
            .0
            .into_iter()
            .map(|r| r.address)
            .collect::<Vec<_>>()
    };
    let mut v = View::default();
    assert_eq!(names(&v), ["/a/1", "/a/2", "/b/1", "/c/1"]);
    v.descending = true;
    assert_eq!(names(&v), ["/c/1", "/b/1", "/a/2", "/a/1"]);
    v.sort = SortKey::Count;
    assert_eq!(names(&v), ["/a/1", "/b/1", "/a/2", "/c/1"]);
    v.sort = SortKey::Age;
    v.descending = false;
    assert_eq!(names(&v)[0], "/a/1", "most recent first");
    v.filter = Some(osc_pattern::Filter::osc("/a/*").unwrap());
    v.limit = 1;
    let (rows, matching) = m.rows(10.0, &v);
    assert_eq!((rows.len(), matching), (1, 2));
}

#[test]
fn snapshots_send_bundles_and_malformed_once() {
    let mut m = Monitor::new(Limits::default());
    let mut view = View::default();
    m.observe(1.0, None, "in", b"bad");
    let b = Packet::from(Bundle::new(TimeTag::IMMEDIATELY).add(Message::new("/a")))
        .to_bytes()
        .unwrap();
    m.observe(1.0, None, "in", &b);
    let s = m.snapshot(1.0, &mut view);
    assert_eq!((s.bundles.len(), s.malformed.len()), (1, 1));
    let s = m.snapshot(1.1, &mut view);
    assert_eq!((s.bundles.len(), s.malformed.len()), (0, 0));
    m.observe(1.2, None, "in", &b);
    assert_eq!(m.snapshot(1.2, &mut view).bundles.len(), 1);
    let json = serde_json::to_value(m.snapshot(1.3, &mut view)).unwrap();
    assert_eq!(json["rows"][0]["address"], "/a");
    assert_eq!(json["totals"]["bundles"], 2);
}

#[test]
fn hostile_packets_never_panic() {
    let mut m = Monitor::new(Limits::default());
    m.set_plots(1, &["/a".to_owned()]);
    let mut data = Vec::new();
    for len in 0..64 {
        data.push(u8::try_from(len * 37 % 251).unwrap());
        m.observe(f64::NAN, None, "in", &data);
        m.observe(-1e300, None, "in", &data);
        m.observe(1e300, None, "in", &data);
    }
    let _ = m.snapshot(f64::NAN, &mut View::default());
    let _ = m.plots(f64::INFINITY, &["/a".to_owned()], 10.0, 10);
}
