//! A send to one UDP channel allocates nothing, in every mode: the packet is encoded
//! into the sending thread's scratch buffer and written by that thread (`Osc::send`'s
//! direct path: the event loop's reactor, the thread modes' `UdpWriter`), with no
//! shared copy of the bytes. Counted by a
//! counting global allocator over the whole process, after a warm-up, against the
//! control of making the same arguments without sending them.
//!
//! A `GlobalAlloc` cannot be implemented without `unsafe`; like `tests/zero_alloc.rs`
//! this test binary holds its own (the library forbids unsafe code).
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicUsize, Ordering};

use osc_codec::{Message, Packet};
use osc4rs::{Mode, Osc, Target};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SENDS: usize = 2_000;
/// Sends between two drains of the receiving socket, so it never fills (a full socket
/// would make the sender queue, which allocates by design).
const BURST: usize = 50;

fn drain(sink: &UdpSocket) -> usize {
    let mut buf = [0u8; 256];
    let mut n = 0;
    while sink.recv(&mut buf).is_ok() {
        n += 1;
    }
    n
}

/// Allocations of `SENDS` sends beyond those of making their arguments, and the
/// datagrams that arrived.
fn extra_allocations_per_send(mode: Mode) -> (usize, usize) {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    sink.set_nonblocking(true).unwrap();
    let osc = Osc::builder().mode(mode).start().unwrap();
    osc.udp_client("out", sink.local_addr().unwrap()).unwrap();
    let packet = Packet::from(
        Message::new("/synth/1/freq")
            .arg(440.0f32)
            .arg(1)
            .arg("sine"),
    );
    let target = Target::from("out");
    let send_all = |count: bool| {
        let mut arrived = 0;
        let mut counted = 0;
        for burst in 0..SENDS / BURST {
            let before = ALLOCS.load(Ordering::Relaxed);
            for _ in 0..BURST {
                let (p, t) = (packet.clone(), target.clone());
                if count {
                    osc.send(p, t).unwrap();
                } else {
                    black_box((p, t));
                }
            }
            counted += ALLOCS.load(Ordering::Relaxed) - before;
            std::thread::sleep(std::time::Duration::from_micros(200 * (burst % 2) as u64));
            arrived += drain(&sink);
        }
        (counted, arrived)
    };
    send_all(true); // warm-up: the scratch buffer grows to the packet's size
    let (control, _) = send_all(false);
    let (sending, arrived) = send_all(true);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let arrived = arrived + drain(&sink);
    osc.terminate().unwrap();
    (sending.saturating_sub(control), arrived)
}

/// One test for every mode: the counter is process-wide, so they must not overlap.
#[test]
fn sends_allocate_nothing() {
    for mode in [Mode::EventLoop, Mode::CommThreads, Mode::AllThreads] {
        let (extra, arrived) = extra_allocations_per_send(mode);
        eprintln!("{mode:?}: {extra} allocations beyond the arguments' for {SENDS} sends");
        assert_eq!(
            extra, 0,
            "{mode:?}: allocations beyond the arguments' for {SENDS} sends"
        );
        assert!(
            arrived > SENDS / 2,
            "{mode:?}: {arrived} of {SENDS} arrived"
        );
    }
}
