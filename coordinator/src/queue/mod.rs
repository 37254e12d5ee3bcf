//! The coordinator's decision core: which task runs where, when a lease is dead, which result
//! counts. Plain synchronous state over plain data, in the manner of HyperQueue's `tako`: every
//! function takes the current time as an argument and returns what happened, so the network
//! shell and the durable store apply the outcome and tests drive it without sockets or clocks.
//!
//! Invariants:
//! - A task is `Done` at most once, by the first result that arrives for it, whichever lease
//!   (current or expired) delivered it. Results are deterministic functions of the task, so a
//!   late duplicate must be byte-identical; its digest is compared and a mismatch is reported as
//!   a conflict, never counted.
//! - Every lease carries a fencing token that is never reused, so a heartbeat or a failure
//!   report from an expired lease cannot touch the task's current lease.
//! - Ready tasks are handed out largest cost first (ties by key), so long tasks do not trail.
//! - A task's budget has two counts: errors it reported itself (`max_attempts`) and workers
//!   lost while running it (`max_lost`, larger): a preempted node or a killed worker is not the
//!   task's fault, but a task that keeps killing its workers (say, by exhausting memory) must
//!   still stop.

use rgsweep_physics::model::external::Capability;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A task's content hash: what it computes, not who asked for it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskKey(pub [u8; 32]);

impl fmt::Display for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The first 12 hex digits identify a task in logs well enough.
        write!(f, "TaskKey({})", &self.to_string()[..12])
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkerId(pub String);

/// Fencing token of one lease; strictly increasing over the queue's life (and persisted with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeaseToken(pub u64);

/// Milliseconds on the coordinator's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Millis(pub u64);

impl Millis {
    fn plus(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

/// SHA-256 of a result's bytes, for duplicate checks.
pub type Digest = [u8; 32];

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// A lease dies this long after its last heartbeat.
    pub lease_ms: u64,
    /// Errors a task may report before it is marked failed.
    pub max_attempts: u32,
    /// Workers a task may lose (leases that expired while it ran) before it is marked failed.
    pub max_lost: u32,
}

/// Default of [`Policy::max_lost`]: well above what preemption or a flaky node causes, low
/// enough that a task that kills every worker it lands on stops within minutes of leases.
pub const DEFAULT_MAX_LOST: u32 = 10;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            lease_ms: 30_000,
            max_attempts: 3,
            max_lost: DEFAULT_MAX_LOST,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TaskState {
    Queued,
    Leased {
        worker: WorkerId,
        token: LeaseToken,
        expires: Millis,
    },
    Done {
        digest: Digest,
    },
    Failed {
        error: String,
    },
    /// No live sweep needs it any more; a running lease is told so at its next heartbeat, and a
    /// result that still arrives is kept (it is valid, and a later sweep may reuse it).
    Cancelled,
}

/// What a task needs of the worker that runs it beyond the built-in models (a registered
/// sampler, with its version); shared by every task of a sweep.
pub type Need = std::sync::Arc<Capability>;

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub cost: f64,
    /// Derived from the task's spec (never stored): only a worker advertising it is leased
    /// the task.
    pub needs: Option<Need>,
    /// Errors the task reported (a failed attempt each).
    pub errors: u32,
    /// Workers that vanished while running it (expired leases).
    pub lost: u32,
    pub state: TaskState,
    pub last_error: Option<String>,
}

/// A lease handed to a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct Lease {
    pub key: TaskKey,
    pub token: LeaseToken,
    pub expires: Millis,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// The first result for this task: commit it.
    Accepted { late: bool },
    /// The task was already done and this result is byte-identical: drop it.
    Duplicate,
    /// The task was already done with different bytes: a determinism bug; drop it and report.
    Conflict { stored: Digest },
    /// No such task.
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FailOutcome {
    Requeued,
    Failed,
    /// The lease was not the task's current one (expired, or the task finished): ignored.
    Stale,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub queued: usize,
    pub leased: usize,
    pub done: usize,
    pub failed: usize,
    pub cancelled: usize,
}

