//! # osc-test-support
//!
//! What the osc4rs test suites share, so that no suite keeps its own copy: finding the
//! real OSC peers that `scripts/install-peers.sh` installs (and failing instead of
//! skipping when CI says they must be there), reaping child processes, free loopback
//! ports, the paths of the workspace's shared test data (`testdata/`), and the
//! allocation tests' counting allocator ([`counting`]). A development dependency only;
//! never published.
//!
//! ```
//! use osc_test_support::{free_port, testdata};
//! let port = free_port();
//! assert!(std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok());
//! assert!(testdata("hostile/packets.txt").exists());
//! ```

// Unsafe code only in `counting` (a global allocator cannot be written without it).
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod counting;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command};

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// A file of the shared test data, `testdata/REL` at the workspace root.
pub fn testdata(rel: &str) -> PathBuf {
    workspace_root().join("testdata").join(rel)
}

/// `127.0.0.1:port`.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A port of 127.0.0.1 free for both TCP and UDP right now (they are separate
/// spaces; a test that listens on both needs one free in each).
pub fn free_port() -> u16 {
    loop {
        let Ok(tcp) = TcpListener::bind(local(0)) else {
            continue;
        };
        let Ok(port) = tcp.local_addr().map(|a| a.port()) else {
            continue;
        };
        if UdpSocket::bind(local(port)).is_ok() {
            return port;
        }
    }
}

/// Starts a peer that listens on TCP on the port it is given, and returns it with
/// its port once it accepts connections. A port found free can be taken by another
/// test before the peer binds it (liblo then prints "cannot find free port" and
/// exits): the peer is started again on another port, up to five times. `None` if
/// it never listened.
///
/// ```no_run
/// use osc_test_support::listening_on_tcp;
/// let (_dump, port) = listening_on_tcp(|port| {
///     let mut c = std::process::Command::new("oscdump");
///     c.args(["-L", &format!("osc.tcp://:{port}")]);
///     c
/// })
/// .expect("oscdump listens on TCP");
/// assert_ne!(port, 0);
/// ```
pub fn listening_on_tcp(mut command: impl FnMut(u16) -> Command) -> Option<(Reaped, u16)> {
    for _ in 0..5 {
        let port = free_port();
        let Ok(child) = command(port).spawn() else {
            break;
        };
        let mut peer = Reaped(child);
        if peer.accepts_on(port) {
            return Some((peer, port));
        }
    }
    None
}

/// A child process that is killed and waited for when dropped, so that a failed test
/// leaves no process behind.
///
/// ```
/// use osc_test_support::Reaped;
/// let sleeper = Reaped(std::process::Command::new("sleep").arg("30").spawn()?);
/// drop(sleeper); // killed and reaped at once
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Reaped(pub Child);

impl Reaped {
    /// Waits up to 10 s until this process accepts TCP connections on `port` of
    /// 127.0.0.1; false if it exits first.
    fn accepts_on(&mut self, port: u16) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return false;
            }
            if std::net::TcpStream::connect(local(port)).is_ok() {
                // Whoever answered, the process must still be alive to own the port.
                std::thread::sleep(std::time::Duration::from_millis(50));
                return matches!(self.0.try_wait(), Ok(None));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether `cmd` is on the `PATH`.
pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Reports a missing peer: a message and a skip, or a failure when
/// `OSC4RS_INTEROP=require` (set by `.ci/run` once the peers are installed).
///
/// # Panics
/// When the peers are required.
#[allow(clippy::panic)]
pub fn skip(what: &str) {
    if std::env::var("OSC4RS_INTEROP").as_deref() == Ok("require") {
        panic!("OSC4RS_INTEROP=require, but {what}");
    }
    eprintln!("skipping {what}");
}

/// Whether liblo's `oscsend` and `oscdump` are installed (else [`skip`]s).
pub fn liblo() -> bool {
    let ok = have("oscsend") && have("oscdump");
    if !ok {
        skip("liblo interop: liblo-tools not installed (scripts/install-peers.sh)");
    }
    ok
}

/// The project's virtual environment's Python, if python-osc is installed in it
/// (else [`skip`]s).
pub fn python() -> Option<PathBuf> {
    venv_python("pythonosc", "python-osc")
}

/// The project's virtual environment's Python, if it can import `module` (the PyPI
/// package `package`; else [`skip`]s, naming it).
///
/// ```no_run
/// if let Some(py) = osc_test_support::venv_python("zeroconf", "zeroconf") {
///     assert!(py.ends_with(".venv/bin/python"));
/// }
/// ```
pub fn venv_python(module: &str, package: &str) -> Option<PathBuf> {
    let py = workspace_root().join(".venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(&format!(
            "{package} interop: not installed in .venv (scripts/install-peers.sh)"
        ));
    }
    ok.then_some(py)
}

/// A command running a binary cargo built for this test run: `rel` below
/// `target/<profile>/` (`"osc4rs"`, `"examples/codec_tour"`), found beside the
/// running test binary; when it was not built (a filtered run), `cargo run -q`
/// with `cargo_run` (`["-p", "osc-codec", "--example", "codec_tour"]`) instead.
///
/// ```no_run
/// let out = osc_test_support::cargo_built("osc4rs", &["-p", "osc4rs-cli"]).arg("--help").output()?;
/// assert!(out.status.success());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn cargo_built(rel: &str, cargo_run: &[&str]) -> Command {
    let built = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join(rel)))
        .map(|p| p.with_extension(std::env::consts::EXE_EXTENSION))
        .filter(|p| p.exists());
    match built {
        Some(path) => Command::new(path),
        None => {
            let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
            c.args(["run", "-q"]).args(cargo_run).arg("--");
            c
        }
    }
}

