//! The block-local RBM as a b = 2 map (issue 15): one hidden unit per 2×2 block, trained by
//! CD-k or PCD-k on the level's own configurations (a greedy stack, level by level, as
//! Mehta & Schwab train theirs), its sampled hidden layer the next level.
//!
//! An RBM unit's sign is arbitrary: h_j = 1 may mean "block mostly down" for one unit and
//! "mostly up" for its neighbour. Read as spins, such a layer is a random gauge transformation
//! of a ferromagnet, and its nearest-neighbour coupling averages to nothing. Each unit is
//! therefore oriented by its weights (h_j = 1 is a down spin when its weights on down sites
//! sum positive); information measures do not depend on the orientation, couplings do.

use super::audit::Unit;
use crate::rbm::{self, Rbm, RbmSettings};
use crate::rng::Stream;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// How the RBM map is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RbmRule {
    pub learning_rate: f64,
    pub batch: usize,
    pub epochs: usize,
    pub cd_steps: usize,
    pub persistent: bool,
    pub l1: f64,
    /// With the audit: relevance and compression after epochs 1, 2, 5, 10, 20, 50, … and the
    /// last (the information plane over training, [`checkpoints`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub information_plane: bool,
}

/// The epochs after which the information plane is measured: 1, 2, 5 per decade up to
/// `epochs`, and `epochs` itself.
pub fn checkpoints(epochs: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut decade = 1;
    while decade <= epochs {
        out.extend(
            [decade, 2 * decade, 5 * decade]
                .into_iter()
                .filter(|&e| e < epochs),
        );
        decade = decade.saturating_mul(10);
    }
    out.push(epochs);
    out
}

impl Default for RbmRule {
    fn default() -> Self {
        RbmRule {
            learning_rate: 0.1,
            batch: 20,
            epochs: 200,
            cd_steps: 1,
            persistent: false,
            l1: 0.0,
            information_plane: false,
        }
    }
}

impl RbmRule {
    /// The settings are sane and `samples` configurations leave the layer a batch to train on
    /// (it trains on the share [`training_configs`] the audit's critic trains on).
    pub fn check(&self, samples: u64) -> Result<(), String> {
        self.settings().check().map_err(|e| format!("rbm: {e}"))?;
        if self.epochs > 100_000 || self.cd_steps > 1000 || self.batch > 100_000 {
            return Err("rbm: at most 100000 epochs, 1000 CD steps and batches of 100000".into());
        }
        let train = training_configs(samples as usize);
        if train < self.batch {
            return Err(format!(
                "rbm: {samples} samples leave {train} configurations to train on, fewer than one batch of {}",
                self.batch
            ));
        }
        Ok(())
    }

    pub fn settings(&self) -> RbmSettings {
        RbmSettings {
            learning_rate: self.learning_rate,
            batch: self.batch,
            epochs: self.epochs,
            cd_steps: self.cd_steps,
            persistent: self.persistent,
            l1: self.l1,
            ..RbmSettings::default()
        }
    }
}

/// How many of `n` configurations the layer trains on: the audit's training share, so that
/// the configurations its relevance is evaluated on stay unseen.
pub fn training_configs(n: usize) -> usize {
    crate::rsmi::split(n, crate::rsmi::HOLDOUT).0
}

/// A trained layer and its units' orientation (`down[j]`: h_j = 1 is a down coarse spin).
#[derive(Clone, Debug)]
pub struct Layer {
    pub rbm: Rbm,
    pub down: Vec<bool>,
}

impl Layer {
    /// The machine with its units oriented: h_j = 1 is a down spin when unit j's weights sum
    /// positive.
    pub fn of(rbm: Rbm) -> Layer {
        let down = rbm.w.outer_iter().map(|row| row.sum() > 0.0).collect();
        Layer { rbm, down }
    }

