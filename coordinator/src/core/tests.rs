use super::*;
use crate::aggregate::MissingTask;
use crate::alloc::AllocPolicy;
use crate::jobs;
use crate::queue::Counts;
use rgsweep_proto::result_to_wire;
use std::collections::BTreeMap;

const SWEEP: &str = r#"name = "core"
seed = 3
model = "ising2d"
sizes = [4, 6]
temperatures = [2.2, 2.4]
replicas = 2

[monte_carlo]
algorithm = "wolff"
thermalize = 10
measurements = 200
"#;

fn temp_db(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rgsweep-core-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("db")
}

fn open(db: &Path, now: u64) -> Core {
    Core::open(
        db,
        Policy {
            lease_ms: 1_000,
            max_attempts: 2,
            max_lost: 3,
        },
        Millis(now),
        500,
    )
    .expect("open")
}

/// A finished sweep's stored files.
fn stored(core: &Core, id: &str) -> Vec<(String, Vec<u8>)> {
    match core.results(id).expect("known sweep") {
        ResultsPlan::Stored(files) => files,
        ResultsPlan::Partial(job) => panic!("not finished: {:?}", job.partial),
    }
}

fn worker(n: &str) -> WorkerId {
    WorkerId(n.into())
}

/// Runs a lease's task as a worker would and verifies its result as the shell would.
fn compute(lease: &v1::Lease) -> Verified {
    let (task, seed) = task_from_wire(lease.task.as_ref().expect("task")).expect("valid");
    let key = TaskKey(lease.key.clone().try_into().expect("32 bytes"));
    verify(
        key,
        LeaseToken(lease.token),
        result_to_wire(&task.run(seed), seed),
    )
    .expect("valid")
}

fn run_jobs(core: &mut Core, db: &Path) {
    for job in core.take_jobs() {
        match jobs::run(db, &job) {
            Ok(jobs::JobOutput::Final(files)) => core.aggregated(&job.sweep_id, Ok(files)),
            Ok(jobs::JobOutput::Partial(tc)) => core.partial(Millis(10_000), &job.sweep_id, tc),
            Err(e) => panic!("job failed: {e}"),
        }
    }
    core.commit().expect("commit");
}

#[test]
fn an_invalid_sweep_changes_nothing() {
    let db = temp_db("invalid");
    let mut core = open(&db, 0);
    let bad = SWEEP.replace("replicas = 2", "replicas = 0");
    let e = core
        .submit(Millis(0), "bad.toml", &bad)
        .expect_err("invalid");
    assert!(e.to_string().contains("bad.toml:"), "{e}");
    core.commit().expect("commit");
    drop(core);
    let core = open(&db, 0);
    assert_eq!(core.counts(), Counts::default());
    assert!(
        core.status(Millis(0), "")
            .expect("status")
            .sweeps
            .is_empty()
    );
}

