//! A convolutional autoencoder with stride-2 layers: the second conventional coarse-grainer of
//! issue 15, trained by its usual loss (reconstruction), not by any information measure.
//!
//! One layer halves a 2D Ising lattice of linear size L:
//! - **encoder**: a 2×2 convolution with stride 2 — one code per 2×2 block, the same weights for
//!   every block — through `hidden` channels and a nonlinearity to one sigmoid code
//!   c = σ(z) ∈ (0, 1) per block;
//! - **decoder**: a sub-pixel convolution (Shi et al., CVPR 2016, the usual equivalent of a
//!   stride-2 transposed convolution): each block's four spins are predicted from the codes of
//!   the 3×3 coarse neighbourhood around it, through `hidden` channels;
//! - **loss**: the mean binary cross-entropy of the reconstruction, per site, in nats.
//!
//! A convolution whose kernel equals its stride reads disjoint patches, so it is one small MLP
//! applied to every block (im2col is a reshape); the decoder's 3×3 patches overlap, and their
//! gradients are summed back onto the codes. Both networks are [`crate::rsmi::nn`]'s MLPs, whose
//! gradients are checked against finite differences; so is the whole loss's, below.
//!
//! The code is continuous while training; as a coarse-grainer the layer draws one binary
//! coarse spin per block, up with probability c. Because the encoder reads the block alone,
//! P(up | block) is a table over the block's 16 states ([`Autoencoder::table`]), which is all
//! the audit and the next level need.
//!
//! The nonlinearity is tanh or ReLU: Saxe et al. (ICLR 2018) attribute the "compression
//! phase" of Shwartz-Ziv & Tishby's information plane to saturating units; the stochastic binary
//! code makes I(V : H) exact here, with no binning to argue about.
//!
//! *Invariant: initialisation and shuffling come from the caller's stream in a fixed order.*

use crate::rng::Stream;
use crate::rsmi::nn::{Activation, Adam, Mlp, MlpGrads};
use ndarray::Array2;

/// Sites of a 2×2 block, in the audit's order (x fastest from the corner).
const BLOCK: usize = 4;
/// Codes a block's decoder reads: its own and its eight coarse neighbours'.
const CONTEXT: usize = 9;

/// How a layer is trained.
#[derive(Clone, Debug, PartialEq)]
pub struct AeSettings {
    /// Channels of the encoder's and the decoder's hidden layer.
    pub hidden: usize,
    pub activation: Activation,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Blocks per step, rounded up to whole configurations (the decoder needs each block's
    /// neighbours).
    pub batch: usize,
    pub epochs: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AeError {
    #[error("the autoencoder halves an even 2D lattice of side ≥ 4, not L = {0}")]
    Size(usize),
    #[error("no configurations to train on")]
    Empty,
    #[error("a configuration has {got} sites, expected {expected}")]
    Shape { got: usize, expected: usize },
}

/// One trained (or training) layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Autoencoder {
    /// Block spins (±1, [`BLOCK`] inputs) → hidden → the code's logit z.
    pub encoder: Mlp,
    /// The 3×3 codes as 2c − 1 ([`CONTEXT`] inputs) → hidden → the block's four logits.
    pub decoder: Mlp,
}

/// Where each block of a lattice of `size` reads: its sites, and its decoder's coarse
/// neighbourhood.
struct Layout {
    sites: Vec<[usize; BLOCK]>,
    context: Vec<[usize; CONTEXT]>,
}

impl Layout {
    fn new(size: usize) -> Result<Layout, AeError> {
        if size < 4 || !size.is_multiple_of(2) {
            return Err(AeError::Size(size));
        }
        let half = size / 2;
        let mut sites = Vec::with_capacity(half * half);
        let mut context = Vec::with_capacity(half * half);
        for cy in 0..half {
            for cx in 0..half {
                let (x, y) = (2 * cx, 2 * cy);
                sites.push([
                    y * size + x,
                    y * size + x + 1,
                    (y + 1) * size + x,
                    (y + 1) * size + x + 1,
                ]);
                let mut c = [0; CONTEXT];
                for (k, slot) in c.iter_mut().enumerate() {
                    let nx = (cx + half + k % 3 - 1) % half;
                    let ny = (cy + half + k / 3 - 1) % half;
                    *slot = ny * half + nx;
                }
                context.push(c);
            }
        }
        Ok(Layout { sites, context })
    }

