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

#[test]
fn discover_watch_follows_arrivals_and_departures() {
    if !osc_test_support::inside_private_netns("discover_watch_follows_arrivals_and_departures") {
        return;
    }
    let mut child = osc_test_support::Reaped(
        bin()
            .args(["discover", "--watch", "--timeout", "20"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let lines = std::io::BufRead::lines(std::io::BufReader::new(child.0.stdout.take().unwrap()));
    std::thread::sleep(Duration::from_millis(500));
    let ad = Advertisement::publish("cli watch", 45_691, None).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |want: &str| loop {
        let line = rx
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|_| panic!("no line with {want:?}"));
        if line.contains("cli watch") && line.starts_with(want) {
            return line;
        }
    };
    let came = wait_for("+ _oscjson._tcp");
    assert!(came.ends_with(":45691"), "{came}");
    ad.withdraw();
    let went = wait_for("- _oscjson._tcp");
    assert!(went.contains("cli watch"), "{went}");
}

#[test]
fn send_and_dump_take_a_service_name() {
    use osc_query::OscQueryExt;
    if !osc_test_support::inside_private_netns("send_and_dump_take_a_service_name") {
        return;
    }
    let osc = Osc::builder()
        .mode(osc4rs::Mode::AllThreads)
        .start()
        .unwrap();
    osc.udp_server("in", "0.0.0.0:0").unwrap();
    let query = osc.oscquery("cli service").unwrap();
    let freq = query
        .add_parameter(ParamSpec::new("/synth/freq", 440.0f32).range(Range::new(20.0, 20_000.0)))
        .unwrap();

    // send --service: to where HOST_INFO says.
    let (ok, _, err) = run(&[
        "send",
        "--service",
        "cli service",
        "--discover-wait",
        "10",
        "/synth/freq ,f 880.0",
    ]);
    assert!(ok, "{err}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while freq.get() != 880.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "send --service did not arrive"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // dump --service: the values the service streams.
    let mut child = osc_test_support::Reaped(
        bin()
            .args([
                "dump",
                "--service",
                "cli service",
                "--discover-wait",
                "10",
                "--timeout",
                "20",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = std::io::BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(line.contains("listening to 1 paths"), "{line}");
    // The LISTEN may still be on its way: set the value until it is streamed.
    let setting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let setter = {
        let (setting, freq) = (std::sync::Arc::clone(&setting), freq.clone());
        std::thread::spawn(move || {
            for _ in 0..100 {
                if !setting.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                freq.set(220.0);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let mut out = std::io::BufReader::new(child.0.stdout.take().unwrap());
    let mut value = String::new();
    std::io::BufRead::read_line(&mut out, &mut value).unwrap();
    setting.store(false, std::sync::atomic::Ordering::Relaxed);
    setter.join().unwrap();
    assert_eq!(value.trim(), "/synth/freq ,f 220.0");

    // A name nobody advertises: a clear error, exit 1.
    let out = bin()
        .args([
            "send",
            "--service",
            "nobody",
            "--discover-wait",
            "0.5",
            "/a",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no OSC or OSCQuery service named"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
