//! Unix domain socket channels, in a temporary directory each test makes and
//! removes: datagrams both ways and replies to a bound client, streams in both
//! framings split at every byte, socket files (mode, stale replaced, live left alone,
//! removed on close and on drop), bad input, and liblo's `osc.unix://` both ways
//! (skipped with a message when liblo-tools is missing).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{collect, pkt, recorder, settle};
use osc_channel::{
    ChannelError, DropReason, Reactor, StreamFraming, StreamLimits, UnixClientConfig,
    UnixDatagramConfig, UnixServerConfig,
};
use osc_codec::{Message, Packet};
use osc_test_support::{Reaped, liblo};

/// A fresh directory for one test's sockets; removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("osc-unix-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn in_use(e: &ChannelError) -> bool {
    matches!(e, ChannelError::Io { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse)
}

/// Polls until `want` packets arrived, keeping each one's name and sender path.
fn collect_paths(r: &mut Reactor, want: usize) -> Vec<(String, Option<PathBuf>, Vec<u8>)> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while got.len() < want && Instant::now() < deadline {
        r.poll(Some(Duration::from_millis(20)), |p| {
            got.push((
                p.name.to_owned(),
                p.peer_path.map(Path::to_path_buf),
                p.data.to_vec(),
            ));
            assert!(p.peer.is_none());
        })
        .unwrap();
    }
    got
}

#[test]
fn datagrams_both_ways_with_replies_to_a_bound_client() {
    let dir = TempDir::new("dgram");
    let (sp, cp) = (dir.path("server"), dir.path("client"));
    let mut r = Reactor::new().unwrap();
    let server = r
        .open_unix_datagram("in", UnixDatagramConfig::server(&sp))
        .unwrap();
    assert_eq!(r.local_path(server), Some(sp.as_path()));
    assert_eq!(mode(&sp), 0o660);
    let client = r
        .open_unix_datagram("out", UnixDatagramConfig::peer(&cp, Some(sp.clone())))
        .unwrap();
    r.send(client, pkt("/to/server"), None).unwrap();
    let got = collect_paths(&mut r, 1);
    assert_eq!(
        got,
        [(
            "in".to_owned(),
            Some(cp.clone()),
            pkt("/to/server").to_vec()
        )]
    );

    // The reply goes to the path the client bound.
    r.send_to_path(server, pkt("/reply"), &cp).unwrap();
    let got = collect_paths(&mut r, 1);
    assert_eq!(
        got,
        [("out".to_owned(), Some(sp.clone()), pkt("/reply").to_vec())]
    );

    // An unbound client reaches the server but has no return address.
    let unbound = r
        .open_unix_datagram("anon", UnixDatagramConfig::client(&sp))
        .unwrap();
    assert_eq!(r.local_path(unbound), None);
    r.send(unbound, pkt("/anon"), None).unwrap();
    let got = collect_paths(&mut r, 1);
    assert_eq!(got, [("in".to_owned(), None, pkt("/anon").to_vec())]);

    // A server has no default destination; an IP destination is refused.
    assert!(matches!(
        r.send(server, pkt("/x"), None),
        Err(ChannelError::NotWritable(..))
    ));
    assert!(matches!(
        r.send(client, pkt("/x"), Some("127.0.0.1:9".parse().unwrap())),
        Err(ChannelError::NotWritable(..))
    ));
    let stats = r.stats(server).unwrap().snapshot();
    assert_eq!((stats.packets_in, stats.packets_out), (2, 1));
}

