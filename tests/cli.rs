//! End-to-end tests of the real `rgsweep` binary: bad input is refused with a one-line error
//! naming file, line and field, and a sweep's output bytes do not depend on the thread count.

mod common;

use common::{rgsweep, s, scratch, write};
use std::path::{Path, PathBuf};

const TINY: &str = r#"name = "tiny"
seed = 7
model = "ising2d"
sizes = [4, 8]
temperatures = [2.2, 2.3, 2.4]
replicas = 2

[monte_carlo]
algorithm = "swendsen-wang"
thermalize = 50
measurements = 400
"#;

/// Writes `text` as a sweep file, runs it, and returns (exit code, stderr, out dir).
fn run_sweep(dir: &Path, text: &str, extra: &[&str]) -> (i32, String, PathBuf) {
    let file = dir.join("sweep.toml");
    std::fs::write(&file, text).expect("write sweep");
    let out = dir.join("out");
    let mut args = vec![
        "run",
        file.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
    ];
    args.extend_from_slice(extra);
    let o = rgsweep(&args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
    )
}

#[test]
fn output_bytes_do_not_depend_on_thread_count() {
    let a = scratch("threads1");
    let b = scratch("threads2");
    let (ca, ea, out_a) = run_sweep(&a, TINY, &["--thread-pool", "--threads", "1"]);
    let (cb, eb, out_b) = run_sweep(&b, TINY, &["--thread-pool", "--threads", "2"]);
    assert_eq!((ca, cb), (0, 0), "{ea}{eb}");
    for file in ["observables.csv", "summary.json"] {
        let x = std::fs::read(out_a.join(file)).expect("output");
        let y = std::fs::read(out_b.join(file)).expect("output");
        assert!(!x.is_empty());
        assert_eq!(x, y, "{file} differs between 1 and 2 threads");
    }
    let csv = std::fs::read_to_string(out_a.join("observables.csv")).expect("csv");
    assert_eq!(
        csv.lines().count(),
        1 + 2 * 3,
        "header + one row per (L, T)"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_a.join("summary.json")).expect("json"))
            .expect("valid JSON");
    assert_eq!(summary["sweep"]["name"], "tiny");
    assert!(summary["fss"]["crossings"].is_array());
}

#[test]
fn bad_sweep_files_are_rejected_with_location_and_nothing_written() {
    let cases: [(&str, String, &str); 4] = [
        ("syntax", TINY.replace("seed = 7", "seed = 7 7"), ":2:"),
        (
            "unknown",
            TINY.replace("replicas = 2", "replicas = 2\nflavour = 1"),
            "flavour",
        ),
        ("value", TINY.replace("[4, 8]", "[4, -8]"), "field `sizes`"),
        (
            "potts-multispin",
            TINY.replace("\"ising2d\"", "\"potts2d\"\nq = 3")
                .replace("\"swendsen-wang\"", "\"multispin\""),
            "multispin",
        ),
    ];
    for (name, text, expect) in cases {
        let dir = scratch(name);
        let (code, stderr, out) = run_sweep(&dir, &text, &[]);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{name}: one line, got {stderr}"
        );
        assert!(
            stderr.contains("sweep.toml:"),
            "{name}: names the file: {stderr}"
        );
        assert!(
            stderr.contains(expect),
            "{name}: expected {expect:?} in {stderr}"
        );
        assert!(
            !out.exists(),
            "{name}: nothing may be written for a bad sweep"
        );
    }
}

#[test]
fn bad_simulate_flags_fail_with_one_line() {
    let base = [
        "simulate",
        "--model",
        "ising2d",
        "--size",
        "8",
        "--temperature",
        "2.5",
        "--sweeps",
        "100",
    ];
    let with = |replace: &[(&str, &str)], extra: &[&str]| {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        for (flag, value) in replace {
            let i = v.iter().position(|a| a == flag).expect("flag present");
            v[i + 1] = value.to_string();
        }
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (with(&[("--size", "0")], &[]), "--size"),
        (with(&[("--temperature", "-1")], &[]), "--temperature"),
        (with(&[("--temperature", "0")], &[]), "--temperature"),
        (with(&[("--model", "ising4d")], &[]), "--model"),
        (with(&[], &["--algorithm", "glauber"]), "--algorithm"),
        (with(&[("--model", "potts2d")], &["--q", "1"]), "--q"),
        (with(&[("--model", "potts2d")], &[]), "--q"),
        (
            with(
                &[("--model", "potts2d")],
                &["--q", "3", "--algorithm", "multispin"],
            ),
            "multispin",
        ),
    ];
    for (args, expect) in cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = rgsweep(&refs);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} must fail");
        assert!(
            stderr.contains(expect),
            "{args:?}: expected {expect:?} in {stderr}"
        );
        let first = stderr.lines().next().unwrap_or("");
        assert!(first.starts_with("error:"), "{args:?}: {stderr}");
    }
}

