//! The query server over loopback: every route and error, the WebSocket commands,
//! and hostile clients (oversized or too many headers, slowloris, idle connections,
//! too many connections, bad upgrades, malformed commands).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use osc_codec::{Message, Value};
use osc_dispatch::{Dispatcher, DispatcherConfig, Handler};
use osc_query::{
    MethodDescription, Namespace, ParamSpec, Parameter, QueryServer, Range, ServerConfig,
};
use serde_json::json;
use tungstenite::Message as Ws;

struct Fixture {
    server: QueryServer,
    ns: Arc<Namespace>,
    dispatcher: Arc<Dispatcher>,
    bar: Parameter<(i32, i32)>,
}

fn fixture(tune: impl FnOnce(&mut ServerConfig)) -> Fixture {
    let dispatcher = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let ns = Arc::new(Namespace::with_source("root node", Arc::clone(&dispatcher)));
    ns.add_parameter(
        ParamSpec::new("/foo", 0.5f32)
            .range(Range::new(0.0, 100.0))
            .read_only(),
    )
    .unwrap();
    let bar = ns
        .add_parameter(
            ParamSpec::new("/bar", (4i32, 51i32))
                .ranges(vec![Range::new(0, 50).into(), Range::new(51, 100).into()]),
        )
        .unwrap();
    dispatcher.register("/bar", bar.handler()).unwrap();
    ns.add_parameter(
        ParamSpec::new("/baz/qux", String::from("half-full")).range(Range::vals([
            "empty",
            "half-full",
            "full",
        ])),
    )
    .unwrap();
    dispatcher
        .register(
            "/synth/note",
            Handler::typed(|n: i32, v: f32| {
                let _ = (n, v);
            }),
        )
        .unwrap();
    ns.describe(
        "/synth/note",
        MethodDescription::new().description("plays a note"),
    );
    ns.refresh(); // so that no PATH_ADDED of the set-up reaches the tests' clients
    let mut cfg = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    cfg.osc_addr = Some("0.0.0.0:9000".parse().unwrap());
    tune(&mut cfg);
    let server = QueryServer::start(Arc::clone(&ns), cfg).unwrap();
    Fixture {
        server,
        ns,
        dispatcher,
        bar,
    }
}

