//! The spreading network: n layers, each a 3×3 convolution of the previous hot-spot image
//! gated by the maze, and a readout at the centre.
//!
//! Layer t maps H_t to H_{t+1} = M ⊙ σ(K_t ∗ H_t + b_t) (zero padding, M the maze's open
//! cells, σ the logistic function); H_0 is the one-hot image of the hot spot and the output
//! is the logit z = w·H_n(centre) + c, so P(label) = σ(z). Every layer has its own 9 weights
//! and bias: a deep network of 10n + 2 parameters, not a recurrent one.
//!
//! Images are kept with a one-cell frame of zeros, (L + 2)², so the 3×3 taps need no bounds
//! tests: the frame is the zero padding, and since the gate is 0 there it stays 0. Forward
//! and backward are hand-written on slices (ARCHITECTURE.md records the measurement against
//! ndarray's array operations behind that choice: `rgsweep bench mazes`).

use super::Maze;

/// Parameters per layer: 9 kernel weights (row-major, top-left first) and a bias.
pub const PER_LAYER: usize = 10;

/// The logistic function, written so that neither branch overflows.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// ln(1 + e^z) without overflow: the cross-entropy of a logit.
fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The network's parameters, flat: layer t at `10t .. 10t + 10` (kernel then bias), the
/// readout (w, c) last.
#[derive(Clone, Debug, PartialEq)]
pub struct Net {
    pub layers: usize,
    pub theta: Vec<f64>,
}

/// A maze laid out for the network: the gate and the hot spot in framed coordinates.
pub struct Framed {
    pub size: usize,
    pub gate: Vec<f64>,
    pub start: usize,
    pub centre: usize,
}

impl Framed {
    pub fn new(maze: &Maze) -> Framed {
        let (l, w) = (maze.size, maze.size + 2);
        let mut gate = vec![0.0; w * w];
        for y in 0..l {
            for x in 0..l {
                if maze.open[y * l + x] {
                    gate[(y + 1) * w + x + 1] = 1.0;
                }
            }
        }
        let at = |i: usize| (i / l + 1) * w + i % l + 1;
        Framed {
            size: l,
            gate,
            start: at(maze.start),
            centre: at(Maze::centre(l)),
        }
    }
}

/// The activations of one forward pass, H_0 … H_n, framed.
#[derive(Default)]
pub struct Pass {
    pub images: Vec<Vec<f64>>,
    pub logit: f64,
}

/// Buffers a training loop reuses from maze to maze (every maze of a run has one size): the
/// images of the forward pass and the backward pass's two gradients. Reusing them keeps a
/// step free of allocation — at L = 128 a fresh image per layer is above the allocator's mmap
/// threshold, and every layer then paid page faults.
#[derive(Default)]
pub struct Scratch {
    pass: Pass,
    g: Vec<f64>,
    d: Vec<f64>,
}

impl Net {
    /// Weights drawn N(0, scale²), biases 0, readout (1, 0).
    pub fn random(layers: usize, scale: f64, stream: &mut crate::rng::Stream) -> Net {
        let mut theta = vec![0.0; PER_LAYER * layers + 2];
        for t in 0..layers {
            for k in 0..9 {
                theta[PER_LAYER * t + k] = scale * crate::rsmi::nn::normal(stream);
            }
        }
        theta[PER_LAYER * layers] = 1.0;
        Net { layers, theta }
    }

    /// Breadth-first search as a network (see [`super::HandSet`]): every layer the plus-shaped
    /// kernel times `gain` and bias −gain/2, so a cell turns hot when it is open and it or a
    /// neighbour was hot; the readout gain·(h − ½).
    pub fn hand_set(layers: usize, gain: f64) -> Net {
        let mut theta = vec![0.0; PER_LAYER * layers + 2];
        for t in 0..layers {
            for (k, w) in super::HandSet::KERNEL.iter().enumerate() {
                theta[PER_LAYER * t + k] = gain * w;
            }
            theta[PER_LAYER * t + 9] = gain * super::HandSet::BIAS;
        }
        theta[PER_LAYER * layers] = gain;
        theta[PER_LAYER * layers + 1] = -gain / 2.0;
        Net { layers, theta }
    }

    fn readout(&self) -> (f64, f64) {
        let r = PER_LAYER * self.layers;
        (self.theta[r], self.theta[r + 1])
    }

