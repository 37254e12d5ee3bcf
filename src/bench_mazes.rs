//! `rgsweep bench mazes`: the spreading network's cost per maze cell and layer — the hand-written
//! forward pass (`physics::model::maze::Net`), its backward pass, and the same gated 3×3
//! convolution written the ordinary ndarray way (nine shifted views added with `scaled_add`,
//! then the sigmoid and the gate), measured in one run on the same mazes. ARCHITECTURE.md
//! records the numbers behind hand-writing the convolution.

use anyhow::{Result, bail};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rgsweep_physics::Stream;
use rgsweep_physics::model::maze::train::Source;
use rgsweep_physics::model::maze::{Framed, Net, Pass, SITE_P_C, Scratch};
use serde::Serialize;
use std::time::Instant;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Maze sides.
    #[arg(long, value_delimiter = ',', default_values_t = vec![16usize, 64, 128])]
    sizes: Vec<usize>,
    /// Layers n of the network.
    #[arg(long, default_value_t = 16)]
    layers: usize,
    /// Target seconds per timing; the best of its repetitions is kept.
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Print one JSON array of rows.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    size: usize,
    layers: usize,
    /// ns per cell and layer: hand-written forward, forward + backward, ndarray forward.
    forward_ns: f64,
    forward_backward_ns: f64,
    ndarray_forward_ns: f64,
    /// ndarray's forward time over the hand-written one.
    ndarray_over_hand: f64,
}

/// The l×l window of `a` at (y, x). (ndarray's `s!` macro cannot be used here: it allows
/// `unsafe_code`, which the workspace forbids.)
fn window(a: &Array2<f64>, y: usize, x: usize, l: usize) -> ArrayView2<'_, f64> {
    let mut v = a.view();
    v.slice_axis_inplace(Axis(0), Slice::from(y..y + l));
    v.slice_axis_inplace(Axis(1), Slice::from(x..x + l));
    v
}

fn window_mut(a: &mut Array2<f64>, l: usize) -> ArrayViewMut2<'_, f64> {
    let mut v = a.view_mut();
    v.slice_axis_inplace(Axis(0), Slice::from(1..1 + l));
    v.slice_axis_inplace(Axis(1), Slice::from(1..1 + l));
    v
}

/// The forward pass with ndarray's array operations: what the hand-written one is measured
/// against. Returns the logit, checked equal to the hand-written pass's.
fn ndarray_forward(net: &Net, maze: &Framed) -> f64 {
    let (l, w) = (maze.size, maze.size + 2);
    let gate = Array2::from_shape_vec((w, w), maze.gate.clone())
        .map(|g| window(&g, 1, 1, l).to_owned())
        .unwrap_or_else(|_| Array2::zeros((l, l)));
    let mut h = Array2::<f64>::zeros((w, w));
    h[[maze.start / w, maze.start % w]] = 1.0;
    // Buffers reused across layers, so that the comparison is of the arithmetic, not of
    // allocation (the backward pass keeps every layer's image, as the hand-written one does).
    let mut sum = Array2::<f64>::zeros((l, l));
    let mut next = Array2::<f64>::zeros((w, w));
    for t in 0..net.layers {
        let p = &net.theta[10 * t..10 * t + 10];
        sum.fill(p[9]);
        for (k, &weight) in p[..9].iter().enumerate() {
            sum.scaled_add(weight, &window(&h, k / 3, k % 3, l));
        }
        ndarray::Zip::from(window_mut(&mut next, l))
            .and(&sum)
            .and(&gate)
            .for_each(|o, &z, &g| {
                *o = if g > 0.0 {
                    rgsweep_physics::model::maze::sigmoid(z)
                } else {
                    0.0
                }
            });
        std::mem::swap(&mut h, &mut next);
    }
    let r = 10 * net.layers;
    net.theta[r] * h[[maze.centre / w, maze.centre % w]] + net.theta[r + 1]
}

/// Best seconds per call of `f` over repetitions filling about `seconds`.
fn best(seconds: f64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-9);
    let reps = ((seconds / 5.0 / once).ceil() as usize).clamp(1, 1_000_000);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    best
}

pub(crate) fn run(a: Args) -> Result<()> {
    if a.sizes.iter().any(|&l| !(5..=1024).contains(&l)) || !(1..=1024).contains(&a.layers) {
        bail!("--sizes must lie in 5..=1024 and --layers in 1..=1024");
    }
    let mut rows = Vec::new();
    for &size in &a.sizes {
        let mut stream = Stream::derive(1, "bench/mazes");
        let mut source = Source::new(size, SITE_P_C, true);
        let mazes: Vec<Framed> = (0..8)
            .map(|_| Framed::new(&source.next(&mut stream)))
            .collect();
        let net = Net::random(a.layers, 0.5, &mut stream);
        for m in &mazes {
            let (ours, theirs) = (net.forward(m).logit, ndarray_forward(&net, m));
            if (ours - theirs).abs() > 1e-9 * (1.0 + ours.abs()) {
                bail!("the two forward passes disagree: {ours} against {theirs}");
            }
        }
        let mut grad = vec![0.0; net.theta.len()];
        let mut sink = 0.0;
        // As training runs them: buffers kept from maze to maze.
        let mut pass = Pass::default();
        let forward = best(a.seconds, || {
            for m in &mazes {
                net.forward_into(m, &mut pass);
                sink += pass.logit;
            }
        });
        let mut scratch = Scratch::default();
        let both = best(a.seconds, || {
            for m in &mazes {
                sink += net.backward_with(m, true, 1.0, &mut grad, &mut scratch);
            }
        });
        let theirs = best(a.seconds, || {
            for m in &mazes {
                sink += ndarray_forward(&net, m);
            }
        });
        std::hint::black_box(sink);
        let per = 1e9 / (mazes.len() * size * size * a.layers) as f64;
        let row = Row {
            size,
            layers: a.layers,
            forward_ns: forward * per,
            forward_backward_ns: both * per,
            ndarray_forward_ns: theirs * per,
            ndarray_over_hand: theirs / forward,
        };
        if !a.json {
            eprintln!(
                "mazes L={size:<4} n={:<3} forward {:>6.2} ns, forward+backward {:>6.2} ns per cell and layer; ndarray forward {:>6.2} ns ({:.2}x)",
                a.layers,
                row.forward_ns,
                row.forward_backward_ns,
                row.ndarray_forward_ns,
                row.ndarray_over_hand
            );
        }
        rows.push(row);
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}
