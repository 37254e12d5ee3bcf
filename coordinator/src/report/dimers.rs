//! The report's figures for a dimer2d sweep (`summary.json`'s `dimers` block and the dimers'
//! `observables.csv`): α_d(T) with the KT value 1/4 and T_KT marked, the columnar order
//! ⟨|M_col|²⟩(T) and the winding fluctuations ⟨W²⟩(T) — the Coulomb gas's stiffness — per
//! size, and the specific heat.

use super::{Lines, Plot, Series, Table, curves};
use serde_json::Value;
use std::collections::BTreeMap;

/// (slug, caption, plot) of every dimer figure, in page order.
pub(super) fn figures(observables: &Table, summary: &Value) -> Vec<(String, String, Option<Plot>)> {
    let all = |_: &BTreeMap<String, String>| true;
    let t_kt = summary["dimers"]["t_kt"]["value"].as_f64();
    let mut alpha: BTreeMap<String, Series> = BTreeMap::new();
    for e in summary["dimers"]["alpha_d"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        alpha
            .entry(format!("L = {} / {}", e["size"], e["against"]))
            .or_default()
            .push((
                num(&e["temperature"]),
                num(&e["alpha_d"]["value"]),
                num(&e["alpha_d"]["error"]),
            ));
    }
    let mut alpha: Vec<(String, Series)> = alpha.into_iter().collect();
    // The KT value as a flat reference line over the sweep's temperatures.
    let ts: Vec<f64> = alpha
        .iter()
        .flat_map(|(_, s)| s.iter().map(|p| p.0))
        .collect();
    if let (Some(lo), Some(hi)) = (
        ts.iter().copied().reduce(f64::min),
        ts.iter().copied().reduce(f64::max),
    ) {
        alpha.push((
            "α_d = 1/4 (KT)".into(),
            vec![(lo, 0.25, 0.0), (hi, 0.25, 0.0)],
        ));
    }
    vec![
        (
            "alpha-d".into(),
            "The columnar exponent α_d(T) from ⟨|M_col|²⟩ ∝ L^(−α_d) between neighbouring sizes; T_KT (line) is where the largest pair's α_d crosses 1/4 (Alet et al. 2005: T_KT ≈ 0.65; α_d = 2 at T = ∞).".into(),
            Lines::plot("Columnar exponent", "T", "alpha_d", alpha, t_kt.map(|t| (t, "T_KT"))),
        ),
        (
            "columnar".into(),
            "Columnar order ⟨|M_col|²⟩(T) per size: 1 in a columnar crystal, falling as L^(−α_d) in the critical phase.".into(),
            Lines::plot(
                "Columnar order",
                "T",
                "<|M_col|^2>",
                curves(observables, "size", "L = ", "columnar_m2", "columnar_m2_err", all),
                t_kt.map(|t| (t, "T_KT")),
            ),
        ),
        (
            "winding".into(),
            "Winding-number fluctuations ⟨W²⟩ = ⟨W_x² + W_y²⟩/2 per size: the flux of the emergent electric field through the torus, zero in the crystal and growing with T in the Coulomb phase (the worm changes winding sectors; plaquette flips keep W = 0).".into(),
            Lines::plot(
                "Winding fluctuations",
                "T",
                "<W^2>",
                curves(observables, "size", "L = ", "winding2", "winding2_err", all),
                t_kt.map(|t| (t, "T_KT")),
            ),
        ),
        (
            "specific-heat".into(),
            "Specific heat per site C/N(T) per size.".into(),
            Lines::plot(
                "Specific heat",
                "T",
                "C/N",
                curves(observables, "size", "L = ", "specific_heat", "specific_heat_err", all),
                t_kt.map(|t| (t, "T_KT")),
            ),
        ),
    ]
}
