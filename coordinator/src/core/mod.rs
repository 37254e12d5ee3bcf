//! The coordinator's core: the queue, the sweeps and the durable store, driven by plain
//! synchronous calls. The network shell ([`crate::service`]) turns each RPC into one call here,
//! applies a batch of calls, commits the batch ([`Core::commit`]) and only then answers; tests
//! drive a `Core` directly on a temporary database, without sockets.
//!
//! Invariants:
//! - Nothing a caller is told is lost by a crash: every change is in the batch that
//!   [`Core::commit`] writes before any reply of that batch is sent.
//! - A task belongs to every sweep that planned it (tasks are shared by content key); a sweep's
//!   `open` counter is the number of its tasks neither done nor failed.
//! - Results are stored as the canonical encoding of the wire message; aggregation reads them
//!   back sorted by key, so output bytes never depend on arrival order.

use crate::aggregate::Partial;
use crate::alloc::Allocator;
use crate::monitor::Counters;
use crate::queue::{
    Added, Completion, FailOutcome, LeaseToken, Millis, Policy, Queue, TaskKey, TaskState, WorkerId,
};
use crate::store::{Batch, ResultRow, Store, StoreError, SweepRow, TaskRow};
use prost::Message;
use rgsweep_physics::model::external::Capability;
use rgsweep_physics::{Sweep, Task};
use rgsweep_proto::v1;
use rgsweep_proto::{task_from_wire, task_to_wire};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::Path;

/// Largest result a task may produce (its encoded time series); a sweep whose tasks would
/// exceed it is refused at submit, not discovered when a worker cannot deliver.
pub const MAX_RESULT_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    InvalidSweep(String),
    #[error("no sweep {0}")]
    NoSuchSweep(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("this coordinator does not allocate workers (start it with --slurm)")]
    NoAllocation,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepState {
    Running,
    Aggregating,
    Done,
    Failed,
    Cancelled,
}

