//! End-to-end tests of the distributed machinery with real processes on 127.0.0.1: the same
//! bytes whatever the number of workers and failures, nothing committed lost or recomputed,
//! late results fenced, bad input and bad tokens refused without changing anything.

mod common;

use common::*;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::{E2E_SWEEP as SWEEP, E2E_TASKS as TASKS};

/// The thread-pool outputs of [`SWEEP`], computed once for every test.
fn reference_outputs() -> &'static PathBuf {
    static REF: OnceLock<PathBuf> = OnceLock::new();
    reference_once(&REF, SWEEP)
}

#[test]
fn one_and_four_workers_give_the_thread_pool_bytes() {
    let dir = scratch("workers");
    let file = write(&dir, "sweep.toml", SWEEP);
    // One in-process worker over loopback gRPC.
    let one = dir.join("one");
    let o = rgsweep(&[
        "run",
        s(&file),
        "--workers",
        "1",
        "--threads",
        "1",
        "--out",
        s(&one),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_outputs(
        &one,
        reference_outputs(),
        "1 in-process worker vs thread pool",
    );
    // Four worker processes.
    let c = Coord::start(&dir, None, "5", "5");
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    let workers: Vec<Proc> = (0..4).map(|i| c.worker("1", &format!("w{i}"))).collect();
    c.wait_state(&id, "done", 120);
    let four = dir.join("four");
    c.results(&id, &four);
    assert_same_outputs(
        &four,
        reference_outputs(),
        "4 worker processes vs thread pool",
    );
    let (done, results) = done_tasks(&db(&dir));
    assert_eq!((done.len() as u64, results as u64), (TASKS, TASKS));
    drop(workers);
}

#[test]
fn a_worker_killed_mid_task_loses_nothing() {
    let dir = scratch("kill-worker");
    let file = write(&dir, "sweep.toml", SWEEP);
    let c = Coord::start(&dir, None, "1", "1");
    let out = dir.join("out");
    c.run_with_a_killed_worker(&file, &out);
    assert_same_outputs(&out, reference_outputs(), "after kill -9 of a worker");
    let (done, results) = done_tasks(&db(&dir));
    assert_eq!((done.len() as u64, results as u64), (TASKS, TASKS));
    assert!(
        done.iter().any(|(_, lost, _)| *lost >= 1),
        "the killed worker's tasks were leased again, each as a lost worker"
    );
}

#[test]
fn a_killed_coordinator_restarts_without_losing_or_recomputing_results() {
    let dir = scratch("kill-coordinator");
    let file = write(&dir, "sweep.toml", SWEEP);
    let mut c1 = Coord::start(&dir, None, "2", "10");
    let id = c1.submit(&file)["sweep"].as_str().expect("id").to_string();
    let mut w = c1.worker("2", "w");
    wait_for("a third of the sweep", 60, || {
        (c1.status(&id)["done"].as_u64() >= Some(TASKS / 3)).then_some(())
    });
    c1.proc.kill9();
    let (before, stored) = done_tasks(&db(&dir));
    assert_eq!(
        before.len() as i64,
        stored,
        "every done task has its result row"
    );
    assert!(before.len() < TASKS as usize, "killed mid-sweep");
    // Same port and database; the worker has kept computing and re-attaches by itself.
    let c2 = Coord::start(&dir, Some(c1.port), "2", "10");
    c2.wait_state(&id, "done", 120);
    let (after, results) = done_tasks(&db(&dir));
    assert_eq!((after.len() as u64, results as u64), (TASKS, TASKS));
    for task in &before {
        assert!(
            after.contains(task),
            "a result committed before the crash was lost or recomputed"
        );
    }
    let out = dir.join("out");
    c2.results(&id, &out);
    assert_same_outputs(
        &out,
        reference_outputs(),
        "after kill -9 of the coordinator",
    );
    w.signal("-TERM");
    let (code, log) = w.wait_exit(60);
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn an_interrupted_run_resumes_without_recomputing() {
    let dir = scratch("resume");
    let file = write(&dir, "sweep.toml", SWEEP);
    let out = dir.join("out");
    let mut run = Proc::spawn(
        &["run", s(&file), "--threads", "2", "--out", s(&out)],
        dir.join("run.log"),
    );
    // The run writes an access file, so it can be followed like any coordinator.
    let access = out.join("access.json");
    wait_for("a third of the run", 60, || {
        let o = rgsweep(&["status", "--access", s(&access), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
        (v["sweeps"][0]["done"].as_u64()? >= TASKS / 3).then_some(())
    });
    run.kill9();
    let (before, _) = done_tasks(&out.join("rgsweep.db"));
    assert!(!before.is_empty() && before.len() < TASKS as usize);
    let o = rgsweep(&["run", s(&file), "--threads", "2", "--out", s(&out)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    // One line says what was reused; the previous process's leases are no warning.
    assert!(
        stderr.contains(&format!(
            "resuming: {} of {TASKS} tasks already done",
            before.len()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("WARN"), "{stderr}");
    let (after, results) = done_tasks(&out.join("rgsweep.db"));
    assert_eq!((after.len() as u64, results as u64), (TASKS, TASKS));
    for t in &before {
        assert!(after.contains(t), "a finished task was recomputed");
    }
    assert_same_outputs(
        &out,
        reference_outputs(),
        "after resuming an interrupted run",
    );
}

/// Two tasks of about a second each, so a worker can be stopped in the middle of one.
const LONG: &str = r#"name = "long"
seed = 5
model = "ising2d"
sizes = [64]
temperatures = [2.25, 2.3]
replicas = 1

[monte_carlo]
algorithm = "metropolis"
thermalize = 100
measurements = 150000
"#;

#[test]
fn a_stopped_worker_s_late_result_is_fenced() {
    let dir = scratch("sigstop");
    let file = write(&dir, "sweep.toml", LONG);
    let c = Coord::start(&dir, None, "1", "1");
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    let mut a = c.worker("1", "a");
    wait_for("a to take a task", 60, || {
        (c.status(&id)["leased"].as_u64() == Some(1)).then_some(())
    });
    a.signal("-STOP");
    // b does both tasks: one at once, the other after a's lease expires.
    let mut b = c.worker("2", "b");
    c.wait_state(&id, "done", 120);
    let out1 = dir.join("out1");
    c.results(&id, &out1);
    let before = done_tasks(&db(&dir));
    assert!(before.0.iter().any(|(_, lost, _)| *lost == 1));
    // a wakes up, finishes its task and delivers it: identical bytes, dropped.
    a.signal("-CONT");
    a.signal("-TERM");
    let (code, log) = a.wait_exit(60);
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(
        worker_counts(&log),
        (1, 0, 1),
        "the late result was fenced: {log}"
    );
    assert_eq!(done_tasks(&db(&dir)), before, "counts unchanged");
    let out2 = dir.join("out2");
    c.results(&id, &out2);
    assert_same_outputs(&out1, &out2, "after the late result");
    b.signal("-TERM");
    assert_eq!(b.wait_exit(60).0, Some(0));
}

#[test]
fn workers_join_late_and_leave_early() {
    let dir = scratch("elastic");
    let file = write(&dir, "sweep.toml", SWEEP);
    // A worker started before its coordinator waits for it.
    let access = dir.join("access.json");
    let mut w1 = Proc::spawn(
        &[
            "worker",
            "--access",
            s(&access),
            "--slots",
            "1",
            "--id",
            "early",
        ],
        dir.join("early.log"),
    );
    let c = Coord::start(&dir, None, "2", "2");
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    wait_for("the early worker to deliver", 60, || {
        (c.status(&id)["done"].as_u64() >= Some(2)).then_some(())
    });
    let _w2 = c.worker("1", "late");
    wait_for("half the sweep", 60, || {
        (c.status(&id)["done"].as_u64() >= Some(TASKS / 2)).then_some(())
    });
    // Drain: the early worker finishes its task, delivers and exits 0.
    w1.signal("-TERM");
    let (code, log) = w1.wait_exit(60);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("worker done"), "{log}");
    assert!(
        !log.contains("0 accepted"),
        "the early worker did work: {log}"
    );
    let _w3 = c.worker("1", "later");
    c.wait_state(&id, "done", 120);
    let out = dir.join("out");
    c.results(&id, &out);
    assert_same_outputs(
        &out,
        reference_outputs(),
        "with workers joining and leaving",
    );
    let (done, results) = done_tasks(&db(&dir));
    assert_eq!((done.len() as u64, results as u64), (TASKS, TASKS));
}

#[test]
fn resubmitting_reuses_results_and_extending_computes_only_new_points() {
    let dir = scratch("resubmit");
    let file = write(&dir, "sweep.toml", SWEEP);
    let c = Coord::start(&dir, None, "5", "5");
    let first = c.submit(&file);
    assert_eq!(
        (first["tasks"].as_u64(), first["reused"].as_u64()),
        (Some(TASKS), Some(0))
    );
    let id = first["sweep"].as_str().expect("id").to_string();
    let mut w = c.worker("2", "w");
    c.wait_state(&id, "done", 120);
    w.signal("-TERM");
    assert_eq!(w.wait_exit(60).0, Some(0));
    let (done_before, _) = done_tasks(&db(&dir));
    // Same file, no worker running: done at once from stored results.
    let again = c.submit(&file);
    assert_eq!(again["sweep"], first["sweep"]);
    assert_eq!(again["reused"].as_u64(), Some(TASKS));
    assert_eq!(c.status(&id)["state"], "done");
    // Watching a finished sweep prints its final state once and ends.
    let o = rgsweep(&["status", &id, "--watch", "--json", "--access", s(&c.access)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0]["state"].as_str(), lines[0]["done"].as_u64()),
        (Some("done"), Some(TASKS))
    );
    // One more temperature: only its 6 tasks are queued.
    let extended = write(
        &dir,
        "extended.toml",
        &SWEEP.replace("[2.22, 2.27, 2.32]", "[2.22, 2.27, 2.32, 2.37]"),
    );
    let ext = c.submit(&extended);
    assert_eq!(
        (ext["tasks"].as_u64(), ext["reused"].as_u64()),
        (Some(24), Some(TASKS))
    );
    let ext_id = ext["sweep"].as_str().expect("id").to_string();
    let st = c.status(&ext_id);
    assert_eq!(
        (st["queued"].as_u64(), st["done"].as_u64()),
        (Some(6), Some(TASKS))
    );
    let _w = c.worker("2", "w2");
    c.wait_state(&ext_id, "done", 120);
    let (done_after, results) = done_tasks(&db(&dir));
    assert_eq!(results, 24);
    for t in &done_before {
        assert!(done_after.contains(t), "an old point was recomputed");
    }
}

#[test]
fn bad_sweep_files_and_bad_tokens_change_nothing() {
    let dir = scratch("bad-input");
    let c = Coord::start(&dir, None, "5", "5");
    for (name, text, expect) in [
        (
            "syntax.toml",
            "name = \"x\"\nseed = = 3\n",
            "syntax.toml:2:",
        ),
        (
            "unknown.toml",
            &SWEEP.replace("replicas = 2", "replicas = 2\ncolour = \"red\""),
            "colour",
        ),
        (
            "invalid.toml",
            &SWEEP.replace("sizes = [8, 16, 32]", "sizes = [8, -16]"),
            "sizes",
        ),
    ] {
        let f = write(&dir, name, text);
        let o = rgsweep(&["submit", s(&f), "--access", s(&c.access)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(name) && err.contains(expect), "{name}: {err}");
    }
    let good = write(&dir, "good.toml", SWEEP);
    let address = format!("http://127.0.0.1:{}", c.port);
    for args in [
        vec![
            "submit",
            s(&good),
            "--coordinator",
            &address,
            "--token",
            "wrong",
        ],
        vec!["status", "--coordinator", &address, "--token", "wrong"],
    ] {
        let o = rgsweep(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("Unauthenticated"), "{err}");
    }
    let o = rgsweep(&[
        "worker",
        "--coordinator",
        &address,
        "--token",
        "wrong",
        "--slots",
        "1",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("refused"), "{err}");
    // Nothing was queued.
    let o = rgsweep(&["status", "--access", s(&c.access), "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["sweeps"].as_array().map(Vec::len), Some(0), "{v}");
    let (done, results) = done_tasks(&db(&dir));
    assert_eq!((done.len(), results), (0, 0));
    assert!(
        c.proc.log_text().contains("request rejected"),
        "rejections are logged"
    );
    // The access file holds a secret: owner-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&c.access)
            .expect("access")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// `rsmi.csv` without its last column (training seconds: wall time, the one value a rerun
/// cannot reproduce).
fn rsmi_without_seconds(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("rsmi.csv"))
        .expect("rsmi.csv")
        .lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head).to_string() + "\n")
        .collect()
}

#[test]
fn rsmi_and_flow_outputs_do_not_depend_on_workers_or_kills() {
    let dir = scratch("rsmi");
    let file = write(&dir, "sweep.toml", RSMI_SWEEP);
    let reference = dir.join("reference");
    common::reference(&file, &reference);
    assert_eq!(rsmi_without_seconds(&reference).lines().count(), 1 + 4 * 2);
    // 4 temperatures × 6 maps × levels 0..=2 × 6 operators; the audit of levels 1..=2.
    let flows = std::fs::read_to_string(reference.join("flows.csv")).expect("flows.csv");
    assert_eq!(flows.lines().count(), 1 + 4 * 6 * 3 * 6);
    let layers = std::fs::read_to_string(reference.join("layers.csv")).expect("layers.csv");
    assert_eq!(layers.lines().count(), 1 + 4 * 6 * 2);
    // The report: self-contained (the only URL is SVG's namespace, nothing is fetched), one
    // figure per observable, RSMI and map, each with axes, labels and data; the estimates
    // table; and `rgsweep report` rebuilds the same bytes from the files alone.
    let html = std::fs::read_to_string(reference.join("report.html")).expect("report.html");
    for bad in ["<script", "<link", "<img", "src=", "url("] {
        assert!(!html.contains(bad), "{bad}");
    }
    assert!(
        html.split("http")
            .skip(1)
            .all(|r| r.starts_with("://www.w3.org/2000/svg")),
        "only the SVG namespace"
    );
    let figures: Vec<&str> = html.split("<svg").skip(1).collect();
    // Binder, χ, |m| (one size: no collapse), RSMI's I(H:E) and filters, per map the K₁ flow
    // and its plane, the RSMI rule of every level, the audit's relevance per temperature and
    // relevance against rangeness, the RBMs' receptive fields and the information plane per
    // temperature.
    assert_eq!(figures.len(), 3 + 2 + 6 * 2 + 1 + 4 * 4);
    // 4 temperatures × 2 levels × (the RBM's epochs 1, 2, 5 and the autoencoder's 1, 2).
    let plane = std::fs::read_to_string(reference.join("information-plane.csv")).expect("plane");
    assert_eq!(plane.lines().count(), 1 + 4 * 2 * (3 + 2));
    for (k, svg) in figures.iter().enumerate() {
        let svg = &svg[..svg.find("</svg>").expect("closed")];
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim()))
            .collect();
        if svg.contains("<polyline") {
            assert!(
                ["T", "K1", "level", "K(2,0) / K1", "I(V:H) (nats)"]
                    .iter()
                    .any(|x| texts.contains(x)),
                "figure {k}: x label in {texts:?}"
            );
            assert!(texts.len() >= 8, "figure {k}: tick labels {texts:?}");
        } else {
            // A heat map of filters: a row per temperature, 2×2 weights per panel.
            assert!(texts.contains(&"T = 2.269"), "figure {k}: rows {texts:?}");
            assert!(
                svg.matches("<rect").count() > 4 * 2 * 4,
                "figure {k}: panels"
            );
        }
    }
    // Each figure also as a PNG beside the page, linked from its caption.
    let pngs: Vec<String> = std::fs::read_dir(&reference)
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("fig-") && n.ends_with(".png"))
        .collect();
    assert_eq!(pngs.len(), figures.len(), "{pngs:?}");
    for png in &pngs {
        assert!(
            html.contains(&format!("<a href=\"{png}\">PNG</a>")),
            "{png}"
        );
        let bytes = std::fs::read(reference.join(png)).expect("png");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{png}");
    }
    for row in [
        "T_c (FSS)",
        "ν (FSS)",
        "T_c (rsmi flow)",
        "y_h (majority flow)",
    ] {
        assert!(html.contains(&format!("<tr><td>{row}</td>")), "{row}");
    }
    let copy = dir.join("copy");
    std::fs::create_dir_all(&copy).expect("dir");
    // Every input a spin sweep with RSMI and flows writes (cluster-sizes.csv is percolation's,
    // maze-*.csv a maze sweep's).
    for f in rgsweep_coordinator::report::INPUTS
        .into_iter()
        .filter(|f| *f != "cluster-sizes.csv" && !f.starts_with("maze-"))
    {
        std::fs::copy(reference.join(f), copy.join(f)).expect("copy");
    }
    // A figure an older report had (figures are numbered by place) does not survive.
    write(&copy, "fig-13-stale.png", "old");
    let o = rgsweep(&["report", s(&copy)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !copy.join("fig-13-stale.png").exists(),
        "stale figure removed"
    );
    assert_eq!(
        std::fs::read_to_string(copy.join("report.html")).expect("regenerated"),
        html
    );
    for png in &pngs {
        assert!(
            std::fs::read(copy.join(png)).expect("regenerated")
                == std::fs::read(reference.join(png)).expect("png"),
            "{png}"
        );
    }
    // Four worker processes.
    let four = dir.join("four");
    std::fs::create_dir_all(&four).expect("dir");
    let c = Coord::start(&four, None, "5", "5");
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    let workers: Vec<Proc> = (0..4).map(|i| c.worker("1", &format!("w{i}"))).collect();
    c.wait_state(&id, "done", 120);
    c.results(&id, &four.join("out"));
    drop(workers);
    // One worker killed mid-task, another finishing.
    let killed = dir.join("killed");
    std::fs::create_dir_all(&killed).expect("dir");
    let c = Coord::start(&killed, None, "1", "1");
    c.run_with_a_killed_worker(&file, &killed.join("out"));
    for (out, what) in [
        (four.join("out"), "4 workers"),
        (killed.join("out"), "after a kill"),
    ] {
        assert_same_outputs(&out, &reference, what);
        assert_eq!(
            rsmi_without_seconds(&out),
            rsmi_without_seconds(&reference),
            "{what}"
        );
        for file in [
            "filters.json",
            "flows.csv",
            "layers.csv",
            "information-plane.csv",
            "rg-filters.json",
            "report.html",
        ]
        .into_iter()
        .chain(pngs.iter().map(String::as_str))
        {
            assert_eq!(
                std::fs::read(out.join(file)).expect(file),
                std::fs::read(reference.join(file)).expect(file),
                "{what}: {file}"
            );
        }
    }
}

/// A worker with a time limit takes only tasks expected to fit it (the sweep's task_seconds),
/// then drains at its limit and exits cleanly; a worker without one runs the rest.
#[test]
fn a_worker_near_its_time_limit_takes_only_tasks_that_fit() {
    let dir = scratch("walltime");
    // The largest task (L = 32) is declared to take an hour; L = 8 tasks 1/16 of that.
    let file = write(&dir, "sweep.toml", &format!("task_seconds = 3600\n{SWEEP}"));
    let c = Coord::start(&dir, None, "5", "5");
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    let mut short = c.worker_with("2", "short", &["--walltime", "6"]);
    let (code, log) = short.wait_exit(60);
    assert_eq!(code, Some(0), "{log}");
    let st = c.status(&id);
    assert_eq!(st["done"].as_u64(), Some(0), "no task fits 6 s: {st}");
    let _long = c.worker("2", "long");
    c.wait_state(&id, "done", 120);
}

/// One task of a few seconds: a coordinator outage longer than its lease fits inside it.
const OUTAGE: &str = r#"name = "outage"
seed = 8
model = "ising2d"
sizes = [64]
temperatures = [2.3]
replicas = 1

[monte_carlo]
algorithm = "metropolis"
thermalize = 100
measurements = 600000
"#;

#[test]
fn a_coordinator_outage_longer_than_the_lease_costs_a_running_task_nothing() {
    let dir = scratch("outage");
    let file = write(&dir, "sweep.toml", OUTAGE);
    // Lease 1 s; after a restart, leases wait 3 s for their workers.
    let mut c1 = Coord::start(&dir, None, "1", "3");
    let id = c1.submit(&file)["sweep"].as_str().expect("id").to_string();
    let mut w = c1.worker("1", "w");
    wait_for("the task to run", 60, || {
        (c1.status(&id)["leased"].as_u64() == Some(1)).then_some(())
    });
    c1.proc.kill9();
    // The outage is the point of the test: two and a half leases with the worker computing.
    std::thread::sleep(std::time::Duration::from_millis(2_500));
    let c2 = Coord::start(&dir, Some(c1.port), "1", "3");
    let st = c2.wait_state(&id, "done", 120);
    assert_eq!(
        (st["task_errors"].as_u64(), st["workers_lost"].as_u64()),
        (Some(0), Some(0)),
        "{st}"
    );
    let (done, results) = done_tasks(&db(&dir));
    assert_eq!((done.len(), results), (1, 1));
    w.signal("-TERM");
    let (code, log) = w.wait_exit(60);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("1 computed, 1 accepted"), "{log}");
}