#[test]
fn a_sweep_runs_to_the_thread_pool_bytes_and_survives_restarts() {
    let db = temp_db("lifecycle");
    let mut core = open(&db, 0);
    let reply = core.submit(Millis(0), "core.toml", SWEEP).expect("valid");
    assert_eq!((reply.tasks, reply.reused), (8, 0));
    core.commit().expect("commit");
    let w = worker("w");
    // Two leases, largest first; one completes, then the coordinator "crashes".
    let leases = core.lease(Millis(10), &w, 2, 0, &[]);
    assert_eq!(leases.len(), 2);
    assert_eq!(leases[0].task.as_ref().map(|t| t.size), Some(6));
    let first = compute(&leases[0]);
    let first_digest = first.digest;
    assert_eq!(
        core.complete(Millis(20), &w, vec![first]),
        vec![v1::Outcome::Accepted]
    );
    core.commit().expect("commit");
    drop(core);

    let mut core = open(&db, 60_000);
    let st = core
        .status(Millis(60_000), &reply.sweep_id)
        .expect("status");
    assert_eq!(
        (st.sweeps[0].done, st.sweeps[0].leased),
        (1, 1),
        "state came back"
    );
    // The lease in flight survived with its token: its worker re-attaches within the grace.
    let key1 = TaskKey(leases[1].key.clone().try_into().expect("key"));
    assert!(
        core.heartbeat(Millis(60_100), &w, &[(key1, LeaseToken(leases[1].token))])
            .is_empty()
    );
    let second = compute(&leases[1]);
    assert_eq!(
        core.complete(Millis(60_200), &w, vec![second]),
        vec![v1::Outcome::Accepted]
    );
    // The rest, with a re-delivery of the first result: fenced as a duplicate.
    let rest = core.lease(Millis(60_300), &w, 100, 0, &[]);
    assert_eq!(rest.len(), 6);
    assert!(
        rest.iter().all(|l| l.token > leases[1].token),
        "tokens never reused"
    );
    let again = compute(&leases[0]);
    assert_eq!(again.digest, first_digest, "results are deterministic");
    assert_eq!(
        core.complete(Millis(60_400), &w, vec![again]),
        vec![v1::Outcome::Duplicate]
    );
    let results: Vec<Verified> = rest.iter().map(compute).collect();
    core.complete(Millis(60_500), &w, results);
    core.commit().expect("commit");
    assert_eq!(
        core.status(Millis(60_500), &reply.sweep_id)
            .expect("s")
            .sweeps[0]
            .state,
        "aggregating"
    );
    run_jobs(&mut core, &db);
    let files = stored(&core, &reply.sweep_id);
    // Same bytes as aggregating in-process results.
    let sweep = Sweep::parse(SWEEP, "core.toml").expect("valid");
    let local: Vec<_> = sweep.tasks().iter().map(|t| t.run(sweep.seed)).collect();
    let expected = crate::aggregate(&sweep, &local).expect("aggregate");
    // Every file, byte for byte (the store returns them by name).
    let mut want = expected.files();
    want.sort();
    assert_eq!(files, want);
    assert!(files.iter().any(|(n, _)| n == "report.html"));
    drop(core);
    // A finished sweep stays finished, and resubmitting it reuses everything.
    let mut core = open(&db, 90_000);
    let again = core
        .submit(Millis(90_000), "core.toml", SWEEP)
        .expect("valid");
    assert_eq!((again.sweep_id, again.reused), (reply.sweep_id.clone(), 8));
    assert!(core.lease(Millis(90_000), &w, 10, 0, &[]).is_empty());
    assert_eq!(stored(&core, &reply.sweep_id), files);
    drop(core);
    // A database whose outputs an older aggregation wrote: the finished sweep aggregates
    // again on open, from its stored results, without recomputing a task.
    let store = Store::open(&db).expect("store");
    store
        .conn
        .execute("UPDATE meta SET value = 1 WHERE key = 'aggregate'", [])
        .expect("older format");
    store
        .conn
        .execute("DELETE FROM outputs", [])
        .expect("outputs gone");
    drop(store);
    let mut core = open(&db, 95_000);
    assert_eq!(
        core.status(Millis(95_000), &reply.sweep_id)
            .expect("s")
            .sweeps[0]
            .state,
        "aggregating"
    );
    assert!(core.lease(Millis(95_000), &w, 10, 0, &[]).is_empty());
    run_jobs(&mut core, &db);
    assert_eq!(stored(&core, &reply.sweep_id), files);
    drop(core);
    // With the current format recorded, opening again changes nothing.
    let mut store = Store::open(&db).expect("store");
    assert_eq!(
        store
            .reaggregate_if_older(crate::aggregate::AGGREGATE_FORMAT)
            .expect("meta"),
        0
    );
}

