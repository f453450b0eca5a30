//! Interop with python-oscquery (PyPI), an OSCQuery server and client nobody here
//! wrote, both ways: it discovers an osc4rs runtime with DNS-SD and reads its
//! `HOST_INFO` and tree; osc4rs discovers its service and reads its tree. Both
//! advertise over mDNS, so each test re-runs itself inside a private network
//! namespace (see `dnssd.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use osc_query::{
    Access, ClipMode, MethodDescription, OSCJSON_TCP, OscQuery, ParamSpec, QueryClient, Range,
    browse,
};
use osc_test_support::{Reaped, inside_private_netns};
use osc4rs::{Handler, Osc};

/// The project's venv Python with python-oscquery, or `None` with a skip message.
fn oscquery_python() -> Option<std::path::PathBuf> {
    osc_test_support::venv_python("pythonoscquery.osc_query_service", "python-oscquery")
}

fn peer() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oscquery_peer.py")
}

#[test]
fn python_oscquery_discovers_and_reads_an_osc4rs_runtime() {
    if !inside_private_netns("python_oscquery_discovers_and_reads_an_osc4rs_runtime") {
        return;
    }
    let Some(py) = oscquery_python() else {
        return;
    };
    let osc = Osc::builder().start().unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    osc.method(
        "/play/note",
        Handler::typed(|_note: i32, _velocity: f32| {}),
    )
    .unwrap();
    let query = OscQuery::builder("rust synth")
        .http_addr("0.0.0.0:0".parse().unwrap())
        .osc_channel("in")
        .advertise(true)
        .start(&osc)
        .unwrap();
    query.describe(
        "/play/note",
        MethodDescription::new().description("plays a note"),
    );
    query
        .add_parameter(
            ParamSpec::new("/synth/freq", 440.0f32)
                .range(Range::new(20.0, 20_000.0))
                .clip(ClipMode::Both)
                .description("frequency"),
        )
        .unwrap();
    query
        .add_parameter(ParamSpec::new("/synth/level", 0.5f32).read_only())
        .unwrap();

    let out = Command::new(&py)
        .arg(peer())
        .args(["read", "rust synth", "10", "/synth"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-oscquery could not read us: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let host = &seen["host_info"];
    assert_eq!(host["name"], "rust synth");
    assert_eq!(host["osc_transport"], "UDP");
    assert_eq!(host["osc_port"], osc.local_addr("in").unwrap().port());
    assert_eq!(host["extensions"]["LISTEN"], true);
    let nodes = &seen["nodes"];
    assert_eq!(nodes["/synth/freq"]["value"], serde_json::json!([440.0]));
    assert_eq!(nodes["/synth/freq"]["access"], 3);
    assert_eq!(nodes["/synth/freq"]["description"], "frequency");
    assert_eq!(nodes["/synth/level"]["access"], 1);
    assert_eq!(nodes["/synth"]["access"], 0, "a container: {nodes}");

    // A write-only method has no VALUE (the proposal's rule), which python-oscquery
    // 0.4.0 refuses to parse: it reads the subtree and raises.
    let out = Command::new(&py)
        .arg(peer())
        .args(["read", "rust synth", "10", "/play/note"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("No value(s) given"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn osc4rs_discovers_and_reads_a_python_oscquery_service() {
    if !inside_private_netns("osc4rs_discovers_and_reads_a_python_oscquery_service") {
        return;
    }
    let Some(py) = oscquery_python() else {
        return;
    };
    let (http_port, osc_port) = (osc_test_support::free_port(), osc_test_support::free_port());
    let mut child = Reaped(
        Command::new(&py)
            .arg(peer())
            .args([
                "serve",
                "python synth",
                &http_port.to_string(),
                &osc_port.to_string(),
                "192.0.2.1",
                "20",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "serving");

    let mut found = Vec::new();
    for _ in 0..3 {
        found = browse(OSCJSON_TCP, Duration::from_secs(3)).unwrap();
        if found.iter().any(|s| s.instance == "python synth") {
            break;
        }
    }
    let service = found
        .iter()
        .find(|s| s.instance == "python synth")
        .unwrap_or_else(|| panic!("python-oscquery's service not found: {found:?}"));
    assert_eq!(service.port, http_port);
    let addr = std::net::SocketAddr::new(service.addresses[0], service.port);
    let client = QueryClient::new(addr).unwrap();

    let host = client.host_info().unwrap();
    assert_eq!(host.name.as_deref(), Some("python synth"));
    assert_eq!(host.osc_port, Some(osc_port));

    let tree = client.tree().unwrap();
    let freq = tree.find("/synth/freq").expect("/synth/freq in the tree");
    assert_eq!(freq.access, Some(Access::ReadWrite));
    assert_eq!(freq.description.as_deref(), Some("frequency"));
    assert_eq!(freq.types.as_deref(), Some("f"));
    assert_eq!(
        client.attribute("/synth/freq", "VALUE").unwrap(),
        Some(serde_json::json!([440.0]))
    );
    let name = tree.find("/synth/name").unwrap();
    assert_eq!(name.access, Some(Access::Read));
    assert_eq!(name.types.as_deref(), Some("s"));
    assert_eq!(
        tree.find("/synth/gate").unwrap().types.as_deref(),
        Some("i")
    );
}
