//! The report's RG-flow figures: K₁ of every level against T per map, the flow in the
//! (K₁, K_diag) plane, and the RSMI rule of every level (`flows.csv`, `rg-filters.json`).

use super::{Lines, Panel, Plot, ReportError, Series, Table, curves, filter_plot, json, numbers};
use serde_json::Value;
use std::collections::BTreeMap;

/// (slug, caption, plot) of the flow figures, in page order.
pub(super) fn figures(
    files: &BTreeMap<String, String>,
    summary: &Value,
) -> Result<Vec<(String, String, Option<Plot>)>, ReportError> {
    let mut out = Vec::new();
    let mut add = |slug: &str, caption: &str, plot: Option<Plot>| {
        out.push((slug.to_string(), caption.to_string(), plot));
    };
    if let Some(text) = files.get("flows.csv") {
        let flows = Table::parse("flows.csv", text)?;
        let largest = flows.largest_size();
        let mut maps: Vec<String> = flows
            .rows
            .iter()
            .filter_map(|r| r.get("map").cloned())
            .collect();
        maps.sort();
        maps.dedup();
        for map in maps {
            let rg_tc = summary["rg"][&map]["tc"]["value"].as_f64();
            add(
                &format!("flow-{map}"),
                &format!(
                    "Coupling flow, {map} rule: nearest-neighbour coupling K₁ of every level against T, L = {largest} (ordered levels, K₁ = ∞, left out); the line is the flow's T_c."
                ),
                Lines::plot(
                    &format!("K1 flow ({map})"),
                    "T",
                    "K1",
                    curves(&flows, "level", "level ", "coupling", "error", |r| {
                        r.get("map") == Some(&map)
                            && r.get("operator").map(String::as_str) == Some("nn")
                            && flows.numbers(r, "size") == largest
                    }),
                    rg_tc.map(|t| (t, "T_c")),
                ),
            );
            // The flow in the (K₁, K_diag) plane: one trajectory per temperature, level by level.
            let mut paths: BTreeMap<u64, BTreeMap<u64, (f64, f64)>> = BTreeMap::new();
            for r in &flows.rows {
                if r.get("map") != Some(&map) || flows.numbers(r, "size") != largest {
                    continue;
                }
                let t = flows.numbers(r, "temperature");
                let level = flows.numbers(r, "level");
                let k = flows.numbers(r, "coupling");
                let entry = paths
                    .entry(t.to_bits())
                    .or_default()
                    .entry(level.to_bits())
                    .or_insert((f64::NAN, f64::NAN));
                match r.get("operator").map(String::as_str) {
                    Some("nn") => entry.0 = k,
                    Some("diagonal") => entry.1 = k,
                    _ => {}
                }
            }
            let trajectories: Vec<(String, Series)> = paths
                .into_iter()
                .map(|(t, levels)| {
                    (
                        format!("T = {}", f64::from_bits(t)),
                        levels.into_values().map(|(k1, k2)| (k1, k2, 0.0)).collect(),
                    )
                })
                .collect();
            add(
                &format!("plane-{map}"),
                &format!(
                    "The {map} flow in the (K₁, K_diag) plane, L = {largest}: one path per temperature from level 0 (K_diag = 0) on; paths run off towards the ordered or the disordered sink on either side of T_c."
                ),
                Lines::plot(
                    &format!("Flow in the (K1, K2) plane ({map})"),
                    "K1",
                    "K2 (diagonal)",
                    trajectories,
                    None,
                ),
            );
        }
        if let Some(text) = files.get("rg-filters.json") {
            add(
                "rg-filters",
                &format!(
                    "The RSMI rule learned at every level of the flow, L = {largest}, first replica: one row per temperature, one panel per level (the 2×2 block; 3D: its two layers one above the other). Each filter's sign is fixed to sum ≥ 0."
                ),
                rg_filters(&json("rg-filters.json", text)?, largest),
            );
        }
    }
    Ok(out)
}

/// `rg-filters.json` at size `size`: every level's rule, first replica, per temperature.
pub(super) fn rg_filters(rules: &Value, size: f64) -> Option<Plot> {
    // temperature bits → level → (replica, filter)
    let mut by_t: BTreeMap<u64, BTreeMap<u64, (u64, Vec<f64>)>> = BTreeMap::new();
    for r in rules.as_array()?.iter() {
        let (Some(t), Some(level), Some(replica)) = (
            r["temperature"].as_f64(),
            r["level"].as_u64(),
            r["replica"].as_u64(),
        ) else {
            continue;
        };
        if r["size"].as_f64() != Some(size) {
            continue;
        }
        let e = by_t
            .entry(t.to_bits())
            .or_default()
            .entry(level)
            .or_insert((replica, numbers(&r["filter"])));
        if replica < e.0 {
            *e = (replica, numbers(&r["filter"]));
        }
    }
    let levels = by_t.values().map(BTreeMap::len).max().unwrap_or(0);
    let rows = by_t
        .into_iter()
        .map(|(t, levels)| {
            let panels = levels
                .into_values()
                .map(|(_, f)| Panel::new(&f, 2))
                .collect();
            (format!("T = {}", f64::from_bits(t)), panels)
        })
        .collect();
    filter_plot("RSMI rule per RG level", "level", levels, rows)
}