    /// H_0 … H_n and the logit.
    pub fn forward(&self, maze: &Framed) -> Pass {
        let mut pass = Pass::default();
        self.forward_into(maze, &mut pass);
        pass
    }

    /// [`Net::forward`] into `pass`, reusing its images when they have this maze's size: the
    /// frame is never written, so it stays zero, and every cell inside is written anew.
    pub fn forward_into(&self, maze: &Framed, pass: &mut Pass) {
        let (l, w) = (maze.size, maze.size + 2);
        let images = &mut pass.images;
        if images.len() != self.layers + 1 || images.iter().any(|i| i.len() != w * w) {
            *images = vec![vec![0.0; w * w]; self.layers + 1];
        }
        images[0].fill(0.0);
        images[0][maze.start] = 1.0;
        // A row's pre-activations first, then its gated sigmoids: the first loop has no call
        // and no branch, so it runs across x in vector registers (one loop doing both ran the
        // nine-term sum cell by cell, latency-bound: 1.4× slower at L = 64).
        let mut pre = vec![0.0; l];
        for t in 0..self.layers {
            let p = &self.theta[PER_LAYER * t..PER_LAYER * (t + 1)];
            let (done, rest) = images.split_at_mut(t + 1);
            let (prev, next) = (&done[t], &mut rest[0]);
            for y in 1..=l {
                let row = y * w;
                let (up, mid, down) = (
                    &prev[row - w..row],
                    &prev[row..row + w],
                    &prev[row + w..row + 2 * w],
                );
                for (x, s) in pre.iter_mut().enumerate() {
                    *s = p[9]
                        + p[0] * up[x]
                        + p[1] * up[x + 1]
                        + p[2] * up[x + 2]
                        + p[3] * mid[x]
                        + p[4] * mid[x + 1]
                        + p[5] * mid[x + 2]
                        + p[6] * down[x]
                        + p[7] * down[x + 1]
                        + p[8] * down[x + 2];
                }
                let gate = &maze.gate[row + 1..row + 1 + l];
                let out = &mut next[row + 1..row + 1 + l];
                for ((o, &g), &s) in out.iter_mut().zip(gate).zip(&pre) {
                    *o = if g > 0.0 { sigmoid(s) } else { 0.0 };
                }
            }
        }
        let (rw, rc) = self.readout();
        pass.logit = rw * images[self.layers][maze.centre] + rc;
    }

    /// P(label) for one maze.
    pub fn predict(&self, maze: &Framed) -> f64 {
        sigmoid(self.forward(maze).logit)
    }

    /// The cross-entropy of one maze, and its gradient added to `grad` times `weight`.
    pub fn backward(&self, maze: &Framed, label: bool, weight: f64, grad: &mut [f64]) -> f64 {
        self.backward_with(maze, label, weight, grad, &mut Scratch::default())
    }

