//! Per-channel encode/decode hooks (osc4py3's encodepacket/decodepacket handlers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::{Bundle, ChannelHooks, Decoded, Message, Mode, Osc, PacketOptions, TimeTag};

fn trailer_hooks() -> ChannelHooks {
    ChannelHooks {
        encode: Some(Arc::new(|_p, mut bytes: Vec<u8>| {
            bytes.extend_from_slice(b"SIG!");
            bytes
        })),
        decode: Some(Arc::new(|bytes: &[u8]| match bytes.strip_suffix(b"SIG!") {
            Some(body) => Decoded {
                bytes: Some(body.to_vec()),
                ..Decoded::default()
            },
            None => Decoded {
                drop: true,
                ..Decoded::default()
            },
        })),
    }
}

/// Signs on the way out and checks on the way in: unsigned bytes are dropped, and a
/// bundle an hour ahead runs at once because of the per-packet options `options`.
fn scenario(mode: Mode, tcp: bool, options: PacketOptions) {
    let what = format!("{mode:?} over {}", if tcp { "TCP" } else { "UDP" });
    let osc = Osc::builder().mode(mode).start().unwrap();
    let mut hooks = trailer_hooks();
    if let Some(decode) = hooks.decode.take() {
        hooks.decode = Some(Arc::new(move |bytes: &[u8]| {
            let mut d = decode(bytes);
            d.options = options;
            d
        }));
    }
    // Hooks set before the channels open; a TCP server's apply to its connections.
    osc.set_hooks("in", Some(hooks.clone()));
    osc.set_hooks("out", Some(hooks));
    if tcp {
        osc.tcp_server("in", "127.0.0.1:0").unwrap();
        osc.tcp_client("out", osc.local_addr("in").unwrap())
            .unwrap();
    } else {
        osc.udp_server("in", "127.0.0.1:0").unwrap();
        osc.udp_client("out", osc.local_addr("in").unwrap())
            .unwrap();
    }
    let port = osc.local_addr("in").unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    osc.method("/h/*", move |m: &Message| {
        s.lock().unwrap().push(m.address.clone())
    })
    .unwrap();

    let unsigned = osc4rs::Packet::from(Message::new("/h/unsigned"))
        .to_bytes()
        .unwrap();
    // Kept open until the end, so the server reads it as a live connection.
    let _raw_tcp = if tcp {
        let mut raw = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        raw.write_all(&(unsigned.len() as u32).to_be_bytes())
            .unwrap();
        raw.write_all(&unsigned).unwrap();
        Some(raw)
    } else {
        let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
        raw.send_to(&unsigned, ("127.0.0.1", port)).unwrap();
        None
    };
    let later =
        Bundle::new(TimeTag::now() + Duration::from_secs(3600)).add(Message::new("/h/signed"));
    osc.send(later, "out").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let dropped = || osc.stats().hook_dropped;
    while (seen.lock().unwrap().is_empty() || dropped() == 0) && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(10)).unwrap();
    }
    osc.process_timeout(Duration::from_millis(50)).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["/h/signed"], "{what}");
    assert_eq!(dropped(), 1, "{what}");
    osc.terminate().unwrap();
}

#[test]
fn hooks_transform_bytes_and_set_packet_options() {
    let at_once = PacketOptions {
        honor_timetag: Some(false),
        ..PacketOptions::default()
    };
    for mode in Mode::ALL {
        scenario(mode, false, at_once);
        scenario(mode, true, at_once);
    }
}

#[test]
fn a_timetag_offset_moves_received_bundles() {
    // An hour earlier: the bundle an hour ahead is due now.
    let earlier = PacketOptions {
        timetag_offset: Some((Duration::from_secs(3600), false)),
        ..PacketOptions::default()
    };
    for mode in Mode::ALL {
        scenario(mode, false, earlier);
    }
}
