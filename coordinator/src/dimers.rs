//! The outputs of a dimer2d sweep: `observables.csv` with the dimers' own columns (energy and
//! specific heat per site, ⟨|M_col|²⟩, ⟨W²⟩) and `summary.json` with α_d(T) between sizes and
//! T_KT ([`rgsweep_physics::model::dimer2d::analysis`]) instead of finite-size scaling of a
//! magnetisation the model does not have. Same invariant as [`crate::aggregate`]: the bytes are
//! a function of the sweep and the set of results (points arrive sorted).

use crate::aggregate::{Outputs, Partial, Summary, model_name};
use rgsweep_physics::model::dimer2d::analysis::{self, PointObservables};
use rgsweep_physics::{PointData, Sweep};
use std::fmt::Write as _;

/// The column order of a dimer sweep's `observables.csv`; part of the output contract.
pub const DIMER_HEADER: &str = "model,size,temperature,samples,energy,energy_err,specific_heat,specific_heat_err,columnar_m2,columnar_m2_err,winding2,winding2_err,tau_int_energy,tau_int_m2";

/// Every output of a dimer sweep from its complete points (sorted by size, then temperature).
pub fn outputs(sweep: &Sweep, points: &[PointData], partial: Option<Partial>) -> Outputs {
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
    let summary = Summary {
        partial,
        sweep: sweep.clone(),
        fss: None,
        dimers: Some(summary_dimers),
        rg: None,
    };
    let summary_json = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    Outputs {
        observables_csv: csv(sweep, &observed),
        summary_json,
        summary,
        rsmi_csv: None,
        filters_json: None,
        flows_csv: None,
        rg_filters_json: None,
        npy: Vec::new(),
        report: None,
    }
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
