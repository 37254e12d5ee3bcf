//! Small dense networks with hand-derived gradients, and Adam.
//!
//! Why by hand: RSMI's networks are a linear filter and two 3-layer MLPs of width 32. For these
//! a forward and backward pass is a handful of matrix products, which ndarray (matrixmultiply,
//! with run-time AVX/FMA detection) does as fast as a framework would, in f64, sharing arrays with
//! the Monte Carlo code, with no framework build (burn ~11 min, candle ~3 min extra; candle was
//! measured ~5× slower than this approach for networks this small — see ARCHITECTURE.md).
//! Every gradient here is checked against finite differences in the tests below.

use crate::rng::Stream;
use ndarray::{Array1, Array2, ArrayView2, Axis};

/// A standard normal deviate by Box–Muller from the stream (two uniforms, one deviate: the
/// stream's consumption per draw is fixed, which keeps initialisation reproducible).
pub fn normal(stream: &mut Stream) -> f64 {
    let u1 = 1.0 - stream.uniform(); // (0, 1]
    let u2 = stream.uniform();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// y = x·W + b.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub w: Array2<f64>,
    pub b: Array1<f64>,
}

impl Dense {
    /// He initialisation (suited to ReLU): W ~ N(0, 2/inputs), b = 0.
    pub fn new(inputs: usize, outputs: usize, stream: &mut Stream) -> Dense {
        let scale = (2.0 / inputs.max(1) as f64).sqrt();
        Dense {
            w: Array2::from_shape_simple_fn((inputs, outputs), || scale * normal(stream)),
            b: Array1::zeros(outputs),
        }
    }

    fn forward(&self, x: ArrayView2<f64>) -> Array2<f64> {
        x.dot(&self.w) + &self.b
    }
}

/// The nonlinearity between an [`Mlp`]'s layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// ReLU with slope `leak` below zero (0: plain ReLU). Why a leak: a ReLU unit whose input
    /// stays negative passes no gradient and never recovers, and the critic's u net reads only
    /// n_H inputs, so all of its units can die together; then f(h, e) no longer depends on h
    /// and training sits at I = 0 for good (measured on dimers at T = 15: u's output spread
    /// fell to exactly 0 within 200 steps in one seed of two).
    Relu { leak: f64 },
    /// tanh: the saturating unit of Saxe et al.'s information-plane test (ICLR 2018).
    Tanh,
}

impl Activation {
    fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Relu { leak } => activate(x, leak),
            Activation::Tanh => x.tanh(),
        }
    }

    /// The slope at the pre-activation whose activation is `a` (both units' slopes are
    /// functions of their output, so the backward pass needs only the cached activations).
    fn slope_at_output(self, a: f64, g: f64) -> f64 {
        match self {
            Activation::Relu { leak } => {
                if a > 0.0 {
                    g
                } else if leak == 0.0 {
                    0.0
                } else {
                    g * leak
                }
            }
            Activation::Tanh => g * (1.0 - a * a),
        }
    }
}

/// A multilayer perceptron: dense layers with an [`Activation`] between them, linear output.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp {
    pub layers: Vec<Dense>,
    pub activation: Activation,
}

/// What the backward pass needs: each layer's input.
pub struct MlpCache {
    inputs: Vec<Array2<f64>>,
}

impl MlpCache {
    /// The network's input, back from the cache.
    pub fn into_input(self) -> Array2<f64> {
        self.inputs
            .into_iter()
            .next()
            .unwrap_or_else(|| Array2::zeros((0, 0)))
    }
}

/// Gradients of a loss with respect to an [`Mlp`]'s parameters, shaped like them.
#[derive(Clone, Debug)]
pub struct MlpGrads {
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// `sizes = [inputs, hidden…, outputs]`.
    pub fn new(sizes: &[usize], stream: &mut Stream) -> Mlp {
        Mlp {
            layers: sizes
                .windows(2)
                .map(|w| Dense::new(w[0], w[1], stream))
                .collect(),
            activation: Activation::Relu { leak: 0.0 },
        }
    }

