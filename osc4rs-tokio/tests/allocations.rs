//! Zero allocations per received message on the borrowed UDP path (`OscSocket::recv`
//! into a reused buffer), in steady state, counted by a counting global allocator.
//!
//! A `GlobalAlloc` cannot be implemented without `unsafe`; this test binary, like
//! osc-codec's `tests/allocations.rs`, is the one place that needs it (the library
//! forbids unsafe code).
#![allow(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use osc_codec::{ArgRef, Message, PacketRef};
use osc4rs_tokio::{MAX_DATAGRAM, OscSocket};

/// Counts allocations per thread (the runtime is current-thread: the receive runs here).
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

#[test]
fn borrowed_udp_receive_allocates_nothing_per_message() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = OscSocket::bind("127.0.0.1:0").await.unwrap();
        let to = socket.local_addr().unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let bytes = Message::new("/synth/1/freq")
            .arg(440.0f32)
            .arg(7)
            .arg("sine")
            .to_bytes()
            .unwrap();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        const BATCH: usize = 64;
        const ROUNDS: usize = 40;
        const WARM_UP: usize = 4;
        let mut counted = 0usize;
        let mut received = 0usize;
        let mut sum = 0i64;
        for round in 0..ROUNDS {
            for _ in 0..BATCH {
                sender.send_to(&bytes, to).unwrap();
            }
            let before = allocs();
            for _ in 0..BATCH {
                let (packet, _) = socket.recv(&mut buf).await.unwrap();
                let PacketRef::Message(m) = packet else {
                    panic!("a message")
                };
                if let Some(ArgRef::Int(i)) = m.args().nth(1) {
                    sum += i64::from(i);
                }
                received += 1;
            }
            // The first rounds warm up: tokio's registration, and the first time the
            // coop budget (128 operations) makes the task yield, the scheduler's run
            // queue gets its buffer (one allocation, at message 129 or so).
            if round >= WARM_UP {
                counted += allocs() - before;
            }
        }
        assert_eq!(received, ROUNDS * BATCH);
        assert_eq!(sum, 7 * (ROUNDS * BATCH) as i64);
        assert_eq!(
            counted,
            0,
            "allocations over {} received messages",
            (ROUNDS - WARM_UP) * BATCH
        );
    });
}

/// The same for `recv_batch`: a reused `RecvBatch`, many datagrams per system call.
#[cfg(target_os = "linux")]
#[test]
fn batched_udp_receive_allocates_nothing_per_message() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let socket = OscSocket::bind("127.0.0.1:0").await.unwrap();
        let to = socket.local_addr().unwrap();
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let bytes = Message::new("/synth/1/freq")
            .arg(440.0f32)
            .arg(7)
            .to_bytes()
            .unwrap();
        let mut batch = osc4rs_tokio::RecvBatch::new(16);
        const BURST: usize = 64;
        const ROUNDS: usize = 40;
        const WARM_UP: usize = 4;
        let (mut counted, mut received, mut calls) = (0usize, 0usize, 0usize);
        for round in 0..ROUNDS {
            for _ in 0..BURST {
                sender.send_to(&bytes, to).unwrap();
            }
            let before = allocs();
            let mut got = 0;
            while got < BURST {
                calls += 1;
                for item in socket.recv_batch(&mut batch).await.unwrap() {
                    let (packet, _) = item.unwrap();
                    assert!(matches!(packet, PacketRef::Message(_)));
                    got += 1;
                }
            }
            received += got;
            if round >= WARM_UP {
                counted += allocs() - before;
            }
        }
        assert_eq!(received, ROUNDS * BURST);
        assert!(
            calls < received,
            "{calls} calls for {received} datagrams: no batching"
        );
        assert_eq!(counted, 0, "allocations over batched receives");
    });
}
