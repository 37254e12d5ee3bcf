//! The sweep file as TOML gives it: every value with its span, for errors that name the
//! line, before [`super::Sweep::parse`] checks it.

use crate::model::ModelKind;
use crate::sampler::Algorithm;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSweep {
    pub(super) name: Spanned<String>,
    pub(super) seed: Spanned<i64>,
    pub(super) model: Spanned<RawModel>,
    pub(super) q: Option<Spanned<i64>>,
    pub(super) sizes: Spanned<Vec<Spanned<i64>>>,
    /// Thermal models: the temperatures swept.
    #[serde(default)]
    pub(super) temperatures: Option<Spanned<Temperatures>>,
    /// Percolation: the occupation probabilities swept.
    #[serde(default)]
    pub(super) p: Option<Spanned<Temperatures>>,
    #[serde(default)]
    pub(super) replicas: Option<Spanned<i64>>,
    /// Every model but mazes, whose tasks train rather than sample.
    #[serde(default)]
    pub(super) monte_carlo: Option<Spanned<RawMonteCarlo>>,
    /// Mazes: the training runs.
    #[serde(default)]
    pub(super) mazes: Option<Spanned<RawMazes>>,
    #[serde(default)]
    pub(super) fss: Option<Spanned<RawFss>>,
    #[serde(default)]
    pub(super) rsmi: Option<Spanned<RawRsmi>>,
    #[serde(default)]
    pub(super) rg: Option<Spanned<RawRg>>,
    /// Configurations per replica to write as .npy (evenly spaced over the measurements).
    #[serde(default)]
    pub(super) save_samples: Option<Spanned<i64>>,
    /// Expected seconds of the sweep's largest task on one core.
    #[serde(default)]
    pub(super) task_seconds: Option<Spanned<f64>>,
    /// dimer2d: the energy v per plaquette of two parallel dimers (default −1).
    #[serde(default)]
    pub(super) interaction: Option<Spanned<i64>>,
    /// External sweeps (`model = "external"`): the registered sampler's name, ...
    #[serde(default)]
    pub(super) sampler: Option<Spanned<String>>,
    /// ... the version it must advertise (resolved at submit from the workers when absent), ...
    #[serde(default)]
    pub(super) sampler_version: Option<Spanned<String>>,
    /// ... the configuration type ("ising" or "potts", with q) and its lattice dimension, ...
    #[serde(default)]
    pub(super) configuration: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) dimension: Option<Spanned<i64>>,
    /// ... configurations per replica, ...
    #[serde(default)]
    pub(super) configurations: Option<Spanned<i64>>,
    /// ... the parameters by name (a number, a list or a range each) ...
    #[serde(default)]
    pub(super) parameters:
        Option<Spanned<std::collections::BTreeMap<String, Spanned<Temperatures>>>>,
    /// ... and which of them is the temperature of the program's energies.
    #[serde(default)]
    pub(super) temperature: Option<Spanned<String>>,
}

/// The `model` a sweep names: a built-in one, or `"external"` (a registered program's
/// configurations, checked as the spin model of their declared type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RawModel {
    Kind(ModelKind),
    External,
}

impl RawModel {
    /// The built-in model; external sweeps never reach the paths that read it (they are
    /// planned in `external.rs`), and read as Ising there.
    pub(super) fn kind(self) -> ModelKind {
        match self {
            RawModel::Kind(k) => k,
            RawModel::External => ModelKind::Ising2d,
        }
    }
}

