//! The sweep file: one TOML document that says what to simulate, and its expansion into tasks.
//!
//! This is a lasting contract (the coordinator plans from it too), so it is strict: unknown keys
//! are errors, and every error names the file, line, column and field and says what is allowed.
//! Parsing is pure (text in, value out); reading the file is the caller's job.
//!
//! ```toml
//! name = "quickstart"
//! seed = 1
//! model = "ising2d"                  # ising2d | ising3d | potts2d (then q = 3, ...)
//! sizes = [8, 16, 32]
//! temperatures = { start = 2.0, stop = 2.6, step = 0.05 }   # or a list [2.2, 2.3]
//! replicas = 2
//!
//! [monte_carlo]
//! algorithm = "wolff"                # metropolis | heatbath | wolff | swendsen-wang | multispin
//! thermalize = 500                   # sweeps discarded first
//! measurements = 4000                # measurements kept per replica
//! interval = 1                       # sweeps between measurements
//!
//! [fss]                              # optional; see `FssSettings`
//! fit_min_size = 16
//! ```

use crate::model::ModelKind;
use crate::sampler::Algorithm;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use toml::Spanned;

/// A sweep-file error with its location.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{column}: {field}{message}")]
pub struct SweepError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// "field `x`: " or empty when the error is not about one field.
    pub field: String,
    pub message: String,
}

/// Largest number of sites per lattice (2D L = 8192, 3D L = 406): beyond it one chain's
/// neighbour table alone passes a gigabyte.
const MAX_SITES: u64 = 1 << 26;
/// Largest total of stored measurements (16 bytes each) in a sweep: results are held in memory
/// for aggregation, so a sweep past this would be killed for memory rather than refused here.
pub const MAX_STORED_MEASUREMENTS: u64 = 1 << 30;
/// Replicas of one point: replica indices stay below this (the wire checks them too).
pub const MAX_REPLICAS: u32 = 1 << 20;
pub const MAX_MEASUREMENTS: u64 = 1 << 32;
pub const MAX_INTERVAL: u64 = 1 << 20;
/// Largest number of tasks in a sweep: the coordinator is built and measured for 10^7 queued
/// tasks (`rgsweep bench coordinator --queued`), and `tasks()` plans them all in memory at
/// about 100 bytes each. Bounded before only through the stored measurements, a 150-byte file
/// could ask for 2^26 tasks, gigabytes from `tasks()`.
pub const MAX_TASKS: usize = 10_000_000;
/// Largest memory of one task's kept configurations, and of one RSMI training's (V, E) pairs.
/// A few lines asking for 10⁷ samples of an 8192² lattice, or RSMI blocks at every site of
/// one, would otherwise be accepted and kill every worker that leased the task.
const MAX_KEPT_BYTES: u64 = 1 << 31;
const MAX_PAIR_BYTES: u64 = 1 << 31;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: Spanned<String>,
    seed: Spanned<i64>,
    model: Spanned<ModelKind>,
    q: Option<Spanned<i64>>,
    sizes: Spanned<Vec<Spanned<i64>>>,
    temperatures: Spanned<Temperatures>,
    #[serde(default)]
    replicas: Option<Spanned<i64>>,
    monte_carlo: Spanned<RawMonteCarlo>,
    #[serde(default)]
    fss: Option<Spanned<RawFss>>,
    #[serde(default)]
    rsmi: Option<Spanned<RawRsmi>>,
    #[serde(default)]
    rg: Option<Spanned<RawRg>>,
    /// Configurations per replica to write as .npy (evenly spaced over the measurements).
    #[serde(default)]
    save_samples: Option<Spanned<i64>>,
    /// Expected seconds of the sweep's largest task on one core.
    #[serde(default)]
    task_seconds: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRg {
    maps: Option<Spanned<Vec<Spanned<String>>>>,
    levels: Spanned<i64>,
    operators: Option<Spanned<Vec<Spanned<String>>>>,
    samples: Spanned<i64>,
    blocks: Option<Spanned<i64>>,
    // The RSMI map's training (used when `maps` lists "rsmi").
    retrain: Option<bool>,
    rule: Option<Spanned<String>>,
    buffer: Option<Spanned<i64>>,
    env: Option<Spanned<i64>>,
    batch: Option<Spanned<i64>>,
    max_epochs: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRsmi {
    block: Spanned<i64>,
    buffers: Spanned<Vec<Spanned<i64>>>,
    env: Spanned<i64>,
    hidden: Option<Spanned<i64>>,
    samples: Spanned<i64>,
    stride: Option<Spanned<i64>>,
    bound: Option<Spanned<String>>,
    batch: Option<Spanned<i64>>,
    max_epochs: Option<Spanned<i64>>,
    learning_rate: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonteCarlo {
    algorithm: Algorithm,
    thermalize: Spanned<i64>,
    measurements: Spanned<i64>,
    #[serde(default)]
    interval: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFss {
    fit_min_size: Option<Spanned<i64>>,
    shift_exponent: Option<Spanned<f64>>,
    bootstrap: Option<Spanned<i64>>,
    correction_exponent: Option<Spanned<f64>>,
}

/// A list of temperatures or an arithmetic range.
enum Temperatures {
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
                    "a list of temperatures or a range { start, stop, step } / { start, stop, count }",
                )
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

/// Monte Carlo settings shared by every task of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonteCarlo {
    pub algorithm: Algorithm,
    pub thermalize: u64,
    pub measurements: u64,
    pub interval: u64,
}

/// Finite-size-scaling analysis settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FssSettings {
    /// Smallest L used in the power-law fits (smaller lattices carry corrections to scaling).
    pub fit_min_size: usize,
    /// Exponent ω' of the crossing-temperature shift `T*(L) = T_c + a·L^{−ω'}` used to extrapolate.
    pub shift_exponent: f64,
    /// Bootstrap replicates for the FSS error bars.
    pub bootstrap: usize,
    /// Exponent ω of the leading correction to scaling: the power-law fits are also tried as
    /// `Q = A·L^x·(1 + B·L^−ω)` (take it from the literature: the data of a sweep rarely fixes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction_exponent: Option<f64>,
}

impl Default for FssSettings {
    fn default() -> Self {
        FssSettings {
            fit_min_size: 0,
            shift_exponent: 2.0,
            bootstrap: 200,
            correction_exponent: None,
        }
    }
}

/// RSMI settings of a sweep: every task also learns the coarse-graining on its own samples,
/// once per buffer width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RsmiSweep {
    pub block: usize,
    pub buffers: Vec<usize>,
    pub env: usize,
    pub hidden: usize,
    /// Configurations kept per replica, evenly spaced over its measurements.
    pub samples: u64,
    /// Block-corner spacing (default L/4, at least the block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
    pub bound: crate::rsmi::Bound,
    pub batch: usize,
    pub max_epochs: usize,
    pub learning_rate: f64,
}

