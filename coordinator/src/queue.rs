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

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub cost: f64,
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

#[derive(Clone, Debug, Default)]
pub struct Queue {
    policy: Policy,
    tasks: BTreeMap<TaskKey, Entry>,
    ready: BTreeSet<ReadyKey>,
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
            self.ready.insert(ready_key(entry.cost, key));
        }
        self.next_token = self.next_token.max(next_token);
        self.tasks.insert(key, entry);
    }

    /// Adds a task. A task already queued, running or done is left as it is, which is what
    /// makes resubmitting a sweep reuse its finished work; a failed or cancelled one is queued
    /// again with fresh budgets (resubmitting or `retry` is how a user says "try again").
    pub fn add(&mut self, key: TaskKey, cost: f64) -> Added {
        if self.tasks.contains_key(&key) {
            return if self.revive(key) {
                Added::Revived
            } else {
                Added::Known
            };
        }
        self.tasks.insert(
            key,
            Entry {
                cost,
                errors: 0,
                lost: 0,
                state: TaskState::Queued,
                last_error: None,
            },
        );
        self.ready.insert(ready_key(cost, key));
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
        self.ready.insert(ready_key(entry.cost, key));
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
                self.ready.remove(&ready_key(entry.cost, key));
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
        self.ready.insert(ready_key(entry.cost, key));
        true
    }

    /// Up to `slots` leases for `worker` among the tasks `fits` accepts, largest first (tasks
    /// refused stay queued for other workers). Looks at most [`FIT_SCAN`] queued tasks.
    pub fn lease_where(
        &mut self,
        now: Millis,
        worker: &WorkerId,
        slots: usize,
        fits: impl Fn(&TaskKey) -> bool,
    ) -> Vec<Lease> {
        let chosen: Vec<ReadyKey> = self
            .ready
            .iter()
            .take(FIT_SCAN)
            .filter(|rk| fits(&rk.key))
            .take(slots)
            .copied()
            .collect();
        let mut out = Vec::with_capacity(chosen.len());
        for rk in chosen {
            self.ready.remove(&rk);
            if let Some(l) = self.grant(now, worker, rk.key) {
                out.push(l);
            }
        }
        out
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

    /// Up to `slots` leases for `worker`, largest tasks first.
    pub fn lease(&mut self, now: Millis, worker: &WorkerId, slots: usize) -> Vec<Lease> {
        let mut out = Vec::with_capacity(slots);
        while out.len() < slots {
            let Some(rk) = self.ready.pop_first() else {
                break;
            };
            if let Some(l) = self.grant(now, worker, rk.key) {
                out.push(l);
            }
        }
        out
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
                    self.ready.remove(&ready_key(entry.cost, key));
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
        ready: &mut BTreeSet<ReadyKey>,
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
            ready.insert(ready_key(entry.cost, key));
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
mod tests {
    use super::*;

    fn key(n: u8) -> TaskKey {
        TaskKey([n; 32])
    }

    fn worker(name: &str) -> WorkerId {
        WorkerId(name.into())
    }

    fn queue(tasks: &[(u8, f64)]) -> Queue {
        let mut q = Queue::new(Policy {
            lease_ms: 1_000,
            max_attempts: 2,
            max_lost: 3,
        });
        for &(n, cost) in tasks {
            assert_eq!(q.add(key(n), cost), Added::New);
        }
        q
    }

    #[test]
    fn leases_go_largest_first_and_never_twice() {
        let mut q = queue(&[(1, 10.0), (2, 300.0), (3, 20.0), (4, 300.0)]);
        let a = q.lease(Millis(0), &worker("a"), 2);
        let b = q.lease(Millis(0), &worker("b"), 5);
        let order: Vec<TaskKey> = a.iter().chain(&b).map(|l| l.key).collect();
        assert_eq!(order, vec![key(2), key(4), key(3), key(1)]);
        let tokens: BTreeSet<LeaseToken> = a.iter().chain(&b).map(|l| l.token).collect();
        assert_eq!(tokens.len(), 4, "fencing tokens are unique");
        assert!(q.lease(Millis(0), &worker("c"), 1).is_empty());
        assert_eq!(q.counts().leased, 4);
    }

    #[test]
    fn adding_a_known_task_changes_nothing() {
        let mut q = queue(&[(1, 1.0)]);
        let l = q.lease(Millis(0), &worker("a"), 1);
        assert_eq!(
            q.complete(key(1), l[0].token, [7; 32]),
            Completion::Accepted { late: false }
        );
        assert_eq!(
            q.add(key(1), 1.0),
            Added::Known,
            "resubmission reuses the finished task"
        );
        assert_eq!(
            q.counts(),
            Counts {
                done: 1,
                ..Default::default()
            }
        );
        assert!(q.lease(Millis(0), &worker("a"), 1).is_empty());
    }

    #[test]
    fn heartbeats_keep_a_lease_alive_and_silence_expires_it() {
        let mut q = queue(&[(1, 1.0)]);
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        assert!(
            q.heartbeat(Millis(900), &worker("a"), &[(key(1), l.token)])
                .is_empty()
        );
        assert!(
            q.expire(Millis(1_500)).is_empty(),
            "the heartbeat moved expiry to 1900"
        );
        let expired = q.expire(Millis(1_900));
        assert_eq!(expired, vec![(key(1), l.token, FailOutcome::Requeued)]);
        // The old lease is dead for heartbeats and for failure reports.
        assert_eq!(
            q.heartbeat(Millis(2_000), &worker("a"), &[(key(1), l.token)]),
            vec![l.token]
        );
        assert_eq!(q.fail(key(1), l.token, "x".into()), FailOutcome::Stale);
        assert_eq!(q.counts().queued, 1);
    }

    #[test]
    fn another_worker_cannot_heartbeat_a_lease() {
        let mut q = queue(&[(1, 1.0)]);
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        assert_eq!(
            q.heartbeat(Millis(10), &worker("b"), &[(key(1), l.token)]),
            vec![l.token]
        );
    }

    #[test]
    fn a_late_result_is_accepted_once_and_its_duplicate_verified() {
        let mut q = queue(&[(1, 1.0)]);
        let first = q.lease(Millis(0), &worker("stopped"), 1).remove(0);
        q.expire(Millis(1_000));
        let second = q.lease(Millis(1_000), &worker("b"), 1).remove(0);
        assert_ne!(first.token, second.token);
        // The stopped worker wakes up and delivers first: the result counts, once.
        assert_eq!(
            q.complete(key(1), first.token, [9; 32]),
            Completion::Accepted { late: true }
        );
        // The current lease's result arrives later: identical bytes, dropped.
        assert_eq!(
            q.complete(key(1), second.token, [9; 32]),
            Completion::Duplicate
        );
        // Different bytes would be a determinism bug, reported and not counted.
        assert_eq!(
            q.complete(key(1), second.token, [8; 32]),
            Completion::Conflict { stored: [9; 32] }
        );
        assert_eq!(
            q.counts(),
            Counts {
                done: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn a_result_for_a_requeued_task_takes_it_off_the_ready_queue() {
        let mut q = queue(&[(1, 1.0)]);
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        q.expire(Millis(5_000));
        assert_eq!(
            q.complete(key(1), l.token, [1; 32]),
            Completion::Accepted { late: true }
        );
        assert!(
            q.lease(Millis(5_000), &worker("b"), 1).is_empty(),
            "not handed out again"
        );
    }

    #[test]
    fn failures_retry_up_to_the_limit_then_keep_the_last_error() {
        let mut q = queue(&[(1, 1.0)]);
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        assert_eq!(
            q.fail(key(1), l.token, "out of memory".into()),
            FailOutcome::Requeued
        );
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        assert_eq!(
            q.fail(key(1), l.token, "out of memory again".into()),
            FailOutcome::Failed
        );
        let e = q.entry(&key(1)).expect("known");
        assert_eq!((e.errors, e.lost), (2, 0));
        assert_eq!(
            e.state,
            TaskState::Failed {
                error: "out of memory again".into()
            }
        );
        assert!(q.lease(Millis(0), &worker("a"), 1).is_empty());
    }

    #[test]
    fn restart_grants_in_flight_leases_a_grace_period() {
        let mut q = queue(&[(1, 1.0), (2, 1.0)]);
        let ls = q.lease(Millis(0), &worker("a"), 2);
        // The coordinator was down from t = 100 to t = 60 000, far past every expiry.
        q.recover(Millis(60_000), 5_000);
        assert!(
            q.expire(Millis(60_000)).is_empty(),
            "no lease dies on restart"
        );
        // Worker a re-attaches for task 1 only; task 2's worker is gone.
        q.heartbeat(Millis(64_500), &worker("a"), &[(key(1), ls[0].token)]);
        let expired = q.expire(Millis(65_000));
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].0, ls[1].key);
    }

    #[test]
    fn a_worker_short_of_time_gets_only_tasks_that_fit() {
        let mut q = Queue::new(Policy::default());
        for (i, cost) in [(1u8, 10.0), (2, 5.0), (3, 1.0)] {
            q.add(key(i), cost);
        }
        let w = WorkerId("w".into());
        // Only tasks 2 and 3 fit; the largest of them first; task 1 stays queued.
        let got = q.lease_where(Millis(0), &w, 1, |k| *k != key(1));
        assert_eq!(got.iter().map(|l| l.key).collect::<Vec<_>>(), vec![key(2)]);
        assert!(q.lease_where(Millis(0), &w, 5, |_| false).is_empty());
        assert_eq!(q.counts().queued, 2);
        let rest = q.lease(Millis(0), &w, 5);
        assert_eq!(
            rest.iter().map(|l| l.key).collect::<Vec<_>>(),
            vec![key(1), key(3)]
        );
        assert!(rest[0].token > got[0].token, "one token sequence");
    }

    #[test]
    fn cancelled_and_failed_tasks_come_back_when_resubmitted() {
        let mut q = queue(&[(1, 1.0), (2, 2.0), (3, 3.0)]);
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        assert_eq!(l.key, key(3));
        assert!(q.cancel(key(3)), "a running task can be cancelled");
        assert!(q.cancel(key(2)), "a queued task can be cancelled");
        assert_eq!(
            q.heartbeat(Millis(1), &worker("a"), &[(key(3), l.token)]),
            vec![l.token],
            "the worker learns its lease is dead"
        );
        assert_eq!(
            q.lease(Millis(1), &worker("a"), 5).len(),
            1,
            "only task 1 is left"
        );
        // The cancelled task's result still arrives: it is valid and kept.
        assert_eq!(
            q.complete(key(3), l.token, [3; 32]),
            Completion::Accepted { late: true }
        );
        assert!(!q.cancel(key(3)), "done stays done");
        assert_eq!(q.add(key(3), 3.0), Added::Known);
        assert_eq!(q.add(key(2), 2.0), Added::Revived);
        let l = q.lease(Millis(2), &worker("a"), 5);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].key, key(2));
        assert_eq!(q.entry(&key(2)).map(|e| (e.errors, e.lost)), Some((0, 0)));
    }

    #[test]
    fn a_released_lease_does_not_use_up_an_attempt() {
        let mut q = queue(&[(1, 1.0)]);
        for _ in 0..5 {
            let l = q.lease(Millis(0), &worker("drained"), 1).remove(0);
            assert!(q.release(key(1), l.token));
            assert!(!q.release(key(1), l.token), "only the current lease");
        }
        assert_eq!(q.entry(&key(1)).map(|e| (e.errors, e.lost)), Some((0, 0)));
        assert_eq!(q.counts().queued, 1);
    }

    #[test]
    fn lost_workers_are_not_errors_but_have_their_own_limit() {
        let mut q = queue(&[(1, 1.0)]);
        // One reported error, then two vanished workers: still queued (limits 2 and 3).
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        assert_eq!(q.fail(key(1), l.token, "bad".into()), FailOutcome::Requeued);
        for t in [10_000, 20_000] {
            q.lease(Millis(t), &worker("killed"), 1);
            assert_eq!(q.expire(Millis(t + 1_000))[0].2, FailOutcome::Requeued);
        }
        let e = q.entry(&key(1)).expect("known");
        assert_eq!((e.errors, e.lost, &e.state), (1, 2, &TaskState::Queued));
        assert!(
            e.last_error
                .as_deref()
                .is_some_and(|m| m.contains("lost 2 worker(s)")),
            "{:?}",
            e.last_error
        );
        // The third lost worker is one too many: a task that kills its workers stops.
        q.lease(Millis(30_000), &worker("killed"), 1);
        assert_eq!(q.expire(Millis(31_000))[0].2, FailOutcome::Failed);
        assert_eq!(q.counts().failed, 1);
        // Reviving gives both budgets back.
        assert!(q.revive(key(1)));
        assert!(!q.revive(key(1)), "only failed or cancelled tasks");
        let e = q.entry(&key(1)).expect("known");
        assert_eq!((e.errors, e.lost), (0, 0));
    }

    #[test]
    fn zero_grace_requeues_orphaned_leases_at_once() {
        let mut q = queue(&[(1, 1.0), (2, 1.0), (3, 1.0)]);
        q.lease(Millis(0), &worker("died-with-us"), 2);
        assert_eq!(q.recover(Millis(5), 0).len(), 2);
        assert_eq!(q.counts().queued, 3);
        assert!(q.expire(Millis(10)).is_empty(), "nothing left to expire");
        assert_eq!(q.entry(&key(1)).map(|e| e.lost), Some(1));
    }

    #[test]
    fn restored_state_keeps_tokens_unique() {
        let mut q = queue(&[(1, 1.0), (2, 1.0)]);
        let l = q.lease(Millis(0), &worker("a"), 1).remove(0);
        let mut r = Queue::new(q.policy().clone());
        for k in [key(1), key(2)] {
            let e = q.entry(&k).cloned().expect("known");
            r.restore(k, e, q.next_token());
        }
        r.recover(Millis(10), 100);
        let fresh = r.lease(Millis(10), &worker("b"), 1).remove(0);
        assert!(fresh.token > l.token);
        assert!(
            r.heartbeat(Millis(20), &worker("a"), &[(l.key, l.token)])
                .is_empty(),
            "the restored lease is live for its worker"
        );
    }
}
