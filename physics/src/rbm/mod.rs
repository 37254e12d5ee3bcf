//! Bernoulli restricted Boltzmann machines: the conventional coarse-grainer RSMI is compared
//! with (Mehta & Schwab, arXiv:1410.3831; REFERENCE.md §6).
//!
//! An RBM over binary visible units v ∈ {0,1}ⁿ and hidden units h ∈ {0,1}ᵐ has the energy
//! E(v, h) = −c·v − b·h − hᵀWv. Summing h out gives the free energy
//! F(v) = −c·v − Σ_j softplus(b_j + W_j·v), with P(v) ∝ exp(−F(v)); the hidden units are
//! independent given v, P(h_j = 1 | v) = σ(b_j + W_j·v), and the hidden marginal is the
//! "variational RG Hamiltonian" Mehta and Schwab read the machine as.
//!
//! Two wirings: **dense** (every hidden unit sees every visible one, the Mehta–Schwab stack
//! 1600-400-100-25) and **local** (each hidden unit sees one b×b block of a periodic 2D lattice,
//! a b = 2 map comparable to RSMI's; stacked, level l's units sit on the (L/2ˡ)² lattice).
//!
//! Why by hand and in f32: the dense products are ndarray's (matrixmultiply's sgemm, with
//! run-time AVX2/FMA detection); a local unit reads four inputs, which no matrix library does
//! better than a loop. Sampling needs only one uniform per unit. The measurement against
//! scikit-learn's `BernoulliRBM` is in ARCHITECTURE.md and `bench/rbm_vs_sklearn.sh`.

mod train;

#[cfg(test)]
mod tests;

pub use train::{
    LayerReport, RbmError, RbmSettings, Stack, Wiring, train_layer, train_layer_observed,
    train_stack,
};

use crate::rng::Stream;
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// How a layer's hidden units are connected to its visible ones.
#[derive(Clone, Debug, PartialEq)]
pub enum Connections {
    /// Every hidden unit sees every visible unit: `w` is hidden × visible.
    Dense,
    /// Hidden unit j sees the visible units `inputs[j]` only: `w` is hidden × fan-in, row j
    /// holding the weights of `inputs[j]` in order.
    Local { inputs: Array2<u32> },
}

/// One RBM layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm {
    pub connections: Connections,
    /// Weights: hidden × visible (dense) or hidden × fan-in (local).
    pub w: Array2<f32>,
    /// Hidden biases b.
    pub b: Array1<f32>,
    /// Visible biases c.
    pub c: Array1<f32>,
}

/// The inputs of a b×b block map on a periodic `side`×`side` lattice (row-major sites): one
/// hidden unit per block, blocks in row-major order, each block's sites in row-major order, so
/// that a layer's hidden units form the (side/b)² lattice the next local layer reads.
pub fn block_inputs(side: usize, b: usize) -> Array2<u32> {
    let blocks = side / b;
    let mut inputs = Array2::zeros((blocks * blocks, b * b));
    for by in 0..blocks {
        for bx in 0..blocks {
            let j = by * blocks + bx;
            for dy in 0..b {
                for dx in 0..b {
                    inputs[[j, dy * b + dx]] = ((by * b + dy) * side + bx * b + dx) as u32;
                }
            }
        }
    }
    inputs
}

#[inline]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// ln(1 + eˣ), without overflow.
#[inline]
pub(crate) fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// A Bernoulli draw with probability `p`, from 32 random bits.
#[inline(always)]
pub(crate) fn bernoulli(p: f32, stream: &mut Stream) -> f32 {
    // p·2³² as f32 rounds at the 2⁻²⁴ level: far below any probability training resolves.
    if (stream.next_u32() as f32) < p * 4_294_967_296.0 {
        1.0
    } else {
        0.0
    }
}

impl Rbm {
    /// A dense layer with W ~ N(0, scale²), b = 0, c = 0.
    pub fn dense(visible: usize, hidden: usize, scale: f64, stream: &mut Stream) -> Rbm {
        Rbm {
            connections: Connections::Dense,
            w: Array2::from_shape_simple_fn((hidden, visible), || {
                (scale * crate::rsmi::nn::normal(stream)) as f32
            }),
            b: Array1::zeros(hidden),
            c: Array1::zeros(visible),
        }
    }

    /// A local layer: hidden unit j sees `inputs[j]` of `visible` units.
    pub fn local(visible: usize, inputs: Array2<u32>, scale: f64, stream: &mut Stream) -> Rbm {
        let (hidden, fan_in) = inputs.dim();
        Rbm {
            connections: Connections::Local { inputs },
            w: Array2::from_shape_simple_fn((hidden, fan_in), || {
                (scale * crate::rsmi::nn::normal(stream)) as f32
            }),
            b: Array1::zeros(hidden),
            c: Array1::zeros(visible),
        }
    }