#[test]
fn workers_short_of_time_get_only_tasks_expected_to_fit() {
    let db = temp_db("walltime");
    let mut core = open(&db, 0);
    // The largest tasks (L = 6, 36 sites) take 10 s; the L = 4 ones 16/36 of that, 4.4 s.
    let timed = format!("task_seconds = 10\n{SWEEP}");
    core.submit(Millis(0), "t.toml", &timed).expect("valid");
    let w = worker("w");
    assert!(
        core.lease(Millis(0), &w, 100, 1_000, &[]).is_empty(),
        "nothing fits 1 s"
    );
    let small = core.lease(Millis(0), &w, 100, 5_000, &[]);
    assert_eq!(small.len(), 4, "the four L = 4 tasks fit 5 s");
    assert!(
        small
            .iter()
            .all(|l| l.task.as_ref().is_some_and(|t| t.size == 4))
    );
    assert_eq!(
        core.lease(Millis(0), &w, 100, 20_000, &[]).len(),
        4,
        "the rest fit 20 s"
    );
    // Without an estimate every task fits any time left.
    let db = temp_db("walltime-none");
    let mut core = open(&db, 0);
    core.submit(Millis(0), "u.toml", SWEEP).expect("valid");
    assert_eq!(core.lease(Millis(0), &w, 100, 1, &[]).len(), 8);
}

#[test]
fn without_declared_times_tasks_are_estimated_from_timed_completions() {
    let db = temp_db("walltime-measured");
    let mut core = open(&db, 0);
    core.submit(Millis(0), "m.toml", SWEEP).expect("valid");
    let w = worker("w");
    // Three tasks run on a worker without a time limit, 9 s each from lease to result.
    let first = core.lease(Millis(0), &w, 3, 0, &[]);
    let sizes: Vec<u32> = first
        .iter()
        .map(|l| l.task.as_ref().map_or(0, |t| t.size))
        .collect();
    assert_eq!(sizes, vec![6, 6, 6], "largest first");
    let mut results: Vec<Verified> = first.iter().map(compute).collect();
    let last = results.split_off(2);
    // Two timed completions are too few to estimate from: everything still fits.
    core.complete(Millis(9_000), &w, results);
    let tight = worker("tight");
    let probe = core.lease(Millis(9_000), &tight, 100, 1, &[]);
    assert_eq!(probe.len(), 5);
    for l in &probe {
        let key = TaskKey(l.key.clone().try_into().expect("32 bytes"));
        core.fail(
            Millis(9_000),
            &tight,
            key,
            LeaseToken(l.token),
            String::new(),
            true,
        );
    }
    core.complete(Millis(9_000), &w, last);
    // 9 s per 36 sites with a 1.5 margin: an L = 6 task (36 sites) is expected to take
    // 13.5 s, an L = 4 one (16 sites) 6 s.
    assert!(
        core.lease(Millis(9_000), &tight, 100, 5_900, &[])
            .is_empty()
    );
    let small = core.lease(Millis(9_000), &tight, 100, 6_000, &[]);
    assert_eq!(small.len(), 4, "the four L = 4 tasks fit 6 s");
    assert!(
        core.lease(Millis(9_000), &tight, 100, 13_400, &[])
            .is_empty()
    );
    assert_eq!(core.lease(Millis(9_000), &tight, 100, 13_500, &[]).len(), 1);
}

#[test]
fn cancelling_keeps_tasks_another_live_sweep_needs() {
    let db = temp_db("cancel");
    let mut core = open(&db, 0);
    let a = core.submit(Millis(0), "a.toml", SWEEP).expect("valid");
    let wider = SWEEP.replace("[2.2, 2.4]", "[2.2, 2.4, 2.6]");
    let b = core.submit(Millis(0), "b.toml", &wider).expect("valid");
    assert_eq!((b.tasks, b.reused), (12, 8), "b shares a's tasks");
    assert_eq!(
        core.cancel(&a.sweep_id).expect("known"),
        0,
        "b still needs them all"
    );
    assert_eq!(core.cancel(&b.sweep_id).expect("known"), 12);
    assert!(core.lease(Millis(1), &worker("w"), 100, 0, &[]).is_empty());
    core.commit().expect("commit");
    // Resubmitting brings the cancelled tasks back.
    let again = core.submit(Millis(2), "a.toml", SWEEP).expect("valid");
    assert_eq!(again.sweep_id, a.sweep_id);
    assert_eq!(core.lease(Millis(3), &worker("w"), 100, 0, &[]).len(), 8);
    assert!(matches!(
        core.cancel("nope"),
        Err(CoreError::NoSuchSweep(_))
    ));
}