impl SweepState {
    pub fn name(self) -> &'static str {
        match self {
            SweepState::Running => "running",
            SweepState::Aggregating => "aggregating",
            SweepState::Done => "done",
            SweepState::Failed => "failed",
            SweepState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<SweepState> {
        [
            SweepState::Running,
            SweepState::Aggregating,
            SweepState::Done,
            SweepState::Failed,
            SweepState::Cancelled,
        ]
        .into_iter()
        .find(|x| x.name() == s)
    }

    /// Still wants its tasks run.
    fn live(self) -> bool {
        matches!(self, SweepState::Running | SweepState::Aggregating)
    }
}

/// What a task is, beyond its queue entry.
struct Spec {
    task: Task,
    seed: u64,
    /// Indices into `Core::sweeps` of the sweeps that planned it.
    sweeps: Vec<u32>,
}

struct SweepEntry {
    id: String,
    file: String,
    toml: String,
    sweep: Sweep,
    state: SweepState,
    keys: Vec<TaskKey>,
    total_cost: f64,
    /// The cost of the sweep's largest task (what `task_seconds` refers to).
    max_cost: f64,
    /// (milliseconds, cost, count) of its tasks timed from lease to result, for estimates
    /// when the sweep declares no `task_seconds`.
    timed: (f64, f64, usize),
    submitted_ms: u64,
    /// Tasks neither done nor failed.
    open: usize,
    done: usize,
    /// (time, cost) of completions in the last minute, for rate and ETA.
    recent: VecDeque<(u64, f64)>,
    partial: Option<v1::Estimate>,
    /// `done` when the last partial estimate was started, and when.
    partial_done: usize,
    partial_started_ms: u64,
    /// Not before: estimates read every result of the sweep, so they are paced by their cost.
    partial_next_ms: u64,
    partial_running: bool,
    error: Option<String>,
}

/// Background work the shell runs off the core thread and reports back.
#[derive(Clone, Debug)]
pub struct Job {
    pub sweep_id: String,
    pub sweep: Sweep,
    /// Final aggregation (outputs) or a partial estimate from the points complete so far.
    pub final_outputs: bool,
    pub done: usize,
}

/// What `results` returns: stored files, or the makings of a partial aggregation.
pub enum ResultsPlan {
    Stored(Vec<(String, Vec<u8>)>),
    Partial(Box<PartialJob>),
}

/// An aggregation of a sweep's finished points, with the missing ones listed.
#[derive(Clone, Debug)]
pub struct PartialJob {
    pub sweep_id: String,
    pub sweep: Sweep,
    pub partial: Partial,
    /// Why the sweep's own aggregation failed, if it did.
    pub error: Option<String>,
}

pub struct Core {
    queue: Queue,
    specs: HashMap<TaskKey, Spec>,
    sweeps: Vec<SweepEntry>,
    by_id: HashMap<String, usize>,
    workers: HashMap<WorkerId, u64>,
    /// What each worker advertised with its last request (workers with none are absent).
    capabilities: HashMap<WorkerId, Vec<Capability>>,
    /// Every capability some worker advertised since this coordinator started: what a sweep
    /// without a sampler version is pinned to, and what allocation may start workers for.
    seen: BTreeSet<Capability>,
    store: Store,
    batch: Batch,
    dirty: BTreeSet<TaskKey>,
    jobs: Vec<Job>,
    token_written: u64,
    counters: Counters,
    started_ms: u64,
    alloc: Option<Allocator>,
    /// When each live lease was granted (by token), to time its task. Not durable: after a
    /// restart, estimates grow again from the completions that follow (they steer only which
    /// worker takes what, never a result).
    lease_started: HashMap<TaskKey, (LeaseToken, u64)>,
}

/// Encoded size bound of one task's result: two varints of at most 10 bytes per measurement,
/// and one byte per site of every saved configuration (a sweep that would save more than a
/// result may carry is refused at submit, not when its workers try to deliver).
fn result_bound(task: &Task) -> u64 {
    let sites = (task.size as u64).saturating_pow(task.model.dim() as u32);
    let series = task.monte_carlo.measurements.saturating_mul(2 * 10);
    let samples = task.save_samples.saturating_mul(sites.saturating_add(8));
    series
        .saturating_add(samples)
        .saturating_mul(u64::from(task.replicas))
}

impl Core {
    fn push_sweep(
        &mut self,
        id: String,
        file: String,
        toml: String,
        sweep: Sweep,
        state: SweepState,
        submitted_ms: u64,
    ) -> usize {
        let i = self.sweeps.len();
        self.by_id.insert(id.clone(), i);
        self.sweeps.push(SweepEntry {
            id,
            file,
            toml,
            sweep,
            state,
            keys: Vec::new(),
            total_cost: 0.0,
            max_cost: 0.0,
            timed: (0.0, 0.0, 0),
            submitted_ms,
            open: 0,
            done: 0,
            recent: VecDeque::new(),
            partial: None,
            partial_done: 0,
            partial_started_ms: 0,
            partial_next_ms: 0,
            partial_running: false,
            error: None,
        });
        i
    }

    fn sweep_row(&self, i: usize) -> SweepRow {
        let s = &self.sweeps[i];
        SweepRow {
            id: s.id.clone(),
            name: s.sweep.name.clone(),
            file: s.file.clone(),
            toml: s.toml.clone(),
            state: s.state.name().to_string(),
            submitted_ms: s.submitted_ms,
        }
    }

    fn set_state(&mut self, i: usize, state: SweepState) {
        self.sweeps[i].state = state;
        let row = self.sweep_row(i);
        self.batch.sweeps.push(row);
    }

