//! The RG flow of one replica: its configurations coarse-grained level by level with each map,
//! every level's effective couplings (pseudo-likelihood, [`super::couplings`]) and the
//! linearised-RG exponents between successive levels ([`super::linear`]).
//!
//! Maps: majority rule and decimation ([`super::maps`]), and the learned RSMI rule: a 2^d block
//! filter Λ trained to maximise I(H:E) ([`crate::rsmi`]) on the level's own configurations
//! (re-trained at every level by default, as Koch-Janusz & Ringel did), applied to every block
//! as H = sign(Λ·V) or sampled from P_Λ(H = 1|V) = σ(Λ·V).
//!
//! Invariant: a pure function of (settings, configurations, stream); everything random (tie
//! breaks, RSMI training, sampled rules) comes from children of the caller's stream, one per
//! map and level.

use super::ae_map::AutoencoderRule;
use super::audit::{self, Unit};
use super::couplings::{self, CouplingError, Operator, Spins};
use super::linear;
use super::maps::{self, Map};
use super::rbm_map::RbmRule;
use crate::lattice::Lattice;
use crate::rng::Stream;
use crate::rsmi;
use crate::rsmi::nn::Activation;
use crate::stats::Estimate;
use networks::{Plane, autoencoder_step, rbm_dense_step, rbm_step, receptive};
use serde::{Deserialize, Serialize};

/// A coarse-graining map with scale factor b = 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MapKind {
    Majority,
    Decimation,
    /// The learned RSMI rule.
    Rsmi,
    /// A block-local RBM layer trained by contrastive divergence ([`super::rbm_map`]).
    Rbm,
    /// A dense RBM layer, (L/2)² units each reading the whole level (Mehta & Schwab's), its
    /// units placed on the coarse lattice by their receptive fields ([`super::rbm_map::place`]).
    RbmDense,
    /// A convolutional autoencoder layer with tanh units, trained by reconstruction
    /// ([`super::ae_map`]).
    AutoencoderTanh,
    /// The same with ReLU units (Saxe et al.'s non-saturating control).
    AutoencoderRelu,
}

impl MapKind {
    pub const ALL: [MapKind; 7] = [
        MapKind::Majority,
        MapKind::Decimation,
        MapKind::Rsmi,
        MapKind::Rbm,
        MapKind::RbmDense,
        MapKind::AutoencoderTanh,
        MapKind::AutoencoderRelu,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MapKind::Majority => "majority",
            MapKind::Decimation => "decimation",
            MapKind::Rsmi => "rsmi",
            MapKind::Rbm => "rbm",
            MapKind::RbmDense => "rbm-dense",
            MapKind::AutoencoderTanh => "autoencoder-tanh",
            MapKind::AutoencoderRelu => "autoencoder-relu",
        }
    }

    /// An autoencoder map's nonlinearity (its settings are `[rg.autoencoder]`).
    pub fn autoencoder(self) -> Option<Activation> {
        match self {
            MapKind::AutoencoderTanh => Some(Activation::Tanh),
            MapKind::AutoencoderRelu => Some(Activation::Relu { leak: 0.0 }),
            _ => None,
        }
    }

    /// A map trained as an RBM (its settings are `[rg.rbm]`).
    pub fn is_rbm(self) -> bool {
        matches!(self, MapKind::Rbm | MapKind::RbmDense)
    }

    pub fn parse(name: &str) -> Option<MapKind> {
        MapKind::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// How the RSMI rule turns a block into a coarse spin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// H = sign(Λ·V) (a zero is a fair coin).
    Sign,
    /// H = 1 with probability σ(Λ·V), the distribution Λ was trained as.
    Sample,
}

/// How the RSMI map is learned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RsmiRule {
    /// Buffer and environment widths of the training geometry (the block is the map's 2^d).
    pub buffer: usize,
    pub env: usize,
    pub rule: Rule,
    /// Re-train Λ on every level's configurations (true) or learn it once on level 0.
    pub retrain: bool,
    /// Re-training starts from the level below's rule instead of a random filter: where the
    /// signal is too weak to learn from (far above T_c, a few thousandths of a nat), a random
    /// start stays random and the rule loses information majority keeps.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub warm_start: bool,
    pub batch: usize,
    pub max_epochs: usize,
}