#[test]
fn datagram_over_the_limit_is_dropped_and_counted_and_the_channel_goes_on() {
    let dir = TempDir::new("dgram-big");
    let sp = dir.path("server");
    let mut r = Reactor::new().unwrap();
    let server = r
        .open_unix_datagram("in", UnixDatagramConfig::server(&sp))
        .unwrap();
    let raw = std::os::unix::net::UnixDatagram::unbound().unwrap();
    raw.send_to(&vec![0u8; 70_000], &sp).unwrap();
    raw.send_to(&pkt("/after"), &sp).unwrap();
    let got = collect_paths(&mut r, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].2, pkt("/after").to_vec());
    let stats = r.stats(server).unwrap();
    assert_eq!(stats.snapshot().drops(DropReason::Oversized), 1);
    // Sending one is refused, never cut.
    let client = r
        .open_unix_datagram("out", UnixDatagramConfig::client(&sp))
        .unwrap();
    assert!(matches!(
        r.send(client, Arc::from(vec![0u8; 65_508]), None),
        Err(ChannelError::PacketTooLarge {
            size: 65_508,
            limit: 65_507
        })
    ));
    assert_eq!(
        r.stats(client)
            .unwrap()
            .snapshot()
            .drops(DropReason::Oversized),
        1
    );
}

#[test]
fn streams_both_ways_in_each_framing() {
    let dir = TempDir::new("stream");
    for (i, (server_framing, client_framing)) in [
        (StreamFraming::LengthPrefix, StreamFraming::LengthPrefix),
        (StreamFraming::Slip, StreamFraming::Slip),
        (StreamFraming::Auto, StreamFraming::Slip),
        (StreamFraming::Auto, StreamFraming::LengthPrefix),
    ]
    .into_iter()
    .enumerate()
    {
        let sp = dir.path(&format!("s{i}"));
        let (events, log) = recorder(false);
        let mut r = Reactor::new().unwrap();
        let mut cfg = UnixServerConfig::new(&sp);
        cfg.framing = server_framing;
        cfg.events = Some(events);
        let server = r.open_unix_server("in", cfg).unwrap();
        assert_eq!(r.local_path(server), Some(sp.as_path()));
        assert_eq!(r.local_addr(server), None);
        let mut clients = Vec::new();
        for n in 0..2 {
            let mut c = UnixClientConfig::new(&sp);
            c.framing = client_framing;
            clients.push(r.open_unix_client(&format!("out{n}"), c).unwrap());
        }
        for (n, &c) in clients.iter().enumerate() {
            r.send(c, pkt(&format!("/c{n}")), None).unwrap();
            let got = collect(&mut r, 1);
            assert_eq!(got.len(), 1, "{server_framing:?}");
            // Connections are named SERVER/N, N counting from 1.
            assert_eq!(got[0].name, format!("in/{}", n + 1));
            assert_eq!(
                (got[0].peer, got[0].data.clone()),
                (None, pkt(&format!("/c{n}")).to_vec())
            );
        }
        // A reply on one connection, then one to every connection.
        let conn = r.id_of("in/2").unwrap();
        r.send(conn, pkt("/only2"), None).unwrap();
        let got = collect(&mut r, 1);
        assert_eq!(
            (got[0].name.as_str(), got[0].data.clone()),
            ("out1", pkt("/only2").to_vec())
        );
        r.send(server, pkt("/all"), None).unwrap();
        let mut got: Vec<String> = collect(&mut r, 2).into_iter().map(|g| g.name).collect();
        got.sort();
        assert_eq!(got, ["out0", "out1"]);
        let log = log.lock().unwrap().join("\n");
        assert!(
            log.contains(&format!("in/1: connected at {}", sp.display())),
            "{log}"
        );
        drop(r);
        assert!(!sp.exists());
    }
}

#[test]
fn stream_packets_split_at_every_byte() {
    let dir = TempDir::new("split");
    for framing in [StreamFraming::LengthPrefix, StreamFraming::Slip] {
        let sp = dir.path(&format!("{framing:?}"));
        let mut r = Reactor::new().unwrap();
        let mut cfg = UnixServerConfig::new(&sp);
        cfg.framing = StreamFraming::Auto;
        r.open_unix_server("in", cfg).unwrap();
        let p = pkt("/split/me");
        let mut wire = Vec::new();
        match framing {
            StreamFraming::Slip => {
                wire.push(0xc0);
                wire.extend_from_slice(&p);
                wire.push(0xc0);
            }
            _ => {
                wire.extend_from_slice(&(p.len() as u32).to_be_bytes());
                wire.extend_from_slice(&p);
            }
        }
        let mut raw = std::os::unix::net::UnixStream::connect(&sp).unwrap();
        let mut got = Vec::new();
        for b in &wire {
            raw.write_all(&[*b]).unwrap();
            raw.flush().unwrap();
            // Each byte is read on its own before the next one is written.
            got.extend(settle(&mut r, Duration::from_millis(2)));
        }
        got.extend(collect(&mut r, 1 - got.len().min(1)));
        assert_eq!(got.len(), 1, "{framing:?}");
        assert_eq!(got[0].data, p.to_vec());
    }
}