#[test]
fn paused_allocation_resumes_and_plans_again() {
    let db = temp_db("alloc");
    let mut core = open(&db, 0);
    assert!(matches!(core.alloc_resume(), Err(CoreError::NoAllocation)));
    core.enable_allocation(AllocPolicy {
        max_failures: 1,
        ..AllocPolicy::default()
    });
    core.submit(Millis(0), "a.toml", SWEEP).expect("valid");
    assert_eq!(core.alloc_plan(Millis(0)), 2, "the backlog's worth");
    core.alloc_submitted(Millis(0), Err("invalid partition".into()));
    assert_eq!(core.alloc_plan(Millis(1_000_000)), 0, "paused");
    assert!(core.alloc_resume().expect("allocating"), "was paused");
    assert_eq!(core.alloc_plan(Millis(1_000_000)), 2);
    assert!(!core.alloc_resume().expect("allocating"), "was active");
}

#[test]
fn failures_past_the_limit_fail_the_sweep_with_the_last_error() {
    let db = temp_db("fail");
    let mut core = open(&db, 0);
    let one = SWEEP
        .replace("sizes = [4, 6]", "sizes = [4]")
        .replace("[2.2, 2.4]", "[2.2]")
        .replace("replicas = 2", "replicas = 1");
    let s = core.submit(Millis(0), "one.toml", &one).expect("valid");
    let w = worker("w");
    for attempt in 0..2 {
        let l = core.lease(Millis(attempt), &w, 1, 0, &[]).remove(0);
        let key = TaskKey(l.key.try_into().expect("key"));
        let outcome = core.fail(
            Millis(attempt),
            &w,
            key,
            LeaseToken(l.token),
            format!("boom {attempt}"),
            false,
        );
        assert_eq!(outcome, if attempt == 0 { "requeued" } else { "failed" });
    }
    let st = core
        .status(Millis(5), &s.sweep_id)
        .expect("status")
        .sweeps
        .remove(0);
    assert_eq!(st.state, "failed");
    assert!(st.errors[0].contains("boom 1"), "{:?}", st.errors);
}

#[test]
fn status_offers_a_partial_tc_from_the_complete_points() {
    let db = temp_db("partial");
    let mut core = open(&db, 0);
    let text = SWEEP
        .replace("sizes = [4, 6]", "sizes = [4, 8, 12]")
        .replace("[2.2, 2.4]", "[2.1, 2.2, 2.3, 2.4]")
        .replace("measurements = 200", "measurements = 2000");
    let s = core.submit(Millis(0), "p.toml", &text).expect("valid");
    let w = worker("w");
    // Everything but L = 12 (leased first, as the largest, and left running).
    let all = core.lease(Millis(0), &w, 100, 0, &[]);
    let results: Vec<Verified> = all
        .iter()
        .filter(|l| l.task.as_ref().map(|t| t.size) != Some(12))
        .map(compute)
        .collect();
    assert_eq!(results.len(), 16);
    core.complete(Millis(1), &w, results);
    core.commit().expect("commit");
    assert!(
        core.status(Millis(1), &s.sweep_id).expect("s").sweeps[0]
            .partial_tc
            .is_none()
    );
    core.tick(Millis(10_000));
    run_jobs(&mut core, &db);
    let st = core
        .status(Millis(10_000), &s.sweep_id)
        .expect("s")
        .sweeps
        .remove(0);
    assert_eq!(st.state, "running");
    let tc = st.partial_tc.expect("sizes 4 and 8 cross");
    // Small lattices, short runs: only a sanity window around 2.269 (REFERENCE.md §1).
    assert!((tc.value - 2.269).abs() < 0.1 && tc.error > 0.0, "{tc:?}");
}

fn key_of(l: &v1::Lease) -> TaskKey {
    TaskKey(l.key.clone().try_into().expect("32 bytes"))
}

