//! The codec's example as a user runs it: `codec_tour` (parsing and building packets
//! with the codec alone) exits 0 and shows what it promises. Examples are compiled by
//! `cargo test`, so the built binary is run directly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// The built example (examples are compiled by `cargo test`), else `cargo run`.
fn tour() -> Command {
    osc_test_support::cargo_built(
        "examples/codec_tour",
        &["-p", "osc-codec", "--example", "codec_tour"],
    )
}

#[test]
fn codec_tour_runs() {
    let out = tour().output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("/synth/1/freq"), "{stdout}");
}

/// `codec_tour FILE...` parses packets other programs built: python-osc's encoder
/// (written by `scripts/peer.py encode`) and liblo's `oscsend` (caught on a socket).
#[test]
fn codec_tour_parses_what_python_osc_and_liblo_send() {
    let (Some(py), true) = (osc_test_support::python(), osc_test_support::liblo()) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("osc4rs-codec-tour-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let from_python = Command::new(&py)
        .arg(osc_test_support::peer_script())
        .args(["encode", "/py/synth", "440", "0.5", "sine"])
        .output()
        .unwrap();
    assert!(from_python.status.success());
    std::fs::write(dir.join("python.bin"), &from_python.stdout).unwrap();

    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let port = sock.local_addr().unwrap().port().to_string();
    let st = Command::new("oscsend")
        .args([
            "localhost",
            &port,
            "/liblo/synth",
            "ifsTh",
            "440",
            "0.5",
            "sine",
            "-9000000000",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).unwrap();
    std::fs::write(dir.join("liblo.bin"), &buf[..n]).unwrap();

    let out = tour()
        .args([dir.join("python.bin"), dir.join("liblo.bin")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "/py/synth ,ifs 440 0.5 \"sine\"");
    assert_eq!(lines[1], "  3 argument(s), type tags ,ifs");
    assert_eq!(
        lines[2],
        "/liblo/synth ,ifsTh 440 0.5 \"sine\" true -9000000000"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