    /// Reorders the hidden units: unit j becomes the old unit `order[j]` (a symmetry of the
    /// machine: every distribution it defines is unchanged up to that relabelling).
    pub fn permute_hidden(&mut self, order: &[usize]) {
        self.w = self.w.select(Axis(0), order);
        self.b = self.b.select(Axis(0), order);
        if let Connections::Local { inputs } = &mut self.connections {
            *inputs = inputs.select(Axis(0), order);
        }
    }

    /// Sets the visible biases to the data's log-odds (Hinton's guide §8), so that training
    /// starts from the right single-site marginals and spends its steps on correlations.
    pub fn fit_visible_biases(&mut self, data: ArrayView2<f32>) {
        let n = data.nrows().max(1) as f32;
        for (c, col) in self.c.iter_mut().zip(data.axis_iter(Axis(1))) {
            let p = (col.sum() / n).clamp(1e-3, 1.0 - 1e-3);
            *c = (p / (1.0 - p)).ln();
        }
    }

    pub fn visible(&self) -> usize {
        self.c.len()
    }

    pub fn hidden(&self) -> usize {
        self.b.len()
    }

    /// b + W·v for every row of `v` (samples × visible).
    pub fn hidden_input(&self, v: ArrayView2<f32>) -> Array2<f32> {
        match &self.connections {
            Connections::Dense => v.dot(&self.w.t()) + &self.b,
            Connections::Local { inputs } => {
                let mut x = Array2::zeros((v.nrows(), self.hidden()));
                for (mut xs, vs) in x.outer_iter_mut().zip(v.outer_iter()) {
                    for (j, x) in xs.iter_mut().enumerate() {
                        let mut s = self.b[j];
                        for (k, &i) in inputs.row(j).iter().enumerate() {
                            s += self.w[[j, k]] * vs[i as usize];
                        }
                        *x = s;
                    }
                }
                x
            }
        }
    }

    /// c + Wᵀ·h for every row of `h` (samples × hidden).
    pub fn visible_input(&self, h: ArrayView2<f32>) -> Array2<f32> {
        match &self.connections {
            Connections::Dense => h.dot(&self.w) + &self.c,
            Connections::Local { inputs } => {
                let mut x = Array2::from_shape_fn((h.nrows(), self.visible()), |(_, i)| self.c[i]);
                for (mut xs, hs) in x.outer_iter_mut().zip(h.outer_iter()) {
                    for (j, &hj) in hs.iter().enumerate() {
                        if hj != 0.0 {
                            for (k, &i) in inputs.row(j).iter().enumerate() {
                                xs[i as usize] += hj * self.w[[j, k]];
                            }
                        }
                    }
                }
                x
            }
        }
    }

    /// P(h_j = 1 | v) for every row of `v`.
    pub fn hidden_probabilities(&self, v: ArrayView2<f32>) -> Array2<f32> {
        let mut x = self.hidden_input(v);
        x.mapv_inplace(sigmoid);
        x
    }

    /// P(h_j = 1 | v) for one configuration of state bytes (v_i = `config[i]`), reading only
    /// unit j's inputs: what the audit of a block-local layer asks per block.
    pub fn unit_probability(&self, config: &[u8], j: usize) -> f32 {
        let mut s = self.b[j];
        match &self.connections {
            Connections::Dense => {
                for (w, &v) in self.w.row(j).iter().zip(config) {
                    s += w * f32::from(v);
                }
            }
            Connections::Local { inputs } => {
                for (w, &i) in self.w.row(j).iter().zip(inputs.row(j)) {
                    s += w * f32::from(config[i as usize]);
                }
            }
        }
        sigmoid(s)
    }

    /// Binary hidden configurations drawn from P(h | v), one per row of `v`: the layer's
    /// coarse-grained configurations, and the next layer's data.
    pub fn sample_hidden(&self, v: ArrayView2<f32>, stream: &mut Stream) -> Array2<f32> {
        let mut p = self.hidden_probabilities(v);
        p.mapv_inplace(|p| bernoulli(p, stream));
        p
    }

    /// F(v) for one configuration (f64 sums, so that differences of free energies are clean).
    pub fn free_energy(&self, v: &[f32]) -> f64 {
        let x = self.hidden_input(ndarray::aview1(v).insert_axis(Axis(0)));
        let field: f64 = v
            .iter()
            .zip(&self.c)
            .map(|(&v, &c)| f64::from(v) * f64::from(c))
            .sum();
        -field - x.iter().map(|&x| softplus(f64::from(x))).sum::<f64>()
    }