    /// The same network with activation slope `leak` below zero.
    pub fn with_leak(self, leak: f64) -> Mlp {
        self.with_activation(Activation::Relu { leak })
    }

    pub fn with_activation(self, activation: Activation) -> Mlp {
        Mlp { activation, ..self }
    }

    pub fn zero_grads(&self) -> MlpGrads {
        MlpGrads {
            layers: self
                .layers
                .iter()
                .map(|l| Dense {
                    w: Array2::zeros(l.w.raw_dim()),
                    b: Array1::zeros(l.b.raw_dim()),
                })
                .collect(),
        }
    }

    /// Output only (evaluation).
    pub fn infer(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut a = self.layers[0].forward(x);
        for l in &self.layers[1..] {
            let act = self.activation;
            a.mapv_inplace(|x| act.apply(x));
            a = l.forward(a.view());
        }
        a
    }

    /// Output and the cache for [`Mlp::backward`]. Takes the input by value: the cache keeps
    /// it, and a copy of a batch of environments is hundreds of kilobytes per step
    /// ([`MlpCache::into_input`] hands the buffer back for reuse).
    pub fn forward(&self, x: Array2<f64>) -> (Array2<f64>, MlpCache) {
        let (out, inputs) = self.forward_layers(0, x);
        (out, MlpCache { inputs })
    }

    /// Writes the parameter gradients of a loss whose gradient with respect to the output is
    /// `grad_out` into `grads` (overwriting), and returns the gradient with respect to the input
    /// if `want_input`.
    pub fn backward(
        &self,
        cache: &MlpCache,
        grad_out: Array2<f64>,
        grads: &mut MlpGrads,
        want_input: bool,
    ) -> Option<Array2<f64>> {
        self.backward_layers(&cache.inputs, 0, grad_out, grads, want_input)
    }

    /// Backward through layers `first..`, whose inputs are `inputs` (in layer order).
    fn backward_layers(
        &self,
        inputs: &[Array2<f64>],
        first: usize,
        mut grad_out: Array2<f64>,
        grads: &mut MlpGrads,
        want_input: bool,
    ) -> Option<Array2<f64>> {
        for k in (first..self.layers.len()).rev() {
            let input = &inputs[k - first];
            let g = &mut grads.layers[k];
            g.w = input.t().dot(&grad_out);
            if !g.w.is_standard_layout() {
                // A one-column gradient is also column-major, and then so is the product: the
                // optimiser pairs parameters and gradients element by element in row-major order.
                g.w = g.w.as_standard_layout().into_owned();
            }
            g.b = grad_out.sum_axis(Axis(0));
            if k == first && !want_input {
                return None;
            }
            let mut grad_in = grad_out.dot(&self.layers[k].w.t());
            if k > 0 {
                // The input of layer k is the activation of layer k−1's output.
                let act = self.activation;
                ndarray::Zip::from(&mut grad_in)
                    .and(input)
                    .for_each(|g, &a| *g = act.slope_at_output(a, *g));
            }
            grad_out = grad_in;
        }
        Some(grad_out)
    }

    /// Forward through layers `first..` from `a` (the input of layer `first`), keeping each
    /// layer's input.
    fn forward_layers(&self, first: usize, mut a: Array2<f64>) -> (Array2<f64>, Vec<Array2<f64>>) {
        let mut inputs = Vec::with_capacity(self.layers.len() - first);
        for k in first..self.layers.len() {
            let mut z = self.layers[k].forward(a.view());
            if k + 1 < self.layers.len() {
                let act = self.activation;
                z.mapv_inplace(|x| act.apply(x));
            }
            inputs.push(a);
            a = z;
        }
        (a, inputs)
    }

    /// Parameters as flat slices, in a fixed order (for the optimiser).
    pub fn params_mut(&mut self) -> Vec<&mut [f64]> {
        let mut out = Vec::new();
        for l in &mut self.layers {
            out.push(l.w.as_slice_mut().expect("owned arrays are contiguous"));
            out.push(l.b.as_slice_mut().expect("owned arrays are contiguous"));
        }
        out
    }
}

