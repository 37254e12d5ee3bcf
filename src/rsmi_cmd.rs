//! `rgsweep rsmi`: learn the coarse-graining of one (model, L, T) point and report I(H:E).

use crate::AlgorithmArg;
use anyhow::{Context, Result, bail};
use rgsweep_physics::model::dimer2d::image::field_overlap;
use rgsweep_physics::rsmi::samples::{self, System};
use rgsweep_physics::rsmi::{self, Bound, Encoding, Geometry, Job, TrainSettings};
use rgsweep_physics::{Algorithm, ModelKind, Stream};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum RsmiModel {
    Ising1d,
    Ising2d,
    Ising3d,
    Potts2d,
    /// Interacting dimers as 2L×2L images (block, buffer, env and stride in pixels).
    Dimer2d,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum BoundArg {
    Infonce,
    Nwj,
}

#[derive(clap::Args)]
pub(crate) struct Args {
    #[arg(long, value_enum)]
    model: RsmiModel,
    /// Potts states (potts2d only).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=64))]
    q: Option<u8>,
    /// Linear lattice size L.
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=4096))]
    size: u64,
    #[arg(long, value_parser = crate::positive_f64)]
    temperature: f64,
    /// Visible block L_V (sites per side).
    #[arg(long)]
    block: usize,
    /// Buffer width L_B.
    #[arg(long)]
    buffer: usize,
    /// Environment shell width L_E.
    #[arg(long)]
    env: usize,
    /// Coarse-grained units n_H.
    #[arg(long, default_value_t = 1)]
    hidden: usize,
    /// Configurations (a fifth held out for the reported MI, a fifth for validation).
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u64).range(10..=10_000_000))]
    samples: u64,
    /// Monte Carlo algorithm for the samples (cluster updates cover both magnetisation signs);
    /// default wolff, worm for dimer2d.
    #[arg(long, value_enum)]
    algorithm: Option<AlgorithmArg>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Block corners every STRIDE sites (default L/4: 16 blocks per 2D configuration).
    #[arg(long)]
    stride: Option<usize>,
    #[arg(long, value_enum, default_value = "infonce")]
    bound: BoundArg,
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Largest number of epochs (training stops earlier once the estimate stops moving).
    #[arg(long, default_value_t = 60)]
    epochs: usize,
    /// Early stopping: an epoch counts as progress if the validation MI rose by more than this
    /// (nats).
    #[arg(long, default_value_t = TrainSettings::default().tolerance)]
    tolerance: f64,
    /// Critic networks u and g: dense layers (hidden layers + 1).
    #[arg(long, default_value_t = TrainSettings::default().critic_layers)]
    critic_layers: usize,
    /// Critic hidden-layer width.
    #[arg(long, default_value_t = TrainSettings::default().critic_width)]
    critic_width: usize,
    /// Critic embedding (output) width.
    #[arg(long, default_value_t = TrainSettings::default().embedding)]
    embedding: usize,
    /// Early stopping: stop after this many epochs without progress.
    #[arg(long, default_value_t = TrainSettings::default().patience)]
    patience: usize,
    /// Adam's learning rate (`[rsmi] learning_rate` in a sweep file).
    #[arg(long, default_value_t = TrainSettings::default().learning_rate)]
    learning_rate: f64,
    /// Train on configurations from a NumPy file, shape [n, L, L] or [n, L, L, L] (or [n, L]
    /// for ising1d), values ±1 (Ising) or 0..q−1 (Potts); dimer2d: [n, 2L, 2L] images of 0/1
    /// pixels (as `save_samples` writes them).
    #[arg(long, value_name = "F.npy")]
    samples_file: Option<PathBuf>,
    /// dimer2d: also apply the learned filters to every block of a lattice of this size at the
    /// same temperature and fit the coarse variables' correlations, G(r) ∝ r^(−2Δ): the
    /// scaling dimension Δ of what RSMI learned (the electric field: 1).
    #[arg(long, value_name = "L")]
    dimension_size: Option<u64>,
    /// With --hidden 2 or more: learn the units one at a time, each with the ones before it
    /// frozen, then all together (trained together they tend to read one variable twice).
    #[arg(long)]
    stagewise: bool,
    /// Slope of the critic's activation below zero (0: ReLU, whose units can all die, leaving
    /// I = 0).
    #[arg(long, default_value_t = TrainSettings::default().critic_leak)]
    critic_leak: f64,
    /// Training steps at the start without the units' logistic noise (keeps units from
    /// settling on one variable together).
    #[arg(long, default_value_t = TrainSettings::default().quiet_steps)]
    quiet_steps: usize,
    /// Independent trainings; the one with the best validation MI is kept.
    #[arg(long, default_value_t = TrainSettings::default().restarts)]
    restarts: usize,
    #[arg(long)]
    json: bool,
}

impl RsmiModel {
    fn dim(self) -> usize {
        match self {
            RsmiModel::Ising1d => 1,
            RsmiModel::Ising2d | RsmiModel::Potts2d | RsmiModel::Dimer2d => 2,
            RsmiModel::Ising3d => 3,
        }
    }
}

