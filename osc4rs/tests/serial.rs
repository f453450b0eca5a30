//! Serial channels through the facade, in every mode: a board (one end of a
//! pseudo-terminal pair) sends a SLIP-framed request and the handler's reply comes
//! back to it; the same through a `serial://` endpoint URL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use osc4rs::{Context, Handler, Message, Mode, Osc, Packet};
use serialport::{SerialPort, TTYPort};

/// `packet` between two END bytes (it has no END or ESC byte to escape).
fn framed(packet: &[u8]) -> Vec<u8> {
    assert!(!packet.iter().any(|b| *b == 0xC0 || *b == 0xDB));
    let mut out = vec![0xC0];
    out.extend_from_slice(packet);
    out.push(0xC0);
    out
}

#[test]
fn a_board_request_is_answered_on_the_serial_line_in_every_mode() {
    for (i, mode) in Mode::ALL.into_iter().enumerate() {
        let (mut board, tty) = TTYPort::pair().unwrap();
        board.set_timeout(Duration::from_secs(5)).unwrap();
        let device = tty.name().unwrap();
        drop(tty);
        let osc = Osc::builder().mode(mode).start().unwrap();
        if i % 2 == 0 {
            osc.serial("board", &device, 115_200).unwrap();
        } else {
            osc.endpoint("board", &format!("serial://{device}?baud=9600"), false)
                .unwrap();
        }
        let h = osc.handle();
        osc.method(
            "/sensor",
            Handler::with_context(move |m: &Message, ctx: &Context| {
                assert_eq!(ctx.channel.as_deref(), Some("board"));
                let v = m.args[0].as_f32().unwrap();
                h.reply(ctx, Message::new("/led").arg(v > 0.5)).unwrap();
            }),
        )
        .unwrap();
        let request = Packet::from(Message::new("/sensor").arg(0.75f32))
            .to_bytes()
            .unwrap();
        board.write_all(&framed(&request)).unwrap();
        let want = framed(
            &Packet::from(Message::new("/led").arg(true))
                .to_bytes()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while got.len() < want.len() && Instant::now() < deadline {
            osc.process_timeout(Duration::from_millis(5)).unwrap();
            board.set_timeout(Duration::from_millis(1)).unwrap();
            while got.len() < want.len() && board.read(&mut byte).unwrap_or(0) == 1 {
                got.push(byte[0]);
            }
        }
        assert_eq!(got, want, "{mode:?}");
        osc.terminate().unwrap();
    }
}
