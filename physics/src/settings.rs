//! The settings a sweep hands to its tasks (Monte Carlo, FSS, RSMI). Apart from the sweep file
//! so that `task` and `sweep` do not import each other: both import these.

use crate::model::ModelKind;
use crate::sampler::Algorithm;
use serde::{Deserialize, Serialize};

/// Monte Carlo settings shared by every task of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonteCarlo {
    pub algorithm: Algorithm,
    pub thermalize: u64,
    pub measurements: u64,
    pub interval: u64,
}

/// Finite-size-scaling analysis settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FssSettings {
    /// Smallest L used in the power-law fits (smaller lattices carry corrections to scaling).
    pub fit_min_size: usize,
    /// Exponent ω' of the crossing-temperature shift `T*(L) = T_c + a·L^{−ω'}` used to extrapolate.
    pub shift_exponent: f64,
    /// Bootstrap replicates for the FSS error bars.
    pub bootstrap: usize,
    /// Exponent ω of the leading correction to scaling: the power-law fits are also tried as
    /// `Q = A·L^x·(1 + B·L^−ω)` (take it from the literature: the data of a sweep rarely fixes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_exponent: Option<f64>,
}

impl Default for FssSettings {
    fn default() -> Self {
        FssSettings {
            fit_min_size: 0,
            shift_exponent: 2.0,
            bootstrap: 200,
            correction_exponent: None,
        }
    }
}

/// RSMI settings of a sweep: every task also learns the coarse-graining on its own samples,
/// once per buffer width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RsmiSweep {
    pub block: usize,
    pub buffers: Vec<usize>,
    pub env: usize,
    pub hidden: usize,
    /// Configurations kept per replica, evenly spaced over its measurements.
    pub samples: u64,
    /// Block-corner spacing (default L/4, at least the block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
    pub bound: crate::rsmi::Bound,
    pub batch: usize,
    pub max_epochs: usize,
    pub learning_rate: f64,
    /// dimer2d: apply each learned rule to every block of a lattice of this size at the same
    /// temperature and measure the coarse variables' scaling dimension
    /// ([`crate::model::dimer2d::coarse`]). Absent otherwise, so other tasks keep their keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension_size: Option<usize>,
    /// Learn the units one at a time ([`crate::rsmi::TrainSettings::stagewise`]). Absent
    /// (false) unless asked for, so other tasks keep their keys.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stagewise: bool,
    /// The critic's leak ([`crate::rsmi::TrainSettings::critic_leak`]); absent at 0 (ReLU).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub critic_leak: f64,
    /// Noise-free first steps ([`crate::rsmi::TrainSettings::quiet_steps`]); absent at 0.
    #[serde(default, skip_serializing_if = "is_zero_count")]
    pub quiet_steps: usize,
    /// Independent trainings, the best on validation kept
    /// ([`crate::rsmi::TrainSettings::restarts`]); absent at 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub restarts: usize,
}

// Helpers of serde's `skip_serializing_if` (which wants functions of a reference): a setting at
// its default is left out of the canonical task JSON, so older tasks keep their keys.
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_zero_count(n: &usize) -> bool {
    *n == 0
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

fn one() -> usize {
    1
}

impl RsmiSweep {
    /// The RSMI job of one task and buffer width (a Potts model is one-hot encoded; dimers are
    /// their image, in pixels, ±1-encoded like Ising spins).
    pub fn job(
        &self,
        model: ModelKind,
        q: u8,
        size: usize,
        buffer: usize,
    ) -> Result<crate::rsmi::Job, crate::rsmi::GeometryError> {
        use crate::rsmi::{Encoding, Geometry, HOLDOUT, Job};
        let geometry = Geometry::new(
            model.dim(),
            model.sample_size(size),
            self.block,
            buffer,
            self.env,
        )?;
        Ok(Job {
            geometry,
            encoding: if model == ModelKind::Potts2d {
                Encoding::OneHot(q)
            } else {
                Encoding::Ising
            },
            stride: self
                .stride
                .unwrap_or_else(|| Job::default_stride(&geometry)),
            holdout: HOLDOUT,
            open: false,
            settings: self.train_settings(),
        })
    }

    /// The training settings these stand for.
    pub fn train_settings(&self) -> crate::rsmi::TrainSettings {
        let d = crate::rsmi::TrainSettings::default();
        crate::rsmi::TrainSettings {
            hidden: self.hidden,
            bound: self.bound,
            batch: self.batch,
            max_epochs: self.max_epochs,
            min_epochs: d.min_epochs.min(self.max_epochs),
            learning_rate: self.learning_rate,
            stagewise: self.stagewise,
            critic_leak: self.critic_leak,
            quiet_steps: self.quiet_steps,
            restarts: self.restarts,
            ..d
        }
    }
}