    /// Validates and plans a sweep file. Nothing changes if the file is invalid.
    pub fn submit(
        &mut self,
        now: Millis,
        file: &str,
        toml: &str,
    ) -> Result<v1::SubmitReply, CoreError> {
        let mut sweep =
            Sweep::parse(toml, file).map_err(|e| CoreError::InvalidSweep(e.to_string()))?;
        if let Some(e) = &mut sweep.external
            && e.version.is_empty()
        {
            e.version = self.pin_version(now, &e.sampler).map_err(|why| {
                let (line, column) =
                    rgsweep_physics::sweep::key_position(toml, "sampler").unwrap_or((1, 1));
                CoreError::InvalidSweep(format!("{file}:{line}:{column}: field `sampler`: {why}"))
            })?;
        }
        let needs = sweep
            .external
            .as_ref()
            .map(|e| std::sync::Arc::new(e.capability()));
        let tasks = sweep.tasks();
        if let Some(t) = tasks.iter().find(|t| result_bound(t) > MAX_RESULT_BYTES) {
            let (field, advice) = if t.save_samples > 0 {
                ("save_samples", "save fewer configurations")
            } else {
                (
                    "monte_carlo.measurements",
                    "use fewer measurements per replica or a larger interval",
                )
            };
            return Err(CoreError::InvalidSweep(format!(
                "{file}: field `{field}`: a task of L={} would store up to {} MiB of \
                 measurements and configurations, more than the {} MiB a result may carry; \
                 {advice}",
                t.size,
                result_bound(t) >> 20,
                MAX_RESULT_BYTES >> 20
            )));
        }
        let id = sweep_id(&sweep);
        let i = match self.by_id.get(&id) {
            Some(&i) => i,
            None => self.push_sweep(
                id.clone(),
                file.to_string(),
                toml.to_string(),
                sweep.clone(),
                SweepState::Running,
                now.0,
            ),
        };
        let fresh = self.sweeps[i].keys.is_empty();
        let mut reused = 0;
        for task in tasks {
            let key = TaskKey(task.content_key(sweep.seed));
            let cost = task.cost();
            let was_failed = self.failed(&key);
            let added = self.queue.add_needing(key, cost, needs.clone());
            match added {
                Added::New => {
                    let spec = task_to_wire(&task, sweep.seed).encode_to_vec();
                    if let Some(entry) = self.queue.entry(&key) {
                        self.batch.new_tasks.push(TaskRow {
                            key,
                            spec,
                            entry: entry.clone(),
                        });
                    }
                    self.specs.insert(
                        key,
                        Spec {
                            task,
                            seed: sweep.seed,
                            sweeps: Vec::new(),
                        },
                    );
                }
                Added::Revived => self.revived(key, was_failed),
                Added::Known => reused += 1,
            }
            if fresh {
                let Some(spec) = self.specs.get_mut(&key) else {
                    continue;
                };
                if spec.sweeps.contains(&(i as u32)) {
                    continue; // the same task twice in one sweep
                }
                spec.sweeps.push(i as u32);
                let s = &mut self.sweeps[i];
                s.keys.push(key);
                s.total_cost += cost;
                s.max_cost = s.max_cost.max(cost);
                self.batch.memberships.push((id.clone(), key));
            }
        }
        self.recount(i);
        let s = &mut self.sweeps[i];
        s.error = None;
        if fresh || matches!(s.state, SweepState::Cancelled | SweepState::Failed) {
            self.set_state(i, SweepState::Running);
            self.check_finished(i);
        }
        let s = &self.sweeps[i];
        Ok(v1::SubmitReply {
            sweep_id: id,
            name: s.sweep.name.clone(),
            tasks: s.keys.len() as u64,
            reused,
            done: s.done as u64,
        })
    }

    fn failed(&self, key: &TaskKey) -> bool {
        matches!(
            self.queue.entry(key).map(|e| &e.state),
            Some(TaskState::Failed { .. })
        )
    }

    /// A failed or cancelled task was queued again. A failed one had left its sweeps' open
    /// sets (a cancelled one never does), so each of them has one more open task.
    fn revived(&mut self, key: TaskKey, was_failed: bool) {
        self.dirty.insert(key);
        if let Some(spec) = self.specs.get(&key).filter(|_| was_failed) {
            for &j in &spec.sweeps {
                self.sweeps[j as usize].open += 1;
            }
        }
    }

    /// A sweep's open and done counts from the queue: exact whatever happened to its tasks.
    fn recount(&mut self, i: usize) {
        let (mut open, mut done) = (0, 0);
        for key in &self.sweeps[i].keys {
            match self.queue.entry(key).map(|e| &e.state) {
                Some(TaskState::Done { .. }) => done += 1,
                Some(TaskState::Failed { .. }) => {}
                _ => open += 1,
            }
        }
        let s = &mut self.sweeps[i];
        s.open = open;
        s.done = done;
    }

