//! `rgsweep mazes`: maze-testing samples of one side L (Ringel & de Bem 2018) — drawn as a
//! maze sweep's training runs draw them (centre open; alternately positive and negative unless
//! `--unbalanced`) — with their breadth-first depths and the hand-set network's accuracy;
//! `--out` writes them as .npy for other tools, and `--steps` trains one spreading network on
//! them as one task of a maze sweep would.

use crate::rbm_cmd::write;
use anyhow::{Context, Result, bail};
use ndarray::{Array1, Array3};
use rgsweep_physics::Stream;
use rgsweep_physics::model::maze::train::{self, Settings, Source};
use rgsweep_physics::model::maze::{self, HandSet, Maze};
use rgsweep_physics::sweep::{MAX_LAYERS, MAX_MAZE_SIZE};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Maze side L.
    #[arg(long, value_parser = clap::value_parser!(u64).range(5..=MAX_MAZE_SIZE as u64))]
    size: u64,
    /// Mazes to draw (and, with --steps, the training run's held-out test mazes).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
    count: u64,
    /// Occupation probability (default: the square lattice's site p_c).
    #[arg(long, default_value_t = maze::SITE_P_C)]
    p: f64,
    /// Draw mazes as they come (centre open) instead of alternately positive and negative.
    #[arg(long)]
    unbalanced: bool,
    /// Depth n of the hand-set network scored on the mazes (and of the trained one).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=MAX_LAYERS as u64))]
    layers: u64,
    /// Train one spreading network for this many Adam steps (fresh mazes every step) and
    /// measure it on `count` held-out mazes of its own, as one task of a maze sweep does.
    #[arg(long)]
    steps: Option<usize>,
    #[arg(long, default_value_t = Settings::new(1, 1).batch)]
    batch: usize,
    #[arg(long, default_value_t = Settings::new(1, 1).learning_rate)]
    learning_rate: f64,
    #[arg(long, default_value_t = Settings::new(1, 1).init_scale)]
    init_scale: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write mazes.npy [count, L, L] (1 = open), hot_spots.npy [count, L, L] (the one-hot
    /// image H₀), labels.npy [count] (1 = the hot spot's cluster holds the centre), all uint8,
    /// and depths.npy [count] (int64 breadth-first depth, −1 for negatives) here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    size: usize,
    p: f64,
    count: usize,
    positives: usize,
    /// Mean breadth-first depth of the positives, and its standard error.
    mean_depth: Option<rgsweep_physics::stats::Estimate>,
    max_depth: Option<u32>,
    layers: usize,
    /// The hand-set breadth-first network of `layers` layers (gain 40): right on every maze
    /// whose depth it reaches and every negative.
    hand_accuracy: f64,
    /// The fraction of mazes a depth-`layers` breadth-first search settles.
    settled: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    training: Option<Training>,
}

#[derive(Serialize)]
struct Training {
    steps: usize,
    seconds: f64,
    first_loss: f64,
    final_loss: f64,
    test_loss: f64,
    test_accuracy: f64,
    hand_accuracy: f64,
    sensitivity: f64,
    hand_sensitivity: f64,
    neglect: bool,
}

fn export(dir: &Path, mazes: &[Maze], size: usize) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let n = mazes.len();
    let mut open = Array3::<u8>::zeros((n, size, size));
    let mut hot = Array3::<u8>::zeros((n, size, size));
    for (k, m) in mazes.iter().enumerate() {
        for (i, &o) in m.open.iter().enumerate() {
            open[[k, i / size, i % size]] = u8::from(o);
        }
        hot[[k, m.start / size, m.start % size]] = 1;
    }
    let labels: Array1<u8> = mazes.iter().map(|m| u8::from(m.label)).collect();
    let depths: Array1<i64> = mazes
        .iter()
        .map(|m| m.depth.map_or(-1, i64::from))
        .collect();
    write(dir, "mazes.npy", &open)?;
    write(dir, "hot_spots.npy", &hot)?;
    write(dir, "labels.npy", &labels)?;
    write(dir, "depths.npy", &depths)
}