impl<'de> Deserialize<'de> for RawModel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "external" {
            return Ok(RawModel::External);
        }
        ModelKind::parse(&s).map(RawModel::Kind).ok_or_else(|| {
            let names: Vec<&str> = ModelKind::ALL
                .iter()
                .map(|m| m.name())
                .chain(["external"])
                .collect();
            de::Error::custom(format!(
                "unknown model `{s}`, expected one of {}",
                names.join(", ")
            ))
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRg {
    pub(super) maps: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) levels: Spanned<i64>,
    pub(super) operators: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) samples: Spanned<i64>,
    pub(super) blocks: Option<Spanned<i64>>,
    // The RSMI map's training (used when `maps` lists "rsmi").
    pub(super) retrain: Option<bool>,
    pub(super) warm_start: Option<bool>,
    pub(super) rule: Option<Spanned<String>>,
    pub(super) buffer: Option<Spanned<i64>>,
    pub(super) env: Option<Spanned<i64>>,
    pub(super) batch: Option<Spanned<i64>>,
    pub(super) max_epochs: Option<Spanned<i64>>,
    // Audit every step: relevance and compression per map and level.
    pub(super) audit: Option<Spanned<bool>>,
    // The RBM map's training (used when `maps` lists "rbm").
    pub(super) rbm: Option<Spanned<RawRbm>>,
    // The autoencoder maps' training (used when `maps` lists "autoencoder-tanh" or "-relu").
    pub(super) autoencoder: Option<Spanned<RawAutoencoder>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAutoencoder {
    pub(super) hidden: Option<Spanned<i64>>,
    pub(super) learning_rate: Option<Spanned<f64>>,
    pub(super) batch: Option<Spanned<i64>>,
    pub(super) epochs: Option<Spanned<i64>>,
    pub(super) information_plane: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRbm {
    pub(super) learning_rate: Option<Spanned<f64>>,
    pub(super) batch: Option<Spanned<i64>>,
    pub(super) epochs: Option<Spanned<i64>>,
    pub(super) cd_steps: Option<Spanned<i64>>,
    pub(super) persistent: Option<bool>,
    pub(super) l1: Option<Spanned<f64>>,
    pub(super) information_plane: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRsmi {
    pub(super) block: Spanned<i64>,
    pub(super) buffers: Spanned<Vec<Spanned<i64>>>,
    pub(super) env: Spanned<i64>,
    pub(super) hidden: Option<Spanned<i64>>,
    pub(super) samples: Spanned<i64>,
    pub(super) stride: Option<Spanned<i64>>,
    pub(super) bound: Option<Spanned<String>>,
    pub(super) batch: Option<Spanned<i64>>,
    pub(super) max_epochs: Option<Spanned<i64>>,
    pub(super) learning_rate: Option<Spanned<f64>>,
    pub(super) dimension_size: Option<Spanned<i64>>,
    pub(super) stagewise: Option<Spanned<bool>>,
    pub(super) critic_leak: Option<Spanned<f64>>,
    pub(super) quiet_steps: Option<Spanned<i64>>,
    pub(super) restarts: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMonteCarlo {
    pub(super) algorithm: Algorithm,
    #[serde(default)]
    pub(super) thermalize: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) measurements: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) interval: Option<Spanned<i64>>,
    /// Percolation: Newman–Ziff runs per block (task), one number or one per size.
    #[serde(default)]
    pub(super) runs: Option<Spanned<Runs>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMazes {
    pub(super) layers: Spanned<Vec<Spanned<i64>>>,
    pub(super) steps: Spanned<i64>,
    pub(super) p: Option<Spanned<f64>>,
    pub(super) batch: Option<Spanned<i64>>,
    pub(super) learning_rate: Option<Spanned<f64>>,
    pub(super) init_scale: Option<Spanned<f64>>,
    pub(super) test: Option<Spanned<i64>>,
    pub(super) balanced: Option<bool>,
    pub(super) gain: Option<Spanned<f64>>,
    pub(super) landscape: Option<Spanned<Vec<f64>>>,
    pub(super) neglect_threshold: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFss {
    pub(super) fit_min_size: Option<Spanned<i64>>,
    pub(super) shift_exponent: Option<Spanned<f64>>,
    pub(super) bootstrap: Option<Spanned<i64>>,
    pub(super) correction_exponent: Option<Spanned<f64>>,
}

/// Runs per block: one number for every size, or a list with one per size as `sizes` lists
/// them.
pub(super) enum Runs {
    One(i64),
    PerSize(Vec<i64>),
}

impl<'de> Deserialize<'de> for Runs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Runs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of runs, or a list with one per size")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Runs, E> {
                Ok(Runs::One(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Runs, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element::<i64>()? {
                    v.push(x);
                }
                Ok(Runs::PerSize(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list of values (temperatures, probabilities) or an arithmetic range.
pub(super) enum Temperatures {
    List(Vec<f64>),
    Range {
        start: f64,
        stop: f64,
        step: Option<f64>,
        count: Option<i64>,
    },
}

impl<'de> Deserialize<'de> for Temperatures {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Temperatures;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a list of numbers or a range { start, stop, step } / { start, stop, count }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Temperatures, E> {
                Ok(Temperatures::List(vec![v]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Temperatures, E> {
                Ok(Temperatures::List(vec![v as f64]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Temperatures, A::Error> {
                let mut v = Vec::new();
                while let Some(t) = seq.next_element::<f64>()? {
                    v.push(t);
                }
                Ok(Temperatures::List(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Temperatures, A::Error> {
                let (mut start, mut stop, mut step, mut count) = (None, None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "start" => start = Some(map.next_value::<f64>()?),
                        "stop" => stop = Some(map.next_value::<f64>()?),
                        "step" => step = Some(map.next_value::<f64>()?),
                        "count" => count = Some(map.next_value::<i64>()?),
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["start", "stop", "step", "count"],
                            ));
                        }
                    }
                }
                let start = start.ok_or_else(|| de::Error::missing_field("start"))?;
                let stop = stop.ok_or_else(|| de::Error::missing_field("stop"))?;
                Ok(Temperatures::Range {
                    start,
                    stop,
                    step,
                    count,
                })
            }
        }
        d.deserialize_any(V)
    }
}