impl Default for RsmiRule {
    fn default() -> Self {
        RsmiRule {
            buffer: 1,
            env: 2,
            rule: Rule::Sign,
            retrain: true,
            warm_start: false,
            batch: 100,
            max_epochs: 30,
        }
    }
}

impl RsmiRule {
    /// The training job on a lattice of `size`.
    pub fn job(&self, dim: usize, size: usize) -> Result<rsmi::Job, rsmi::GeometryError> {
        let geometry = rsmi::Geometry::new(dim, size, 2, self.buffer, self.env)?;
        let d = rsmi::TrainSettings::default();
        Ok(rsmi::Job {
            geometry,
            encoding: rsmi::Encoding::Ising,
            stride: rsmi::Job::default_stride(&geometry),
            holdout: rsmi::HOLDOUT,
            open: false,
            settings: rsmi::TrainSettings {
                hidden: 1,
                batch: self.batch,
                max_epochs: self.max_epochs,
                min_epochs: d.min_epochs.min(self.max_epochs),
                ..d
            },
        })
    }

    /// The lattice sizes Λ is trained on, from a lattice of `size` with `levels` levels.
    pub fn training_sizes(&self, size: usize, levels: usize) -> Vec<usize> {
        let trained = if self.retrain { levels } else { 1 };
        (0..trained).map(|n| size >> n).collect()
    }
}

/// What to measure: maps, levels, operators.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub maps: Vec<MapKind>,
    /// Coarse-graining steps (levels 1..=levels; level 0 is the configuration itself).
    pub levels: usize,
    /// Operators of the couplings, in output order; the even ones give y_t, the odd ones y_h.
    pub operators: Vec<Operator>,
    /// Configurations per replica, evenly spaced over its measurements.
    pub samples: u64,
    /// Jackknife blocks of consecutive configurations.
    pub blocks: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsmi: Option<RsmiRule>,
    /// How the RBM maps are trained: present exactly when `maps` has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rbm: Option<RbmRule>,
    /// How the autoencoder maps are trained: present exactly when `maps` has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoencoder: Option<AutoencoderRule>,
    /// Audit every step ([`super::audit`]): relevance and compression per map and level.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub audit: bool,
}

impl Settings {
    /// The geometry and training the audit measures relevance with: the RSMI map's, or its
    /// defaults.
    pub fn audit_rule(&self) -> RsmiRule {
        self.rsmi.clone().unwrap_or_default()
    }

    /// Whether `map`'s levels carry their information plane over training: the audit is on
    /// and the map's training section asks for it (the block-local RBM and the autoencoders).
    pub fn plane(&self, map: MapKind) -> bool {
        self.audit
            && match map {
                MapKind::Rbm => self.rbm.as_ref().is_some_and(|r| r.information_plane),
                m if m.autoencoder().is_some() => self
                    .autoencoder
                    .as_ref()
                    .is_some_and(|r| r.information_plane),
                _ => false,
            }
    }

    /// Whether any map's levels carry an information plane.
    pub fn any_plane(&self) -> bool {
        self.maps.iter().any(|&m| self.plane(m))
    }
}

/// The smallest coarse-grained lattice that is measured: every operator's reach (2) then
/// stays within half the lattice.
pub const MIN_COARSE_SIZE: usize = 4;

impl Settings {
    /// The most levels a lattice of `size` allows (each level halves it, down to
    /// [`MIN_COARSE_SIZE`]).
    pub fn max_levels(size: usize) -> usize {
        let mut n = 0;
        let mut l = size;
        while l.is_multiple_of(2) && l / 2 >= MIN_COARSE_SIZE {
            l /= 2;
            n += 1;
        }
        n
    }
}

