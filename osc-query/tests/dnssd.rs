//! DNS-SD over mDNS, which must never reach a real network: each test re-runs itself
//! inside a private network namespace (`unshare -n`, as root) holding only `lo` and a
//! veth pair `v0`/`v1` whose ends are both inside it (`v0` has 192.0.2.1, a
//! documentation address), and is skipped with a message where that is impossible.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use osc_query::{Advertisement, OSC_UDP, OSCJSON_TCP, Transport, browse};

use osc_test_support::inside_private_netns;

/// Browses `ty` until a service satisfies `want` (up to three browses of 3 s: one
/// may miss an answer on a loaded machine); returns the last list.
fn browse_until(ty: &str, want: impl Fn(&osc_query::Service) -> bool) -> Vec<osc_query::Service> {
    let mut found = Vec::new();
    for _ in 0..3 {
        found = browse(ty, Duration::from_secs(3)).unwrap();
        if found.iter().any(&want) {
            break;
        }
    }
    found
}

#[test]
fn advertised_services_are_found_and_withdrawn() {
    if !inside_private_netns("advertised_services_are_found_and_withdrawn") {
        return;
    }
    let ad = Advertisement::publish("netns synth", 45_678, Some((9_000, Transport::Udp))).unwrap();
    assert_eq!(
        ad.fullnames(),
        [
            "netns synth._oscjson._tcp.local.",
            "netns synth._osc._udp.local."
        ]
    );
    let v0: IpAddr = "192.0.2.1".parse().unwrap();

    let found = browse_until(OSCJSON_TCP, |s| s.instance == "netns synth");
    let s = found
        .iter()
        .find(|s| s.instance == "netns synth")
        .unwrap_or_else(|| panic!("not found: {found:?}"));
    assert_eq!(s.port, 45_678);
    // The namespace's own addresses only (which ones depends on the interface the
    // answer came in on).
    let lo: IpAddr = "127.0.0.1".parse().unwrap();
    assert!(!s.addresses.is_empty(), "{s:?}");
    assert!(
        s.addresses
            .iter()
            .all(|a| *a == v0 || *a == lo || a.is_ipv6()),
        "{s:?}"
    );
    let url = s.url().unwrap();
    assert!(
        url.starts_with("http://") && url.ends_with(":45678"),
        "{url}"
    );

    let osc = browse_until(OSC_UDP, |s| s.instance == "netns synth");
    assert!(
        osc.iter()
            .any(|s| s.instance == "netns synth" && s.port == 9_000),
        "{osc:?}"
    );

    // Withdrawn while a browser watches: the browser sees it go.
    let watcher = std::thread::spawn(|| browse(OSCJSON_TCP, Duration::from_secs(4)).unwrap());
    std::thread::sleep(Duration::from_millis(2_000));
    ad.withdraw();
    let after = watcher.join().unwrap();
    assert!(
        after.iter().all(|s| s.instance != "netns synth"),
        "{after:?}"
    );
}

/// The project's venv Python with `zeroconf`, or `None` with a skip message.
fn zeroconf_python() -> Option<std::path::PathBuf> {
    osc_test_support::venv_python("zeroconf", "zeroconf")
}

fn peer() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zeroconf_peer.py")
}