    fn blocks(&self) -> usize {
        self.sites.len()
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// ln(1 + eˣ) without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn spin(state: u8) -> f64 {
    1.0 - 2.0 * f64::from(state)
}

impl Autoencoder {
    pub fn new(settings: &AeSettings, stream: &mut Stream) -> Autoencoder {
        let h = settings.hidden;
        let mut encoder = Mlp::new(&[BLOCK, h, 1], stream).with_activation(settings.activation);
        let mut decoder =
            Mlp::new(&[CONTEXT, h, BLOCK], stream).with_activation(settings.activation);
        if settings.activation == Activation::Tanh {
            // He's variance 2/n suits ReLU; tanh's is 1/n (Glorot), or it starts saturated.
            for l in encoder.layers.iter_mut().chain(decoder.layers.iter_mut()) {
                l.w.mapv_inplace(|w| w * std::f64::consts::FRAC_1_SQRT_2);
            }
        }
        Autoencoder { encoder, decoder }
    }

    /// The code c = P(code on | block) for each of the 16 block states; state index bit k is
    /// block site k's state byte (1: down), sites in the audit's order.
    pub fn table(&self) -> Vec<f64> {
        let x = Array2::from_shape_fn((1 << BLOCK, BLOCK), |(s, k)| spin(((s >> k) & 1) as u8));
        self.encoder
            .infer(x.view())
            .iter()
            .map(|&z| sigmoid(z))
            .collect()
    }

    /// Mean reconstruction cross-entropy per site, in nats, of `configs` on a lattice of `size`.
    pub fn loss(&self, size: usize, configs: &[&[u8]]) -> Result<f64, AeError> {
        let layout = Layout::new(size)?;
        check(&layout, size, configs)?;
        Ok(self.pass(&layout, configs, None))
    }

