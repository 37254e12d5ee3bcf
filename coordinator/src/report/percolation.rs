//! The report's figures and estimates for a percolation sweep (`summary.json`'s `percolation`
//! block, its `observables.csv` and `cluster-sizes.csv`): the wrapping probabilities against
//! p per size with p_c marked, the largest cluster and the mean cluster size, and the
//! cluster-size distribution near p_c on log–log axes.

use super::{Lines, Plot, Series, Table};
use serde_json::Value;
use std::collections::BTreeMap;

/// Curves of column `y` against p, one per lattice size.
fn by_size(t: &Table, y: &str) -> Vec<(String, Series)> {
    let mut out: BTreeMap<u64, Series> = BTreeMap::new();
    for row in &t.rows {
        let size = t.numbers(row, "size");
        out.entry(size as u64).or_default().push((
            t.numbers(row, "p"),
            t.numbers(row, y),
            t.numbers(row, &format!("{y}_err")),
        ));
    }
    out.into_iter()
        .map(|(l, mut s)| {
            s.sort_by(|a, b| a.0.total_cmp(&b.0));
            (format!("L = {l}"), s)
        })
        .collect()
}

/// (slug, caption, plot) of every percolation figure, in page order.
pub(super) fn figures(
    observables: &Table,
    sizes: Option<&Table>,
    summary: &Value,
) -> Vec<(String, String, Option<Plot>)> {
    let pc = summary["percolation"]["p_c"]["value"].as_f64();
    let mark = pc.map(|p| (p, "p_c"));
    let mut out = vec![
        (
            "wrapping-axis".into(),
            "R_axis(p): the probability that a cluster wraps the torus along a given axis (averaged over the axes), per size; the curves cross near p_c and steepen as L^(1/ν). On the square torus R_axis(p_c) → 0.521058 (Pinson).".into(),
            Lines::plot("Wrapping along an axis", "p", "R_axis", by_size(observables, "R_axis"), mark),
        ),
        (
            "wrapping-either".into(),
            "R_either(p) and R_all(p): wrapping along at least one axis and along every axis.".into(),
            Lines::plot(
                "Wrapping along any / every axis",
                "p",
                "R",
                by_size(observables, "R_either")
                    .into_iter()
                    .map(|(n, s)| (format!("{n} either"), s))
                    .chain(
                        by_size(observables, "R_all")
                            .into_iter()
                            .map(|(n, s)| (format!("{n} all"), s)),
                    )
                    .collect(),
                mark,
            ),
        ),
        (
            "largest".into(),
            "P_max(p) = ⟨s_max⟩/L^d, the largest cluster's share of the sites: it falls as L^(D−d) at p_c.".into(),
            Lines::plot("Largest cluster", "p", "P_max", by_size(observables, "P_max"), mark),
        ),
        (
            "mean-size".into(),
            "χ(p) = (⟨Σ s²⟩ − ⟨s_max²⟩)/L^d, the mean size of the cluster of a site outside the largest; ∝ L^(γ/ν) at p_c.".into(),
            Lines::plot("Mean cluster size", "p", "chi", by_size(observables, "chi"), mark),
        ),
    ];
    // n_s on log–log axes at the sweep's p nearest p_c, per size.
    if let (Some(t), Some(pc)) = (sizes, pc) {
        let ps: Vec<f64> = t.rows.iter().map(|r| t.numbers(r, "p")).collect();
        let nearest = ps
            .iter()
            .copied()
            .min_by(|a, b| (a - pc).abs().total_cmp(&(b - pc).abs()));
        let mut curves: BTreeMap<u64, Series> = BTreeMap::new();
        for row in &t.rows {
            if Some(t.numbers(row, "p")) != nearest {
                continue;
            }
            let (lo, hi) = (t.numbers(row, "s_first"), t.numbers(row, "s_last"));
            let n = t.numbers(row, "n_s");
            let e = t.numbers(row, "n_s_err");
            if n > 0.0 {
                curves
                    .entry(t.numbers(row, "size") as u64)
                    .or_default()
                    .push((
                        (lo * hi).sqrt().log10(),
                        n.log10(),
                        e / n / std::f64::consts::LN_10,
                    ));
            }
        }
        let tau = summary["percolation"]["tau"]["value"].as_f64();
        out.push((
            "cluster-sizes".into(),
            format!(
                "The cluster-size distribution n_s (clusters per site per unit size) at p = {}, log–log: a power law s^(−τ) up to the finite-size cutoff ~L^D{}.",
                nearest.unwrap_or(f64::NAN),
                tau.map_or(String::new(), |t| format!("; fitted τ = {t:.4}"))
            ),
            Lines::plot(
                "Cluster sizes",
                "log10 s",
                "log10 n_s",
                curves
                    .into_iter()
                    .map(|(l, s)| (format!("L = {l}"), s))
                    .collect(),
                None,
            ),
        ));
    }
    out
}

/// (what, key into `reference`, estimate) rows of the estimates table.
pub(super) fn estimates(summary: &Value) -> Vec<(String, &'static str, Value)> {
    let p = &summary["percolation"];
    let mut rows = vec![
        (
            format!(
                "p_c ({})",
                p["p_c_method"].as_str().unwrap_or("not located")
            ),
            "p_c",
            p["p_c"].clone(),
        ),
        ("ν (slopes of R at p_c)".into(), "nu", p["nu"].clone()),
        (
            "D (largest cluster at p_c)".into(),
            "fractal_dimension",
            p["fractal_dimension"].clone(),
        ),
        (
            "γ/ν (mean cluster size at p_c)".into(),
            "gamma_over_nu",
            p["gamma_over_nu"].clone(),
        ),
        ("τ (n_s at p_c)".into(), "tau", p["tau"].clone()),
    ];
    for l in p["locators"].as_array().into_iter().flatten() {
        let q = l["quantity"].as_str().unwrap_or("R");
        rows.push((
            format!("p_c from {q} = R_∞, extrapolated"),
            "p_c",
            l["fixed_point_pc"].clone(),
        ));
        rows.push((
            format!("p_c from {q} crossings"),
            "p_c",
            l["crossing_pc"].clone(),
        ));
    }
    // The wrapping probabilities at p_c on the largest lattice.
    let largest = p["sizes"].as_array().and_then(|a| a.last()).cloned();
    for (name, key) in [
        ("R_axis", "r_axis"),
        ("R_either", "r_either"),
        ("R_all", "r_all"),
        ("R_one", "r_one"),
    ] {
        for entry in p["at_pc"].as_array().into_iter().flatten() {
            if entry[0].as_str() == Some(name) {
                let last = entry[1].as_array().and_then(|a| a.last()).cloned();
                rows.push((
                    format!(
                        "{name}(p_c) at L = {}",
                        largest.as_ref().map_or(String::new(), ToString::to_string)
                    ),
                    key,
                    last.unwrap_or(Value::Null),
                ));
            }
        }
    }
    rows
}
