//! `rgsweep rbm`: stacked restricted Boltzmann machines trained by contrastive divergence on the
//! configurations of one 2D Ising point (the Mehta–Schwab setting by default: 40×40 at
//! K = 0.408, layers 1600-400-100-25), with each layer's held-out pseudo-likelihood, training
//! speed and receptive-field size; `--out` writes the data and weights as .npy.

use anyhow::{Context, Result, bail};
use ndarray::{Array2, ArrayView2, Axis};
use ndarray_npy::WriteNpyExt;
use rgsweep_physics::rbm::{self, RbmSettings, Wiring};
use rgsweep_physics::rsmi::samples::{self, System};
use rgsweep_physics::{Algorithm, ModelKind, Stream};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Linear size L of the periodic 2D Ising lattice.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(2..=1024))]
    size: u64,
    /// Temperature (Mehta & Schwab: K = 0.408, T = 2.45098).
    #[arg(long, default_value_t = 1.0 / 0.408, value_parser = crate::positive_f64)]
    temperature: f64,
    /// Configurations (the last fifth held out for the pseudo-likelihood).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(10..=10_000_000))]
    samples: u64,
    /// Read the configurations from a NumPy file [n, L, L] of ±1 (or 0/1) values instead.
    #[arg(long, value_name = "F.npy")]
    samples_file: Option<PathBuf>,
    /// Hidden sizes of the dense layers, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "400,100,25",
        conflicts_with = "local"
    )]
    layers: Vec<usize>,
    /// Instead of dense layers: this many block-local layers, each hidden unit reading one 2×2
    /// block of the level below (a b = 2 map, like RSMI's).
    #[arg(long, value_name = "LEVELS")]
    local: Option<usize>,
    #[arg(long, default_value_t = RbmSettings::default().learning_rate, value_parser = crate::positive_f64)]
    learning_rate: f64,
    #[arg(long, default_value_t = RbmSettings::default().batch)]
    batch: usize,
    #[arg(long, default_value_t = RbmSettings::default().epochs)]
    epochs: usize,
    /// Gibbs steps k of CD-k / PCD-k.
    #[arg(long, default_value_t = RbmSettings::default().cd_steps)]
    cd_steps: usize,
    /// Restart the chains at the data every step (CD-k) instead of persistent chains (PCD).
    #[arg(long)]
    cd: bool,
    /// L1 penalty on the weights (Mehta & Schwab: 2e-4).
    #[arg(long, default_value_t = 0.0)]
    l1: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write train.npy and heldout.npy (rows of 0/1 sites, uint8) and each layer's
    /// layer{l}_w.npy, _b.npy, _c.npy (float32; local layers also layer{l}_inputs.npy) here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

fn configurations(a: &Args) -> Result<Vec<Vec<u8>>> {
    let size = a.size as usize;
    match &a.samples_file {
        Some(path) => crate::rsmi_cmd::read_samples(path, 2, size, None),
        None => {
            let key = format!("rbm-samples/L={size}/T={}", a.temperature);
            let system = System::Lattice {
                model: ModelKind::Ising2d,
                q: 2,
            };
            let s = samples::generate(
                system,
                size,
                a.temperature,
                a.samples as usize,
                Algorithm::Wolff,
                1_000,
                Stream::derive(a.seed, &key),
            );
            Ok(s.configs)
        }
    }
}

/// Writes `array` as DIR/NAME in NumPy's format (also `rgsweep mazes`' export).
pub(crate) fn write<A, D>(dir: &Path, name: &str, array: &ndarray::Array<A, D>) -> Result<()>
where
    A: ndarray_npy::WritableElement,
    D: ndarray::Dimension,
{
    let path = dir.join(name);
    let file = std::fs::File::create(&path)
        .with_context(|| format!("{}: cannot create", path.display()))?;
    array
        .write_npy(std::io::BufWriter::new(file))
        .with_context(|| format!("{}: cannot write", path.display()))
}

pub(crate) fn run(a: Args) -> Result<()> {
    let settings = RbmSettings {
        learning_rate: a.learning_rate,
        batch: a.batch,
        epochs: a.epochs,
        cd_steps: a.cd_steps,
        persistent: !a.cd,
        l1: a.l1,
        ..RbmSettings::default()
    };
    settings.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    let side = a.size as usize;
    let wiring = match a.local {
        Some(levels) => Wiring::Local { side, levels },
        None => Wiring::Dense(a.layers.clone()),
    };
    let flag = if a.local.is_some() {
        "--local"
    } else {
        "--layers"
    };
    wiring
        .shapes(side * side)
        .map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    let t0 = Instant::now();
    let configs = configurations(&a)?;
    let sampling_seconds = t0.elapsed().as_secs_f64();
    let rows = configs.len();
    let test_rows = rows / 5;
    if rows - test_rows < settings.batch || test_rows == 0 {
        bail!("--samples {rows}: too few configurations for a held-out fifth and one --batch");
    }
    let data = Array2::from_shape_fn((rows, side * side), |(r, i)| f32::from(configs[r][i]));
    let (train, heldout) = data.view().split_at(Axis(0), rows - test_rows);
    let mut stream = Stream::derive(a.seed, &format!("rbm-train/L={side}/T={}", a.temperature));
    let t1 = Instant::now();
    let clock = || t1.elapsed().as_secs_f64();
    let (stack, reports) = rbm::train_stack(
        train,
        heldout,
        &wiring,
        Some(side),
        &settings,
        &mut stream,
        Some(&clock),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
        let bytes = |v: ArrayView2<f32>| v.mapv(|x| x as u8);
        write(dir, "train.npy", &bytes(train))?;
        write(dir, "heldout.npy", &bytes(heldout))?;
        for (l, layer) in stack.layers.iter().enumerate() {
            write(dir, &format!("layer{l}_w.npy"), &layer.w)?;
            write(dir, &format!("layer{l}_b.npy"), &layer.b)?;
            write(dir, &format!("layer{l}_c.npy"), &layer.c)?;
            if let rbm::Connections::Local { inputs } = &layer.connections {
                write(dir, &format!("layer{l}_inputs.npy"), inputs)?;
            }
        }
    }
    if a.json {
        let layers: Vec<_> = reports
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["samples_per_second"] = (r.samples as f64 / r.train_seconds).into();
                v
            })
            .collect();
        let v = serde_json::json!({
            "size": side, "temperature": a.temperature, "configurations": rows,
            "heldout": test_rows, "sampling_seconds": sampling_seconds,
            "settings": settings, "local": a.local.is_some(), "layers": layers,
        });
        println!("{}", serde_json::to_string(&v)?);
    } else {
        println!(
            "{rows} configurations of {side}×{side} Ising at T = {} ({sampling_seconds:.1} s), {test_rows} held out",
            a.temperature
        );
        for r in &reports {
            println!(
                "layer {}: {} → {} units, pseudo-likelihood {:.4} → {:.4} nats per unit (held out), {:.0} samples/s, receptive field radius {:.2} sites",
                r.level,
                r.visible,
                r.hidden,
                r.pseudo_likelihood_start,
                r.pseudo_likelihood,
                r.samples as f64 / r.train_seconds,
                r.receptive_field.unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}
