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

fn run_example(name: &str, args: &[&str]) -> std::process::Output {
    match example(name) {
        Some(path) => Command::new(path).args(args).output().unwrap(),
        // Not built (a filtered test run): build and run it through cargo.
        None => Command::new(env!("CARGO"))
            .args(["run", "-q", "-p", "osc4rs", "--example", name, "--"])
            .args(args)
            .output()
            .unwrap(),
    }
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
        let path = example("status_server");
        let mut cmd = match &path {
            Some(p) => Command::new(p),
            None => {
                let mut c = Command::new(env!("CARGO"));
                c.args([
                    "run",
                    "-q",
                    "-p",
                    "osc4rs",
                    "--example",
                    "status_server",
                    "--",
                ]);
                c
            }
        };
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
