//! The sweep file: one TOML document that says what to simulate, and its expansion into tasks.
//!
//! This is a lasting contract (the coordinator plans from it too), so it is strict: unknown keys
//! are errors, and every error names the file, line, column and field and says what is allowed.
//! Parsing is pure (text in, value out); reading the file is the caller's job.
//!
//! ```toml
//! name = "quickstart"
//! seed = 1
//! model = "ising2d"                  # ising2d | ising3d | potts2d (then q = 3, ...) | dimer2d
//! sizes = [8, 16, 32]
//! temperatures = { start = 2.0, stop = 2.6, step = 0.05 }   # or a list [2.2, 2.3]
//! replicas = 2
//!
//! [monte_carlo]
//! algorithm = "wolff"                # metropolis | heatbath | wolff | swendsen-wang | multispin;
//!                                    # dimer2d: worm | worm-minimal-bounce | plaquette
//! thermalize = 500                   # sweeps discarded first
//! measurements = 4000                # measurements kept per replica
//! interval = 1                       # sweeps between measurements
//!
//! [fss]                              # optional; see `FssSettings`
//! fit_min_size = 16
//! ```

use crate::model::ModelKind;
use crate::sampler::Algorithm;
use serde::{Deserialize, Serialize};
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

/// Percolation: the most (occupation number × series) entries one block stores, so that a
/// task's result stays well under the wire's message limit.
pub const MAX_WINDOW_ENTRIES: u64 = 1 << 25;

/// Percolation: the most runs one block on a lattice of `sites` sites may hold (a block sums
/// s_max² over its runs in 63 bits).
pub fn max_runs(sites: u64) -> u64 {
    ((1u64 << 62) / sites.saturating_mul(sites).max(1)).clamp(1, 1 << 32)
}

mod check;
mod external;
pub mod lab;
mod mazes;
mod monte_carlo;
mod networks;
mod percolation;

pub use mazes::{MAX_LAYERS, MAX_MAZE_SIZE, MazeSweep};
mod raw;
#[cfg(test)]
mod tests;

pub use crate::settings::{FssSettings, MonteCarlo, RsmiSweep};
use check::Ctx;
use raw::*;

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
    /// dimer2d: the interaction v (T in units of |v|); absent for spin models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<i64>,
    /// Percolation: the occupation probabilities p swept (`temperatures` is then empty,
    /// `replicas` counts blocks per size and `monte_carlo.measurements` runs per block).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probabilities: Vec<f64>,
    /// Percolation with runs per block that differ by size: one per size, in `sizes`' order
    /// (empty when every size has `monte_carlo.measurements`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_runs: Vec<u64>,
    /// Mazes: the depths and training of the runs (`replicas` counts runs per (L, n)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mazes: Option<MazeSweep>,
    /// External sweeps: the registered sampler and its parameters (`model` is the spin model
    /// of the configuration type; `temperatures` the swept temperature parameter's values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<crate::model::external::Sampling>,
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

/// Line and column of the top-level `key = …` in a sweep file's text (before any table), for
/// errors found after parsing — a coordinator refusing a sampler no worker has, say.
pub fn key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('[') {
            return None;
        }
        if let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some((n + 1, line.len() - t.len() + 1));
        }
    }
    None
}

/// `cx.text` deserialised, a TOML or shape error located at its line and field.
fn from_toml<T: serde::de::DeserializeOwned>(cx: &Ctx) -> Result<T, SweepError> {
    toml::from_str(cx.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_string();
        // A missing key is reported on its table, whose span does not point at any key:
        // naming the key found on that line would blame an innocent field.
        let field = if message.starts_with("missing field") {
            String::new()
        } else {
            key_at(cx.text, span.start).unwrap_or_default()
        };
        cx.err(span, &field, message)
    })
}

