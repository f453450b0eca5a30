//! Zero allocations per received message on the borrowed UDP path (`OscSocket::recv`
//! into a reused buffer), in steady state, counted by a counting global allocator.
//!
//! The allocator is the suites' shared one (`osc_test_support::counting`), counted per
//! thread (the runtime is current-thread: the receive runs here).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use osc_codec::{ArgRef, Message, PacketRef};
use osc_test_support::counting::{CountingAllocator, allocations_here};
use osc4rs_tokio::{MAX_DATAGRAM, OscSocket};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

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
            let before = allocations_here();
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
                counted += allocations_here() - before;
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
            let before = allocations_here();
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
                counted += allocations_here() - before;
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