#[test]
fn stream_bad_input_is_counted_and_the_server_goes_on() {
    let dir = TempDir::new("stream-bad");
    let sp = dir.path("s");
    let mut r = Reactor::new().unwrap();
    let mut cfg = UnixServerConfig::new(&sp);
    cfg.limits = StreamLimits {
        max_packet_size: 64,
        ..StreamLimits::default()
    };
    let (events, log) = recorder(false);
    cfg.events = Some(events);
    let server = r.open_unix_server("in", cfg).unwrap();
    let ok = pkt("/ok");
    let framed = |p: &[u8]| {
        let mut v = (p.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(p);
        v
    };
    // Oversized: skipped, the connection goes on.
    let mut a = std::os::unix::net::UnixStream::connect(&sp).unwrap();
    a.write_all(&framed(&[0u8; 128])).unwrap();
    a.write_all(&framed(&ok)).unwrap();
    let got = collect(&mut r, 1);
    assert_eq!((got.len(), got[0].data.clone()), (1, ok.to_vec()));
    let conn = r.id_of("in/1").unwrap();
    assert_eq!(
        r.stats(conn)
            .unwrap()
            .snapshot()
            .drops(DropReason::Oversized),
        1
    );
    // Malformed (a negative length): that connection closes, the server goes on.
    let mut b = std::os::unix::net::UnixStream::connect(&sp).unwrap();
    b.write_all(&[0xff, 0xff, 0xff, 0xf0]).unwrap();
    settle(&mut r, Duration::from_millis(100));
    assert!(r.id_of("in/2").is_none());
    assert_eq!(r.connections(server).len(), 1);
    let mut c = std::os::unix::net::UnixStream::connect(&sp).unwrap();
    c.write_all(&framed(&ok)).unwrap();
    let got = collect(&mut r, 1);
    assert_eq!(got[0].name, "in/3");
    // A peer that leaves mid-packet: truncated, counted.
    c.write_all(&[0, 0, 0, 16, b'/']).unwrap();
    settle(&mut r, Duration::from_millis(50));
    drop(c);
    settle(&mut r, Duration::from_millis(100));
    assert!(r.id_of("in/3").is_none());
    let log = log.lock().unwrap().join("\n");
    for line in [
        "in/1: dropped (oversized)",
        "in/2: dropped (malformed frame)",
        "in/3: dropped (truncated by disconnect)",
        "in/3: disconnected at ",
    ] {
        assert!(log.contains(line), "{line} not in\n{log}");
    }
}

#[test]
fn stale_socket_files_are_replaced_live_ones_are_not_stolen() {
    let dir = TempDir::new("stale");
    let sp = dir.path("s");
    let mut r = Reactor::new().unwrap();

    // Stale: a listener (or datagram socket) closed without removing its file.
    drop(std::os::unix::net::UnixListener::bind(&sp).unwrap());
    assert!(sp.exists());
    let server = r
        .open_unix_server("in", UnixServerConfig::new(&sp))
        .unwrap();
    r.close(server).unwrap();
    assert!(!sp.exists());
    drop(std::os::unix::net::UnixDatagram::bind(&sp).unwrap());
    let server = r
        .open_unix_datagram("in", UnixDatagramConfig::server(&sp))
        .unwrap();
    r.close(server).unwrap();
    assert!(!sp.exists());

    // Live: someone answers there; the file and its owner are left alone.
    let live = std::os::unix::net::UnixListener::bind(&sp).unwrap();
    let e = r
        .open_unix_server("in", UnixServerConfig::new(&sp))
        .unwrap_err();
    assert!(in_use(&e), "{e}");
    let e = r
        .open_unix_datagram("in", UnixDatagramConfig::server(&sp))
        .unwrap_err();
    assert!(in_use(&e), "{e}");
    assert!(std::os::unix::net::UnixStream::connect(&sp).is_ok());
    drop(live);
    std::fs::remove_file(&sp).unwrap();

    let live = std::os::unix::net::UnixDatagram::bind(&sp).unwrap();
    let e = r
        .open_unix_datagram("in", UnixDatagramConfig::server(&sp))
        .unwrap_err();
    assert!(in_use(&e), "{e}");
    drop(live);
    std::fs::remove_file(&sp).unwrap();

    // Not a socket at all: never removed.
    std::fs::write(&sp, b"data").unwrap();
    let e = r
        .open_unix_server("in", UnixServerConfig::new(&sp))
        .unwrap_err();
    assert!(in_use(&e), "{e}");
    assert_eq!(std::fs::read(&sp).unwrap(), b"data");
}

#[test]
fn socket_files_have_their_mode_and_go_on_close_and_on_drop() {
    let dir = TempDir::new("files");
    let (a, b, c) = (dir.path("a"), dir.path("b"), dir.path("c"));
    let mut r = Reactor::new().unwrap();
    let mut cfg = UnixServerConfig::new(&a);
    cfg.mode = 0o600;
    let sa = r.open_unix_server("a", cfg).unwrap();
    assert_eq!(mode(&a), 0o600);
    let mut dcfg = UnixDatagramConfig::server(&b);
    dcfg.mode = 0o666;
    r.open_unix_datagram("b", dcfg).unwrap();
    assert_eq!(mode(&b), 0o666);
    r.open_unix_datagram("c", UnixDatagramConfig::peer(&c, None))
        .unwrap();
    r.close(sa).unwrap();
    assert!(!a.exists());
    assert!(b.exists() && c.exists());
    drop(r);
    assert!(!b.exists() && !c.exists());
}

#[test]
fn unix_clients_reconnect_and_name_no_ip_peer() {
    let dir = TempDir::new("reconnect");
    let sp = dir.path("s");
    let mut r = Reactor::new().unwrap();
    // Nobody there yet: the client fails at once, like a TCP client.
    assert!(
        r.open_unix_client("out", UnixClientConfig::new(&sp))
            .is_err()
    );
    let server = r
        .open_unix_server("in", UnixServerConfig::new(&sp))
        .unwrap();
    let mut c = UnixClientConfig::new(&sp);
    c.reconnect = Some(osc_channel::Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(50),
    });
    let client = r.open_unix_client("out", c).unwrap();
    r.send(client, pkt("/one"), None).unwrap();
    assert_eq!(collect(&mut r, 1)[0].name, "in/1");
    // The server goes and comes back: the client connects again.
    r.close(server).unwrap();
    settle(&mut r, Duration::from_millis(50));
    r.open_unix_server("in", UnixServerConfig::new(&sp))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while got.is_empty() && Instant::now() < deadline {
        let _ = r.send(client, pkt("/two"), None);
        got = settle(&mut r, Duration::from_millis(30));
    }
    assert_eq!(got[0].name, "in/1");
    assert_eq!(got[0].data, pkt("/two").to_vec());
}

