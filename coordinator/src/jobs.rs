//! Work the core hands off its thread: reading a sweep's results back from the store and
//! aggregating them, finally (output files) or partially (T_c from the points complete so far).

use crate::aggregate::{aggregate, aggregate_partial, points};
use crate::core::{Job, PartialJob};
use crate::store::Reader;
use prost::Message;
use rgsweep_physics::TaskResult;
use rgsweep_physics::fss;
use rgsweep_physics::model::dimer2d::analysis as dimer_analysis;
use rgsweep_proto::{result_from_wire, v1};
use std::collections::BTreeMap;
use std::path::Path;

pub enum JobOutput {
    Final(Vec<(String, Vec<u8>)>),
    Partial(Option<v1::Estimate>),
}

/// The committed results of a sweep, decoded, in key order.
pub fn load_results(db: &Path, sweep_id: &str) -> Result<Vec<TaskResult>, String> {
    let reader = Reader::open(db).map_err(|e| e.to_string())?;
    let bodies = reader.sweep_results(sweep_id).map_err(|e| e.to_string())?;
    bodies
        .iter()
        .map(|b| {
            let wire = v1::TaskResult::decode(&b[..]).map_err(|e| e.to_string())?;
            result_from_wire(wire)
                .map(|(r, _)| r)
                .map_err(|e| e.to_string())
        })
        .collect()
}

pub fn run(db: &Path, job: &Job) -> Result<JobOutput, String> {
    let results = load_results(db, &job.sweep_id)?;
    if job.final_outputs {
        let out = aggregate(&job.sweep, &results).map_err(|e| e.to_string())?;
        return Ok(JobOutput::Final(out.files()));
    }
    // Mazes: no one number to converge (the outputs are per (L, n)).
    if job.sweep.model.is_maze() {
        return Ok(JobOutput::Partial(None));
    }
    // Percolation: the running estimate is p_c, from the sizes whose blocks are all in.
    if !job.sweep.model.is_thermal() {
        let pc = crate::percolation::running_pc(&job.sweep, &results);
        return Ok(JobOutput::Partial(pc.map(|t| v1::Estimate {
            value: t.value,
            error: t.error,
        })));
    }
    // Only points with every replica are usable.
    let mut replicas: BTreeMap<(usize, u64), u32> = BTreeMap::new();
    for r in &results {
        *replicas
            .entry((r.task.size, r.task.temperature.to_bits()))
            .or_default() += r.task.replicas;
    }
    let complete: Vec<TaskResult> = results
        .into_iter()
        .filter(|r| {
            replicas.get(&(r.task.size, r.task.temperature.to_bits())) == Some(&job.sweep.replicas)
        })
        .collect();
    let pts = points(&job.sweep, &complete).map_err(|e| e.to_string())?;
    // Dimers: the running estimate is T_KT, from the dimers' own analysis.
    if !job.sweep.model.is_spin() {
        let observed: Vec<_> = pts.iter().filter_map(dimer_analysis::observables).collect();
        let summary = dimer_analysis::summarise(&observed);
        return Ok(JobOutput::Partial(summary.t_kt.map(|t| v1::Estimate {
            value: t.value,
            error: t.error,
        })));
    }
    let mut settings = job.sweep.fss.clone();
    // A rough error bar is enough for a progress display.
    settings.bootstrap = settings.bootstrap.min(16);
    let summary = fss::analyse(&pts, &settings, job.sweep.seed);
    Ok(JobOutput::Partial(summary.tc.map(|t| v1::Estimate {
        value: t.value,
        error: t.error,
    })))
}

/// The output files of an unfinished sweep's finished points (see
/// [`crate::aggregate::aggregate_partial`]), from the results committed so far.
pub fn partial_outputs(db: &Path, job: &PartialJob) -> Result<Vec<(String, Vec<u8>)>, String> {
    let results = load_results(db, &job.sweep_id)?;
    let out =
        aggregate_partial(&job.sweep, &results, job.partial.clone()).map_err(|e| {
            match &job.error {
                Some(first) => format!("{e} (the sweep's aggregation failed: {first})"),
                None => e.to_string(),
            }
        })?;
    Ok(out.files())
}
