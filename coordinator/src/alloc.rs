//! Automatic worker allocation from the cluster's own scheduler (the model is HyperQueue's
//! `hq alloc`): when open tasks exceed what workers can take, submit worker jobs; never more
//! than `max_workers` allocations at once nor more than `backlog` waiting in the scheduler's
//! queue; back off after a failed submission and pause after repeated ones, with the reason
//! kept for `status`. Workers started this way exit on their own when idle, so allocation
//! never has to scale down.
//!
//! Plain synchronous state over plain data: the shell (`slurm`) runs `sbatch`/`squeue` and feeds
//! the outcomes back; every decision is here and tested without a scheduler.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct AllocPolicy {
    /// Most allocations (one worker each) alive at once, waiting or running.
    pub max_workers: usize,
    /// Most allocations waiting in the scheduler's queue.
    pub backlog: usize,
    /// Tasks one allocated worker runs at once (its `--slots`).
    pub slots: usize,
    /// Consecutive failed submissions that pause allocation.
    pub max_failures: u32,
    /// Wait after the first failed submission; doubles with each further failure.
    pub backoff_ms: u64,
}

impl Default for AllocPolicy {
    fn default() -> Self {
        AllocPolicy {
            max_workers: 4,
            backlog: 2,
            slots: 1,
            max_failures: 3,
            backoff_ms: 5_000,
        }
    }
}

/// An allocation's state in the scheduler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Waiting,
    Running,
}

/// Allocation state for `status` and `/metrics`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AllocStatus {
    /// "active" or "paused".
    pub state: &'static str,
    /// Why allocation is paused (the last submission error), or empty.
    pub reason: String,
    pub waiting: usize,
    pub running: usize,
    pub submitted: u64,
    /// Consecutive failed submissions.
    pub failures: u32,
}

#[derive(Clone, Debug)]
pub struct Allocator {
    policy: AllocPolicy,
    /// Job id → state, for every allocation the scheduler still lists.
    jobs: BTreeMap<String, JobState>,
    failures: u32,
    retry_at: u64,
    paused: Option<String>,
    submitted: u64,
}

impl Allocator {
    pub fn new(policy: AllocPolicy) -> Allocator {
        Allocator {
            policy,
            jobs: BTreeMap::new(),
            failures: 0,
            retry_at: 0,
            paused: None,
            submitted: 0,
        }
    }

    pub fn policy(&self) -> &AllocPolicy {
        &self.policy
    }

    /// Allocations to submit now, for `open_tasks` queued or running tasks and `workers`
    /// connected workers (started by anyone: hand-started workers also reduce the demand).
    pub fn wanted(&self, now_ms: u64, open_tasks: usize, workers: usize) -> usize {
        if self.paused.is_some() || now_ms < self.retry_at {
            return 0;
        }
        let demand = open_tasks.div_ceil(self.policy.slots.max(1));
        let waiting = self.count(JobState::Waiting);
        let running = self.count(JobState::Running);
        // Running allocations are among the connected workers once they attach; until then
        // they still count, so a slow start does not trigger more submissions.
        let supply = waiting + running.max(workers);
        let missing = demand.min(self.policy.max_workers).saturating_sub(supply);
        let room = self
            .policy
            .backlog
            .saturating_sub(waiting)
            .min(self.policy.max_workers.saturating_sub(self.jobs.len()));
        missing.min(room)
    }

    /// The outcome of one submission: the scheduler's job id, or its error message.
    pub fn submitted(&mut self, now_ms: u64, outcome: Result<String, String>) {
        match outcome {
            Ok(id) => {
                self.jobs.insert(id, JobState::Waiting);
                self.submitted += 1;
                self.failures = 0;
            }
            Err(why) => {
                self.failures += 1;
                if self.failures >= self.policy.max_failures {
                    self.paused = Some(format!(
                        "{} submissions failed in a row; last: {why}",
                        self.failures
                    ));
                } else {
                    let factor = 1u64 << (self.failures - 1).min(16);
                    self.retry_at = now_ms + self.policy.backoff_ms.saturating_mul(factor);
                }
            }
        }
    }

    /// Allocates again after a pause (the user fixed the cause, or it was transient), with a
    /// fresh count of failures. Returns whether allocation was paused; if it was not, nothing
    /// changes (a backoff in progress runs its course).
    pub fn resume(&mut self) -> bool {
        if self.paused.take().is_none() {
            return false;
        }
        self.failures = 0;
        self.retry_at = 0;
        true
    }

    /// The scheduler's current list of this allocator's jobs: allocations it no longer lists
    /// have ended (their workers exited or hit the time limit).
    pub fn observe(&mut self, listed: &BTreeMap<String, JobState>) {
        self.jobs.retain(|id, _| listed.contains_key(id));
        for (id, state) in &mut self.jobs {
            if let Some(s) = listed.get(id) {
                *state = *s;
            }
        }
    }

