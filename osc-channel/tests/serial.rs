//! Serial channels on pseudo-terminal pairs (the `serialport` crate's `TTYPort::pair`
//! stands in for a board on a USB cable): SLIP frames both ways with one or two END
//! bytes, frames split across writes, bad input (bad escapes, oversized frames) that
//! never stops the channel, exclusive opening, and the device going away and coming
//! back behind a symbolic link, as a USB cable pulled and plugged in again.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{collect, pkt, recorder, settle};
use osc_channel::{
    Backoff, ChannelError, ChannelSpec, DropReason, Endpoint, Reactor, SerialConfig, StreamLimits,
};
use serialport::{SerialPort, TTYPort};

/// The tests of this file, one at a time: pseudo-terminal numbers are reused as soon
/// as a pair closes, and a test that reopens a device after a replug must never meet
/// another test's new terminal under the same number (seen under load as "Unable to
/// acquire exclusive lock" and pyserial's "multiple access on port").
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const END: u8 = 0xC0;
const ESC: u8 = 0xDB;

/// A pseudo-terminal pair: the board's end (the master) and the device path the
/// channel opens.
fn board() -> (TTYPort, PathBuf) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_secs(5)).unwrap();
    let path = PathBuf::from(slave.name().unwrap());
    drop(slave);
    (master, path)
}

/// `packet` as OSC 1.1 SLIP with END at both ends (or only at the end).
fn slip(packet: &[u8], leading_end: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if leading_end {
        out.push(END);
    }
    for &b in packet {
        match b {
            END => out.extend([ESC, 0xDC]),
            ESC => out.extend([ESC, 0xDD]),
            _ => out.push(b),
        }
    }
    out.push(END);
    out
}

/// Reads SLIP frames from the board's end until `want` packets came (empty frames
/// between two END bytes are skipped).
fn read_frames(board: &mut TTYPort, want: usize) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut cur = Vec::new();
    let mut esc = false;
    let mut byte = [0u8; 1];
    while frames.len() < want {
        board.read_exact(&mut byte).unwrap();
        match (esc, byte[0]) {
            (false, END) if cur.is_empty() => {}
            (false, END) => frames.push(std::mem::take(&mut cur)),
            (false, ESC) => esc = true,
            (false, b) => cur.push(b),
            (true, 0xDC) => (cur.push(END), esc = false).1,
            (true, 0xDD) => (cur.push(ESC), esc = false).1,
            (true, b) => panic!("bad escape {b:#x} from the channel"),
        }
    }
    frames
}

/// A packet whose bytes include END and ESC, so that escaping is exercised.
fn tricky() -> Vec<u8> {
    let msg = osc_codec::Message::new("/blob").arg(osc_codec::Value::Blob(vec![END, ESC, 1, END]));
    osc_codec::Packet::from(msg).to_bytes().unwrap()
}

#[test]
fn frames_with_one_or_two_end_bytes_arrive_and_sends_are_slip_framed() {
    let _serial = one_at_a_time();
    let (mut board, device) = board();
    let mut r = Reactor::new().unwrap();
    let id = r.open_serial("board", SerialConfig::new(&device)).unwrap();
    let a = pkt("/a");
    let b = tricky();
    let mut bytes = slip(&a, true); // CNMAT's SLIPEncodedSerial: END packet END
    bytes.extend(slip(&b, false)); // END at the end only
    bytes.extend(slip(&a, true));
    board.write_all(&bytes).unwrap();
    let got = collect(&mut r, 3);
    let data: Vec<&[u8]> = got.iter().map(|g| g.data.as_slice()).collect();
    assert_eq!(data, [&a[..], &b[..], &a[..]]);
    assert!(got.iter().all(|g| g.name == "board" && g.peer.is_none()));

    r.send(id, Arc::from(b.clone()), None).unwrap();
    r.send(id, a.clone(), None).unwrap();
    let _ = settle(&mut r, Duration::from_millis(50));
    assert_eq!(read_frames(&mut board, 2), [b, a.to_vec()]);
    let stats = r.stats(id).unwrap().snapshot();
    assert_eq!((stats.packets_in, stats.packets_out), (3, 2));
}

#[test]
fn a_frame_split_at_every_byte_arrives_whole() {
    let _serial = one_at_a_time();
    let (mut board, device) = board();
    let mut r = Reactor::new().unwrap();
    r.open_serial("board", SerialConfig::new(&device)).unwrap();
    let b = tricky();
    let mut got = Vec::new();
    for byte in slip(&b, true) {
        board.write_all(&[byte]).unwrap();
        got.extend(settle(&mut r, Duration::from_millis(2)));
    }
    got.extend(settle(&mut r, Duration::from_millis(50)));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, b);
}

