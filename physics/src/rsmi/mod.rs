//! Real-space mutual information (RSMI): learn the coarse-graining rule Λ whose coarse variable
//! H keeps the most information about the block's distant environment (Koch-Janusz & Ringel,
//! Nature Physics 2018; Gökmen et al., PRL/PRE 2021; REFERENCE.md §3).
//!
//! - [`regions`]: block, buffer and environment on periodic lattices; spin encodings.
//! - [`nn`]: dense layers, ReLU MLPs and Adam with hand-derived, finite-difference-checked
//!   gradients.
//! - [`bound`]: InfoNCE and NWJ lower bounds with a separable critic.
//! - [`train`]: Λ and critic trained jointly; held-out MI with an error bar.
//! - [`chain`]: the 1D Ising chain and its exact I(H:E), the analytic anchor.
//! - [`samples`]: decorrelated configurations from the Monte Carlo engine.
//!
//! [`run`] ties them together: configurations → (V, E) pairs at many corners → training on
//! the first configurations → held-out MI on the rest.

pub mod bound;
pub mod chain;
pub mod nn;
pub mod regions;
pub mod samples;
pub mod train;

pub use bound::Bound;
pub use regions::{Encoding, Geometry, GeometryError};
pub use train::{
    Coarse, Environments, MAX_RESTARTS, Pairs, TrainError, TrainSettings, Trained, train,
};

use crate::rng::Stream;
use ndarray::Array2;

/// (V, E) pairs of every configuration at every corner, configurations in order, corners in
/// order: the row order is a function of the inputs alone.
pub fn pairs(
    configs: &[&[u8]],
    geometry: &Geometry,
    encoding: Encoding,
    corners: &[[usize; 3]],
) -> Pairs {
    let vo = geometry.visible_offsets();
    let eo = geometry.environment_offsets();
    let sites: Vec<(Vec<usize>, Vec<usize>)> = corners
        .iter()
        .map(|&c| (geometry.sites(c, &vo), geometry.sites(c, &eo)))
        .collect();
    let nv = vo.len() * encoding.width();
    let ne = eo.len() * encoding.width();
    let rows = configs.len() * corners.len();
    let mut v = Vec::with_capacity(rows * nv);
    let mut e = Vec::<i8>::with_capacity(rows * ne);
    for config in configs {
        for (vs, es) in &sites {
            encoding.encode(config, vs, &mut v);
            encoding.encode(config, es, &mut e);
        }
    }
    Pairs {
        v: Array2::from_shape_vec((rows, nv), v).unwrap_or_else(|_| Array2::zeros((0, nv))),
        e: train::Environments::Spins(
            Array2::from_shape_vec((rows, ne), e).unwrap_or_else(|_| Array2::zeros((0, ne))),
        ),
    }
}

/// The default fraction of configurations held out for the reported MI (and again for
/// validation).
pub const HOLDOUT: f64 = 0.2;

/// How `n` configurations divide into (training, validation, held-out) when a fraction
/// `holdout` is held out and as many again validate.
pub fn split(n: usize, holdout: f64) -> (usize, usize, usize) {
    let held_out = ((n as f64 * holdout).round() as usize).max(1).min(n);
    let validation = held_out.min(n - held_out);
    (n - held_out - validation, validation, held_out)
}

/// One RSMI measurement: geometry, encoding, where blocks sit, training, hold-out.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub geometry: Geometry,
    pub encoding: Encoding,
    /// Spacing of block corners (blocks per configuration = (L/stride)^d).
    pub stride: usize,
    /// Fraction of configurations held out for the reported MI; as many again validate the
    /// training (model selection and early stopping).
    pub holdout: f64,
    /// Open chain (1D samples that do not wrap): keep regions away from the ends.
    pub open: bool,
    pub settings: TrainSettings,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RsmiError {
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error("{0}")]
    Input(String),
}