impl Counts {
    pub fn add(&mut self, state: &TaskState) {
        match state {
            TaskState::Queued => self.queued += 1,
            TaskState::Leased { .. } => self.leased += 1,
            TaskState::Done { .. } => self.done += 1,
            TaskState::Failed { .. } => self.failed += 1,
            TaskState::Cancelled => self.cancelled += 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    New,
    /// A failed or cancelled task queued again, with fresh error and loss budgets.
    Revived,
    /// Queued, running or done already: nothing changes.
    Known,
}

/// Most queued tasks [`Queue::lease_where`] examines per call: a worker near its time limit
/// gets nothing rather than a scan of a million-task queue.
pub const FIT_SCAN: usize = 100_000;

/// Ready-queue order: larger cost first, then key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ReadyKey {
    neg_cost_bits: std::cmp::Reverse<u64>,
    key: TaskKey,
}

fn ready_key(cost: f64, key: TaskKey) -> ReadyKey {
    // Costs are non-negative, so their IEEE bits order like the values.
    ReadyKey {
        neg_cost_bits: std::cmp::Reverse(cost.max(0.0).to_bits()),
        key,
    }
}

/// The queued tasks, one ready set per need (most tasks need nothing: one set), so that a
/// worker is only ever shown tasks it can run and a lease stays a few tree steps however many
/// tasks wait for a capability nobody has.
#[derive(Clone, Debug, Default)]
struct Ready {
    by_need: BTreeMap<Option<Need>, BTreeSet<ReadyKey>>,
}

impl Ready {
    fn insert(&mut self, entry: &Entry, key: TaskKey) {
        self.by_need
            .entry(entry.needs.clone())
            .or_default()
            .insert(ready_key(entry.cost, key));
    }

    fn remove(&mut self, entry: &Entry, key: TaskKey) -> bool {
        let Some(set) = self.by_need.get_mut(&entry.needs) else {
            return false;
        };
        let removed = set.remove(&ready_key(entry.cost, key));
        if set.is_empty() {
            self.by_need.remove(&entry.needs);
        }
        removed
    }

    /// Up to `slots` queued tasks a worker with `caps` may run and `fits` accepts, largest
    /// first: the best of each set it may draw from, merged. Looks at most [`FIT_SCAN`] tasks
    /// per set.
    fn best(
        &self,
        caps: &[Capability],
        slots: usize,
        fits: impl Fn(&TaskKey) -> bool,
    ) -> Vec<ReadyKey> {
        let mut chosen: Vec<ReadyKey> = Vec::new();
        for (need, set) in &self.by_need {
            if need.as_ref().is_some_and(|n| !caps.contains(n)) {
                continue;
            }
            chosen.extend(
                set.iter()
                    .take(FIT_SCAN)
                    .filter(|rk| fits(&rk.key))
                    .take(slots)
                    .copied(),
            );
        }
        chosen.sort_unstable();
        chosen.truncate(slots);
        chosen
    }
}

#[derive(Clone, Debug, Default)]
pub struct Queue {
    policy: Policy,
    tasks: BTreeMap<TaskKey, Entry>,
    ready: Ready,
    next_token: u64,
}

impl Queue {
    pub fn new(policy: Policy) -> Queue {
        Queue {
            policy,
            ..Default::default()
        }
    }

