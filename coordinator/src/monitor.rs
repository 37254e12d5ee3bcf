//! What the coordinator tells the outside about its load: a [`Snapshot`] of tasks, workers and
//! event counters, rendered as Prometheus text (`/metrics`), and the numbers KEDA's external
//! scaler asks for (queue depth → desired workers). Plain functions over plain data; the
//! servers in `service` only fetch a snapshot from the core thread and format it.

use crate::alloc::AllocStatus;
use crate::queue::Counts;

/// Events since the coordinator started (Prometheus counters: monotonic, reset on restart).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub leases: u64,
    /// First results accepted (tasks done).
    pub completions: u64,
    /// Re-deliveries of a result already stored (identical bytes).
    pub duplicates: u64,
    /// Results that differ from the stored one for the same task (a determinism bug).
    pub conflicts: u64,
    /// Leases that expired without a result or a heartbeat.
    pub expiries: u64,
    /// Tasks queued again after a failure or an expiry.
    pub retries: u64,
    /// Tasks failed for good (attempt limit reached).
    pub failures: u64,
}

/// The coordinator's state at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Every task the coordinator knows, by state.
    pub tasks: Counts,
    pub counters: Counters,
    /// Workers heard from within the last lease period.
    pub workers: usize,
    /// Sweeps by state name (running, aggregating, done, failed, cancelled), sorted by name.
    pub sweeps: Vec<(&'static str, usize)>,
    /// Seconds since the coordinator started.
    pub uptime_seconds: f64,
    /// Automatic worker allocation, if on.
    pub allocation: Option<AllocStatus>,
    /// Queued tasks that need a capability (a registered sampler) no worker has advertised
    /// since the coordinator started: no worker that scaling starts is known to run them.
    pub unservable: usize,
}

impl Snapshot {
    /// Tasks that still need a worker, and one that scaling could start can run: queued or
    /// running, less the [`Snapshot::unservable`].
    pub fn open_tasks(&self) -> usize {
        (self.tasks.queued + self.tasks.leased).saturating_sub(self.unservable)
    }
}

/// The Prometheus text exposition (format 0.0.4) of a snapshot.
pub fn prometheus(s: &Snapshot) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP rgsweep_{name} {help}");
        let _ = writeln!(out, "# TYPE rgsweep_{name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "rgsweep_{name}{labels} {value}");
        }
    };
    let t = &s.tasks;
    metric(
        "tasks",
        "gauge",
        "Tasks known to the coordinator, by state.",
        &[
            ("{state=\"queued\"}", t.queued as f64),
            ("{state=\"leased\"}", t.leased as f64),
            ("{state=\"done\"}", t.done as f64),
            ("{state=\"failed\"}", t.failed as f64),
            ("{state=\"cancelled\"}", t.cancelled as f64),
        ],
    );
    let sweeps: Vec<(String, f64)> = s
        .sweeps
        .iter()
        .map(|(state, n)| (format!("{{state=\"{state}\"}}"), *n as f64))
        .collect();
    let sweeps: Vec<(&str, f64)> = sweeps.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    metric("sweeps", "gauge", "Sweeps, by state.", &sweeps);
    metric(
        "workers_connected",
        "gauge",
        "Workers heard from within the last lease period.",
        &[("", s.workers as f64)],
    );
    let c = &s.counters;
    for (name, help, value) in [
        ("leases_total", "Leases granted.", c.leases),
        (
            "completions_total",
            "Tasks completed (first result accepted).",
            c.completions,
        ),
        (
            "duplicate_results_total",
            "Results re-delivered for a task already done (identical bytes).",
            c.duplicates,
        ),
        (
            "conflicting_results_total",
            "Results differing from the stored one for the same task (determinism bugs).",
            c.conflicts,
        ),
        (
            "lease_expiries_total",
            "Leases expired without result or heartbeat.",
            c.expiries,
        ),
        (
            "retries_total",
            "Tasks queued again after a failure or an expired lease.",
            c.retries,
        ),
        (
            "task_failures_total",
            "Tasks failed for good (attempt limit reached).",
            c.failures,
        ),
    ] {
        metric(name, "counter", help, &[("", value as f64)]);
    }
    if let Some(a) = &s.allocation {
        metric(
            "allocations",
            "gauge",
            "Worker allocations in the cluster scheduler, by state.",
            &[
                ("{state=\"waiting\"}", a.waiting as f64),
                ("{state=\"running\"}", a.running as f64),
            ],
        );
        metric(
            "allocations_submitted_total",
            "counter",
            "Worker allocations submitted.",
            &[("", a.submitted as f64)],
        );
        metric(
            "allocation_failures",
            "gauge",
            "Consecutive failed allocation submissions.",
            &[("", f64::from(a.failures))],
        );
        metric(
            "allocation_paused",
            "gauge",
            "1 if allocation is paused after repeated failures.",
            &[("", f64::from(u8::from(a.state == "paused")))],
        );
    }
    metric(
        "uptime_seconds",
        "gauge",
        "Seconds since the coordinator started.",
        &[("", s.uptime_seconds)],
    );
    out
}