impl Job {
    /// The default corner spacing: 16 blocks per 2D configuration (RSMI-NE's practice; one block
    /// per configuration lets the critic overfit, REFERENCE.md §3), never below the block.
    pub fn default_stride(geometry: &Geometry) -> usize {
        (geometry.size / 4).max(geometry.block).max(1)
    }

    /// How `n` configurations divide into (training, validation, held-out), in that order.
    pub fn split(&self, n: usize) -> (usize, usize, usize) {
        split(n, self.holdout)
    }

    /// `corners().len()`, without listing them.
    pub fn corner_count(&self) -> u64 {
        let g = &self.geometry;
        if self.open {
            let margin = g.buffer.saturating_add(g.env);
            let last = g.size.saturating_sub(g.block.saturating_add(margin));
            return if last < margin {
                0
            } else {
                ((last - margin) / self.stride.max(1) + 1) as u64
            };
        }
        g.corner_count(self.stride)
    }

    /// Bytes of the (V, E) pairs of `configs` configurations (what [`run`] holds while
    /// training), saturating.
    pub fn pair_bytes(&self, configs: u64) -> u64 {
        let g = &self.geometry;
        let cube = |side: usize| (side as u64).saturating_pow(g.dim as u32);
        let inner = g.block.saturating_add(g.buffer.saturating_mul(2));
        let outer = inner.saturating_add(g.env.saturating_mul(2));
        // Blocks are held as f64, environments as i8.
        let per_pair = cube(g.block)
            .saturating_mul(8)
            .saturating_add(cube(outer).saturating_sub(cube(inner)))
            .saturating_mul(self.encoding.width() as u64);
        configs
            .saturating_mul(self.corner_count())
            .saturating_mul(per_pair)
    }

    pub fn corners(&self) -> Vec<[usize; 3]> {
        let g = &self.geometry;
        if self.open {
            let margin = g.buffer + g.env;
            let last = g.size.saturating_sub(g.block + margin);
            return (margin..=last)
                .step_by(self.stride.max(1))
                .map(|x| [x, 0, 0])
                .collect();
        }
        g.corners(self.stride)
    }
}

/// Trains on the first configurations and evaluates on the held-out rest; `clock` (seconds,
/// optional: this crate reads no clock) times the training steps.
pub fn run(
    configs: &[&[u8]],
    job: &Job,
    stream: &mut Stream,
    clock: Option<&dyn Fn() -> f64>,
) -> Result<Trained, RsmiError> {
    run_with(configs, job, Coarse::Learn, stream, clock)
}

/// [`run`] with the coarse-graining given: learned from scratch, learned from a start, fixed.
pub fn run_with(
    configs: &[&[u8]],
    job: &Job,
    coarse: Coarse<'_>,
    stream: &mut Stream,
    clock: Option<&dyn Fn() -> f64>,
) -> Result<Trained, RsmiError> {
    if !(job.holdout > 0.0 && job.holdout < 1.0) {
        return Err(RsmiError::Input(format!(
            "holdout must be in (0, 1), got {}",
            job.holdout
        )));
    }
    let sites = job.geometry.size.pow(job.geometry.dim as u32);
    if let Some(c) = configs.iter().find(|c| c.len() != sites) {
        return Err(RsmiError::Input(format!(
            "a configuration has {} sites, the lattice {sites}",
            c.len()
        )));
    }
    let corners = job.corners();
    if corners.is_empty() {
        return Err(RsmiError::Input("no block fits the lattice".into()));
    }
    let (train_n, val_n, _) = job.split(configs.len());
    let (train_c, rest) = configs.split_at(train_n);
    let (val_c, test_c) = rest.split_at(val_n);
    let train_pairs = pairs(train_c, &job.geometry, job.encoding, &corners);
    let val_pairs = pairs(val_c, &job.geometry, job.encoding, &corners);
    let test_pairs = pairs(test_c, &job.geometry, job.encoding, &corners);
    Ok(train::train(
        &job.settings,
        &train_pairs,
        Some(&val_pairs),
        &test_pairs,
        coarse,
        stream,
        clock,
    )?)
}