/// Sends raw bytes, returns (status, headers, body) of the answer; the connection is
/// closed by the request's `Connection: close`.
fn raw(addr: SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn get(addr: SocketAddr, target: &str) -> (u16, String, String) {
    raw(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

fn get_json(addr: SocketAddr, target: &str) -> serde_json::Value {
    let (status, head, body) = get(addr, target);
    assert_eq!(status, 200, "{target}: {body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn nodes_subtrees_and_attributes() {
    let f = fixture(|_| {});
    let a = f.server.local_addr();
    let root = get_json(a, "/");
    assert_eq!(root["FULL_PATH"], "/");
    assert_eq!(root["ACCESS"], 0);
    assert_eq!(root["DESCRIPTION"], "root node");
    assert_eq!(root["CONTENTS"]["foo"]["VALUE"], json!([0.5]));
    assert_eq!(root["CONTENTS"]["bar"]["TYPE"], "ii");
    // A typed handler's types, a declared description, write-only access.
    let note = &root["CONTENTS"]["synth"]["CONTENTS"]["note"];
    assert_eq!(note["TYPE"], "if");
    assert_eq!(note["ACCESS"], 2);
    assert_eq!(note["DESCRIPTION"], "plays a note");
    assert!(note.get("VALUE").is_none());

    let baz = get_json(a, "/baz");
    assert_eq!(baz["FULL_PATH"], "/baz");
    assert_eq!(baz["CONTENTS"]["qux"]["VALUE"], json!(["half-full"]));
    assert_eq!(get_json(a, "/baz/"), baz);

    assert_eq!(get_json(a, "/foo?VALUE"), json!({"VALUE": [0.5]}));
    assert_eq!(
        get_json(a, "/baz/qux?RANGE"),
        json!({"RANGE": [{"VALS": ["empty", "half-full", "full"]}]})
    );
    assert_eq!(get_json(a, "/baz?TYPE"), json!({}));
    assert_eq!(get_json(a, "/bar?ACCESS"), json!({"ACCESS": 3}));
    assert_eq!(
        get_json(a, "/synth?CONTENTS")["CONTENTS"]["note"]["FULL_PATH"],
        "/synth/note"
    );
}

#[test]
fn errors_have_the_documented_statuses() {
    let f = fixture(|_| {});
    let a = f.server.local_addr();
    let (status, _, body) = get(a, "/bazzzzz?TYPE");
    assert_eq!(status, 404);
    assert!(body.contains("/bazzzzz"));
    assert_eq!(get(a, "/bazzzzz").0, 404);
    let (status, _, body) = get(a, "/foo?FOO");
    assert_eq!(status, 400);
    assert!(body.contains("FOO"));
    // Recognized but not supported by this server.
    assert_eq!(
        get(a, "/foo?TAGS"),
        (204, get(a, "/foo?TAGS").1, String::new())
    );
    // VALUE of something not readable.
    assert_eq!(get(a, "/synth/note?VALUE").0, 204);
    assert_eq!(get(a, "/baz?VALUE").0, 204);
    let (status, head, _) = raw(
        a,
        b"POST /foo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 405);
    assert!(head.contains("allow: get, head"));
    assert_eq!(get(a, "/%FF%FE").0, 400);
    assert_eq!(get(a, "/baz//qux").0, 404);
    assert_eq!(get(a, "/foo?VALUE=1").0, 400);
}

#[test]
fn a_request_body_is_never_buffered() {
    let f = fixture(|_| {});
    let a = f.server.local_addr();
    // Announces 1 GiB, sends a little, and waits: the answer comes without the body
    // being read, and the connection does not wait for the rest.
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /foo?VALUE HTTP/1.1\r\nHost: t\r\nContent-Length: 1073741824\r\n\r\n")
        .unwrap();
    s.write_all(&[b'x'; 4096]).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with(r#"{"VALUE":[0.5]}"#), "{text}");
    // HEAD answers the headers of GET without a body.
    let (status, head, body) = raw(
        a,
        b"HEAD /foo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    assert!(head.contains("application/json"));
    assert!(body.is_empty(), "{body}");
}

#[test]
fn host_info_says_where_osc_goes_and_what_is_implemented() {
    let f = fixture(|_| {});
    let info = get_json(f.server.local_addr(), "/anything?HOST_INFO");
    assert_eq!(info["NAME"], "root node");
    // 0.0.0.0 is reported as the address the client reached us on.
    assert_eq!(info["OSC_IP"], "127.0.0.1");
    assert_eq!(info["OSC_PORT"], 9000);
    assert_eq!(info["OSC_TRANSPORT"], "UDP");
    assert_eq!(info["EXTENSIONS"]["LISTEN"], true);
    assert_eq!(info["EXTENSIONS"]["VALUE"], true);
    assert_eq!(info["EXTENSIONS"]["PATH_RENAMED"], true);
    assert_eq!(info["EXTENSIONS"]["TAGS"], false);
    assert!(info.get("WS_PORT").is_none());
}

#[test]
fn methods_registered_later_appear_and_removed_ones_go() {
    let f = fixture(|_| {});
    let a = f.server.local_addr();
    assert_eq!(get(a, "/late").0, 404);
    let h = f
        .dispatcher
        .register("/late", Handler::new(|_m| {}).with_osc_types("s"))
        .unwrap();
    f.dispatcher
        .register("/pattern/*", |_m: &Message| {})
        .unwrap();
    assert_eq!(get_json(a, "/late?TYPE"), json!({"TYPE": "s"}));
    assert_eq!(get(a, "/pattern").0, 404, "patterns are not nodes");
    f.dispatcher.unregister(h);
    assert_eq!(get(a, "/late").0, 404);
}

fn ws_connect(addr: SocketAddr) -> tungstenite::WebSocket<TcpStream> {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (ws, resp) = tungstenite::client::client(format!("ws://{addr}/"), s).unwrap();
    assert_eq!(resp.status(), 101);
    ws
}

fn next_text(ws: &mut tungstenite::WebSocket<TcpStream>) -> serde_json::Value {
    loop {
        match ws.read().unwrap() {
            Ws::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Ws::Ping(_) | Ws::Pong(_) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

fn command(ws: &mut tungstenite::WebSocket<TcpStream>, cmd: &str, data: &str) {
    ws.send(Ws::text(json!({"COMMAND": cmd, "DATA": data}).to_string()))
        .unwrap();
}

#[test]
fn listen_streams_values_of_exactly_that_address_until_ignore() {
    let f = fixture(|_| {});
    let mut ws = ws_connect(f.server.local_addr());
    command(&mut ws, "LISTEN", "/bar");
    // The command is handled before anything we set after an answer to a probe.
    command(&mut ws, "LISTEN", "/nope");
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "ERROR", "DATA": "LISTEN: no OSC node at /nope"})
    );
    f.bar.set((7, 60));
    let Ws::Binary(b) = ws.read().unwrap() else {
        panic!("expected an OSC packet")
    };
    let m = Message::decode(&b).unwrap();
    assert_eq!(m.address, "/bar");
    assert_eq!(m.args, vec![Value::Int(7), Value::Int(60)]);

    // An incoming OSC message updates the parameter and is streamed too.
    let now = osc_codec::TimeTag::now();
    f.dispatcher
        .dispatch_packet(
            Message::new("/bar").arg(1).arg(99).into(),
            osc_dispatch::Context::new(now),
            now,
        )
        .unwrap();
    assert_eq!(f.bar.get(), (1, 99));
    let Ws::Binary(b) = ws.read().unwrap() else {
        panic!("expected an OSC packet")
    };
    assert_eq!(
        Message::decode(&b).unwrap().args,
        vec![Value::Int(1), Value::Int(99)]
    );
    assert_eq!(
        get_json(f.server.local_addr(), "/bar?VALUE"),
        json!({"VALUE": [1, 99]})
    );

    command(&mut ws, "IGNORE", "/bar");
    command(&mut ws, "PROBE", "/bar");
    assert_eq!(next_text(&mut ws)["COMMAND"], "ERROR");
    f.bar.set((2, 70));
    command(&mut ws, "PROBE", "/bar");
    // Nothing binary came between: the next frame is the probe's answer.
    assert_eq!(next_text(&mut ws)["DATA"], "unknown COMMAND \"PROBE\"");
}

#[test]
fn path_added_and_removed_are_announced() {
    let f = fixture(|_| {});
    let mut ws = ws_connect(f.server.local_addr());
    // Make sure the session is subscribed before the change.
    command(&mut ws, "PROBE", "/");
    next_text(&mut ws);
    f.ns.add_parameter(ParamSpec::new("/new/one", 1)).unwrap();
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "PATH_ADDED", "DATA": "/new/one"})
    );
    let h = f.dispatcher.register("/m", |_m: &Message| {}).unwrap();
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "PATH_ADDED", "DATA": "/m"})
    );
    f.dispatcher.unregister(h);
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "PATH_REMOVED", "DATA": "/m"})
    );
}

