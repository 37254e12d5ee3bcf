//! Markov-chain samplers over any [`Model`].
//!
//! A [`Chain`] owns one configuration and its random stream and advances it by *sweeps*: N
//! single-site updates for the local samplers, one full decomposition for Swendsen–Wang, and
//! for Wolff a fixed number of single clusters that flips about N spins on average (the usual
//! "sweep-equivalent", so sweeps mean comparable work for every algorithm; the number is fixed
//! from the mean cluster size seen during thermalisation, see [`Chain::end_thermalization`]). The bit-packed
//! 64-replica Ising sampler has its own type, [`multispin::Multispin`].
//!
//! Invariant: a chain's trajectory is a pure function of (model, β, stream); nothing here reads
//! a clock, a thread id or global state.

mod heatbath;
mod metropolis;
pub mod multispin;
mod swendsen_wang;
mod wolff;

use crate::model::{Model, ModelKind};
use crate::rng::Stream;
use serde::{Deserialize, Serialize};

/// The update algorithms a sweep can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    Metropolis,
    Heatbath,
    Wolff,
    SwendsenWang,
    Multispin,
    /// Dimers: directed loops with heat-bath exits.
    Worm,
    /// Dimers: directed loops with minimal-bounce exits.
    WormMinimalBounce,
    /// Dimers: Metropolis plaquette flips (they keep the winding sector).
    Plaquette,
    /// Percolation: Newman–Ziff, every occupation number in one run.
    NewmanZiff,
    /// Mazes: the spreading network trained by Adam on freshly drawn mazes.
    Adam,
    /// A registered external program ([`crate::model::external`]): the worker runs it; no
    /// built-in sampler does, and a sweep file asks for it with `model = "external"`.
    External,
}

