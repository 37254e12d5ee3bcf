//! `rgsweep bench`: sampler throughput at each model's critical point.

use crate::{AlgorithmArg, ModelArg};
use anyhow::Result;
use rgsweep_physics::bench::{Workload, bench_sizes};
use rgsweep_physics::{Algorithm, ModelKind};
use serde::Serialize;
use std::time::Instant;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct BenchArgs {
    #[command(subcommand)]
    what: Option<BenchWhat>,
    /// Only this model.
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
    /// Only this algorithm.
    #[arg(long, value_enum)]
    algorithm: Option<AlgorithmArg>,
    /// Only this size.
    #[arg(long)]
    size: Option<usize>,
    /// Minimum timed seconds per row (0.01 to 60).
    #[arg(long, default_value_t = 0.5, value_parser = seconds_arg)]
    seconds: f64,
    /// Print one JSON array of rows.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    model: ModelKind,
    algorithm: Algorithm,
    size: usize,
    temperature: f64,
    sweeps: u64,
    seconds: f64,
    /// Local samplers: ns per single-spin update. Cluster samplers: ns per spin per
    /// sweep-equivalent (Wolff: per flipped spin, N flipped spins being one sweep-equivalent).
    /// Multispin: per replica-spin update.
    ns_per_spin_update: f64,
    /// Cluster samplers: ns per spin per sweep-equivalent (equal to `ns_per_spin_update`).
    #[serde(skip_serializing_if = "Option::is_none")]
    ns_per_spin_per_sweep: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean_cluster_size: Option<f64>,
}

fn seconds_arg(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.01..=60.0).contains(&v) => Ok(v),
        Ok(v) => Err(format!("must be from 0.01 to 60, got {v}")),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(clap::Subcommand)]
enum BenchWhat {
    /// Coordinator throughput and memory: trivial tasks, simulated workers over real gRPC on
    /// 127.0.0.1, durable commits.
    Coordinator(crate::bench_coordinator::Args),
    /// Interacting dimers: worm and plaquette updates per second, and the time to an
    /// independent configuration (2τ_int of the energy).
    Dimers(crate::bench_dimers::Args),
    /// Percolation: Newman–Ziff's ns per occupied element, full runs and a sweep's window
    /// (`bench/percolation.sh` sets the full runs beside cpyrcolate).
    Percolation(crate::bench_percolation::Args),
    /// Mazes: the spreading network's ns per cell and layer, hand-written against ndarray.
    Mazes(crate::bench_mazes::Args),
    /// External samplers: the protocol's cost per run (a trivial program through the worker's
    /// registry against the same program spawned bare) and a registered sampler's speed beside
    /// the built-in Metropolis.
    External(crate::bench_external::Args),
}

pub(crate) fn run(a: BenchArgs) -> Result<()> {
    match a.what {
        Some(BenchWhat::Coordinator(c)) => return crate::bench_coordinator::run(c),
        Some(BenchWhat::Dimers(d)) => return crate::bench_dimers::run(d),
        Some(BenchWhat::Percolation(p)) => return crate::bench_percolation::run(p),
        Some(BenchWhat::Mazes(m)) => return crate::bench_mazes::run(m),
        Some(BenchWhat::External(e)) => return crate::bench_external::run(e),
        None => {}
    }
    if let Some(size) = a.size {
        let offered: Vec<usize> = ModelKind::ALL
            .into_iter()
            .filter(|&m| m.is_spin() && a.model.is_none_or(|x| ModelKind::from(x) == m))
            .flat_map(bench_sizes)
            .collect();
        if !offered.contains(&size) {
            anyhow::bail!(
                "--size {size} is not benchmarked; sizes: {offered:?} (2D: 64, 256; 3D: 16, 64)"
            );
        }
    }
    let mut rows = Vec::new();
    for model in ModelKind::ALL {
        // Dimers and percolation have their own benchmarks: neither updates spins.
        if a.model.is_some_and(|m| ModelKind::from(m) != model) || !model.is_spin() {
            continue;
        }
        for algorithm in Algorithm::ALL {
            if a.algorithm.is_some_and(|x| Algorithm::from(x) != algorithm)
                || !algorithm.runs(model)
            {
                continue;
            }
            for size in bench_sizes(model) {
                if a.size.is_some_and(|s| s != size) {
                    continue;
                }
                let Some(row) = measure(model, algorithm, size, a.seconds) else {
                    continue;
                };
                if !a.json {
                    eprintln!(
                        "{:<8} {:<14} L={:<4} {:>8.3} ns/spin update{}",
                        row.model.name(),
                        row.algorithm.name(),
                        row.size,
                        row.ns_per_spin_update,
                        row.mean_cluster_size
                            .map(|c| format!("  (mean cluster {c:.1})"))
                            .unwrap_or_default()
                    );
                }
                rows.push(row);
            }
        }
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}

fn measure(model: ModelKind, algorithm: Algorithm, size: usize, min_seconds: f64) -> Option<Row> {
    let mut w = Workload::new(model, 3, algorithm, size)?;
    let m = w.measure(min_seconds, Instant::now, |a, b| (*b - *a).as_secs_f64());
    Some(Row {
        model,
        algorithm,
        size,
        temperature: w.temperature,
        sweeps: m.sweeps,
        seconds: m.seconds,
        ns_per_spin_update: m.ns_per_spin_update,
        ns_per_spin_per_sweep: algorithm.is_cluster().then_some(m.ns_per_spin_update),
        mean_cluster_size: m.mean_cluster_size,
    })
}