#[test]
fn path_changed_and_renamed_are_announced_and_listeners_follow_a_rename() {
    let f = fixture(|_| {});
    let mut ws = ws_connect(f.server.local_addr());
    command(&mut ws, "LISTEN", "/bar");
    command(&mut ws, "PROBE", "/");
    next_text(&mut ws);

    // A new description: PATH_CHANGED (the same one again: nothing).
    f.ns.describe(
        "/synth/note",
        MethodDescription::new().description("a long note"),
    );
    f.ns.describe(
        "/synth/note",
        MethodDescription::new().description("a long note"),
    );
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "PATH_CHANGED", "DATA": "/synth/note"})
    );
    // New type tags at a path: PATH_CHANGED.
    let first = f
        .dispatcher
        .register("/level", Handler::typed(|v: f32| assert!(v.is_finite())))
        .unwrap();
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "PATH_ADDED", "DATA": "/level"})
    );
    f.dispatcher
        .register("/level", Handler::typed(|v: i32| assert_ne!(v, 7)))
        .unwrap();
    f.dispatcher.unregister(first);
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "PATH_CHANGED", "DATA": "/level"})
    );
    assert_eq!(
        get_json(f.server.local_addr(), "/level?TYPE"),
        json!({"TYPE": "i"})
    );

    // A rename: one PATH_RENAMED, and the listener of /bar now hears /bars/main.
    let handle = f
        .dispatcher
        .methods()
        .into_iter()
        .find(|m| m.address == "/bar")
        .unwrap()
        .handle;
    f.ns.rename_moving("/bar", "/bars/main", || {
        f.dispatcher
            .readdress(handle, "/bars/main")
            .map_err(osc4rs::OscError::from)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(
        next_text(&mut ws),
        json!({"COMMAND": "PATH_RENAMED", "DATA": {"OLD": "/bar", "NEW": "/bars/main"}})
    );
    assert_eq!(&*f.bar.path(), "/bars/main");
    f.bar.set((3, 70));
    let Ws::Binary(b) = ws.read().unwrap() else {
        panic!("expected an OSC packet")
    };
    let m = Message::decode(&b).unwrap();
    assert_eq!(m.address, "/bars/main");
    assert_eq!(m.args, vec![Value::Int(3), Value::Int(70)]);
    assert_eq!(get(f.server.local_addr(), "/bar").0, 404);
    assert_eq!(
        get_json(f.server.local_addr(), "/bars/main?VALUE"),
        json!({"VALUE": [3, 70]})
    );

    // Renames that cannot be done change nothing.
    assert!(f.ns.rename("/bars", "/bars/inner").is_err());
    assert!(f.ns.rename("/foo", "/bars/main").is_err()); // a parameter there
    assert!(f.ns.rename("/ba*", "/x").is_err());
    assert!(f.ns.paths().contains(&"/foo".to_owned()));
}

#[test]
fn malformed_websocket_input_gets_clear_answers() {
    let f = fixture(|_| {});
    let mut ws = ws_connect(f.server.local_addr());
    ws.send(Ws::text("{\"COMMAND\": \"LISTEN\", \"DATA\": 5}"))
        .unwrap();
    assert_eq!(
        next_text(&mut ws)["DATA"],
        "LISTEN: DATA must be a string (an OSC address)"
    );
    ws.send(Ws::binary(vec![0u8; 8])).unwrap();
    assert_eq!(next_text(&mut ws)["COMMAND"], "ERROR");
    ws.send(Ws::text("not json")).unwrap();
    match ws.read() {
        Ok(Ws::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), 1007);
            assert!(frame.reason.contains("malformed command JSON"));
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    // An oversized message closes the connection without growing memory.
    let mut ws = ws_connect(f.server.local_addr());
    let _ = ws.send(Ws::text("x".repeat(200_000)));
    let mut closed = false;
    for _ in 0..3 {
        match ws.read() {
            Ok(Ws::Close(_)) | Err(_) => {
                closed = true;
                break;
            }
            Ok(_) => {}
        }
    }
    assert!(closed);
}

#[test]
fn bad_upgrades_and_too_many_websockets_are_refused() {
    let f = fixture(|c| c.max_websockets = 1);
    let a = f.server.local_addr();
    let (status, _, body) = raw(
        a,
        b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert_eq!(status, 400);
    assert!(body.contains("Sec-WebSocket-Key"), "{body}");
    let (status, _, body) = raw(
        a,
        b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert_eq!(status, 400);
    assert!(body.contains("13"));
    let _first = ws_connect(a);
    let start = Instant::now();
    let (status, head, _) = raw(
        a,
        b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    assert_eq!(status, 503);
    // Refused upgrades close the connection at once.
    assert!(head.contains("connection: close"));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn oversized_and_too_many_headers_get_431() {
    let f = fixture(|_| {});
    let a = f.server.local_addr();
    let big = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 << 10)
    );
    assert_eq!(raw(a, big.as_bytes()).0, 431);
    let mut many = String::from("GET / HTTP/1.1\r\nHost: t\r\n");
    for i in 0..100 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    assert_eq!(raw(a, many.as_bytes()).0, 431);
    // The server still answers.
    assert_eq!(get(a, "/").0, 200);
}

/// Reads until the peer closes; returns how long it took.
fn time_to_close(mut s: TcpStream) -> Duration {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return start.elapsed(),
            Ok(_) => {}
        }
    }
}

#[test]
fn slowloris_and_idle_connections_are_closed() {
    let f = fixture(|c| {
        c.header_timeout = Duration::from_millis(300);
        c.idle_timeout = Duration::from_millis(600);
    });
    let a = f.server.local_addr();
    let mut slow = TcpStream::connect(a).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n").unwrap();
    let took = time_to_close(slow);
    assert!(took < Duration::from_secs(3), "slow header kept {took:?}");
    let idle = TcpStream::connect(a).unwrap();
    let took = time_to_close(idle);
    assert!(
        took < Duration::from_secs(3),
        "idle connection kept {took:?}"
    );
    assert_eq!(get(a, "/").0, 200);
}

#[test]
fn connections_beyond_the_limit_are_closed_at_once() {
    let f = fixture(|c| c.max_connections = 2);
    let a = f.server.local_addr();
    let _one = TcpStream::connect(a).unwrap();
    let _two = TcpStream::connect(a).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let third = TcpStream::connect(a).unwrap();
    assert!(time_to_close(third) < Duration::from_secs(2));
    drop((_one, _two));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(get(a, "/foo?VALUE").0, 200);
}