#[test]
fn simulate_json_reports_observables_with_errors() {
    let o = rgsweep(&[
        "simulate",
        "--model",
        "ising2d",
        "--size",
        "32",
        "--temperature",
        "3.0",
        "--algorithm",
        "multispin",
        "--sweeps",
        "200",
        "--thermalize",
        "100",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON value");
    assert_eq!(v["replicas"], 64);
    let e = &v["observables"]["energy"];
    let (value, error) = (
        e["value"].as_f64().expect("value"),
        e["error"].as_f64().expect("error"),
    );
    // 2D Ising at T = 3: Onsager's infinite-lattice energy is −0.8173 per site; on 8×8 the
    // finite-size shift is about +0.005 (ξ ≈ 2.5 sites). 0.02 is ~6 errors of this short run.
    assert!(
        (value + 0.8173).abs() < 0.02 && error > 0.0 && error < 0.005,
        "{value} ± {error}"
    );
    assert!(v["observables"]["tau_int_energy"].as_f64().expect("tau") >= 0.5);
}

#[test]
fn coordinator_benchmark_reports_consistent_numbers() {
    // The benchmark itself checks that every task was accepted exactly once.
    let o = rgsweep(&[
        "bench",
        "coordinator",
        "--tasks",
        "1000",
        "--workers",
        "20",
        "--queued",
        "2000",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let num = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
    assert_eq!(num("tasks"), 1000.0);
    let rate = num("tasks_per_second");
    assert!(
        (num("tasks") / num("seconds") - rate).abs() < 1e-6 * rate,
        "{v}"
    );
    assert!(num("latency_p50_ms") <= num("latency_p99_ms"), "{v}");
    assert!(num("latency_p99_ms") <= num("latency_max_ms"), "{v}");
    assert_eq!(num("queued_tasks"), 2000.0, "{v}");
}

#[test]
fn dimer_benchmark_reports_every_sampler_and_refuses_odd_sizes() {
    let o = rgsweep(&[
        "bench",
        "dimers",
        "--size",
        "8",
        "--temperatures",
        "1.0,inf",
        "--measurements",
        "300",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(rows.len(), 6);
    for r in &rows {
        assert!(r["updates_per_second"].as_f64().expect("rate") > 0.0, "{r}");
        assert!(r["tau_updates"].as_f64().expect("τ") >= 0.5, "{r}");
        let worm = r["sampler"].as_str().expect("name").starts_with("worm");
        assert_eq!(r["steps_per_worm"].is_f64(), worm, "{r}");
    }
    // Minimal-bounce exits never bounce at T = ∞, where all four weights are equal.
    assert!(rows.iter().any(|r| r["sampler"] == "worm-minimal-bounce"
        && r["temperature"].is_null()
        && r["bounce_fraction"] == 0.0));
    let o = rgsweep(&["bench", "dimers", "--size", "7"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--size must be even"));
}

#[test]
fn rsmi_learns_on_dimer_images_and_reports_the_field_overlap() {
    let o = rgsweep(&[
        "rsmi",
        "--model",
        "dimer2d",
        "--size",
        "8",
        "--temperature",
        "1.0",
        "--block",
        "4",
        "--buffer",
        "2",
        "--env",
        "2",
        "--hidden",
        "2",
        "--samples",
        "400",
        "--stride",
        "4",
        "--epochs",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    // A 16×16 image: 4×4-pixel filters, 16 blocks per configuration at stride 4.
    assert_eq!(v["blocks_per_configuration"], 16);
    assert!(v["filters"].as_array().is_some_and(|f| {
        f.len() == 2
            && f.iter()
                .all(|x| x.as_array().is_some_and(|w| w.len() == 16))
    }));
    for key in ["in_field_span", "in_columnar_span", "decoy_weight"] {
        let x = v["field"][key].as_f64().expect(key);
        assert!((0.0..=1.0 + 1e-12).contains(&x), "{key} = {x}");
    }
    for (args, says) in [
        (vec!["--block", "3"], "must be even"),
        (vec!["--size", "7", "--block", "4"], "even L"),
        (
            vec!["--algorithm", "wolff", "--block", "4"],
            "cannot sample dimer2d",
        ),
    ] {
        let mut all = vec![
            "rsmi",
            "--model",
            "dimer2d",
            "--temperature",
            "1.0",
            "--buffer",
            "1",
            "--env",
            "1",
        ];
        if !args.contains(&"--size") {
            all.extend(["--size", "8"]);
        }
        all.extend(args);
        let o = rgsweep(&all);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
    }
}

/// `rgsweep prx1d`: the exact chain laboratory as CSV, the PRX's anchors in its rows
/// (REFERENCE.md §6: decimation keeps 0.604 of I(V:E) at K = 0.5, with K′ = ½ ln cosh 2K and
/// nothing else; majority keeps 0.530 and has a negative rangeness), and bad λ refused.
#[test]
fn prx1d_writes_the_exact_chain_laboratory() {
    let o = rgsweep(&["prx1d", "--k", "0.5", "--lambda1", "1,40", "--lambda2", "0"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 4, "{text}");
    let num = |row: &[&str], i: usize| row[i].parse::<f64>().expect("a number");
    let (dec, maj) = (&rows[0], &rows[1]);
    assert_eq!((dec[1], maj[1]), ("decimation", "majority"));
    assert!((num(dec, 6) - 0.604).abs() < 5e-4, "{text}");
    assert!(
        (num(dec, 7) - 0.5 * 1f64.cosh().ln()).abs() < 1e-9,
        "{text}"
    );
    assert!(num(dec, 11).abs() < 1e-9, "{text}");
    assert!(
        (num(maj, 6) - 0.530).abs() < 5e-4 && num(maj, 11) < 0.0,
        "{text}"
    );
    // λ₁ = 40, λ₂ = 0 is decimation to rounding; λ₁ = 1 keeps less.
    assert!((num(&rows[3], 5) - num(dec, 5)).abs() < 1e-12, "{text}");
    assert!(num(&rows[2], 5) < num(dec, 5), "{text}");
    let bad = rgsweep(&["prx1d", "--k", "0.5", "--lambda1", "nan"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--lambda1"));
}

/// A laboratory file (`lab = "prx1d"`): `rgsweep run` computes it on the spot into the usual
/// output files, `rgsweep report DIR` rebuilds the same report from them byte for byte, a
/// coordinator refuses to queue it, and a bad field is named with its line.
#[test]
fn a_laboratory_file_runs_reports_and_is_not_queued() {
    let dir = scratch("lab");
    let lab = "name = \"chain\"\nlab = \"prx1d\"\ncouplings = [0.5]\nlambda1 = [1, 4]\nlambda2 = [0, 1]\n";
    let file = write(&dir, "chain.toml", lab);
    let out = dir.join("out");
    let o = rgsweep(&["run", s(&file), "--json", "--out", s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let reading = &summary["prx1d"][0];
    assert_eq!(reading["rules"], 4, "{summary}");
    assert!((reading["decimation"]["retained"].as_f64().expect("kept") - 0.604).abs() < 5e-4);
    let csv = std::fs::read_to_string(out.join("prx1d.csv")).expect("prx1d.csv");
    assert_eq!(csv.lines().count(), 1 + 6, "{csv}");
    let html = std::fs::read(out.join("report.html")).expect("report");
    assert!(String::from_utf8_lossy(&html).contains("<svg"));
    assert!(out.join("fig-01-rangeness-k0-5.png").exists());
    std::fs::remove_file(out.join("report.html")).expect("rm");
    let o = rgsweep(&["report", s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(out.join("report.html")).expect("report"),
        html
    );

    let o = rgsweep(&["submit", s(&file), "--coordinator", "http://127.0.0.1:9"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("chain.toml:2") && err.contains("no tasks to queue"),
        "{err}"
    );

    let bad = write(&dir, "bad.toml", &lab.replace("[1, 4]", "[1, -1e9]"));
    let o = rgsweep(&["run", s(&bad), "--out", s(&dir.join("bad"))]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:4") && err.contains("lambda1"),
        "{err}"
    );
    assert!(!dir.join("bad").exists(), "a bad file wrote output");
}

/// `rgsweep rbm`: a dense stack and a block-local one train on Ising configurations, raise
/// the held-out pseudo-likelihood of the first layer, write data and weights as .npy, and
/// refuse layer shapes the lattice cannot hold, naming the flag.
#[test]
fn rbm_trains_stacks_and_refuses_bad_shapes() {
    let dir = scratch("rbm");
    let out = dir.join("weights");
    let common = [
        "rbm",
        "--size",
        "8",
        "--samples",
        "300",
        "--epochs",
        "4",
        "--batch",
        "20",
        "--json",
    ];
    let run = |extra: &[&str]| {
        let mut args = common.to_vec();
        args.extend_from_slice(extra);
        let o = rgsweep(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")
    };
    let dense = run(&["--layers", "16,4", "--out", out.to_str().expect("utf8")]);
    let layers = dense["layers"].as_array().expect("layers");
    let shape = |l: &serde_json::Value| (l["visible"].as_u64(), l["hidden"].as_u64());
    assert_eq!(
        layers.iter().map(shape).collect::<Vec<_>>(),
        [(Some(64), Some(16)), (Some(16), Some(4))]
    );
    let pl = |l: &serde_json::Value, k: &str| l[k].as_f64().unwrap_or(f64::NAN);
    assert!(
        pl(&layers[0], "pseudo_likelihood") > pl(&layers[0], "pseudo_likelihood_start"),
        "{dense}"
    );
    for f in ["train.npy", "heldout.npy", "layer0_w.npy", "layer1_c.npy"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let local = run(&["--local", "2"]);
    let radii: Vec<f64> = local["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| pl(l, "receptive_field"))
        .collect();
    // One 2×2 block (radius at most √½), then one 4×4 block (at most √2.5).
    assert!(
        radii[0] <= 0.5f64.sqrt() + 1e-9 && radii[1] > radii[0] && radii[1] <= 2.5f64.sqrt() + 1e-9,
        "{radii:?}"
    );
    for (args, flag) in [
        (vec!["rbm", "--size", "12", "--local", "3"], "--local"),
        (vec!["rbm", "--size", "8", "--layers", "16,0"], "--layers"),
        (vec!["rbm", "--size", "8", "--batch", "0"], "batch"),
    ] {
        let o = rgsweep(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(flag),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// `rgsweep mazes`: balanced critical mazes (half positive), the hand-set network right on
/// exactly the mazes its n layers settle, one trained network, and the mazes as .npy whose
/// labels and depths agree with a breadth-first search done here from the exported hot spot;
/// a bad `--p` is refused, naming the flag.
#[test]
fn mazes_are_exported_as_npy_and_one_network_trains() {
    use ndarray::{Array1, Array3};
    use ndarray_npy::ReadNpyExt;
    let dir = scratch("mazes-cli");
    let out = dir.join("mazes");
    let o = rgsweep(&[
        "mazes",
        "--size",
        "9",
        "--count",
        "60",
        "--layers",
        "4",
        "--steps",
        "40",
        "--batch",
        "4",
        "--out",
        s(&out),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        (r["count"].as_u64(), r["positives"].as_u64()),
        (Some(60), Some(30)),
        "{r}"
    );
    assert_eq!(r["hand_accuracy"], r["settled"], "{r}");
    assert!(r["training"]["test_accuracy"].as_f64().is_some(), "{r}");
    let read = |name: &str| std::fs::File::open(out.join(name)).expect(name);
    let open = Array3::<u8>::read_npy(read("mazes.npy")).expect("mazes.npy");
    let hot = Array3::<u8>::read_npy(read("hot_spots.npy")).expect("hot_spots.npy");
    let labels = Array1::<u8>::read_npy(read("labels.npy")).expect("labels.npy");
    let depths = Array1::<i64>::read_npy(read("depths.npy")).expect("depths.npy");
    assert_eq!(
        (open.dim(), hot.dim(), labels.len(), depths.len()),
        ((60, 9, 9), (60, 9, 9), 60, 60)
    );
    for k in 0..60 {
        let starts: Vec<(usize, usize)> = (0..81)
            .map(|i| (i / 9, i % 9))
            .filter(|&(y, x)| hot[[k, y, x]] == 1)
            .collect();
        assert_eq!(starts.len(), 1, "maze {k}: one hot spot");
        let (y0, x0) = starts[0];
        assert_eq!(open[[k, y0, x0]], 1, "maze {k}: the hot spot is open");
        // Breadth-first search from the hot spot, open boundaries, 4 neighbours.
        let mut dist = vec![-1i64; 81];
        dist[y0 * 9 + x0] = 0;
        let mut queue = std::collections::VecDeque::from([(y0, x0)]);
        while let Some((y, x)) = queue.pop_front() {
            let d = dist[y * 9 + x];
            let mut next = vec![];
            if y > 0 {
                next.push((y - 1, x));
            }
            if y < 8 {
                next.push((y + 1, x));
            }
            if x > 0 {
                next.push((y, x - 1));
            }
            if x < 8 {
                next.push((y, x + 1));
            }
            for (ny, nx) in next {
                if open[[k, ny, nx]] == 1 && dist[ny * 9 + nx] < 0 {
                    dist[ny * 9 + nx] = d + 1;
                    queue.push_back((ny, nx));
                }
            }
        }
        assert_eq!(depths[k], dist[4 * 9 + 4], "maze {k}: depth to the centre");
        assert_eq!(labels[k] == 1, depths[k] >= 0, "maze {k}: label");
    }
    let o = rgsweep(&["mazes", "--size", "9", "--p", "1.5"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--p"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
