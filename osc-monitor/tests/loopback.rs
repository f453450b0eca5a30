//! The monitor over loopback: OSC over UDP in, a WebSocket client (tungstenite, the
//! library under tokio-tungstenite) reading snapshots and driving the send panel and
//! the record button, and hostile WebSocket input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use osc_codec::{Bundle, Message, Packet, TimeTag};
use osc_monitor::{MonitorConfig, MonitorServer};
use serde_json::{Value, json};
use tungstenite::Message as Ws;

type Client = tungstenite::WebSocket<TcpStream>;

fn start(dir: &std::path::Path) -> (MonitorServer, SocketAddr) {
    let mut cfg = MonitorConfig::new(vec!["osc.udp://127.0.0.1:0".into()]);
    // A long rate window: every message sent by the test is inside it whatever the
    // machine's speed, so the rates are exact.
    cfg.limits.rate_window = 60.0;
    cfg.record_dir = dir.to_owned();
    let m = MonitorServer::start(cfg).unwrap();
    let osc = m.endpoints()[0].1.unwrap();
    (m, osc)
}

fn connect(addr: SocketAddr) -> Client {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (mut ws, resp) = tungstenite::client::client(format!("ws://{addr}/ws"), s).unwrap();
    assert_eq!(resp.status(), 101);
    let hello = next(&mut ws, "hello");
    assert!(hello["endpoints"][0].as_str().unwrap().contains("://"));
    ws
}

fn cmd(ws: &mut Client, v: Value) {
    ws.send(Ws::text(v.to_string())).unwrap();
}