    /// Job ids still waiting in the scheduler's queue (to cancel when the coordinator stops).
    pub fn waiting(&self) -> Vec<String> {
        self.jobs
            .iter()
            .filter(|(_, s)| **s == JobState::Waiting)
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn count(&self, state: JobState) -> usize {
        self.jobs.values().filter(|s| **s == state).count()
    }

    pub fn status(&self) -> AllocStatus {
        AllocStatus {
            state: if self.paused.is_some() {
                "paused"
            } else {
                "active"
            },
            reason: self.paused.clone().unwrap_or_default(),
            waiting: self.count(JobState::Waiting),
            running: self.count(JobState::Running),
            submitted: self.submitted,
            failures: self.failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AllocPolicy {
        AllocPolicy {
            max_workers: 5,
            backlog: 2,
            slots: 4,
            max_failures: 3,
            backoff_ms: 1_000,
        }
    }

    fn listed(jobs: &[(&str, JobState)]) -> BTreeMap<String, JobState> {
        jobs.iter().map(|(id, s)| (id.to_string(), *s)).collect()
    }

    #[test]
    fn submits_for_the_demand_within_backlog_and_maximum() {
        let mut a = Allocator::new(policy());
        assert_eq!(a.wanted(0, 0, 0), 0, "no work, no allocation");
        assert_eq!(a.wanted(0, 3, 0), 1, "3 tasks fit one 4-slot worker");
        // 40 tasks want 10 workers: capped by the backlog of 2 waiting allocations.
        assert_eq!(a.wanted(0, 40, 0), 2);
        a.submitted(0, Ok("11".into()));
        a.submitted(0, Ok("12".into()));
        assert_eq!(a.wanted(0, 40, 0), 0, "backlog full");
        // Both start; their workers connect: room for two more waiting, five at most.
        a.observe(&listed(&[
            ("11", JobState::Running),
            ("12", JobState::Running),
        ]));
        assert_eq!(a.wanted(0, 40, 2), 2);
        a.submitted(0, Ok("13".into()));
        a.submitted(0, Ok("14".into()));
        a.observe(&listed(&[
            ("11", JobState::Running),
            ("12", JobState::Running),
            ("13", JobState::Running),
            ("14", JobState::Waiting),
        ]));
        assert_eq!(a.wanted(0, 40, 3), 1, "the fifth and last");
        a.submitted(0, Ok("15".into()));
        assert_eq!(a.wanted(0, 40, 3), 0, "max_workers reached");
        // A running allocation whose worker has not connected yet still counts.
        let mut b = Allocator::new(policy());
        b.submitted(0, Ok("1".into()));
        b.observe(&listed(&[("1", JobState::Running)]));
        assert_eq!(b.wanted(0, 4, 0), 0);
        // Hand-started workers reduce the demand.
        assert_eq!(Allocator::new(policy()).wanted(0, 8, 2), 0);
        // Ended allocations are forgotten, and the demand left decides.
        a.observe(&listed(&[]));
        assert_eq!(a.status().waiting + a.status().running, 0);
        assert_eq!(a.wanted(0, 4, 0), 1);
        assert_eq!(a.status().submitted, 5);
    }

    #[test]
    fn failed_submissions_back_off_then_pause_with_the_reason() {
        let mut a = Allocator::new(policy());
        a.submitted(100, Err("invalid partition".into()));
        assert_eq!(a.wanted(100, 8, 0), 0, "backing off");
        assert_eq!(a.wanted(1_100, 8, 0), 2, "after 1 s");
        a.submitted(1_100, Err("invalid partition".into()));
        assert_eq!(a.wanted(2_100, 8, 0), 0, "the delay doubled");
        assert_eq!(a.wanted(3_100, 8, 0), 2);
        // A success resets the count.
        a.submitted(3_100, Ok("7".into()));
        assert_eq!(a.status().failures, 0);
        for t in 0..3 {
            a.submitted(
                10_000 + t,
                Err("sbatch: error: invalid partition: nope".into()),
            );
        }
        let s = a.status();
        assert_eq!((s.state, s.failures), ("paused", 3));
        assert!(s.reason.contains("invalid partition: nope"), "{}", s.reason);
        assert_eq!(a.wanted(1_000_000, 100, 0), 0, "paused until resumed");
        // Resumed: allocating at once, with a fresh failure count and no reason.
        assert!(a.resume());
        let s = a.status();
        assert_eq!((s.state, s.failures, s.reason.as_str()), ("active", 0, ""));
        assert_eq!(
            a.wanted(1_000_000, 100, 1),
            1,
            "the backlog of 2 less job 7, still waiting"
        );
        assert!(!a.resume(), "was not paused");
        // One more failure backs off rather than pausing again at once, and resuming an
        // allocator that is not paused leaves its backoff alone.
        a.submitted(1_000_000, Err("invalid partition".into()));
        assert_eq!(a.status().state, "active");
        assert!(!a.resume());
        assert_eq!(a.status().failures, 1);
        assert_eq!(a.wanted(1_000_500, 100, 1), 0, "backing off");
        assert_eq!(a.wanted(1_001_000, 100, 1), 1);
    }
}
