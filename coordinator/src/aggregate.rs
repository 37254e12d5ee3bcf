//! Deterministic aggregation: task results → `observables.csv` and `summary.json`.
//!
//! Invariant: the output bytes are a function of the sweep and the *set* of results. Results
//! are sorted by (size, temperature, first replica) before anything is computed, floats are
//! printed in Rust's shortest round-trip form, and the FSS bootstrap draws from a stream derived
//! from the sweep seed — so arrival order, thread count and worker count cannot change a byte.

use rgsweep_physics::fss::{self, FssSummary};
use rgsweep_physics::model::dimer2d::analysis::DimerSummary;
use rgsweep_physics::rg::analysis::{self, Combined, MapSummary};
use rgsweep_physics::rg::{self, Level, MapKind};
use rgsweep_physics::task::{TaskResult, point_data};
use rgsweep_physics::{Observables, PointData, Sweep};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Version of the aggregation: bump it whenever a change alters any output file for the same
/// results, so that a coordinator opening an older database aggregates its finished sweeps
/// again (see `Store::reaggregate_if_older`).
pub const AGGREGATE_FORMAT: i64 = 9;

/// The column order of `observables.csv`; part of the output contract.
pub const OBSERVABLES_HEADER: &str = "model,size,temperature,samples,energy,energy_err,abs_m,abs_m_err,m2,m2_err,binder,binder_err,susceptibility,susceptibility_err,specific_heat,specific_heat_err,tau_int_energy,tau_int_m2";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AggregateError {
    #[error("result for {what} does not belong to sweep {sweep}")]
    Foreign { what: String, sweep: String },
    #[error(
        "point L={size} T={temperature}: replicas do not tile 0..R (found {got}, expected {expected})"
    )]
    Incomplete {
        size: usize,
        temperature: f64,
        got: usize,
        expected: usize,
    },
}

/// The column order of `rsmi.csv`; part of the output contract.
pub const RSMI_HEADER: &str =
    "model,size,temperature,block,buffer,env,hidden,mi_nats,mi_err,seconds";

/// The column order of `flows.csv`; part of the output contract.
pub const FLOWS_HEADER: &str = "model,size,temperature,map,level,operator,coupling,error";

/// The files a finished sweep produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Outputs {
    pub observables_csv: String,
    pub summary_json: String,
    pub summary: Summary,
    /// With `[rsmi]`: one row per (size, temperature, buffer), replicas combined.
    pub rsmi_csv: Option<String>,
    /// With `[rsmi]`: every task's filters, by task key.
    pub filters_json: Option<String>,
    /// With `[rg]`: one row per (size, temperature, map, level, operator), replicas combined.
    pub flows_csv: Option<String>,
    /// With the RSMI map: the learned rule of every level, by size, temperature and replica.
    pub rg_filters_json: Option<String>,
    /// With `[rg] audit = true`: one row per (size, temperature, map, level ≥ 1).
    pub layers_csv: Option<String>,
    /// With the RBM map's `information_plane`: one row per (size, temperature, level, epoch).
    pub plane_csv: Option<String>,
    /// Percolation: the cluster-size distribution, one row per (size, p, size bin).
    pub sizes_csv: Option<String>,
    /// Mazes: `maze-runs.csv`, `maze-depths.csv` and `maze-landscape.csv`.
    pub mazes_csv: Option<[String; 3]>,
    /// With `save_samples`: NumPy files (configurations; with `[rsmi]` also the filters).
    pub npy: Vec<(String, Vec<u8>)>,
    /// The self-contained report page and its figures as PNGs, built from the text files above.
    pub report: Option<crate::report::Report>,
}

impl Outputs {
    /// (file name, contents) of every output file, in a fixed order.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = self
            .texts()
            .into_iter()
            .chain([("report.html", self.report.as_ref().map(|r| &r.html))])
            .filter_map(|(name, body)| Some((name.to_string(), body?.as_bytes().to_vec())))
            .collect();
        out.extend(self.npy.iter().cloned());
        out.extend(self.report.iter().flat_map(|r| r.figures.iter().cloned()));
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Present only for a sweep that has not finished: which points these files leave out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
    pub sweep: Sweep,
    /// Spin models: finite-size scaling of the order parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fss: Option<FssSummary>,
    /// dimer2d: α_d(T) between sizes, T_KT and the notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimers: Option<DimerSummary>,
    /// Percolation: p_c, ν, D, γ/ν, τ and the wrapping probabilities at p_c.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percolation: Option<rgsweep_physics::model::percolation::analysis::Summary>,
    /// Mazes: per (L, n) accuracy, loss, success and neglect fractions, the landscape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mazes: Option<rgsweep_physics::model::maze::analysis::Summary>,
    /// With `[rg]`: per map, T_c and ν from the flow and the linearised-RG exponents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rg: Option<BTreeMap<String, MapSummary>>,
}

