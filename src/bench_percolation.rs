//! `rgsweep bench percolation`: Newman–Ziff's speed as ns per occupied element, for the two
//! runs that matter: a full run (every element occupied in random order, every occupation
//! number recorded, wrapping detected) — what `bench/percolation.sh` sets beside cpyrcolate —
//! and a sweep's run, which records only the window around p_c and fills the configuration
//! before it in memory order.

use anyhow::{Result, bail};
use rgsweep_physics::Stream;
use rgsweep_physics::model::percolation::{self, Geometry, Kind};
use serde::Serialize;
use std::time::Instant;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Linear sizes of the 2D lattices.
    #[arg(long, value_delimiter = ',', default_values_t = vec![256usize, 1024])]
    sizes: Vec<usize>,
    /// "bond" or "site".
    #[arg(long, default_value = "bond")]
    kind: String,
    /// Target seconds per timing; the best of its repetitions is kept.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Print one JSON array of rows.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    kind: &'static str,
    size: usize,
    /// "full" (n = 0..N) or "window" (the sweep's window around p_c).
    run: &'static str,
    /// Elements a run occupies (to its window's end).
    elements: u64,
    ns_per_element: f64,
    runs: u64,
}

pub(crate) fn run(a: Args) -> Result<()> {
    let kind = match a.kind.as_str() {
        "bond" => Kind::Bond,
        "site" => Kind::Site,
        k => bail!("--kind must be bond or site, got {k:?}"),
    };
    if a.sizes.iter().any(|&l| !(4..=8192).contains(&l)) {
        bail!("--sizes must lie in 4..=8192");
    }
    // The sweeps' windows: 1/2 ± 0.01 (bond), 0.5927 ± 0.0075 (site).
    let near = match kind {
        Kind::Bond => vec![0.49, 0.51],
        Kind::Site => vec![0.585, 0.6],
    };
    let mut rows = Vec::new();
    for &size in &a.sizes {
        let g = Geometry { dim: 2, size, kind };
        for (run, ps) in [("full", vec![0.0, 1.0]), ("window", near.clone())] {
            let row = measure(&g, run, &ps, a.seconds);
            if !a.json {
                eprintln!(
                    "percolation2d-{:<4} L={size:<5} {run:<6} {:>7.2} ns per occupied element ({} elements, {} runs)",
                    a.kind, row.ns_per_element, row.elements, row.runs
                );
            }
            rows.push(row);
        }
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}

fn measure(g: &Geometry, run: &'static str, ps: &[f64], seconds: f64) -> Row {
    let elements = percolation::window(g.elements() as u64, ps).1;
    let mut stream = Stream::derive(1, "bench/percolation");
    // One run to size the repetitions, then the best time per run of blocks of runs.
    let start = Instant::now();
    percolation::simulate(g, ps, 1, &mut stream);
    let one = start.elapsed().as_secs_f64().max(1e-6);
    let per_block = ((seconds / 5.0 / one).ceil() as u64).clamp(1, 10_000);
    let mut best = f64::INFINITY;
    let mut runs = 0;
    let started = Instant::now();
    while runs == 0 || started.elapsed().as_secs_f64() < seconds {
        let t = Instant::now();
        std::hint::black_box(percolation::simulate(g, ps, per_block, &mut stream));
        best = best.min(t.elapsed().as_secs_f64() / per_block as f64);
        runs += per_block;
    }
    Row {
        kind: match g.kind {
            Kind::Bond => "bond",
            Kind::Site => "site",
        },
        size: g.size,
        run,
        elements,
        ns_per_element: best * 1e9 / elements as f64,
        runs,
    }
}