    pub fn entry(&self, key: &TaskKey) -> Option<&Entry> {
        self.tasks.get(key)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The next fencing token to be issued; persisted so tokens stay unique across restarts.
    pub fn next_token(&self) -> u64 {
        self.next_token
    }

    /// Rebuilds a task from the durable store. Restored leases keep their token and worker;
    /// call [`Queue::recover`] once everything is restored.
    pub fn restore(&mut self, key: TaskKey, entry: Entry, next_token: u64) {
        if matches!(entry.state, TaskState::Queued) {
            self.ready.insert(&entry, key);
        }
        self.next_token = self.next_token.max(next_token);
        self.tasks.insert(key, entry);
    }

    /// Adds a task. A task already queued, running or done is left as it is, which is what
    /// makes resubmitting a sweep reuse its finished work; a failed or cancelled one is queued
    /// again with fresh budgets (resubmitting or `retry` is how a user says "try again").
    pub fn add(&mut self, key: TaskKey, cost: f64) -> Added {
        self.add_needing(key, cost, None)
    }

    /// [`Queue::add`] for a task only workers advertising `needs` may run.
    pub fn add_needing(&mut self, key: TaskKey, cost: f64, needs: Option<Need>) -> Added {
        if self.tasks.contains_key(&key) {
            return if self.revive(key) {
                Added::Revived
            } else {
                Added::Known
            };
        }
        let entry = Entry {
            cost,
            needs,
            errors: 0,
            lost: 0,
            state: TaskState::Queued,
            last_error: None,
        };
        self.ready.insert(&entry, key);
        self.tasks.insert(key, entry);
        Added::New
    }

    /// Queues a failed or cancelled task again with fresh budgets; false for any other state.
    pub fn revive(&mut self, key: TaskKey) -> bool {
        let Some(entry) = self.tasks.get_mut(&key) else {
            return false;
        };
        if !matches!(entry.state, TaskState::Failed { .. } | TaskState::Cancelled) {
            return false;
        }
        entry.state = TaskState::Queued;
        entry.errors = 0;
        entry.lost = 0;
        self.ready.insert(entry, key);
        true
    }

    /// Takes a queued or running task off the queue (its sweep was cancelled). Done and failed
    /// tasks keep their state. Returns whether anything changed.
    pub fn cancel(&mut self, key: TaskKey) -> bool {
        let Some(entry) = self.tasks.get_mut(&key) else {
            return false;
        };
        match entry.state {
            TaskState::Queued => {
                self.ready.remove(entry, key);
            }
            TaskState::Leased { .. } => {}
            _ => return false,
        }
        entry.state = TaskState::Cancelled;
        true
    }

    /// A draining worker hands its lease back: the task is queued again, counting neither an
    /// error nor a loss. Returns false for a lease that is not current.
    pub fn release(&mut self, key: TaskKey, token: LeaseToken) -> bool {
        let Some(entry) = self.tasks.get_mut(&key) else {
            return false;
        };
        if !matches!(&entry.state, TaskState::Leased { token: t, .. } if *t == token) {
            return false;
        }
        entry.state = TaskState::Queued;
        self.ready.insert(entry, key);
        true
    }

    /// Up to `slots` leases for `worker`, which can run what `caps` lists besides the built-in
    /// models, among the tasks `fits` accepts, largest first (tasks refused stay queued for
    /// other workers). Looks at most [`FIT_SCAN`] queued tasks per need.
    pub fn lease_where(
        &mut self,
        now: Millis,
        worker: &WorkerId,
        slots: usize,
        caps: &[Capability],
        fits: impl Fn(&TaskKey) -> bool,
    ) -> Vec<Lease> {
        let chosen = self.ready.best(caps, slots, fits);
        let mut out = Vec::with_capacity(chosen.len());
        for rk in chosen {
            if let Some(entry) = self.tasks.get(&rk.key) {
                self.ready.remove(entry, rk.key);
            }
            if let Some(l) = self.grant(now, worker, rk.key) {
                out.push(l);
            }
        }
        out
    }

    /// Queued tasks by what they need (`None`: nothing), in need order.
    pub fn queued_by_need(&self) -> impl Iterator<Item = (Option<&Need>, usize)> {
        self.ready
            .by_need
            .iter()
            .map(|(n, set)| (n.as_ref(), set.len()))
    }

    fn grant(&mut self, now: Millis, worker: &WorkerId, key: TaskKey) -> Option<Lease> {
        let entry = self.tasks.get_mut(&key)?;
        self.next_token += 1;
        let token = LeaseToken(self.next_token);
        let expires = now.plus(self.policy.lease_ms);
        entry.state = TaskState::Leased {
            worker: worker.clone(),
            token,
            expires,
        };
        Some(Lease {
            key,
            token,
            expires,
        })
    }

    /// Up to `slots` leases for `worker`, which runs the built-in models only, largest tasks
    /// first.
    pub fn lease(&mut self, now: Millis, worker: &WorkerId, slots: usize) -> Vec<Lease> {
        self.lease_where(now, worker, slots, &[], |_| true)
    }

    /// Extends the worker's live leases among `tokens`; returns the tokens that are no longer
    /// live (expired, finished, or never issued), which the worker should abandon.
    pub fn heartbeat(
        &mut self,
        now: Millis,
        worker: &WorkerId,
        tokens: &[(TaskKey, LeaseToken)],
    ) -> Vec<LeaseToken> {
        let mut dead = Vec::new();
        for (key, token) in tokens {
            match self.tasks.get_mut(key).map(|e| &mut e.state) {
                Some(TaskState::Leased {
                    worker: w,
                    token: t,
                    expires,
                }) if t == token && w == worker => {
                    *expires = now.plus(self.policy.lease_ms);
                }
                _ => dead.push(*token),
            }
        }
        dead
    }

    /// A result for `key` from the lease `token`, whose bytes hash to `digest`.
    pub fn complete(&mut self, key: TaskKey, token: LeaseToken, digest: Digest) -> Completion {
        let Some(entry) = self.tasks.get_mut(&key) else {
            return Completion::Unknown;
        };
        match &entry.state {
            TaskState::Done { digest: stored } => {
                if *stored == digest {
                    Completion::Duplicate
                } else {
                    Completion::Conflict { stored: *stored }
                }
            }
            state => {
                let late = !matches!(state, TaskState::Leased { token: t, .. } if *t == token);
                if matches!(state, TaskState::Queued) {
                    self.ready.remove(entry, key);
                }
                entry.state = TaskState::Done { digest };
                Completion::Accepted { late }
            }
        }
    }

    /// The task reported `error` on its lease: requeue, or fail at `max_attempts` errors.
    pub fn fail(&mut self, key: TaskKey, token: LeaseToken, error: String) -> FailOutcome {
        let Some(entry) = self.tasks.get_mut(&key) else {
            return FailOutcome::Stale;
        };
        if !matches!(&entry.state, TaskState::Leased { token: t, .. } if *t == token) {
            return FailOutcome::Stale;
        }
        entry.errors += 1;
        let spent = entry.errors >= self.policy.max_attempts;
        Self::retry_or_fail(&mut self.ready, spent, key, entry, error)
    }

    fn retry_or_fail(
        ready: &mut Ready,
        spent: bool,
        key: TaskKey,
        entry: &mut Entry,
        error: String,
    ) -> FailOutcome {
        if spent {
            entry.state = TaskState::Failed {
                error: error.clone(),
            };
            entry.last_error = Some(error);
            FailOutcome::Failed
        } else {
            entry.state = TaskState::Queued;
            entry.last_error = Some(error);
            ready.insert(entry, key);
            FailOutcome::Requeued
        }
    }

    /// Requeues every lease that expired by `now` as a lost worker (failing the task at
    /// `max_lost` losses).
    pub fn expire(&mut self, now: Millis) -> Vec<(TaskKey, LeaseToken, FailOutcome)> {
        let mut out = Vec::new();
        for (key, entry) in self.tasks.iter_mut() {
            if let TaskState::Leased {
                token,
                expires,
                worker,
            } = &entry.state
                && *expires <= now
            {
                let token = *token;
                entry.lost += 1;
                let why = format!(
                    "lost {} worker(s) while running it (last: lease {} of worker {} expired)",
                    entry.lost, token.0, worker.0
                );
                let spent = entry.lost >= self.policy.max_lost;
                let outcome = Self::retry_or_fail(&mut self.ready, spent, *key, entry, why);
                out.push((*key, token, outcome));
            }
        }
        out
    }

    /// After a coordinator restart: leases found in flight get `grace_ms` from `now` for their
    /// workers to re-attach with a heartbeat before they expire as usual. With `grace_ms` = 0
    /// (workers known to have died with the coordinator, as in `rgsweep run`) they are
    /// requeued at once, each as a lost worker; returns their keys.
    pub fn recover(&mut self, now: Millis, grace_ms: u64) -> Vec<TaskKey> {
        if grace_ms == 0 {
            return self
                .expire(Millis(u64::MAX))
                .into_iter()
                .map(|(k, _, _)| k)
                .collect();
        }
        for entry in self.tasks.values_mut() {
            if let TaskState::Leased { expires, .. } = &mut entry.state {
                *expires = now.plus(grace_ms);
            }
        }
        Vec::new()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in self.tasks.values() {
            c.add(&e.state);
        }
        c
    }
}

#[cfg(test)]
mod tests;