#[test]
fn bad_escapes_and_oversized_frames_cost_only_their_frame() {
    let _serial = one_at_a_time();
    let (mut board, device) = board();
    let mut r = Reactor::new().unwrap();
    let mut cfg = SerialConfig::new(&device);
    cfg.limits = StreamLimits {
        max_packet_size: 64,
        ..StreamLimits::default()
    };
    let (events, log) = recorder(false);
    cfg.events = Some(events);
    let id = r.open_serial("board", cfg).unwrap();
    let good = pkt("/good");
    // ESC then neither 0xDC nor 0xDD: RFC 1055 keeps the byte; the frame is not an
    // OSC packet, which the codec refuses further up, and the channel goes on.
    let mut bytes = vec![END, b'/', b'x', ESC, b'Q', END];
    bytes.extend(slip(&good, true));
    bytes.extend(slip(&[7u8; 500], true)); // beyond the 64-byte limit
    bytes.extend(slip(&good, true));
    board.write_all(&bytes).unwrap();
    let got = collect(&mut r, 3);
    let _ = settle(&mut r, Duration::from_millis(50));
    let data: Vec<&[u8]> = got.iter().map(|g| g.data.as_slice()).collect();
    assert_eq!(data, [&b"/xQ"[..], &good[..], &good[..]]);
    let stats = r.stats(id).unwrap().snapshot();
    assert_eq!(stats.drops(DropReason::Oversized), 1);
    assert!(
        log.lock()
            .unwrap()
            .iter()
            .any(|l| l == "board: dropped (oversized)"),
        "{:?}",
        log.lock().unwrap()
    );
    // A device is not a peer to hang up on: the channel is still open and serving.
    assert_eq!(r.id_of("board"), Some(id));
    r.send(id, good.clone(), None).unwrap();
    let _ = settle(&mut r, Duration::from_millis(20));
    assert_eq!(read_frames(&mut board, 1), [good.to_vec()]);
}