impl MlpGrads {
    pub fn slices(&self) -> Vec<&[f64]> {
        let mut out = Vec::new();
        for l in &self.layers {
            out.push(l.w.as_slice().expect("owned arrays are contiguous"));
            out.push(l.b.as_slice().expect("owned arrays are contiguous"));
        }
        out
    }
}

/// An [`Mlp`] whose first layer reads single-precision inputs and multiplies in single
/// precision; everything after it, the gradients' accumulation and the optimiser stay f64.
///
/// Why: the environment network's first layer is RSMI's whole cost (the PRE geometry feeds 720
/// environment inputs per pair into it, forward and for the weight gradient), and f32 halves
/// both the bytes gathered per batch and the cost of each product (twice the SIMD lanes).
/// Environment inputs are ±1 or 0/1 spins, exact in f32; the weights are rounded to f32 from
/// the f64 master copy after every step ([`Mlp32::sync`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp32 {
    /// The master parameters (what the optimiser updates).
    pub net: Mlp,
    w32: Array2<f32>,
}

/// What [`Mlp32::backward`] needs: the f32 input and each later layer's input.
pub struct Mlp32Cache {
    input: Array2<f32>,
    inputs: Vec<Array2<f64>>,
}

impl Mlp32Cache {
    /// The network's input, back from the cache (for reuse as the next batch's buffer).
    pub fn into_input(self) -> Array2<f32> {
        self.input
    }
}

impl Mlp32 {
    pub fn new(net: Mlp) -> Mlp32 {
        let w32 = net.layers[0].w.mapv(|w| w as f32);
        Mlp32 { net, w32 }
    }

    /// Refreshes the f32 weights after the master parameters changed.
    pub fn sync(&mut self) {
        let master = &self.net.layers[0].w;
        ndarray::Zip::from(&mut self.w32)
            .and(master)
            .for_each(|w32, &w| *w32 = w as f32);
    }

    /// The first layer's output, activated if more layers follow.
    fn first(&self, x: ArrayView2<f32>) -> Array2<f64> {
        let z = x.dot(&self.w32);
        let b = &self.net.layers[0].b;
        let more = self.net.layers.len() > 1;
        let act = self.net.activation;
        let mut out = Array2::zeros(z.raw_dim());
        ndarray::Zip::from(out.rows_mut())
            .and(z.rows())
            .for_each(|mut o, z| {
                for ((o, &z), &b) in o.iter_mut().zip(z).zip(b) {
                    let a = f64::from(z) + b;
                    *o = if more { act.apply(a) } else { a };
                }
            });
        out
    }

    pub fn infer(&self, x: ArrayView2<f32>) -> Array2<f64> {
        let (out, _) = self.net.forward_layers(1, self.first(x));
        out
    }

    pub fn forward(&self, x: Array2<f32>) -> (Array2<f64>, Mlp32Cache) {
        let (out, inputs) = self.net.forward_layers(1, self.first(x.view()));
        (out, Mlp32Cache { input: x, inputs })
    }

    /// Parameter gradients (into `grads`, shaped like [`Mlp32::net`]); the input gradient is
    /// never needed (the environment is data).
    pub fn backward(&self, cache: &Mlp32Cache, grad_out: Array2<f64>, grads: &mut MlpGrads) {
        let delta = self
            .net
            .backward_layers(&cache.inputs, 1, grad_out, grads, true)
            .unwrap_or_else(|| Array2::zeros((0, 0)));
        let g = &mut grads.layers[0];
        g.w = cache
            .input
            .t()
            .dot(&delta.mapv(|d| d as f32))
            .mapv(f64::from);
        g.b = delta.sum_axis(Axis(0));
    }
}

/// ReLU with slope `leak` below zero.
/// (Plain ReLU's zeros are kept exact, +0.0, so that a leak of 0 reproduces it bit for bit.)
fn activate(x: f64, leak: f64) -> f64 {
    if x > 0.0 {
        x
    } else if leak == 0.0 {
        0.0
    } else {
        leak * x
    }
}

