//! The bench message; process CPU time, result lines and statistics come from the
//! shared `osc4rs_benches::measure`.

pub(crate) use osc4rs_benches::measure::{
    Fields, cpu_ns, median, nanos, num, parse_result, percentile, report,
};

/// The `i`-th bench message, osc4py3's `speedudpcli` one: `/test/here/<i> ,si "message" i`.
pub(crate) fn message(i: u32) -> osc_codec::Message {
    osc_codec::Message::new(format!("/test/here/{i}"))
        .arg("message")
        .arg(i32::try_from(i).unwrap_or(i32::MAX))
}

/// The `i`-th bench message, encoded.
pub(crate) fn message_bytes(i: u32) -> Vec<u8> {
    osc_codec::Packet::from(message(i))
        .to_bytes()
        .expect("a valid message")
}