pub(crate) fn run(a: Args) -> Result<()> {
    if !(a.p > 0.0 && a.p <= 1.0) {
        bail!("--p must lie in (0, 1], got {}", a.p);
    }
    let size = a.size as usize;
    let layers = a.layers as usize;
    let mut stream = Stream::derive(a.seed, &format!("mazes/export/L={size}"));
    let mut source = Source::new(size, a.p, !a.unbalanced);
    let mazes: Vec<Maze> = (0..a.count).map(|_| source.next(&mut stream)).collect();
    let hand = HandSet { gain: 40.0 };
    let right = mazes
        .iter()
        .filter(|m| hand.classify(m, layers) == m.label)
        .count();
    let settled = mazes
        .iter()
        .filter(|m| m.depth.is_none_or(|d| d as usize <= layers))
        .count();
    let count = mazes.len();
    let training = match a.steps {
        None => None,
        Some(steps) => {
            let mut s = Settings::new(layers, steps);
            s.p = a.p;
            s.batch = a.batch;
            s.learning_rate = a.learning_rate;
            s.init_scale = a.init_scale;
            s.test = count;
            s.balanced = !a.unbalanced;
            if let Some((field, why)) = s.problem() {
                bail!("--{}: {why}", field.replace('_', "-"));
            }
            let started = Instant::now();
            let clock = || started.elapsed().as_secs_f64();
            let mut run_stream =
                Stream::derive(a.seed, &format!("mazes/train/L={size}/n={layers}"));
            let o = train::run(size, &s, &mut run_stream, &clock);
            Some(Training {
                steps,
                seconds: o.seconds,
                first_loss: o.loss_curve.first().copied().unwrap_or(f64::NAN),
                final_loss: o.loss_curve.last().copied().unwrap_or(f64::NAN),
                test_loss: o.test_loss,
                test_accuracy: o.test_accuracy,
                hand_accuracy: o.hand_accuracy,
                sensitivity: o.sensitivity,
                hand_sensitivity: o.hand_sensitivity,
                neglect: o.neglect,
            })
        }
    };
    let report = Report {
        size,
        p: a.p,
        count,
        positives: mazes.iter().filter(|m| m.label).count(),
        mean_depth: maze::mean_depth(&mazes),
        max_depth: mazes.iter().filter_map(|m| m.depth).max(),
        layers,
        hand_accuracy: right as f64 / count as f64,
        settled: settled as f64 / count as f64,
        training,
    };
    if let Some(dir) = &a.out {
        export(dir, &mazes, size)?;
    }
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "{count} mazes of {size}×{size} at p = {}: {} positive, depth of positives {} (max {})",
        a.p,
        report.positives,
        report
            .mean_depth
            .as_ref()
            .map_or("—".into(), ToString::to_string),
        report.max_depth.map_or("—".into(), |d| d.to_string())
    );
    println!(
        "hand-set network, n = {layers}: accuracy {:.4} (settled by depth {layers}: {:.4})",
        report.hand_accuracy, report.settled
    );
    if let Some(t) = &report.training {
        println!(
            "trained, n = {layers}, {} steps in {:.1} s: training loss {:.4} -> {:.4}; test loss {:.4}, accuracy {:.4} (hand-set {:.4}); maze sensitivity {:.4} (hand-set {:.4}){}",
            t.steps,
            t.seconds,
            t.first_loss,
            t.final_loss,
            t.test_loss,
            t.test_accuracy,
            t.hand_accuracy,
            t.sensitivity,
            t.hand_sensitivity,
            if t.neglect { ": a neglect minimum" } else { "" }
        );
    }
    if let Some(dir) = &a.out {
        println!(
            "wrote mazes.npy, hot_spots.npy, labels.npy, depths.npy to {}",
            dir.display()
        );
    }
    Ok(())
}
