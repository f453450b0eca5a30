//! osc-codec against rosc, side by side in one run, on four packets: a typical message,
//! a message of 16 floats, a bundle of 10 such messages, and a message with a 1 KiB blob.
//!
//! `cargo bench -p osc4rs-benches --bench codec`; `scripts/bench-table.py codec` turns the
//! results into the table in docs/performance-summary.md.

// Bench harness code: criterion's macros generate undocumented items, and a setup that
// fails should stop the run loudly.
#![allow(missing_docs, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use osc_codec::{ArgRef, Bundle, Message, Options, Packet, PacketRef, TimeTag, decode};
use rosc::{OscBundle, OscMessage, OscPacket, OscTime, OscType};

struct Case {
    name: &'static str,
    ours: Packet,
    theirs: OscPacket,
    /// Reads every argument with the types known (`MessageRef::args_as`) into a digest.
    typed: fn(&PacketRef<'_>) -> u64,
}

fn typed_ifs(p: &PacketRef<'_>) -> u64 {
    let PacketRef::Message(m) = p else { return 0 };
    m.args_as::<(i32, f32, &str)>().map_or(0, |(i, f, s)| {
        u64::from(i as u32) ^ u64::from(f.to_bits()) ^ s.as_ptr() as u64 ^ s.len() as u64
    })
}

fn typed_floats16(p: &PacketRef<'_>) -> u64 {
    match p {
        PacketRef::Message(m) => m.args_as::<[f32; 16]>().map_or(0, |fs| {
            fs.iter().fold(0, |acc, f| acc ^ u64::from(f.to_bits()))
        }),
        PacketRef::Bundle(b) => b.elements().fold(0, |acc, e| acc ^ typed_floats16(&e)),
    }
}

fn typed_blob(p: &PacketRef<'_>) -> u64 {
    let PacketRef::Message(m) = p else { return 0 };
    m.args_as::<(&[u8],)>()
        .map_or(0, |(b,)| b.as_ptr() as u64 ^ b.len() as u64)
}

fn floats_message(i: usize) -> (Message, OscMessage) {
    let values: Vec<f32> = (0..16).map(|k| (i * 16 + k) as f32 * 0.25).collect();
    let addr = format!("/mixer/channel/{i}/eq");
    let mut ours = Message::new(addr.clone());
    for &v in &values {
        ours.push(v);
    }
    let theirs = OscMessage {
        addr,
        args: values.into_iter().map(OscType::Float).collect(),
    };
    (ours, theirs)
}

fn cases() -> Vec<Case> {
    let typical = Case {
        name: "typical_ifs",
        ours: Message::new("/synth/1/freq")
            .arg(440)
            .arg(0.5f32)
            .arg("sine")
            .into(),
        theirs: OscPacket::Message(OscMessage {
            addr: "/synth/1/freq".into(),
            args: vec![
                OscType::Int(440),
                OscType::Float(0.5),
                OscType::String("sine".into()),
            ],
        }),
        typed: typed_ifs,
    };
    let (m16, r16) = floats_message(0);
    let floats16 = Case {
        name: "floats16",
        ours: m16.into(),
        theirs: OscPacket::Message(r16),
        typed: typed_floats16,
    };
    let tt = TimeTag::new(3_900_000_000, 0x8000_0000);
    let mut ours_b = Bundle::new(tt);
    let mut theirs_b = OscBundle {
        timetag: OscTime {
            seconds: tt.seconds,
            fractional: tt.fraction,
        },
        content: Vec::new(),
    };
    for i in 0..10 {
        let (m, r) = floats_message(i);
        ours_b.push(m);
        theirs_b.content.push(OscPacket::Message(r));
    }
    let bundle10 = Case {
        name: "bundle10x16f",
        ours: ours_b.into(),
        theirs: OscPacket::Bundle(theirs_b),
        typed: typed_floats16,
    };
    let blob: Vec<u8> = (0..1024).map(|i| (i % 251) as u8).collect();
    let blob1k = Case {
        name: "blob1k",
        ours: Message::new("/data/blob").arg(blob.clone()).into(),
        theirs: OscPacket::Message(OscMessage {
            addr: "/data/blob".into(),
            args: vec![OscType::Blob(blob)],
        }),
        typed: typed_blob,
    };
    vec![typical, floats16, bundle10, blob1k]
}

/// Reads every argument of a decoded view (the messages of bundles too) the way a
/// handler uses them: each argument's value goes into a digest, which is returned.
fn read_all(p: &PacketRef<'_>) -> u64 {
    match p {
        PacketRef::Message(m) => m.args().fold(0, |acc, a| acc ^ weigh(a)),
        PacketRef::Bundle(b) => b.elements().fold(0, |acc, e| acc ^ read_all(&e)),
    }
}

/// An argument's value as a number (a string or blob: where it is and how long).
fn weigh(a: ArgRef<'_>) -> u64 {
    match a {
        ArgRef::Int(i) => u64::from(i as u32),
        ArgRef::Float(f) => u64::from(f.to_bits()),
        ArgRef::Str(s) | ArgRef::Symbol(s) => s.as_ptr() as u64 ^ s.len() as u64,
        ArgRef::Blob(b) | ArgRef::RawStr(b) | ArgRef::RawSymbol(b) => {
            b.as_ptr() as u64 ^ b.len() as u64
        }
        ArgRef::Long(l) => l as u64,
        ArgRef::TimeTag(t) => t.to_bits(),
        ArgRef::Double(d) => d.to_bits(),
        ArgRef::Char(c) => u64::from(c),
        ArgRef::Rgba(c) => u64::from(c.to_u32()),
        ArgRef::Midi(m) => u64::from(m.to_u32()),
        ArgRef::Bool(b) => u64::from(b),
        _ => 1,
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
