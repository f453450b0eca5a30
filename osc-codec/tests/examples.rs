//! The codec's example as a user runs it: `codec_tour` (parsing and building packets
//! with the codec alone) exits 0 and shows what it promises. Examples are compiled by
//! `cargo test`, so the built binary is run directly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

#[test]
fn codec_tour_runs() {
    let exe = std::env::current_exe().unwrap();
    let built = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("examples").join("codec_tour"))
        .filter(|p| p.exists());
    let out = match built {
        Some(path) => Command::new(path).output().unwrap(),
        None => Command::new(env!("CARGO"))
            .args(["run", "-q", "-p", "osc-codec", "--example", "codec_tour"])
            .output()
            .unwrap(),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("/synth/1/freq"), "{stdout}");
}
