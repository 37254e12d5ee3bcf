//! The report's audit figures (`layers.csv`): the relevance of every network's steps level by
//! level, and relevance against rangeness — the optimal-RG claim (Lenggenhager et al., PRX 10,
//! 011037, 2020) that keeping more information about the environment leaves shorter-ranged
//! couplings, tested in 2D.

use super::{Lines, Plot, ReportError, Series, Table};
use std::collections::BTreeMap;

/// (slug, caption, plot) of the audit figures, in page order.
pub(super) fn figures(
    files: &BTreeMap<String, String>,
) -> Result<Vec<(String, String, Option<Plot>)>, ReportError> {
    let Some(text) = files.get("layers.csv") else {
        return Ok(Vec::new());
    };
    let t = Table::parse("layers.csv", text)?;
    let largest = t.largest_size();
    let rows: Vec<&BTreeMap<String, String>> = t
        .rows
        .iter()
        .filter(|r| t.numbers(r, "size") == largest)
        .collect();
    let mut temperatures: Vec<f64> = rows.iter().map(|r| t.numbers(r, "temperature")).collect();
    temperatures.sort_by(f64::total_cmp);
    temperatures.dedup();
    let mut out = Vec::new();
    for temperature in temperatures {
        let here: Vec<&&BTreeMap<String, String>> = rows
            .iter()
            .filter(|r| t.numbers(r, "temperature") == temperature)
            .collect();
        // network → (level, relevance, error), in level order.
        let mut curves: BTreeMap<String, Series> = BTreeMap::new();
        // network → (K(2,0)/K₁, relevance, error), in level order, where K₁ is resolved (a
        // ratio over a coupling consistent with zero says nothing about range).
        let mut paths: BTreeMap<String, Series> = BTreeMap::new();
        // RBM networks → (level, receptive-field radius, error).
        let mut fields: BTreeMap<String, Series> = BTreeMap::new();
        for r in &here {
            let network = r.get("network").cloned().unwrap_or_default();
            let (rel, err) = (t.numbers(r, "relevance"), t.numbers(r, "relevance_err"));
            // Older layers.csv files have no receptive column: nothing to draw.
            let radius = r.get("receptive").and_then(|v| v.parse::<f64>().ok());
            if let Some(radius) = radius.filter(|x| x.is_finite()) {
                fields.entry(network.clone()).or_default().push((
                    t.numbers(r, "level"),
                    radius,
                    t.numbers(r, "receptive_err"),
                ));
            }
            curves
                .entry(network.clone())
                .or_default()
                .push((t.numbers(r, "level"), rel, err));
            if t.numbers(r, "k1") > 3.0 * t.numbers(r, "k1_err") {
                paths
                    .entry(network)
                    .or_default()
                    .push((t.numbers(r, "second_over_k1"), rel, err));
            }
        }
        out.push((
            format!("relevance-t{temperature}"),
            format!(
                "Relevance of every network's coarse-graining step, level by level, at T = {temperature}, L = {largest}: held-out I(H:E) of one block's coarse spin about its environment beyond the buffer, on the lattice the step read, measured alike for every rule. RSMI maximises it: no rule may beat it beyond errors."
            ),
            Lines::plot(
                &format!("Relevance per level, T = {temperature}"),
                "level",
                "I(H:E) (nats)",
                curves.into_iter().collect(),
                None,
            ),
        ));
        out.push((
            format!("rangeness-t{temperature}"),
            format!(
                "Relevance against rangeness K(2,0)/K₁ of the level each step made, T = {temperature}, L = {largest}: one path per network, level 1 to the deepest (levels whose K₁ is within three errors of zero, or ordered, left out). The PRX claim, in 2D: more information kept, shorter range."
            ),
            Lines::plot(
                &format!("Relevance against rangeness, T = {temperature}"),
                "K(2,0) / K1",
                "I(H:E) (nats)",
                paths.into_iter().collect(),
                None,
            ),
        ));
        if !fields.is_empty() {
            out.push((
                format!("receptive-t{temperature}"),
                format!(
                    "Receptive fields of the RBM networks' units, level by level, T = {temperature}, L = {largest}: the mean radius of gyration (lattice spacings of the simulated lattice, with the standard error over units) of |W_l|···|W_1|, how strongly a level-l unit depends on each site through the stack. A block-local layer's fields are confined to its 2^l × 2^l blocks by construction (radius √(2·(4^l − 1)/12) if uniform: 0.71, 1.58, 3.24); a dense layer's are whatever training made (weight spread evenly over the torus gives L/√6) — Mehta & Schwab saw them local and growing with depth."
                ),
                Lines::plot(
                    &format!("Receptive-field radius per level, T = {temperature}"),
                    "level",
                    "radius (sites)",
                    fields.into_iter().collect(),
                    None,
                ),
            ));
        }
    }
    if let Some(text) = files.get("information-plane.csv") {
        out.extend(plane_figures(&Table::parse("information-plane.csv", text)?));
    }
    Ok(out)
}

/// Per temperature: each trained layer's path through (compression, relevance) over its
/// training epochs (Shwartz-Ziv & Tishby's information plane, arXiv:1703.00810), one curve
/// per network and level.
fn plane_figures(t: &Table) -> Vec<(String, String, Option<Plot>)> {
    let largest = t.largest_size();
    // temperature bits → (network, level bits) → points in epoch order.
    let mut by_t: BTreeMap<u64, BTreeMap<(String, u64), Series>> = BTreeMap::new();
    for r in t.rows.iter().filter(|r| t.numbers(r, "size") == largest) {
        let network = r.get("network").cloned().unwrap_or_default();
        by_t.entry(t.numbers(r, "temperature").to_bits())
            .or_default()
            .entry((network, t.numbers(r, "level").to_bits()))
            .or_default()
            .push((
                t.numbers(r, "compression"),
                t.numbers(r, "relevance"),
                t.numbers(r, "relevance_err"),
            ));
    }
    by_t.into_iter()
        .map(|(bits, levels)| {
            let temperature = f64::from_bits(bits);
            let curves = levels
                .into_iter()
                .map(|((network, l), s)| (format!("{network} level {}", f64::from_bits(l)), s))
                .collect();
            (
                format!("plane-t{temperature}"),
                format!(
                    "The information plane of the trained layers over training, T = {temperature}, L = {largest}: compression I(V:H) of a block against relevance I(H:E), after epochs 1, 2, 5, 10, 20, … and the last, one path per network and level. A compression phase (Shwartz-Ziv & Tishby) is a path turning left late in training; Saxe et al. tie it to saturating units: compare autoencoder-tanh with autoencoder-relu."
                ),
                Lines::plot(
                    &format!("Information plane over training, T = {temperature}"),
                    "I(V:H) (nats)",
                    "I(H:E) (nats)",
                    curves,
                    None,
                ),
            )
        })
        .collect()
}
