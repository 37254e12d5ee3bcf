//! Training the coarse-grainer Λ and the critic jointly (RSMI-NE's scheme, Gökmen et al. 2021).
//!
//! Λ is n_H linear filters over the encoded block; each unit's value is a relaxed Bernoulli
//! sample h = σ((V·λ + ℓ)/τ) with logistic noise ℓ (the "Gumbel-sigmoid"), τ annealed as
//! τ_t = max(τ_min, τ₀·e^{−r t}). The critic f(h, e) = u(h)·g(e) feeds a lower bound on I(H:E)
//! ([`bound`]), maximised by Adam over Λ, u and g together. The reported MI is evaluated on
//! held-out pairs with H sampled as true binary variables from P_Λ(H|V), batch by batch, with
//! the standard error over batches.
//!
//! Invariant: everything random (initialisation, shuffling, noise) comes from the caller's
//! [`Stream`], consumed in a fixed order, so the same inputs give the same filters and MI bits.

use super::bound::{self, Bound};
use super::nn::{Adam, Mlp, Mlp32, normal};
use crate::rng::Stream;
use ndarray::{Array2, Axis, Slice};
use serde::{Deserialize, Serialize};

/// Training settings; defaults are RSMI-NE's for Ising.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSettings {
    /// Coarse-grained units n_H.
    pub hidden: usize,
    pub bound: Bound,
    pub batch: usize,
    /// Batch of the held-out evaluation (0: ten training batches, as far as the held-out set
    /// allows ten such batches). A trained critic bounds the MI at any batch size, and InfoNCE's
    /// ceiling ln B and its bias near it shrink as B grows, so evaluating at a larger batch is a
    /// tighter bound from the same critic.
    pub eval_batch: usize,
    pub max_epochs: usize,
    pub min_epochs: usize,
    /// Without a validation set: stop when the epoch's mean training bound moved less than this
    /// (nats) for `patience` epochs in a row. With one: stop when the validation bound has not
    /// improved by more than this for `patience` epochs, and keep the best epoch's model.
    pub tolerance: f64,
    pub patience: usize,
    pub learning_rate: f64,
    pub tau_start: f64,
    pub tau_min: f64,
    pub tau_decay: f64,
    /// Critic MLPs u and g: `critic_layers` dense layers, hidden width `critic_width`, output
    /// (embedding) width `embedding`.
    pub critic_layers: usize,
    pub critic_width: usize,
    pub embedding: usize,
    /// With n_H ≥ 2: learn the units one at a time, unit k with units < k frozen (each stage
    /// to its own early stop), then all of them together. Trained together from the start,
    /// every unit climbs the same steepest direction and several units can end up reading one
    /// variable (`tests/rsmi.rs`: two units on two independent sources both read the stronger
    /// one). With the others fixed, unit k's gradient is that of I(h_k : E | h_<k), the chain
    /// rule's next term, which pays only for what they do not already say. Not a cure on
    /// dimers at T = 15 (README): two of five runs split the field, three did not.
    pub stagewise: bool,
    /// Slope of the critic's activation below zero (0: ReLU). A ReLU critic can die: u reads
    /// only n_H inputs, and once all its units are off, f(h, e) ignores h and I stays 0.
    pub critic_leak: f64,
    /// The first `quiet_steps` training steps use the relaxed units without their logistic
    /// noise, h = σ(λ·V/τ). Why: with noisy units, two units reading one variable average
    /// their noise away, so at the start, when the filters are small and the noise dominates,
    /// redundancy pays and the units are drawn onto one variable, where they stay (dimers at
    /// T = 15: both units on one mixture of E_x and E_y, 0.14 nats, where units that split
    /// the field keep 0.17). Without noise a copy says nothing new.
    pub quiet_steps: usize,
    /// Independent trainings (fresh initialisation, noise and shuffling each); the one with
    /// the best validation bound is kept (the last epoch's training bound without a
    /// validation set). The held-out set is used only for the kept one.
    pub restarts: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            hidden: 1,
            bound: Bound::InfoNce,
            batch: 100,
            eval_batch: 0,
            max_epochs: 60,
            min_epochs: 6,
            tolerance: 0.003,
            patience: 3,
            learning_rate: 5e-3,
            tau_start: 0.5,
            tau_min: 0.1,
            tau_decay: 5e-3,
            critic_layers: 3,
            critic_width: 32,
            embedding: 8,
            stagewise: false,
            critic_leak: 0.0,
            quiet_steps: 0,
            restarts: 1,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TrainError {
    #[error("{0}")]
    Settings(String),
    #[error("{what}: {have} pairs, fewer than one batch of {batch}")]
    TooFewPairs {
        what: &'static str,
        have: usize,
        batch: usize,
    },
}