/// The files of `sweep` aggregated from in-process results, by name.
fn full_outputs(text: &str) -> Vec<(String, Vec<u8>)> {
    let sweep = Sweep::parse(text, "core.toml").expect("valid");
    let local: Vec<_> = sweep.tasks().iter().map(|t| t.run(sweep.seed)).collect();
    let mut files = crate::aggregate(&sweep, &local).expect("aggregate").files();
    files.sort();
    files
}

fn partial_files(core: &Core, db: &Path, id: &str) -> (Partial, BTreeMap<String, Vec<u8>>) {
    match core.results(id).expect("known sweep") {
        ResultsPlan::Partial(job) => {
            let files = jobs::partial_outputs(db, &job).expect("aggregates");
            (job.partial, files.into_iter().collect())
        }
        ResultsPlan::Stored(_) => panic!("finished"),
    }
}

fn text(files: &BTreeMap<String, Vec<u8>>, name: &str) -> String {
    String::from_utf8(files[name].clone()).expect("utf-8")
}

#[test]
fn a_failed_sweep_gives_its_finished_points_and_retry_completes_it() {
    let db = temp_db("failed-partial");
    let mut core = open(&db, 0);
    let s = core.submit(Millis(0), "core.toml", SWEEP).expect("valid");
    let w = worker("w");
    let leases = core.lease(Millis(0), &w, 100, 0, &[]);
    assert_eq!(leases.len(), 8);
    // A reports errors; B keeps losing its workers; the other six finish.
    let (a, b) = (key_of(&leases[0]), key_of(&leases[1]));
    core.complete(Millis(10), &w, leases[2..].iter().map(compute).collect());
    let fail = |core: &mut Core, l: &v1::Lease, now| {
        core.fail(
            Millis(now),
            &w,
            key_of(l),
            LeaseToken(l.token),
            "boom".into(),
            false,
        )
    };
    assert_eq!(fail(&mut core, &leases[0], 20), "requeued");
    core.tick(Millis(5_000)); // B's first lost worker
    let again = core.lease(Millis(5_000), &w, 100, 0, &[]);
    assert_eq!(again.len(), 2);
    let la = again.iter().find(|l| key_of(l) == a).expect("A again");
    assert_eq!(fail(&mut core, la, 5_010), "failed");
    core.tick(Millis(10_000));
    assert_eq!(
        core.lease(Millis(10_000), &w, 100, 0, &[]).len(),
        1,
        "B again"
    );
    core.tick(Millis(15_000)); // the third lost worker fails B (max_lost 3)
    core.commit().expect("commit");
    let st = core
        .status(Millis(15_000), &s.sweep_id)
        .expect("status")
        .sweeps
        .remove(0);
    assert_eq!((st.state.as_str(), st.done, st.failed), ("failed", 6, 2));
    assert_eq!((st.task_errors, st.workers_lost), (2, 3));
    let lines = st.errors.join("\n");
    assert!(
        lines.contains("failed after 2 error(s) and 0 lost worker(s): boom"),
        "{lines}"
    );
    assert!(
        lines.contains("failed after 0 error(s) and 3 lost worker(s): lost 3"),
        "{lines}"
    );

    // Partial outputs: the finished points aggregated as usual, the missing ones listed.
    let (partial, files) = partial_files(&core, &db, &s.sweep_id);
    assert_eq!((partial.state.as_str(), partial.points), ("failed", 4));
    let missing: Vec<&MissingTask> = partial.missing.iter().flat_map(|p| &p.tasks).collect();
    assert_eq!(missing.len(), 2);
    assert!(
        missing
            .iter()
            .all(|t| t.state == "failed" && t.reason.is_some())
    );
    let spec = |k: &TaskKey| core.specs.get(k).map(|s| (s.task.size, s.task.temperature));
    let lacking: BTreeSet<(usize, u64)> = [a, b]
        .iter()
        .filter_map(spec)
        .map(|(l, t)| (l, t.to_bits()))
        .collect();
    assert_eq!(partial.complete, 4 - lacking.len());
    let summary: serde_json::Value = serde_json::from_slice(&files["summary.json"]).expect("json");
    assert_eq!(summary["partial"]["state"], "failed");
    assert_eq!(
        summary["partial"]["missing"].as_array().map(Vec::len),
        Some(lacking.len())
    );
    // Each finished point's row is the row a full run writes; missing points have none.
    let full = full_outputs(SWEEP);
    let full_csv = String::from_utf8(
        full.iter()
            .find(|(n, _)| n == "observables.csv")
            .expect("csv")
            .1
            .clone(),
    )
    .expect("utf-8");
    let csv = text(&files, "observables.csv");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 4 - lacking.len());
    for r in &rows {
        assert!(
            full_csv.lines().any(|f| f == *r),
            "row {r} as in the full run"
        );
    }
    assert!(text(&files, "report.html").contains("Partial results"));

    // Retry: the two tasks run again and the sweep ends with the full run's bytes.
    assert_eq!(core.retry(&s.sweep_id).expect("known"), 2);
    let rest = core.lease(Millis(20_000), &w, 100, 0, &[]);
    assert_eq!(rest.len(), 2);
    core.complete(Millis(20_100), &w, rest.iter().map(compute).collect());
    core.commit().expect("commit");
    run_jobs(&mut core, &db);
    assert_eq!(stored(&core, &s.sweep_id), full);
    assert_eq!(
        core.retry(&s.sweep_id).expect("known"),
        0,
        "done stays done"
    );
}