    /// Queues a sweep's failed and cancelled tasks again, with fresh budgets, and runs the
    /// sweep again if it had ended failed or cancelled (a failed aggregation is retried too).
    /// Returns how many tasks were requeued. A finished sweep is left alone.
    pub fn retry(&mut self, sweep_id: &str) -> Result<u64, CoreError> {
        let i = *self
            .by_id
            .get(sweep_id)
            .ok_or_else(|| CoreError::NoSuchSweep(sweep_id.to_string()))?;
        if self.sweeps[i].state == SweepState::Done {
            return Ok(0);
        }
        let mut requeued = 0;
        for k in 0..self.sweeps[i].keys.len() {
            let key = self.sweeps[i].keys[k];
            let was_failed = self.failed(&key);
            if self.queue.revive(key) {
                self.revived(key, was_failed);
                requeued += 1;
            }
        }
        self.recount(i);
        let s = &mut self.sweeps[i];
        s.error = None;
        if matches!(s.state, SweepState::Failed | SweepState::Cancelled) {
            self.set_state(i, SweepState::Running);
            self.check_finished(i);
        }
        tracing::info!(sweep = %sweep_id, requeued, "sweep retried");
        Ok(requeued)
    }

    fn note_worker(&mut self, now: Millis, worker: &WorkerId) {
        match self.workers.get_mut(worker) {
            Some(t) => *t = now.0,
            None => {
                tracing::info!(worker = %worker.0, "worker attached");
                self.workers.insert(worker.clone(), now.0);
            }
        }
    }

    pub fn heartbeat_ms(&self) -> u64 {
        (self.queue.policy().lease_ms / 3).max(1)
    }

    /// Leases for `worker`; with `time_left_ms` > 0 only tasks expected to finish in time
    /// (tasks without an estimate always qualify).
    ///
    /// `caps` is what the worker can run beyond the built-in models: tasks that need a
    /// capability go only to workers listing it.
    pub fn lease(
        &mut self,
        now: Millis,
        worker: &WorkerId,
        slots: usize,
        time_left_ms: u64,
        caps: &[Capability],
    ) -> Vec<v1::Lease> {
        self.note_worker(now, worker);
        self.note_capabilities(worker, caps);
        let slots = slots.min(1024);
        let (specs, sweeps) = (&self.specs, &self.sweeps);
        let leases = self.queue.lease_where(now, worker, slots, caps, |k| {
            time_left_ms == 0 || estimate_ms(specs, sweeps, k).is_none_or(|e| e <= time_left_ms)
        });
        self.counters.leases += leases.len() as u64;
        let mut out = Vec::with_capacity(leases.len());
        for l in leases {
            self.dirty.insert(l.key);
            self.lease_started.insert(l.key, (l.token, now.0));
            if let Some(spec) = self.specs.get(&l.key) {
                out.push(v1::Lease {
                    key: l.key.0.to_vec(),
                    token: l.token.0,
                    task: Some(task_to_wire(&spec.task, spec.seed)),
                });
            }
        }
        out
    }

    pub fn heartbeat(
        &mut self,
        now: Millis,
        worker: &WorkerId,
        leases: &[(TaskKey, LeaseToken)],
    ) -> Vec<u64> {
        self.note_worker(now, worker);
        self.queue
            .heartbeat(now, worker, leases)
            .into_iter()
            .map(|t| t.0)
            .collect()
    }

    /// A task left the open set (done or failed): update its sweeps and see if they finished.
    fn closed(&mut self, now: Millis, key: TaskKey, done: bool) {
        let Some(spec) = self.specs.get(&key) else {
            return;
        };
        let cost = spec.task.cost();
        let members = spec.sweeps.clone();
        for j in members {
            let j = j as usize;
            let s = &mut self.sweeps[j];
            s.open = s.open.saturating_sub(1);
            if done {
                s.done += 1;
                s.recent.push_back((now.0, cost));
            }
            if s.state == SweepState::Running {
                self.check_finished(j);
            }
        }
    }

    /// A task of `key` ran `ms` from lease to result: counts toward its sweeps' estimates.
    fn timed(&mut self, key: TaskKey, ms: u64) {
        let Some(spec) = self.specs.get(&key) else {
            return;
        };
        let cost = spec.task.cost();
        for &j in &spec.sweeps {
            if let Some(s) = self.sweeps.get_mut(j as usize) {
                s.timed.0 += ms as f64;
                s.timed.1 += cost;
                s.timed.2 += 1;
            }
        }
    }