impl TrainSettings {
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Settings(m));
        if self.hidden == 0 || self.hidden > 64 {
            return bad(format!("hidden must be 1..=64, got {}", self.hidden));
        }
        if self.batch < 2 || self.batch > 100_000 {
            return bad(format!("batch must be 2..=100000, got {}", self.batch));
        }
        if self.max_epochs == 0 || self.min_epochs > self.max_epochs {
            return bad(format!(
                "epochs: need 1 <= max_epochs and min_epochs <= max_epochs, got {}..{}",
                self.min_epochs, self.max_epochs
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return bad(format!(
                "learning_rate must be in (0, 1), got {}",
                self.learning_rate
            ));
        }
        if !(self.tau_min > 0.0 && self.tau_start >= self.tau_min && self.tau_decay >= 0.0) {
            return bad("need 0 < tau_min <= tau_start and tau_decay >= 0".into());
        }
        if self.critic_layers == 0 || self.critic_width == 0 || self.embedding == 0 {
            return bad("critic_layers, critic_width and embedding must be positive".into());
        }
        if self.tolerance.is_nan() || self.tolerance < 0.0 {
            return bad("tolerance must be >= 0".into());
        }
        if !(0.0..1.0).contains(&self.critic_leak) {
            return bad(format!(
                "critic_leak must be in [0, 1), got {}",
                self.critic_leak
            ));
        }
        if self.restarts == 0 || self.restarts > MAX_RESTARTS {
            return bad(format!(
                "restarts must be 1..={MAX_RESTARTS}, got {}",
                self.restarts
            ));
        }
        Ok(())
    }

    fn critic_sizes(&self, inputs: usize) -> Vec<usize> {
        let mut sizes = vec![inputs];
        sizes.extend(std::iter::repeat_n(
            self.critic_width,
            self.critic_layers - 1,
        ));
        sizes.push(self.embedding);
        sizes
    }
}

/// The most independent trainings one job may run ([`TrainSettings::restarts`]).
pub const MAX_RESTARTS: usize = 16;

/// (V, E) pairs, one row each, encoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairs {
    pub v: Array2<f64>,
    pub e: Environments,
}

/// The environments of [`Pairs`]: the bulk of the data (720 inputs per pair in the PRE
/// geometry), read into f32 batches for [`Mlp32`].
///
/// Why two forms: spins are stored as i8 (a quarter of f32's bytes), because gathering a
/// shuffled batch from a dataset of hundreds of megabytes is memory-bound (measured: 11% of a
/// PRE-geometry run with f32 rows); real-valued inputs (the estimator's Gaussian tests) stay f32.
#[derive(Clone, Debug, PartialEq)]
pub enum Environments {
    Spins(Array2<i8>),
    Real(Array2<f32>),
}

impl Environments {
    pub fn nrows(&self) -> usize {
        match self {
            Environments::Spins(a) => a.nrows(),
            Environments::Real(a) => a.nrows(),
        }
    }

    pub fn ncols(&self) -> usize {
        match self {
            Environments::Spins(a) => a.ncols(),
            Environments::Real(a) => a.ncols(),
        }
    }

    /// Row `from` into row `to` of the f32 batch `dst`.
    fn copy_row(&self, from: usize, dst: &mut Array2<f32>, to: usize) {
        match self {
            Environments::Real(a) => copy_row(dst, to, a, from),
            Environments::Spins(a) => {
                let n = a.ncols();
                match (dst.as_slice_mut(), a.as_slice()) {
                    (Some(d), Some(s)) => {
                        for (d, &s) in d[to * n..(to + 1) * n]
                            .iter_mut()
                            .zip(&s[from * n..(from + 1) * n])
                        {
                            *d = f32::from(s);
                        }
                    }
                    _ => dst.row_mut(to).assign(&a.row(from).mapv(f32::from)),
                }
            }
        }
    }

