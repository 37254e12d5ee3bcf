//! The core's read side and its allocation knobs: status, monitoring snapshots and what
//! `results` hands out (stored files, or the makings of a partial aggregation).

use super::{Core, CoreError, PartialJob, ResultsPlan, SweepState};
use crate::aggregate::{MissingTask, Partial};
use crate::alloc::{AllocPolicy, Allocator, JobState};
use crate::monitor::Snapshot;
use crate::queue::{Counts, Millis, TaskState};
use rgsweep_physics::model::external::Capability;
use rgsweep_proto::v1;
use std::collections::{BTreeMap, BTreeSet};

impl Core {
    /// Turns automatic worker allocation on.
    pub fn enable_allocation(&mut self, policy: AllocPolicy) {
        self.alloc = Some(Allocator::new(policy));
    }

    /// Allocations to submit now (0 without allocation).
    pub fn alloc_plan(&self, now: Millis) -> usize {
        let Some(a) = &self.alloc else { return 0 };
        let c = self.queue.counts();
        let open = (c.queued + c.leased).saturating_sub(self.unservable());
        a.wanted(now.0, open, self.connected_workers(now))
    }

    pub fn alloc_submitted(&mut self, now: Millis, outcome: Result<String, String>) {
        if let Some(a) = &mut self.alloc {
            match &outcome {
                Ok(id) => tracing::info!(job = %id, "worker allocation submitted"),
                Err(e) => tracing::warn!(error = %e, "worker allocation failed"),
            }
            a.submitted(now.0, outcome);
            if a.status().state == "paused" {
                tracing::error!(reason = %a.status().reason, "worker allocation paused");
            }
        }
    }

    pub fn alloc_observe(&mut self, listed: &BTreeMap<String, JobState>) {
        if let Some(a) = &mut self.alloc {
            a.observe(listed);
        }
    }

    /// Resumes paused allocation; returns whether it was paused.
    pub fn alloc_resume(&mut self) -> Result<bool, CoreError> {
        let a = self.alloc.as_mut().ok_or(CoreError::NoAllocation)?;
        let was_paused = a.resume();
        tracing::info!(was_paused, "worker allocation resumed");
        Ok(was_paused)
    }

    /// Allocations still waiting in the scheduler's queue.
    pub fn alloc_waiting(&self) -> Vec<String> {
        self.alloc
            .as_ref()
            .map_or_else(Vec::new, Allocator::waiting)
    }

    /// Tasks, workers and event counters for monitoring and autoscaling (walks every task:
    /// about 10 ms per million, fine at scrape and poll intervals).
    pub fn snapshot(&self, now: Millis) -> Snapshot {
        let mut sweeps: BTreeMap<&'static str, usize> = BTreeMap::new();
        for s in &self.sweeps {
            *sweeps.entry(s.state.name()).or_default() += 1;
        }
        Snapshot {
            tasks: self.queue.counts(),
            counters: self.counters,
            workers: self.connected_workers(now),
            sweeps: sweeps.into_iter().collect(),
            uptime_seconds: now.0.saturating_sub(self.started_ms) as f64 / 1e3,
            allocation: self.alloc.as_ref().map(Allocator::status),
            unservable: self.unservable(),
        }
    }

    /// Queued tasks needing a capability no worker has advertised since start: allocation and
    /// scaling do not start workers for them (those they start run the built-in models, or
    /// what a worker of theirs has shown it has).
    fn unservable(&self) -> usize {
        self.queue
            .queued_by_need()
            .filter(|(n, _)| n.is_some_and(|n| !self.seen.contains(&**n)))
            .map(|(_, count)| count)
            .sum()
    }

    fn connected_workers(&self, now: Millis) -> usize {
        let window = 3 * self.heartbeat_ms() + 1_000;
        self.workers
            .values()
            .filter(|&&t| t + window >= now.0)
            .count()
    }

    pub fn status(&self, now: Millis, sweep_id: &str) -> Result<v1::StatusReply, CoreError> {
        let which: Vec<usize> = if sweep_id.is_empty() {
            (0..self.sweeps.len()).collect()
        } else {
            vec![
                *self
                    .by_id
                    .get(sweep_id)
                    .ok_or_else(|| CoreError::NoSuchSweep(sweep_id.to_string()))?,
            ]
        };
        Ok(v1::StatusReply {
            sweeps: {
                let connected = self.connected_capabilities(now);
                which
                    .into_iter()
                    .map(|i| self.sweep_status(now, i, &connected))
                    .collect()
            },
            workers: self.connected_workers(now) as u32,
            allocation: self.alloc.as_ref().map(|a| {
                let s = a.status();
                v1::Allocation {
                    state: s.state.to_string(),
                    reason: s.reason,
                    waiting: s.waiting as u32,
                    running: s.running as u32,
                    submitted: s.submitted,
                    failures: s.failures,
                }
            }),
        })
    }