/// What the outputs of an unfinished sweep leave out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partial {
    /// The sweep's state when the files were made: running, failed, cancelled, ...
    pub state: String,
    /// The sweep's (size, temperature) points in all, and those in these files.
    pub points: usize,
    pub complete: usize,
    /// Every point with a task not done, by size then temperature.
    pub missing: Vec<MissingPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingPoint {
    pub size: usize,
    pub temperature: f64,
    /// The point's tasks that are not done, by first replica.
    pub tasks: Vec<MissingTask>,
}

/// One task not done: its replicas, where it stands and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingTask {
    #[serde(skip)]
    pub size: usize,
    #[serde(skip)]
    pub temperature: f64,
    pub first_replica: u32,
    pub replicas: u32,
    /// queued, running, failed or cancelled.
    pub state: String,
    /// Errors it reported, and workers lost while running it.
    pub errors: u32,
    pub workers_lost: u32,
    /// The last error (a failed task's reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Partial {
    /// Groups a sweep's unfinished tasks by point, in the order every output uses.
    pub fn new(state: &str, sweep: &Sweep, mut tasks: Vec<MissingTask>) -> Partial {
        // Temperatures are positive, so their bits order like the values.
        tasks.sort_by_key(|t| (t.size, t.temperature.to_bits(), t.first_replica));
        let mut missing: Vec<MissingPoint> = Vec::new();
        for t in tasks {
            match missing.last_mut() {
                Some(p) if p.size == t.size && p.temperature == t.temperature => p.tasks.push(t),
                _ => missing.push(MissingPoint {
                    size: t.size,
                    temperature: t.temperature,
                    tasks: vec![t],
                }),
            }
        }
        // Percolation: one point per size (its blocks cover every p).
        let points = sweep.sizes.len() * sweep.temperatures.len().max(1);
        Partial {
            state: state.to_string(),
            points,
            complete: points.saturating_sub(missing.len()),
            missing,
        }
    }
}

/// One row of `observables.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub size: usize,
    pub temperature: f64,
    pub observables: Observables,
}

