//! `cargo bench -p rgsweep-physics`: the sampler workloads of `rgsweep bench` at 2D L = 256,
//! printed as ns per spin update and as ratios to plain Metropolis measured in the same run.

use rgsweep_physics::bench::Workload;
use rgsweep_physics::{Algorithm, ModelKind};
use std::time::Instant;

fn ns_per_update(algorithm: Algorithm, size: usize) -> f64 {
    let mut w = Workload::new(ModelKind::Ising2d, 2, algorithm, size).expect("a spin model");
    w.measure(1.0, Instant::now, |a, b| (*b - *a).as_secs_f64())
        .ns_per_spin_update
}

fn main() {
    let size = 256;
    let baseline = ns_per_update(Algorithm::Metropolis, size);
    println!("ising2d L={size} at T_c (baseline: metropolis {baseline:.3} ns/spin update)");
    for alg in Algorithm::ALL
        .into_iter()
        .filter(|a| a.runs(ModelKind::Ising2d))
    {
        let ns = if alg == Algorithm::Metropolis {
            baseline
        } else {
            ns_per_update(alg, size)
        };
        println!(
            "{:<14} {ns:>8.3} ns/spin update  {:>6.2}x metropolis",
            alg.name(),
            baseline / ns
        );
    }
}
