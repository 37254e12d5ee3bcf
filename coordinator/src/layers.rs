//! `layers.csv`: the audit of every coarse-graining step (issue 15), one row per (size,
//! temperature, network, level ≥ 1) with replicas combined: relevance I(H:E), compression
//! I(V:H), the level's nearest-neighbour coupling and its rangeness ratios; and
//! `information-plane.csv`, the RBM layers' paths through (compression, relevance) over
//! training.

use crate::aggregate::model_name;
use rgsweep_physics::rg::analysis::Combined;
use rgsweep_physics::rg::couplings::jackknife_error;
use rgsweep_physics::rg::{self, Operator};
use rgsweep_physics::stats::Estimate;
use rgsweep_physics::sweep::Sweep;
use std::fmt::Write;

/// The column order of `layers.csv`; part of the output contract. `input_size` is the lattice
/// the step read (its block: 2^d sites of it); the ratios are K_op / K₁ of the level made,
/// with jackknife errors, empty when the operator is not measured or the level ordered.
pub const LAYERS_HEADER: &str = "model,size,temperature,network,level,input_size,block,relevance,relevance_err,compression,compression_err,k1,k1_err,diagonal_over_k1,diagonal_over_k1_err,second_over_k1,second_over_k1_err,plaquette_over_k1,plaquette_over_k1_err,receptive,receptive_err";

/// K_op / K₁ of one combined level, with the jackknife error of the ratio.
fn ratio(c: &Combined, ops: &[Operator], op: Operator) -> Option<Estimate> {
    let k = ops.iter().position(|&o| o == op)?;
    let nn = ops.iter().position(|&o| o == Operator::NearestNeighbour)?;
    let value = c.couplings[k] / c.couplings[nn];
    if !value.is_finite() {
        return None;
    }
    let leave_out: Vec<f64> = c.leave_out.iter().map(|row| row[k] / row[nn]).collect();
    Some(Estimate::new(value, jackknife_error(&leave_out)))
}

/// The columns every per-level CSV row starts with: model, size, temperature, map, level.
pub(crate) fn row_key(model: &str, c: &Combined) -> String {
    format!(
        "{model},{},{},{},{}",
        c.size,
        c.temperature,
        c.map.name(),
        c.level
    )
}

fn cell(e: Option<Estimate>) -> String {
    e.map_or(",".into(), |e| format!("{},{}", e.value, e.error))
}

/// With `[rg] audit = true`, the rows of every audited level in `combined`'s order.
pub(crate) fn layers_csv(
    sweep: &Sweep,
    settings: &rg::Settings,
    combined: &[Combined],
) -> Option<String> {
    if !settings.audit {
        return None;
    }
    let model = model_name(sweep);
    let dim = sweep.model.dim();
    let block = vec!["2"; dim].join("x");
    let ops = &settings.operators;
    let mut csv = String::from(LAYERS_HEADER);
    csv.push('\n');
    for c in combined.iter().filter(|c| c.level > 0) {
        let nn = ops
            .iter()
            .position(|&o| o == Operator::NearestNeighbour)
            .map(|k| Estimate::new(c.couplings[k], c.errors[k]));
        let _ = writeln!(
            csv,
            "{},{},{block},{},{},{},{},{},{},{}",
            row_key(&model, c),
            c.size >> (c.level - 1),
            cell(c.relevance),
            cell(c.compression),
            cell(nn),
            cell(ratio(c, ops, Operator::Diagonal)),
            cell(ratio(c, ops, Operator::Second)),
            cell(ratio(c, ops, Operator::Plaquette)),
            cell(c.receptive),
        );
    }
    Some(csv)
}

/// The column order of `information-plane.csv`; part of the output contract.
pub const PLANE_HEADER: &str = "model,size,temperature,network,level,epoch,relevance,relevance_err,compression,compression_err";

/// With an `information_plane` (block-local RBM, autoencoders): every audited layer's path
/// over training.
pub(crate) fn plane_csv(
    sweep: &Sweep,
    settings: &rg::Settings,
    combined: &[Combined],
) -> Option<String> {
    if !settings.any_plane() {
        return None;
    }
    let model = model_name(sweep);
    let mut csv = String::from(PLANE_HEADER);
    csv.push('\n');
    for c in combined {
        for p in &c.plane {
            let _ = writeln!(
                csv,
                "{},{},{},{}",
                row_key(&model, c),
                p.epoch,
                cell(Some(p.relevance)),
                cell(Some(p.compression)),
            );
        }
    }
    Some(csv)
}