/// The next message of this type (others skipped).
fn next(ws: &mut Client, kind: &str) -> Value {
    loop {
        match ws.read().unwrap() {
            Ws::Text(t) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == kind {
                    return v;
                }
            }
            Ws::Ping(_) | Ws::Pong(_) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Snapshots until one satisfies `ok`.
fn snapshot_until(ws: &mut Client, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let give_up = Instant::now() + Duration::from_secs(20);
    loop {
        let s = next(ws, "snapshot");
        if ok(&s) {
            return s;
        }
        assert!(
            Instant::now() < give_up,
            "never saw {what}; last snapshot: {s}"
        );
    }
}

fn row<'a>(s: &'a Value, addr: &str) -> &'a Value {
    s["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == addr)
        .unwrap_or_else(|| panic!("no row {addr} in {s}"))
}

fn bytes(p: impl Into<Packet>) -> Vec<u8> {
    p.into().to_bytes().unwrap()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("osc-monitor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn snapshots_show_rows_values_rates_bundles_malformed_and_plots() {
    let dir = tempdir("snap");
    let (m, osc) = start(&dir);
    let mut ws = connect(m.http_addr());
    cmd(
        &mut ws,
        json!({"cmd": "view", "sort": "count", "desc": true}),
    );
    cmd(
        &mut ws,
        json!({"cmd": "plot", "addresses": ["/fader/1"], "window": 60, "points": 500}),
    );
    assert_eq!(next(&mut ws, "plot")["addresses"], json!(["/fader/1"]));

    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..50u8 {
        tx.send_to(
            &bytes(Message::new("/fader/1").arg(f32::from(i) / 4.0)),
            osc,
        )
        .unwrap();
    }
    for i in 0..20 {
        tx.send_to(&bytes(Message::new("/knob/2").arg(i).arg("x")), osc)
            .unwrap();
    }
    let due =
        TimeTag::from_unix_secs_f64(osc_monitor::unix_secs(std::time::SystemTime::now()) - 1.0);
    tx.send_to(
        &bytes(Bundle::new(due).add(Message::new("/b/x").arg(1.5f64))),
        osc,
    )
    .unwrap();
    tx.send_to(b"/broken\0,i\0\0", osc).unwrap();

    let s = snapshot_until(&mut ws, "every packet", |s| s["totals"]["packets"] == 72);
    assert_eq!(s["totals"]["messages"], 71);
    assert_eq!(s["totals"]["addresses"], 3);
    assert_eq!(s["matching"], 3);
    assert_eq!(
        s["rows"][0]["address"], "/fader/1",
        "sorted by count, largest first"
    );
    let fader = row(&s, "/fader/1");
    assert_eq!(fader["count"], 50);
    assert_eq!(fader["tags"], ",f");
    assert_eq!(fader["value"], "12.25");
    assert_eq!(fader["sources"][0], tx.local_addr().unwrap().to_string());
    assert!(
        (fader["rate"].as_f64().unwrap() - 50.0 / 60.0).abs() < 1e-9,
        "{fader}"
    );
    let knob = row(&s, "/knob/2");
    assert_eq!(
        (knob["count"].as_u64(), knob["value"].as_str()),
        (Some(20), Some("19 \"x\""))
    );
    assert!((knob["rate"].as_f64().unwrap() - 20.0 / 60.0).abs() < 1e-9);
    assert!((s["totals"]["rate"].as_f64().unwrap() - 71.0 / 60.0).abs() < 1e-9);

    let plot = &s["plots"][0];
    assert_eq!(plot["address"], "/fader/1");
    assert_eq!(plot["series"][0]["tag"], "f");
    assert_eq!(plot["series"][0]["points"].as_array().unwrap().len(), 50);
    assert_eq!(plot["series"][0]["points"][49][1], 12.25);

    // A fresh page gets the kept bundles and malformed packets in its first snapshot.
    let mut ws2 = connect(m.http_addr());
    let s2 = next(&mut ws2, "snapshot");
    let b = &s2["bundles"][0];
    assert_eq!(b["elements"], 1);
    let late = b["late"].as_f64().unwrap();
    assert!(late > 0.9, "arrived about 1 s after its timetag: {late}");
    let bad = &s2["malformed"][0];
    assert!(!bad["error"].as_str().unwrap().is_empty());
    assert!(bad["hex"].as_str().unwrap().contains("2f62726f"), "{bad}");
    // ...and only once.
    let s3 = next(&mut ws2, "snapshot");
    assert!(s3["bundles"].as_array().unwrap().is_empty());

    // The filter is an OSC pattern, matched by the server.
    cmd(&mut ws, json!({"cmd": "view", "filter": "/{knob,b}/*"}));
    let s = snapshot_until(&mut ws, "the filtered table", |s| s["matching"] == 2);
    assert!(
        s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["address"] != "/fader/1")
    );
    cmd(&mut ws, json!({"cmd": "view", "filter": "/[oops"}));
    assert!(
        next(&mut ws, "error")["error"]
            .as_str()
            .unwrap()
            .contains("bad filter")
    );
    m.stop();
}

#[test]
fn the_send_panel_sends_to_an_endpoint_and_reports() {
    let dir = tempdir("send");
    let (m, _osc) = start(&dir);
    let mut ws = connect(m.http_addr());
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let url = format!("osc.udp://{}", rx.local_addr().unwrap());
    cmd(
        &mut ws,
        json!({"cmd": "send", "id": 7, "url": url, "packet": "/hello ,is 1 \"x\""}),
    );
    let r = next(&mut ws, "sent");
    assert_eq!(
        (r["id"].as_u64(), r["ok"].as_bool()),
        (Some(7), Some(true)),
        "{r}"
    );
    let mut buf = [0u8; 1024];
    let (n, _) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(
        Packet::decode(&buf[..n]).unwrap().to_string(),
        "/hello ,is 1 \"x\""
    );
    // A bare address, as `osc4rs send` takes it.
    cmd(
        &mut ws,
        json!({"cmd": "send", "id": 8, "url": url, "packet": "/status"}),
    );
    assert_eq!(next(&mut ws, "sent")["ok"], true);
    let (n, _) = rx.recv_from(&mut buf).unwrap();
    assert_eq!(Packet::decode(&buf[..n]).unwrap().to_string(), "/status ,");
    // Mistakes are reported, not sent.
    cmd(
        &mut ws,
        json!({"cmd": "send", "id": 9, "url": url, "packet": "/a ,i notanumber"}),
    );
    let r = next(&mut ws, "sent");
    assert_eq!(
        (r["id"].as_u64(), r["ok"].as_bool()),
        (Some(9), Some(false))
    );
    assert!(r["error"].as_str().unwrap().contains("column"), "{r}");
    cmd(
        &mut ws,
        json!({"cmd": "send", "id": 10, "url": "gopher://x", "packet": "/a"}),
    );
    let r = next(&mut ws, "sent");
    assert_eq!(r["ok"], false);
    assert!(r["error"].as_str().unwrap().contains("gopher"), "{r}");
    m.stop();
}

#[test]
fn the_record_button_writes_a_recording_replay_can_read() {
    let dir = tempdir("rec");
    let (m, osc) = start(&dir);
    let mut ws = connect(m.http_addr());
    cmd(
        &mut ws,
        json!({"cmd": "record", "action": "start", "name": "session.rec"}),
    );
    let r = next(&mut ws, "record");
    assert_eq!(r["ok"], true, "{r}");
    cmd(&mut ws, json!({"cmd": "record", "action": "start"}));
    assert!(
        next(&mut ws, "record")["error"]
            .as_str()
            .unwrap()
            .contains("already")
    );
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sent: Vec<Vec<u8>> = (0..3).map(|i| bytes(Message::new("/rec").arg(i))).collect();
    for p in &sent {
        tx.send_to(p, osc).unwrap();
    }
    tx.send_to(b"garbage", osc).unwrap();
    let s = snapshot_until(&mut ws, "4 packets recorded", |s| {
        s["recording"]["records"] == 4
    });
    assert_eq!(s["recording"]["active"], true);
    cmd(&mut ws, json!({"cmd": "record", "action": "stop"}));
    let r = next(&mut ws, "record");
    assert_eq!(r["ok"], true, "{r}");
    assert!(r["text"].as_str().unwrap().starts_with("4 packets"));
    let s = next(&mut ws, "snapshot");
    assert_eq!(s["recording"]["active"], false);

    let file = std::fs::File::open(dir.join("session.rec")).unwrap();
    let records: Vec<_> = osc4rs::record::read_recording(std::io::BufReader::new(file))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 4);
    for (r, p) in records.iter().zip(&sent) {
        assert_eq!(&r.data, p);
        assert_eq!(r.peer, Some(tx.local_addr().unwrap()));
        assert!(r.channel.starts_with("osc.udp://"));
    }
    assert_eq!(records[3].data, b"garbage");
    // Names that would leave the directory, and existing files, are refused.
    for name in ["../x.rec", "session.rec"] {
        cmd(
            &mut ws,
            json!({"cmd": "record", "action": "start", "name": name}),
        );
        assert_eq!(next(&mut ws, "record")["ok"], false, "{name}");
    }
    m.stop();
}