/// Groups results into points (sorted by size, then temperature) and checks every point has all
/// its replicas.
pub fn points(sweep: &Sweep, results: &[TaskResult]) -> Result<Vec<PointData>, AggregateError> {
    let mut sorted: Vec<&TaskResult> = results.iter().collect();
    for r in &sorted {
        if r.task.model != sweep.model
            || r.task.q != sweep.q.unwrap_or(2)
            || !sweep.sizes.contains(&r.task.size)
            || !sweep.temperatures.contains(&r.task.temperature)
        {
            return Err(AggregateError::Foreign {
                what: format!(
                    "{} L={} T={}",
                    r.task.model, r.task.size, r.task.temperature
                ),
                sweep: sweep.name.clone(),
            });
        }
    }
    sorted.sort_by(|a, b| {
        (a.task.size, a.task.temperature, a.task.first_replica)
            .partial_cmp(&(b.task.size, b.task.temperature, b.task.first_replica))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut out = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let key = (sorted[i].task.size, sorted[i].task.temperature);
        let mut j = i;
        while j < sorted.len() && (sorted[j].task.size, sorted[j].task.temperature) == key {
            j += 1;
        }
        // The point's tasks must tile replicas 0..R exactly once: a duplicate plus a gap would
        // otherwise pass a count check.
        let mut next = 0;
        for r in &sorted[i..j] {
            if r.task.first_replica != next {
                return Err(AggregateError::Incomplete {
                    size: key.0,
                    temperature: key.1,
                    got: r.task.first_replica as usize,
                    expected: next as usize,
                });
            }
            next += r.task.replicas;
        }
        if let Some(p) = point_data(&sorted[i..j]) {
            if p.replicas.len() != sweep.replicas as usize {
                return Err(AggregateError::Incomplete {
                    size: key.0,
                    temperature: key.1,
                    got: p.replicas.len(),
                    expected: sweep.replicas as usize,
                });
            }
            out.push(p);
        }
        i = j;
    }
    Ok(out)
}

pub fn aggregate(sweep: &Sweep, results: &[TaskResult]) -> Result<Outputs, AggregateError> {
    aggregate_with(sweep, results, None)
}

/// The outputs of the points an unfinished sweep has finished: every file as usual, from the
/// complete points only (a point with a replica missing is left out whole), and
/// `summary.json` saying what is missing. With nothing missing, the bytes are exactly those
/// of [`aggregate`].
pub fn aggregate_partial(
    sweep: &Sweep,
    results: &[TaskResult],
    partial: Partial,
) -> Result<Outputs, AggregateError> {
    if partial.missing.is_empty() {
        return aggregate(sweep, results);
    }
    let lacking: std::collections::BTreeSet<(usize, u64)> = partial
        .missing
        .iter()
        .map(|p| (p.size, p.temperature.to_bits()))
        .collect();
    let complete: Vec<TaskResult> = results
        .iter()
        .filter(|r| !lacking.contains(&(r.task.size, r.task.temperature.to_bits())))
        .cloned()
        .collect();
    aggregate_with(sweep, &complete, Some(partial))
}

fn aggregate_with(
    sweep: &Sweep,
    results: &[TaskResult],
    partial: Option<Partial>,
) -> Result<Outputs, AggregateError> {
    if sweep.model.is_maze() {
        return Ok(crate::mazes::outputs(sweep, results, partial)?.with_report());
    }
    if !sweep.model.is_thermal() {
        return Ok(crate::percolation::outputs(sweep, results, partial)?.with_report());
    }
    let points = points(sweep, results)?;
    if !sweep.model.is_spin() {
        return Ok(crate::dimers::outputs(sweep, &points, results, partial).with_report());
    }
    let rows: Vec<Row> = points
        .iter()
        .map(|p| Row {
            size: p.size,
            temperature: p.temperature,
            observables: p.observables(),
        })
        .collect();
    let mut fss = fss::analyse(&points, &sweep.fss, sweep.seed);
    fss.notes
        .extend(points.iter().filter_map(PointData::quality_note));
    let flows = sweep.rg.as_ref().map(|settings| {
        let combined = combine_flows(results);
        (
            flows_csv(sweep, settings, &combined),
            analysis::analyse(settings, &combined),
            rg_filters_json(settings, results),
            crate::layers::layers_csv(sweep, settings, &combined),
            crate::layers::plane_csv(sweep, settings, &combined),
        )
    });
    let summary = Summary {
        partial,
        sweep: sweep.clone(),
        fss: Some(fss),
        dimers: None,
        percolation: None,
        mazes: None,
        rg: flows.as_ref().map(|f| f.1.clone()),
    };
    let summary_json = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    let (rsmi_csv, filters_json) = rsmi_outputs(sweep, results);
    Ok(Outputs {
        observables_csv: observables_csv(sweep, &rows),
        summary_json,
        summary,
        rsmi_csv,
        filters_json,
        flows_csv: flows.as_ref().map(|f| f.0.clone()),
        layers_csv: flows.as_ref().and_then(|f| f.3.clone()),
        plane_csv: flows.as_ref().and_then(|f| f.4.clone()),
        rg_filters_json: flows.and_then(|f| f.2),
        sizes_csv: None,
        mazes_csv: None,
        npy: npy_files(sweep, results),
        report: None,
    }
    .with_report())
}

impl Outputs {
    /// The text files a report is built from, named as in [`crate::report::INPUTS`] (whose
    /// order is the order of the fields here), absent ones as `None`.
    fn texts(&self) -> [(&'static str, Option<&String>); 12] {
        let [
            observables,
            summary,
            rsmi,
            filters,
            flows,
            rg_filters,
            layers,
            plane,
            sizes,
            maze_runs,
            maze_depths,
            maze_landscape,
        ] = crate::report::INPUTS;
        let maze = |k: usize| self.mazes_csv.as_ref().map(|m| &m[k]);
        [
            (observables, Some(&self.observables_csv)),
            (summary, Some(&self.summary_json)),
            (rsmi, self.rsmi_csv.as_ref()),
            (filters, self.filters_json.as_ref()),
            (flows, self.flows_csv.as_ref()),
            (rg_filters, self.rg_filters_json.as_ref()),
            (layers, self.layers_csv.as_ref()),
            (plane, self.plane_csv.as_ref()),
            (sizes, self.sizes_csv.as_ref()),
            (maze_runs, maze(0)),
            (maze_depths, maze(1)),
            (maze_landscape, maze(2)),
        ]
    }

    /// The text files by name, as `report::render` reads them.
    pub fn text_files(&self) -> BTreeMap<String, String> {
        self.texts()
            .into_iter()
            .filter_map(|(n, b)| Some((n.to_string(), b?.clone())))
            .collect()
    }

    pub(crate) fn with_report(mut self) -> Outputs {
        match crate::report::render(&self.text_files()) {
            Ok(report) => self.report = Some(report),
            Err(e) => tracing::warn!(error = %e, "no report"),
        }
        self
    }
}

/// `samples-L{L}-T{T}.npy` per point (int8, [replicas × save_samples, L, L(, L)]: ±1 for
/// Ising, 0..q−1 for Potts; dimers: [.., 2L, 2L] images of 0/1 pixels) and, with `[rsmi]`, `filters-L{L}-T{T}-LB{b}.npy` per point and
/// buffer (float64, [replicas, hidden, weights]). Names are flat: clients refuse paths.
pub(crate) fn npy_files(sweep: &Sweep, results: &[TaskResult]) -> Vec<(String, Vec<u8>)> {
    use ndarray::{Array3, ArrayD, IxDyn};
    use ndarray_npy::WriteNpyExt;
    if sweep.save_samples == 0 {
        return Vec::new();
    }
    let sorted = in_point_order(results);
    let mut points: BTreeMap<(usize, u64), Vec<&TaskResult>> = BTreeMap::new();
    for r in sorted {
        points
            .entry((r.task.size, r.task.temperature.to_bits()))
            .or_default()
            .push(r);
    }
    // Ising states as ±1, Potts as 0..q−1, dimer images as their 0/1 pixels.
    let ising = sweep.q.is_none() && sweep.model.is_spin();
    let mut out = Vec::new();
    for ((size, t), rs) in points {
        let temperature = f64::from_bits(t);
        let dim = sweep.model.dim();
        let configs: Vec<&Vec<u8>> = rs.iter().flat_map(|r| &r.samples).collect();
        let mut shape = vec![configs.len()];
        shape.extend(std::iter::repeat_n(sweep.model.sample_size(size), dim));
        let values: Vec<i8> = configs
            .iter()
            .flat_map(|c| c.iter())
            .map(|&x| if ising { 1 - 2 * x as i8 } else { x as i8 })
            .collect();
        if let Ok(a) = ArrayD::from_shape_vec(IxDyn(&shape), values) {
            let mut bytes = Vec::new();
            if a.write_npy(&mut bytes).is_ok() {
                out.push((format!("samples-L{size}-T{temperature}.npy"), bytes));
            }
        }
        let Some(settings) = &sweep.rsmi else {
            continue;
        };
        for &buffer in &settings.buffers {
            let filters: Vec<&Vec<Vec<f64>>> = rs
                .iter()
                .flat_map(|r| &r.rsmi)
                .filter(|p| p.buffer == buffer && !p.filters.is_empty())
                .map(|p| &p.filters)
                .collect();
            let (Some(first), Some(width)) = (
                filters.first(),
                filters.first().and_then(|f| f.first()).map(Vec::len),
            ) else {
                continue;
            };
            let hidden = first.len();
            let flat: Vec<f64> = filters
                .iter()
                .flat_map(|f| f.iter().flatten())
                .copied()
                .collect();
            if let Ok(a) = Array3::from_shape_vec((filters.len(), hidden, width), flat) {
                let mut bytes = Vec::new();
                if a.write_npy(&mut bytes).is_ok() {
                    out.push((
                        format!("filters-L{size}-T{temperature}-LB{buffer}.npy"),
                        bytes,
                    ));
                }
            }
        }
    }
    out
}

/// Every (size, temperature, map, level) with its replicas combined, sorted by size, then
/// temperature, then map and level in task order.
fn combine_flows(results: &[TaskResult]) -> Vec<Combined> {
    // (size, temperature bits, map index, level) → the replicas' levels in replica order.
    let mut groups: BTreeMap<(usize, u64, usize, usize), Vec<&Level>> = BTreeMap::new();
    let sorted = in_point_order(results);
    for r in sorted {
        let Some(settings) = &r.task.rg else { continue };
        for l in &r.rg {
            let map = settings.maps.iter().position(|&m| m == l.map).unwrap_or(0);
            groups
                .entry((r.task.size, r.task.temperature.to_bits(), map, l.level))
                .or_default()
                .push(l);
        }
    }
    groups
        .into_iter()
        .filter_map(|((size, t, _, _), levels)| analysis::combine(size, f64::from_bits(t), &levels))
        .collect()
}

fn flows_csv(sweep: &Sweep, settings: &rg::Settings, combined: &[Combined]) -> String {
    let model = model_name(sweep);
    let mut csv = String::from(FLOWS_HEADER);
    csv.push('\n');
    for c in combined {
        for (k, op) in settings.operators.iter().enumerate() {
            let _ = writeln!(
                csv,
                "{},{},{},{}",
                crate::layers::row_key(&model, c),
                op.name(),
                c.couplings[k],
                c.errors[k],
            );
        }
    }
    csv
}

/// The RSMI map's learned filters, if the sweep uses it.
fn rg_filters_json(settings: &rg::Settings, results: &[TaskResult]) -> Option<String> {
    if !settings.maps.contains(&MapKind::Rsmi) {
        return None;
    }
    let mut rows = Vec::new();
    let sorted = in_point_order(results);
    for r in sorted {
        for l in
            r.rg.iter()
                .filter(|l| l.map == MapKind::Rsmi && l.level > 0)
        {
            rows.push(serde_json::json!({
                "size": r.task.size, "temperature": r.task.temperature, "replica": l.replica,
                "level": l.level, "filter": l.filter, "mi_nats": l.mi_nats,
            }));
        }
    }
    Some(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n")
}

/// Results by size, then temperature (positive, so its bits order like the value), then first
/// replica: the one order every output is built in.
pub(crate) fn in_point_order(results: &[TaskResult]) -> Vec<&TaskResult> {
    let mut sorted: Vec<&TaskResult> = results.iter().collect();
    sorted.sort_by_key(|r| {
        (
            r.task.size,
            r.task.temperature.to_bits(),
            r.task.first_replica,
        )
    });
    sorted
}

pub(crate) fn model_name(sweep: &Sweep) -> String {
    match sweep.q {
        Some(q) => format!("{}-q{q}", sweep.model),
        None => sweep.model.to_string(),
    }
}

/// `rsmi.csv` (replicas combined per point and buffer: mean MI, error of the mean of
/// independent estimates, total seconds) and `filters.json` (by task key, sorted).
/// With `[rsmi]`, `rsmi.csv` and `filters.json`; without, neither.
pub(crate) fn rsmi_outputs(
    sweep: &Sweep,
    results: &[TaskResult],
) -> (Option<String>, Option<String>) {
    let Some(settings) = &sweep.rsmi else {
        return (None, None);
    };
    // (size, temperature bits, buffer) → sums over replicas. Temperatures are positive, so
    // their bits order like the values.
    #[derive(Default)]
    struct Sums {
        mi: f64,
        err2: f64,
        seconds: f64,
        n: usize,
    }
    let mut rows: BTreeMap<(usize, u64, usize), Sums> = BTreeMap::new();
    let mut filters = BTreeMap::new();
    let sorted = in_point_order(results);
    for r in sorted {
        let mut by_buffer = BTreeMap::new();
        for p in &r.rsmi {
            let e = rows
                .entry((r.task.size, r.task.temperature.to_bits(), p.buffer))
                .or_default();
            e.mi += p.mi_nats;
            e.err2 += p.mi_err * p.mi_err;
            e.seconds += p.seconds;
            e.n += 1;
            by_buffer
                .entry(p.buffer.to_string())
                .or_insert_with(Vec::new)
                .push(serde_json::json!({"replica": p.replica, "mi_nats": p.mi_nats, "filters": p.filters}));
        }
        let key: String = r
            .task
            .content_key(sweep.seed)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        filters.insert(
            key,
            serde_json::json!({
                "size": r.task.size, "temperature": r.task.temperature,
                "first_replica": r.task.first_replica, "buffers": by_buffer,
            }),
        );
    }
    let model = model_name(sweep);
    let mut csv = String::from(RSMI_HEADER);
    csv.push('\n');
    for ((size, t, buffer), sums) in rows {
        let Sums {
            mi,
            err2,
            seconds,
            n,
        } = sums;
        let n = n as f64;
        let _ = writeln!(
            csv,
            "{model},{size},{},{},{buffer},{},{},{},{},{seconds}",
            f64::from_bits(t),
            settings.block,
            settings.env,
            settings.hidden,
            mi / n,
            err2.sqrt() / n,
        );
    }
    let json = serde_json::to_string_pretty(&filters).unwrap_or_default() + "\n";
    (Some(csv), Some(json))
}

fn observables_csv(sweep: &Sweep, rows: &[Row]) -> String {
    let model = model_name(sweep);
    let mut s = String::from(OBSERVABLES_HEADER);
    s.push('\n');
    for r in rows {
        let o = &r.observables;
        let _ = writeln!(
            s,
            "{model},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.size,
            r.temperature,
            o.samples,
            o.energy.value,
            o.energy.error,
            o.abs_m.value,
            o.abs_m.error,
            o.m2.value,
            o.m2.error,
            o.binder.value,
            o.binder.error,
            o.susceptibility.value,
            o.susceptibility.error,
            o.specific_heat.value,
            o.specific_heat.error,
            o.tau_int_energy,
            o.tau_int_m2,
        );
    }
    s
}