/// Adam (Kingma & Ba 2015) over a fixed list of parameter tensors.
#[derive(Clone, Debug)]
pub struct Adam {
    pub lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    t: i32,
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
}

impl Adam {
    pub fn new(lr: f64) -> Adam {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// One descent step on `params` along the loss gradients `grads` (same order and shapes on
    /// every call).
    pub fn step(&mut self, params: &mut [&mut [f64]], grads: &[&[f64]]) {
        if self.m.is_empty() {
            self.m = grads.iter().map(|g| vec![0.0; g.len()]).collect();
            self.v = self.m.clone();
        }
        self.t = self.t.saturating_add(1);
        let c1 = 1.0 - self.beta1.powi(self.t);
        let c2 = 1.0 - self.beta2.powi(self.t);
        let step = self.lr * c2.sqrt() / c1;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        for ((p, g), (m, v)) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            // Zipped slices: no bounds checks, so the loop vectorises (this is as much work per
            // step as the matrix products for the PRE geometry's 23,000 critic weights).
            for (((p, &g), m), v) in p
                .iter_mut()
                .zip(g.iter())
                .zip(m.iter_mut())
                .zip(v.iter_mut())
            {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= step * *m / (v.sqrt() + eps);
            }
        }
    }

    /// Forgets the moments of the elements of parameter `param` that `which` selects, so that
    /// a parameter whose gradient is from now on zero stays where it is (a stale first moment
    /// would keep moving it).
    pub fn forget(&mut self, param: usize, which: impl Fn(usize) -> bool) {
        for (moments, i) in [&mut self.m, &mut self.v]
            .into_iter()
            .filter_map(|ms| ms.get_mut(param))
            .flat_map(|m| m.iter_mut().enumerate().map(|(i, x)| (x, i)))
        {
            if which(i) {
                *moments = 0.0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(rows: usize, cols: usize, s: &mut Stream) -> Array2<f64> {
        Array2::from_shape_simple_fn((rows, cols), || normal(s))
    }

    /// loss = Σ out ⊙ R for a fixed random R, so ∂loss/∂out = R.
    fn loss(net: &Mlp, x: &Array2<f64>, r: &Array2<f64>) -> f64 {
        (net.infer(x.view()) * r).sum()
    }

    #[test]
    fn mlp_gradients_match_finite_differences() {
        check_gradients(Activation::Relu { leak: 0.0 });
    }

    #[test]
    fn leaky_mlp_gradients_match_finite_differences() {
        check_gradients(Activation::Relu { leak: 0.1 });
    }

    #[test]
    fn tanh_mlp_gradients_match_finite_differences() {
        check_gradients(Activation::Tanh);
    }

    fn check_gradients(activation: Activation) {
        let mut s = Stream::derive(1, "nn-test");
        let mut net = Mlp::new(&[5, 7, 6, 3], &mut s).with_activation(activation);
        // Non-zero biases so every code path (and ReLU kinks away from 0) is exercised.
        for l in &mut net.layers {
            l.b.mapv_inplace(|_| 0.3 * normal(&mut s));
        }
        let x = random(4, 5, &mut s);
        let r = random(4, 3, &mut s);
        let (out, cache) = net.forward(x.clone());
        assert!(
            (&out - &net.infer(x.view()))
                .iter()
                .all(|d| d.abs() < 1e-12)
        );
        let mut grads = net.zero_grads();
        let gx = net
            .backward(&cache, r.clone(), &mut grads, true)
            .expect("input grad");
        let h = 1e-6;
        for k in 0..net.layers.len() {
            for idx in 0..net.layers[k].w.len() {
                let (i, j) = (idx / net.layers[k].w.ncols(), idx % net.layers[k].w.ncols());
                let mut p = net.clone();
                p.layers[k].w[[i, j]] += h;
                let mut m = net.clone();
                m.layers[k].w[[i, j]] -= h;
                let fd = (loss(&p, &x, &r) - loss(&m, &x, &r)) / (2.0 * h);
                let an = grads.layers[k].w[[i, j]];
                assert!(
                    (fd - an).abs() < 1e-6 * (1.0 + an.abs()),
                    "w{k}[{i},{j}]: {fd} vs {an}"
                );
            }
            for j in 0..net.layers[k].b.len() {
                let mut p = net.clone();
                p.layers[k].b[j] += h;
                let mut m = net.clone();
                m.layers[k].b[j] -= h;
                let fd = (loss(&p, &x, &r) - loss(&m, &x, &r)) / (2.0 * h);
                let an = grads.layers[k].b[j];
                assert!(
                    (fd - an).abs() < 1e-6 * (1.0 + an.abs()),
                    "b{k}[{j}]: {fd} vs {an}"
                );
            }
        }
        for i in 0..x.nrows() {
            for j in 0..x.ncols() {
                let mut xp = x.clone();
                xp[[i, j]] += h;
                let mut xm = x.clone();
                xm[[i, j]] -= h;
                let fd = (loss(&net, &xp, &r) - loss(&net, &xm, &r)) / (2.0 * h);
                assert!(
                    (fd - gx[[i, j]]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "x[{i},{j}]"
                );
            }
        }
    }

    #[test]
    fn single_precision_first_layer_agrees_with_the_checked_f64_network() {
        // Mlp's gradients are checked against finite differences above; Mlp32 must give the
        // same outputs and gradients to f32 rounding, with ±1 inputs (exact in f32), for every
        // depth (one layer: no ReLU after the f32 product).
        let mut s = Stream::derive(2, "nn32-test");
        for (sizes, leak) in [
            (&[40, 3][..], 0.0),
            (&[40, 7, 3], 0.0),
            (&[40, 7, 6, 3], 0.0),
            (&[40, 7, 6, 3], 0.1),
        ] {
            let mut net = Mlp::new(sizes, &mut s).with_leak(leak);
            for l in &mut net.layers {
                l.b.mapv_inplace(|_| 0.3 * normal(&mut s));
            }
            let x = random(6, 40, &mut s).mapv(|v| if v < 0.0 { -1.0 } else { 1.0 });
            let r = random(6, 3, &mut s);
            let (out, cache) = net.forward(x.clone());
            let mut grads = net.zero_grads();
            net.backward(&cache, r.clone(), &mut grads, false);
            let n32 = Mlp32::new(net.clone());
            let (out32, cache32) = n32.forward(x.mapv(|v| v as f32));
            let mut grads32 = net.zero_grads();
            n32.backward(&cache32, r.clone(), &mut grads32);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * (1.0 + a.abs());
            assert!(out.iter().zip(&out32).all(|(a, b)| close(*a, *b)));
            assert!(out32 == n32.infer(x.mapv(|v| v as f32).view()));
            for (g, g32) in grads.layers.iter().zip(&grads32.layers) {
                assert!(
                    g.w.iter().zip(&g32.w).all(|(a, b)| close(*a, *b)),
                    "{sizes:?}"
                );
                assert!(
                    g.b.iter().zip(&g32.b).all(|(a, b)| close(*a, *b)),
                    "{sizes:?}"
                );
            }
        }
    }

    #[test]
    fn adam_minimises_a_quadratic() {
        // f(p) = Σ (p − c)², from 0: Adam reaches c.
        let c = [1.5, -2.0, 0.25];
        let mut p = vec![0.0; 3];
        let mut adam = Adam::new(0.05);
        for _ in 0..2_000 {
            let g: Vec<f64> = p.iter().zip(&c).map(|(x, c)| 2.0 * (x - c)).collect();
            adam.step(&mut [&mut p[..]], &[&g[..]]);
        }
        for (x, c) in p.iter().zip(&c) {
            assert!((x - c).abs() < 1e-3, "{p:?}");
        }
    }

    #[test]
    fn normal_deviates_have_unit_variance() {
        let mut s = Stream::derive(2, "normal");
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| normal(&mut s)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard errors: 1/√n for the mean, √(2/n) for the variance.
        assert!(mean.abs() < 4.0 / (n as f64).sqrt(), "{mean}");
        assert!((var - 1.0).abs() < 4.0 * (2.0 / n as f64).sqrt(), "{var}");
    }
}