#[test]
fn hostile_pages_get_errors_and_traffic_is_still_counted() {
    let dir = tempdir("hostile");
    let (m, osc) = start(&dir);
    let mut ws = connect(m.http_addr());
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for text in [
        "{not json",
        "[1,2,3]",
        r#"{"cmd":"dance"}"#,
        r#"{"cmd":"plot","addresses":"x"}"#,
        r#"{"cmd":"record","action":"explode"}"#,
    ] {
        ws.send(Ws::text(text)).unwrap();
        let e = next(&mut ws, "error");
        assert!(!e["error"].as_str().unwrap().is_empty(), "{text}: {e}");
        tx.send_to(&bytes(Message::new("/still")), osc).unwrap();
    }
    ws.send(Ws::binary(vec![1, 2, 3])).unwrap();
    assert!(
        next(&mut ws, "error")["error"]
            .as_str()
            .unwrap()
            .contains("binary")
    );
    let s = snapshot_until(&mut ws, "the traffic sent meanwhile", |s| {
        s["totals"]["messages"] == 5
    });
    assert_eq!(row(&s, "/still")["count"], 5);

    // A message over the limit closes that page only.
    ws.send(Ws::text("x".repeat(100_000))).unwrap();
    let closed =
        (0..1000).any(|_| !matches!(ws.read(), Ok(Ws::Text(_) | Ws::Ping(_) | Ws::Pong(_))));
    assert!(closed);
    tx.send_to(&bytes(Message::new("/still")), osc).unwrap();
    let mut ws = connect(m.http_addr());
    snapshot_until(&mut ws, "counting after the closed page", |s| {
        s["totals"]["messages"] == 6
    });

    // A page of another origin may not drive the monitor.
    let s = TcpStream::connect(m.http_addr()).unwrap();
    let req = tungstenite::handshake::client::Request::builder()
        .uri(format!("ws://{}/ws", m.http_addr()))
        .header("Host", m.http_addr().to_string())
        .header("Origin", "http://evil.example")
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header(
            "Sec-WebSocket-Key",
            tungstenite::handshake::client::generate_key(),
        )
        .body(())
        .unwrap();
    match tungstenite::client::client(req, s) {
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => {
            assert_eq!(r.status(), 403)
        }
        other => panic!("expected 403, got {other:?}"),
    }
    m.stop();
}