impl Settings {
    /// Checks settings that did not come from a sweep file (the wire) the way the sweep file's
    /// were checked, for an Ising model of dimension `dim` and lattice `size`.
    pub fn check(&self, dim: usize, q: u8, size: usize, measurements: u64) -> Result<(), String> {
        let unique = |n: usize, names: Vec<&str>| {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            n > 0 && sorted.len() == n
        };
        if !unique(
            self.maps.len(),
            self.maps.iter().map(|m| m.name()).collect(),
        ) {
            return Err("maps must be a non-empty list without repeats".into());
        }
        if !unique(
            self.operators.len(),
            self.operators.iter().map(|o| o.name()).collect(),
        ) || !self.operators.contains(&Operator::NearestNeighbour)
            || self.operators.iter().any(|o| !o.exists_for(dim, q))
        {
            return Err(format!(
                "operators must be distinct, exist in {dim}D and include nn"
            ));
        }
        if self.levels == 0 || self.levels > Settings::max_levels(size) {
            return Err(format!("{} levels on L = {size}", self.levels));
        }
        if self.blocks < 2 || self.samples < 2 * self.blocks as u64 || self.samples > measurements {
            return Err(format!(
                "{} samples in {} blocks with {measurements} measurements",
                self.samples, self.blocks
            ));
        }
        if q > 2 && self.maps.contains(&MapKind::Rsmi) {
            return Err("the RSMI map (one binary unit per block) is for Ising models".into());
        }
        let rbm_maps = self.maps.iter().any(|m| m.is_rbm());
        if rbm_maps && (dim != 2 || q != 2) {
            return Err(
                "the RBM maps (b = 2 layers of binary units) are for the 2D Ising model".into(),
            );
        }
        if self.maps.contains(&MapKind::RbmDense) {
            dense_fits(size)?;
        }
        match (&self.rbm, rbm_maps) {
            (Some(rule), true) => {
                rule.check(self.samples)?;
                if rule.information_plane && !self.audit {
                    return Err("the RBM's information plane needs the audit".into());
                }
                if rule.information_plane && !self.maps.contains(&MapKind::Rbm) {
                    return Err(
                        "the information plane is measured on the block-local rbm map".into(),
                    );
                }
            }
            (None, false) => {}
            _ => {
                return Err(
                    "rbm settings must be given exactly when maps has rbm or rbm-dense".into(),
                );
            }
        }
        let ae_maps = self.maps.iter().any(|m| m.autoencoder().is_some());
        if ae_maps && (dim != 2 || q != 2) {
            return Err(
                "the autoencoder maps (b = 2 layers of binary codes) are for the 2D Ising model"
                    .into(),
            );
        }
        match (&self.autoencoder, ae_maps) {
            (Some(rule), true) => {
                rule.check(self.samples)?;
                if rule.information_plane && !self.audit {
                    return Err("the autoencoder's information plane needs the audit".into());
                }
            }
            (None, false) => {}
            _ => {
                return Err(
                    "autoencoder settings must be given exactly when maps has autoencoder-tanh or autoencoder-relu".into(),
                );
            }
        }
        if self.audit {
            if q != 2 {
                return Err("the audit measures binary coarse spins: Ising models only".into());
            }
            let rule = self.audit_rule();
            for n in 0..self.levels {
                audit_fits(&rule, dim, size >> n, self.samples)?;
            }
        }
        match (&self.rsmi, self.maps.contains(&MapKind::Rsmi)) {
            (Some(rule), true) => {
                if rule.batch < 2 || rule.max_epochs == 0 {
                    return Err("rsmi batch must be ≥ 2 and max_epochs ≥ 1".into());
                }
                if rule.warm_start && !rule.retrain {
                    return Err(
                        "warm_start needs retrain: a rule learned once starts nowhere".into(),
                    );
                }
                for l in rule.training_sizes(size, self.levels) {
                    rule.job(dim, l)
                        .map_err(|e| format!("rsmi map on L = {l}: {e}"))?;
                }
                Ok(())
            }
            (None, false) => Ok(()),
            _ => Err("rsmi settings must be given exactly when maps has rsmi".into()),
        }
    }
}

