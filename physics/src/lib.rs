//! rgsweep's science: pure, synchronous and deterministic.
//!
//! Units: J = 1 and k_B = 1, so β = 1/T; energies are totals over bonds unless a name says
//! "per site". Ising spins are stored as states 0 (σ = +1) and 1 (σ = −1), Potts spins as
//! 0..q−1.
//!
//! This crate never does I/O, never reads a clock or the environment, and never spawns threads:
//! a result is a function of its inputs and its [`rng::Stream`]. Callers (the coordinator,
//! workers, the CLI) own files, networks and parallelism.

pub mod analysis;
pub mod autoencoder;
pub mod bench;
pub mod exact;
pub mod fss;
pub mod lattice;
pub mod model;
pub mod npy;
pub mod rbm;
pub mod rg;
pub mod rng;
pub mod rsmi;
pub mod sampler;
pub mod settings;
pub mod stats;
pub mod sweep;
pub mod task;

pub use analysis::{Observables, PointData, Series};
pub use model::{Model, ModelKind};
pub use rng::Stream;
pub use sampler::{Algorithm, Chain};
pub use stats::Estimate;
pub use sweep::{Sweep, SweepError};
pub use task::{Task, TaskResult};
