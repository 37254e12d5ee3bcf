//! Automatic worker allocation on a real single-node Slurm cluster (Debian's slurm-wlm and
//! munge, started by `deploy/slurm/single-node.sh`; `.ci/run` installs and starts them and sets
//! RGSWEEP_REQUIRE_SLURM=1, so there this test cannot be skipped). Without a cluster, and
//! without that variable, the test says so and does nothing.

mod common;

use common::*;
use std::process::Command;

fn cluster_up() -> bool {
    let up = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("idle"))
        .unwrap_or(false);
    if !up {
        assert!(
            std::env::var_os("RGSWEEP_REQUIRE_SLURM").is_none(),
            "RGSWEEP_REQUIRE_SLURM is set but no idle Slurm node answers `sinfo`"
        );
        eprintln!(
            "no Slurm cluster (sinfo): skipping; `sudo bash deploy/slurm/single-node.sh start` starts one"
        );
    }
    up
}

/// Jobs Slurm still lists under `name`.
fn jobs_named(name: &str) -> usize {
    let o = Command::new("squeue")
        .args(["--noheader", "--format=%i", &format!("--name={name}")])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&o.stdout).lines().count()
}

/// The allocation block of `rgsweep status --json`.
fn allocation(c: &Coord) -> serde_json::Value {
    let o = rgsweep(&["status", "--access", s(&c.access), "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status --json");
    v["allocation"].clone()
}

/// The job name the coordinator gave its allocations (from its log).
fn job_name(c: &Coord) -> String {
    wait_for("the allocation's sbatch command in the log", 30, || {
        let log = c.proc.log_text();
        let at = log.find("--job-name=")? + "--job-name=".len();
        let name: String = log[at..]
            .chars()
            .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '-')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

const SWEEP: &str = r#"name = "slurm-e2e"
seed = 17
model = "ising2d"
sizes = [8, 16]
temperatures = [2.2, 2.27, 2.35]
replicas = 2

[monte_carlo]
algorithm = "wolff"
thermalize = 200
measurements = 3000
"#;

#[test]
fn slurm_allocates_workers_that_finish_the_sweep_and_leave() {
    if !cluster_up() {
        return;
    }
    let dir = scratch("slurm");
    let file = write(&dir, "sweep.toml", SWEEP);
    let reference = dir.join("reference");
    common::reference(&file, &reference);
    let c = Coord::start_with(
        &dir,
        None,
        "10",
        "10",
        &[
            "--slurm",
            "--time=10 --cpus-per-task=1",
            "--alloc-max-workers",
            "2",
            "--alloc-idle-exit",
            "3",
        ],
    );
    let id = c.submit(&file)["sweep"].as_str().expect("id").to_string();
    let name = job_name(&c);
    c.wait_state(&id, "done", 180);
    let out = dir.join("out");
    c.results(&id, &out);
    assert_same_outputs(&out, &reference, "Slurm-allocated workers");
    let a = allocation(&c);
    assert_eq!(a["state"], "active", "{a}");
    let submitted = a["submitted"].as_u64().expect("submitted");
    assert!((1..=2).contains(&submitted), "{a}");
    // Idle workers exit, and their jobs with them.
    wait_for("the allocated workers to exit", 90, || {
        (jobs_named(&name) == 0).then_some(())
    });
    // Their logs say they ran tasks for this coordinator.
    let logs: Vec<_> = std::fs::read_dir(dir.join("slurm-logs"))
        .expect("job logs")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(logs.len() as u64, submitted);
}

#[test]
fn a_failing_sbatch_pauses_allocation_with_the_reason() {
    if !cluster_up() {
        return;
    }
    let dir = scratch("slurm-bad");
    let file = write(&dir, "sweep.toml", SWEEP);
    let c = Coord::start_with(
        &dir,
        None,
        "10",
        "10",
        &[
            "--slurm",
            "--partition=no-such-partition",
            "--alloc-max-failures",
            "2",
        ],
    );
    c.submit(&file);
    let a = wait_for("allocation to pause", 60, || {
        let a = allocation(&c);
        (a["state"] == "paused").then_some(a)
    });
    let reason = a["reason"].as_str().expect("reason");
    assert!(reason.contains("partition"), "{reason}");
    assert_eq!(
        (a["submitted"].as_u64(), a["failures"].as_u64()),
        (Some(0), Some(2))
    );
    // Paused means paused: no further attempts.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert_eq!(allocation(&c)["failures"].as_u64(), Some(2));
    let text = rgsweep(&["status", "--access", s(&c.access)]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("allocation paused"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    // Resumed by hand, allocation tries again from a fresh count: the partition is still
    // wrong, so it pauses again after two more failures.
    let o = rgsweep(&["alloc", "resume", "--access", s(&c.access)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "allocation resumed\n");
    wait_for("allocation to try again", 60, || {
        (allocation(&c)["failures"].as_u64() == Some(1)).then_some(())
    });
    let a = wait_for("allocation to pause again", 60, || {
        let a = allocation(&c);
        (a["state"] == "paused").then_some(a)
    });
    assert_eq!(a["failures"].as_u64(), Some(2));
    let o = rgsweep(&["alloc", "resume", "--access", s(&c.access)]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "allocation resumed\n");
}
