//! The conventional networks' steps within a flow: training a level's RBM layer (block-local
//! or dense) or autoencoder layer, the information plane over its training, and the RBM
//! stack's receptive fields.

use super::{PlanePoint, RsmiRule};
use crate::rg::ae_map::{self, AutoencoderRule};
use crate::rg::audit::{self, Unit};
use crate::rg::rbm_map::{self, RbmRule};
use crate::rng::Stream;
use crate::rsmi::nn::Activation;
use crate::stats::Estimate;

/// What the information plane of one layer is measured on.
pub(super) struct Plane<'a> {
    pub(super) rule: &'a RsmiRule,
    pub(super) dim: usize,
    pub(super) size: usize,
    pub(super) configs: &'a [Vec<u8>],
    pub(super) blocks: usize,
    pub(super) stream: Stream,
    pub(super) points: &'a mut Vec<PlanePoint>,
}

impl Plane<'_> {
    fn observe_rbm(&mut self, epoch: usize, rbm: &crate::rbm::Rbm, checkpoints: &[usize]) {
        if checkpoints.contains(&epoch) {
            self.observe(epoch, &rbm_map::Layer::of(rbm.clone()).unit());
        }
    }

    fn observe(&mut self, epoch: usize, unit: &Unit) {
        let mut s = self.stream.child(&format!("epoch={epoch}"));
        let relevance =
            audit::relevance(unit, self.rule, self.dim, self.size, self.configs, &mut s);
        let compression = audit::compression(unit, self.dim, self.size, self.configs, self.blocks);
        if let (Ok(relevance), Ok(compression)) = (relevance, compression) {
            self.points.push(PlanePoint {
                epoch,
                relevance,
                compression,
            });
        }
    }
}

/// The RBM map on one level: a block-local layer trained on the configurations the audit's
/// critic trains on (so that its held-out ones stay unseen), then sampled on all of them.
pub(super) fn rbm_step(
    rule: &RbmRule,
    size: usize,
    configs: &[Vec<u8>],
    mut plane: Option<&mut Plane>,
    stream: &mut Stream,
) -> Option<(rbm_map::Layer, Vec<Vec<u8>>)> {
    let train_n = rbm_map::training_configs(configs.len());
    let checkpoints = rbm_map::checkpoints(rule.epochs);
    let layer = rbm_map::train_observed(
        rule,
        size,
        &configs[..train_n],
        &mut stream.child("train"),
        &mut |e, l| {
            if let Some(p) = plane.as_mut() {
                p.observe_rbm(e, l, &checkpoints);
            }
        },
    )
    .ok()?;
    let next = audit::apply(&layer.unit(), 2, size, configs, &mut stream.child("apply")).ok()?;
    Some((layer, next))
}

/// An autoencoder map on one level: a layer trained like [`rbm_step`]'s, its coarse spins
/// drawn from its code. Returns P(up | block state) and the next level.
pub(super) fn autoencoder_step(
    rule: &AutoencoderRule,
    activation: Activation,
    size: usize,
    configs: &[Vec<u8>],
    mut plane: Option<&mut Plane>,
    stream: &mut Stream,
) -> Option<(Vec<f64>, Vec<Vec<u8>>)> {
    let checkpoints = rbm_map::checkpoints(rule.epochs);
    let table = ae_map::train_observed(
        rule,
        activation,
        size,
        configs,
        &mut stream.child("train"),
        &mut |e, table| {
            if let Some(p) = plane.as_mut().filter(|_| checkpoints.contains(&e)) {
                p.observe(e, &Unit::Table { p_up: table });
            }
        },
    )
    .ok()?;
    let unit = Unit::Table { p_up: &table };
    let next = audit::apply(&unit, 2, size, configs, &mut stream.child("apply")).ok()?;
    Some((table, next))
}

/// The dense RBM map on one level, trained like [`rbm_step`]'s local layer and applied with
/// its units on their places.
pub(super) fn rbm_dense_step(
    rule: &RbmRule,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
) -> Option<(rbm_map::Layer, Vec<Vec<u8>>)> {
    let train_n = rbm_map::training_configs(configs.len());
    let layer =
        rbm_map::train_dense(rule, size, &configs[..train_n], &mut stream.child("train")).ok()?;
    let next = audit::apply(&layer.unit(), 2, size, configs, &mut stream.child("apply")).ok()?;
    Some((layer, next))
}

/// The mean receptive-field radius of the top layer of `stack` on the simulated lattice of
/// `size`, with its standard error over units.
pub(super) fn receptive(stack: &[crate::rbm::Rbm], size: usize) -> Option<Estimate> {
    let fields = crate::rbm::receptive_fields(stack);
    if fields.ncols() != size * size {
        return None;
    }
    let radii: Vec<f64> = fields
        .outer_iter()
        .map(|row| match row.as_slice() {
            Some(w) => crate::rbm::spread(w, size),
            None => crate::rbm::spread(&row.to_vec(), size),
        })
        .filter(|r| r.is_finite())
        .collect();
    let n = radii.len() as f64;
    if radii.len() < 2 {
        return None;
    }
    let mean = radii.iter().sum::<f64>() / n;
    let var = radii.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(Estimate::new(mean, (var / n).sqrt()))
}