/// Most weights a dense RBM level may have: 64² × 32², about 4M, trains in seconds to
/// minutes per epoch budget; beyond it one task would take hours.
pub const MAX_DENSE_WEIGHTS: u64 = 1 << 22;

/// Whether a dense RBM layer on a lattice of `size` (its first, largest level) stays within
/// [`MAX_DENSE_WEIGHTS`].
pub fn dense_fits(size: usize) -> Result<(), String> {
    let (visible, hidden) = ((size * size) as u64, (size / 2 * (size / 2)) as u64);
    if visible.saturating_mul(hidden) > MAX_DENSE_WEIGHTS {
        return Err(format!(
            "rbm-dense on L = {size}: a dense layer of {visible} × {hidden} weights, more than {MAX_DENSE_WEIGHTS}; use L ≤ 64 or the block-local \"rbm\""
        ));
    }
    Ok(())
}

/// Whether the audit's relevance can be measured on a lattice of `size` from `samples`
/// configurations: the geometry fits and the held-out pairs fill a batch.
pub fn audit_fits(rule: &RsmiRule, dim: usize, size: usize, samples: u64) -> Result<(), String> {
    let mut job = rule
        .job(dim, size)
        .map_err(|e| format!("the audit on L = {size}: {e}"))?;
    job.stride = job.stride.next_multiple_of(2);
    let held_out = (job.split(samples as usize).2 as u64).saturating_mul(job.corner_count());
    if held_out < rule.batch as u64 {
        return Err(format!(
            "the audit on L = {size}: {held_out} held-out pairs, fewer than one batch of {}",
            rule.batch
        ));
    }
    Ok(())
}

/// One level of one map on one replica.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub replica: u32,
    pub map: MapKind,
    pub level: usize,
    /// Linear size of this level's lattice.
    pub size: usize,
    /// Couplings in the order of [`Settings::operators`]. On an ordered level (every
    /// configuration fully ordered, or the pseudo-likelihood growing without bound towards
    /// ferromagnetic couplings) the nearest-neighbour coupling is +∞ and the others NaN: no
    /// finite maximum exists. NaN where the fit failed otherwise.
    pub couplings: Vec<f64>,
    pub errors: Vec<f64>,
    /// Leave-one-block-out couplings (blocks × operators; empty when not finite).
    pub leave_out: Vec<Vec<f64>>,
    /// Linearised RG from the previous level to this one: y_t from the even operators, y_h from
    /// the odd ones (absent at level 0, for an empty sector or a degenerate level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_t: Option<Estimate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y_h: Option<Estimate>,
    /// RSMI map: the filter that produced this level (2^d weights, row-major) and its held-out
    /// I(H:E) in nats; empty and NaN otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<f64>,
    pub mi_nats: f64,
    /// With `audit`, on levels ≥ 1: held-out I(H:E) of the step that made this level, and the
    /// block's I(V:H), in nats ([`super::audit`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance: Option<Estimate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Estimate>,
    /// With the audit and the `information_plane` of the block-local RBM's or the
    /// autoencoders' settings ([`Settings::plane`]): relevance and compression of the layer
    /// after each of [`super::rbm_map::checkpoints`]' epochs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plane: Vec<PlanePoint>,
    /// RBM maps, levels ≥ 1: the mean radius of the units' receptive fields on the simulated
    /// lattice, in its spacings (|W_l|···|W_1| through the stack, [`crate::rbm::spread`]), with
    /// the standard error over units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receptive: Option<Estimate>,
}

/// One point of a layer's path through the information plane over training.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanePoint {
    pub epoch: usize,
    pub relevance: Estimate,
    pub compression: Estimate,
}

/// One level's measurements before they are labelled.
struct Measured {
    couplings: Vec<f64>,
    errors: Vec<f64>,
    leave_out: Vec<Vec<f64>>,
    sums: Vec<Vec<f64>>,
}