impl RsmiSweep {
    /// The RSMI job of one task and buffer width (a Potts model is one-hot encoded).
    pub fn job(
        &self,
        model: ModelKind,
        q: u8,
        size: usize,
        buffer: usize,
    ) -> Result<crate::rsmi::Job, crate::rsmi::GeometryError> {
        use crate::rsmi::{Encoding, Geometry, HOLDOUT, Job};
        let geometry = Geometry::new(model.dim(), size, self.block, buffer, self.env)?;
        Ok(Job {
            geometry,
            encoding: if model == ModelKind::Potts2d {
                Encoding::OneHot(q)
            } else {
                Encoding::Ising
            },
            stride: self
                .stride
                .unwrap_or_else(|| Job::default_stride(&geometry)),
            holdout: HOLDOUT,
            open: false,
            settings: self.train_settings(),
        })
    }

    /// The training settings these stand for.
    pub fn train_settings(&self) -> crate::rsmi::TrainSettings {
        let d = crate::rsmi::TrainSettings::default();
        crate::rsmi::TrainSettings {
            hidden: self.hidden,
            bound: self.bound,
            batch: self.batch,
            max_epochs: self.max_epochs,
            min_epochs: d.min_epochs.min(self.max_epochs),
            learning_rate: self.learning_rate,
            ..d
        }
    }
}

/// A validated sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    pub name: String,
    pub seed: u64,
    pub model: ModelKind,
    /// Potts states; absent for Ising.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<u8>,
    pub sizes: Vec<usize>,
    pub temperatures: Vec<f64>,
    pub replicas: u32,
    pub monte_carlo: MonteCarlo,
    pub fss: FssSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsmi: Option<RsmiSweep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rg: Option<crate::rg::Settings>,
    /// Configurations per replica written to `samples-L…-T….npy` (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub save_samples: u64,
    /// Expected seconds of the largest task on one core; smaller tasks in proportion to their
    /// cost. Workers with a time limit are only given tasks expected to finish within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_seconds: Option<f64>,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// Converts a byte offset into 1-based line and column.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The dotted key whose value contains `offset`, recovered from the text: the nearest
