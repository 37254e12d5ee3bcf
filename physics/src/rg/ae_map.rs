//! The convolutional autoencoder ([`crate::autoencoder`]) as a b = 2 map (issue 15): one layer
//! trained per level on that level's configurations by reconstruction, a greedy stack as the
//! RBM maps are; its coarse spin per block is drawn from the code, P(up | block) a table over
//! the block's 16 states.
//!
//! Like an RBM unit's, the code's sign is arbitrary; one layer shares its weights over blocks,
//! so one orientation serves the whole level: an all-up block maps towards an up coarse spin.

use crate::autoencoder::{self, AeSettings, Autoencoder};
use crate::rng::Stream;
use crate::rsmi::nn::Activation;
use serde::{Deserialize, Serialize};

/// How the autoencoder maps are trained (`[rg.autoencoder]`; the nonlinearity is the map's
/// name: `autoencoder-tanh` or `autoencoder-relu`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutoencoderRule {
    /// Channels of the encoder's and the decoder's hidden layer.
    pub hidden: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Blocks per step (whole configurations).
    pub batch: usize,
    pub epochs: usize,
    /// With the audit: relevance and compression after the epochs of
    /// [`super::rbm_map::checkpoints`] (the information plane over training).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub information_plane: bool,
}

impl Default for AutoencoderRule {
    fn default() -> Self {
        AutoencoderRule {
            hidden: 8,
            learning_rate: 0.003,
            batch: 1024,
            epochs: 20,
            information_plane: false,
        }
    }
}

/// Most hidden channels, epochs and blocks per step: beyond them one task would take hours
/// or a step gigabytes.
pub const LIMITS: (usize, usize, usize) = (256, 10_000, 1 << 20);

impl AutoencoderRule {
    /// The settings are sane and `samples` configurations leave something to train on.
    pub fn check(&self, samples: u64) -> Result<(), String> {
        let (hidden, epochs, batch) = LIMITS;
        if !(1..=hidden).contains(&self.hidden)
            || !(1..=epochs).contains(&self.epochs)
            || !(1..=batch).contains(&self.batch)
        {
            return Err(format!(
                "autoencoder: hidden 1..={hidden}, epochs 1..={epochs}, batch 1..={batch}"
            ));
        }
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0)
        {
            return Err(format!(
                "autoencoder: learning_rate must be in (0, 1], got {}",
                self.learning_rate
            ));
        }
        if super::rbm_map::training_configs(samples as usize) == 0 {
            return Err(format!(
                "autoencoder: {samples} samples leave no configuration to train on"
            ));
        }
        Ok(())
    }

    pub fn settings(&self, activation: Activation) -> AeSettings {
        AeSettings {
            hidden: self.hidden,
            activation,
            learning_rate: self.learning_rate,
            batch: self.batch,
            epochs: self.epochs,
        }
    }
}

/// P(coarse spin up | block state) of a layer, oriented so that an all-up block (state 0)
/// is at least as likely up as an all-down one (state 15).
pub fn oriented_table(ae: &Autoencoder) -> Vec<f64> {
    let mut t = ae.table();
    if t[0] < t[t.len() - 1] {
        t.iter_mut().for_each(|p| *p = 1.0 - *p);
    }
    t
}

/// Trains one level's layer on the configurations the audit's critic trains on (so that its
/// held-out ones stay unseen); `observe(epoch, table)` sees the oriented table after every
/// epoch. Returns the final oriented table.
pub fn train_observed(
    rule: &AutoencoderRule,
    activation: Activation,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
    observe: &mut dyn FnMut(usize, &[f64]),
) -> Result<Vec<f64>, String> {
    let train_n = super::rbm_map::training_configs(configs.len());
    let refs: Vec<&[u8]> = configs[..train_n].iter().map(Vec::as_slice).collect();
    let ae = autoencoder::train_observed(
        &rule.settings(activation),
        size,
        &refs,
        stream,
        &mut |epoch, ae| observe(epoch, &oriented_table(ae)),
    )
    .map_err(|e| e.to_string())?;
    Ok(oriented_table(&ae))
}