fn http(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn the_page_and_its_assets_are_served_from_the_binary() {
    let dir = tempdir("http");
    let (m, _) = start(&dir);
    let a = m.http_addr();
    let page = http(a, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 200"));
    assert!(page.contains("osc4rs monitor") && page.contains("monitor.js"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no outside resource"
    );
    for (path, kind) in [
        ("/monitor.js", "text/javascript"),
        ("/monitor.css", "text/css"),
    ] {
        let r = http(
            a,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        );
        assert!(r.starts_with("HTTP/1.1 200") && r.contains(kind), "{path}");
    }
    assert!(
        http(
            a,
            "GET /etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .starts_with("HTTP/1.1 404")
    );
    assert!(
        http(
            a,
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .starts_with("HTTP/1.1 405")
    );
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert!(http(a, &huge).starts_with("HTTP/1.1 431"));
    let ws_elsewhere = "GET /other HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    assert!(http(a, ws_elsewhere).starts_with("HTTP/1.1 400"));
    m.stop();
}

/// Several endpoints at once (UDP and TCP): one table, each row naming the endpoints
/// its messages came in on; and the send panel reaches a TCP destination.
#[test]
fn several_endpoints_feed_one_table_and_the_panel_sends_over_tcp() {
    let mut cfg = MonitorConfig::new(vec![
        "osc.udp://127.0.0.1:0".into(),
        "osc.tcp://127.0.0.1:0".into(),
    ]);
    cfg.record_dir = tempdir("multi");
    let m = MonitorServer::start(cfg).unwrap();
    let udp = m.endpoints()[0].1.unwrap();
    let tcp = m.endpoints()[1].1.unwrap();
    let mut ws = connect(m.http_addr());
    let hello_endpoints: Vec<String> = m.endpoints().iter().map(|e| e.0.clone()).collect();

    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(&bytes(Message::new("/both").arg(1)), udp)
        .unwrap();
    tx.send_to(&bytes(Message::new("/udp/only")), udp).unwrap();
    let mut stream = TcpStream::connect(tcp).unwrap();
    for p in [
        bytes(Message::new("/both").arg(2)),
        bytes(Message::new("/tcp/only")),
    ] {
        // OSC 1.0 over TCP: an int32 length before each packet.
        let len = u32::try_from(p.len()).unwrap().to_be_bytes();
        stream.write_all(&len).unwrap();
        stream.write_all(&p).unwrap();
    }
    let s = snapshot_until(&mut ws, "both endpoints' messages", |s| {
        s["totals"]["messages"] == 4
    });
    let mut channels: Vec<String> = row(&s, "/both")["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    channels.sort();
    let mut want = hello_endpoints.clone();
    want.sort();
    assert_eq!(channels, want);
    assert_eq!(row(&s, "/both")["value"], "2");
    assert_eq!(
        row(&s, "/tcp/only")["channels"],
        json!([hello_endpoints[1]])
    );
    assert_eq!(
        row(&s, "/udp/only")["channels"],
        json!([hello_endpoints[0]])
    );

    // The panel sends over TCP too (the connection is made on the first send).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("osc.tcp://{}", listener.local_addr().unwrap());
    cmd(
        &mut ws,
        json!({"cmd": "send", "id": 1, "url": url, "packet": "/over/tcp ,s \"yes\""}),
    );
    assert_eq!(next(&mut ws, "sent")["ok"], true);
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut len = [0u8; 4];
    peer.read_exact(&mut len).unwrap();
    let mut packet = vec![0u8; usize::try_from(u32::from_be_bytes(len)).unwrap()];
    peer.read_exact(&mut packet).unwrap();
    assert_eq!(
        Packet::decode(&packet).unwrap().to_string(),
        "/over/tcp ,s \"yes\""
    );
    m.stop();
}

/// Connections that never send a request head are closed after the header timeout;
/// beyond the connection limit, new ones are closed at once; either way the page
/// can connect again afterwards and OSC traffic is counted throughout.
#[test]
fn slow_and_surplus_http_clients_are_closed() {
    let mut cfg = MonitorConfig::new(vec!["osc.udp://127.0.0.1:0".into()]);
    cfg.http_limits.max_connections = 3;
    cfg.http_limits.header_timeout = Duration::from_millis(300);
    cfg.record_dir = tempdir("slow");
    let m = MonitorServer::start(cfg).unwrap();
    let osc = m.endpoints()[0].1.unwrap();
    let idle: Vec<TcpStream> = (0..3)
        .map(|_| {
            let s = TcpStream::connect(m.http_addr()).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            s.write_all_or_ignore(b"GET / HT");
            s
        })
        .collect();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(&bytes(Message::new("/meanwhile")), osc).unwrap();
    for mut s in idle {
        let mut rest = Vec::new();
        // The server closes it (a 408 or nothing at all), never leaves it open.
        let _ = s.read_to_end(&mut rest);
        let text = String::from_utf8_lossy(&rest);
        assert!(
            rest.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
    let mut ws = connect(m.http_addr());
    snapshot_until(&mut ws, "the message sent meanwhile", |s| {
        s["totals"]["messages"] == 1
    });
    m.stop();
}

trait WriteOrIgnore {
    fn write_all_or_ignore(&self, data: &[u8]);
}

impl WriteOrIgnore for TcpStream {
    fn write_all_or_ignore(&self, data: &[u8]) {
        let mut s = self;
        let _ = s.write_all(data);
    }
}

#[test]
fn connections_beyond_the_limit_are_closed_at_once() {
    let mut cfg = MonitorConfig::new(vec![]);
    cfg.http_limits.max_connections = 2;
    cfg.http_limits.header_timeout = Duration::from_secs(120);
    cfg.record_dir = tempdir("surplus");
    let m = MonitorServer::start(cfg).unwrap();
    let held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let s = TcpStream::connect(m.http_addr()).unwrap();
            s.write_all_or_ignore(b"GET / HT");
            s
        })
        .collect();
    let request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    // The two held connections are the limit: a third is closed unanswered.
    let mut third = TcpStream::connect(m.http_addr()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    third.write_all_or_ignore(request.as_bytes());
    let mut answer = Vec::new();
    let _ = third.read_to_end(&mut answer);
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    // Once they go, the page is served again.
    drop(held);
    let served = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        http(m.http_addr(), request).starts_with("HTTP/1.1 200")
    });
    assert!(served);
    m.stop();
}

/// The same WebSocket from an async client (tokio-tungstenite, as an application on
/// tokio would use it): snapshots at the update rate, with the rows of the view asked.
#[test]
fn an_async_client_reads_snapshots() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as AsyncWs;

    let dir = tempdir("async");
    let (m, osc) = start(&dir);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..10 {
        tx.send_to(&bytes(Message::new(format!("/grid/{i}")).arg(i)), osc)
            .unwrap();
    }
    let url = format!("ws://{}/ws", m.http_addr());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows = runtime.block_on(async move {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let view = json!({"cmd": "view", "filter": "/grid/[0-4]", "sort": "address", "desc": true});
        ws.send(AsyncWs::text(view.to_string())).await.unwrap();
        loop {
            let next = tokio::time::timeout(Duration::from_secs(20), ws.next()).await;
            let Ok(Some(Ok(AsyncWs::Text(t)))) = next else {
                panic!("no snapshot: {next:?}");
            };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "snapshot" && v["matching"] == 5 && v["totals"]["messages"] == 10 {
                break v["rows"].clone();
            }
        }
    });
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["/grid/4", "/grid/3", "/grid/2", "/grid/1", "/grid/0"]
    );
    m.stop();
}

/// WebSocket (`ws://`, as osc.js and browser pages send) and Unix datagram
/// (`osc.unix://`, liblo's) endpoints feed the table like the others.
#[test]
fn websocket_and_unix_datagram_endpoints_are_monitored() {
    let dir = tempdir("ws-unix");
    let sock = dir.join("in.sock");
    let cfg = MonitorConfig::new(vec![
        "ws://127.0.0.1:0/".into(),
        format!("osc.unix://{}", sock.display()),
    ]);
    let m = MonitorServer::start(cfg).unwrap();
    let ws_in = m.endpoints()[0].1.unwrap();
    let mut page = connect(m.http_addr());

    // An OSC packet per binary WebSocket message.
    let s = TcpStream::connect(ws_in).unwrap();
    let (mut sender, _) = tungstenite::client::client(format!("ws://{ws_in}/"), s).unwrap();
    sender
        .send(Ws::binary(bytes(Message::new("/from/ws").arg(1.5f32))))
        .unwrap();
    let unix = std::os::unix::net::UnixDatagram::unbound().unwrap();
    unix.send_to(&bytes(Message::new("/from/unix").arg("x")), &sock)
        .unwrap();
    let s = snapshot_until(&mut page, "the WebSocket and Unix messages", |s| {
        s["totals"]["messages"] == 2
    });
    assert_eq!(row(&s, "/from/ws")["value"], "1.5");
    assert_eq!(row(&s, "/from/unix")["value"], "\"x\"");
    m.stop();
}

/// A serial line (`serial://`, SLIP frames as microcontrollers send them), on a socat
/// pseudo-terminal pair standing in for the cable.
#[test]
fn a_serial_endpoint_is_monitored() {
    let dir = tempdir("serial");
    let (host_end, board_end) = (dir.join("host"), dir.join("board"));
    if !osc_test_support::have("socat") {
        return osc_test_support::skip("serial monitor: socat not installed");
    }
    let _cable = osc_test_support::socat_cable(&host_end, &board_end).expect("socat's cable");
    let cfg = MonitorConfig::new(vec![format!("serial://{}?baud=115200", host_end.display())]);
    let m = MonitorServer::start(cfg).unwrap();
    let mut page = connect(m.http_addr());
    let mut board = std::fs::OpenOptions::new()
        .write(true)
        .open(&board_end)
        .unwrap();
    let mut frame = Vec::new();
    osc_codec::framing::slip_encode(&bytes(Message::new("/board/knob").arg(7)), &mut frame);
    // The monitor opens the device in the background: send until it is counted.
    let deadline = Instant::now() + Duration::from_secs(10);
    let s = loop {
        board.write_all(&frame).unwrap();
        let s = next(&mut page, "snapshot");
        if s["totals"]["messages"].as_u64().unwrap_or(0) > 0 {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "nothing came over the serial line"
        );
    };
    assert_eq!(row(&s, "/board/knob")["value"], "7");
    m.stop();
}