#[test]
fn a_cancelled_sweep_gives_its_finished_points_and_retry_completes_it() {
    let db = temp_db("cancelled-partial");
    let mut core = open(&db, 0);
    let s = core.submit(Millis(0), "core.toml", SWEEP).expect("valid");
    let w = worker("w");
    let leases = core.lease(Millis(0), &w, 3, 0, &[]);
    core.complete(Millis(10), &w, leases[..2].iter().map(compute).collect());
    assert_eq!(core.cancel(&s.sweep_id).expect("known"), 6);
    core.commit().expect("commit");
    let (partial, files) = partial_files(&core, &db, &s.sweep_id);
    assert_eq!(partial.state, "cancelled");
    let states: BTreeSet<&str> = partial
        .missing
        .iter()
        .flat_map(|p| &p.tasks)
        .map(|t| t.state.as_str())
        .collect();
    assert_eq!(states, BTreeSet::from(["cancelled"]));
    assert_eq!(
        partial.missing.iter().map(|p| p.tasks.len()).sum::<usize>(),
        6
    );
    assert!(files.contains_key("observables.csv"));
    // The running task's result still arrives and counts.
    core.complete(Millis(20), &w, vec![compute(&leases[2])]);
    assert_eq!(core.retry(&s.sweep_id).expect("known"), 5);
    let st = core
        .status(Millis(30), &s.sweep_id)
        .expect("s")
        .sweeps
        .remove(0);
    assert_eq!((st.state.as_str(), st.queued, st.done), ("running", 5, 3));
    let rest = core.lease(Millis(30), &w, 100, 0, &[]);
    core.complete(Millis(40), &w, rest.iter().map(compute).collect());
    core.commit().expect("commit");
    run_jobs(&mut core, &db);
    assert_eq!(stored(&core, &s.sweep_id), full_outputs(SWEEP));
}

#[test]
fn a_running_sweep_with_nothing_finished_gives_empty_partial_outputs() {
    let db = temp_db("empty-partial");
    let mut core = open(&db, 0);
    let s = core.submit(Millis(0), "core.toml", SWEEP).expect("valid");
    core.commit().expect("commit");
    let (partial, files) = partial_files(&core, &db, &s.sweep_id);
    assert_eq!((partial.state.as_str(), partial.complete), ("running", 0));
    assert_eq!(
        text(&files, "observables.csv").lines().count(),
        1,
        "header only"
    );
    let summary: serde_json::Value = serde_json::from_slice(&files["summary.json"]).expect("json");
    assert!(summary["fss"]["tc"].is_null());
}

