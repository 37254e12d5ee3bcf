//! The queue's tests: plain calls with explicit times.
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
    let got = q.lease_where(Millis(0), &w, 1, &[], |k| *k != key(1));
    assert_eq!(got.iter().map(|l| l.key).collect::<Vec<_>>(), vec![key(2)]);
    assert!(q.lease_where(Millis(0), &w, 5, &[], |_| false).is_empty());
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

fn sampler(name: &str, version: &str) -> Capability {
    Capability {
        kind: "sampler".into(),
        name: name.into(),
        version: version.into(),
    }
}

#[test]
fn a_task_that_needs_a_capability_goes_only_to_a_worker_that_has_it() {
    let mine = sampler("mine", "1");
    let need = Some(std::sync::Arc::new(mine.clone()));
    let mut q = Queue::new(Policy::default());
    q.add_needing(key(1), 9.0, need.clone());
    q.add_needing(key(2), 5.0, need.clone());
    q.add(key(3), 1.0);
    // A plain worker gets the built-in task only, however large the others are.
    let plain = q.lease(Millis(0), &worker("plain"), 5);
    assert_eq!(
        plain.iter().map(|l| l.key).collect::<Vec<_>>(),
        vec![key(3)]
    );
    // Another version is another capability.
    let old = q.lease_where(
        Millis(0),
        &worker("old"),
        5,
        &[sampler("mine", "0")],
        |_| true,
    );
    assert!(old.is_empty());
    assert_eq!(
        q.queued_by_need().collect::<Vec<_>>(),
        vec![(need.as_ref(), 2)],
        "both wait, counted under their need"
    );
    // A capable worker gets them largest first; failed, they queue under their need again.
    let got = q.lease_where(
        Millis(0),
        &worker("able"),
        1,
        std::slice::from_ref(&mine),
        |_| true,
    );
    assert_eq!(got[0].key, key(1));
    assert_eq!(
        q.fail(key(1), got[0].token, "boom".into()),
        FailOutcome::Requeued
    );
    assert!(q.lease(Millis(0), &worker("plain"), 5).is_empty());
    let got = q.lease_where(Millis(0), &worker("able"), 5, &[mine], |_| true);
    assert_eq!(
        got.iter().map(|l| l.key).collect::<Vec<_>>(),
        vec![key(1), key(2)]
    );
    assert_eq!(q.queued_by_need().count(), 0);
}
