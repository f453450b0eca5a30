//! The examples as a user runs them: `rundemo` in every scheduling mode must receive
//! everything it sends and exit 0. The examples are built by `cargo test` (they are
//! compiled with the test targets), so the test runs the built binaries directly
//! rather than going through `cargo run`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/<name>`, next to this test's own `deps` directory.
fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    path.exists().then_some(path)
}

/// The command that runs an example: the built binary, or (not built: a filtered test
/// run) `cargo run`.
fn example_command(name: &str) -> Command {
    match example(name) {
        Some(path) => Command::new(path),
        None => {
            let mut c = Command::new(env!("CARGO"));
            c.args(["run", "-q", "-p", "osc4rs", "--example", name, "--"]);
            c
        }
    }
}

fn run_example(name: &str, args: &[&str]) -> std::process::Output {
    example_command(name).args(args).output().unwrap()
}

#[test]
fn rundemo_receives_everything_in_every_mode() {
    for mode in ["eventloop", "comthreads", "allthreads"] {
        let out = run_example("rundemo", &[mode, "--non-interactive"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "rundemo {mode} failed: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("16/16 messages received"), "{stdout}");
        assert!(stdout.contains("in a timed bundle"), "{stdout}");
        assert!(stdout.contains("(_local"), "{stdout}");
    }
}

#[test]
fn logger_warns_about_a_malformed_datagram_with_its_peer() {
    let out = run_example("logger", &["eventloop"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("malformed packet from 127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("handler got /log/after"), "{stderr}");
    assert!(stderr.contains("osc4rs runtime started"), "{stderr}");
}

#[test]
fn status_server_answers_a_connected_client_in_every_mode() {
    use std::time::Duration;
    for mode in ["eventloop", "comthreads", "allthreads"] {
        let port = osc_test_support::free_port();
        let mut cmd = example_command("status_server");
        let child = cmd
            .args([mode, &port.to_string(), "--once"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut server = osc_test_support::Reaped(child);
        let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(("127.0.0.1", port)).unwrap();
        client
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let request = osc4rs::Packet::from(osc4rs::Message::new("/status"))
            .to_bytes()
            .unwrap();
        let mut buf = [0u8; 128];
        let mut reply = None;
        for _ in 0..50 {
            let _ = client.send(&request);
            match client.recv(&mut buf) {
                Ok(n) => {
                    reply = Some(osc4rs::Message::decode(&buf[..n]).unwrap());
                    break;
                }
                // Not listening yet: the kernel answers "refused" at once.
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        let reply = reply.unwrap_or_else(|| panic!("{mode}: no reply"));
        assert_eq!(reply.address, "/status.reply");
        assert_eq!(reply.args[0].as_str(), Some("running"));
        assert!(server.0.wait().unwrap().success(), "{mode}");
    }
}

#[test]
fn fader_bridge_relays_timed_bundles_from_oscsend_to_oscdump() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    if !osc_test_support::liblo() {
        return;
    }
    let (faders, synth) = (osc_test_support::free_port(), osc_test_support::free_port());
    let mut dump = osc_test_support::Reaped(
        Command::new("oscdump")
            .args(["-L", &synth.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut cmd = example_command("fader_bridge");
    let mut bridge = osc_test_support::Reaped(
        cmd.args([&faders.to_string(), &synth.to_string(), "--count", "2"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Wait until the bridge listens, then move two faders with liblo's oscsend.
    let mut banner = String::new();
    BufReader::new(bridge.0.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    assert!(banner.starts_with("faders on udp port"), "{banner}");
    std::thread::sleep(Duration::from_millis(200)); // oscdump binds too
    for (n, v) in [("1", "0.5"), ("7", "0.25")] {
        let st = Command::new("oscsend")
            .args([
                "localhost",
                &faders.to_string(),
                &format!("/fader/{n}"),
                "f",
                v,
            ])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = std::sync::Arc::clone(&lines);
    let out = dump.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            l.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while lines.lock().unwrap().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let got = lines.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    // oscdump prints a bundled message after its bundle's timetag (SSSSSSSS.FFFFFFFF).
    assert!(got[0].ends_with(" /synth/1/amp f 0.500000"), "{got:?}");
    assert!(got[1].ends_with(" /synth/7/amp f 0.250000"), "{got:?}");
    assert_eq!(got[0].split(' ').next().unwrap().len(), 17, "{got:?}");
    assert!(bridge.0.wait().unwrap().success());
}
