//! The counting global allocator of the allocation tests: every test binary that
//! proves a path allocates nothing installs this one instead of writing its own.
//!
//! It forwards every call to the system allocator unchanged and counts: allocations
//! in the whole process (for paths that cross threads), allocations on the calling
//! thread, and the calling thread's live bytes and their peak (for tests that run on
//! several threads at once). A reallocation counts as an allocation.
//!
//! ```
//! use osc_test_support::counting::{CountingAllocator, allocations_here};
//!
//! #[global_allocator]
//! static GLOBAL: CountingAllocator = CountingAllocator;
//!
//! fn main() {
//!     let before = allocations_here();
//!     let v: Vec<u8> = Vec::with_capacity(64);
//!     assert_eq!(allocations_here() - before, 1);
//!     drop(v);
//! }
//! ```
// Implementing `GlobalAlloc` needs `unsafe`: this module is the one place of the test
// suites that does.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The counting allocator; install it with `#[global_allocator]` in a test binary.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

static EVERYWHERE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static HERE: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

/// Allocations made so far by every thread of the process.
pub fn allocations_everywhere() -> usize {
    EVERYWHERE.load(Ordering::SeqCst)
}

/// Allocations made so far by the calling thread.
pub fn allocations_here() -> usize {
    HERE.with(Cell::get)
}

/// Bytes the calling thread allocated and has not freed (what other threads free of
/// them is not seen).
pub fn live_bytes_here() -> usize {
    LIVE.with(Cell::get)
}

/// The most [`live_bytes_here`] reached since [`reset_peak_here`].
pub fn peak_bytes_here() -> usize {
    PEAK.with(Cell::get)
}

/// Starts measuring the calling thread's peak from its live bytes now.
pub fn reset_peak_here() {
    PEAK.with(|p| p.set(live_bytes_here()));
}

fn note_alloc(size: usize) {
    EVERYWHERE.fetch_add(1, Ordering::Relaxed);
    let _ = HERE.try_with(|c| c.set(c.get() + 1));
    let _ = LIVE.try_with(|live| {
        let now = live.get() + size;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn note_free(size: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(size)));
}

// SAFETY: forwards every call to the system allocator unchanged; only counts (with
// atomics and const-initialised thread-locals, which never allocate).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_free(layout.size());
        note_alloc(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
