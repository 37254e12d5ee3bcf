//! `rgsweep rsmi` end to end: the JSON contract, determinism, NumPy input, and refusal of bad
//! parameters before any training.

mod common;

use common::*;
use ndarray::{Array2, Array3};

fn rsmi(extra: &[&str]) -> std::process::Output {
    let mut args = vec!["rsmi"];
    args.extend_from_slice(extra);
    rgsweep(&args)
}

const CHAIN: [&str; 14] = [
    "--model",
    "ising1d",
    "--size",
    "64",
    "--temperature",
    "1.0",
    "--block",
    "2",
    "--buffer",
    "1",
    "--env",
    "3",
    "--samples",
    "1500",
];

fn json(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("one JSON object")
}

#[test]
fn json_output_is_complete_and_deterministic() {
    let mut args = CHAIN.to_vec();
    args.extend(["--json", "--seed", "3"]);
    let a = json(&rsmi(&args));
    for key in [
        "mi_nats",
        "mi_err",
        "filters",
        "epochs",
        "seconds",
        "samples_per_second",
    ] {
        assert!(a.get(key).is_some(), "{key} missing in {a}");
    }
    let filters = a["filters"].as_array().expect("array of filters");
    assert_eq!(filters.len(), 1);
    assert_eq!(
        filters[0].as_array().map(Vec::len),
        Some(2),
        "one weight per block site"
    );
    // The chain keeps at most the decimation rule's 0.2470 nats (exact, PRX 2020).
    let mi = a["mi_nats"].as_f64().expect("number");
    assert!(
        mi > 0.15 && mi < 0.2470 + 4.0 * a["mi_err"].as_f64().expect("number"),
        "{a}"
    );
    let b = json(&rsmi(&args));
    for key in ["mi_nats", "mi_err", "filters", "epochs", "history"] {
        assert_eq!(a[key], b[key], "{key} differs between identical runs");
    }
}

#[test]
fn numpy_samples_are_read_and_checked() {
    let dir = scratch("rsmi-npy");
    // Exact chain samples at K = 1 as ±1 int8, shape [n, L].
    let mut stream = rgsweep_physics::Stream::derive(5, "npy");
    let n = 1500;
    let mut a = Array2::<i8>::zeros((n, 64));
    for i in 0..n {
        for (j, &st) in rgsweep_physics::rsmi::chain::sample(64, 1.0, &mut stream)
            .iter()
            .enumerate()
        {
            a[[i, j]] = if st == 0 { 1 } else { -1 };
        }
    }
    let good = dir.join("chain.npy");
    ndarray_npy::write_npy(&good, &a).expect("write npy");
    let mut args = CHAIN.to_vec();
    args.extend(["--json", "--samples-file", s(&good)]);
    let v = json(&rsmi(&args));
    assert_eq!(v["configurations"], 1500);
    assert!(v["mi_nats"].as_f64().expect("number") > 0.15, "{v}");

    let mut zeros = a.clone();
    zeros[[7, 3]] = 0;
    let bad_value = dir.join("zero.npy");
    ndarray_npy::write_npy(&bad_value, &zeros).expect("write");
    let bad_shape = dir.join("shape.npy");
    ndarray_npy::write_npy(&bad_shape, &Array3::<i8>::ones((4, 64, 64))).expect("write");
    let empty = dir.join("empty.npy");
    ndarray_npy::write_npy(&empty, &Array2::<i8>::zeros((0, 64))).expect("write");
    let garbage = write(&dir, "garbage.npy", "not numpy");
    for (file, expect) in [
        (&bad_value, "configuration 7 holds 0"),
        (&bad_shape, "shape [4, 64, 64]"),
        (&empty, "no configurations"),
        (&garbage, "not a readable .npy"),
    ] {
        let mut args = CHAIN.to_vec();
        args.extend(["--samples-file", s(file)]);
        let o = rsmi(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(expect), "{expect:?} not in {err}");
    }
}

#[test]
fn bad_parameters_are_refused_before_training() {
    let base = [
        "--model",
        "ising2d",
        "--size",
        "16",
        "--temperature",
        "2.3",
        "--samples",
        "100",
    ];
    // A region that fits, with `more` settings after it.
    let fits = |more: &[&'static str]| {
        let mut v = vec!["--block", "4", "--buffer", "2", "--env", "4"];
        v.extend_from_slice(more);
        v
    };
    for (extra, expect) in [
        (
            vec![
                "--block", "4", "--buffer", "2", "--env", "4", "--hidden", "0",
            ],
            "hidden",
        ),
        (
            vec!["--block", "4", "--buffer", "2", "--env", "5"],
            "does not fit",
        ),
        (vec!["--block", "0", "--buffer", "2", "--env", "2"], "block"),
        (fits(&["--stagewise"]), "--stagewise"),
        (fits(&["--restarts", "0"]), "restarts must be 1..=16"),
        (
            fits(&["--critic-leak", "1"]),
            "critic_leak must be in [0, 1)",
        ),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let t = std::time::Instant::now();
        let o = rsmi(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(expect), "{expect:?} not in {err}");
        assert!(t.elapsed().as_secs() < 10, "refused before sampling");
    }
}

#[test]
fn potts_and_three_dimensional_blocks_have_the_right_filter_shapes() {
    for (args, weights) in [
        // Potts q = 3 one-hot: three weights per block site; 2×2 block.
        (
            vec![
                "--model",
                "potts2d",
                "--q",
                "3",
                "--size",
                "16",
                "--temperature",
                "0.9",
                "--block",
                "2",
                "--buffer",
                "1",
                "--env",
                "2",
            ],
            4 * 3,
        ),
        // 3D Ising: a 2×2×2 block.
        (
            vec![
                "--model",
                "ising3d",
                "--size",
                "8",
                "--temperature",
                "4.0",
                "--block",
                "2",
                "--buffer",
                "0",
                "--env",
                "1",
            ],
            8,
        ),
    ] {
        let mut a = args.clone();
        a.extend(["--samples", "300", "--epochs", "8", "--json"]);
        let v = json(&rsmi(&a));
        let f = v["filters"][0].as_array().expect("filter");
        assert_eq!(f.len(), weights, "{args:?}");
        // Ordered enough that the coarse variable carries information.
        let mi = v["mi_nats"].as_f64().expect("mi");
        assert!(
            mi > 4.0 * v["mi_err"].as_f64().expect("err") && mi <= std::f64::consts::LN_2 + 0.05,
            "{args:?}: {v}"
        );
    }
}
