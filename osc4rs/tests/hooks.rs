//! Per-channel encode/decode hooks (osc4py3's encodepacket/decodepacket handlers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

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
                // Run bundles at once, whatever their timetags.
                options: PacketOptions {
                    honor_timetag: Some(false),
                    ..PacketOptions::default()
                },
                ..Decoded::default()
            },
            None => Decoded {
                drop: true,
                ..Decoded::default()
            },
        })),
    }
}

#[test]
fn hooks_transform_bytes_and_set_packet_options() {
    let osc = Osc::builder().mode(Mode::EventLoop).start().unwrap();
    osc.udp_server("in", "127.0.0.1:0").unwrap();
    let port = osc.local_addr("in").unwrap().port();
    osc.udp_client("out", ("127.0.0.1", port)).unwrap();
    osc.set_hooks("in", Some(trailer_hooks()));
    osc.set_hooks("out", Some(trailer_hooks()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    osc.method("/h/*", move |m: &Message| {
        s.lock().unwrap().push(m.address.clone())
    })
    .unwrap();

    // Unsigned bytes are dropped by the decode hook.
    let raw = UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.send_to(
        &osc4rs::Packet::from(Message::new("/h/unsigned"))
            .to_bytes()
            .unwrap(),
        ("127.0.0.1", port),
    )
    .unwrap();
    // Signed by the encode hook; a bundle an hour ahead runs at once.
    let later =
        Bundle::new(TimeTag::now() + Duration::from_secs(3600)).add(Message::new("/h/signed"));
    osc.send(later, "out").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(10)).unwrap();
    }
    osc.process_timeout(Duration::from_millis(50)).unwrap();
    assert_eq!(*seen.lock().unwrap(), ["/h/signed"]);
    assert_eq!(
        osc.stats()
            .hook_dropped
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    osc.terminate().unwrap();
}
