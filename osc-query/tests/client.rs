//! The client against our server and against hostile servers (a huge answer, no
//! answer, garbage), over loopback.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use osc_query::{
    Namespace, ParamSpec, QueryClient, QueryError, QueryServer, Range, ServerConfig, Update,
};

#[test]
fn reads_a_namespace_into_a_typed_tree() {
    let ns = Arc::new(Namespace::new("demo"));
    ns.add_parameter(ParamSpec::new("/mix/fader_é", 0.75f32).range(Range::new(0.0, 1.0)))
        .unwrap();
    ns.add_parameter(ParamSpec::new("/mix/meter", 0.0f32).read_only())
        .unwrap();
    let server = QueryServer::start(
        Arc::clone(&ns),
        ServerConfig::new("127.0.0.1:0".parse().unwrap()),
    )
    .unwrap();
    let c = QueryClient::new(server.local_addr()).unwrap();
    let tree = c.tree().unwrap();
    let fader = tree.find("/mix/fader_é").unwrap();
    assert_eq!(
        fader.range.as_ref().unwrap()[0].get().unwrap().bounds(),
        (Some(0.0), Some(1.0))
    );
    let values = osc_query::values_from_json("f", fader.value.as_ref().unwrap()).unwrap();
    assert_eq!(values, vec![osc_codec::Value::Float(0.75)]);
    // A non-ASCII path travels percent-encoded.
    assert_eq!(c.node("/mix/fader_é").unwrap().full_path, "/mix/fader_é");
    assert_eq!(c.attribute("/mix", "TYPE").unwrap(), None);
    assert_eq!(c.attribute("/mix/meter", "TAGS").unwrap(), None);
    assert!(matches!(
        c.attribute("/mix", "BOGUS"),
        Err(QueryError::Http { status: 400, .. })
    ));
    assert!(matches!(c.node("/nope"), Err(QueryError::NotFound { .. })));

    let mut s = c.stream().unwrap();
    s.listen("/mix/meter").unwrap();
    s.listen("/sync").unwrap();
    assert!(matches!(
        s.next(Duration::from_secs(5)).unwrap(),
        Some(Update::Notice(_))
    ));
    ns.add_parameter(ParamSpec::new("/mix/new", 1)).unwrap();
    assert_eq!(
        s.next(Duration::from_secs(5)).unwrap(),
        Some(Update::PathAdded("/mix/new".into()))
    );
    assert_eq!(s.next(Duration::from_millis(50)).unwrap(), None);
}

/// A server that answers every connection with `reply` (then keeps it open).
fn fake_server(reply: &'static [u8]) -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(reply);
            std::thread::sleep(Duration::from_secs(3));
        }
    });
    addr
}

#[test]
fn hostile_servers_give_errors_in_bounded_time_and_memory() {
    // Claims 1 GiB: refused by the body limit, not buffered.
    let big = fake_server(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n{\"FULL_PATH\":");
    let mut c = QueryClient::new(big).unwrap();
    c.max_body = 1 << 20;
    assert!(c.tree().is_err());
    // Never answers: the timeout.
    let silent = fake_server(b"");
    let mut c = QueryClient::new(silent).unwrap();
    c.timeout = Duration::from_millis(300);
    let start = Instant::now();
    assert!(c.host_info().is_err());
    assert!(start.elapsed() < Duration::from_secs(2));
    // Not JSON.
    let garbage = fake_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    assert!(matches!(
        QueryClient::new(garbage).unwrap().host_info(),
        Err(QueryError::Json { .. })
    ));
}