#[test]
fn python_zeroconf_finds_us_and_we_find_it() {
    if !inside_private_netns("python_zeroconf_finds_us_and_we_find_it") {
        return;
    }
    let Some(py) = zeroconf_python() else {
        return;
    };
    // zeroconf discovers our advertisement.
    let ad = Advertisement::publish("rust synth", 45_679, Some((9_001, Transport::Udp))).unwrap();
    let out = Command::new(&py)
        .arg(peer())
        .args(["browse", OSCJSON_TCP, "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = found
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "rust synth._oscjson._tcp.local.")
        .unwrap_or_else(|| panic!("zeroconf did not find us: {found}"));
    assert_eq!(ours["port"], 45_679);
    assert!(!ours["addresses"].as_array().unwrap().is_empty());
    drop(ad);

    // We discover what zeroconf advertises.
    let mut child = osc_test_support::Reaped(
        Command::new(&py)
            .arg(peer())
            .args([
                "register",
                "python synth",
                OSC_UDP,
                "9002",
                "192.0.2.1",
                "12",
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "registered");
    let services = browse_until(OSC_UDP, |s| s.instance == "python synth");
    let theirs = services
        .iter()
        .find(|s| s.instance == "python synth")
        .unwrap_or_else(|| panic!("we did not find zeroconf's service: {services:?}"));
    assert_eq!(theirs.port, 9002);
    assert_eq!(theirs.addresses, ["192.0.2.1".parse::<IpAddr>().unwrap()]);
}

#[test]
fn a_name_conflict_gives_a_new_name_the_application_can_read() {
    if !inside_private_netns("a_name_conflict_gives_a_new_name_the_application_can_read") {
        return;
    }
    let first = Advertisement::publish("twin", 40_001, None).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let second = Advertisement::publish("twin", 40_002, None).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    let renamed = loop {
        let names = second.current_names();
        if names[0] != "twin._oscjson._tcp.local." {
            break names;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no conflict resolution seen"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(renamed[0], "twin (2)._oscjson._tcp.local.");
    assert_eq!(first.current_names(), ["twin._oscjson._tcp.local."]);
    // Both are found under their names (a browse may miss an answer on a loaded
    // machine: up to three tries).
    let want = [("twin".to_owned(), 40_001), ("twin (2)".to_owned(), 40_002)];
    let mut ports: Vec<(String, u16)> = Vec::new();
    for _ in 0..3 {
        let found = browse(OSCJSON_TCP, Duration::from_secs(3)).unwrap();
        ports = found.iter().map(|s| (s.instance.clone(), s.port)).collect();
        if want.iter().all(|w| ports.contains(w)) {
            break;
        }
    }
    assert!(want.iter().all(|w| ports.contains(w)), "{ports:?}");
}

#[test]
fn terminating_the_runtime_withdraws_its_advertisement() {
    use osc_query::{Change, OscQueryExt, Watcher};
    if !inside_private_netns("terminating_the_runtime_withdraws_its_advertisement") {
        return;
    }
    let osc = osc4rs::Osc::builder().start().unwrap();
    osc.udp_server("in", "0.0.0.0:0").unwrap();
    let query = osc.oscquery("short lived").unwrap();
    assert_eq!(
        query.advertised_names().unwrap()[0],
        "short lived._oscjson._tcp.local."
    );
    let mut watcher = Watcher::new(&[OSCJSON_TCP]).unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(15);
    let mut seen = false;
    while !seen && std::time::Instant::now() < until {
        seen = matches!(watcher.next(Duration::from_millis(200)).unwrap(),
            Some(Change::Found(s)) if s.instance == "short lived");
    }
    assert!(seen, "the advertisement was not found");

    osc.terminate().unwrap();
    assert!(query.advertised_names().is_none());
    let mut gone = false;
    while !gone && std::time::Instant::now() < until {
        gone = matches!(watcher.next(Duration::from_millis(200)).unwrap(),
            Some(Change::Lost { instance, .. }) if instance == "short lived");
    }
    assert!(gone, "the advertisement was not withdrawn");
}

#[test]
fn resolving_waits_for_an_oscquery_server_that_answers_late() {
    use osc_query::{OscQuery, OscQueryExt, resolve_query};
    if !inside_private_netns("resolving_waits_for_an_oscquery_server_that_answers_late") {
        return;
    }
    // A port nothing listens on yet, advertised as an OSCQuery server's.
    let port = std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _ad = Advertisement::publish("late synth", port, None).unwrap();
    // The server starts listening there 3 s later: connections are refused until then.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        let osc = osc4rs::Osc::builder().start().unwrap();
        osc.udp_server("in", "0.0.0.0:0").unwrap();
        let http = std::net::SocketAddr::from(([0, 0, 0, 0], port));
        let query = osc
            .oscquery_with(
                OscQuery::builder("late synth")
                    .http_addr(http)
                    .advertise(false),
            )
            .unwrap();
        let osc_port = osc.local_addr("in").unwrap().port();
        let _ = done_rx.recv_timeout(Duration::from_secs(20));
        drop(query);
        osc.terminate().unwrap();
        osc_port
    });
    let started = std::time::Instant::now();
    let found = resolve_query("late synth", Duration::from_secs(12));
    let _ = done_tx.send(());
    let osc_port = server.join().unwrap();
    let target = found.unwrap_or_else(|e| panic!("after {:?}: {e}", started.elapsed()));
    assert_eq!(target.query.map(|q| q.port()), Some(port));
    assert_eq!(target.addr.port(), osc_port);
    assert!(started.elapsed() >= Duration::from_secs(2), "{target:?}");
}
