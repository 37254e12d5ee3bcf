//! Every shipped config, run at reduced scale, gives finite estimates within 5 error bars of
//! their exact or literature values (REFERENCE.md §1, through the report's `reference`): the
//! regression test for issue 13, where a shipped config printed T_c = 3.37 ± 1.71. The same
//! analysis paths as the full runs (FSS with its fit scans, RSMI, RG flows with their crossing
//! screening) on smaller lattices and fewer samples, a couple of minutes in all. The full runs
//! are `tests/science.rs` (`--ignored`), with their numbers in the README.

mod common;

use common::*;
use std::path::Path;
use toml::Value;

/// Keys replaced in a config (dotted paths into its tables) to make it small.
type Reduction = &'static [(&'static str, &'static str)];

/// Temperatures around T_c: the flows' crossings need nothing else. Seven points instead of
/// eleven halve the two flow configs' time (297 s to about 150 s in the test profile), all
/// estimates staying within 2 errors (majority T_c = 2.2516(89), y_h = 1.893(10); RSMI T_c =
/// 2.2633(74), y_h = 1.8756(90)).
const NEAR_TC: &str = "[2.19, 2.23, 2.25, 2.269185, 2.29, 2.31, 2.35]";

fn reductions(name: &str) -> Reduction {
    match name {
        "quickstart.toml" => &[],
        // Exact and under a second: run as shipped.
        "prx-1d.toml" => &[],
        "ising2d-fss.toml" => &[
            ("sizes", "[16, 32, 64]"),
            ("replicas", "2"),
            ("monte_carlo.measurements", "8000"),
            ("fss.fit_min_size", "16"),
            ("fss.bootstrap", "100"),
        ],
        "ising3d-fss.toml" => &[
            ("sizes", "[12, 16, 24]"),
            ("replicas", "2"),
            ("monte_carlo.measurements", "6000"),
            ("fss.bootstrap", "100"),
        ],
        "ising2d-rsmi.toml" => &[
            ("sizes", "[32]"),
            ("temperatures", "[1.5, 2.269, 4.0]"),
            ("monte_carlo.measurements", "1200"),
            ("rsmi.block", "2"),
            ("rsmi.buffers", "[0, 2]"),
            ("rsmi.env", "4"),
            ("rsmi.samples", "400"),
        ],
        // The flows need L = 128 against 64 and three levels: the shallow pairs are not
        // converged (they are dropped), so smaller lattices leave nothing to match.
        "ising2d-flows-paper.toml" => &[
            ("replicas", "1"),
            ("temperatures", NEAR_TC),
            ("monte_carlo.measurements", "3000"),
            ("rg.levels", "3"),
            ("rg.samples", "1500"),
        ],
        // The learned rule is covered above: here majority rule and decimation (whose
        // couplings need not cross).
        "ising2d-flows.toml" => &[
            ("temperatures", NEAR_TC),
            ("monte_carlo.measurements", "3000"),
            ("rg.maps", r#"["majority", "decimation"]"#),
            ("rg.samples", "1500"),
        ],
        // One size at a third of the samples, two levels: the audit's ordering below.
        "layers-ising2d.toml" => &[
            ("sizes", "[32]"),
            ("monte_carlo.measurements", "1200"),
            ("rg.levels", "2"),
            ("rg.samples", "600"),
            ("rg.autoencoder.epochs", "10"),
        ],
        // Three sizes, so that T_KT's error carries the drift between pairs, at a fifth of the
        // statistics, around T_KT.
        "dimer-kt.toml" => &[
            ("sizes", "[16, 32, 64]"),
            (
                "temperatures",
                "[0.55, 0.6, 0.62, 0.64, 0.66, 0.68, 0.7, 0.75]",
            ),
            ("monte_carlo.measurements", "4000"),
            ("monte_carlo.thermalize", "500"),
        ],
        // Mehta & Schwab's 40×40 lattice (the dense layers' size), two levels, fewer samples
        // and epochs: the audit's ordering below, with a dense network in it.
        "layers-mehta-schwab.toml" => &[
            ("replicas", "1"),
            ("monte_carlo.measurements", "1200"),
            ("rg.levels", "2"),
            ("rg.samples", "600"),
            ("rg.rbm.epochs", "10"),
        ],
        // The tutorial geometry on a 16×16 lattice (a 32×32 image), fewer samples and epochs.
        "dimer-rsmi.toml" => &[
            ("sizes", "[16]"),
            ("temperatures", "[1.0, 15.0]"),
            ("save_samples", "100"),
            ("monte_carlo.measurements", "2000"),
            ("monte_carlo.thermalize", "500"),
            ("rsmi.samples", "2000"),
            ("rsmi.stride", "8"),
            ("rsmi.max_epochs", "10"),
            ("rsmi.quiet_steps", "60"),
            ("rsmi.restarts", "2"),
            ("rsmi.dimension_size", "32"),
        ],
        // Percolation: smaller lattices and fewer runs, the same chain (p_c, ν, D by FSS).
        "percolation2d.toml" | "percolation2d-bond.toml" => &[
            ("sizes", "[16, 32, 64]"),
            ("replicas", "20"),
            ("monte_carlo.runs", "[2000, 1000, 500]"),
            ("fss.fit_min_size", "16"),
            ("fss.bootstrap", "100"),
        ],
        "percolation3d.toml" => &[
            ("sizes", "[8, 12, 16]"),
            ("replicas", "20"),
            ("monte_carlo.runs", "[1000, 500, 250]"),
            ("fss.fit_min_size", "8"),
            ("fss.bootstrap", "100"),
        ],
        // Mazes: two small sides, a shallow and a deep network, three short trainings each.
        "mazes.toml" => &[
            ("sizes", "[8, 12]"),
            ("replicas", "3"),
            ("mazes.layers", "[2, 16]"),
            ("mazes.steps", "1000"),
            ("mazes.test", "300"),
        ],
        other => panic!(
            "configs/{other} has no reduction here: every shipped config must be in this test"
        ),
    }
}

fn reduce(text: &str, edits: Reduction) -> String {
    let mut doc: toml::Table = text.parse().expect("a shipped config is TOML");
    for (path, value) in edits {
        let value: Value = format!("v = {value}")
            .parse::<toml::Table>()
            .expect("a TOML value")
            .remove("v")
            .expect("v");
        let mut keys: Vec<&str> = path.split('.').collect();
        let last = keys.pop().expect("a key");
        let mut table = &mut doc;
        for k in keys {
            table = table
                .get_mut(k)
                .and_then(Value::as_table_mut)
                .unwrap_or_else(|| panic!("no table {k} for {path}"));
        }
        assert!(table.contains_key(last), "{path}: not a key of the config");
        table.insert(last.to_string(), value);
    }
    toml::to_string(&doc).expect("serialises")
}

/// Checks an estimate `{value, error}` against `exact`: finite, and within 5 error bars.
fn check(what: &str, e: &serde_json::Value, exact: f64) {
    let (v, err) = (e["value"].as_f64(), e["error"].as_f64());
    let (Some(v), Some(err)) = (v, err) else {
        panic!("{what}: no finite estimate: {e}");
    };
    assert!(v.is_finite() && err.is_finite() && err > 0.0, "{what}: {e}");
    assert!(
        (v - exact).abs() <= 5.0 * err,
        "{what} = {v} ± {err}: {exact} is {:.1} error bars away",
        (v - exact).abs() / err
    );
    eprintln!(
        "  {what} = {v:.5} ± {err:.5} (reference {exact}, {:.1}σ)",
        (v - exact).abs() / err
    );
}

fn run_reduced(config: &Path) -> (serde_json::Value, std::path::PathBuf) {
    let name = config.file_name().and_then(|n| n.to_str()).expect("name");
    let dir = scratch(&format!("config-{name}"));
    let text = std::fs::read_to_string(config).expect("config");
    let file = write(&dir, name, &reduce(&text, reductions(name)));
    let out = dir.join("out");
    let started = std::time::Instant::now();
    let o = rgsweep(&["run", s(&file), "--thread-pool", "--json", "--out", s(&out)]);
    assert!(
        o.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("{name}: {:.1} s", started.elapsed().as_secs_f64());
    (
        serde_json::from_slice(&o.stdout).expect("summary JSON"),
        out,
    )
}

#[test]
fn every_shipped_config_gives_honest_numbers_at_reduced_scale() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut configs: Vec<_> = std::fs::read_dir(root.join("configs"))
        .expect("configs/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 6, "{configs:?}");
    for config in &configs {
        let (summary, out) = run_reduced(config);
        let sweep = &summary["sweep"];
        if let Some(readings) = summary["prx1d"].as_array() {
            check_prx1d(readings);
            continue;
        }
        let model = sweep["model"].as_str().expect("model");
        let refs = rgsweep_coordinator::report::reference(model, sweep["q"].as_u64());
        let sizes = sweep["sizes"].as_array().map_or(0, Vec::len);
        // T_KT needs two sizes; a one-size RSMI sweep says so in its notes instead.
        if let Some(d) = summary.get("dimers") {
            if sizes >= 2 {
                let exact = refs.get("t_kt").expect("a reference value").0;
                check(&format!("{model} T_KT"), &d["t_kt"], exact);
            } else {
                assert!(d["notes"].to_string().contains("two sizes"), "{d}");
            }
        }
        if let Some(p) = summary["percolation"].as_object() {
            for key in ["p_c", "nu", "fractal_dimension"] {
                if let Some((exact, _)) = refs.get(key) {
                    check(&format!("{model} {key}"), &p[key], *exact);
                }
            }
        }
        if let Some(m) = summary["mazes"].as_object() {
            check_mazes(m);
        }
        if sizes >= 2 && summary["fss"].is_object() {
            for key in ["tc", "nu", "gamma_over_nu", "beta_over_nu"] {
                let exact = refs.get(key).expect("a reference value").0;
                check(&format!("{model} FSS {key}"), &summary["fss"][key], exact);
            }
        }
        if let Some(rg) = summary["rg"].as_object() {
            for (map, block) in rg {
                // One lattice size has no pair of curves to cross: the analysis says so.
                if sizes < 2 {
                    let notes = block["notes"].to_string();
                    assert!(notes.contains("no trustworthy crossing"), "{map}: {notes}");
                    continue;
                }
                // Decimation's couplings need not cross at all (they settle to finite values
                // on both sides); without a crossing the analysis must say so, not guess.
                if map == "decimation" && block["tc"]["value"].is_null() {
                    let notes = block["notes"].to_string();
                    assert!(notes.contains("no trustworthy crossing"), "{notes}");
                    continue;
                }
                for key in ["tc", "nu", "y_t", "y_h"] {
                    let exact = refs.get(key).expect("a reference value").0;
                    check(&format!("{model} {map} flow {key}"), &block[key], exact);
                }
            }
        }
        if let Ok(csv) = std::fs::read_to_string(out.join("layers.csv")) {
            check_audit(&csv);
        }
        if sweep.get("rsmi").is_some() {
            // I(H:E) of n_H binary units: between 0 and n_H·ln 2, and for one Ising unit near
            // ln 2 deep in the ordered phase (T = 1.5), where the block's majority is the whole
            // information.
            let csv = std::fs::read_to_string(out.join("rsmi.csv")).expect("rsmi.csv");
            for line in csv.lines().skip(1) {
                let f: Vec<&str> = line.split(',').collect();
                let (t, hidden, mi, err): (f64, f64, f64, f64) = (
                    f[2].parse().expect("T"),
                    f[6].parse().expect("hidden"),
                    f[7].parse().expect("mi"),
                    f[8].parse().expect("err"),
                );
                assert!(mi.is_finite() && err.is_finite(), "{line}");
                assert!(
                    mi > -5.0 * err && mi < hidden * 2f64.ln() + 5.0 * err,
                    "{line}"
                );
                if t == 1.5 && model != "dimer2d" {
                    assert!(mi > 0.6, "ordered phase: {line}");
                }
            }
        }
    }
}

/// A maze sweep (Ringel & de Bem 2018): the hand-set breadth-first network is right on every
/// positive whose depth its n layers reach (its depth bins up to n hold accuracy 1 exactly),
/// accuracies are fractions, and the trained networks beat a coin (1/2 on balanced mazes) by
/// more than three errors at every point.
fn check_mazes(m: &serde_json::Map<String, serde_json::Value>) {
    let points = m["points"].as_array().expect("points");
    assert!(!points.is_empty(), "no maze points");
    for p in points {
        let n = p["layers"].as_u64().expect("layers");
        for d in p["depth"].as_array().expect("depth bins") {
            if d["upto"].as_u64().expect("upto") <= n && d["mazes"].as_u64() > Some(0) {
                assert_eq!(
                    d["hand_accuracy"]["value"], 1.0,
                    "L = {}, n = {n}: {d}",
                    p["size"]
                );
            }
        }
        let (acc, err) = (
            p["accuracy"]["value"].as_f64().expect("accuracy"),
            p["accuracy"]["error"].as_f64().expect("error"),
        );
        assert!((0.0..=1.0).contains(&acc) && err.is_finite(), "{p}");
        assert!(
            acc - 0.5 > 3.0 * err,
            "L = {}, n = {n}: accuracy {acc} ± {err}",
            p["size"]
        );
        eprintln!(
            "  mazes L = {}, n = {n}: accuracy {acc:.3} ± {err:.3} (hand-set {}), success {}, neglect {}",
            p["size"], p["hand_accuracy"]["value"], p["success"]["value"], p["neglect"]["value"]
        );
    }
}

/// A `lab = "prx1d"` laboratory: exact numbers, so exact anchors (REFERENCE.md §6: at K = 0.5
/// decimation keeps 0.604 of I(V:E), majority 0.530 with a negative rangeness), no RBM rule of
/// the grid keeps more than decimation, and the more a rule keeps the shorter-ranged and
/// fewer-bodied its couplings (Lenggenhager et al., PRX 10, 011037, 2020): a negative rank
/// correlation at every K.
fn check_prx1d(readings: &[serde_json::Value]) {
    assert!(!readings.is_empty(), "no couplings read");
    let num =
        |v: &serde_json::Value, what: &str| v.as_f64().unwrap_or_else(|| panic!("{what}: {v}"));
    for r in readings {
        let k = num(&r["k"], "k");
        let dec = num(&r["decimation"]["retained"], "decimation");
        let maj = num(&r["majority"]["retained"], "majority");
        let best = num(&r["best"]["retained"], "best");
        assert!(maj < dec && best <= dec + 1e-9, "K = {k}: {r}");
        assert!(
            num(&r["majority"]["rangeness"], "rangeness") < 0.0,
            "K = {k}: {r}"
        );
        assert!(num(&r["spearman_range"], "spearman") < -0.5, "K = {k}: {r}");
        assert!(
            num(&r["spearman_m_body"], "spearman") < -0.5,
            "K = {k}: {r}"
        );
        if k == 0.5 {
            assert!(
                (dec - 0.604).abs() < 5e-4 && (maj - 0.530).abs() < 5e-4,
                "{r}"
            );
        }
        eprintln!("  prx1d K = {k}: decimation {dec:.4}, majority {maj:.4}, best RBM {best:.4}");
    }
}

/// `layers.csv` (issue 15): RSMI maximises I(H:E), so at every temperature and level no
/// network's relevance beats RSMI's beyond three combined errors; one binary unit keeps at most
/// ln 2 of its block (compression) and no more about the environment than about the block.
fn check_audit(csv: &str) {
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(!rows.is_empty(), "layers.csv has no rows");
    let num = |r: &[&str], k: usize| -> f64 { r[k].parse().expect("a number") };
    // Columns: model,size,temperature,network,level,input_size,block,relevance,err,compression,err
    for r in &rows {
        let (rel, rel_err, comp, comp_err) = (num(r, 7), num(r, 8), num(r, 9), num(r, 10));
        assert!(comp <= 2f64.ln() + 1e-9 && comp >= -1e-9, "{r:?}");
        assert!(rel < comp + 3.0 * rel_err.hypot(comp_err), "{r:?}");
        // The RBM networks measure their receptive fields (columns 19, 20), the others not.
        let receptive = r.get(19).is_some_and(|x| !x.is_empty());
        assert_eq!(receptive, r[3].starts_with("rbm"), "{r:?}");
        let rsmi = rows
            .iter()
            .find(|o| o[2] == r[2] && o[4] == r[4] && o[3] == "rsmi")
            .expect("an RSMI row for every temperature and level");
        let (best, best_err) = (num(rsmi, 7), num(rsmi, 8));
        // RSMI's maximum is over rules that read the block alone; a dense unit reads the
        // environment too, so it is not bound by it (measured far below it all the same).
        assert!(
            r[3] == "rbm-dense" || rel < best + 3.0 * rel_err.hypot(best_err),
            "{} beats RSMI: {r:?} against {rsmi:?}",
            r[3]
        );
        eprintln!(
            "  T = {} level {} {:>10}: relevance {rel:.4}({rel_err:.4}), compression {comp:.4}",
            r[2], r[4], r[3]
        );
    }
}