impl Algorithm {
    pub const ALL: [Algorithm; 11] = [
        Algorithm::Metropolis,
        Algorithm::Heatbath,
        Algorithm::Wolff,
        Algorithm::SwendsenWang,
        Algorithm::Multispin,
        Algorithm::Worm,
        Algorithm::WormMinimalBounce,
        Algorithm::Plaquette,
        Algorithm::NewmanZiff,
        Algorithm::Adam,
        Algorithm::External,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Metropolis => "metropolis",
            Algorithm::Heatbath => "heatbath",
            Algorithm::Wolff => "wolff",
            Algorithm::SwendsenWang => "swendsen-wang",
            Algorithm::Multispin => "multispin",
            Algorithm::Worm => "worm",
            Algorithm::WormMinimalBounce => "worm-minimal-bounce",
            Algorithm::Plaquette => "plaquette",
            Algorithm::NewmanZiff => "newman-ziff",
            Algorithm::Adam => "adam",
            Algorithm::External => "external",
        }
    }

    /// Whether this algorithm samples `model`.
    pub fn runs(self, model: ModelKind) -> bool {
        match self {
            Algorithm::Multispin => model.is_ising(),
            Algorithm::Metropolis
            | Algorithm::Heatbath
            | Algorithm::Wolff
            | Algorithm::SwendsenWang => model.is_spin(),
            Algorithm::Worm | Algorithm::WormMinimalBounce | Algorithm::Plaquette => {
                model == ModelKind::Dimer2d
            }
            Algorithm::NewmanZiff => model.percolation(2).is_some(),
            Algorithm::Adam => model.is_maze(),
            Algorithm::External => false,
        }
    }

    /// The names of the algorithms that sample `model`, for error messages.
    pub fn names_for(model: ModelKind) -> String {
        Algorithm::ALL
            .into_iter()
            .filter(|a| a.runs(model))
            .map(Algorithm::name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn parse(s: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == s)
    }

    pub fn is_cluster(self) -> bool {
        matches!(self, Algorithm::Wolff | Algorithm::SwendsenWang)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Work counters, for benchmarks and diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SweepStats {
    /// Single-site updates attempted (local samplers).
    pub updates: u64,
    /// Accepted single-site updates.
    pub accepted: u64,
    /// Clusters built (Wolff) or found (Swendsen–Wang).
    pub clusters: u64,
    /// Spins in the clusters counted above.
    pub cluster_spins: u64,
}

/// One Markov chain of a model at inverse temperature `beta`.
pub struct Chain<'m, M: Model> {
    model: &'m M,
    beta: f64,
    spins: Vec<u8>,
    stream: Stream,
    metropolis: metropolis::Tables,
    heatbath: heatbath::Tables,
    cluster: wolff::Scratch,
    sw: swendsen_wang::Scratch,
    stats: SweepStats,
    wolff_clusters: Option<u64>,
}

impl<'m, M: Model> Chain<'m, M> {
    /// A chain started from a random ("hot") configuration drawn from `stream`.
    pub fn new(model: &'m M, beta: f64, mut stream: Stream) -> Chain<'m, M> {
        let n = model.lattice().sites();
        let q = u64::from(model.states());
        let spins = (0..n).map(|_| stream.below(q) as u8).collect();
        Chain {
            model,
            beta,
            spins,
            metropolis: metropolis::Tables::new(model, beta),
            heatbath: heatbath::Tables::new(model, beta),
            cluster: wolff::Scratch::new(model, beta),
            sw: swendsen_wang::Scratch::new(model, beta),
            stream,
            stats: SweepStats::default(),
            wolff_clusters: None,
        }
    }

    /// Freezes the work per Wolff sweep at `round(N / mean cluster size)` clusters, measured so
    /// far (one cluster if none was built). Call once thermalisation is over: from then on every
    /// Wolff sweep builds the same number of clusters, which keeps measurements unbiased.
    pub fn end_thermalization(&mut self) {
        let n = self.model.lattice().sites() as f64;
        let k = if self.stats.cluster_spins > 0 {
            let mean = self.stats.cluster_spins as f64 / self.stats.clusters as f64;
            (n / mean).round().max(1.0) as u64
        } else {
            1
        };
        self.wolff_clusters = Some(k);
    }

    pub fn spins(&self) -> &[u8] {
        &self.spins
    }

    pub fn set_spins(&mut self, spins: &[u8]) {
        self.spins.copy_from_slice(spins);
    }

    pub fn beta(&self) -> f64 {
        self.beta
    }

    pub fn stats(&self) -> SweepStats {
        self.stats
    }

    /// One sweep of `algorithm`. Multispin is not a single-chain algorithm and is refused.
    pub fn sweep(&mut self, algorithm: Algorithm) {
        match algorithm {
            Algorithm::Metropolis => metropolis::sweep(
                self.model,
                &mut self.spins,
                &self.metropolis,
                &mut self.stream,
                &mut self.stats,
            ),
            Algorithm::Heatbath => heatbath::sweep(
                self.model,
                &mut self.spins,
                &self.heatbath,
                &mut self.stream,
                &mut self.stats,
            ),
            Algorithm::Wolff => wolff::sweep(
                self.model,
                &mut self.spins,
                &mut self.cluster,
                &mut self.stream,
                &mut self.stats,
                self.wolff_clusters,
            ),
            Algorithm::SwendsenWang => swendsen_wang::sweep(
                self.model,
                &mut self.spins,
                &mut self.sw,
                &mut self.stream,
                &mut self.stats,
            ),
            Algorithm::Multispin => {
                panic!("multispin runs 64 replicas at once: use sampler::multispin::Multispin")
            }
            // Refused for spin models by the sweep file and the wire (`Algorithm::runs`).
            Algorithm::Worm
            | Algorithm::WormMinimalBounce
            | Algorithm::Plaquette
            | Algorithm::NewmanZiff
            | Algorithm::Adam
            | Algorithm::External => {
                panic!(
                    "{algorithm} runs dimers, percolation, mazes or a program: see their model folders"
                )
            }
        }
    }

    pub fn energy(&self) -> i64 {
        self.model.energy(&self.spins)
    }

    pub fn order(&self) -> i64 {
        self.model.order_of(&self.spins)
    }
}

/// A new state for a site now in `s`, uniform among the other `q − 1` (a flip when q = 2).
#[inline(always)]
pub(crate) fn other_state(s: u8, q: u8, stream: &mut Stream) -> u8 {
    if q == 2 {
        s ^ 1
    } else {
        let r = stream.below(u64::from(q - 1)) as u8;
        r + u8::from(r >= s)
    }
}
