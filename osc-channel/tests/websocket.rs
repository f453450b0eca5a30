//! WebSocket channels (RFC 6455, one OSC packet per binary message, as osc.js sends
//! them) on loopback: our server and client together, a tungstenite peer against our
//! server (declared, and detected by `Auto`), text frames and oversized messages,
//! ping/pong.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{collect, local, pkt};
use osc_channel::{Reactor, StreamFraming, StreamLimits, TcpClientConfig, TcpServerConfig};
use tungstenite::Message;

fn ws_server(
    r: &mut Reactor,
    framing: StreamFraming,
    limits: StreamLimits,
) -> std::net::SocketAddr {
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.framing = framing;
    cfg.limits = limits;
    let id = r.open_tcp_server("ws", cfg).unwrap();
    r.local_addr(id).unwrap()
}

#[test]
fn our_client_and_server_exchange_packets_both_ways() {
    let mut r = Reactor::new().unwrap();
    let addr = ws_server(&mut r, StreamFraming::WebSocket, StreamLimits::default());
    let mut cfg = TcpClientConfig::new(addr);
    cfg.framing = StreamFraming::WebSocket;
    cfg.ws_path = "/osc".into();
    let client = r.open_tcp_client("cli", cfg).unwrap();
    // Sent before the handshake is done: kept, then sent in order.
    for i in 0..3 {
        r.send(client, pkt(&format!("/to/server/{i}")), None)
            .unwrap();
    }
    let got = collect(&mut r, 3);
    assert_eq!(got.len(), 3);
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.data, pkt(&format!("/to/server/{i}")).to_vec());
        assert!(g.name.starts_with("ws/127.0.0.1:"));
    }
    // The server answers on the connection.
    let conn = r.id_of(&got[0].name).unwrap();
    r.send(conn, pkt("/to/client"), None).unwrap();
    let back = collect(&mut r, 1);
    assert_eq!(back[0].name, "cli");
    assert_eq!(back[0].data, pkt("/to/client").to_vec());
}

/// What arrived: channel name and bytes.
type Log = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Runs the reactor in a thread, collecting what arrives.
fn running(mut r: Reactor) -> (osc_channel::ReactorHandle, Log) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = Arc::clone(&got);
    let handle = r.handle();
    std::thread::spawn(move || {
        r.run(|p| g.lock().unwrap().push((p.name.to_owned(), p.data.to_vec())))
            .unwrap();
    });
    (handle, got)
}

fn wait_for(got: &Mutex<Vec<(String, Vec<u8>)>>, n: usize) -> Vec<(String, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.lock().unwrap().len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    got.lock().unwrap().clone()
}

#[test]
fn a_tungstenite_client_talks_to_our_server_declared_and_detected() {
    for framing in [StreamFraming::WebSocket, StreamFraming::Auto] {
        let mut r = Reactor::new().unwrap();
        let addr = ws_server(&mut r, framing, StreamLimits::default());
        let (handle, got) = running(r);
        let (mut ws, _) =
            tungstenite::client(format!("ws://{addr}/"), TcpStream::connect(addr).unwrap())
                .unwrap();
        ws.send(Message::Binary(pkt("/from/browser").to_vec().into()))
            .unwrap();
        // A text message is ignored and counted; the connection goes on.
        ws.send(Message::Text("hello".into())).unwrap();
        ws.send(Message::Binary(pkt("/after/text").to_vec().into()))
            .unwrap();
        let seen = wait_for(&got, 2);
        assert_eq!(seen.len(), 2, "{framing:?}");
        assert_eq!(seen[0].1, pkt("/from/browser").to_vec());
        assert_eq!(seen[1].1, pkt("/after/text").to_vec());
        // The server replies to this connection, by name, from another thread.
        handle.send_named(&seen[0].0, pkt("/reply"), None).unwrap();
        ws.get_mut()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        loop {
            match ws.read().unwrap() {
                Message::Binary(b) => {
                    assert_eq!(b.to_vec(), pkt("/reply").to_vec());
                    break;
                }
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("{other:?}"),
            }
        }
        // Ping is answered.
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .unwrap();
        let pong = loop {
            if let Message::Pong(p) = ws.read().unwrap() {
                break p;
            }
        };
        assert_eq!(&pong[..], b"are you there");
        handle.stop().unwrap();
    }
}

