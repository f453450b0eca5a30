//! The usual workflow over loopback: app A publishes a runtime with typed methods and
//! parameters; app B reads HOST_INFO and the tree, listens to a parameter over the
//! WebSocket, sends a typed OSC message over UDP to where HOST_INFO says, and gets
//! the new value streamed back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use osc_query::{ClipMode, HostInfo, Node, OscQuery, ParamSpec, Range};
use osc4rs::{Handler, Message, Mode, Osc, Packet, Value};
use serde_json::json;
use tungstenite::Message as Ws;

fn get(addr: SocketAddr, target: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(
        format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

#[test]
fn discover_read_send_and_listen() {
    // App A.
    let osc = Osc::builder()
        .mode(Mode::AllThreads)
        .exec_threads(1)
        .start()
        .unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    osc.method(
        "/synth/1/note",
        Handler::typed(|n: i32, v: f32| {
            let _ = (n, v);
        }),
    )
    .unwrap();
    osc.method("/synth/*/any", |_m: &Message| {}).unwrap();
    let query = OscQuery::builder("synth")
        .http_addr("127.0.0.1:0".parse().unwrap())
        .osc_channel("in")
        .start(&osc)
        .unwrap();
    let freq = query
        .add_parameter(
            ParamSpec::new("/synth/1/freq", 440.0f32)
                .range(Range::new(20.0, 20_000.0))
                .unit("frequency.hz")
                .clip(ClipMode::Both),
        )
        .unwrap();
    let http = query.http_addr();

    // App B: where is the OSC server, what does it have?
    let info = HostInfo::from_json(&get(http, "/?HOST_INFO")).unwrap();
    assert_eq!(info.name.as_deref(), Some("synth"));
    assert!(info.supports("LISTEN"));
    let osc_to: SocketAddr = format!("{}:{}", info.osc_ip.unwrap(), info.osc_port.unwrap())
        .parse()
        .unwrap();
    assert_eq!(osc_to, osc.local_addr("in").unwrap());
    let tree = Node::from_json(&get(http, "/")).unwrap();
    assert_eq!(
        tree.find("/synth/1/note").unwrap().types.as_deref(),
        Some("if")
    );
    let f = tree.find("/synth/1/freq").unwrap();
    assert_eq!(f.types.as_deref(), Some("f"));
    assert_eq!(f.value, Some(vec![json!(440.0)]));
    assert!(tree.find("/synth/*/any").is_none());
    assert_eq!(query.namespace().filters(), ["/synth/*/any"]);

    // Hostile HTTP clients hanging on the query server do not stop OSC traffic.
    let mut hanging = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(http).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            .unwrap();
        hanging.push(s);
    }
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..50u16 {
        let b = Packet::from(Message::new("/synth/1/freq").arg(1_000.0f32 + f32::from(i)))
            .to_bytes()
            .unwrap();
        sender.send_to(&b, osc_to).unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while freq.get() != 1_049.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "OSC stalled: {}",
            freq.get()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(hanging);

    // Listen, then send a typed message to the parameter.
    let s = TcpStream::connect(http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (mut ws, _) = tungstenite::client::client(format!("ws://{http}/"), s).unwrap();
    ws.send(Ws::text(
        json!({"COMMAND": "LISTEN", "DATA": "/synth/1/freq"}).to_string(),
    ))
    .unwrap();
    ws.send(Ws::text(
        json!({"COMMAND": "SYNC", "DATA": "/"}).to_string(),
    ))
    .unwrap();
    assert!(matches!(ws.read().unwrap(), Ws::Text(_))); // the SYNC's ERROR: LISTEN is in
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bytes = Packet::from(Message::new("/synth/1/freq").arg(30_000.0f32))
        .to_bytes()
        .unwrap();
    udp.send_to(&bytes, osc_to).unwrap();
    let Ws::Binary(b) = ws.read().unwrap() else {
        panic!("expected the value")
    };
    let m = Message::decode(&b).unwrap();
    assert_eq!(m.address, "/synth/1/freq");
    assert_eq!(m.args, vec![Value::Float(20_000.0)]); // clipped to MAX
    assert_eq!(freq.get(), 20_000.0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&get(http, "/synth/1/freq?VALUE")).unwrap(),
        json!({"VALUE": [20000.0]})
    );

    // The application sets it: the listener hears that too.
    freq.set(100.0);
    let Ws::Binary(b) = ws.read().unwrap() else {
        panic!("expected the value")
    };
    assert_eq!(Message::decode(&b).unwrap().args, vec![Value::Float(100.0)]);

    // A plain method: while listened to, the messages it receives are streamed too.
    let methods_before = osc.dispatcher().methods().len();
    ws.send(Ws::text(
        json!({"COMMAND": "LISTEN", "DATA": "/synth/1/note"}).to_string(),
    ))
    .unwrap();
    ws.send(Ws::text(
        json!({"COMMAND": "SYNC", "DATA": "/"}).to_string(),
    ))
    .unwrap();
    assert!(matches!(ws.read().unwrap(), Ws::Text(_)));
    assert_eq!(osc.dispatcher().methods().len(), methods_before + 1);
    let note = Packet::from(Message::new("/synth/*/note").arg(60).arg(0.5f32))
        .to_bytes()
        .unwrap();
    udp.send_to(&note, osc_to).unwrap();
    let Ws::Binary(b) = ws.read().unwrap() else {
        panic!("expected the note")
    };
    let m = Message::decode(&b).unwrap();
    assert_eq!(m.address, "/synth/1/note");
    assert_eq!(m.args, vec![Value::Int(60), Value::Float(0.5)]);
    // The tap is not a node of its own and does not change the method's TYPE.
    let tree = Node::from_json(&get(http, "/")).unwrap();
    assert_eq!(
        tree.find("/synth/1/note").unwrap().types.as_deref(),
        Some("if")
    );
    // After IGNORE the tap is gone.
    ws.send(Ws::text(
        json!({"COMMAND": "IGNORE", "DATA": "/synth/1/note"}).to_string(),
    ))
    .unwrap();
    ws.send(Ws::text(
        json!({"COMMAND": "SYNC", "DATA": "/"}).to_string(),
    ))
    .unwrap();
    assert!(matches!(ws.read().unwrap(), Ws::Text(_)));
    assert_eq!(osc.dispatcher().methods().len(), methods_before);
    // A client that goes away without IGNORE takes its taps with it.
    ws.send(Ws::text(
        json!({"COMMAND": "LISTEN", "DATA": "/synth/1/note"}).to_string(),
    ))
    .unwrap();
    ws.send(Ws::text(
        json!({"COMMAND": "SYNC", "DATA": "/"}).to_string(),
    ))
    .unwrap();
    assert!(matches!(ws.read().unwrap(), Ws::Text(_)));
    assert_eq!(osc.dispatcher().methods().len(), methods_before + 1);
    drop(ws);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while osc.dispatcher().methods().len() != methods_before {
        assert!(std::time::Instant::now() < deadline, "the tap stayed");
        std::thread::sleep(Duration::from_millis(10));
    }
    osc.terminate().unwrap();
}

/// The same workflow by name, with DNS-SD inside a private network namespace: app A
/// publishes with `osc.oscquery("synth")`; app B finds it by that name, opens a
/// channel to it with `connect_service`, reads its tree, listens to a parameter,
/// sends it a typed message and hears the new value; a rename on A reaches B.
#[test]
fn by_name_publish_connect_send_and_listen() {
    use osc_query::{OscQueryExt, QueryClient, Update};
    if !osc_test_support::inside_private_netns("by_name_publish_connect_send_and_listen") {
        return;
    }
    // App A.
    let a = Osc::builder().start().unwrap();
    assert!(matches!(
        a.oscquery("synth"),
        Err(osc_query::QueryError::Address { .. })
    ));
    a.udp_server("in", "0.0.0.0:0").unwrap();
    a.method(
        "/synth/1/gate",
        Handler::typed(|on: bool| println!("gate {on}")),
    )
    .unwrap();
    let query = a.oscquery("synth").unwrap();
    let freq = query
        .add_parameter(ParamSpec::new("/synth/1/freq", 440.0f32).range(Range::new(20.0, 20_000.0)))
        .unwrap();
    let a_runs = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let pump = {
        let runs = std::sync::Arc::clone(&a_runs);
        std::thread::spawn(move || {
            while runs.load(std::sync::atomic::Ordering::Relaxed) {
                a.process_timeout(Duration::from_millis(20)).unwrap();
            }
        })
    };

    // App B.
    let b = Osc::builder().start().unwrap();
    let target = b
        .connect_service("synth", "synth", Duration::from_secs(10))
        .unwrap();
    assert_eq!(target.transport, osc_query::Transport::Udp);
    let client = QueryClient::new(target.query.expect("an OSCQuery server")).unwrap();
    let tree = client.tree().unwrap();
    assert_eq!(
        tree.find("/synth/1/gate").unwrap().types.as_deref(),
        Some("T")
    );
    assert_eq!(
        tree.find("/synth/1/freq").unwrap().types.as_deref(),
        Some("f")
    );
    let mut listener = client.stream().unwrap();
    listener.listen("/synth/1/freq").unwrap();
    listener.listen("/nope").unwrap(); // its ERROR says LISTEN above is in
    assert!(matches!(
        listener.next(Duration::from_secs(5)).unwrap(),
        Some(Update::Notice(_))
    ));
    b.send(Message::new("/synth/1/freq").arg(880.0f32), "synth")
        .unwrap();
    let Some(Update::Value(m)) = listener.next(Duration::from_secs(5)).unwrap() else {
        panic!("expected the new value")
    };
    assert_eq!(m.args, vec![Value::Float(880.0)]);
    assert_eq!(freq.get(), 880.0);

    // A renames the synth's voice: B is told, and still hears the parameter.
    query.rename("/synth/1", "/synth/lead").unwrap();
    assert_eq!(
        listener.next(Duration::from_secs(5)).unwrap(),
        Some(Update::PathRenamed {
            old: "/synth/1".into(),
            new: "/synth/lead".into()
        })
    );
    b.send(Message::new("/synth/lead/freq").arg(220.0f32), "synth")
        .unwrap();
    let Some(Update::Value(m)) = listener.next(Duration::from_secs(5)).unwrap() else {
        panic!("expected the value at the new path")
    };
    assert_eq!(m.address, "/synth/lead/freq");
    assert_eq!(freq.get(), 220.0);

    a_runs.store(false, std::sync::atomic::Ordering::Relaxed);
    pump.join().unwrap();
    drop(query);
    assert!(matches!(
        b.connect_service("gone", "nobody here", Duration::from_millis(500)),
        Err(osc_query::QueryError::NoService(_))
    ));
}
