//! osc-codec against rosc, side by side in one run, on four packets: a typical message,
//! a message of 16 floats, a bundle of 10 such messages, and a message with a 1 KiB blob.
//!
//! `cargo bench -p osc4rs-benches --bench codec`; `scripts/bench-table.py codec` turns the
//! results into the table in docs/performance-summary.md.

// Bench harness code: criterion's macros generate undocumented items, and a setup that
// fails should stop the run loudly.
#![allow(missing_docs, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use osc_codec::{Options, Packet, PacketRef, Value, decode};
use osc4rs_benches::reading::{self, read_all};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};

/// A packet of the shared cases, with rosc's form of it.
struct Case {
    name: &'static str,
    ours: Packet,
    theirs: OscPacket,
    typed: fn(&PacketRef<'_>) -> u64,
}

fn cases() -> Vec<Case> {
    reading::cases()
        .into_iter()
        .map(|c| Case {
            name: c.name,
            theirs: to_rosc(&c.packet),
            ours: c.packet,
            typed: c.typed,
        })
        .collect()
}

/// rosc's form of a packet of the cases (ints, floats, strings and blobs).
fn to_rosc(p: &Packet) -> OscPacket {
    match p {
        Packet::Message(m) => OscPacket::Message(OscMessage {
            addr: m.address.clone(),
            args: m
                .args
                .iter()
                .map(|v| match v {
                    Value::Int(i) => OscType::Int(*i),
                    Value::Float(f) => OscType::Float(*f),
                    Value::String(s) => OscType::String(s.clone()),
                    Value::Blob(b) => OscType::Blob(b.clone()),
                    other => panic!("no rosc form for {other:?} in the bench"),
                })
                .collect(),
        }),
        Packet::Bundle(b) => OscPacket::Bundle(OscBundle {
            timetag: OscTime {
                seconds: b.timetag.seconds,
                fractional: b.timetag.fraction,
            },
            content: b.content.iter().map(to_rosc).collect(),
        }),
    }
}

/// Reads every argument, each whole `ArgRef` through `black_box` (an upper bound: it
/// makes the compiler build every enum in memory, which a handler's match avoids).
fn read_all_opaque(p: &PacketRef<'_>) -> usize {
    match p {
        PacketRef::Message(m) => m.args().map(black_box).count(),
        PacketRef::Bundle(b) => b.elements().map(|e| read_all_opaque(&e)).sum(),
    }
}

fn bench_codec(c: &mut Criterion) {
    for case in cases() {
        let bytes = case.ours.to_bytes().expect("encodes");
        let rosc_bytes = rosc::encoder::encode(&case.theirs).expect("rosc encodes");
        assert_eq!(
            bytes, rosc_bytes,
            "both libraries must produce the same bytes"
        );

        let mut g = c.benchmark_group(case.name);
        g.bench_function("osc4rs_decode_borrowed", |b| {
            b.iter(|| decode(black_box(&bytes)).as_ref().map(black_box).is_ok())
        });
        // Decoding validates everything; reading the arguments afterwards should add
        // little (issue 22: at most 30% over the decode of the view).
        g.bench_function("osc4rs_decode_read_args", |b| {
            b.iter(|| decode(black_box(&bytes)).as_ref().map_or(0, read_all))
        });
        // The same with the types known: the tags are checked once.
        let typed = case.typed;
        g.bench_function("osc4rs_decode_args_as", |b| {
            b.iter(|| decode(black_box(&bytes)).as_ref().map_or(0, typed))
        });
        let view = decode(&bytes).expect("decodes");
        assert_ne!(typed(&view), 0, "the typed read fits the packet");
        g.bench_function("osc4rs_read_args", |b| {
            b.iter(|| read_all(black_box(&view)))
        });
        g.bench_function("osc4rs_read_args_opaque", |b| {
            b.iter(|| read_all_opaque(black_box(&view)))
        });
        g.bench_function("osc4rs_decode_owned", |b| {
            b.iter(|| {
                Packet::decode(black_box(&bytes))
                    .as_ref()
                    .map(black_box)
                    .is_ok()
            })
        });
        g.bench_function("rosc_decode_udp", |b| {
            b.iter(|| {
                rosc::decoder::decode_udp(black_box(&bytes))
                    .as_ref()
                    .map(black_box)
                    .is_ok()
            })
        });

        let mut buf = vec![0u8; 4096];
        g.bench_function("osc4rs_encode_into", |b| {
            b.iter(|| black_box(&case.ours).encode_into(&mut buf).unwrap_or(0))
        });
        let mut vec_out = Vec::with_capacity(4096);
        g.bench_function("osc4rs_encode_to_vec", |b| {
            b.iter(|| {
                vec_out.clear();
                black_box(&case.ours)
                    .encode_to_vec(&mut vec_out, &Options::DEFAULT)
                    .unwrap_or(0)
            })
        });
        let mut rosc_out: Vec<u8> = Vec::with_capacity(4096);
        g.bench_function("rosc_encode_into", |b| {
            b.iter(|| {
                rosc_out.clear();
                rosc::encoder::encode_into(black_box(&case.theirs), &mut rosc_out).unwrap_or(0)
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench_codec);
criterion_main!(benches);
