//! End-to-end tests of models beyond spins through the distributed machinery (dimers,
//! percolation, maze training runs), with real processes on 127.0.0.1: every output the same
//! bytes from the thread pool, four worker processes and a run whose worker was killed
//! mid-task; a file a model cannot take queues nothing. Split from `distributed.rs` (the
//! machinery's own tests) along the model seam.

mod common;

use common::*;

/// Interacting dimers through the whole machinery: every output file (the dimers' own
/// observables.csv, summary.json with α_d(T) and T_KT, the report and its figures) the same
/// bytes from the thread pool, four worker processes, and a run whose worker was killed mid-task.
#[test]
fn dimer_outputs_do_not_depend_on_workers_or_kills() {
    const DIMERS: &str = r#"name = "dimers-e2e"
seed = 14
model = "dimer2d"
sizes = [8, 16, 32]
temperatures = [0.6, 0.65, 0.7]
replicas = 2

[monte_carlo]
algorithm = "worm"
thermalize = 500
measurements = 20000
"#;
    let dir = scratch("dimers");
    let file = write(&dir, "sweep.toml", DIMERS);
    let reference = dir.join("reference");
    common::reference(&file, &reference);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reference.join("summary.json")).expect("summary"),
    )
    .expect("json");
    assert!(
        summary.get("fss").is_none(),
        "no FSS of a magnetisation dimers lack"
    );
    assert_eq!(
        summary["dimers"]["alpha_d"].as_array().map(Vec::len),
        Some(6)
    );
    assert!(summary["dimers"]["t_kt"]["value"].is_f64(), "{summary}");
    assert!(
        std::fs::read_to_string(reference.join("observables.csv"))
            .expect("csv")
            .starts_with("model,size,temperature,samples,energy,energy_err,specific_heat")
    );
    four_workers_and_a_kill_match(&dir, &file, &reference);
}

/// Percolation through the whole machinery: blocks of Newman–Ziff runs as tasks, every output
/// (observables.csv, cluster-sizes.csv, summary.json with p_c and the exponents, the report and
/// its figures) the same bytes from the thread pool, four worker processes, and a run whose
/// worker was killed mid-task; a percolation file asking for temperatures queues nothing.
#[test]
fn percolation_outputs_do_not_depend_on_workers_or_kills() {
    const PERCOLATION: &str = r#"name = "percolation-e2e"
seed = 16
model = "percolation2d-bond"
sizes = [16, 32, 64]
p = { start = 0.48, stop = 0.52, step = 0.005 }
replicas = 8

[monte_carlo]
algorithm = "newman-ziff"
runs = 1500
"#;
    let dir = scratch("percolation");
    refused_and_nothing_written(
        &dir,
        &PERCOLATION.replace("replicas = 8", "replicas = 8\ntemperatures = [1.0]"),
        "bad.toml:7:16",
        "temperatures",
    );
    let file = write(&dir, "sweep.toml", PERCOLATION);
    let reference = dir.join("reference");
    common::reference(&file, &reference);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reference.join("summary.json")).expect("summary"),
    )
    .expect("json");
    let pc = &summary["percolation"]["p_c"];
    assert!(pc["value"].is_f64() && pc["error"].is_f64(), "{summary}");
    for name in ["observables.csv", "cluster-sizes.csv", "report.html"] {
        assert!(reference.join(name).exists(), "{name}");
    }
    four_workers_and_a_kill_match(&dir, &file, &reference);
}

/// Maze training runs through the whole machinery (issue 16): one spreading-network training
/// per (L, n, run) as tasks, every output (observables.csv, maze-depths.csv, maze-landscape.csv,
/// summary.json, the report and its figures; maze-runs.csv but for its wall-time column) the
/// same bytes from the thread pool, four worker processes, and a run whose worker was killed
/// mid-task; a maze file asking for temperatures queues nothing.
#[test]
fn maze_outputs_do_not_depend_on_workers_or_kills() {
    const MAZES: &str = r#"name = "mazes-e2e"
seed = 18
model = "mazes"
sizes = [8, 12]
replicas = 2

[mazes]
layers = [2, 6]
steps = 200
batch = 8
test = 200
"#;
    let dir = scratch("mazes");
    refused_and_nothing_written(
        &dir,
        &MAZES.replace("replicas = 2", "replicas = 2\ntemperatures = [1.0]"),
        "bad.toml:6:16",
        "temperatures",
    );
    let file = write(&dir, "sweep.toml", MAZES);
    let reference = dir.join("reference");
    common::reference(&file, &reference);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reference.join("summary.json")).expect("summary"),
    )
    .expect("json");
    let points = summary["mazes"]["points"].as_array().expect("points");
    assert_eq!(points.len(), 4, "{summary}");
    for p in points {
        assert_eq!(p["runs"], 2, "{p}");
        assert!(
            p["accuracy"]["value"].is_f64() && p["accuracy"]["error"].is_f64(),
            "{p}"
        );
    }
    let runs = std::fs::read_to_string(reference.join("maze-runs.csv")).expect("runs");
    assert_eq!(runs.lines().count(), 1 + 2 * 2 * 2, "{runs}");
    for name in [
        "observables.csv",
        "maze-depths.csv",
        "maze-landscape.csv",
        "report.html",
    ] {
        assert!(reference.join(name).exists(), "{name}");
    }
    four_workers_and_a_kill_match(&dir, &file, &reference);
}