#[test]
fn an_oversized_message_closes_the_connection_and_the_server_goes_on() {
    let mut r = Reactor::new().unwrap();
    let limits = StreamLimits {
        max_packet_size: 64,
        ..StreamLimits::default()
    };
    let addr = ws_server(&mut r, StreamFraming::WebSocket, limits);
    let (_handle, got) = running(r);
    let (mut big, _) =
        tungstenite::client(format!("ws://{addr}/"), TcpStream::connect(addr).unwrap()).unwrap();
    big.send(Message::Binary(vec![b'/'; 1000].into())).unwrap();
    big.get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The server closes (1009, message too big) or drops the connection.
    let ended = loop {
        match big.read() {
            Ok(Message::Close(_)) | Err(_) => break true,
            Ok(_) => {}
        }
    };
    assert!(ended);
    // Another client is still served.
    let (mut ok, _) =
        tungstenite::client(format!("ws://{addr}/"), TcpStream::connect(addr).unwrap()).unwrap();
    ok.send(Message::Binary(pkt("/small").to_vec().into()))
        .unwrap();
    let seen = wait_for(&got, 1);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].1, pkt("/small").to_vec());
}

/// osc.js (npm `osc`, with `ws`) in Node.js as a WebSocket client of our server: its
/// message with every type it writes arrives decoded exactly; our reply reaches it.
#[test]
fn oscjs_client_to_our_server() {
    let Some(mut node) = osc_test_support::oscjs() else {
        return;
    };
    let mut r = Reactor::new().unwrap();
    let addr = ws_server(&mut r, StreamFraming::Auto, StreamLimits::default());
    let (handle, got) = running(r);
    let child = node
        .args(["client", &format!("ws://{addr}/")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut peer = osc_test_support::Reaped(child);
    let seen = wait_for(&got, 1);
    assert_eq!(seen.len(), 1, "osc.js sent nothing");
    let packet = osc_codec::Packet::decode(&seen[0].1).unwrap();
    assert_eq!(
        packet.to_string(),
        "/oscjs/hello ,ifsbdTFNcrmhStI[is] 42 0.5 \"from osc.js\" <010203> 3.25 true false nil \"A\" ff8000ff 00903c64 4294967298 \"sym\" e8754700.80000000 infinitum [ 1 \"in an array\" ]"
    );
    let reply = osc_codec::Packet::from(osc_codec::Message::new("/reply").arg("ok").arg(7));
    handle
        .send_named(&seen[0].0, reply.to_bytes().unwrap().into(), None)
        .unwrap();
    let out = {
        let status = peer.0.wait().unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut peer.0.stdout.take().unwrap(), &mut s).unwrap();
        assert!(status.success(), "{s}");
        s
    };
    assert_eq!(
        out.trim(),
        r#"{"address":"/reply","args":[{"type":"s","value":"ok"},{"type":"i","value":7}]}"#
    );
    handle.stop().unwrap();
}

/// Our WebSocket client to an osc.js server in Node.js: a message with every type
/// osc.js reads (int64, timetag, symbol, infinitum, char, arrays too) is what osc.js
/// reads, and its echo comes back with the same content.
#[test]
fn our_client_to_an_oscjs_server() {
    use std::io::BufRead;
    let Some(mut node) = osc_test_support::oscjs() else {
        return;
    };
    let port = osc_test_support::free_port();
    let child = node
        .args(["server", &port.to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut peer = osc_test_support::Reaped(child);
    let mut lines = std::io::BufReader::new(peer.0.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "listening");
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpClientConfig::new(local(port));
    cfg.framing = StreamFraming::WebSocket;
    let client = r.open_tcp_client("cli", cfg).unwrap();
    let sent = osc_codec::Packet::from(
        osc_codec::Message::new("/rust/hello")
            .arg(-3)
            .arg(1.5f32)
            .arg("from osc4rs")
            .arg(vec![9u8, 8, 7])
            .arg(true)
            .arg(osc_codec::Value::Nil)
            .arg(-5_000_000_000i64)
            .arg(2.5f64)
            .arg(osc_codec::Value::Symbol("sym".into()))
            .arg(osc_codec::TimeTag::new(3_900_000_000, 1 << 31))
            .arg(osc_codec::Value::Inf)
            .arg(osc_codec::Value::Char('Z'))
            .arg(osc_codec::Value::Array(vec![
                osc_codec::Value::Int(1),
                osc_codec::Value::String("in an array".into()),
            ])),
    );
    r.send(client, sent.to_bytes().unwrap().into(), None)
        .unwrap();
    let echo = collect(&mut r, 1);
    assert_eq!(echo.len(), 1, "no echo from osc.js");
    let back = osc_codec::Packet::decode(&echo[0].data).unwrap();
    assert_eq!(
        back.to_string(),
        "/echo/rust/hello ,ifsbTNhdStIc[is] -3 1.5 \"from osc4rs\" <090807> true nil -5000000000 2.5 \"sym\" e8754700.80000000 infinitum \"Z\" [ 1 \"in an array\" ]"
    );
    assert_eq!(
        lines.next().unwrap().unwrap(),
        concat!(
            r#"{"address":"/rust/hello","args":[{"type":"i","value":-3},{"type":"f","value":1.5},"#,
            r#"{"type":"s","value":"from osc4rs"},{"type":"b","value":[9,8,7]},{"type":"T","value":true},"#,
            r#"{"type":"N","value":null},{"type":"h","value":"-5000000000"},{"type":"d","value":2.5},"#,
            r#"{"type":"S","value":"sym"},{"type":"t","value":{"raw":[3900000000,2147483648],"native":1691011200500}},"#,
            r#"{"type":"I","value":1},{"type":"c","value":"Z"},"#,
            r#"[{"type":"i","value":1},{"type":"s","value":"in an array"}]]}"#
        )
    );
}

#[test]
#[allow(clippy::result_large_err)]
fn an_origin_list_refuses_other_pages() {
    use tungstenite::client::IntoClientRequest;
    let mut r = Reactor::new().unwrap();
    let mut cfg = TcpServerConfig::new(local(0));
    cfg.framing = StreamFraming::Auto;
    cfg.ws_origins = Some(vec!["http://localhost:8000".into()]);
    let id = r.open_tcp_server("ws", cfg).unwrap();
    let addr = r.local_addr(id).unwrap();
    let (_handle, got) = running(r);
    let with_origin = |origin: Option<&str>| {
        let mut req = format!("ws://{addr}/").into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("Origin", o.parse().unwrap());
        }
        tungstenite::client(req, TcpStream::connect(addr).unwrap())
    };
    for refused in [None, Some("http://evil.example")] {
        match with_origin(refused) {
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(resp))) => {
                assert_eq!(resp.status(), 403, "{refused:?}");
            }
            other => panic!("{refused:?} was not refused: {:?}", other.map(|_| ())),
        }
    }
    let (mut ok, _) = with_origin(Some("http://localhost:8000")).unwrap();
    ok.send(Message::Binary(pkt("/allowed").to_vec().into()))
        .unwrap();
    assert_eq!(wait_for(&got, 1).len(), 1);
}