/// `[section]` header above and the `key =` on the line. toml's own messages do not always
/// name the key, and users need it.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start_of_line = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut section = None;
    for line in text[..start_of_line].lines().rev() {
        let t = line.trim();
        if t.starts_with('[') && !t.starts_with("[[") {
            section = Some(t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
            break;
        }
    }
    let line = text[start_of_line..].lines().next().unwrap_or("");
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().to_string())
        .filter(|k| !k.is_empty() && !k.starts_with('[') && !k.contains(' '));
    match (section, key) {
        (Some(s), Some(k)) => Some(format!("{s}.{k}")),
        (None, Some(k)) => Some(k),
        (Some(s), None) => Some(s),
        (None, None) => None,
    }
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: std::ops::Range<usize>, field: &str, message: String) -> SweepError {
        let (line, column) = line_col(self.text, span.start);
        SweepError {
            file: self.file.to_string(),
            line,
            column,
            field: if field.is_empty() {
                String::new()
            } else {
                format!("field `{field}`: ")
            },
            message,
        }
    }

    fn positive(&self, v: &Spanned<i64>, field: &str, max: u64) -> Result<u64, SweepError> {
        let x = *v.get_ref();
        if x < 1 || x as u64 > max {
            return Err(self.err(
                v.span(),
                field,
                format!("must be an integer from 1 to {max}, got {x}"),
            ));
        }
        Ok(x as u64)
    }

    /// Validates `[rsmi]` against the model, every size and the Monte Carlo settings, so a bad
    /// geometry is refused at submit, not discovered by a worker.
    fn rsmi(
        &self,
        r: &Spanned<RawRsmi>,
        (model, q): (ModelKind, u8),
        sizes: &[usize],
        algorithm: Algorithm,
        measurements: u64,
    ) -> Result<RsmiSweep, SweepError> {
        use crate::rsmi::{Bound, Geometry};
        let raw = r.get_ref();
        if algorithm == Algorithm::Multispin {
            return Err(self.err(
                r.span(),
                "rsmi",
                "RSMI needs whole configurations; multispin keeps 64 replicas in bit planes: use wolff, swendsen-wang, metropolis or heatbath".into(),
            ));
        }
        let block = self.positive(&raw.block, "rsmi.block", 1024)? as usize;
        let env = self.positive(&raw.env, "rsmi.env", 1024)? as usize;
        if raw.buffers.get_ref().is_empty() {
            return Err(self.err(
                raw.buffers.span(),
                "rsmi.buffers",
                "needs at least one buffer width".into(),
            ));
        }
        let mut buffers = Vec::new();
        for b in raw.buffers.get_ref() {
            let buffer = self.width(b, "rsmi.buffers")?;
            if buffers.contains(&buffer) {
                return Err(self.err(
                    b.span(),
                    "rsmi.buffers",
                    format!("buffer {buffer} is listed twice"),
                ));
            }
            for &size in sizes {
                if let Err(e) = Geometry::new(model.dim(), size, block, buffer, env) {
                    return Err(self.err(b.span(), "rsmi.buffers", e.to_string()));
                }
            }
            buffers.push(buffer);
        }
        let hidden = match &raw.hidden {
            Some(h) => self.positive(h, "rsmi.hidden", 64)? as usize,
            None => 1,
        };
        let samples = self.positive(&raw.samples, "rsmi.samples", 10_000_000)?;
        if samples < 10 || samples > measurements {
            return Err(self.err(
                raw.samples.span(),
                "rsmi.samples",
                format!("must be from 10 to monte_carlo.measurements ({measurements}): configurations are taken from the measured chain; got {samples}"),
            ));
        }
        let stride = match &raw.stride {
            Some(s) => Some(self.positive(s, "rsmi.stride", 1 << 20)? as usize),
            None => None,
        };
        let bound = match &raw.bound {
            Some(b) => Bound::parse(b.get_ref()).ok_or_else(|| {
                self.err(
                    b.span(),
                    "rsmi.bound",
                    format!("unknown bound {:?}; infonce or nwj", b.get_ref()),
                )
            })?,
            None => Bound::InfoNce,
        };
        let d = crate::rsmi::TrainSettings::default();
        let batch = match &raw.batch {
            Some(b) => self.positive(b, "rsmi.batch", 100_000)? as usize,
            None => d.batch,
        };
        if batch < 2 {
            return Err(self.err(
                raw.batch.as_ref().map_or(r.span(), |b| b.span()),
                "rsmi.batch",
                "must be at least 2".into(),
            ));
        }
        let max_epochs = match &raw.max_epochs {
            Some(e) => self.positive(e, "rsmi.max_epochs", 100_000)? as usize,
            None => d.max_epochs,
        };
        let learning_rate = match &raw.learning_rate {
            Some(l) => {
                let x = *l.get_ref();
                if !(x > 0.0 && x < 1.0) {
                    return Err(self.err(
                        l.span(),
                        "rsmi.learning_rate",
                        format!("must be in (0, 1), got {x}"),
                    ));
                }
                x
            }
            None => d.learning_rate,
        };
        let settings = RsmiSweep {
            block,
            buffers,
            env,
            hidden,
            samples,
            stride,
            bound,
            batch,
            max_epochs,
            learning_rate,
        };
        // Each replica's samples are split 60/20/20 (train/validation/held-out), and blocks are
        // taken at every corner: every part must hold at least one batch of pairs.
        for &size in sizes {
            let job = settings
                .job(model, 2, size, settings.buffers[0])
                .map_err(|e| self.err(r.span(), "rsmi", e.to_string()))?;
            let per_config = job.corner_count();
            let held_out = (job.split(samples as usize).2 as u64).saturating_mul(per_config);
            if held_out < batch as u64 {
                return Err(self.err(
                    raw.samples.span(),
                    "rsmi.samples",
                    format!(
                        "L = {size}: a fifth of {samples} configurations × {per_config} blocks = {held_out} held-out pairs, fewer than one batch of {batch}; take more samples or a smaller stride"
                    ),
                ));
            }
            for &buffer in &settings.buffers {
                let job = settings
                    .job(model, q, size, buffer)
                    .map_err(|e| self.err(r.span(), "rsmi", e.to_string()))?;
                let bytes = job.pair_bytes(samples);
                if bytes > MAX_PAIR_BYTES {
                    return Err(self.err(
                        raw.samples.span(),
                        "rsmi.samples",
                        format!(
                            "L = {size}, buffer {buffer}: {samples} configurations × {per_config} blocks make {bytes} bytes of training pairs; at most {MAX_PAIR_BYTES}: take fewer samples, a larger stride or a smaller env"
                        ),
                    ));
                }
            }
        }
        Ok(settings)
    }

    /// Validates `[rg]` against the model, every size and the Monte Carlo settings: a map,
    /// operator or level count a lattice cannot take is refused at submit.
    fn rg(
        &self,
        r: &Spanned<RawRg>,
        (model, q): (ModelKind, u8),
        sizes: &[usize],
        algorithm: Algorithm,
        measurements: u64,
    ) -> Result<crate::rg::Settings, SweepError> {
        use crate::rg::Operator;
        use crate::rg::flow::{MapKind, RsmiRule, Rule, Settings};
        let raw = r.get_ref();
        if algorithm == Algorithm::Multispin {
            return Err(self.err(
                r.span(),
                "rg",
                "RG flows need whole configurations; multispin keeps 64 replicas in bit planes: use wolff, swendsen-wang, metropolis or heatbath".into(),
            ));
        }
        let dim = model.dim();
        let mut maps = Vec::new();
        match &raw.maps {
            None => maps.push(MapKind::Majority),
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(self.err(list.span(), "rg.maps", "needs at least one map".into()));
                }
                for m in list.get_ref() {
                    let map = MapKind::parse(m.get_ref()).ok_or_else(|| {
                        self.err(
                            m.span(),
                            "rg.maps",
                            format!(
                                "unknown map {:?}; one of majority, decimation, rsmi",
                                m.get_ref()
                            ),
                        )
                    })?;
                    if maps.contains(&map) {
                        return Err(self.err(
                            m.span(),
                            "rg.maps",
                            format!("{} is listed twice", map.name()),
                        ));
                    }
                    if map == MapKind::Rsmi && q > 2 {
                        return Err(self.err(
                            m.span(),
                            "rg.maps",
                            "the RSMI map learns one binary unit per block, a coarse Ising spin: it is for Ising models, not Potts".into(),
                        ));
                    }
                    maps.push(map);
                }
            }
        }
        let levels = self.positive(&raw.levels, "rg.levels", 64)? as usize;
        for &size in sizes {
            let most = Settings::max_levels(size);
            if levels > most {
                return Err(self.err(
                    raw.levels.span(),
                    "rg.levels",
                    format!(
                        "L = {size} allows at most {most} levels (each halves the lattice, down to {} sites per side), got {levels}",
                        crate::rg::flow::MIN_COARSE_SIZE
                    ),
                ));
            }
        }
        let mut operators = Vec::new();
        match &raw.operators {
            None => operators.extend(Operator::ALL.into_iter().filter(|o| o.exists_for(dim, q))),
            Some(list) => {
                for o in list.get_ref() {
                    let op = Operator::parse(o.get_ref()).ok_or_else(|| {
                        self.err(
                            o.span(),
                            "rg.operators",
                            format!(
                                "unknown operator {:?}; one of {}",
                                o.get_ref(),
                                Operator::ALL.map(|o| o.name()).join(", ")
                            ),
                        )
                    })?;
                    if !op.exists_for(dim, q) {
                        return Err(self.err(
                            o.span(),
                            "rg.operators",
                            format!("{} does not exist for {model} ({dim}D)", op.name()),
                        ));
                    }
                    if operators.contains(&op) {
                        return Err(self.err(
                            o.span(),
                            "rg.operators",
                            format!("{} is listed twice", op.name()),
                        ));
                    }
                    operators.push(op);
                }
                if !operators.contains(&Operator::NearestNeighbour) {
                    return Err(self.err(
                        list.span(),
                        "rg.operators",
                        "must include \"nn\": the flow is followed (and T_c found) by the nearest-neighbour coupling".into(),
                    ));
                }
            }
        }
        let blocks = match &raw.blocks {
            Some(b) => self.positive(b, "rg.blocks", 1000)? as usize,
            None => 10,
        };
        if blocks < 2 {
            return Err(self.err(
                raw.blocks.as_ref().map_or(r.span(), |b| b.span()),
                "rg.blocks",
                "needs at least 2 jackknife blocks".into(),
            ));
        }
        let samples = self.positive(&raw.samples, "rg.samples", 10_000_000)?;
        if samples < 2 * blocks as u64 || samples > measurements {
            return Err(self.err(
                raw.samples.span(),
                "rg.samples",
                format!(
                    "must be from 2 × rg.blocks ({}) to monte_carlo.measurements ({measurements}): configurations are taken from the measured chain; got {samples}",
                    2 * blocks
                ),
            ));
        }
        let rsmi = if maps.contains(&MapKind::Rsmi) {
            let d = RsmiRule::default();
            let mut rule = RsmiRule {
                retrain: raw.retrain.unwrap_or(d.retrain),
                ..d
            };
            if let Some(x) = &raw.rule {
                rule.rule = match x.get_ref().as_str() {
                    "sign" => Rule::Sign,
                    "sample" => Rule::Sample,
                    other => {
                        return Err(self.err(
                            x.span(),
                            "rg.rule",
                            format!("unknown rule {other:?}; sign or sample"),
                        ));
                    }
                };
            }
            if let Some(b) = &raw.buffer {
                rule.buffer = self.width(b, "rg.buffer")?;
            }
            if let Some(e) = &raw.env {
                rule.env = self.positive(e, "rg.env", 1024)? as usize;
            }
            if let Some(b) = &raw.batch {
                rule.batch = self.positive(b, "rg.batch", 100_000)? as usize;
                if rule.batch < 2 {
                    return Err(self.err(b.span(), "rg.batch", "must be at least 2".into()));
                }
            }
            if let Some(e) = &raw.max_epochs {
                rule.max_epochs = self.positive(e, "rg.max_epochs", 100_000)? as usize;
            }
            let field = raw
                .buffer
                .as_ref()
                .or(raw.env.as_ref())
                .map_or(r.span(), |x| x.span());
            for &size in sizes {
                for l in rule.training_sizes(size, levels) {
                    let job = rule.job(dim, l).map_err(|e| {
                        self.err(
                            field.clone(),
                            "rg",
                            format!(
                                "the RSMI map is trained on lattices of L = {l} (from L = {size}): {e}; reduce rg.buffer or rg.env"
                            ),
                        )
                    })?;
                    let held_out =
                        (job.split(samples as usize).2 as u64).saturating_mul(job.corner_count());
                    if held_out < rule.batch as u64 {
                        return Err(self.err(
                            raw.samples.span(),
                            "rg.samples",
                            format!(
                                "the RSMI map on L = {l}: {held_out} held-out pairs, fewer than one batch of {}; take more samples",
                                rule.batch
                            ),
                        ));
                    }
                    let bytes = job.pair_bytes(samples);
                    if bytes > MAX_PAIR_BYTES {
                        return Err(self.err(
                            raw.samples.span(),
                            "rg.samples",
                            format!(
                                "the RSMI map on L = {l}: {samples} configurations make {bytes} bytes of training pairs; at most {MAX_PAIR_BYTES}: take fewer samples"
                            ),
                        ));
                    }
                }
            }
            Some(rule)
        } else {
            None
        };
        Ok(Settings {
            maps,
            levels,
            operators,
            samples,
            blocks,
            rsmi,
        })
    }

    /// A buffer width: bounded like the environment's, so that region sizes cannot overflow.
    fn width(&self, v: &Spanned<i64>, field: &str) -> Result<usize, SweepError> {
        let x = *v.get_ref();
        if !(0..=1024).contains(&x) {
            return Err(self.err(
                v.span(),
                field,
                format!("must be an integer from 0 to 1024, got {x}"),
            ));
        }
        Ok(x as usize)
    }

    fn non_negative(&self, v: &Spanned<i64>, field: &str) -> Result<u64, SweepError> {
        let x = *v.get_ref();
        if x < 0 {
            return Err(self.err(
                v.span(),
                field,
                format!("must be a non-negative integer, got {x}"),
            ));
        }
        Ok(x as u64)
    }
}

