//! Largest-first scheduling of independent tasks on a thread pool, loading their inputs
//! in the same pipeline.
//!
//! A corpus run is many short programs and a few long ones. Handing the tasks out
//! in file order can leave one thread with the largest program at the end while the
//! others idle; handing them out largest first (greedy list scheduling, "LPT") keeps
//! the finishing times close: the makespan is at most 4/3 of the optimum.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Loads `inputs` and runs the tasks each one holds, in one pipeline on `pool`'s
/// threads: a free thread loads the next input (largest `input_cost` first) while any
/// is left, then takes the largest ready task, so no thread waits for the others'
/// last loads and, once everything is loaded, tasks go largest first as in
/// list scheduling. `tasks` lists an input's tasks with their costs. Returns each
/// input's load result and its tasks' results, in input and task order.
pub(crate) fn load_then_largest_first<I: Sync, O: Send + Sync, E: Send + Sync, R: Send>(
    pool: &rayon::ThreadPool,
    inputs: &[I],
    input_cost: impl Fn(&I) -> usize,
    load: impl Fn(&I) -> Result<O, E> + Sync,
    tasks: impl Fn(&O) -> Vec<(usize, usize)> + Sync,
    run: impl Fn(&O, usize) -> R + Sync,
) -> Vec<(Result<O, E>, Vec<R>)> {
    use std::collections::BinaryHeap;
    use std::sync::OnceLock;
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(input_cost(&inputs[i])));
    let next_input = AtomicUsize::new(0);
    let loads_done = AtomicUsize::new(0);
    let loaded: Vec<OnceLock<Result<O, E>>> = (0..inputs.len()).map(|_| OnceLock::new()).collect();
    // Ready tasks: (cost, input, task), largest cost first, then input and task order.
    type Ready = BinaryHeap<(usize, std::cmp::Reverse<usize>, std::cmp::Reverse<usize>)>;
    let ready: Mutex<Ready> = Mutex::new(BinaryHeap::new());
    let results: Mutex<Vec<Vec<(usize, R)>>> = Mutex::new((0..inputs.len()).map(|_| Vec::new()).collect());
    pool.broadcast(|_| loop {
        let k = next_input.fetch_add(1, Ordering::Relaxed);
        if let Some(&i) = order.get(k) {
            let o = load(&inputs[i]);
            let ts = o.as_ref().map(&tasks).unwrap_or_default();
            // The object is in place before its tasks can be taken.
            let _ = loaded[i].set(o);
            ready.lock().unwrap_or_else(|e| e.into_inner()).extend(ts.into_iter().map(|(t, c)| (c, std::cmp::Reverse(i), std::cmp::Reverse(t))));
            loads_done.fetch_add(1, Ordering::Release);
            continue;
        }
        let task = ready.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some((_, std::cmp::Reverse(i), std::cmp::Reverse(t))) = task {
            if let Some(Ok(o)) = loaded[i].get() {
                let r = run(o, t);
                results.lock().unwrap_or_else(|e| e.into_inner())[i].push((t, r));
            }
            continue;
        }
        if loads_done.load(Ordering::Acquire) == inputs.len() && ready.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
            break;
        }
        std::thread::yield_now();
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    loaded
        .into_iter()
        .zip(results)
        .map(|(o, mut rs)| {
            rs.sort_by_key(|(t, _)| *t);
            (o.into_inner().expect("every input loaded"), rs.into_iter().map(|(_, r)| r).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn on_one_thread_everything_loads_then_the_largest_run_first() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        // One input per task cost; the clock says in which order they ran.
        let inputs = [3usize, 9, 1, 7];
        let clock = AtomicU64::new(0);
        let out = load_then_largest_first(&pool, &inputs, |_| 0, |c| Ok::<usize, ()>(*c), |c| vec![(0, *c)], |_, _| {
            clock.fetch_add(1, Ordering::SeqCst)
        });
        let started: Vec<u64> = out.into_iter().map(|(_, rs)| rs[0]).collect();
        // 9 starts first, then 7, 3, 1.
        assert_eq!(started, vec![2, 0, 3, 1]);
    }

    #[test]
    fn pipeline_returns_every_result_in_order() {
        // Inputs are task counts; input 3 fails to load.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let inputs: Vec<usize> = vec![5, 0, 2, 3, 7];
        let out = load_then_largest_first(
            &pool,
            &inputs,
            |n| *n,
            |n| if *n == 3 { Err("bad") } else { Ok(*n) },
            |n| (0..*n).map(|t| (t, (t * 7) % 5)).collect(),
            |n, t| n * 100 + t,
        );
        assert_eq!(out.len(), inputs.len());
        for (n, (o, rs)) in inputs.iter().zip(&out) {
            if *n == 3 {
                assert_eq!(*o, Err("bad"));
                assert!(rs.is_empty());
            } else {
                assert_eq!(*o, Ok(*n));
                assert_eq!(*rs, (0..*n).map(|t| n * 100 + t).collect::<Vec<_>>());
            }
        }
    }
}
