//! `rgsweep bench dimers`: the interacting-dimer samplers' speed, and what it buys: worm pivot
//! steps per second (heat-bath and minimal-bounce exits) beside plaquette flips per second
//! measured in the same run, and the time to an independent configuration, 2τ_int of the
//! energy, in worm steps and seconds.

use anyhow::{Result, bail};
use rgsweep_physics::Stream;
use rgsweep_physics::model::dimer2d::Dimers;
use rgsweep_physics::model::dimer2d::plaquette::Plaquette;
use rgsweep_physics::model::dimer2d::worm::{Exits, Worm};
use rgsweep_physics::stats::tau_int;
use serde::Serialize;
use std::time::Instant;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Linear size (even, at least 4).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Temperatures in units of |v| (v = −1); 0 is not allowed, "inf" is T = ∞.
    #[arg(long, value_delimiter = ',', default_values_t = vec!["1.0".to_string()])]
    temperatures: Vec<String>,
    /// Energy measurements for τ_int (one per sweep-equivalent: about N worm steps).
    #[arg(long, default_value_t = 20_000)]
    measurements: usize,
    /// Print one JSON array of rows.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    sampler: &'static str,
    size: usize,
    temperature: f64,
    /// Pivot steps (worm) or flip attempts (plaquette) per second. (`temperature` is null at
    /// T = ∞: JSON has no infinity.)
    updates_per_second: f64,
    /// Worm: mean pivot steps per worm, and the fraction that bounce.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps_per_worm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bounce_fraction: Option<f64>,
    /// τ_int of the energy, in updates (steps or attempts), and 2τ_int in seconds.
    tau_updates: f64,
    tau_converged: bool,
    independent_seconds: f64,
}

pub(crate) fn run(a: Args) -> Result<()> {
    if a.size < 4 || !a.size.is_multiple_of(2) {
        bail!("--size must be even and at least 4, got {}", a.size);
    }
    if a.measurements < 100 {
        bail!("--measurements must be at least 100");
    }
    let mut rows = Vec::new();
    for t in &a.temperatures {
        let temperature: f64 = if t == "inf" {
            f64::INFINITY
        } else {
            match t.parse() {
                Ok(x) if x > 0.0 => x,
                _ => bail!("--temperatures: {t:?} is not a positive number or \"inf\""),
            }
        };
        for sampler in ["worm-heatbath", "worm-minimal-bounce", "plaquette"] {
            let row = measure(sampler, a.size, temperature, a.measurements);
            if !a.json {
                eprintln!(
                    "dimer2d {sampler:<20} L={:<4} T={temperature:<5} {:>7.1} M updates/s  \
                     τ_int(E) = {:.3e} updates{}  independent every {:.3} ms{}",
                    a.size,
                    row.updates_per_second / 1e6,
                    row.tau_updates,
                    if row.tau_converged {
                        ""
                    } else {
                        " (lower bound)"
                    },
                    1e3 * row.independent_seconds,
                    row.steps_per_worm
                        .map(|s| format!(
                            "  ({s:.1} steps/worm, {:.0}% bounces)",
                            100.0 * row.bounce_fraction.unwrap_or(0.0)
                        ))
                        .unwrap_or_default()
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

fn measure(sampler: &'static str, size: usize, temperature: f64, n: usize) -> Row {
    const V: f64 = -1.0;
    let beta = 1.0 / temperature;
    let mut d = match Dimers::columnar(size, V) {
        Ok(d) => d,
        Err(_) => unreachable!("size checked by the caller"),
    };
    let mut rng = Stream::derive(1, sampler);
    let sites = d.sites() as u64;
    let mut energies = Vec::with_capacity(n);
    let (updates, seconds, per_worm, bounces);
    if let Some(exits) = match sampler {
        "worm-heatbath" => Some(Exits::HeatBath),
        "worm-minimal-bounce" => Some(Exits::MinimalBounce),
        _ => None,
    } {
        let worm = Worm::new(V, beta, exits);
        // Thermalise, and learn how many worms make about N steps (a sweep-equivalent).
        let warm = worm.run(&mut d, &mut rng, 20 * sites);
        let mean = warm.steps as f64 / warm.worms as f64;
        let unit = ((sites as f64 / mean).ceil() as u64).max(1);
        let start = Instant::now();
        let mut total = rgsweep_physics::model::dimer2d::worm::WormStats::default();
        for _ in 0..n {
            let s = worm.run(&mut d, &mut rng, unit);
            total.worms += s.worms;
            total.steps += s.steps;
            total.bounces += s.bounces;
            energies.push(d.parallel() as f64);
        }
        seconds = start.elapsed().as_secs_f64();
        updates = total.steps;
        per_worm = Some(total.steps as f64 / total.worms as f64);
        bounces = Some(total.bounces as f64 / total.steps as f64);
    } else {
        let p = Plaquette::new(V, beta);
        for _ in 0..200 {
            p.sweep(&mut d, &mut rng);
        }
        let start = Instant::now();
        for _ in 0..n {
            p.sweep(&mut d, &mut rng);
            energies.push(d.parallel() as f64);
        }
        seconds = start.elapsed().as_secs_f64();
        updates = sites * n as u64;
        per_worm = None;
        bounces = None;
    }
    let tau = tau_int(&energies);
    let per_measurement = updates as f64 / n as f64;
    Row {
        sampler,
        size,
        temperature,
        updates_per_second: updates as f64 / seconds,
        steps_per_worm: per_worm,
        bounce_fraction: bounces,
        tau_updates: tau.tau * per_measurement,
        tau_converged: tau.converged,
        independent_seconds: 2.0 * tau.tau * seconds / n as f64,
    }
}
