//! Per-program memory limit: a counting global allocator and a per-thread limit the fixpoint
//! solver checks.
//!
//! [`CountingAlloc`] wraps the system allocator and keeps, per thread, the bytes allocated minus
//! the bytes freed ([`live_bytes`]). A binary (or an integration test) opts in with
//! `#[global_allocator] static A: analyzer::fixpoint::mem_budget::CountingAlloc = CountingAlloc;`.
//! Without it every count stays 0 and no limit can trigger ([`counting`] says which).
//!
//! The limit is per thread and scoped: [`limit_scope`]`(Some(bytes))` returns a guard; while it
//! lives, `solve` on this thread fails with `FixpointError::MemoryLimit` once the bytes allocated
//! on this thread since `solve` started, net of frees, exceed `bytes` (checked at every node
//! visit, next to the deadline). One program is analysed on one thread (rayon runs whole programs
//! per task), so the per-thread count is the program's. Memory freed on another thread than the
//! one that allocated it makes the counts of both drift (the counter is signed, so it never wraps);
//! the analysis does not hand states between threads.
//!
//! The counter is a `const`-initialised thread-local `Cell`: reading or updating it never
//! allocates, so the allocator cannot recurse, and after the thread's TLS is torn down the
//! update is skipped (`try_with`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    /// Bytes allocated minus bytes freed on this thread.
    static LIVE: Cell<i64> = const { Cell::new(0) };
    /// Whether this thread's allocations are counted (set by the first counted allocation).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// The memory limit of analyses on this thread, in bytes.
    static LIMIT: Cell<Option<u64>> = const { Cell::new(None) };
}

fn add(delta: i64) {
    let _ = LIVE.try_with(|c| c.set(c.get().wrapping_add(delta)));
}

/// The system allocator, counting live bytes per thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

// SAFETY: every method forwards to `System` with the same arguments; the bookkeeping only
// touches const-initialised thread-locals and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
            let _ = COUNTING.try_with(|c| c.set(true));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size() as i64);
            let _ = COUNTING.try_with(|c| c.set(true));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        add(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

/// Bytes allocated minus bytes freed on this thread so far (0 without [`CountingAlloc`]).
pub fn live_bytes() -> i64 {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// Whether this thread's allocations are being counted (the binary installed [`CountingAlloc`]
/// and this thread allocated since).
pub fn counting() -> bool {
    COUNTING.try_with(Cell::get).unwrap_or(false)
}

/// The limit in force on this thread.
pub fn current_limit() -> Option<u64> {
    LIMIT.try_with(Cell::get).unwrap_or(None)
}

/// Sets this thread's limit until the guard is dropped (then the previous one is back).
/// `None` lifts the limit for the scope.
pub fn limit_scope(limit: Option<u64>) -> LimitGuard {
    let previous = LIMIT.try_with(|c| c.replace(limit)).unwrap_or(None);
    LimitGuard { previous }
}

/// Restores the previous limit on drop (see [`limit_scope`]).
#[derive(Debug)]
#[must_use = "the limit is lifted when the guard is dropped"]
pub struct LimitGuard {
    previous: Option<u64>,
}

impl Drop for LimitGuard {
    fn drop(&mut self) {
        let previous = self.previous;
        let _ = LIMIT.try_with(|c| c.set(previous));
    }
}

/// Net bytes allocated on this thread since a [`Meter`] was started, against the thread's limit.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    base: i64,
    limit: Option<u64>,
}

impl Meter {
    /// Starts measuring now, under the limit currently in force.
    pub fn start() -> Meter {
        Meter { base: live_bytes(), limit: current_limit() }
    }

    /// Net bytes allocated since the start (negative counts as 0).
    pub fn used(&self) -> u64 {
        u64::try_from(live_bytes().saturating_sub(self.base)).unwrap_or(0)
    }

    /// `Some(bytes used)` once over the limit.
    pub fn over_limit(&self) -> Option<u64> {
        let limit = self.limit?;
        let used = self.used();
        (used > limit).then_some(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_scopes_nest_and_restore() {
        assert_eq!(current_limit(), None);
        {
            let _a = limit_scope(Some(100));
            assert_eq!(current_limit(), Some(100));
            {
                let _b = limit_scope(None);
                assert_eq!(current_limit(), None);
            }
            assert_eq!(current_limit(), Some(100));
        }
        assert_eq!(current_limit(), None);
    }

    #[test]
    fn a_meter_without_a_limit_never_trips() {
        let m = Meter::start();
        let v = vec![0u8; 1 << 16];
        assert_eq!(m.over_limit(), None);
        assert_eq!(v.len(), 1 << 16);
        // The library's unit tests run without the counting allocator: nothing is counted.
        assert!(!counting());
        let _g = limit_scope(Some(0));
        assert_eq!(Meter::start().over_limit(), None, "no counted bytes, nothing over the limit");
    }
}