    /// [`Net::backward`] with buffers reused across calls.
    pub fn backward_with(
        &self,
        maze: &Framed,
        label: bool,
        weight: f64,
        grad: &mut [f64],
        scratch: &mut Scratch,
    ) -> f64 {
        self.forward_into(maze, &mut scratch.pass);
        let pass = &scratch.pass;
        let y = if label { 1.0 } else { 0.0 };
        let loss = softplus(pass.logit) - y * pass.logit;
        let dz = (sigmoid(pass.logit) - y) * weight;
        let (l, w) = (maze.size, maze.size + 2);
        let (rw, _) = self.readout();
        let r = PER_LAYER * self.layers;
        grad[r] += dz * pass.images[self.layers][maze.centre];
        grad[r + 1] += dz;
        // g = dL/dH_{t+1}; d = dL/ds_t, zero on the frame and on closed cells (g is written
        // inside the frame only, so its frame stays zero when reused).
        let (g, d) = (&mut scratch.g, &mut scratch.d);
        g.clear();
        g.resize(w * w, 0.0);
        d.clear();
        d.resize(w * w, 0.0);
        g[maze.centre] = dz * rw;
        for t in (0..self.layers).rev() {
            let out = &pass.images[t + 1];
            for i in 0..w * w {
                d[i] = g[i] * out[i] * (1.0 - out[i]);
            }
            let input = &pass.images[t];
            let p = &self.theta[PER_LAYER * t..PER_LAYER * (t + 1)];
            let gp = &mut grad[PER_LAYER * t..PER_LAYER * (t + 1)];
            let mut taps = [0.0; 10];
            for y in 1..=l {
                let row = y * w;
                let dr = &d[row + 1..row + 1 + l];
                let (up, mid, down) = (
                    &input[row - w..row],
                    &input[row..row + w],
                    &input[row + w..row + 2 * w],
                );
                for x in 0..l {
                    let dv = dr[x];
                    taps[0] += dv * up[x];
                    taps[1] += dv * up[x + 1];
                    taps[2] += dv * up[x + 2];
                    taps[3] += dv * mid[x];
                    taps[4] += dv * mid[x + 1];
                    taps[5] += dv * mid[x + 2];
                    taps[6] += dv * down[x];
                    taps[7] += dv * down[x + 1];
                    taps[8] += dv * down[x + 2];
                    taps[9] += dv;
                }
            }
            for (a, b) in gp.iter_mut().zip(taps) {
                *a += b;
            }
            if t == 0 {
                break;
            }
            // dL/dH_t(j) = Σ_k K_k d(j − offset_k): the transposed correlation.
            for y in 1..=l {
                let row = y * w;
                let (up, mid, down) =
                    (&d[row - w..row], &d[row..row + w], &d[row + w..row + 2 * w]);
                let gr = &mut g[row + 1..row + 1 + l];
                for x in 0..l {
                    gr[x] = p[8] * up[x]
                        + p[7] * up[x + 1]
                        + p[6] * up[x + 2]
                        + p[5] * mid[x]
                        + p[4] * mid[x + 1]
                        + p[3] * mid[x + 2]
                        + p[2] * down[x]
                        + p[1] * down[x + 1]
                        + p[0] * down[x + 2];
                }
            }
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;

    fn some_mazes(size: usize, count: usize) -> Vec<(Framed, bool)> {
        let mut s = Stream::derive(3, "net-mazes");
        (0..count)
            .map(|_| {
                let m = Maze::draw(size, super::super::SITE_P_C, &mut s);
                (Framed::new(&m), m.label)
            })
            .collect()
    }

    /// Backpropagation against central differences of the loss, every parameter.
    #[test]
    fn gradients_match_finite_differences() {
        let mut s = Stream::derive(4, "net-init");
        let mut net = Net::random(4, 0.8, &mut s);
        for v in net.theta.iter_mut().skip(9).step_by(PER_LAYER) {
            *v = 0.3;
        }
        for (maze, label) in some_mazes(7, 6) {
            let mut grad = vec![0.0; net.theta.len()];
            net.backward(&maze, label, 1.0, &mut grad);
            for (k, &backprop) in grad.iter().enumerate() {
                let h = 1e-6;
                let mut up = net.clone();
                up.theta[k] += h;
                let mut down = net.clone();
                down.theta[k] -= h;
                let mut scratch = vec![0.0; net.theta.len()];
                let numeric = (up.backward(&maze, label, 1.0, &mut scratch)
                    - down.backward(&maze, label, 1.0, &mut scratch))
                    / (2.0 * h);
                assert!(
                    (numeric - backprop).abs() < 1e-7 * (1.0 + numeric.abs()),
                    "parameter {k}: backprop {backprop} numeric {numeric}"
                );
            }
        }
    }

    /// Zero padding and the gate: a kernel that only looks right moves heat leftwards one cell
    /// a layer, never through a closed cell or the edge.
    #[test]
    fn one_tap_shifts_and_the_gate_blocks() {
        let mut net = Net::hand_set(1, 1.0);
        net.theta[..10].copy_from_slice(&[0.0, 0.0, 0.0, 0.0, 0.0, 30.0, 0.0, 0.0, 0.0, -15.0]);
        let mut open = vec![true; 9];
        open[3] = false; // (0, 1)
        let maze = Maze {
            size: 3,
            open,
            start: 5, // (2, 1)
            label: true,
            depth: Some(1),
        };
        let f = Framed::new(&maze);
        let h1 = &net.forward(&f).images[1];
        let hot: Vec<usize> = (0..25).filter(|&i| h1[i] > 0.5).collect();
        assert_eq!(hot, vec![2 * 5 + 2], "only (1, 1), left of the start");
        let maze2 = Maze { start: 4, ..maze };
        let h1 = &net.forward(&Framed::new(&maze2)).images[1];
        assert!(h1.iter().all(|&v| v < 1e-6), "(0, 1) is closed");
    }
}
