//! Nothing computed is out of reach: a failed or cancelled sweep hands out its finished points
//! (marked partial, the missing ones listed with their reasons), `retry` completes it to the
//! bytes of a run where nothing went wrong, and a backup taken mid-sweep carries on in a fresh
//! coordinator. Real processes on 127.0.0.1; every wait polls observable state.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The e2e sweep: 9 points of 2 tasks each, 0.1–0.3 s a task.
const SWEEP: &str = E2E_SWEEP;

fn reference_outputs() -> &'static PathBuf {
    static REF: OnceLock<PathBuf> = OnceLock::new();
    reference_once(&REF, SWEEP)
}

fn ok(o: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    stderr
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).expect("summary.json"))
        .expect("json")
}

/// Fetches partial results into `out` and checks what they say: the sweep's state, the
/// missing points (state of every missing task), and one row per finished point.
fn check_partial(c: &Coord, id: &str, out: &Path, state: &str, task_state: &str) -> usize {
    let stderr = ok(&c.cli(&["results", id, "--out", s(out)]));
    let p = &summary(out)["partial"];
    assert_eq!(p["state"], state, "{p}");
    assert_eq!(p["points"], 9, "{p}");
    let missing = p["missing"].as_array().expect("missing points").len();
    assert!(missing > 0 && missing < 9, "{p}");
    assert!(
        stderr.contains(&format!(
            "partial results: sweep {id} is {state}; {missing} of 9 points missing"
        )),
        "{stderr}"
    );
    for point in p["missing"].as_array().into_iter().flatten() {
        for t in point["tasks"].as_array().into_iter().flatten() {
            assert_eq!(t["state"], task_state, "{t}");
        }
    }
    let csv = std::fs::read_to_string(out.join("observables.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 1 + 9 - missing, "{csv}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(html.contains("Partial results"), "the report says so");
    missing
}

#[test]
fn a_failed_sweep_hands_out_its_finished_points_and_retry_completes_it() {
    let dir = scratch("failed-sweep");
    let file = write(&dir, "sweep.toml", SWEEP);
    // One lost worker is all a task may cost: a killed worker fails its task.
    let c = Coord::start_with(&dir, None, "1", "1", &["--max-lost", "1"]);
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    // Kill a worker mid-task; should it deliver in the instant before the signal, the next
    // one is killed, until a task has lost its worker.
    let mut killed = 0;
    loop {
        killed += 1;
        let name = format!("w{killed}");
        let mut w = c.worker("1", &name);
        wait_for(&format!("{name} to be mid-task"), 60, || {
            (c.status(&id)["leased"].as_u64() == Some(1)).then_some(())
        });
        w.kill9();
        let st = wait_for("the lease to expire", 30, || {
            let st = c.status(&id);
            (st["leased"].as_u64() == Some(0)).then_some(st)
        });
        if st["failed"].as_u64() == Some(1) {
            break;
        }
        assert!(killed < 5, "no kill landed mid-task: {st}");
    }
    let _rest = c.worker("2", "rest");
    let st = c.wait_end(&id, "failed", 120);
    assert_eq!(
        (st["failed"].as_u64(), st["workers_lost"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        st["task_errors"], 0,
        "a lost worker is no error of the task"
    );
    let errors = st["errors"].to_string();
    assert!(
        errors.contains("failed after 0 error(s) and 1 lost worker(s)"),
        "{errors}"
    );

    let out = dir.join("partial");
    check_partial(&c, &id, &out, "failed", "failed");
    let reason = summary(&out)["partial"]["missing"][0]["tasks"][0]["reason"].to_string();
    assert!(
        reason.contains("lost 1 worker(s)") && reason.contains("w1"),
        "{reason}"
    );

    let o = c.cli(&["retry", &id]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 task(s) queued again"));
    c.wait_state(&id, "done", 120);
    let full = dir.join("full");
    let stderr = ok(&c.cli(&["results", &id, "--out", s(&full)]));
    assert!(!stderr.contains("partial"), "{stderr}");
    assert_same_files(&full, reference_outputs());
}

#[test]
fn a_cancelled_sweep_hands_out_its_finished_points_and_retry_completes_it() {
    let dir = scratch("cancelled-sweep");
    let file = write(&dir, "sweep.toml", SWEEP);
    let c = Coord::start(&dir, None, "2", "2");
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    let w = c.worker("1", "w");
    wait_for("four finished tasks", 60, || {
        (c.status(&id)["done"].as_u64() >= Some(4)).then_some(())
    });
    ok(&c.cli(&["cancel", &id]));
    let st = c.wait_end(&id, "cancelled", 10);
    assert!(st["cancelled"].as_u64() >= Some(1), "{st}");
    check_partial(&c, &id, &dir.join("partial"), "cancelled", "cancelled");
    // The worker's running task was cancelled under it; let it finish or drop it, then retry.
    let o = c.cli(&["retry", &id]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    c.wait_state(&id, "done", 120);
    let full = dir.join("full");
    ok(&c.cli(&["results", &id, "--out", s(&full)]));
    assert_same_files(&full, reference_outputs());
    drop(w);
}

#[test]
fn a_backup_taken_mid_sweep_carries_on_in_a_fresh_coordinator() {
    let dir = scratch("backup");
    let file = write(&dir, "sweep.toml", SWEEP);
    let periodic = dir.join("periodic");
    let mut c1 = Coord::start_with(
        &dir,
        None,
        "2",
        "2",
        &[
            "--backup-dir",
            s(&periodic),
            "--backup-every",
            "0.3",
            "--backup-keep",
            "2",
        ],
    );
    let id = c1.submit(&file)["sweep"].as_str().expect("id").to_string();
    let mut w1 = c1.worker("2", "w1");
    wait_for("a third of the sweep", 60, || {
        (c1.status(&id)["done"].as_u64() >= Some(6)).then_some(())
    });
    let fresh = dir.join("fresh");
    std::fs::create_dir_all(&fresh).expect("dir");
    // Taken while the worker keeps delivering.
    let o = c1.cli(&["backup", s(&db(&fresh)), "--json"]);
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("backup --json");
    let size = std::fs::metadata(db(&fresh)).expect("copy").len();
    assert_eq!(v["bytes"].as_u64(), Some(size), "{v}");
    let refused = c1.cli(&["backup", s(&db(&fresh))]);
    assert!(
        !refused.status.success(),
        "an existing file is never overwritten"
    );
    let (at_backup, results) = done_tasks(&db(&fresh));
    assert!(at_backup.len() >= 6 && at_backup.len() as i64 == results);
    // Periodic backups meanwhile: at most the two newest kept, each a sound database.
    wait_for("two sound periodic backups", 30, || {
        let files: Vec<PathBuf> = std::fs::read_dir(&periodic)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "db"))
            .collect();
        if files.len() != 2 {
            return None;
        }
        for f in &files {
            if let Err(e) = rgsweep_coordinator::store::check_copy(f) {
                // Rotation can remove the older copy between listing and opening it (seen
                // once: "unable to open database file"): list again. A copy that is still
                // there and unsound is a real failure.
                if !f.exists() {
                    return None;
                }
                panic!("{}: not a sound copy: {e:?}", f.display());
            }
        }
        Some(files)
    });
    // The first coordinator's machine is gone, with its disk and workers.
    w1.kill9();
    c1.proc.kill9();
    let c2 = Coord::start(&fresh, None, "2", "2");
    let _w2 = c2.worker("2", "w2");
    c2.wait_state(&id, "done", 120);
    let (after, results) = done_tasks(&db(&fresh));
    assert_eq!((after.len(), results), (18, 18));
    for t in &at_backup {
        assert!(after.contains(t), "a result in the backup was recomputed");
    }
    let out = fresh.join("out");
    ok(&c2.cli(&["results", &id, "--out", s(&out)]));
    assert_same_files(&out, reference_outputs());
}