/// Reads an .npy of any integer or float type as spin states, checking shape and values.
pub(crate) fn read_samples(
    path: &Path,
    dim: usize,
    size: usize,
    q: Option<u8>,
) -> Result<Vec<Vec<u8>>> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("{name}: not a readable .npy file"))?;
    Ok(rgsweep_physics::npy::read_samples(
        &bytes, &name, dim, size, q,
    )?)
}

/// `--samples` dimer images at `--temperature` (v = −1), evenly spaced over a chain of
/// `--samples` measurements 4 sweeps apart after 2000 sweeps, as a sweep's `[rsmi]` takes them.
fn dimer_images(a: &Args, algorithm: Algorithm) -> Result<Vec<Vec<u8>>> {
    use rgsweep_physics::model::dimer2d::{self, Schedule, Update, worm::Exits};
    let update = match algorithm {
        Algorithm::Plaquette => Update::Plaquette,
        Algorithm::WormMinimalBounce => Update::Worm(Exits::MinimalBounce),
        _ => Update::Worm(Exits::HeatBath),
    };
    let key = format!("rsmi-samples/dimer2d/L={}/T={}", a.size, a.temperature);
    let mut stream = Stream::derive(a.seed, &key);
    let mut decoys = Stream::derive(a.seed, &format!("{key}/decoys"));
    let schedule = Schedule {
        thermalize: 2_000,
        measurements: a.samples,
        interval: 4,
        keep: a.samples,
    };
    let run = dimer2d::simulate(
        a.size as usize,
        -1,
        1.0 / a.temperature,
        update,
        schedule,
        &mut stream,
        &mut decoys,
    )?;
    Ok(run.images)
}