#[test]
fn a_sweep_saving_more_than_a_result_carries_is_refused_at_submit() {
    let db = temp_db("too-many-samples");
    let mut core = open(&db, 0);
    // 5000 configurations of 256² sites: 312 MiB per replica, past the 256 MiB limit.
    let big = format!(
        "save_samples = 5000\n{}",
        SWEEP
            .replace("sizes = [4, 6]", "sizes = [256]")
            .replace("measurements = 200", "measurements = 5000")
    );
    let e = core
        .submit(Millis(0), "big.toml", &big)
        .expect_err("too big");
    assert!(e.to_string().contains("field `save_samples`"), "{e}");
    core.commit().expect("commit");
    assert_eq!(core.counts(), Counts::default(), "nothing queued");
}

const EXTERNAL: &str = r#"name = "ext"
seed = 3
model = "external"
sampler = "mine"
configuration = "ising"
sizes = [4]
replicas = 2
configurations = 20

[parameters]
T = [2.2, 2.4]
"#;

#[test]
fn an_external_sweep_is_pinned_to_its_workers_version_and_waits_for_one_after_restarts() {
    let db = temp_db("external");
    let mut core = open(&db, 0);
    let mine = |version: &str| Capability {
        kind: "sampler".into(),
        name: "mine".into(),
        version: version.into(),
    };
    // Nobody has advertised the sampler: a file without a version cannot be planned.
    let e = core
        .submit(Millis(0), "ext.toml", EXTERNAL)
        .expect_err("no version");
    assert!(e.to_string().contains("sampler_version"), "{e}");
    // A worker advertises it (asking for work before any exists): the sweep pins its version.
    let able = worker("able");
    assert!(
        core.lease(Millis(10), &able, 1, 0, &[mine("2.1")])
            .is_empty()
    );
    let reply = core
        .submit(Millis(20), "ext.toml", EXTERNAL)
        .expect("pinned");
    assert_eq!(reply.tasks, 4);
    core.commit().expect("commit");
    // A plain worker and one with another version get nothing; while the able worker is
    // connected nothing is reported as waiting.
    assert!(
        core.lease(Millis(30), &worker("plain"), 4, 0, &[])
            .is_empty()
    );
    assert!(
        core.lease(Millis(30), &worker("old"), 4, 0, &[mine("2.0")])
            .is_empty()
    );
    let status = |core: &Core, now: u64| {
        core.status(Millis(now), &reply.sweep_id)
            .expect("status")
            .sweeps
            .remove(0)
    };
    assert!(status(&core, 40).waiting.is_empty());
    // The able worker goes quiet: the tasks wait for its capability, and scaling, which has
    // seen a worker with it, still counts them.
    let later = status(&core, 60_000);
    assert_eq!(later.waiting.len(), 1);
    assert_eq!(later.waiting[0].tasks, 4);
    assert_eq!(
        later.waiting[0]
            .capability
            .as_ref()
            .map(|c| c.version.as_str()),
        Some("2.1")
    );
    assert_eq!(core.snapshot(Millis(60_000)).open_tasks(), 4);
    // After a restart the pin survives (the file names no version) and the needs are rebuilt:
    // only the able worker's version is leased the tasks.
    drop(core);
    let mut core = open(&db, 70_000);
    assert!(
        core.lease(Millis(70_010), &worker("plain"), 4, 0, &[])
            .is_empty()
    );
    assert_eq!(
        core.snapshot(Millis(70_010)).unservable,
        4,
        "no worker seen since the restart"
    );
    let leases = core.lease(Millis(70_020), &able, 4, 0, &[mine("2.1")]);
    assert_eq!(leases.len(), 4);
    let e = leases[0].task.as_ref().and_then(|t| t.external.as_ref());
    assert_eq!(e.map(|e| e.version.as_str()), Some("2.1"));
    let again = core
        .submit(Millis(70_030), "ext.toml", EXTERNAL)
        .expect("resubmit");
    assert_eq!(
        (again.sweep_id, again.reused),
        (reply.sweep_id, 4),
        "the same sweep"
    );
}