    fn check_finished(&mut self, i: usize) {
        let s = &self.sweeps[i];
        if s.state != SweepState::Running || s.open > 0 {
            return;
        }
        let failed = s.keys.len() - s.done;
        if failed == 0 {
            self.set_state(i, SweepState::Aggregating);
            self.start_final(i);
        } else {
            tracing::warn!(sweep = %s.id, failed, "sweep finished with failed tasks");
            self.set_state(i, SweepState::Failed);
        }
    }

    fn start_final(&mut self, i: usize) {
        let s = &self.sweeps[i];
        self.jobs.push(Job {
            sweep_id: s.id.clone(),
            sweep: s.sweep.clone(),
            final_outputs: true,
            done: s.done,
        });
    }

    pub fn complete(
        &mut self,
        now: Millis,
        worker: &WorkerId,
        results: Vec<Verified>,
    ) -> Vec<v1::Outcome> {
        self.note_worker(now, worker);
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            let started = self.lease_started.remove(&r.key);
            let outcome = match self.queue.complete(r.key, r.token, r.digest) {
                Completion::Accepted { late } => {
                    if let Some((token, at)) = started
                        && token == r.token
                        && !late
                    {
                        self.timed(r.key, now.0.saturating_sub(at));
                    }
                    self.counters.completions += 1;
                    self.dirty.insert(r.key);
                    self.batch.results.push(ResultRow {
                        key: r.key,
                        body: r.body,
                        digest: r.digest,
                        worker: worker.0.clone(),
                        token: r.token.0,
                        committed_ms: now.0,
                    });
                    self.closed(now, r.key, true);
                    if late {
                        tracing::info!(task = ?r.key, worker = %worker.0, "late result accepted (first for its task)");
                        v1::Outcome::AcceptedLate
                    } else {
                        v1::Outcome::Accepted
                    }
                }
                Completion::Duplicate => {
                    self.counters.duplicates += 1;
                    tracing::info!(task = ?r.key, worker = %worker.0, "duplicate result fenced (identical bytes)");
                    v1::Outcome::Duplicate
                }
                Completion::Conflict { .. } => {
                    self.counters.conflicts += 1;
                    tracing::error!(task = ?r.key, worker = %worker.0, "result differs from the stored one for the same task: determinism bug; dropped");
                    v1::Outcome::Conflict
                }
                Completion::Unknown => v1::Outcome::Unknown,
            };
            out.push(outcome);
        }
        out
    }

