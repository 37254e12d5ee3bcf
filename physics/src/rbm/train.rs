//! Contrastive-divergence training of one RBM layer, and greedy layer-by-layer stacks.
//!
//! One step on a minibatch v₀ (Hinton, "A practical guide to training RBMs", 2010):
//! p₀ = P(h | v₀); a Gibbs chain h → v → h run `cd_steps` times, started from a draw of p₀
//! (CD-k) or from the persistent chains' last hidden state (PCD, Tieleman 2008); then
//! W += η (⟨p₀ v₀ᵀ⟩ − ⟨p_k v_kᵀ⟩) − η λ sign(W), and likewise for the biases without the L1
//! term. Every random draw comes from the caller's stream in a fixed order, so a training is a
//! pure function of (data, settings, stream).

use super::{Connections, Rbm, bernoulli, block_inputs, sigmoid};
use crate::rng::Stream;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis, Zip};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RbmSettings {
    pub learning_rate: f64,
    /// Minibatch size (and the number of persistent chains).
    pub batch: usize,
    pub epochs: usize,
    /// Gibbs steps k of CD-k / PCD-k.
    pub cd_steps: usize,
    /// Persistent chains (PCD) instead of chains restarted at the data (CD).
    pub persistent: bool,
    /// L1 penalty λ on the weights (Mehta & Schwab: 2·10⁻⁴).
    pub l1: f64,
    /// Initial weights ~ N(0, init_scale²).
    pub init_scale: f64,
}

impl Default for RbmSettings {
    fn default() -> Self {
        RbmSettings {
            learning_rate: 0.05,
            batch: 50,
            epochs: 20,
            cd_steps: 1,
            persistent: true,
            l1: 0.0,
            init_scale: 0.01,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RbmError {
    #[error("{0}")]
    Settings(String),
    #[error("{0}")]
    Shape(String),
}

impl RbmSettings {
    pub fn check(&self) -> Result<(), RbmError> {
        let bad = |why: &str| Err(RbmError::Settings(why.to_string()));
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning rate must be positive");
        }
        if self.batch == 0 || self.epochs == 0 || self.cd_steps == 0 {
            return bad("batch, epochs and CD steps must be at least 1");
        }
        if !(self.l1.is_finite() && self.l1 >= 0.0) {
            return bad("the L1 penalty must be zero or positive");
        }
        if !(self.init_scale.is_finite() && self.init_scale >= 0.0) {
            return bad("the initial weight scale must be zero or positive");
        }
        Ok(())
    }
}

/// The layers of a stack.
#[derive(Clone, Debug, PartialEq)]
pub enum Wiring {
    /// Dense layers of these hidden sizes (the Mehta–Schwab stack over 1600 visible units:
    /// `[400, 100, 25]`).
    Dense(Vec<usize>),
    /// `levels` block-local layers of 2×2 blocks over a periodic `side`×`side` lattice.
    Local { side: usize, levels: usize },
}

impl Wiring {
    /// The (visible, hidden) sizes of each layer over `visible` input units.
    pub fn shapes(&self, visible: usize) -> Result<Vec<(usize, usize)>, RbmError> {
        let mut out = Vec::new();
        match self {
            Wiring::Dense(sizes) => {
                let mut v = visible;
                for &h in sizes {
                    if h == 0 {
                        return Err(RbmError::Shape("a layer needs at least one unit".into()));
                    }
                    out.push((v, h));
                    v = h;
                }
            }
            Wiring::Local { side, levels } => {
                if side * side != visible {
                    return Err(RbmError::Shape(format!(
                        "a local stack over a {side}×{side} lattice reads {} units, not {visible}",
                        side * side
                    )));
                }
                let mut s = *side;
                for _ in 0..*levels {
                    if s < 2 || !s.is_multiple_of(2) {
                        return Err(RbmError::Shape(format!(
                            "{levels} levels of 2×2 blocks need a side divisible by {}, not {side}",
                            1usize << levels
                        )));
                    }
                    out.push((s * s, (s / 2) * (s / 2)));
                    s /= 2;
                }
            }
        }
        if out.is_empty() {
            return Err(RbmError::Shape("a stack needs at least one layer".into()));
        }
        Ok(out)
    }
}

/// What training one layer measured.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LayerReport {
    pub level: usize,
    pub visible: usize,
    pub hidden: usize,
    /// Training rows seen (epochs × rows used per epoch).
    pub samples: u64,
    /// Seconds in the CD steps (from the caller's clock; 0 without one).
    pub train_seconds: f64,
    /// Held-out pseudo-log-likelihood before and after training, nats per visible unit.
    pub pseudo_likelihood_start: f64,
    pub pseudo_likelihood: f64,
    /// Mean radius of gyration of the units' receptive fields on the lattice (sites), for
    /// layers over a square lattice.
    pub receptive_field: Option<f64>,
}

/// A trained stack: layer 0 reads the configurations, layer l + 1 reads layer l's hidden draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    pub layers: Vec<Rbm>,
}