    /// The loss and, with `grads`, its gradients (encoder's, decoder's).
    fn pass(
        &self,
        layout: &Layout,
        configs: &[&[u8]],
        grads: Option<&mut (MlpGrads, MlpGrads)>,
    ) -> f64 {
        let blocks = layout.blocks();
        let rows = configs.len() * blocks;
        let mut x = Array2::zeros((rows, BLOCK));
        let mut target = Array2::zeros((rows, BLOCK));
        for (c, config) in configs.iter().enumerate() {
            for (j, sites) in layout.sites.iter().enumerate() {
                for (k, &i) in sites.iter().enumerate() {
                    x[[c * blocks + j, k]] = spin(config[i]);
                    target[[c * blocks + j, k]] = f64::from(u8::from(config[i] == 0));
                }
            }
        }
        let (z, enc_cache) = self.encoder.forward(x);
        let code: Vec<f64> = z.iter().map(|&z| sigmoid(z)).collect();
        let mut input = Array2::zeros((rows, CONTEXT));
        for c in 0..configs.len() {
            for (j, around) in layout.context.iter().enumerate() {
                for (k, &n) in around.iter().enumerate() {
                    input[[c * blocks + j, k]] = 2.0 * code[c * blocks + n] - 1.0;
                }
            }
        }
        let (logits, dec_cache) = self.decoder.forward(input);
        let scale = 1.0 / (rows * BLOCK).max(1) as f64;
        let loss = ndarray::Zip::from(&logits)
            .and(&target)
            .fold(0.0, |acc, &l, &t| acc + softplus(l) - t * l)
            * scale;
        let Some((enc, dec)) = grads else {
            return loss;
        };
        let mut grad = logits;
        ndarray::Zip::from(&mut grad)
            .and(&target)
            .for_each(|g, &t| *g = (sigmoid(*g) - t) * scale);
        let grad_input = self
            .decoder
            .backward(&dec_cache, grad, dec, true)
            .unwrap_or_else(|| Array2::zeros((rows, CONTEXT)));
        // Each code feeds nine decoders: its gradient is their sum, through 2σ(z) − 1.
        let mut grad_z = Array2::zeros((rows, 1));
        for c in 0..configs.len() {
            for (j, around) in layout.context.iter().enumerate() {
                for (k, &n) in around.iter().enumerate() {
                    grad_z[[c * blocks + n, 0]] += grad_input[[c * blocks + j, k]];
                }
            }
        }
        for (g, &c) in grad_z.iter_mut().zip(&code) {
            *g *= 2.0 * c * (1.0 - c);
        }
        self.encoder.backward(&enc_cache, grad_z, enc, false);
        loss
    }
}

fn check(layout: &Layout, size: usize, configs: &[&[u8]]) -> Result<(), AeError> {
    if configs.is_empty() {
        return Err(AeError::Empty);
    }
    let expected = size * size;
    match configs.iter().find(|c| c.len() != expected) {
        Some(c) => Err(AeError::Shape {
            got: c.len(),
            expected,
        }),
        None if layout.blocks() == 0 => Err(AeError::Size(size)),
        None => Ok(()),
    }
}

/// Fisher–Yates with the stream (fixed consumption per configuration).
fn shuffle(order: &mut [usize], stream: &mut Stream) {
    for i in (1..order.len()).rev() {
        let j = stream.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
}

/// Trains a layer on `configs` (state bytes of a lattice of `size`) by Adam on the
/// reconstruction loss, a fresh shuffle of the configurations per epoch; `observe(epoch, layer)`
/// sees the layer after every epoch (the information plane over training) without touching it
/// or the stream.
pub fn train_observed(
    settings: &AeSettings,
    size: usize,
    configs: &[&[u8]],
    stream: &mut Stream,
    observe: &mut dyn FnMut(usize, &Autoencoder),
) -> Result<Autoencoder, AeError> {
    let layout = Layout::new(size)?;
    check(&layout, size, configs)?;
    let mut ae = Autoencoder::new(settings, &mut stream.child("init"));
    let mut shuffling = stream.child("shuffle");
    let per_step = settings
        .batch
        .div_ceil(layout.blocks())
        .clamp(1, configs.len());
    let mut adam = Adam::new(settings.learning_rate);
    let mut grads = (ae.encoder.zero_grads(), ae.decoder.zero_grads());
    let mut order: Vec<usize> = (0..configs.len()).collect();
    let mut batch: Vec<&[u8]> = Vec::with_capacity(per_step);
    for epoch in 1..=settings.epochs {
        shuffle(&mut order, &mut shuffling);
        for chunk in order.chunks(per_step) {
            batch.clear();
            batch.extend(chunk.iter().map(|&k| configs[k]));
            ae.pass(&layout, &batch, Some(&mut grads));
            let (enc, dec) = (&mut ae.encoder, &mut ae.decoder);
            let mut params = enc.params_mut();
            params.extend(dec.params_mut());
            let mut slices = grads.0.slices();
            slices.extend(grads.1.slices());
            adam.step(&mut params, &slices);
        }
        observe(epoch, &ae);
    }
    Ok(ae)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(activation: Activation) -> AeSettings {
        AeSettings {
            hidden: 5,
            activation,
            learning_rate: 0.01,
            batch: 64,
            epochs: 30,
        }
    }

    fn random_configs(n: usize, size: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut s = Stream::derive(seed, "ae-test");
        (0..n)
            .map(|_| {
                (0..size * size)
                    .map(|_| u8::from(s.uniform() < 0.5))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn loss_gradients_match_finite_differences() {
        for activation in [Activation::Tanh, Activation::Relu { leak: 0.0 }] {
            let mut s = Stream::derive(3, "ae-grad");
            let mut ae = Autoencoder::new(&settings(activation), &mut s);
            for l in ae
                .encoder
                .layers
                .iter_mut()
                .chain(ae.decoder.layers.iter_mut())
            {
                l.b.mapv_inplace(|_| 0.3 * crate::rsmi::nn::normal(&mut s));
            }
            let configs = random_configs(3, 8, 4);
            let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
            let layout = Layout::new(8).expect("fits");
            let mut grads = (ae.encoder.zero_grads(), ae.decoder.zero_grads());
            ae.pass(&layout, &refs, Some(&mut grads));
            let h = 1e-6;
            for net in 0..2 {
                for k in 0..2 {
                    let n = if net == 0 { &ae.encoder } else { &ae.decoder }.layers[k]
                        .w
                        .len();
                    for idx in 0..n {
                        let shifted = |d: f64| {
                            let mut p = ae.clone();
                            let w = &mut if net == 0 {
                                &mut p.encoder
                            } else {
                                &mut p.decoder
                            }
                            .layers[k]
                                .w;
                            let cols = w.ncols();
                            w[[idx / cols, idx % cols]] += d;
                            p.pass(&layout, &refs, None)
                        };
                        let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
                        let g = if net == 0 { &grads.0 } else { &grads.1 };
                        let an = g.layers[k].w.as_slice().expect("contiguous")[idx];
                        assert!(
                            (fd - an).abs() < 1e-7 * (1.0 + an.abs()),
                            "{activation:?} net {net} layer {k} w[{idx}]: {fd} vs {an}"
                        );
                    }
                }
            }
        }
    }

    /// Configurations of aligned 2×2 blocks: each block all up or all down, independently. A
    /// one-bit code per block reconstructs them exactly, so training must drive the loss from
    /// ln 2 towards 0, and the code must tell an all-up block from an all-down one.
    fn blocky(n: usize, size: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut s = Stream::derive(seed, "ae-blocky");
        let layout = Layout::new(size).expect("fits");
        (0..n)
            .map(|_| {
                let mut c = vec![0u8; size * size];
                for sites in &layout.sites {
                    let down = u8::from(s.uniform() < 0.5);
                    sites.iter().for_each(|&i| c[i] = down);
                }
                c
            })
            .collect()
    }

    #[test]
    fn training_learns_a_one_bit_code_of_uniform_blocks() {
        let configs = blocky(60, 8, 5);
        let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
        for activation in [Activation::Tanh, Activation::Relu { leak: 0.0 }] {
            let mut losses = Vec::new();
            let ae = train_observed(
                &settings(activation),
                8,
                &refs,
                &mut Stream::derive(6, "ae-train"),
                &mut |_, ae| losses.push(ae.loss(8, &refs).expect("measures")),
            )
            .expect("trains");
            assert_eq!(losses.len(), 30);
            let ln2 = std::f64::consts::LN_2;
            let last = *losses.last().expect("epochs");
            assert!(last < 0.1 * ln2, "{activation:?}: {losses:?}");
            let t = ae.table();
            assert!((t[0] - t[15]).abs() > 0.8, "{activation:?}: {t:?}");
        }
    }

    #[test]
    fn training_is_reproducible_and_refuses_bad_input() {
        let configs = random_configs(10, 8, 7);
        let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
        let run = || {
            train_observed(
                &AeSettings {
                    epochs: 3,
                    ..settings(Activation::Tanh)
                },
                8,
                &refs,
                &mut Stream::derive(8, "ae"),
                &mut |_, _| {},
            )
            .expect("trains")
        };
        assert_eq!(run(), run());
        let s = settings(Activation::Tanh);
        let mut st = Stream::derive(1, "x");
        assert_eq!(
            train_observed(&s, 6, &refs, &mut st, &mut |_, _| {}).err(),
            Some(AeError::Shape {
                got: 64,
                expected: 36
            })
        );
        assert_eq!(
            train_observed(&s, 7, &refs, &mut st, &mut |_, _| {}).err(),
            Some(AeError::Size(7))
        );
        assert_eq!(
            train_observed(&s, 8, &[], &mut st, &mut |_, _| {}).err(),
            Some(AeError::Empty)
        );
    }
}