    pub fn fail(
        &mut self,
        now: Millis,
        worker: &WorkerId,
        key: TaskKey,
        token: LeaseToken,
        reason: String,
        release: bool,
    ) -> &'static str {
        self.note_worker(now, worker);
        self.lease_started.remove(&key);
        if release {
            return if self.queue.release(key, token) {
                self.dirty.insert(key);
                "requeued"
            } else {
                "stale"
            };
        }
        tracing::warn!(task = ?key, worker = %worker.0, %reason, "task failed");
        match self.queue.fail(key, token, reason) {
            FailOutcome::Requeued => {
                self.counters.retries += 1;
                self.dirty.insert(key);
                "requeued"
            }
            FailOutcome::Failed => {
                self.counters.failures += 1;
                self.dirty.insert(key);
                self.closed(now, key, false);
                "failed"
            }
            FailOutcome::Stale => "stale",
        }
    }

    /// Expires dead leases and schedules partial estimates; call it every second or so.
    pub fn tick(&mut self, now: Millis) {
        for (key, token, outcome) in self.queue.expire(now) {
            tracing::warn!(task = ?key, token = token.0, ?outcome, "lease expired");
            self.counters.expiries += 1;
            self.dirty.insert(key);
            match outcome {
                FailOutcome::Failed => {
                    self.counters.failures += 1;
                    self.closed(now, key, false);
                }
                FailOutcome::Requeued => self.counters.retries += 1,
                FailOutcome::Stale => {}
            }
        }
        let stale = now.0.saturating_sub(10 * self.queue.policy().lease_ms);
        self.workers.retain(|_, seen| *seen >= stale);
        let workers = &self.workers;
        self.capabilities.retain(|w, _| workers.contains_key(w));
        for i in 0..self.sweeps.len() {
            let s = &mut self.sweeps[i];
            while s.recent.front().is_some_and(|&(t, _)| t + 60_000 < now.0) {
                s.recent.pop_front();
            }
            if s.state == SweepState::Running
                && !s.partial_running
                && s.done > s.partial_done
                && now.0 >= s.partial_next_ms
            {
                s.partial_running = true;
                s.partial_started_ms = now.0;
                s.partial_done = s.done;
                self.jobs.push(Job {
                    sweep_id: s.id.clone(),
                    sweep: s.sweep.clone(),
                    final_outputs: false,
                    done: s.done,
                });
            }
        }
    }

    /// Jobs to run off the core thread.
    pub fn take_jobs(&mut self) -> Vec<Job> {
        std::mem::take(&mut self.jobs)
    }

    /// A final aggregation finished: store its files (or the reason it failed).
    pub fn aggregated(&mut self, sweep_id: &str, outcome: Result<Vec<(String, Vec<u8>)>, String>) {
        let Some(&i) = self.by_id.get(sweep_id) else {
            return;
        };
        if self.sweeps[i].state != SweepState::Aggregating {
            return;
        }
        match outcome {
            Ok(files) => {
                for (name, content) in files {
                    self.batch
                        .outputs
                        .push((sweep_id.to_string(), name, content));
                }
                tracing::info!(sweep = %sweep_id, "sweep done");
                self.set_state(i, SweepState::Done);
            }
            Err(e) => {
                tracing::error!(sweep = %sweep_id, error = %e, "aggregation failed");
                self.sweeps[i].error = Some(e);
                self.set_state(i, SweepState::Failed);
            }
        }
    }

    /// A partial estimate finished at `now`. The next one waits at least 5 s, and ten times as
    /// long as this one took, so estimates never take more than a tenth of a core.
    pub fn partial(&mut self, now: Millis, sweep_id: &str, tc: Option<v1::Estimate>) {
        if let Some(&i) = self.by_id.get(sweep_id) {
            let s = &mut self.sweeps[i];
            s.partial_running = false;
            let took = now.0.saturating_sub(s.partial_started_ms);
            s.partial_next_ms = now.0 + (10 * took).max(5_000);
            if tc.is_some() {
                s.partial = tc;
            }
        }
    }

    pub fn cancel(&mut self, sweep_id: &str) -> Result<u64, CoreError> {
        let i = *self
            .by_id
            .get(sweep_id)
            .ok_or_else(|| CoreError::NoSuchSweep(sweep_id.to_string()))?;
        if !self.sweeps[i].state.live() {
            return Ok(0);
        }
        self.set_state(i, SweepState::Cancelled);
        let mut cancelled = 0;
        for k in 0..self.sweeps[i].keys.len() {
            let key = self.sweeps[i].keys[k];
            let needed = self.specs.get(&key).is_some_and(|s| {
                s.sweeps
                    .iter()
                    .any(|&j| j as usize != i && self.sweeps[j as usize].state.live())
            });
            if !needed && self.queue.cancel(key) {
                self.dirty.insert(key);
                cancelled += 1;
            }
        }
        tracing::info!(sweep = %sweep_id, cancelled, "sweep cancelled");
        Ok(cancelled)
    }

    /// Writes every change since the last commit in one transaction.
    pub fn commit(&mut self) -> Result<(), CoreError> {
        let mut batch = std::mem::take(&mut self.batch);
        for key in std::mem::take(&mut self.dirty) {
            if let Some(e) = self.queue.entry(&key) {
                batch.changed.push((key, e.clone()));
            }
        }
        let next = self.queue.next_token();
        if next != self.token_written {
            batch.next_token = Some(next);
        }
        // Keys are hashes: inserted in key order, B-tree pages fill one after another instead
        // of splitting at random (a million-task submit went from 20 s to a few).
        batch.new_tasks.sort_unstable_by_key(|t| t.key);
        batch.memberships.sort_unstable();
        batch.results.sort_unstable_by_key(|r| r.key);
        self.store.commit(&batch)?;
        self.token_written = next;
        Ok(())
    }

    #[cfg(test)]
    fn counts(&self) -> crate::queue::Counts {
        self.queue.counts()
    }
}

mod capabilities;
mod estimate;
mod open;
mod verify;
mod views;

use estimate::estimate_ms;
pub use verify::{Verified, sweep_id, verify};

#[cfg(test)]
mod tests;
