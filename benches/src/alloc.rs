//! A process-wide counting allocator for benchmark binaries: the system allocator plus two
//! atomics, the bytes currently allocated and the highest value that count reached since
//! the last [`reset_peak`]. A bench installs it with
//! `#[global_allocator] static A: bpfcheck_benches::alloc::PeakAlloc = PeakAlloc;`,
//! calls [`reset_peak`] before an analysis and reads [`peak_bytes`] after it; the
//! difference to the [`current_bytes`] read at the reset is the analysis's peak heap.
//!
//! Counting is global (every thread), so a measurement is meaningful only while one
//! analysis runs at a time. Without the allocator installed every count stays 0.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting current and peak bytes of the whole process.
#[derive(Clone, Copy, Debug, Default)]
pub struct PeakAlloc;

fn grew(size: usize) {
    let now = CURRENT.fetch_add(size, Ordering::Relaxed).wrapping_add(size);
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(size: usize) {
    CURRENT.fetch_sub(size, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the same arguments; the bookkeeping is
// two atomics and never allocates.
unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

/// Bytes allocated and not yet freed, process-wide.
pub fn current_bytes() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

/// The highest [`current_bytes`] since the last [`reset_peak`].
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak measurement at the current allocation level; returns that level.
pub fn reset_peak() -> usize {
    let now = CURRENT.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static A: PeakAlloc = PeakAlloc;

    #[test]
    fn peak_sees_a_freed_allocation() {
        let base = reset_peak();
        let v: Vec<u8> = Vec::with_capacity(1 << 20);
        drop(std::hint::black_box(v));
        // Other test threads may allocate concurrently, so only lower bounds are exact.
        assert!(peak_bytes() >= base + (1 << 20), "peak {} base {base}", peak_bytes());
        assert!(current_bytes() > 0);
    }
}
