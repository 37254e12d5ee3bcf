//! Benchmark workloads: a sampler ready to run at a model's critical point. Timing is the
//! caller's job (this crate reads no clock); the CLI's `rgsweep bench` and `cargo bench` share
//! these workloads so both measure the same thing.

use crate::model::{AnyModel, Model, ModelKind};
use crate::rng::Stream;
use crate::sampler::multispin::Multispin;
use crate::sampler::{Algorithm, Chain, SweepStats};
use crate::with_model;

/// Critical temperature of a model (REFERENCE.md §1, §5): Onsager for 2D Ising, Ferrenberg, Xu
/// & Landau (PRE 2018) for 3D Ising, `1/ln(1+√q)` for 2D Potts, Alet et al.'s T_KT ≈ 0.65 for
/// interacting dimers; percolation has none (NaN: it is swept over p).
pub fn critical_temperature(model: ModelKind, q: u8) -> f64 {
    match model {
        ModelKind::Ising2d => crate::exact::ISING2D_TC,
        ModelKind::Ising3d => 1.0 / 0.221_654_626,
        ModelKind::Potts2d => 1.0 / (1.0 + f64::from(q).sqrt()).ln(),
        ModelKind::Dimer2d => 0.65,
        _ => f64::NAN,
    }
}

/// Sizes the spin benchmark table covers for a model (dimers have `rgsweep bench dimers`).
pub fn bench_sizes(model: ModelKind) -> [usize; 2] {
    if model.dim() == 3 {
        [16, 64]
    } else {
        [64, 256]
    }
}

/// One timed measurement of a workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    pub sweeps: u64,
    pub seconds: f64,
    /// Local samplers: ns per single-spin update. Cluster samplers: ns per spin per
    /// sweep-equivalent (Wolff: per flipped spin, N flipped spins being one sweep-equivalent,
    /// which removes the noise of a few huge clusters at T_c). Multispin: per replica-spin update.
    pub ns_per_spin_update: f64,
    /// Cluster samplers: mean size of the clusters built or found.
    pub mean_cluster_size: Option<f64>,
}

/// A chain (or 64-replica multispin state) at T_c, thermalised for a few sweeps.
pub struct Workload {
    pub model: ModelKind,
    pub algorithm: Algorithm,
    pub size: usize,
    pub temperature: f64,
    /// Spin updates per sweep: N, or 64·N for multispin.
    pub updates_per_sweep: u64,
    state: State,
}

enum State {
    Chain(Box<AnyModel>, Vec<u8>, Stream),
    Multispin(Box<Multispin>),
}

impl Workload {
    /// The workload of a spin model (`None` for other kinds).
    pub fn new(model: ModelKind, q: u8, algorithm: Algorithm, size: usize) -> Option<Workload> {
        let temperature = critical_temperature(model, q);
        let any = model.build(size, q)?;
        let sites = with_model!(&any, m => m.lattice().sites()) as u64;
        let stream = Stream::derive(1, &format!("bench/{model}/{algorithm}/{size}"));
        let (state, updates_per_sweep) = if algorithm == Algorithm::Multispin {
            let lattice = with_model!(&any, m => m.lattice().clone());
            let mut ms = Multispin::new(lattice, 1.0 / temperature, stream);
            for _ in 0..5 {
                ms.sweep();
            }
            (State::Multispin(Box::new(ms)), 64 * sites)
        } else {
            (State::Chain(Box::new(any), Vec::new(), stream), sites)
        };
        let mut w = Workload {
            model,
            algorithm,
            size,
            temperature,
            updates_per_sweep,
            state,
        };
        w.run(20, || ());
        Some(w)
    }

    /// Times runs of growing length until one lasts at least `min_seconds` by the caller's
    /// `clock` (`seconds(start, end)` converts two of its readings).
    pub fn measure<T>(
        &mut self,
        min_seconds: f64,
        mut clock: impl FnMut() -> T,
        seconds: impl Fn(&T, &T) -> f64,
    ) -> Measurement {
        let mut sweeps = 1u64;
        loop {
            let (stats, start, end) = self.run(sweeps, &mut clock);
            let secs = seconds(&start, &end);
            if secs >= min_seconds || sweeps >= 1 << 30 {
                let updates = if self.algorithm == Algorithm::Wolff && stats.cluster_spins > 0 {
                    stats.cluster_spins
                } else {
                    sweeps * self.updates_per_sweep
                };
                return Measurement {
                    sweeps,
                    seconds: secs,
                    ns_per_spin_update: secs * 1e9 / updates as f64,
                    mean_cluster_size: (self.algorithm.is_cluster() && stats.clusters > 0)
                        .then(|| stats.cluster_spins as f64 / stats.clusters as f64),
                };
            }
            let factor = if secs > 0.0 {
                (min_seconds / secs * 1.2).clamp(2.0, 100.0)
            } else {
                100.0
            };
            sweeps = (sweeps as f64 * factor).ceil() as u64;
        }
    }

    /// Runs `sweeps` sweeps and returns their work counters with the marks `mark()` returned just
    /// before and just after them (the caller passes a clock; set-up is outside the marks).
    pub fn run<T>(&mut self, sweeps: u64, mut mark: impl FnMut() -> T) -> (SweepStats, T, T) {
        match &mut self.state {
            State::Multispin(ms) => {
                let start = mark();
                for _ in 0..sweeps {
                    ms.sweep();
                }
                let end = mark();
                let stats = SweepStats {
                    updates: sweeps * self.updates_per_sweep,
                    ..Default::default()
                };
                (stats, start, end)
            }
            State::Chain(any, spins, stream) => {
                let beta = 1.0 / self.temperature;
                let alg = self.algorithm;
                with_model!(any.as_ref(), m => {
                    let mut chain = Chain::new(m, beta, stream.child("chain"));
                    if !spins.is_empty() {
                        chain.set_spins(spins);
                    }
                    // Fix the Wolff work per sweep from a short warm-up, as a real run does.
                    for _ in 0..3 {
                        chain.sweep(alg);
                    }
                    chain.end_thermalization();
                    let before = chain.stats();
                    let start = mark();
                    for _ in 0..sweeps {
                        chain.sweep(alg);
                    }
                    let end = mark();
                    let after = chain.stats();
                    spins.clear();
                    spins.extend_from_slice(chain.spins());
                    let stats = SweepStats {
                        updates: after.updates - before.updates,
                        accepted: after.accepted - before.accepted,
                        clusters: after.clusters - before.clusters,
                        cluster_spins: after.cluster_spins - before.cluster_spins,
                    };
                    (stats, start, end)
                })
            }
        }
    }
}
