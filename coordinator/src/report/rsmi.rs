//! The report's RSMI figures: held-out I(H:E) against T per buffer width, and the learned
//! filters as heat maps (`rsmi.csv`, `filters.json`).

use super::{Lines, Panel, Plot, ReportError, Table, curves, filter_plot, json, numbers};
use serde_json::Value;
use std::collections::BTreeMap;

/// (slug, caption, plot) of the RSMI figures, in page order; `per_site` weights per site (q
/// for Potts' one-hot encoding, else 1).
pub(super) fn figures(
    files: &BTreeMap<String, String>,
    per_site: f64,
) -> Result<Vec<(String, String, Option<Plot>)>, ReportError> {
    let mut out = Vec::new();
    let mut add = |slug: &str, caption: &str, plot: Option<Plot>| {
        out.push((slug.to_string(), caption.to_string(), plot));
    };
    if let Some(text) = files.get("rsmi.csv") {
        let rsmi = Table::parse("rsmi.csv", text)?;
        let largest = rsmi.largest_size();
        add(
            "rsmi-mi",
            &format!(
                "RSMI: held-out I(H:E) in nats against T for every buffer width, L = {largest}."
            ),
            Lines::plot(
                "Real-space mutual information",
                "T",
                "I(H:E) (nats)",
                curves(&rsmi, "buffer", "L_B = ", "mi_nats", "mi_err", |r| {
                    rsmi.numbers(r, "size") == largest
                }),
                None,
            ),
        );
        if let Some(text) = files.get("filters.json") {
            let block = rsmi
                .rows
                .first()
                .map_or(f64::NAN, |r| rsmi.numbers(r, "block"));
            let (buffer, plot) =
                rsmi_filters(&json("filters.json", text)?, largest, block * per_site);
            add(
                "rsmi-filters",
                &format!(
                    "RSMI: the learned filters Λ at L = {largest}, buffer L_B = {buffer}, first replica; one row per temperature, one panel per hidden unit, weights laid out like the block (Potts: q one-hot weights per site, side by side; 3D: the layers one above the other). H and −H carry the same information, so each filter's sign is fixed to sum ≥ 0."
                ),
                plot,
            );
        }
    }
    Ok(out)
}

/// `filters.json` at size `size`: the largest buffer's filters of each temperature's first
/// replica, `width` weights a row. Returns the buffer shown.
fn rsmi_filters(filters: &Value, size: f64, width: f64) -> (u64, Option<Plot>) {
    let Some(tasks) = filters.as_object() else {
        return (0, None);
    };
    let at_size: Vec<&Value> = tasks
        .values()
        .filter(|t| t["size"].as_f64() == Some(size))
        .collect();
    let buffer = at_size
        .iter()
        .filter_map(|t| t["buffers"].as_object())
        .flat_map(|b| b.keys().filter_map(|k| k.parse::<u64>().ok()))
        .max()
        .unwrap_or(0);
    // temperature bits → (first replica, that replica's filters); positive temperatures'
    // bits order like the values.
    let mut by_t: BTreeMap<u64, (u64, &Value)> = BTreeMap::new();
    for t in at_size {
        let (Some(temp), Some(first)) = (t["temperature"].as_f64(), t["first_replica"].as_u64())
        else {
            continue;
        };
        let filters = &t["buffers"][buffer.to_string()][0]["filters"];
        let e = by_t.entry(temp.to_bits()).or_insert((first, filters));
        if first < e.0 {
            *e = (first, filters);
        }
    }
    let width = if width.is_finite() && width >= 1.0 {
        width as usize
    } else {
        0
    };
    let rows: Vec<(String, Vec<Option<Panel>>)> = by_t
        .into_iter()
        .map(|(t, (_, f))| {
            let panels = f
                .as_array()
                .map(|units| {
                    units
                        .iter()
                        .map(|u| Panel::new(&numbers(u), width))
                        .collect()
                })
                .unwrap_or_default();
            (format!("T = {}", f64::from_bits(t)), panels)
        })
        .collect();
    let units = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    (
        buffer,
        filter_plot("Learned RSMI filters", "unit", units, rows),
    )
}