impl Sweep {
    /// Parses and validates sweep-file `text`; `file` is only used in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Sweep, SweepError> {
        let cx = Ctx { file, text };
        let raw: RawSweep = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            // A missing key is reported on its table, whose span does not point at any key:
            // naming the key found on that line would blame an innocent field.
            let field = if message.starts_with("missing field") {
                String::new()
            } else {
                key_at(text, span.start).unwrap_or_default()
            };
            cx.err(span, &field, message)
        })?;
        let model_span = raw.model.span();
        let model = *raw.model.get_ref();

        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return Err(cx.err(
                raw.name.span(),
                "name",
                format!(
                    "must be non-empty and use only letters, digits, '-', '_' and '.' (it names the output directory), got {:?}",
                    raw.name.get_ref()
                ),
            ));
        }
        let seed = *raw.seed.get_ref();
        if seed < 0 {
            return Err(cx.err(
                raw.seed.span(),
                "seed",
                format!("must be a non-negative integer, got {seed}"),
            ));
        }

        let q = match (model, &raw.q) {
            (ModelKind::Potts2d, Some(q)) => {
                let v = *q.get_ref();
                if !(2..=64).contains(&v) {
                    return Err(cx.err(
                        q.span(),
                        "q",
                        format!("Potts needs q from 2 to 64, got {v}"),
                    ));
                }
                Some(v as u8)
            }
            (ModelKind::Potts2d, None) => {
                return Err(cx.err(
                    model_span,
                    "q",
                    "model potts2d needs the number of states q (q >= 2)".into(),
                ));
            }
            (m, Some(q)) => {
                return Err(cx.err(
                    q.span(),
                    "q",
                    format!("q applies to potts2d only, not to {m}"),
                ));
            }
            (_, None) => None,
        };

        if raw.sizes.get_ref().is_empty() {
            return Err(cx.err(
                raw.sizes.span(),
                "sizes",
                "needs at least one lattice size".into(),
            ));
        }
        let dim = model.dim() as u32;
        let mut sizes = Vec::new();
        for s in raw.sizes.get_ref() {
            let v = *s.get_ref();
            let max = (MAX_SITES as f64).powf(1.0 / f64::from(dim)).floor() as i64;
            if v < 2 || v > max {
                return Err(cx.err(
                    s.span(),
                    "sizes",
                    format!(
                        "lattice size must be an integer from 2 to {max} for {}, got {v}",
                        model
                    ),
                ));
            }
            if sizes.contains(&(v as usize)) {
                return Err(cx.err(s.span(), "sizes", format!("size {v} is listed twice")));
            }
            sizes.push(v as usize);
        }
        sizes.sort_unstable();

        let temperatures = expand_temperatures(&cx, &raw.temperatures)?;

        let replicas = match &raw.replicas {
            Some(r) => cx.positive(r, "replicas", u64::from(MAX_REPLICAS))? as u32,
            None => 1,
        };

        let mc = raw.monte_carlo.get_ref();
        let tasks = (sizes.len() as u64)
            .saturating_mul(temperatures.len() as u64)
            .saturating_mul(u64::from(replicas.div_ceil(replica_group(mc.algorithm))));
        if tasks > MAX_TASKS as u64 {
            let (span, field) = match &raw.replicas {
                Some(r) if *r.get_ref() > 1 => (r.span(), "replicas"),
                _ => (raw.temperatures.span(), "temperatures"),
            };
            return Err(cx.err(
                span,
                field,
                format!(
                    "sizes × temperatures × replicas = {} × {} × {replicas} = {tasks} tasks{}; at most {MAX_TASKS}",
                    sizes.len(),
                    temperatures.len(),
                    if replica_group(mc.algorithm) > 1 {
                        " (multispin: 64 replicas per task)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if mc.algorithm == Algorithm::Multispin && !model.is_ising() {
            return Err(cx.err(
                raw.monte_carlo.span(),
                "monte_carlo.algorithm",
                format!(
                    "multispin is bit-packed Ising and cannot run {}; use metropolis, heatbath, wolff or swendsen-wang",
                    model
                ),
            ));
        }
        let thermalize = cx.non_negative(&mc.thermalize, "monte_carlo.thermalize")?;
        let measurements = cx.positive(
            &mc.measurements,
            "monte_carlo.measurements",
            MAX_MEASUREMENTS,
        )?;
        if measurements < 16 {
            return Err(cx.err(
                mc.measurements.span(),
                "monte_carlo.measurements",
                format!("needs at least 16 measurements for error bars, got {measurements}"),
            ));
        }
        let interval = match &mc.interval {
            Some(i) => cx.positive(i, "monte_carlo.interval", MAX_INTERVAL)?,
            None => 1,
        };

        let stored = (sizes.len() as u64)
            .saturating_mul(temperatures.len() as u64)
            .saturating_mul(u64::from(replicas))
            .saturating_mul(measurements);
        if stored > MAX_STORED_MEASUREMENTS {
            return Err(cx.err(
                mc.measurements.span(),
                "monte_carlo.measurements",
                format!(
                    "sizes × temperatures × replicas × measurements = {stored} stored measurements (16 bytes each); at most {MAX_STORED_MEASUREMENTS}: use fewer measurements or a larger interval"
                ),
            ));
        }

        let mut fss = FssSettings::default();
        if let Some(f) = &raw.fss {
            let f = f.get_ref();
            if let Some(v) = &f.fit_min_size {
                fss.fit_min_size = cx.non_negative(v, "fss.fit_min_size")? as usize;
            }
            if let Some(v) = &f.shift_exponent {
                let x = *v.get_ref();
                if !(x.is_finite() && x > 0.0) {
                    return Err(cx.err(
                        v.span(),
                        "fss.shift_exponent",
                        format!("must be a positive number, got {x}"),
                    ));
                }
                fss.shift_exponent = x;
            }
            if let Some(v) = &f.correction_exponent {
                let x = *v.get_ref();
                if !(x.is_finite() && x > 0.0 && x <= 10.0) {
                    return Err(cx.err(
                        v.span(),
                        "fss.correction_exponent",
                        format!("must be a positive number up to 10, got {x}"),
                    ));
                }
                fss.correction_exponent = Some(x);
            }
            if let Some(v) = &f.bootstrap {
                fss.bootstrap = cx.positive(v, "fss.bootstrap", 100_000)? as usize;
                if fss.bootstrap < 20 {
                    return Err(cx.err(
                        v.span(),
                        "fss.bootstrap",
                        format!(
                            "needs at least 20 replicates for an error bar, got {}",
                            fss.bootstrap
                        ),
                    ));
                }
            }
        }

        let rsmi = match &raw.rsmi {
            Some(r) => Some(cx.rsmi(
                r,
                (model, q.unwrap_or(2)),
                &sizes,
                mc.algorithm,
                measurements,
            )?),
            None => None,
        };
        let save_samples = match &raw.save_samples {
            Some(n) => {
                let n = cx.positive(n, "save_samples", measurements)?;
                if mc.algorithm == Algorithm::Multispin {
                    return Err(cx.err(
                        raw.save_samples.as_ref().map_or(0..0, |x| x.span()),
                        "save_samples",
                        "multispin keeps 64 replicas in bit planes, not whole configurations: use wolff, swendsen-wang, metropolis or heatbath".into(),
                    ));
                }
                n
            }
            None => 0,
        };
        let task_seconds = match &raw.task_seconds {
            Some(t) => {
                let x = *t.get_ref();
                if !(x.is_finite() && x > 0.0) {
                    return Err(cx.err(
                        t.span(),
                        "task_seconds",
                        format!("must be a positive number of seconds, got {x}"),
                    ));
                }
                Some(x)
            }
            None => None,
        };
        let rg = match &raw.rg {
            Some(r) => Some(cx.rg(
                r,
                (model, q.unwrap_or(2)),
                &sizes,
                mc.algorithm,
                measurements,
            )?),
            None => None,
        };
        let kept = [
            (
                rsmi.as_ref().map_or(0, |r| r.samples),
                raw.rsmi
                    .as_ref()
                    .map(|r| (r.get_ref().samples.span(), "rsmi.samples")),
            ),
            (
                rg.as_ref().map_or(0, |r| r.samples),
                raw.rg
                    .as_ref()
                    .map(|r| (r.get_ref().samples.span(), "rg.samples")),
            ),
            (
                save_samples,
                raw.save_samples
                    .as_ref()
                    .map(|s| (s.span(), "save_samples")),
            ),
        ]
        .into_iter()
        .max_by_key(|(n, _)| *n);
        if let Some((n, Some((span, field)))) = kept {
            let largest = sizes.last().copied().unwrap_or(0) as u64;
            let sites = largest.saturating_pow(dim);
            let bytes = n.saturating_mul(sites);
            if bytes > MAX_KEPT_BYTES {
                return Err(cx.err(
                    span,
                    field,
                    format!(
                        "{n} configurations of L = {largest} ({sites} sites each) are kept in memory by each task: {bytes} bytes, at most {MAX_KEPT_BYTES}"
                    ),
                ));
            }
        }

        Ok(Sweep {
            name,
            seed: seed as u64,
            model,
            q,
            sizes,
            temperatures,
            replicas,
            monte_carlo: MonteCarlo {
                algorithm: mc.algorithm,
                thermalize,
                measurements,
                interval,
            },
            fss,
            rsmi,
            rg,
            save_samples,
            task_seconds,
        })
    }

    /// The tasks of this sweep, largest lattices first so long tasks do not trail at the end.
    /// Each task is one replica, except for multispin, where one task runs up to 64 replicas.
    pub fn tasks(&self) -> Vec<crate::task::Task> {
        let group = replica_group(self.monte_carlo.algorithm);
        let count =
            self.sizes.len() * self.temperatures.len() * self.replicas.div_ceil(group) as usize;
        let mut out = Vec::with_capacity(count);
        for &size in self.sizes.iter().rev() {
            for &temperature in &self.temperatures {
                let mut first = 0;
                while first < self.replicas {
                    let count = group.min(self.replicas - first);
                    out.push(crate::task::Task {
                        model: self.model,
                        q: self.q.unwrap_or(2),
                        size,
                        temperature,
                        monte_carlo: self.monte_carlo.clone(),
                        first_replica: first,
                        replicas: count,
                        rsmi: self.rsmi.clone().map(Box::new),
                        rg: self.rg.clone().map(Box::new),
                        save_samples: self.save_samples,
                    });
                    first += count;
                }
            }
        }
        out
    }
}

/// Replicas per task: multispin runs 64 in the bit planes of one lattice.
fn replica_group(algorithm: Algorithm) -> u32 {
    if algorithm == Algorithm::Multispin {
        64
    } else {
        1
    }
}

/// Rounds away the binary noise of `start + k·step` so that keys and file rows read `2.15`,
/// not `2.1500000000000004`.
fn tidy(t: f64) -> f64 {
    // Past 1e12 there are no decimals left to tidy, and printing 1e300 to ten decimals takes
    // 300 bytes, 30 MB for the 100000 temperatures of one range.
    if t.is_nan() || t.abs() >= 1e12 {
        return t;
    }
    let s = format!("{t:.10}");
    s.parse().unwrap_or(t)
}

fn expand_temperatures(cx: &Ctx, t: &Spanned<Temperatures>) -> Result<Vec<f64>, SweepError> {
    let span = t.span();
    let field = "temperatures";
    let list = match t.get_ref() {
        Temperatures::List(v) => v.clone(),
        Temperatures::Range {
            start,
            stop,
            step,
            count,
        } => {
            let (start, stop) = (*start, *stop);
            if !(start.is_finite() && stop.is_finite()) || stop < start {
                return Err(cx.err(
                    span,
                    field,
                    format!("range needs finite start <= stop, got start = {start}, stop = {stop}"),
                ));
            }
            match (step, count) {
                (Some(step), None) => {
                    if !(step.is_finite() && *step > 0.0) {
                        return Err(cx.err(
                            span,
                            field,
                            format!("step must be positive, got {step}"),
                        ));
                    }
                    let count = ((stop - start) / step + 1e-9).floor() + 1.0;
                    if count.is_nan() || count > 100_000.0 {
                        return Err(cx.err(
                            span,
                            field,
                            format!("range gives {count} temperatures; at most 100000"),
                        ));
                    }
                    let n = count as i64;
                    if n > 100_000 {
                        return Err(cx.err(
                            span,
                            field,
                            format!("range gives {n} temperatures; at most 100000"),
                        ));
                    }
                    (0..n).map(|k| tidy(start + k as f64 * step)).collect()
                }
                (None, Some(count)) => {
                    if *count < 1 || *count > 100_000 {
                        return Err(cx.err(
                            span,
                            field,
                            format!("count must be from 1 to 100000, got {count}"),
                        ));
                    }
                    if *count == 1 {
                        vec![start]
                    } else {
                        let h = (stop - start) / (*count - 1) as f64;
                        (0..*count).map(|k| tidy(start + k as f64 * h)).collect()
                    }
                }
                _ => {
                    return Err(cx.err(
                        span,
                        field,
                        "range needs exactly one of step or count".into(),
                    ));
                }
            }
        }
    };
    if list.is_empty() {
        return Err(cx.err(span, field, "needs at least one temperature".into()));
    }
    if let Some(t) = list.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
        return Err(cx.err(
            span,
            field,
            format!("temperatures must be positive and finite, got {t}"),
        ));
    }
    let mut out = list;
    out.sort_by(f64::total_cmp);
    // Sorted, a repeat is a neighbour: searching the list for each one took half a second of a
    // coordinator's time for the 100000 temperatures one line of a range may give.
    if let Some(w) = out.windows(2).find(|w| w[0] == w[1]) {
        return Err(cx.err(span, field, format!("temperature {} is listed twice", w[0])));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
seed = 3
model = "ising2d"
sizes = [16, 8]
temperatures = { start = 2.0, stop = 2.3, step = 0.05 }
replicas = 2

[monte_carlo]
algorithm = "wolff"
thermalize = 10
measurements = 100
"#;

    fn err(text: &str) -> SweepError {
        Sweep::parse(text, "s.toml").expect_err("should be rejected")
    }

    #[test]
    fn parses_and_plans() {
        let s = Sweep::parse(GOOD, "s.toml").expect("valid");
        assert_eq!(s.sizes, vec![8, 16]);
        assert_eq!(s.temperatures, vec![2.0, 2.05, 2.1, 2.15, 2.2, 2.25, 2.3]);
        assert_eq!(s.monte_carlo.interval, 1);
        let tasks = s.tasks();
        assert_eq!(tasks.len(), 2 * 7 * 2);
        assert_eq!(tasks[0].size, 16, "largest first");
    }

    #[test]
    fn unknown_key_names_line_and_field() {
        let e = err(&GOOD.replace("replicas = 2", "replicas = 2\ncolour = 1"));
        assert_eq!(e.line, 8);
        assert!(e.message.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = err(&GOOD.replace("[16, 8]", "[16, 0]"));
        assert_eq!((e.line, e.field.as_str()), (5, "field `sizes`: "));
        let e = err(&GOOD.replace("start = 2.0", "start = -1.0"));
        assert!(e.field.contains("temperatures"), "{e}");
        let e = err(&GOOD.replace("\"wolff\"", "\"glauber\""));
        assert!(e.field.contains("monte_carlo.algorithm"), "{e}");
        assert!(
            e.message.contains("swendsen-wang"),
            "lists allowed values: {e}"
        );
        let e = err(&GOOD.replace("\"ising2d\"", "\"potts2d\""));
        assert!(e.field.contains('q'), "{e}");
        let e = err(&GOOD.replace("\"ising2d\"", "\"potts2d\"\nq = 1"));
        assert!(e.message.contains("q from 2"), "{e}");
        let e = err(&GOOD
            .replace("\"ising2d\"", "\"potts2d\"\nq = 3")
            .replace("\"wolff\"", "\"multispin\""));
        assert!(e.message.contains("multispin"), "{e}");
        let e = err(&GOOD.replace("measurements = 100", "measurements = 0"));
        assert!(e.field.contains("monte_carlo.measurements"), "{e}");
        let e = err("name = \"x\"\nseed = [");
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn missing_fields_and_oversized_sweeps_are_refused_with_their_names() {
        let e = err(&GOOD.replace("seed = 3\n", ""));
        assert!(e.message.contains("missing field `seed`"), "{e}");
        assert!(
            e.field.is_empty(),
            "a missing key is not blamed on another field: {e}"
        );
        let e = err(&GOOD.replace("step = 0.05", "step = 1e-300"));
        assert!(e.message.contains("at most 100000"), "{e}");
        let e = err(&GOOD.replace("[16, 8]", "[100000]"));
        assert!(
            e.field.contains("sizes") && e.message.contains("8192"),
            "{e}"
        );
        let e = err(&GOOD.replace("measurements = 100", "measurements = 100000000"));
        assert!(e.field.contains("monte_carlo.measurements"), "{e}");
        let e = err(&GOOD.replace("\"ising2d\"", "\"potts2d\""));
        assert_eq!((e.line, e.field.as_str()), (4, "field `q`: "), "{e}");
    }

    #[test]
    fn multispin_groups_replicas() {
        let s = Sweep::parse(
            &GOOD
                .replace("\"wolff\"", "\"multispin\"")
                .replace("replicas = 2", "replicas = 100"),
            "s.toml",
        )
        .expect("valid");
        let per_point: Vec<u32> = s.tasks().iter().take(2).map(|t| t.replicas).collect();
        assert_eq!(per_point, vec![64, 36]);
    }

    #[test]
    fn save_samples_is_checked_and_reaches_every_task() {
        let ok = Sweep::parse(&format!("save_samples = 5\n{GOOD}"), "s.toml").expect("valid");
        assert_eq!(ok.save_samples, 5);
        assert!(ok.tasks().iter().all(|t| t.save_samples == 5));
        let e = err(&format!("save_samples = 500\n{GOOD}"));
        assert!(e.to_string().contains("save_samples"), "{e}");
        let multispin = GOOD.replace("\"wolff\"", "\"multispin\"");
        let e = err(&format!("save_samples = 5\n{multispin}"));
        assert!(e.to_string().contains("multispin"), "{e}");
        // Off by default, and then absent from task keys.
        let plain = Sweep::parse(GOOD, "s.toml").expect("valid");
        assert_eq!(plain.save_samples, 0);
        assert!(
            !serde_json::to_string(&plain.tasks()[0])
                .expect("json")
                .contains("save_samples")
        );
    }

    #[test]
    fn rg_sections_are_checked_against_the_model_and_every_size() {
        use crate::rg::{MapKind, Operator};
        let with = |section: &str| format!("{GOOD}\n[rg]\n{section}");
        let ok = Sweep::parse(&with("levels = 1\nsamples = 50"), "s.toml").expect("valid");
        let r = ok.rg.as_ref().expect("rg");
        // Defaults: majority rule, every operator of the model, ten jackknife blocks.
        assert_eq!(r.maps, vec![MapKind::Majority]);
        assert_eq!(r.operators.len(), Operator::ALL.len());
        assert_eq!((r.levels, r.blocks, r.rsmi.is_none()), (1, 10, true));
        assert!(ok.tasks().iter().all(|t| t.rg.as_deref() == Some(r)));
        let with_rsmi = Sweep::parse(
            &with("maps = [\"rsmi\", \"majority\"]\nlevels = 1\nsamples = 50"),
            "s.toml",
        )
        .expect("valid");
        let r = with_rsmi.rg.expect("rg");
        assert_eq!(r.maps, vec![MapKind::Rsmi, MapKind::Majority]);
        assert!(r.rsmi.is_some());
        // Each rejection names its field; the line is the offending value's.
        for (section, field, says) in [
            (
                "levels = 2\nsamples = 50",
                "rg.levels",
                "L = 8 allows at most 1",
            ),
            (
                "maps = [\"blocking\"]\nlevels = 1\nsamples = 50",
                "rg.maps",
                "unknown map",
            ),
            (
                "maps = []\nlevels = 1\nsamples = 50",
                "rg.maps",
                "at least one",
            ),
            (
                "operators = [\"nn\", \"sixth\"]\nlevels = 1\nsamples = 50",
                "rg.operators",
                "unknown operator",
            ),
            (
                "operators = [\"diagonal\"]\nlevels = 1\nsamples = 50",
                "rg.operators",
                "must include",
            ),
            (
                "operators = [\"nn\", \"nn\"]\nlevels = 1\nsamples = 50",
                "rg.operators",
                "twice",
            ),
            (
                "levels = 1\nsamples = 500",
                "rg.samples",
                "monte_carlo.measurements",
            ),
            (
                "levels = 1\nsamples = 50\nblocks = 1",
                "rg.blocks",
                "at least 2",
            ),
            (
                "maps = [\"rsmi\"]\nlevels = 1\nsamples = 50\nenv = 3",
                "rg",
                "L = 8",
            ),
            (
                "maps = [\"rsmi\"]\nlevels = 1\nsamples = 50\nrule = \"vote\"",
                "rg.rule",
                "sign or sample",
            ),
            ("levels = 1\nsamples = 50\ncolour = 1", "colour", ""),
        ] {
            let e = err(&with(section));
            let text = e.to_string();
            assert!(
                text.contains(field) && text.contains(says),
                "{section}: {text}"
            );
        }
        let e = err(&with("levels = 2\nsamples = 50"));
        assert_eq!(e.line, 15, "{e}");
        // Potts takes the Potts operators and maps; multispin cannot take [rg] at all.
        let potts = GOOD.replace("\"ising2d\"", "\"potts2d\"\nq = 3");
        let ok = Sweep::parse(
            &format!("{potts}\n[rg]\nlevels = 1\nsamples = 50"),
            "s.toml",
        )
        .expect("Potts flows");
        let ops = ok.rg.expect("rg").operators;
        assert!(!ops.contains(&Operator::ThreeSpin) && ops.len() == Operator::ALL.len() - 1);
        let e = err(&format!(
            "{potts}\n[rg]\nmaps = [\"rsmi\"]\nlevels = 1\nsamples = 50"
        ));
        assert!(
            e.to_string().contains("rg.maps") && e.to_string().contains("Ising"),
            "{e}"
        );
        let e = err(&format!(
            "{potts}\n[rg]\noperators = [\"nn\", \"three-spin\"]\nlevels = 1\nsamples = 50"
        ));
        assert!(e.to_string().contains("rg.operators"), "{e}");
        let multispin = GOOD.replace("\"wolff\"", "\"multispin\"");
        let e = err(&format!("{multispin}\n[rg]\nlevels = 1\nsamples = 50"));
        assert!(e.to_string().contains("multispin"), "{e}");
    }

    #[test]
    fn rsmi_sections_are_checked_against_every_size() {
        let with = |section: &str| format!("{GOOD}\n[rsmi]\n{section}");
        let ok = Sweep::parse(
            &with("block = 2\nbuffers = [0, 1]\nenv = 1\nsamples = 50"),
            "s.toml",
        )
        .expect("valid");
        let r = ok.rsmi.as_ref().expect("rsmi");
        assert_eq!((r.block, r.buffers.clone(), r.hidden), (2, vec![0, 1], 1));
        assert!(ok.tasks().iter().all(|t| t.rsmi.as_deref() == Some(r)));
        // L = 8 cannot hold 2 + 2·(2 + 1) = 8? It can; 2 + 2·(3 + 1) = 10 cannot.
        let e = err(&with("block = 2\nbuffers = [0, 3]\nenv = 1\nsamples = 50"));
        assert!(
            e.to_string().contains("rsmi.buffers") && e.to_string().contains("L = 8"),
            "{e}"
        );
        assert_eq!(e.line, 16);
        let e = err(&with(
            "block = 2\nbuffers = [0]\nenv = 1\nsamples = 50\nhidden = 0",
        ));
        assert!(e.to_string().contains("rsmi.hidden"), "{e}");
        let e = err(&with("block = 2\nbuffers = [0]\nenv = 1\nsamples = 500"));
        assert!(e.to_string().contains("rsmi.samples"), "{e}");
        let e = err(&with(
            "block = 2\nbuffers = [0]\nenv = 1\nsamples = 50\ncolour = 1",
        ));
        assert!(e.to_string().contains("colour"), "{e}");
        let e = err(&with("block = 2\nbuffers = []\nenv = 1\nsamples = 50"));
        assert!(e.to_string().contains("rsmi.buffers"), "{e}");
        let e = err(&with(
            "block = 2\nbuffers = [0]\nenv = 1\nsamples = 50\nbound = \"mine\"",
        ));
        assert!(e.to_string().contains("rsmi.bound"), "{e}");
        let multispin = GOOD.replace("\"wolff\"", "\"multispin\"");
        let e = err(&format!(
            "{multispin}\n[rsmi]\nblock = 2\nbuffers = [0]\nenv = 1\nsamples = 50"
        ));
        assert!(e.to_string().contains("multispin"), "{e}");
    }
}

#[cfg(test)]
mod shipped {
    use super::*;

    /// Every sweep file in `configs/` parses and plans: a user's first run of one must not be a
    /// validation error.
    #[test]
    fn every_shipped_config_is_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("configs/") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let sweep =
                Sweep::parse(&text, &path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
            assert!(!sweep.tasks().is_empty(), "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 6, "{seen} configs");
    }
}