pub(crate) fn run(a: Args) -> Result<()> {
    let dim = a.model.dim();
    let size = a.size as usize;
    let (system, encoding, q) = match (a.model, a.q) {
        (RsmiModel::Potts2d, Some(q)) => (
            System::Lattice {
                model: ModelKind::Potts2d,
                q,
            },
            Encoding::OneHot(q),
            Some(q),
        ),
        (RsmiModel::Potts2d, None) => bail!("--q is required for potts2d"),
        (_, Some(_)) => bail!("--q applies to potts2d only"),
        (RsmiModel::Ising1d, None) => (System::Chain, Encoding::Ising, None),
        (RsmiModel::Ising2d, None) => (
            System::Lattice {
                model: ModelKind::Ising2d,
                q: 2,
            },
            Encoding::Ising,
            None,
        ),
        (RsmiModel::Ising3d, None) => (
            System::Lattice {
                model: ModelKind::Ising3d,
                q: 2,
            },
            Encoding::Ising,
            None,
        ),
        // Images: their 0/1 pixels are read like 2-state Potts values, encoded ±1 like Ising.
        (RsmiModel::Dimer2d, None) => (
            System::Lattice {
                model: ModelKind::Dimer2d,
                q: 2,
            },
            Encoding::Ising,
            Some(2),
        ),
    };
    let dimers = matches!(a.model, RsmiModel::Dimer2d);
    if dimers {
        if let Some(why) = ModelKind::Dimer2d.size_error(size) {
            bail!("--size: {why}");
        }
        if !a.block.is_multiple_of(2) || a.stride.is_some_and(|s| !s.is_multiple_of(2)) {
            bail!("--block and --stride: a dimer image's cells are 2×2 pixels: both must be even");
        }
    }
    // The lattice RSMI sees: a dimer lattice's image is twice as wide.
    let pixels = if dimers { 2 * size } else { size };
    let geometry = Geometry::new(dim, pixels, a.block, a.buffer, a.env)
        .map_err(|e| anyhow::anyhow!("--block/--buffer/--env: {e}"))?;
    if a.stagewise && a.hidden < 2 {
        bail!("--stagewise learns the units one at a time: it needs --hidden 2 or more");
    }
    let settings = TrainSettings {
        hidden: a.hidden,
        bound: match a.bound {
            BoundArg::Infonce => Bound::InfoNce,
            BoundArg::Nwj => Bound::Nwj,
        },
        batch: a.batch,
        max_epochs: a.epochs,
        tolerance: a.tolerance,
        patience: a.patience,
        learning_rate: a.learning_rate,
        critic_layers: a.critic_layers,
        critic_width: a.critic_width,
        embedding: a.embedding,
        min_epochs: TrainSettings::default().min_epochs.min(a.epochs),
        stagewise: a.stagewise,
        critic_leak: a.critic_leak,
        quiet_steps: a.quiet_steps,
        restarts: a.restarts,
        ..TrainSettings::default()
    };
    settings.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    let algorithm = a.algorithm.map_or(
        if dimers {
            Algorithm::Worm
        } else {
            Algorithm::Wolff
        },
        Algorithm::from,
    );
    if algorithm == Algorithm::Multispin {
        bail!(
            "--algorithm multispin keeps 64 replicas in bit planes; RSMI needs whole configurations: use wolff or swendsen-wang"
        );
    }
    if let System::Lattice { model, .. } = system
        && !algorithm.runs(model)
    {
        bail!(
            "--algorithm {algorithm} cannot sample {model}; use {}",
            Algorithm::names_for(model)
        );
    }
    let job = Job {
        geometry,
        encoding,
        stride: a.stride.unwrap_or_else(|| Job::default_stride(&geometry)),
        holdout: rsmi::HOLDOUT,
        open: matches!(system, System::Chain),
        settings,
    };
    let started = Instant::now();
    let (configs, spacing) = match &a.samples_file {
        Some(path) => (read_samples(path, dim, pixels, q)?, None),
        None if dimers => (dimer_images(&a, algorithm)?, None),
        None => {
            let stream = Stream::derive(
                a.seed,
                &format!("rsmi-samples/L={size}/T={}", a.temperature),
            );
            let s = samples::generate(
                system,
                size,
                a.temperature,
                a.samples as usize,
                algorithm,
                1_000,
                stream,
            );
            (s.configs, Some(s.spacing))
        }
    };
    let sampling_seconds = started.elapsed().as_secs_f64();
    let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
    let mut stream = Stream::derive(a.seed, &format!("rsmi-train/L={size}/T={}", a.temperature));
    let t0 = Instant::now();
    let clock = || t0.elapsed().as_secs_f64();
    let trained =
        rsmi::run(&refs, &job, &mut stream, Some(&clock)).map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = t0.elapsed().as_secs_f64();
    let dimension = match a.dimension_size {
        Some(l) if dimers => {
            let l = l as usize;
            if let Some(why) = ModelKind::Dimer2d.size_error(l) {
                bail!("--dimension-size: {why}");
            }
            if 2 * l < 8 * a.block {
                bail!("--dimension-size {l}: the image needs at least 8 blocks a side");
            }
            let key = format!("rsmi-dimension/dimer2d/L={l}/T={}", a.temperature);
            let mut rng = Stream::derive(a.seed, &key);
            let mut decoys = Stream::derive(a.seed, &format!("{key}/decoys"));
            rgsweep_physics::model::dimer2d::coarse::measure(
                &trained.filters,
                a.block,
                l,
                1.0 / a.temperature,
                &mut rng,
                &mut decoys,
            )
        }
        Some(_) => bail!("--dimension-size applies to dimer2d only"),
        None => None,
    };
    // Training steps only (validation and held-out evaluation excluded), as peers report it.
    let samples_per_second = trained.samples as f64 / trained.train_seconds;
    if a.json {
        let v = serde_json::json!({
            "model": format!("{:?}", a.model).to_lowercase(), "size": size, "temperature": a.temperature,
            "block": a.block, "buffer": a.buffer, "env": a.env, "hidden": a.hidden,
            "configurations": configs.len(), "blocks_per_configuration": job.corners().len(),
            "spacing": spacing, "sampling_seconds": sampling_seconds,
            "mi_nats": trained.mi_nats, "mi_err": trained.mi_err, "train_mi": trained.train_mi,
            "filters": trained.filters, "epochs": trained.epochs, "seconds": seconds,
            "samples_per_second": samples_per_second, "train_seconds": trained.train_seconds,
            "history": trained.history,
            "restart": trained.restart, "restart_scores": trained.restart_scores,
            "field": dimers.then(|| field_overlap(&trained.filters, a.block)).flatten(),
            "dimension": dimension,
        });
        println!("{}", serde_json::to_string(&v)?);
    } else {
        println!(
            "I(H:E) = {:.4} ± {:.4} nats (held out; training estimate {:.4}), {} epochs, {:.1} s, {:.0} samples/s",
            trained.mi_nats,
            trained.mi_err,
            trained.train_mi,
            trained.epochs,
            seconds,
            samples_per_second
        );
        if let Some(o) = dimers
            .then(|| field_overlap(&trained.filters, a.block))
            .flatten()
        {
            println!(
                "filters: {:.1}% of their squared weight in the electric field's span (which they cover to {:.1}%), {:.1}% in the columnar order's, {:.1}% on decoys",
                100.0 * o.in_field_span,
                100.0 * o.field_in_filter_span,
                100.0 * o.in_columnar_span,
                100.0 * o.decoy_weight
            );
        }
        if let Some(d) = dimension {
            println!(
                "scaling dimension of the coarse variables on L = {}: Δ = {:.3} ± {:.3}",
                a.dimension_size.unwrap_or(0),
                d.value,
                d.error
            );
        }
        let width = encoding.width();
        for (k, f) in trained.filters.iter().enumerate() {
            println!("filter {k} ({} per site, row-major):", width);
            for row in f.chunks(a.block * width) {
                println!(
                    "  {}",
                    row.iter()
                        .map(|x| format!("{x:>8.3}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
        }
    }
    Ok(())
}