/// A sweep's name: it names the output directory, so plain characters only.
fn check_name(cx: &Ctx, raw: &Spanned<String>) -> Result<String, SweepError> {
    let name = raw.get_ref().trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || name.starts_with('.')
    {
        return Err(cx.err(
            raw.span(),
            "name",
            format!(
                "must be non-empty and use only letters, digits, '-', '_' and '.' (it names the output directory), got {:?}",
                raw.get_ref()
            ),
        ));
    }
    Ok(name)
}

impl Sweep {
    /// Parses and validates sweep-file `text`; `file` is only used in error messages.
    pub fn parse(text: &str, file: &str) -> Result<Sweep, SweepError> {
        let cx = Ctx { file, text };
        if let Some(span) = lab::lab_key(text) {
            return Err(cx.err(
                span,
                "lab",
                "a laboratory file, computed exactly: `rgsweep run FILE` computes it on this machine; it has no tasks to queue".into(),
            ));
        }
        let raw: RawSweep = from_toml(&cx)?;
        let model_span = raw.model.span();
        let declared = external::declared(&cx, &raw)?;
        let model = declared
            .as_ref()
            .map_or(raw.model.get_ref().kind(), |d| d.model);

        let name = check_name(&cx, &raw.name)?;
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

        let interaction = cx.model_support(&raw, model)?;

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
            if let Some(why) = model.size_error(v as usize) {
                return Err(cx.err(s.span(), "sizes", why));
            }
            sizes.push(v as usize);
        }
        sizes.sort_unstable();

        if model.is_maze() {
            return mazes::sweep(&cx, &raw, name, seed as u64, sizes);
        }
        if let Some(m) = &raw.mazes {
            return Err(cx.err(
                m.span(),
                "mazes",
                format!("[mazes] belongs to model = \"mazes\", not to {model}"),
            ));
        }
        if model.percolation(2).is_some() {
            return percolation::sweep(&cx, &raw, name, seed as u64, sizes);
        }
        if let Some(p) = &raw.p {
            return Err(cx.err(
                p.span(),
                "p",
                format!("p (occupation probabilities) applies to percolation models, not to {model}: sweep temperatures"),
            ));
        }
        let (temperatures, temperatures_span) = match &declared {
            Some(d) => (d.temperatures.clone(), d.temperatures_span.clone()),
            None => {
                let Some(raw_temperatures) = &raw.temperatures else {
                    return Err(cx.err(
                        model_span,
                        "temperatures",
                        format!("model {model} is swept over temperatures: add `temperatures = [...]` or a range"),
                    ));
                };
                (
                    expand_temperatures(&cx, raw_temperatures)?,
                    raw_temperatures.span(),
                )
            }
        };

        let replicas = match &raw.replicas {
            Some(r) => cx.positive(r, "replicas", u64::from(MAX_REPLICAS))? as u32,
            None => 1,
        };

        let (monte_carlo, measurements_span) = match &declared {
            Some(d) => (
                MonteCarlo {
                    algorithm: Algorithm::External,
                    thermalize: 0,
                    measurements: d.configurations,
                    interval: 1,
                },
                d.configurations_span.clone(),
            ),
            None => cx.built_in_monte_carlo(&raw, model)?,
        };
        let measurements = monte_carlo.measurements;
        let tasks = (sizes.len() as u64)
            .saturating_mul(temperatures.len() as u64)
            .saturating_mul(u64::from(
                replicas.div_ceil(replica_group(monte_carlo.algorithm)),
            ));
        if tasks > MAX_TASKS as u64 {
            let (span, field) = match &raw.replicas {
                Some(r) if *r.get_ref() > 1 => (r.span(), "replicas"),
                _ => (temperatures_span, "temperatures"),
            };
            return Err(cx.err(
                span,
                field,
                format!(
                    "sizes × temperatures × replicas = {} × {} × {replicas} = {tasks} tasks{}; at most {MAX_TASKS}",
                    sizes.len(),
                    temperatures.len(),
                    if replica_group(monte_carlo.algorithm) > 1 {
                        " (multispin: 64 replicas per task)"
                    } else {
                        ""
                    }
                ),
            ));
        }