    /// Rows `rows` as an f32 array.
    fn rows(&self, rows: std::ops::Range<usize>) -> Array2<f32> {
        let rows = Slice::from(rows);
        match self {
            Environments::Real(a) => a.slice_axis(Axis(0), rows).to_owned(),
            Environments::Spins(a) => a.slice_axis(Axis(0), rows).mapv(f32::from),
        }
    }
}

impl Pairs {
    pub fn len(&self) -> usize {
        self.v.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.v.nrows() == 0
    }
}

/// The outcome of training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    /// Held-out estimate of I(H:E) in nats, and its standard error over batches.
    pub mi_nats: f64,
    pub mi_err: f64,
    /// The last epoch's mean training bound.
    pub train_mi: f64,
    /// n_H filters, each over the encoded block in row-major site order.
    pub filters: Vec<Vec<f64>>,
    pub epochs: usize,
    pub steps: usize,
    /// Pairs seen by training steps (steps × batch).
    pub samples: usize,
    /// Seconds spent in training steps (validation and evaluation excluded), by the caller's
    /// clock; 0 without one.
    pub train_seconds: f64,
    /// Mean training bound per epoch.
    pub history: Vec<f64>,
    /// Validation bound (binary H, held-out configurations) per epoch, if validated.
    pub validation: Vec<f64>,
    /// The epoch whose model was kept (1-based).
    pub best_epoch: usize,
    /// With restarts: the kept training (0-based) and every training's selection score
    /// (best validation bound, or last training bound); empty with one training.
    pub restart: usize,
    pub restart_scores: Vec<f64>,
}