fn measure(lattice: &Lattice, configs: &[Vec<u8>], settings: &Settings, spins: Spins) -> Measured {
    let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
    let ops = &settings.operators;
    let (parts, sums) = couplings::count_blocks(lattice, &refs, ops, spins, settings.blocks);
    match couplings::fit_blocks(&parts) {
        Ok(fit) => Measured {
            couplings: fit.values.iter().map(|e| e.value).collect(),
            errors: fit.values.iter().map(|e| e.error).collect(),
            leave_out: fit.leave_out,
            sums,
        },
        Err(e) => {
            let nn = ops.iter().position(|&o| o == Operator::NearestNeighbour);
            let ordered = match (&e, nn) {
                (CouplingError::Degenerate, _) => all_ordered(configs),
                // Diverging towards ferromagnetic order (the zero-temperature sink); the
                // other couplings' limits are not determined.
                (CouplingError::Diverged { direction }, Some(nn)) => direction[nn] > 0.0,
                _ => false,
            };
            Measured {
                couplings: ops
                    .iter()
                    .map(|&op| {
                        if ordered && op == Operator::NearestNeighbour {
                            f64::INFINITY
                        } else {
                            f64::NAN
                        }
                    })
                    .collect(),
                errors: vec![f64::NAN; ops.len()],
                leave_out: Vec::new(),
                sums,
            }
        }
    }
}

/// Every configuration is uniform (each one all in one state).
fn all_ordered(configs: &[Vec<u8>]) -> bool {
    !configs.is_empty()
        && configs
            .iter()
            .all(|c| c.iter().all(|&x| Some(&x) == c.first()))
}

/// The exponent of one sector between two levels' lattice sums.
fn sector(
    coarse: &[Vec<f64>],
    fine: &[Vec<f64>],
    columns: &[usize],
    blocks: usize,
) -> Option<Estimate> {
    if columns.is_empty() {
        return None;
    }
    let pick = |rows: &[Vec<f64>]| -> Vec<Vec<f64>> {
        rows.iter()
            .map(|r| columns.iter().map(|&c| r[c]).collect())
            .collect()
    };
    linear::exponent(&pick(coarse), &pick(fine), blocks)
}

/// The RSMI map learned on one level and applied to every block of every configuration.
fn rsmi_step(
    rule: &RsmiRule,
    dim: usize,
    size: usize,
    configs: &[Vec<u8>],
    start: Option<Vec<f64>>,
    filter: &mut Option<(Vec<f64>, f64)>,
    stream: &mut Stream,
) -> Vec<Vec<u8>> {
    if filter.is_none() {
        let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
        let start = start.and_then(|w| ndarray::Array2::from_shape_vec((w.len(), 1), w).ok());
        let coarse = start
            .as_ref()
            .map_or(rsmi::Coarse::Learn, rsmi::Coarse::Start);
        let learned = rule
            .job(dim, size)
            .map_err(rsmi::RsmiError::from)
            .and_then(|job| rsmi::run_with(&refs, &job, coarse, &mut stream.child("train"), None));
        *filter = Some(match learned {
            Ok(t) => {
                let mut w = t.filters.into_iter().next().unwrap_or_default();
                // Λ and −Λ keep the same information; orient it so that an all-up block maps to
                // an up spin, which keeps the odd couplings' signs meaningful across levels.
                if w.iter().sum::<f64>() < 0.0 {
                    w.iter_mut().for_each(|x| *x = -*x);
                }
                (w, t.mi_nats)
            }
            // Only a geometry the sweep file validated reaches here; a failure is a NaN MI and
            // the uniform (majority-like) filter, visible in the outputs, not a panic.
            Err(_) => (vec![1.0; 1 << dim], f64::NAN),
        });
    }
    let (w, _) = filter.as_ref().expect("just set");
    let Ok(geometry) = rsmi::Geometry::new(dim, size, 2, 0, 1) else {
        return configs.to_vec();
    };
    let offsets = geometry.visible_offsets();
    let half = size / 2;
    let coarse_sites = half.pow(dim as u32);
    let mut apply = stream.child("apply");
    configs
        .iter()
        .map(|c| {
            (0..coarse_sites)
                .map(|j| {
                    let mut corner = [0usize; 3];
                    let mut r = j;
                    for axis in corner.iter_mut().take(dim) {
                        *axis = 2 * (r % half);
                        r /= half;
                    }
                    let field: f64 = geometry
                        .sites(corner, &offsets)
                        .iter()
                        .zip(w)
                        .map(|(&i, &wk)| wk * (1.0 - 2.0 * f64::from(c[i])))
                        .sum();
                    let up = match rule.rule {
                        Rule::Sign if field != 0.0 => field > 0.0,
                        Rule::Sign => apply.uniform() < 0.5,
                        Rule::Sample => apply.uniform() < 1.0 / (1.0 + (-field).exp()),
                    };
                    u8::from(!up)
                })
                .collect()
        })
        .collect()
}