/// Waits until server `srv` has a connection that delivered a packet, sending
/// `packet` from `client` meanwhile (it is refused while the client is away).
fn until_delivered(r: &mut Reactor, client: osc_channel::ChannelId, packet: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let _ = r.send(client, pkt(packet), None);
        let got = common::collect_for(r, 1, Duration::from_millis(50));
        if let Some(g) = got.into_iter().find(|g| g.name.starts_with("ws/")) {
            return g.data;
        }
        assert!(Instant::now() < deadline, "{packet} never arrived");
    }
}

#[test]
fn a_websocket_client_reconnects_with_back_off_and_shakes_hands_again() {
    let mut r = Reactor::new().unwrap();
    let port = std::net::TcpListener::bind(local(0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = TcpClientConfig::new(local(port));
    cfg.framing = StreamFraming::WebSocket;
    cfg.ws_path = "/osc".into();
    cfg.reconnect = Some(osc_channel::Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(80),
    });
    let (events, log) = common::recorder(false);
    cfg.events = Some(events);
    // Nobody listens yet: the client keeps trying.
    let cli = r.open_tcp_client("page", cfg).unwrap();
    let _ = common::settle(&mut r, Duration::from_millis(100));
    let open = |r: &mut Reactor| {
        let mut s = TcpServerConfig::new(local(port));
        s.framing = StreamFraming::WebSocket;
        r.open_tcp_server("ws", s).unwrap()
    };
    let srv = open(&mut r);
    assert_eq!(
        until_delivered(&mut r, cli, "/first"),
        pkt("/first").to_vec()
    );
    // The server goes away and comes back: a new TCP connection and a new handshake.
    r.close(srv).unwrap();
    let _ = common::settle(&mut r, Duration::from_millis(100));
    let srv = open(&mut r);
    assert_eq!(
        until_delivered(&mut r, cli, "/again"),
        pkt("/again").to_vec()
    );
    assert_eq!(r.connections(srv).len(), 1);
    let connected = log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("page: connected to"))
        .count();
    assert_eq!(connected, 2, "{:?}", log.lock().unwrap());
}