#[test]
fn liblo_oscsend_reaches_our_datagram_server() {
    if !liblo() {
        return;
    }
    let dir = TempDir::new("liblo-in");
    let sp = dir.path("in");
    let mut r = Reactor::new().unwrap();
    r.open_unix_datagram("in", UnixDatagramConfig::server(&sp))
        .unwrap();
    let status = Command::new("oscsend")
        .args([&format!("osc.unix://{}", sp.display()), "/a", "i", "1"])
        .status()
        .unwrap();
    assert!(status.success());
    let got = collect_paths(&mut r, 1);
    assert_eq!(got.len(), 1);
    // oscsend sends from an unbound socket: it cannot be answered.
    assert_eq!(got[0].1, None);
    assert_eq!(
        Packet::decode(&got[0].2).unwrap(),
        Packet::from(Message::new("/a").arg(1))
    );
}

#[test]
fn our_client_reaches_liblo_oscdump() {
    if !liblo() {
        return;
    }
    let dir = TempDir::new("liblo-out");
    let sp = dir.path("dump");
    let mut dump = Reaped(
        Command::new("oscdump")
            .args(["-L", &format!("osc.unix://{}", sp.display())])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let out = dump.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut r = Reactor::new().unwrap();
    let cli = r
        .open_unix_datagram("out", UnixDatagramConfig::client(&sp))
        .unwrap();
    let msg = Packet::from(Message::new("/osc4rs/unix").arg(5).arg("x y"));
    let bytes: Arc<[u8]> = Arc::from(msg.to_bytes().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        assert!(Instant::now() < deadline, "oscdump printed nothing");
        // Until oscdump has bound its socket, sends fail (nobody there): retried.
        let _ = r.send(cli, Arc::clone(&bytes), None);
        settle(&mut r, Duration::from_millis(50));
        if let Ok(line) = rx.try_recv() {
            break line;
        }
    };
    assert!(
        line.trim_end().ends_with("/osc4rs/unix is 5 \"x y\""),
        "{line}"
    );
}

#[test]
fn a_handle_replies_to_a_datagram_path_from_another_thread() {
    let dir = TempDir::new("handle");
    let (sp, cp) = (dir.path("server"), dir.path("client"));
    let mut r = Reactor::new().unwrap();
    let server = r
        .open_unix_datagram("in", UnixDatagramConfig::server(&sp))
        .unwrap();
    let handle = r.handle();
    let raw = std::os::unix::net::UnixDatagram::bind(&cp).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let thread = std::thread::spawn(move || {
        r.run(|_| {}).unwrap();
        r
    });
    handle
        .send_to_path(server, pkt("/from/thread"), &cp)
        .unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = raw.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], &pkt("/from/thread")[..]);
    assert_eq!(from.as_pathname(), Some(sp.as_path()));
    // A path nobody binds: dropped in the reactor, counted.
    handle
        .send_to_path(server, pkt("/nobody"), &dir.path("none"))
        .unwrap();
    assert!(handle.flush(Duration::from_secs(2)).unwrap());
    handle.stop().unwrap();
    let r = thread.join().unwrap();
    assert_eq!(
        r.stats(server)
            .unwrap()
            .snapshot()
            .drops(DropReason::SendFailed),
        1
    );
}

