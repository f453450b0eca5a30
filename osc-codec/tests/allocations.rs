//! A counting global allocator proves the zero-copy paths allocate nothing, and that
//! decoding hostile bytes allocates no more than a small multiple of the input size.

// Test helpers may panic: a failed expectation is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use osc_codec::framing::{LengthDecoder, SlipDecoder};
use osc_codec::{
    ArgRef, Bundle, Message, MessageScratch, Options, Packet, PacketRef, TimeTag, decode,
};
use osc_test_support::counting::{
    CountingAllocator, allocations_here, live_bytes_here, peak_bytes_here, reset_peak_here,
};

// The suites' shared allocator, counted per thread (tests run on several threads).
#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = allocations_here();
    let out = f();
    (allocations_here() - before, out)
}

/// Runs `f` and returns the peak of extra live bytes on this thread.
fn peak_bytes<T>(f: impl FnOnce() -> T) -> usize {
    let base = live_bytes_here();
    reset_peak_here();
    let out = f();
    drop(out);
    peak_bytes_here() - base
}

fn typical() -> Packet {
    Message::new("/synth/1/freq")
        .arg(440)
        .arg(0.5f32)
        .arg("sine")
        .arg(vec![1u8, 2, 3])
        .into()
}

#[test]
fn borrowed_decode_of_a_message_allocates_nothing() {
    let bytes = typical().to_bytes().expect("encodes");
    let (n, sum) = allocations(|| {
        let Ok(PacketRef::Message(m)) = decode(&bytes) else {
            return 0;
        };
        m.args().filter_map(|a| a.as_i32()).sum::<i32>() + m.address().len() as i32
    });
    assert_eq!(sum, 440 + 13);
    assert_eq!(n, 0);
}

#[test]
fn borrowed_decode_of_a_bundle_allocates_nothing() {
    let bundle: Packet = Bundle::new(TimeTag::new(1, 0))
        .add(typical())
        .add(Bundle::immediate().add(typical()))
        .into();
    let bytes = bundle.to_bytes().expect("encodes");
    let (n, count) = allocations(|| {
        fn walk(p: PacketRef<'_>) -> usize {
            match p {
                PacketRef::Message(m) => m.args().filter(|a| *a != ArgRef::Nil).count(),
                PacketRef::Bundle(b) => b.elements().map(walk).sum(),
            }
        }
        decode(&bytes).map(walk).unwrap_or(0)
    });
    assert_eq!(count, 8);
    assert_eq!(n, 0);
}

#[test]
fn a_kept_message_list_allocates_nothing_after_its_first_packet() {
    let bundle: Packet = Bundle::new(TimeTag::new(1, 0))
        .add(typical())
        .add(Bundle::immediate().add(typical()))
        .into();
    let bytes = bundle.to_bytes().expect("encodes");
    let mut scratch = MessageScratch::new();
    let count = |scratch: &mut MessageScratch, buffer: &[u8]| {
        scratch
            .decode(buffer, &Options::DEFAULT, |_, messages| {
                messages.iter().map(|m| m.args().count()).sum::<usize>()
            })
            .unwrap()
    };
    // The first packet grows the list; the next ones, read into the same buffer, reuse it.
    let mut buffer = bytes.clone();
    assert_eq!(count(&mut scratch, &buffer), 8);
    for _ in 0..3 {
        buffer.copy_from_slice(&bytes);
        let (n, read) = allocations(|| count(&mut scratch, &buffer));
        assert_eq!((n, read), (0, 8));
    }
}

#[test]
fn encoding_into_a_reused_buffer_allocates_nothing() {
    let p = typical();
    let mut buf = [0u8; 256];
    let mut vec = Vec::with_capacity(256);
    let (n, _) = allocations(|| {
        for _ in 0..100 {
            let _ = p.encode_into(&mut buf);
            vec.clear();
            let _ = p.encode_to_vec(&mut vec, &Options::DEFAULT);
        }
    });
    assert_eq!(n, 0);
    let mut flat = [0u8; 64];
    let (n, written) = allocations(|| {
        osc_codec::encode_message_into(
            "/a",
            &[ArgRef::Int(1), ArgRef::Str("x")],
            &mut flat,
            &Options::DEFAULT,
        )
    });
    assert_eq!((n, written), (0, Ok(16)));
}

#[test]
fn deframers_allocate_only_for_backed_bytes() {
    // A header announcing 16 MiB backed by 8 bytes buffers 8 bytes, not 16 MiB.
    let mut dec = LengthDecoder::new(32 << 20);
    let mut input: &[u8] = &[0x01, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    let peak = peak_bytes(|| dec.decode(&mut input).map(|p| p.map(<[u8]>::len)));
    assert!(peak < 1024, "peak {peak}");
    let mut slip = SlipDecoder::new(1 << 20);
    let mut input: &[u8] = &[b'/'; 100];
    let peak = peak_bytes(|| slip.decode(&mut input).map(|p| p.map(<[u8]>::len)));
    assert!(peak < 1024, "peak {peak}");
}

#[test]
fn hostile_bytes_allocate_within_a_bound() {
    // Deterministic pseudo-random inputs, plus packets with huge counts in small space.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut worst = 0.0f64;
    for round in 0..2000 {
        let len = 4 * (1 + (next() % 64) as usize);
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 {
            // Make it look like a message so the decoder goes deep.
            bytes[0] = b'/';
            bytes[1] = 0;
            bytes[2] = 0;
            bytes[3] = 0;
        }
        let peak = peak_bytes(|| Packet::decode(&bytes));
        worst = worst.max(peak as f64 / bytes.len() as f64);
    }
    // 6,000 nil arguments in a 6 KB message: owned values are 32 bytes each.
    let mut many = b"/n\0\0,".to_vec();
    many.extend(std::iter::repeat_n(b'N', 6000));
    many.extend_from_slice(&[0; 4]);
    many.truncate(many.len() & !3);
    let peak = peak_bytes(|| Packet::decode(&many).map(|p| p.encoded_len()));
    let ratio = peak as f64 / many.len() as f64;
    assert!(ratio <= 64.0, "nil flood ratio {ratio}");
    assert!(worst <= 64.0, "random input ratio {worst}");
}
