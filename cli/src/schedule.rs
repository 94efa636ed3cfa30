//! Largest-first scheduling of independent tasks on a thread pool.
//!
//! A corpus run is many short programs and a few long ones. Handing the tasks out
//! in file order can leave one thread with the largest program at the end while the
//! others idle; handing them out largest first (greedy list scheduling, "LPT") keeps
//! the finishing times close: the makespan is at most 4/3 of the optimum.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `f` on every item on `pool`'s threads, starting the items of largest
/// `cost` first (each thread takes the next one when it is free), and returns
/// the results in the items' order.
pub(crate) fn largest_first<T: Sync, R: Send>(
    pool: &rayon::ThreadPool,
    items: &[T],
    cost: impl Fn(&T) -> usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Stable: equal costs keep their order.
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&items[i])));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    pool.broadcast(|_| loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let Some(&i) = order.get(k) else { break };
        let r = f(&items[i]);
        slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn results_come_back_in_item_order() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let items: Vec<u64> = (0..100).collect();
        let out = largest_first(&pool, &items, |x| (*x as usize * 37) % 101, |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn on_one_thread_the_largest_run_first() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let items = [3usize, 9, 1, 7];
        let clock = AtomicU64::new(0);
        let started = largest_first(&pool, &items, |x| *x, |_| clock.fetch_add(1, Ordering::SeqCst));
        // 9 starts first, then 7, 3, 1.
        assert_eq!(started, vec![2, 0, 3, 1]);
    }
}
