//! Runs a sweep's tasks on a pool of threads in this process.
//!
//! A hand-rolled pool (scoped threads pulling task indices from an atomic counter) rather than a
//! crate: it is a dozen lines, and results are stored by task index, so the thread count changes
//! only the speed, never the output.

use rgsweep_physics::{Task, TaskResult};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs every task with `threads` workers; `on_done(task)` is called after each one finishes
/// (from the worker thread that ran it). Returns the results in task order.
pub fn run(
    tasks: &[Task],
    seed: u64,
    threads: usize,
    on_done: &(dyn Fn(&Task) + Sync),
) -> Vec<TaskResult> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<TaskResult>>> = Mutex::new(vec![None; tasks.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(task) = tasks.get(i) else { break };
                    let clock = std::time::Instant::now();
                    let result = task.run_timed(seed, &|| clock.elapsed().as_secs_f64());
                    on_done(task);
                    if let Ok(mut s) = slots.lock() {
                        s[i] = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}