    pub fn unit(&self) -> Unit<'_> {
        Unit::Rbm {
            layer: &self.rbm,
            down: &self.down,
        }
    }

    /// The units' mean filter on the block's ±1 spins, oriented so that its weights favour
    /// an up coarse spin: P(up) = σ(const + λ·σ) with λ_j = ±w_j / 2 (v = (1 − σ)/2).
    pub fn mean_filter(&self) -> Vec<f64> {
        let (units, fan_in) = self.rbm.w.dim();
        let mut mean = vec![0.0; fan_in];
        for (row, &down) in self.rbm.w.outer_iter().zip(&self.down) {
            let sign = if down { 0.5 } else { -0.5 };
            for (m, &w) in mean.iter_mut().zip(row) {
                *m += sign * f64::from(w) / units.max(1) as f64;
            }
        }
        mean
    }
}

/// Trains one block-local layer on `configs` (2D, a lattice of `size`).
pub fn train(
    rule: &RbmRule,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
) -> Result<Layer, String> {
    train_observed(rule, size, configs, stream, &mut |_, _| {})
}

/// [`train`], showing the machine to `observe` after every epoch (1-based); [`Layer::of`]
/// orients it, which only the epochs the observer measures need to pay for.
pub fn train_observed(
    rule: &RbmRule,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
    observe: &mut dyn FnMut(usize, &Rbm),
) -> Result<Layer, String> {
    train_wired(rule, size, configs, stream, observe, false)
}

/// Trains one dense layer on `configs` (2D, a lattice of `size`): (size/2)² hidden units, each
/// reading every site, as Mehta & Schwab's layers do; then [`place`]s its units on the
/// coarse lattice by their receptive fields.
pub fn train_dense(
    rule: &RbmRule,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
) -> Result<Layer, String> {
    train_wired(rule, size, configs, stream, &mut |_, _| {}, true)
}

fn train_wired(
    rule: &RbmRule,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
    observe: &mut dyn FnMut(usize, &Rbm),
    dense: bool,
) -> Result<Layer, String> {
    let sites = size * size;
    let data = Array2::from_shape_fn((configs.len(), sites), |(r, i)| {
        f32::from(configs[r].get(i).copied().unwrap_or(0))
    });
    let s = rule.settings();
    let half = size / 2;
    let mut layer = if dense {
        Rbm::dense(sites, half * half, s.init_scale, &mut stream.child("init"))
    } else {
        Rbm::local(
            sites,
            rbm::block_inputs(size, 2),
            s.init_scale,
            &mut stream.child("init"),
        )
    };
    layer.fit_visible_biases(data.view());
    rbm::train_layer_observed(
        &mut layer,
        data.view(),
        &s,
        &mut stream.child("cd"),
        None,
        observe,
    )
    .map_err(|e| e.to_string())?;
    if dense {
        let order = place(&layer, size);
        layer.permute_hidden(&order);
    }
    Ok(Layer::of(layer))
}

/// Where a dense layer's units go on the (size/2)² coarse lattice: `order[j]` is the unit
/// given coarse site j. A dense unit has no site of its own; if its receptive field is local
/// (Mehta & Schwab's observation), its centre names one. The assignment minimises the summed
/// squared torus distance between each unit's centre ([`rbm::centre`] of |w|) and its site's
/// block centre (Kuhn–Munkres, exact), so that local fields land on their own blocks and the
/// layer reads as a coarse lattice; fields that are not local land anywhere, and the level's
/// couplings and relevance say so.
pub fn place(layer: &Rbm, size: usize) -> Vec<usize> {
    let units = layer.hidden();
    let half = size / 2;
    let l = size as f64;
    let centres: Vec<Option<(f64, f64)>> = (0..units)
        .map(|j| {
            let field: Vec<f64> = layer
                .unit_weights(j)
                .iter()
                .map(|w| f64::from(w.abs()))
                .collect();
            rbm::centre(&field, size)
        })
        .collect();
    let wrap = |d: f64| {
        let d = d.rem_euclid(l);
        d.min(l - d)
    };
    // Squared distances in 10⁻⁶ site², integral so that the matching is exact; at most
    // 2·(L/2)² per pair, far from overflow for any lattice a dense layer is allowed.
    let mut costs = Vec::with_capacity(units * units);
    for site in 0..half * half {
        let (x, y) = (
            2.0 * (site % half) as f64 + 0.5,
            2.0 * (site / half) as f64 + 0.5,
        );
        for c in &centres {
            costs.push(c.map_or(0, |(cx, cy)| {
                let (dx, dy) = (wrap(cx - x), wrap(cy - y));
                ((dx * dx + dy * dy) * 1e6).round() as i64
            }));
        }
    }
    match pathfinding::matrix::Matrix::from_vec(half * half, units, costs) {
        Ok(m) if half * half == units => pathfinding::kuhn_munkres::kuhn_munkres_min(&m).1,
        _ => (0..units).collect(),
    }
}