/// Fisher–Yates with the stream (fixed consumption per row).
fn shuffle(order: &mut [usize], stream: &mut Stream) {
    for i in (1..order.len()).rev() {
        let j = stream.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
}

fn draw(p: &mut Array2<f32>, stream: &mut Stream) {
    p.mapv_inplace(|p| bernoulli(p, stream));
}

/// Trains `rbm` on the rows of `data` (0/1 values). Each epoch is a fresh shuffle cut into
/// ⌊n/batch⌋ full minibatches (the rest of the rows wait for a later shuffle, so every step
/// and every persistent chain sees a full batch). Returns the rows seen and the seconds spent.
pub fn train_layer(
    rbm: &mut Rbm,
    data: ArrayView2<f32>,
    s: &RbmSettings,
    stream: &mut Stream,
    clock: Option<&dyn Fn() -> f64>,
) -> Result<(u64, f64), RbmError> {
    train_layer_observed(rbm, data, s, stream, clock, &mut |_, _| {})
}

/// [`train_layer`], showing the layer to `observe` after every epoch (1-based) without
/// touching it or the stream: what the information plane over training is measured from.
pub fn train_layer_observed(
    rbm: &mut Rbm,
    data: ArrayView2<f32>,
    s: &RbmSettings,
    stream: &mut Stream,
    clock: Option<&dyn Fn() -> f64>,
    observe: &mut dyn FnMut(usize, &Rbm),
) -> Result<(u64, f64), RbmError> {
    s.check()?;
    let now = || clock.map_or(0.0, |c| c());
    let (n, nv) = data.dim();
    if nv != rbm.visible() {
        return Err(RbmError::Shape(format!(
            "the layer reads {} units, the data has {nv}",
            rbm.visible()
        )));
    }
    if n < s.batch {
        return Err(RbmError::Shape(format!(
            "{n} training rows cannot fill one batch of {}",
            s.batch
        )));
    }
    let bs = s.batch;
    let step = (s.learning_rate / bs as f64) as f32;
    let shrink = (s.learning_rate * s.l1) as f32;
    let mut order: Vec<usize> = (0..n).collect();
    // Rows 0..bs: the minibatch v₀; rows bs..2bs: the chains' visible states v_k. Both phases
    // go through one product with W (PCD) and the gradient is one product over both.
    let mut both = Array2::<f32>::zeros((2 * bs, nv));
    let mut chains: Option<Array2<f32>> = None;
    let t0 = now();
    let mut seen = 0u64;
    for epoch in 1..=s.epochs {
        shuffle(&mut order, stream);
        for batch in order.chunks_exact(bs) {
            for (mut row, &r) in both.outer_iter_mut().zip(batch) {
                row.assign(&data.row(r));
            }
            let chain = if s.persistent { chains.take() } else { None };
            let (p, h) = match chain {
                // PCD: the chains move first, independently of this batch; then one pass of
                // W gives both phases' hidden probabilities.
                Some(mut h) => {
                    for step in 0..s.cd_steps {
                        let vk = gibbs_visible(rbm, &h, stream);
                        if step + 1 < s.cd_steps {
                            h = rbm.hidden_probabilities(vk.view());
                            draw(&mut h, stream);
                        } else {
                            both.slice_axis_mut(Axis(0), (bs..2 * bs).into())
                                .assign(&vk);
                        }
                    }
                    let p = rbm.hidden_probabilities(both.view());
                    let mut h = p.slice_axis(Axis(0), (bs..2 * bs).into()).to_owned();
                    draw(&mut h, stream);
                    (p, h)
                }
                // CD-k (and PCD's first batch): the chains start at a draw given the data.
                None => {
                    let p0 = rbm.hidden_probabilities(both.slice_axis(Axis(0), (0..bs).into()));
                    let mut h = p0.clone();
                    draw(&mut h, stream);
                    let mut pk = p0.clone();
                    for _ in 0..s.cd_steps {
                        let vk = gibbs_visible(rbm, &h, stream);
                        both.slice_axis_mut(Axis(0), (bs..2 * bs).into())
                            .assign(&vk);
                        pk = rbm.hidden_probabilities(vk.view());
                        h = pk.clone();
                        draw(&mut h, stream);
                    }
                    let p = ndarray::concatenate(Axis(0), &[p0.view(), pk.view()])
                        .map_err(|e| RbmError::Shape(e.to_string()))?;
                    (p, h)
                }
            };
            if s.persistent {
                chains = Some(h);
            }
            update(rbm, &both, p, step, shrink);
            seen += bs as u64;
        }
        observe(epoch, rbm);
    }
    Ok((seen, now() - t0))
}

/// v ~ P(v | h), row by row.
pub(super) fn gibbs_visible(rbm: &Rbm, h: &Array2<f32>, stream: &mut Stream) -> Array2<f32> {
    let mut v = rbm.visible_input(h.view());
    v.mapv_inplace(|x| bernoulli(sigmoid(x), stream));
    v
}

/// One gradient step from `both` = [v₀; v_k] and `p` = [P(h | v₀); P(h | v_k)].
fn update(rbm: &mut Rbm, both: &Array2<f32>, mut p: Array2<f32>, step: f32, shrink: f32) {
    let bs = both.nrows() / 2;
    if shrink > 0.0 {
        // The L1 step, taken against the weights before this step's gradient.
        rbm.w
            .mapv_inplace(|w| w - shrink * w.signum() * f32::from(w != 0.0));
    }
    let (v0, vk) = both.view().split_at(Axis(0), bs);
    {
        let (p0, pk) = p.view().split_at(Axis(0), bs);
        Zip::from(&mut rbm.b)
            .and(p0.sum_axis(Axis(0)).view())
            .and(pk.sum_axis(Axis(0)).view())
            .for_each(|b, &p, &q| *b += step * (p - q));
        Zip::from(&mut rbm.c)
            .and(v0.sum_axis(Axis(0)).view())
            .and(vk.sum_axis(Axis(0)).view())
            .for_each(|c, &p, &q| *c += step * (p - q));
    }
    match &rbm.connections {
        Connections::Dense => {
            // [p₀; −p_k]ᵀ·[v₀; v_k]: W is read and written once per step, not once per phase
            // (at small batches that traffic is most of a step's cost).
            p.slice_axis_mut(Axis(0), (bs..2 * bs).into())
                .mapv_inplace(|x| -x);
            general_mat_mul(step, &p.t(), both, 1.0, &mut rbm.w);
        }
        Connections::Local { inputs } => {
            let (p0, pk) = p.view().split_at(Axis(0), bs);
            for r in 0..bs {
                let (v0, p0, vk, pk) = (v0.row(r), p0.row(r), vk.row(r), pk.row(r));
                for (j, mut w) in rbm.w.outer_iter_mut().enumerate() {
                    for (w, &i) in w.iter_mut().zip(inputs.row(j)) {
                        let i = i as usize;
                        *w += step * (p0[j] * v0[i] - pk[j] * vk[i]);
                    }
                }
            }
        }
    }
}

/// Greedy layer-by-layer training: layer l is trained on binary draws of layer l − 1's hidden
/// units given its data (the configurations for l = 0). `side` is the lattice side when the
/// data are a periodic square lattice's sites (for receptive fields). Each layer's held-out
/// pseudo-likelihood is measured on draws of `heldout` carried up the same stack.
pub fn train_stack(
    data: ArrayView2<f32>,
    heldout: ArrayView2<f32>,
    wiring: &Wiring,
    side: Option<usize>,
    s: &RbmSettings,
    stream: &mut Stream,
    clock: Option<&dyn Fn() -> f64>,
) -> Result<(Stack, Vec<LayerReport>), RbmError> {
    s.check()?;
    if heldout.ncols() != data.ncols() {
        return Err(RbmError::Shape(
            "held-out rows are not as wide as the training rows".into(),
        ));
    }
    let shapes = wiring.shapes(data.ncols())?;
    let mut layers: Vec<Rbm> = Vec::with_capacity(shapes.len());
    let mut reports = Vec::with_capacity(shapes.len());
    let (mut train, mut test) = (data.to_owned(), heldout.to_owned());
    for (level, &(visible, hidden)) in shapes.iter().enumerate() {
        let mut init = stream.child(&format!("rbm-init-{level}"));
        let mut rbm = match wiring {
            Wiring::Dense(_) => Rbm::dense(visible, hidden, s.init_scale, &mut init),
            Wiring::Local { side, .. } => {
                let inputs = block_inputs(side >> level, 2);
                Rbm::local(visible, inputs, s.init_scale, &mut init)
            }
        };
        rbm.fit_visible_biases(train.view());
        let start = rbm.pseudo_likelihood(test.view());
        let mut steps = stream.child(&format!("rbm-train-{level}"));
        let (samples, train_seconds) = train_layer(&mut rbm, train.view(), s, &mut steps, clock)?;
        let pseudo_likelihood = rbm.pseudo_likelihood(test.view());
        let mut up = stream.child(&format!("rbm-up-{level}"));
        let next_train = rbm.sample_hidden(train.view(), &mut up);
        let next_test = rbm.sample_hidden(test.view(), &mut up);
        layers.push(rbm);
        let receptive_field = side.filter(|&l| l * l == data.ncols()).map(|l| {
            let fields = super::receptive_fields(&layers);
            let radii: Vec<f64> = fields
                .outer_iter()
                .map(|f| super::spread(&f.to_vec(), l))
                .filter(|r| r.is_finite())
                .collect();
            radii.iter().sum::<f64>() / radii.len().max(1) as f64
        });
        reports.push(LayerReport {
            level,
            visible,
            hidden,
            samples,
            train_seconds,
            pseudo_likelihood_start: start,
            pseudo_likelihood,
            receptive_field,
        });
        (train, test) = (next_train, next_test);
    }
    Ok((Stack { layers }, reports))
}
