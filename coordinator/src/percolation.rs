//! The outputs of a percolation sweep: `observables.csv` with the wrapping probabilities, the
//! largest cluster and the mean cluster size at every (L, p); `cluster-sizes.csv` with n_s per
//! size bin; `summary.json` with p_c, ν, D, γ/ν and τ by finite-size scaling
//! ([`rgsweep_physics::model::percolation::analysis`]). Same invariant as
//! [`crate::aggregate`]: the bytes are a function of the sweep and the set of results.

use crate::aggregate::{AggregateError, Outputs, Partial, Summary, in_point_order};
use rgsweep_physics::Sweep;
use rgsweep_physics::model::percolation::analysis::{self, Quantity, Row, SizeBlocks, SizeRow};
use rgsweep_physics::task::TaskResult;
use std::fmt::Write as _;

/// The column order of a percolation sweep's `observables.csv`; part of the output contract.
/// R_axis: wrapping along a given axis (R_h); R_either, R_all: along at least one, every
/// axis; R_one: along a given axis and no other (2D: R_h − R_b); P_max = ⟨s_max⟩/L^d; chi = (⟨Σ s²⟩ − ⟨s_max²⟩)/L^d.
pub const PERCOLATION_HEADER: &str = "model,size,p,runs,R_axis,R_axis_err,R_either,R_either_err,R_all,R_all_err,R_one,R_one_err,P_max,P_max_err,chi,chi_err";

/// The column order of `cluster-sizes.csv`: clusters per site per unit size over the sizes
/// s_first..=s_last.
pub const SIZES_HEADER: &str = "model,size,p,s_first,s_last,n_s,n_s_err";

/// The blocks of every size, checked to tile 0..blocks exactly once.
fn size_blocks<'a>(
    sweep: &Sweep,
    results: &'a [TaskResult],
) -> Result<Vec<SizeBlocks<'a>>, AggregateError> {
    let mut out: Vec<SizeBlocks> = Vec::new();
    let mut next = 0u32;
    for r in in_point_order(results) {
        let foreign = r.task.model != sweep.model
            || !sweep.sizes.contains(&r.task.size)
            || r.task.probabilities != sweep.probabilities;
        let (Some(block), false) = (r.percolation.as_deref(), foreign) else {
            return Err(AggregateError::Foreign {
                what: format!(
                    "{} L={} block {}",
                    r.task.model, r.task.size, r.task.first_replica
                ),
                sweep: sweep.name.clone(),
            });
        };
        let geometry =
            sweep
                .model
                .percolation(r.task.size)
                .ok_or_else(|| AggregateError::Foreign {
                    what: r.task.model.to_string(),
                    sweep: sweep.name.clone(),
                })?;
        if out.last().is_none_or(|s| s.geometry.size != r.task.size) {
            if let Some(s) = out.last() {
                check_tiled(s, next, sweep.replicas)?;
            }
            out.push(SizeBlocks {
                geometry,
                blocks: Vec::new(),
            });
            next = 0;
        }
        if r.task.first_replica != next {
            return Err(AggregateError::Incomplete {
                size: r.task.size,
                temperature: 0.0,
                got: r.task.first_replica as usize,
                expected: next as usize,
            });
        }
        next += 1;
        if let Some(s) = out.last_mut() {
            s.blocks.push(block);
        }
    }
    if let Some(s) = out.last() {
        check_tiled(s, next, sweep.replicas)?;
    }
    Ok(out)
}

fn check_tiled(s: &SizeBlocks, got: u32, blocks: u32) -> Result<(), AggregateError> {
    if got == blocks {
        Ok(())
    } else {
        Err(AggregateError::Incomplete {
            size: s.geometry.size,
            temperature: 0.0,
            got: got as usize,
            expected: blocks as usize,
        })
    }
}

/// The analysis settings of a sweep.
fn settings(sweep: &Sweep) -> analysis::Settings {
    analysis::Settings {
        probabilities: sweep.probabilities.clone(),
        fit_min_size: sweep.fss.fit_min_size,
        bootstrap: sweep.fss.bootstrap,
        seed: sweep.seed,
        size_correction: sweep
            .fss
            .correction_exponent
            .unwrap_or_else(|| analysis::size_correction(sweep.model.dim())),
        shift_exponent: sweep.fss.shift_exponent,
    }
}

/// p_c from the sizes complete so far, with a rough error (a progress display's).
pub fn running_pc(
    sweep: &Sweep,
    results: &[TaskResult],
) -> Option<rgsweep_physics::stats::Estimate> {
    let complete: Vec<TaskResult> = {
        let mut per_size = std::collections::BTreeMap::<usize, u32>::new();
        for r in results {
            *per_size.entry(r.task.size).or_default() += 1;
        }
        results
            .iter()
            .filter(|r| per_size.get(&r.task.size) == Some(&sweep.replicas))
            .cloned()
            .collect()
    };
    let sizes = size_blocks(sweep, &complete).ok()?;
    let mut s = settings(sweep);
    s.bootstrap = s.bootstrap.min(16);
    analysis::analyse(&sizes, &s).p_c
}

/// Every output of a percolation sweep from its complete sizes.
pub fn outputs(
    sweep: &Sweep,
    results: &[TaskResult],
    partial: Option<Partial>,
) -> Result<Outputs, AggregateError> {
    let sizes = size_blocks(sweep, results)?;
    let summary_percolation = analysis::analyse(&sizes, &settings(sweep));
    let rows = analysis::rows(&sizes, &sweep.probabilities);
    let distribution = analysis::distribution(&sizes, &sweep.probabilities);
    let summary = Summary {
        partial,
        sweep: sweep.clone(),
        fss: None,
        dimers: None,
        percolation: Some(summary_percolation),
        mazes: None,
        rg: None,
    };
    let summary_json = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    Ok(Outputs {
        observables_csv: csv(sweep, &rows),
        summary_json,
        summary,
        rsmi_csv: None,
        filters_json: None,
        flows_csv: None,
        rg_filters_json: None,
        layers_csv: None,
        plane_csv: None,
        sizes_csv: Some(sizes_csv(sweep, &distribution)),
        mazes_csv: None,
        npy: Vec::new(),
        report: None,
    })
}

fn csv(sweep: &Sweep, rows: &[Row]) -> String {
    let mut s = String::from(PERCOLATION_HEADER);
    s.push('\n');
    for r in rows {
        let _ = write!(s, "{},{},{},{}", sweep.model, r.size, r.p, r.runs);
        for (e, _) in r.values.iter().zip(Quantity::ALL) {
            let _ = write!(s, ",{},{}", e.value, e.error);
        }
        s.push('\n');
    }
    s
}

fn sizes_csv(sweep: &Sweep, rows: &[SizeRow]) -> String {
    let mut s = String::from(SIZES_HEADER);
    s.push('\n');
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{}",
            sweep.model, r.size, r.p, r.first, r.last, r.n_s.value, r.n_s.error
        );
    }
    s
}