/// Test data: `n` configurations of an 8×8 lattice made of uniform 2×2 blocks, each block up
/// or down by its own coin.
#[cfg(test)]
pub(crate) fn uniform_blocks(n: usize, stream: &mut Stream) -> Vec<Vec<u8>> {
    let size = 8;
    (0..n)
        .map(|_| {
            let coarse: Vec<u8> = (0..16).map(|_| u8::from(stream.uniform() < 0.5)).collect();
            (0..size * size)
                .map(|i| coarse[(i / size / 2) * 4 + (i % size) / 2])
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rg::audit;

    #[test]
    fn checkpoints_run_one_two_five_per_decade() {
        assert_eq!(checkpoints(200), vec![1, 2, 5, 10, 20, 50, 100, 200]);
        assert_eq!(checkpoints(7), vec![1, 2, 5, 7]);
        assert_eq!(checkpoints(1), vec![1]);
    }

    #[test]
    fn place_puts_local_dense_units_on_their_own_blocks() {
        // A dense 8×8 → 16 machine whose unit k reads only the block of coarse site
        // perm[k] (strongly), with faint noise everywhere: placement must undo the shuffle.
        let size = 8;
        let mut s = Stream::derive(3, "place");
        let mut rbm = Rbm::dense(64, 16, 0.01, &mut s);
        let perm: Vec<usize> = (0..16).map(|k| (k * 5 + 3) % 16).collect();
        let blocks = rbm::block_inputs(size, 2);
        for (k, &site) in perm.iter().enumerate() {
            for &i in blocks.row(site) {
                rbm.w[[k, i as usize]] = if i % 3 == 0 { -1.0 } else { 1.0 };
            }
        }
        let order = place(&rbm, size);
        for (site, &unit) in order.iter().enumerate() {
            assert_eq!(perm[unit], site, "{order:?}");
        }
        let before = rbm.clone();
        rbm.permute_hidden(&order);
        let v = Array2::from_shape_fn((3, 64), |(r, i)| ((r + i) % 2) as f32);
        let (p, q) = (
            before.hidden_probabilities(v.view()),
            rbm.hidden_probabilities(v.view()),
        );
        for (site, &unit) in order.iter().enumerate() {
            assert_eq!(q.column(site), p.column(unit));
        }
    }

    #[test]
    fn a_trained_layer_follows_its_blocks_and_is_oriented() {
        // Blocks that are uniform (all four spins equal, up or down by a coin): every unit
        // learns to report its block, and orientation turns its reports into the block's sign.
        let mut s = Stream::derive(9, "rbm-map");
        let size = 8;
        let configs = uniform_blocks(400, &mut s);
        let layer = train(&RbmRule::default(), size, &configs, &mut s).expect("trains");
        assert!(
            layer.mean_filter().iter().all(|&w| w > 0.5),
            "{:?}",
            layer.mean_filter()
        );
        let coarse = audit::apply(&layer.unit(), 2, size, &configs, &mut s).expect("applies");
        let agree = configs
            .iter()
            .zip(&coarse)
            .map(|(c, h)| {
                (0..16)
                    .filter(|&j| h[j] == c[(j / 4) * 2 * size + (j % 4) * 2])
                    .count()
            })
            .sum::<usize>();
        assert!(agree as f64 > 0.95 * 400.0 * 16.0, "{agree} of 6400");
    }
}