fn sigmoid(x: f64) -> f64 {
    // Stable on both tails (σ(x) = e^x/(1+e^x) for x < 0).
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Logistic noise ln U − ln(1−U), U uniform on (0, 1).
fn logistic(stream: &mut Stream) -> f64 {
    let u = (stream.uniform() + 0.5 / (1u64 << 53) as f64).clamp(1e-300, 1.0 - 1e-16);
    u.ln() - (-u).ln_1p()
}

/// What stands between V and the critic.
#[derive(Clone, Copy, Debug)]
pub enum Coarse<'a> {
    /// Learn Λ (RSMI).
    Learn,
    /// Learn Λ starting from these filters (block inputs × n_H) instead of random ones: a
    /// level's rule trained on from the rule of the level below.
    Start(&'a Array2<f64>),
    /// Keep these filters (block inputs × n_H): only the critic learns, which measures the
    /// information a given rule keeps.
    Fixed(&'a Array2<f64>),
    /// No coarse-graining: the critic sees V itself (the plain MI estimator, I(V:E)).
    Identity,
}

#[derive(Clone)]
struct Model {
    /// Λ: block inputs × n_H.
    filters: Array2<f64>,
    u: Mlp,
    g: Mlp32,
    learn: bool,
    identity: bool,
}

/// Trains the critic (and Λ, with [`Coarse::Learn`]) on `train_pairs` and evaluates I(H:E) on
/// `test_pairs`. With `validation` pairs (configurations in neither set), the model kept is the
/// epoch's with the best validation bound: the critic sees hundreds of environment inputs and
/// otherwise memorises its training pairs (REFERENCE.md §3: held-out MI can even go negative).
pub fn train(
    settings: &TrainSettings,
    train_pairs: &Pairs,
    validation: Option<&Pairs>,
    test_pairs: &Pairs,
    coarse: Coarse<'_>,
    stream: &mut Stream,
    clock: Option<&dyn Fn() -> f64>,
) -> Result<Trained, TrainError> {
    settings.check()?;
    let now = || clock.map_or(0.0, |c| c());
    let b = settings.batch;
    for (what, p) in [("training set", train_pairs), ("held-out set", test_pairs)] {
        if p.len() < b {
            return Err(TrainError::TooFewPairs {
                what,
                have: p.len(),
                batch: b,
            });
        }
    }
    let nh = match coarse {
        Coarse::Identity => train_pairs.v.ncols(),
        _ => settings.hidden,
    };
    let mut fits: Vec<Fit> = Vec::with_capacity(settings.restarts);
    for k in 0..settings.restarts {
        // The first training draws from the caller's stream exactly as a lone training does,
        // so one restart reproduces what came before it bit for bit.
        let mut own;
        let from = if k == 0 {
            &mut *stream
        } else {
            own = stream.child(&format!("rsmi-restart-{k}"));
            &mut own
        };
        fits.push(fit(
            settings,
            train_pairs,
            validation,
            coarse,
            nh,
            from,
            &now,
        )?);
    }
    let scores: Vec<f64> = fits.iter().map(Fit::score).collect();
    // The first best (a NaN score never wins).
    let kept = (0..fits.len()).fold(0, |best, k| if scores[k] > scores[best] { k } else { best });
    let steps: usize = fits.iter().map(|f| f.steps).sum();
    let train_seconds: f64 = fits.iter().map(|f| f.train_seconds).sum();
    let Fit {
        model,
        history,
        validated,
        best_epoch,
        ..
    } = fits.swap_remove(kept);
    let mut eval = stream.child("rsmi-eval");
    let (mi_nats, mi_err) = evaluate(
        &model,
        settings.bound,
        eval_batch(settings, test_pairs),
        test_pairs,
        &mut eval,
    );
    Ok(Trained {
        mi_nats,
        mi_err,
        train_mi: history.last().copied().unwrap_or(f64::NAN),
        filters: (0..nh).map(|k| model.filters.column(k).to_vec()).collect(),
        epochs: history.len(),
        steps,
        samples: steps * b,
        train_seconds,
        history,
        validation: validated,
        best_epoch,
        restart: kept,
        restart_scores: if settings.restarts > 1 {
            scores
        } else {
            Vec::new()
        },
    })
}

/// One training: its kept model and record.
struct Fit {
    model: Model,
    history: Vec<f64>,
    validated: Vec<f64>,
    best_epoch: usize,
    /// The kept model's validation bound, if validated.
    best_validation: Option<f64>,
    steps: usize,
    train_seconds: f64,
}

impl Fit {
    /// What restarts are chosen by.
    fn score(&self) -> f64 {
        self.best_validation
            .or(self.history.last().copied())
            .unwrap_or(f64::NAN)
    }
}

/// Trains from a fresh initialisation drawn from `stream` to its early stop.
fn fit(
    settings: &TrainSettings,
    train_pairs: &Pairs,
    validation: Option<&Pairs>,
    coarse: Coarse<'_>,
    nh: usize,
    stream: &mut Stream,
    now: &dyn Fn() -> f64,
) -> Result<Fit, TrainError> {
    let b = settings.batch;
    let nv = train_pairs.v.ncols();
    let ne = train_pairs.e.ncols();
    let mut train_seconds = 0.0;
    let mut init = stream.child("rsmi-init");
    let filters = match coarse {
        Coarse::Fixed(f) | Coarse::Start(f) => {
            if f.dim() != (nv, nh) {
                return Err(TrainError::Settings(format!(
                    "fixed filters are {:?}, need ({nv}, {nh})",
                    f.dim()
                )));
            }
            f.clone()
        }
        Coarse::Learn => {
            let scale = (1.0 / nv as f64).sqrt();
            Array2::from_shape_simple_fn((nv, nh), || scale * normal(&mut init))
        }
        Coarse::Identity => Array2::eye(nv),
    };
    let mut model = Model {
        filters,
        u: Mlp::new(&settings.critic_sizes(nh), &mut init).with_leak(settings.critic_leak),
        g: Mlp32::new(
            Mlp::new(&settings.critic_sizes(ne), &mut init).with_leak(settings.critic_leak),
        ),
        learn: matches!(coarse, Coarse::Learn | Coarse::Start(_)),
        identity: matches!(coarse, Coarse::Identity),
    };
    // Start the critic near f = 0: He-initialised embeddings make scores of order ten, whose
    // exponentials wreck the first NWJ steps (and waste InfoNCE's).
    for net in [&mut model.u, &mut model.g.net] {
        if let Some(last) = net.layers.last_mut() {
            last.w.mapv_inplace(|w| 0.1 * w);
        }
    }
    model.g.sync();
    let mut ug = model.u.zero_grads();
    let mut gg = model.g.net.zero_grads();
    let mut order: Vec<usize> = (0..train_pairs.len()).collect();
    let mut noise = stream.child("rsmi-noise");
    let mut shuffle = stream.child("rsmi-shuffle");
    let mut history = Vec::new();
    let mut validated = Vec::new();
    // The same noise for every validation pass, so epochs are compared on equal terms.
    let validate_stream = stream.child("rsmi-validate");
    let mut steps = 0usize;
    let mut vb = Array2::<f64>::zeros((b, nv));
    let mut eb = Array2::<f32>::zeros((b, ne));
    // Stages: which filter columns train in each (all of them at once unless stagewise).
    let staged = model.learn && nh > 1 && settings.stagewise;
    let mut stages: Vec<Vec<bool>> = Vec::new();
    if staged {
        stages.extend((0..nh).map(|k| (0..nh).map(|c| c == k).collect()));
    }
    stages.push(vec![true; nh]);
    // Staged, unit k starts from its own initial filter when its stage begins (zero before,
    // so that it says nothing); the streams are drawn exactly as without stages.
    let initial = model.filters.clone();
    if staged {
        for c in 1..nh {
            model.filters.column_mut(c).fill(0.0);
        }
    }
    // One optimiser throughout (fresh moments at a stage's start jolt every critic weight by a
    // full learning rate at once: on dimers at T = 15 that killed the critic, I = 0).
    let mut adam = Adam::new(settings.learning_rate);
    // The best model so far, over every stage: a stage that only loses keeps the one before.
    let mut best: Option<(f64, usize, Model)> = None;
    for (stage, trainable) in stages.iter().enumerate() {
        if stage > 0
            && let Some((_, _, kept)) = &best
        {
            model = kept.clone();
        }
        if stage < nh && staged {
            model
                .filters
                .column_mut(stage)
                .assign(&initial.column(stage));
            // Filters are stored units-fastest: element k·n_H + c belongs to unit c.
            adam.forget(0, |i| !trainable[i % nh]);
        }
        let mut calm = 0;
        let first = history.len();
        for epoch in 0..settings.max_epochs {
            for i in (1..order.len()).rev() {
                let j = shuffle.below(i as u64 + 1) as usize;
                order.swap(i, j);
            }
            let mut total = 0.0;
            let batches = order.len() / b;
            let epoch_started = now();
            for k in 0..batches {
                for (r, &idx) in order[k * b..(k + 1) * b].iter().enumerate() {
                    copy_row(&mut vb, r, &train_pairs.v, idx);
                    train_pairs.e.copy_row(idx, &mut eb, r);
                }
                let tau = (settings.tau_start * (-settings.tau_decay * steps as f64).exp())
                    .max(settings.tau_min);
                let noise = (steps >= settings.quiet_steps).then_some(&mut noise);
                total += step(
                    settings, &mut model, &mut adam, &mut ug, &mut gg, &vb, &mut eb, tau, noise,
                    trainable,
                );
                steps += 1;
            }
            train_seconds += now() - epoch_started;
            let mean = total / batches as f64;
            history.push(mean);
            if let Some(val) = validation {
                // Model selection compares epochs, not absolute values: the training batch is
                // enough, at a hundredth of the cost of the held-out batch's B² scores.
                let (v, _) = evaluate(&model, settings.bound, b, val, &mut validate_stream.clone());
                validated.push(v);
                match &best {
                    Some((b, _, _)) if v <= b + settings.tolerance => calm += 1,
                    _ => calm = 0,
                }
                if best.as_ref().is_none_or(|(b, _, _)| v > *b) {
                    best = Some((v, history.len(), model.clone()));
                }
            } else if history.len() >= first + 2 {
                let moved = mean - history[history.len() - 2];
                calm = if moved.abs() < settings.tolerance {
                    calm + 1
                } else {
                    0
                };
            }
            if epoch + 1 >= settings.min_epochs && calm >= settings.patience {
                break;
            }
        }
    }
    let mut best_epoch = history.len();
    let mut best_validation = None;
    if let Some((v, epoch, kept)) = best {
        model = kept;
        best_epoch = epoch;
        best_validation = Some(v);
    }
    Ok(Fit {
        model,
        history,
        validated,
        best_epoch,
        best_validation,
        steps,
        train_seconds,
    })
}

/// Row `from` of `src` into row `to` of `dst` as one memcpy: both are owned, standard-layout
/// arrays, and ndarray's element-wise `assign` cost as much as the environment network's
/// first matrix product (measured: 14% of a PRE-geometry run).
fn copy_row<T: Copy>(dst: &mut Array2<T>, to: usize, src: &Array2<T>, from: usize) {
    let n = src.ncols();
    match (dst.as_slice_mut(), src.as_slice()) {
        (Some(d), Some(s)) => d[to * n..(to + 1) * n].copy_from_slice(&s[from * n..(from + 1) * n]),
        _ => dst.row_mut(to).assign(&src.row(from)),
    }
}

/// One Adam step on a batch; returns the batch's bound.
#[allow(clippy::too_many_arguments)]
fn step(
    settings: &TrainSettings,
    model: &mut Model,
    adam: &mut Adam,
    ug: &mut super::nn::MlpGrads,
    gg: &mut super::nn::MlpGrads,
    vb: &Array2<f64>,
    eb: &mut Array2<f32>,
    tau: f64,
    noise: Option<&mut Stream>,
    trainable: &[bool],
) -> f64 {
    let h = match noise {
        _ if model.identity => vb.clone(),
        Some(noise) => vb
            .dot(&model.filters)
            .mapv(|x| sigmoid((x + logistic(noise)) / tau)),
        // Quiet steps (TrainSettings::quiet_steps).
        None => vb.dot(&model.filters).mapv(|x| sigmoid(x / tau)),
    };
    let (uo, uc) = model.u.forward(h.clone());
    let (go, gc) = model
        .g
        .forward(std::mem::replace(eb, Array2::zeros((0, 0))));
    let (value, du, dg) = bound::value_and_grad(settings.bound, &uo, &go);
    // Adam minimises: descend on −bound.
    let dh = model.u.backward(&uc, -du, ug, model.learn);
    model.g.backward(&gc, -dg, gg);
    *eb = gc.into_input();
    let dfilters = match dh {
        Some(dh) => {
            // ∂h/∂logit = h(1 − h)/τ.
            let dlogit = dh * &h.mapv(|x| x * (1.0 - x) / tau);
            let mut d = vb.t().dot(&dlogit);
            for (c, &on) in trainable.iter().enumerate() {
                if !on {
                    d.column_mut(c).fill(0.0);
                }
            }
            d
        }
        None => Array2::zeros(model.filters.raw_dim()),
    };
    let mut params: Vec<&mut [f64]> = Vec::new();
    params.push(model.filters.as_slice_mut().expect("contiguous"));
    params.extend(model.u.params_mut());
    params.extend(model.g.net.params_mut());
    let mut grads: Vec<&[f64]> = vec![dfilters.as_slice().expect("contiguous")];
    grads.extend(ug.slices());
    grads.extend(gg.slices());
    adam.step(&mut params, &grads);
    model.g.sync();
    value
}

/// The held-out batch: ten training batches (see [`TrainSettings::eval_batch`]).
fn eval_batch(settings: &TrainSettings, pairs: &Pairs) -> usize {
    if settings.eval_batch > 0 {
        settings.eval_batch.min(pairs.len())
    } else {
        (10 * settings.batch)
            .min(pairs.len() / 10)
            .max(settings.batch)
    }
}

/// Bound on `pairs` in batches of `b`, H sampled as binary units; mean and standard error
/// over batches.
fn evaluate(
    model: &Model,
    bound: Bound,
    b: usize,
    pairs: &Pairs,
    stream: &mut Stream,
) -> (f64, f64) {
    let batches = pairs.len() / b;
    let mut values = Vec::with_capacity(batches);
    for k in 0..batches {
        // (ndarray's `s!` macro expands to an `allow(unsafe_code)` this workspace forbids.)
        let rows = Slice::from(k * b..(k + 1) * b);
        let v = pairs.v.slice_axis(Axis(0), rows);
        let e = pairs.e.rows(k * b..(k + 1) * b);
        let h = if model.identity {
            v.to_owned()
        } else {
            let p = v.dot(&model.filters).mapv(sigmoid);
            p.mapv(|p| f64::from(u8::from(stream.uniform() < p)))
        };
        let uo = model.u.infer(h.view());
        let go = model.g.infer(e.view());
        values.push(bound::value(bound, &uo, &go));
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}