#[test]
fn unix_stream_servers_apply_the_tcp_server_limits() {
    let dir = TempDir::new("limits");
    let sp = dir.path("s");
    let mut r = Reactor::new().unwrap();
    let mut cfg = UnixServerConfig::new(&sp);
    cfg.max_connections = 1;
    cfg.first_packet_timeout = Some(Duration::from_millis(100));
    let server = r.open_unix_server("in", cfg).unwrap();
    // Silent past the first-packet timeout: closed, counted on the server.
    let _quiet = std::os::unix::net::UnixStream::connect(&sp).unwrap();
    settle(&mut r, Duration::from_millis(300));
    let stats = r.stats(server).unwrap();
    assert_eq!(stats.snapshot().drops(DropReason::TimedOut), 1);
    assert!(r.connections(server).is_empty());
    // Full with an active connection: a newcomer is turned away.
    let mut active = std::os::unix::net::UnixStream::connect(&sp).unwrap();
    let p = pkt("/active");
    active.write_all(&(p.len() as u32).to_be_bytes()).unwrap();
    active.write_all(&p).unwrap();
    assert_eq!(collect(&mut r, 1)[0].name, "in/2");
    let _late = std::os::unix::net::UnixStream::connect(&sp).unwrap();
    settle(&mut r, Duration::from_millis(50));
    assert_eq!(stats.snapshot().drops(DropReason::TooManyConnections), 1);
    assert_eq!(r.connections(server).len(), 1);
}