    /// The mean over rows of `v` and over visible units of ln P(v_i | v_{−i}) (nats per unit):
    /// the exact pseudo-log-likelihood, every unit flipped in turn (scikit-learn's
    /// `score_samples` flips one random unit per sample and scales by n; this is its mean).
    pub fn pseudo_likelihood(&self, v: ArrayView2<f32>) -> f64 {
        if v.nrows() == 0 || self.visible() == 0 {
            return f64::NAN;
        }
        let x = self.hidden_input(v);
        let mut total = 0.0;
        let mut flipped = vec![0.0f64; self.hidden()];
        // Local layers: which (unit, input slot) pairs read each visible unit.
        let mut seen_by = vec![Vec::new(); self.visible()];
        if let Connections::Local { inputs } = &self.connections {
            for ((j, k), &i) in inputs.indexed_iter() {
                seen_by[i as usize].push((j, k));
            }
        }
        for (vs, xs) in v.outer_iter().zip(x.outer_iter()) {
            let base: f64 = xs.iter().map(|&x| softplus(f64::from(x))).sum();
            for i in 0..self.visible() {
                // Flipping v_i moves F by −c_i·(1 − 2v_i) − Σ_j [softplus(x_j + W_ji (1 − 2v_i))
                // − softplus(x_j)], summed only over the units that see i.
                let sign = 1.0 - 2.0 * f64::from(vs[i]);
                let mut delta = -f64::from(self.c[i]) * sign;
                match &self.connections {
                    Connections::Dense => {
                        let col = self.w.column(i);
                        let mut s = 0.0;
                        for ((f, &x), &w) in flipped.iter_mut().zip(xs).zip(col) {
                            *f = softplus(f64::from(x) + f64::from(w) * sign);
                            s += *f;
                        }
                        delta -= s - base;
                    }
                    Connections::Local { .. } => {
                        for &(j, k) in &seen_by[i] {
                            let x = f64::from(xs[j]);
                            delta -= softplus(x + f64::from(self.w[[j, k]]) * sign) - softplus(x);
                        }
                    }
                }
                // P(v) / (P(v) + P(v')) with F(v') = F(v) + delta.
                total -= softplus(-delta);
            }
        }
        total / (v.nrows() * self.visible()) as f64
    }

    /// The weight of hidden unit `j` on every visible unit (zero where it has no connection).
    pub fn unit_weights(&self, j: usize) -> Vec<f32> {
        match &self.connections {
            Connections::Dense => self.w.row(j).to_vec(),
            Connections::Local { inputs } => {
                let mut out = vec![0.0; self.visible()];
                for (k, &i) in inputs.row(j).iter().enumerate() {
                    out[i as usize] = self.w[[j, k]];
                }
                out
            }
        }
    }
}

/// How far a nonnegative weight map on a periodic `side`×`side` lattice spreads: the radius of
/// gyration about its circular mean (each axis's centre is the angle of Σ w e^{2πix/L}), in
/// lattice spacings. One site gives 0, a 2×2 block √½, weight spread evenly over the whole
/// lattice L·√(1/6) for large L. NaN when the map is all zero.
pub fn spread(weights: &[f64], side: usize) -> f64 {
    let Some((cx, cy)) = centre(weights, side) else {
        return f64::NAN;
    };
    let l = side as f64;
    let wrap = |d: f64| {
        let d = d.rem_euclid(l);
        d.min(l - d)
    };
    let moment: f64 = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let (dx, dy) = (wrap((i % side) as f64 - cx), wrap((i / side) as f64 - cy));
            w * (dx * dx + dy * dy)
        })
        .sum();
    (moment / weights.iter().sum::<f64>()).sqrt()
}

/// The circular mean (x, y) of a nonnegative weight map on a periodic `side`×`side` lattice
/// (row-major sites): each axis's centre is the angle of Σ w e^{2πix/L}, in lattice spacings in
/// [0, L). `None` when the map is all zero.
pub fn centre(weights: &[f64], side: usize) -> Option<(f64, f64)> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 || side == 0 {
        return None;
    }
    let l = side as f64;
    let k = std::f64::consts::TAU / l;
    let axis = |coord: &dyn Fn(usize) -> usize| {
        let (mut s, mut c) = (0.0, 0.0);
        for (i, &w) in weights.iter().enumerate() {
            s += w * (k * coord(i) as f64).sin();
            c += w * (k * coord(i) as f64).cos();
        }
        (s.atan2(c) / k).rem_euclid(l)
    };
    Some((axis(&|i| i % side), axis(&|i| i / side)))
}

/// The receptive fields of the top layer of `layers` (layer 0 reads the lattice): row j is
/// |W_top|·…·|W_1| — how strongly unit j depends on each site through every path — over the
/// visible lattice. Mehta & Schwab visualised the same products of weight matrices.
pub fn receptive_fields(layers: &[Rbm]) -> Array2<f64> {
    let Some(first) = layers.first() else {
        return Array2::zeros((0, 0));
    };
    let abs = |r: &Rbm| -> Array2<f64> {
        let mut m = Array2::zeros((r.hidden(), r.visible()));
        for j in 0..r.hidden() {
            for (i, w) in r.unit_weights(j).into_iter().enumerate() {
                m[[j, i]] = f64::from(w.abs());
            }
        }
        m
    };
    let mut fields = abs(first);
    for layer in &layers[1..] {
        fields = abs(layer).dot(&fields);
    }
    fields
}