/// A serial cable made by socat: a pseudo-terminal pair whose ends appear as the
/// symbolic links `a` and `b` once it is up (waits up to 5 s). Killing the process
/// pulls the cable: both links disappear. `None` (after [`skip`]) when socat is
/// missing.
pub fn socat_cable(a: &std::path::Path, b: &std::path::Path) -> Option<Reaped> {
    if !have("socat") {
        skip("serial interop: socat not installed (scripts/install-peers.sh)");
        return None;
    }
    let end = |p: &std::path::Path| format!("pty,raw,echo=0,link={}", p.display());
    let child = Command::new("socat")
        .args([end(a), end(b)])
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let cable = Reaped(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !(a.exists() && b.exists()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    (a.exists() && b.exists()).then_some(cable)
}

/// `scripts/peer.py`, the Python peer the interop tests drive.
pub fn peer_script() -> PathBuf {
    workspace_root().join("scripts/peer.py")
}

/// A command running `scripts/oscjs-peer.js` with Node.js and the osc.js and ws
/// packages that `scripts/install-peers.sh` puts in `.node/` (else [`skip`]s).
pub fn oscjs() -> Option<Command> {
    let modules = workspace_root().join(".node/node_modules");
    let ok = have("node")
        && modules.join("osc/package.json").exists()
        && modules.join("ws/package.json").exists();
    if !ok {
        skip(
            "osc.js interop: Node.js with osc and ws not installed in .node (scripts/install-peers.sh)",
        );
        return None;
    }
    let mut cmd = Command::new("node");
    cmd.arg(workspace_root().join("scripts/oscjs-peer.js"))
        .env("NODE_PATH", modules);
    Some(cmd)
}

/// Debian's Chromium for the browser test, if installed (else [`skip`]s).
pub fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| have(c))
        .map(PathBuf::from);
    if found.is_none() {
        skip("browser interop: chromium not installed (scripts/install-peers.sh)");
    }
    found
}

/// Headless Chromium showing `url` with a fresh profile in `profile`, with the flags
/// that keep it off the network (no background requests, no QUIC) and let a
/// `file://` page load scripts beside it. Killed when dropped.
///
/// ```no_run
/// use osc_test_support::{chromium, headless};
/// let profile = std::env::temp_dir().join("osc4rs-doc-chromium");
/// if let Some(browser) = chromium() {
///     let _page = headless(&browser, "about:blank", &profile).expect("chromium starts");
/// }
/// ```
pub fn headless(
    chromium: &std::path::Path,
    url: &str,
    profile: &std::path::Path,
) -> std::io::Result<Reaped> {
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            &format!("--user-data-dir={}", profile.display()),
            "--remote-debugging-port=0",
            url,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    Ok(Reaped(child))
}

/// The environment variable that marks a test re-run inside its private network
/// namespace by [`inside_private_netns`].
const INSIDE_NETNS: &str = "OSC4RS_IN_NETNS";

/// Run inside the new namespace, then the test (`$0` is the test binary, `$1` the
/// test's name): `lo` up with multicast, and a veth pair `v0`/`v1` whose ends both
/// stay inside (`v0` has 192.0.2.1, a documentation address; IPv6 addresses usable at
/// once, without duplicate detection). The test finds `v0`'s interface index in
/// `OSC4RS_V0_INDEX`. Exit code 77 means the set-up failed.
const NETNS_SETUP: &str = "{ ip link set lo up && ip link set lo multicast on \
    && sysctl -qw net.ipv6.conf.default.accept_dad=0 \
    && ip link add v0 type veth peer name v1 \
    && ip addr add 192.0.2.1/24 dev v0 && ip link set v0 up && ip link set v1 up; } || exit 77; \
    OSC4RS_V0_INDEX=$(ip -o link show v0 | cut -d: -f1) exec \"$0\" --exact \"$1\" --nocapture --test-threads=1";

/// For tests whose traffic must never reach a real network (mDNS, multicast): true
/// when the caller should run the test body, because this process is already inside
/// a private network namespace (`unshare -n`, as root). From outside, it runs the
/// test `test` (its full name, as `--exact` takes it) inside a fresh namespace and
/// returns false; it skips with a message when no namespace can be made (not root, no
/// `unshare` or `ip`), and fails when the test fails inside.
///
/// ```no_run
/// #[test]
/// fn mdns_stays_inside() {
///     if !osc_test_support::inside_private_netns("mdns_stays_inside") {
///         return;
///     }
///     // ... multicast here reaches only this namespace
/// }
/// ```
///
/// # Panics
/// When the test failed inside its namespace.
#[allow(clippy::panic)]
pub fn inside_private_netns(test: &str) -> bool {
    if std::env::var_os(INSIDE_NETNS).is_some() {
        return true;
    }
    let probe = Command::new("unshare")
        .args(["-n", "--", "ip", "link", "set", "lo", "up"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!(
                "skipping {test}: cannot create a network namespace ({}); needs root, unshare and ip",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return false;
        }
        Err(e) => {
            eprintln!("skipping {test}: cannot run unshare ({e})");
            return false;
        }
    }
    let Ok(exe) = std::env::current_exe() else {
        panic!("{test}: the test binary's path is unknown");
    };
    let status = Command::new("unshare")
        .args(["-n", "--", "sh", "-c", NETNS_SETUP])
        .arg(exe)
        .arg(test)
        .env(INSIDE_NETNS, "1")
        .status();
    match status {
        Ok(s) if s.code() == Some(77) => {
            eprintln!("skipping {test}: the namespace's veth pair could not be set up");
        }
        Ok(s) if s.success() => {}
        other => panic!("{test} failed inside its network namespace: {other:?}"),
    }
    false
}