/// Every map's flow from `configs` (states of a `q`-state model — q = 2: Ising — on a
/// `dim`-dimensional lattice of `size`): levels 0..=levels per map, maps in the settings'
/// order.
pub fn flows(
    settings: &Settings,
    dim: usize,
    q: u8,
    size: usize,
    configs: &[Vec<u8>],
    replica: u32,
    stream: &Stream,
) -> Vec<Level> {
    let even: Vec<usize> = (0..settings.operators.len())
        .filter(|&k| !settings.operators[k].odd())
        .collect();
    let odd: Vec<usize> = (0..settings.operators.len())
        .filter(|&k| settings.operators[k].odd())
        .collect();
    let label = |map, level, size, m: &Measured| Level {
        replica,
        map,
        level,
        size,
        couplings: m.couplings.clone(),
        errors: m.errors.clone(),
        leave_out: m.leave_out.clone(),
        y_t: None,
        y_h: None,
        filter: Vec::new(),
        mi_nats: f64::NAN,
        relevance: None,
        compression: None,
        plane: Vec::new(),
        receptive: None,
    };
    let spins = if q == 2 {
        Spins::Ising
    } else {
        Spins::Potts(q)
    };
    let level0 = measure(&Lattice::new(dim, size), configs, settings, spins);
    // The audit draws from its own streams, so that it leaves every map's draws as they were.
    let mut audits = stream.clone().child("audit");
    let audit_rule = settings.audit_rule();
    let mut out = Vec::new();
    for &map in &settings.maps {
        let mut maps_stream = stream.clone().child(map.name());
        out.push(label(map, 0, size, &level0));
        // The previous level's configurations and lattice sums (level 0's are borrowed).
        let (mut coarse, mut coarse_sums) = (Vec::new(), Vec::new());
        let mut filter = None;
        // The RBM maps' trained layers, level 1 first: receptive fields go through all of them.
        let mut stack: Vec<crate::rbm::Rbm> = Vec::new();
        for n in 1..=settings.levels {
            let (current, previous_sums) = if n == 1 {
                (configs, level0.sums.as_slice())
            } else {
                (coarse.as_slice(), coarse_sums.as_slice())
            };
            let fine = size >> (n - 1);
            let mut step = maps_stream.child(&format!("level={n}"));
            // Only settings checked at submit reach a network's training; one that fails all
            // the same leaves majority's level, marked by no layer and no audit.
            let fallback = |current: &[Vec<u8>], step: &mut Stream| -> Vec<Vec<u8>> {
                current
                    .iter()
                    .map(|c| maps::coarse_grain_q(Map::Majority, dim, fine, q, c, step))
                    .collect()
            };
            let mut layer = None;
            let mut table = None;
            let mut plane = Vec::new();
            // The networks' information plane over training. From a copy of the audit's
            // stream, so that the audit's own draws stay as they were; the block-local RBM's
            // key came first and keeps its form.
            let plane_key = match map {
                MapKind::Rbm => format!("plane/level={n}"),
                _ => format!("{}/plane/level={n}", map.name()),
            };
            let mut observer = settings.plane(map).then(|| Plane {
                rule: &audit_rule,
                dim,
                size: fine,
                configs: current,
                blocks: settings.blocks,
                stream: audits.clone().child(&plane_key),
                points: &mut plane,
            });
            let next: Vec<Vec<u8>> = match map {
                MapKind::Majority | MapKind::Decimation => {
                    let m = if map == MapKind::Majority {
                        Map::Majority
                    } else {
                        Map::Decimation
                    };
                    current
                        .iter()
                        .map(|c| maps::coarse_grain_q(m, dim, fine, q, c, &mut step))
                        .collect()
                }
                MapKind::Rsmi => {
                    let rule = settings.rsmi.clone().unwrap_or_default();
                    let start = match filter.take() {
                        Some(kept) if !rule.retrain => {
                            filter = Some(kept);
                            None
                        }
                        Some((w, _)) if rule.warm_start => Some(w),
                        _ => None,
                    };
                    rsmi_step(&rule, dim, fine, current, start, &mut filter, &mut step)
                }
                MapKind::AutoencoderTanh | MapKind::AutoencoderRelu => {
                    let rule = settings.autoencoder.clone().unwrap_or_default();
                    let activation = map.autoencoder().unwrap_or(Activation::Tanh);
                    let trained = autoencoder_step(
                        &rule,
                        activation,
                        fine,
                        current,
                        observer.as_mut(),
                        &mut step,
                    );
                    match trained {
                        Some((t, next)) => {
                            table = Some(t);
                            next
                        }
                        None => fallback(current, &mut step),
                    }
                }
                MapKind::Rbm | MapKind::RbmDense => {
                    let rule = settings.rbm.clone().unwrap_or_default();
                    let trained = if map == MapKind::Rbm {
                        rbm_step(&rule, fine, current, observer.as_mut(), &mut step)
                    } else {
                        rbm_dense_step(&rule, fine, current, &mut step)
                    };
                    match trained {
                        Some((l, next)) => {
                            layer = Some(l);
                            next
                        }
                        None => fallback(current, &mut step),
                    }
                }
            };
            let measured = measure(&Lattice::new(dim, fine / 2), &next, settings, spins);
            let mut level = label(map, n, fine / 2, &measured);
            level.y_t = sector(&measured.sums, previous_sums, &even, settings.blocks);
            level.y_h = sector(&measured.sums, previous_sums, &odd, settings.blocks);
            if let Some((w, mi)) = &filter {
                level.filter = w.clone();
                level.mi_nats = *mi;
            }
            if table.is_some() {
                level.plane = std::mem::take(&mut plane);
            }
            if let Some(l) = &layer {
                // A dense unit's mean weights over "its block" would hide what it reads.
                if map == MapKind::Rbm {
                    level.filter = l.mean_filter();
                }
                level.plane = plane;
                stack.push(l.rbm.clone());
                level.receptive = receptive(&stack, size);
            }
            if settings.audit && q == 2 {
                let sample = settings
                    .rsmi
                    .as_ref()
                    .is_some_and(|r| r.rule == Rule::Sample);
                let unit = match (map, &filter, &layer) {
                    (MapKind::Majority, ..) => Some(Unit::Majority),
                    (MapKind::Decimation, ..) => Some(Unit::Decimation),
                    (MapKind::Rsmi, Some((w, _)), _) => Some(Unit::Filter { weights: w, sample }),
                    (MapKind::Rbm | MapKind::RbmDense, _, Some(l)) => Some(l.unit()),
                    (MapKind::AutoencoderTanh | MapKind::AutoencoderRelu, ..) => {
                        table.as_deref().map(|p_up| Unit::Table { p_up })
                    }
                    _ => None,
                };
                if let Some(unit) = unit {
                    let mut s = audits.child(&format!("{}/level={n}", map.name()));
                    level.relevance =
                        audit::relevance(&unit, &audit_rule, dim, fine, current, &mut s).ok();
                    level.compression =
                        audit::compression(&unit, dim, fine, current, settings.blocks).ok();
                }
            }
            out.push(level);
            (coarse, coarse_sums) = (next, measured.sums);
        }
    }
    out
}

mod networks;
#[cfg(test)]
mod tests;