    fn sweep_status(
        &self,
        now: Millis,
        i: usize,
        connected: &BTreeSet<Capability>,
    ) -> v1::SweepStatus {
        let s = &self.sweeps[i];
        let mut waiting: BTreeMap<&Capability, u64> = BTreeMap::new();
        let mut c = Counts::default();
        let mut done_cost = 0.0;
        let mut errors = Vec::new();
        let (mut task_errors, mut workers_lost) = (0u64, 0u64);
        for key in &s.keys {
            let Some(e) = self.queue.entry(key) else {
                continue;
            };
            c.add(&e.state);
            if let (TaskState::Queued, Some(need)) = (&e.state, &e.needs)
                && !connected.contains(&**need)
            {
                *waiting.entry(&**need).or_default() += 1;
            }
            task_errors += u64::from(e.errors);
            workers_lost += u64::from(e.lost);
            match &e.state {
                TaskState::Done { .. } => {
                    done_cost += self.specs.get(key).map_or(0.0, |x| x.task.cost());
                }
                TaskState::Failed { error } if errors.len() < 5 => {
                    let at = self.specs.get(key).map_or_else(String::new, |x| {
                        format!("L={} T={} ", x.task.size, x.task.temperature)
                    });
                    errors.push(format!(
                        "{at}{key:?} failed after {} error(s) and {} lost worker(s): {error}",
                        e.errors, e.lost
                    ));
                }
                _ => {}
            }
        }
        if let Some(e) = &s.error {
            errors.push(e.clone());
        }
        let window_ms = s
            .recent
            .front()
            .map_or(0, |&(t, _)| now.0.saturating_sub(t))
            .max(1_000);
        let recent_cost: f64 = s.recent.iter().map(|&(_, c)| c).sum();
        let rate = s.recent.len() as f64 / (window_ms as f64 / 1e3);
        let remaining = s.total_cost - done_cost;
        let eta = (s.state == SweepState::Running && recent_cost > 0.0)
            .then(|| remaining / (recent_cost / (window_ms as f64 / 1e3)));
        v1::SweepStatus {
            sweep_id: s.id.clone(),
            name: s.sweep.name.clone(),
            state: s.state.name().to_string(),
            tasks: s.keys.len() as u64,
            queued: c.queued as u64,
            leased: c.leased as u64,
            done: c.done as u64,
            failed: c.failed as u64,
            cancelled: c.cancelled as u64,
            task_errors,
            workers_lost,
            tasks_per_second: if s.state == SweepState::Running {
                rate
            } else {
                0.0
            },
            eta_seconds: eta,
            progress: if s.total_cost > 0.0 {
                done_cost / s.total_cost
            } else {
                1.0
            },
            partial_tc: s.partial,
            errors,
            submitted_unix_ms: s.submitted_ms,
            waiting: waiting
                .into_iter()
                .map(|(c, tasks)| v1::Waiting {
                    capability: Some(rgsweep_proto::capability_to_wire(c)),
                    tasks,
                })
                .collect(),
        }
    }

    /// A finished sweep's stored output files, or, for any other sweep, what an aggregation
    /// of the points finished so far needs (run off the core thread: [`jobs::partial_outputs`]).
    ///
    /// [`jobs::partial_outputs`]: crate::jobs::partial_outputs
    pub fn results(&self, sweep_id: &str) -> Result<ResultsPlan, CoreError> {
        let i = *self
            .by_id
            .get(sweep_id)
            .ok_or_else(|| CoreError::NoSuchSweep(sweep_id.to_string()))?;
        let s = &self.sweeps[i];
        if s.state == SweepState::Done {
            return Ok(ResultsPlan::Stored(self.store.outputs(sweep_id)?));
        }
        let mut missing = Vec::new();
        for key in &s.keys {
            let (Some(e), Some(spec)) = (self.queue.entry(key), self.specs.get(key)) else {
                continue;
            };
            let (state, reason) = match &e.state {
                TaskState::Done { .. } => continue,
                TaskState::Queued => ("queued", e.last_error.clone()),
                TaskState::Leased { .. } => ("running", e.last_error.clone()),
                TaskState::Failed { error } => ("failed", Some(error.clone())),
                TaskState::Cancelled => ("cancelled", None),
            };
            missing.push(MissingTask {
                size: spec.task.size,
                temperature: spec.task.temperature,
                first_replica: spec.task.first_replica,
                replicas: spec.task.replicas,
                state: state.to_string(),
                errors: e.errors,
                workers_lost: e.lost,
                reason,
            });
        }
        Ok(ResultsPlan::Partial(Box::new(PartialJob {
            sweep_id: sweep_id.to_string(),
            sweep: s.sweep.clone(),
            partial: Partial::new(s.state.name(), &s.sweep, missing),
            error: s.error.clone(),
        })))
    }
}
