//! The outputs of a dimer2d sweep: `observables.csv` with the dimers' own columns (energy and
//! specific heat per site, ⟨|M_col|²⟩, ⟨W²⟩) and `summary.json` with α_d(T) between sizes and
//! T_KT ([`rgsweep_physics::model::dimer2d::analysis`]) instead of finite-size scaling of a
//! magnetisation the model does not have. Same invariant as [`crate::aggregate`]: the bytes are
//! a function of the sweep and the set of results (points arrive sorted).

use crate::aggregate::{
    Outputs, Partial, Summary, in_point_order, model_name, npy_files, rsmi_outputs,
};
use rgsweep_physics::model::dimer2d::analysis::{self, FieldRow, PointObservables};
use rgsweep_physics::model::dimer2d::image::field_overlap;
use rgsweep_physics::stats::Estimate;
use rgsweep_physics::task::TaskResult;
use rgsweep_physics::{PointData, Sweep};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The column order of a dimer sweep's `observables.csv`; part of the output contract.
pub const DIMER_HEADER: &str = "model,size,temperature,samples,energy,energy_err,specific_heat,specific_heat_err,columnar_m2,columnar_m2_err,winding2,winding2_err,tau_int_energy,tau_int_m2";

/// Every output of a dimer sweep from its complete points (sorted by size, then temperature).
pub fn outputs(
    sweep: &Sweep,
    points: &[PointData],
    results: &[TaskResult],
    partial: Option<Partial>,
) -> Outputs {
    let mut notes = Vec::new();
    let observed: Vec<PointObservables> = points
        .iter()
        .filter_map(|p| {
            let o = analysis::observables(p);
            if o.is_none() {
                notes.push(format!(
                    "L={} T={}: the results lack the dimer series; the point is left out",
                    p.size, p.temperature
                ));
            }
            o
        })
        .collect();
    let mut summary_dimers = analysis::summarise(&observed);
    summary_dimers.notes.extend(notes);
    summary_dimers
        .notes
        .extend(observed.iter().filter_map(|o| o.note.clone()));
    if let Some(settings) = &sweep.rsmi {
        summary_dimers.fields = fields(results, settings.block);
    }
    let summary = Summary {
        partial,
        sweep: sweep.clone(),
        fss: None,
        dimers: Some(summary_dimers),
        percolation: None,
        mazes: None,
        rg: None,
    };
    let summary_json = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    let (rsmi_csv, filters_json) = rsmi_outputs(sweep, results);
    Outputs {
        observables_csv: csv(sweep, &observed),
        summary_json,
        summary,
        rsmi_csv,
        filters_json,
        flows_csv: None,
        rg_filters_json: None,
        sizes_csv: None,
        mazes_csv: None,
        layers_csv: None,
        plane_csv: None,
        npy: npy_files(sweep, results),
        report: None,
    }
}

/// Per (size, temperature, buffer), the learned filters' overlap with the electric field and
/// the decoys ([`field_overlap`]), averaged over replicas.
fn fields(results: &[TaskResult], block: usize) -> Vec<FieldRow> {
    type Row = ([f64; 4], usize, (f64, f64, usize));
    let mut sums: BTreeMap<(usize, u64, usize), Row> = BTreeMap::new();
    // Replicas summed in point order: the bytes must not depend on the results' order.
    for r in in_point_order(results) {
        for p in &r.rsmi {
            let Some(o) = field_overlap(&p.filters, block) else {
                continue;
            };
            let e = sums
                .entry((r.task.size, r.task.temperature.to_bits(), p.buffer))
                .or_default();
            e.0[0] += o.in_field_span;
            e.0[1] += o.field_in_filter_span;
            e.0[2] += o.decoy_weight;
            e.0[3] += o.in_columnar_span;
            e.1 += 1;
            if let Some(d) = p.dimension {
                e.2.0 += d.value;
                e.2.1 += d.error * d.error;
                e.2.2 += 1;
            }
        }
    }
    sums.into_iter()
        .map(|((size, t, buffer), (s, n, d))| FieldRow {
            size,
            temperature: f64::from_bits(t),
            buffer,
            replicas: n,
            in_field_span: s[0] / n as f64,
            field_in_filter_span: s[1] / n as f64,
            decoy_weight: s[2] / n as f64,
            in_columnar_span: s[3] / n as f64,
            dimension: (d.2 > 0).then(|| {
                let k = d.2 as f64;
                Estimate::new(d.0 / k, d.1.sqrt() / k)
            }),
        })
        .collect()
}

fn csv(sweep: &Sweep, rows: &[PointObservables]) -> String {
    let model = model_name(sweep);
    let mut s = String::from(DIMER_HEADER);
    s.push('\n');
    for o in rows {
        let _ = writeln!(
            s,
            "{model},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            o.size,
            o.temperature,
            o.samples,
            o.energy.value,
            o.energy.error,
            o.specific_heat.value,
            o.specific_heat.error,
            o.columnar_m2.value,
            o.columnar_m2.error,
            o.winding2.value,
            o.winding2.error,
            o.tau_int_energy,
            o.tau_int_m2,
        );
    }
    s
}
