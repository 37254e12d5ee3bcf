//! How long a task will take, for workers near their time limit: declared by the sweep
//! (`task_seconds`) or measured from its finished tasks.

use super::{Spec, SweepEntry};
use crate::queue::TaskKey;
use std::collections::HashMap;

/// Completions a sweep must have timed before its measured rate estimates its other tasks.
const MIN_TIMED: usize = 3;
/// Margin on a measured estimate: tasks of equal cost vary, and a node may be slower.
const TIMED_MARGIN: f64 = 1.5;

/// Expected milliseconds of a task, the largest over its sweeps: a sweep's declared
/// `task_seconds` scaled by the task's cost relative to the sweep's largest task, or else, once
/// `MIN_TIMED` of its tasks were timed (lease to result), their milliseconds per unit of cost
/// times this task's cost, with `TIMED_MARGIN`; `None` if no sweep can tell yet.
pub(super) fn estimate_ms(
    specs: &HashMap<TaskKey, Spec>,
    sweeps: &[SweepEntry],
    key: &TaskKey,
) -> Option<u64> {
    let spec = specs.get(key)?;
    let cost = spec.task.cost();
    spec.sweeps
        .iter()
        .filter_map(|&i| {
            let s = sweeps.get(i as usize)?;
            if let Some(seconds) = s.sweep.task_seconds {
                let share = if s.max_cost > 0.0 {
                    cost / s.max_cost
                } else {
                    1.0
                };
                return Some((seconds * share * 1e3).ceil() as u64);
            }
            let (ms, timed_cost, n) = s.timed;
            (n >= MIN_TIMED && timed_cost > 0.0)
                .then(|| (TIMED_MARGIN * ms / timed_cost * cost).ceil() as u64)
        })
        .max()
}
