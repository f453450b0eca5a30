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