#[test]
fn the_device_is_opened_exclusively_and_a_missing_one_is_an_error() {
    let _serial = one_at_a_time();
    let (_board, device) = board();
    let mut r = Reactor::new().unwrap();
    r.open_serial("one", SerialConfig::new(&device)).unwrap();
    let second = r.open_serial("two", SerialConfig::new(&device));
    assert!(second.is_err(), "a second opener must be refused");
    let missing = r.open_serial("gone", SerialConfig::new("/dev/osc4rs-no-such-device"));
    assert!(
        matches!(&missing, Err(ChannelError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound),
        "{missing:?}"
    );
}

#[test]
fn an_endpoint_url_opens_a_serial_channel() {
    let _serial = one_at_a_time();
    let (mut board, device) = board();
    let url = format!("serial://{}?baud=57600", device.display());
    let spec = url.parse::<Endpoint>().unwrap().client_spec().unwrap();
    assert!(matches!(&spec, ChannelSpec::Serial(c) if c.baud == 57_600));
    let mut r = Reactor::new().unwrap();
    r.open("board", spec).unwrap();
    board.write_all(&slip(&pkt("/url"), true)).unwrap();
    assert_eq!(collect(&mut r, 1)[0].data, pkt("/url").to_vec());
}

/// A symbolic link to the current pseudo-terminal: what udev's `/dev/serial/by-id`
/// links and socat's `link=` give, and what survives a cable pulled and plugged in.
struct Link(PathBuf);

impl Link {
    fn new(test: &str) -> Self {
        let path = std::env::temp_dir().join(format!("osc-serial-{}-{test}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Link(path)
    }

    fn point_to(&self, device: &std::path::Path) {
        let tmp = self.0.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(device, &tmp).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A reactor with a serial channel `board` on `device` that reopens it quickly, and
/// the log of its events.
fn reopening(
    device: &std::path::Path,
) -> (Reactor, osc_channel::ChannelId, Arc<Mutex<Vec<String>>>) {
    let mut r = Reactor::new().unwrap();
    let mut cfg = SerialConfig::new(device);
    cfg.reconnect = Some(Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
    });
    let (events, log) = recorder(false);
    cfg.events = Some(events);
    let id = r.open_serial("board", cfg).unwrap();
    (r, id, log)
}

#[test]
fn a_device_that_goes_away_is_reopened_when_it_comes_back() {
    let _serial = one_at_a_time();
    let link = Link::new("replug");
    let (mut board, device) = self::board();
    link.point_to(&device);
    let (mut r, id, log) = reopening(&link.0);
    board.write_all(&slip(&pkt("/before"), true)).unwrap();
    assert_eq!(collect(&mut r, 1)[0].data, pkt("/before").to_vec());

    // The cable is pulled: the board's end closes and the link dangles.
    drop(board);
    std::fs::remove_file(&link.0).unwrap();
    let closed = |log: &Arc<Mutex<Vec<String>>>| {
        log.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("board: closed"))
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !closed(&log) && Instant::now() < deadline {
        let _ = settle(&mut r, Duration::from_millis(20));
    }
    assert!(closed(&log), "{:?}", log.lock().unwrap());
    assert!(matches!(
        r.send(id, pkt("/lost"), None),
        Err(ChannelError::NotWritable(..))
    ));
    let _ = settle(&mut r, Duration::from_millis(150)); // reopen attempts fail meanwhile

    // Plugged in again (a new pseudo-terminal behind the same link).
    let (mut board, device) = self::board();
    link.point_to(&device);
    let deadline = Instant::now() + Duration::from_secs(5);
    let opened = |log: &Arc<Mutex<Vec<String>>>| {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("board: opened"))
            .count()
    };
    while opened(&log) < 2 && Instant::now() < deadline {
        let _ = settle(&mut r, Duration::from_millis(20));
    }
    assert_eq!(opened(&log), 2, "{:?}", log.lock().unwrap());
    board.write_all(&slip(&pkt("/after"), true)).unwrap();
    assert_eq!(collect(&mut r, 1)[0].data, pkt("/after").to_vec());
    r.send(id, pkt("/back"), None).unwrap();
    let _ = settle(&mut r, Duration::from_millis(20));
    assert_eq!(read_frames(&mut board, 1), [pkt("/back").to_vec()]);
}

/// python-osc's SLIP encoder on pyserial at the far end of a socat cable: a message
/// both ways, then the cable pulled (socat killed) and plugged in again (a new socat
/// with the same links), and a message both ways again.
#[test]
fn a_pyserial_board_on_a_socat_cable_both_ways_and_after_a_replug() {
    let _serial = one_at_a_time();
    let Some(py) = osc_test_support::python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("osc-serial-{}-socat", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (host_end, board_end) = (dir.join("host"), dir.join("board"));
    let Some(cable) = osc_test_support::socat_cable(&host_end, &board_end) else {
        return;
    };
    let (mut r, id, log) = reopening(&host_end);

    let exchange = |r: &mut Reactor, n: i32| {
        let board = std::process::Command::new(&py)
            .arg(osc_test_support::peer_script())
            .args(["serial", board_end.to_str().unwrap(), "/board/hello"])
            .args([n.to_string(), "0.5".into(), "x y".into()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let got = collect(r, 1);
        assert_eq!(got.len(), 1, "{:?}", log.lock().unwrap());
        let packet = osc_codec::decode(&got[0].data).unwrap();
        assert_eq!(
            packet.to_string(),
            format!("/board/hello ,ifs {n} 0.5 \"x y\""),
            "as our text notation"
        );
        let reply = osc_codec::Message::new("/host/ack").arg(n).arg("ok");
        let bytes = osc_codec::Packet::from(reply).to_bytes().unwrap();
        r.send(id, Arc::from(bytes), None).unwrap();
        let _ = settle(r, Duration::from_millis(20));
        let out = board.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("/host/ack {n} 'ok'")
        );
    };
    exchange(&mut r, 1);

    drop(cable); // the cable is pulled
    let deadline = Instant::now() + Duration::from_secs(5);
    while !log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("board: closed"))
    {
        assert!(Instant::now() < deadline, "{:?}", log.lock().unwrap());
        let _ = settle(&mut r, Duration::from_millis(20));
    }
    let _cable = osc_test_support::socat_cable(&host_end, &board_end).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let reopened = |log: &Arc<Mutex<Vec<String>>>| {
        let log = log.lock().unwrap();
        log.iter().filter(|l| l.contains("board: opened")).count() == 2
    };
    while !reopened(&log) {
        assert!(Instant::now() < deadline, "{:?}", log.lock().unwrap());
        let _ = settle(&mut r, Duration::from_millis(20));
    }
    exchange(&mut r, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
