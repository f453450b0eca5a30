//! Packets shared by the osc4rs-tokio test suites.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use osc_codec::{Bundle, Message, Midi, Packet, Rgba, TimeTag, Value};

/// A message with every type tag (`i f s b h t d S c r m T F N I [ ]`).
pub(crate) fn every_type_message() -> Message {
    every_type_message_at("/every/type")
}

/// The same at another address.
pub(crate) fn every_type_message_at(address: &str) -> Message {
    Message::new(address)
        .arg(Value::Int(-42))
        .arg(Value::Float(0.5))
        .arg(Value::String("text".into()))
        .arg(Value::Blob(vec![1, 2, 3, 0xc0, 0xdb]))
        .arg(Value::Long(-1 << 40))
        .arg(Value::TimeTag(TimeTag::new(3_900_000_000, 7)))
        .arg(Value::Double(2.25))
        .arg(Value::Symbol("sym".into()))
        .arg(Value::Char('x'))
        .arg(Value::Rgba(Rgba {
            r: 1,
            g: 2,
            b: 3,
            a: 4,
        }))
        .arg(Value::Midi(Midi {
            port: 0,
            status: 0x90,
            data1: 60,
            data2: 127,
        }))
        .arg(Value::Bool(true))
        .arg(Value::Bool(false))
        .arg(Value::Nil)
        .arg(Value::Inf)
        .arg(Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![Value::String("in".into())]),
        ]))
}

/// Every type, as a message and inside nested bundles.
pub(crate) fn every_type_packets() -> Vec<Packet> {
    let m = every_type_message();
    vec![
        Packet::from(m.clone()),
        Packet::from(Message::new("/empty")),
        Packet::from(
            Bundle::new(TimeTag::IMMEDIATELY).add(m.clone()).add(
                Bundle::new(TimeTag::new(3_900_000_001, 0)).add(Message::new("/inner").arg(1)),
            ),
        ),
    ]
}