/// The metric KEDA scales workers by.
pub const KEDA_METRIC: &str = "rgsweep-open-tasks";

/// What KEDA's external scaler answers: active when any task needs a worker; the metric is
/// the number of open tasks, and the target per worker is `tasks_per_worker` (a worker's
/// `--slots`), so KEDA's autoscaler asks for ⌈open / tasks_per_worker⌉ workers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scaling {
    pub active: bool,
    pub open_tasks: usize,
    pub target_per_worker: usize,
}

/// The scaling answer for a snapshot, with the trigger's `tasksPerWorker` metadata (default 1;
/// a value that is not a positive integer is refused with a message naming it).
pub fn scaling(s: &Snapshot, tasks_per_worker: Option<&str>) -> Result<Scaling, String> {
    let target = match tasks_per_worker {
        None => 1,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(format!(
                    "scalerMetadata.tasksPerWorker must be a positive integer, got {v:?}"
                ));
            }
        },
    };
    Ok(Scaling {
        active: s.open_tasks() > 0,
        open_tasks: s.open_tasks(),
        target_per_worker: target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(queued: usize, leased: usize, done: usize) -> Snapshot {
        Snapshot {
            unservable: 0,
            tasks: Counts {
                queued,
                leased,
                done,
                failed: 1,
                cancelled: 0,
            },
            counters: Counters {
                completions: done as u64,
                expiries: 2,
                retries: 3,
                ..Counters::default()
            },
            workers: 4,
            sweeps: vec![("done", 1), ("running", 2)],
            uptime_seconds: 12.5,
            allocation: None,
        }
    }

    #[test]
    fn prometheus_text_has_every_family_once_with_its_values() {
        let text = prometheus(&snapshot(7, 2, 30));
        for line in [
            "rgsweep_tasks{state=\"queued\"} 7",
            "rgsweep_tasks{state=\"leased\"} 2",
            "rgsweep_tasks{state=\"done\"} 30",
            "rgsweep_tasks{state=\"failed\"} 1",
            "rgsweep_sweeps{state=\"running\"} 2",
            "rgsweep_workers_connected 4",
            "rgsweep_completions_total 30",
            "rgsweep_lease_expiries_total 2",
            "rgsweep_retries_total 3",
            "rgsweep_uptime_seconds 12.5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        // One TYPE line per family, and every sample belongs to a declared family.
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| l.split(' ').next().unwrap_or(""))
            .collect();
        let mut unique = families.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), families.len());
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap_or("");
            assert!(families.contains(&name), "{l}");
        }
    }

    #[test]
    fn keda_scales_by_open_tasks_per_worker() {
        let s = scaling(&snapshot(7, 2, 30), Some("4")).expect("valid");
        assert_eq!((s.active, s.open_tasks, s.target_per_worker), (true, 9, 4));
        let idle = scaling(&snapshot(0, 0, 30), None).expect("valid");
        assert_eq!(
            (idle.active, idle.open_tasks, idle.target_per_worker),
            (false, 0, 1)
        );
        for bad in ["0", "-1", "many", ""] {
            let e = scaling(&snapshot(1, 0, 0), Some(bad)).expect_err(bad);
            assert!(e.contains("tasksPerWorker"), "{e}");
        }
    }
}
