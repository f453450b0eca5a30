//! `osc4rs query` against an OSCQuery server published in this process (loopback),
//! and `osc4rs discover` inside a private network namespace, where its mDNS queries
//! cannot reach a real network.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;
use std::time::Duration;

use osc_query::{Advertisement, OscQuery, ParamSpec, Range, Transport};
use osc4rs::{Handler, Osc};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_osc4rs"))
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn query_prints_the_tree_as_a_table_or_json_and_the_host_info() {
    let osc = Osc::builder().start().unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    osc.method("/synth/1/note", Handler::typed(|_note: i32, _vel: f32| {}))
        .unwrap();
    let query = OscQuery::builder("cli synth")
        .http_addr("127.0.0.1:0".parse().unwrap())
        .osc_channel("in")
        .advertise(false)
        .start(&osc)
        .unwrap();
    let _freq = query
        .add_parameter(
            ParamSpec::new("/synth/1/freq", 440.0f32)
                .description("oscillator frequency")
                .range(Range::new(20.0, 20_000.0))
                .unit("frequency.hz"),
        )
        .unwrap();
    let url = format!("http://{}", query.http_addr());

    let (ok, table, err) = run(&["query", &url]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("PATH"), "{table}");
    let freq = lines
        .iter()
        .find(|l| l.starts_with("/synth/1/freq"))
        .unwrap();
    let cells: Vec<&str> = freq.split_whitespace().collect();
    assert_eq!(
        &cells[..6],
        [
            "/synth/1/freq",
            "f",
            "rw",
            "440.0",
            "20.0..20000.0",
            "frequency.hz"
        ],
        "{table}"
    );
    assert!(freq.ends_with("oscillator frequency"));
    let note = lines
        .iter()
        .find(|l| l.starts_with("/synth/1/note"))
        .unwrap();
    assert_eq!(
        &note.split_whitespace().collect::<Vec<_>>()[..3],
        ["/synth/1/note", "if", "w"]
    );

    let (ok, json, err) = run(&["query", &url, "/synth/1/freq", "--json"]);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["FULL_PATH"], "/synth/1/freq");
    assert_eq!(doc["TYPE"], "f");
    assert_eq!(doc["VALUE"][0], 440.0);

    let (ok, info, err) = run(&["query", &url, "/synth/1/note", "--host-info"]);
    assert!(ok, "{err}");
    assert!(info.starts_with("name       cli synth\n"), "{info}");
    let port = osc.local_addr("in").unwrap().port();
    assert!(
        info.contains(&format!("osc        Udp 127.0.0.1:{port}")),
        "{info}"
    );

    let (ok, _, err) = run(&["query", &url, "/no/such/node"]);
    assert!(!ok);
    assert!(err.contains("no OSC node at /no/such/node"), "{err}");
    let (ok, _, err) = run(&["query", "not a url"]);
    assert!(!ok);
    assert!(err.contains("not an http://HOST:PORT address"), "{err}");
    drop(query);
    osc.terminate().unwrap();
}

#[test]
fn discover_lists_what_is_advertised() {
    if !osc_test_support::inside_private_netns("discover_lists_what_is_advertised") {
        return;
    }
    let _ad =
        Advertisement::publish("cli discover", 45_690, Some((9_090, Transport::Udp))).unwrap();
    // One browse may miss an answer on a loaded machine: up to three.
    let mut out = String::new();
    for _ in 0..3 {
        let (ok, stdout, err) = run(&["discover", "--wait", "3"]);
        assert!(ok, "{err}");
        out = stdout;
        if out.contains("_osc._udp") && out.contains("_oscjson._tcp") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let line = |kind: &str| {
        out.lines()
            .find(|l| l.starts_with(kind) && l.contains("cli discover"))
            .unwrap_or_else(|| panic!("no {kind} line in {out:?}"))
            .to_owned()
    };
    assert!(line("_oscjson._tcp").ends_with(":45690"), "{out}");
    assert!(line("_osc._udp").ends_with(":9090"), "{out}");
}