        let stored = (sizes.len() as u64)
            .saturating_mul(temperatures.len() as u64)
            .saturating_mul(u64::from(replicas))
            .saturating_mul(measurements);
        if stored > MAX_STORED_MEASUREMENTS {
            return Err(cx.err(
                measurements_span,
                if declared.is_some() { "configurations" } else { "monte_carlo.measurements" },
                format!(
                    "sizes × temperatures × replicas × measurements = {stored} stored measurements (16 bytes each); at most {MAX_STORED_MEASUREMENTS}: use fewer measurements or a larger interval"
                ),
            ));
        }

        let fss = cx.fss(&raw.fss)?;

        let rsmi = match &raw.rsmi {
            Some(r) => Some(cx.rsmi(
                r,
                (model, q.unwrap_or(2)),
                &sizes,
                monte_carlo.algorithm,
                measurements,
            )?),
            None => None,
        };
        let save_samples = match &raw.save_samples {
            Some(n) => {
                let n = cx.positive(n, "save_samples", measurements)?;
                if monte_carlo.algorithm == Algorithm::Multispin {
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
        let task_seconds = cx.task_seconds(&raw.task_seconds)?;
        let rg = match &raw.rg {
            Some(r) => Some(cx.rg(
                r,
                (model, q.unwrap_or(2)),
                &sizes,
                monte_carlo.algorithm,
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
            monte_carlo,
            fss,
            rsmi,
            rg,
            save_samples,
            task_seconds,
            interaction,
            probabilities: Vec::new(),
            block_runs: Vec::new(),
            mazes: None,
            external: declared.map(|d| d.sampling),
        })
    }

    /// The tasks of this sweep, largest lattices first so long tasks do not trail at the end.
    /// Each task is one replica, except for multispin, where one task runs up to 64 replicas.
    pub fn tasks(&self) -> Vec<crate::task::Task> {
        if let Some(m) = &self.mazes {
            return mazes::tasks(self, m);
        }
        if self.model.percolation(2).is_some() {
            return percolation::tasks(self);
        }
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
                        interaction: self.interaction,
                        probabilities: Vec::new(),
                        maze: None,
                        external: self.external.clone().map(Box::new),
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
    let list = expand_grid(cx, t, "temperatures", "temperature")?;
    if let Some(x) = list.iter().find(|x| **x <= 0.0) {
        return Err(cx.err(
            t.span(),
            "temperatures",
            format!("temperatures must be positive and finite, got {x}"),
        ));
    }
    Ok(list)
}

/// A list of values or an arithmetic range (`{ start, stop, step }` or `{ start, stop, count }`),
/// sorted, finite, at most 100000 and without repeats; `noun` names one value in messages.
fn expand_grid(
    cx: &Ctx,
    t: &Spanned<Temperatures>,
    field: &str,
    noun: &str,
) -> Result<Vec<f64>, SweepError> {
    let span = t.span();
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
                            format!("range gives {count} {noun}s; at most 100000"),
                        ));
                    }
                    let n = count as i64;
                    if n > 100_000 {
                        return Err(cx.err(
                            span,
                            field,
                            format!("range gives {n} {noun}s; at most 100000"),
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
        return Err(cx.err(span, field, format!("needs at least one {noun}")));
    }
    if list.len() > 100_000 {
        return Err(cx.err(
            span,
            field,
            format!("{} {noun}s; at most 100000", list.len()),
        ));
    }
    if let Some(t) = list.iter().find(|t| !t.is_finite()) {
        return Err(cx.err(span, field, format!("{noun}s must be finite, got {t}")));
    }
    let mut out = list;
    out.sort_by(f64::total_cmp);
    // Sorted, a repeat is a neighbour: searching the list for each one took half a second of a
    // coordinator's time for the 100000 temperatures one line of a range may give.
    if let Some(w) = out.windows(2).find(|w| w[0] == w[1]) {
        return Err(cx.err(span, field, format!("{noun} {} is listed twice", w[0])));
    }
    Ok(out)
}
