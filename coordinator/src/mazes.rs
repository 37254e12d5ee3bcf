//! The outputs of a maze sweep: `observables.csv` with one row per (L, n) — accuracy, losses,
//! success and neglect fractions against the hand-set network's — and `maze-runs.csv` (one row
//! per training run, its wall time last), `maze-depths.csv` (accuracy against breadth-first
//! depth) and `maze-landscape.csv` (the loss near the hand-set optimum), with `summary.json`
//! from [`rgsweep_physics::model::maze::analysis`]. Same invariant as [`crate::aggregate`]:
//! the bytes are a function of the sweep and the set of results, except the wall-time column.

use crate::aggregate::{AggregateError, Outputs, Partial, Summary};
use rgsweep_physics::Sweep;
use rgsweep_physics::model::maze::analysis::{self, Point, PointSummary};
use rgsweep_physics::model::maze::train::Outcome;
use rgsweep_physics::stats::Estimate;
use rgsweep_physics::task::TaskResult;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The column order of a maze sweep's `observables.csv`; part of the output contract.
pub const MAZES_HEADER: &str = "model,size,layers,runs,accuracy,accuracy_err,hand_accuracy,hand_accuracy_err,test_loss,test_loss_err,hand_loss,hand_loss_err,final_loss,final_loss_err,success,success_err,neglect,neglect_err,sensitivity,sensitivity_err,hand_sensitivity,hand_sensitivity_err";
pub const RUNS_HEADER: &str = "model,size,layers,run,accuracy,hand_accuracy,test_loss,final_loss,sensitivity,hand_sensitivity,neglect,seconds";
pub const DEPTHS_HEADER: &str =
    "model,size,layers,depth_upto,mazes,accuracy,accuracy_err,hand_accuracy,hand_accuracy_err";
pub const LANDSCAPE_HEADER: &str = "model,size,layers,epsilon,loss,loss_err,excess,excess_err";

/// The runs of every (L, n), checked to belong to the sweep and to tile 0..replicas.
fn points<'a>(sweep: &Sweep, results: &'a [TaskResult]) -> Result<Vec<Point<'a>>, AggregateError> {
    let foreign = |r: &TaskResult| AggregateError::Foreign {
        what: format!(
            "{} L={} run {}",
            r.task.model, r.task.size, r.task.first_replica
        ),
        sweep: sweep.name.clone(),
    };
    let mut by_point: BTreeMap<(usize, usize), BTreeMap<u32, &Outcome>> = BTreeMap::new();
    for r in results {
        let (Some(m), Some(settings), Some(outcome)) = (
            sweep.mazes.as_ref(),
            r.task.maze.as_deref(),
            r.maze.as_deref(),
        ) else {
            return Err(foreign(r));
        };
        let ours = r.task.model == sweep.model
            && sweep.sizes.contains(&r.task.size)
            && m.layers.contains(&settings.layers)
            && rgsweep_physics::model::maze::train::Settings {
                layers: settings.layers,
                ..m.training.clone()
            } == *settings;
        if !ours {
            return Err(foreign(r));
        }
        let runs = by_point.entry((r.task.size, settings.layers)).or_default();
        if runs.insert(r.task.first_replica, outcome).is_some() {
            return Err(foreign(r));
        }
    }
    let mut out = Vec::new();
    for ((size, layers), runs) in by_point {
        let got = runs.len();
        if runs.keys().copied().ne(0..sweep.replicas) {
            return Err(AggregateError::Incomplete {
                size,
                temperature: 0.0,
                got,
                expected: sweep.replicas as usize,
            });
        }
        out.push(Point {
            size,
            layers,
            runs: runs.into_values().collect(),
        });
    }
    Ok(out)
}

/// Every output of a maze sweep from its complete points.
pub fn outputs(
    sweep: &Sweep,
    results: &[TaskResult],
    partial: Option<Partial>,
) -> Result<Outputs, AggregateError> {
    let points = points(sweep, results)?;
    let mazes = analysis::analyse(&points);
    let files = [
        runs_csv(sweep, &points),
        depths_csv(sweep, &mazes.points),
        landscape_csv(sweep, &mazes.points),
    ];
    let observables_csv = observables_csv(sweep, &mazes.points);
    let summary = Summary {
        partial,
        sweep: sweep.clone(),
        fss: None,
        dimers: None,
        percolation: None,
        mazes: Some(mazes),
        rg: None,
    };
    let summary_json = serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n";
    Ok(Outputs {
        observables_csv,
        summary_json,
        summary,
        rsmi_csv: None,
        filters_json: None,
        flows_csv: None,
        rg_filters_json: None,
        layers_csv: None,
        plane_csv: None,
        sizes_csv: None,
        mazes_csv: Some(files),
        npy: Vec::new(),
        report: None,
    })
}

fn pair(s: &mut String, e: &Estimate) {
    let _ = write!(s, ",{},{}", e.value, e.error);
}

fn observables_csv(sweep: &Sweep, points: &[PointSummary]) -> String {
    let mut s = format!("{MAZES_HEADER}\n");
    for p in points {
        let _ = write!(s, "{},{},{},{}", sweep.model, p.size, p.layers, p.runs);
        for e in [
            &p.accuracy,
            &p.hand_accuracy,
            &p.test_loss,
            &p.hand_loss,
            &p.final_loss,
            &p.success,
            &p.neglect,
            &p.sensitivity,
            &p.hand_sensitivity,
        ] {
            pair(&mut s, e);
        }
        s.push('\n');
    }
    s
}

fn runs_csv(sweep: &Sweep, points: &[Point]) -> String {
    let mut s = format!("{RUNS_HEADER}\n");
    for p in points {
        for (run, o) in p.runs.iter().enumerate() {
            let _ = writeln!(
                s,
                "{},{},{},{run},{},{},{},{},{},{},{},{}",
                sweep.model,
                p.size,
                p.layers,
                o.test_accuracy,
                o.hand_accuracy,
                o.test_loss,
                o.loss_curve.last().copied().unwrap_or(f64::NAN),
                o.sensitivity,
                o.hand_sensitivity,
                u8::from(o.neglect),
                o.seconds
            );
        }
    }
    s
}

fn depths_csv(sweep: &Sweep, points: &[PointSummary]) -> String {
    let mut s = format!("{DEPTHS_HEADER}\n");
    for p in points {
        for d in &p.depth {
            let _ = write!(
                s,
                "{},{},{},{},{}",
                sweep.model, p.size, p.layers, d.upto, d.mazes
            );
            pair(&mut s, &d.accuracy);
            pair(&mut s, &d.hand_accuracy);
            s.push('\n');
        }
    }
    s
}

fn landscape_csv(sweep: &Sweep, points: &[PointSummary]) -> String {
    let mut s = format!("{LANDSCAPE_HEADER}\n");
    for p in points {
        for l in &p.landscape {
            let _ = write!(s, "{},{},{},{}", sweep.model, p.size, p.layers, l.epsilon);
            pair(&mut s, &l.loss);
            pair(
                &mut s,
                l.excess
                    .as_ref()
                    .unwrap_or(&Estimate::new(f64::NAN, f64::NAN)),
            );
            s.push('\n');
        }
    }
    s
}
