//! Site and bond percolation on periodic square (2D) and simple-cubic (3D) lattices, sampled
//! by Newman–Ziff (PRL 85, 4104, 2000; PRE 64, 016706, 2001): the control parameter is the
//! occupation probability p, not a temperature.
//!
//! One run occupies the lattice's elements (sites or bonds) one at a time in a random order
//! and records every observable Q_n at every occupation number n; averaged over runs and
//! convolved with the binomial distribution, Q(p) = Σ_n B(N, n, p) Q_n gives any p from the
//! same runs (`analysis`). A task is a block of runs on one lattice; it records n only over
//! the window that carries the sweep's p values (their binomial weights beyond it are below
//! 10⁻¹⁸), so what it stores grows with the p window, not with N, and a run stops at the
//! window's end.
//!
//! What a block records, summed over its runs, at each n of the window (`OBSERVABLES`):
//! wrapping along each axis, wrapping along at least j axes (j = 1..d: either, both, ...),
//! the largest cluster s_max, s_max² and Σ s² over all clusters (mean cluster size without the
//! largest: (Σ s² − s_max²)/N). Events, not states, are written during a run (an observable
//! changes at a few n), and prefix sums turn them into states at the end. The cluster-size
//! distribution is taken at each sweep p from a snapshot at n drawn from B(N, p), so it is the
//! distribution at p exactly, not at n = pN.

pub mod analysis;
pub mod exact;
pub mod newman_ziff;

use crate::analysis::Named;
use crate::rng::Stream;
use newman_ziff::Percolator;
use serde::{Deserialize, Serialize};

/// What is occupied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    Site,
    Bond,
}

/// A percolation lattice: dimension, linear size, site or bond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub dim: usize,
    pub size: usize,
    pub kind: Kind,
}

impl Geometry {
    pub fn sites(&self) -> usize {
        self.size.pow(self.dim as u32)
    }

    /// N: the number of elements a run occupies.
    pub fn elements(&self) -> usize {
        match self.kind {
            Kind::Site => self.sites(),
            Kind::Bond => self.dim * self.sites(),
        }
    }
}

/// The names of a block's series, in order, for a lattice of dimension `dim`.
pub fn observables(dim: usize) -> Vec<String> {
    let axes = ["x", "y", "z"];
    let mut names: Vec<String> = (0..dim).map(|k| format!("wrap_{}", axes[k])).collect();
    names.extend((1..=dim).map(|j| format!("wrap_ge{j}")));
    names.extend(["largest", "largest_sq", "squares"].map(String::from));
    names
}

/// One task's runs, summed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// The occupation number of the series' first entry.
    pub first: u64,
    pub runs: u64,
    /// [`observables`], each summed over the runs at n = first, first + 1, ...
    pub series: Vec<Named>,
    /// Per sweep p, the number of clusters in each [`newman_ziff::size_bin`] bin, summed over
    /// the runs.
    pub sizes: Vec<Vec<u64>>,
}

/// The occupation numbers whose binomial weights matter for `probabilities` on `elements`
/// elements: within 9 standard deviations (and 3 elements) of every Np, inclusive.
pub fn window(elements: u64, probabilities: &[f64]) -> (u64, u64) {
    let n = elements as f64;
    let mut first = elements;
    let mut last = 0;
    for &p in probabilities {
        let sd = (n * p * (1.0 - p)).max(0.0).sqrt();
        let lo = (n * p - 9.0 * sd - 3.0).floor().max(0.0) as u64;
        let hi = ((n * p + 9.0 * sd + 3.0).ceil().max(0.0) as u64).min(elements);
        first = first.min(lo);
        last = last.max(hi);
    }
    (first.min(last), last)
}

/// B(N, n, p) for n in `first..=last`, normalised over that range (the mass beyond a
/// [`window`] is below 10⁻¹⁸). Computed by the ratio recursion out from the mode, so no
/// factorial or Γ function is evaluated.
pub fn binomial(elements: u64, p: f64, first: u64, last: u64) -> Vec<f64> {
    let len = (last - first + 1) as usize;
    let mut w = vec![0.0; len];
    if p <= 0.0 || p >= 1.0 {
        let at = if p <= 0.0 { 0 } else { elements };
        if (first..=last).contains(&at) {
            w[(at - first) as usize] = 1.0;
        }
        return w;
    }
    let mode = (((elements + 1) as f64 * p).floor() as u64).clamp(first, last);
    let odds = p / (1.0 - p);
    let m = (mode - first) as usize;
    w[m] = 1.0;
    // B(n+1)/B(n) = (N − n)/(n + 1) · p/(1 − p).
    for i in m + 1..len {
        let n = (first + i as u64 - 1) as f64;
        w[i] = w[i - 1] * (elements as f64 - n) / (n + 1.0) * odds;
    }
    for i in (0..m).rev() {
        let n = (first + i as u64) as f64;
        w[i] = w[i + 1] * (n + 1.0) / ((elements as f64 - n) * odds);
    }
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);
    w
}

/// Runs `runs` Newman–Ziff runs on `geometry` from `stream`, recording the window of
/// `probabilities`.
pub fn simulate(
    geometry: &Geometry,
    probabilities: &[f64],
    runs: u64,
    stream: &mut Stream,
) -> Block {
    match geometry.dim {
        2 => simulate_in::<2>(geometry, probabilities, runs, stream),
        _ => simulate_in::<3>(geometry, probabilities, runs, stream),
    }
}

/// How many elements ahead a run reads the sites it will need, on lattices whose union-find
/// passes 1 MiB (at L = 1024 this was 12% faster; inside L2, at L = 256, 15% slower).
const AHEAD: usize = 24;

fn simulate_in<const D: usize>(
    geometry: &Geometry,
    probabilities: &[f64],
    runs: u64,
    stream: &mut Stream,
) -> Block {
    let elements = geometry.elements() as u64;
    let (first, last) = window(elements, probabilities);
    let len = (last - first + 1) as usize;
    // Where the size distribution is snapshot: n drawn from B(N, p) by its cumulative table.
    let cumulative: Vec<Vec<f64>> = probabilities
        .iter()
        .map(|&p| {
            let mut acc = 0.0;
            binomial(elements, p, first, last)
                .into_iter()
                .map(|w| {
                    acc += w;
                    acc
                })
                .collect()
        })
        .collect();
    let names = observables(D);
    // Row-major by n: a step writes one row, and the rows are visited in order.
    let width = names.len();
    let mut deltas = vec![0i64; len * width];
    let mut engine = Percolator::<D>::new(geometry);
    let bins = engine.histogram.len();
    let mut sizes = vec![vec![0u64; bins]; probabilities.len()];
    // One slot more than the elements: the branch-free split below writes past the last one.
    let mut order: Vec<u32> = (0..=elements as u32).collect();
    let mut snapshots: Vec<(u64, usize)> = Vec::with_capacity(probabilities.len());
    for _ in 0..runs {
        engine.reset();
        snapshots.clear();
        for (j, c) in cumulative.iter().enumerate() {
            let u = stream.uniform();
            let i = c.partition_point(|&x| x < u).min(len - 1);
            snapshots.push((first + i as u64, j));
        }
        snapshots.sort_unstable();
        let mut next = 0;
        let mut recorded = Recorded::default();
        // Up to the window, only the configuration matters, not the order it was reached in:
        // a uniform `first`-subset (selection sampling, one draw per element) occupied in
        // memory order, where neighbours are close and the union-find stays in cache; then
        // the rest in a uniform random order. The first `first` elements of a uniform
        // permutation and the order of the others are exactly this.
        let (mut chosen, mut rest) = (0usize, first as usize);
        let mut need = first;
        for e in 0..elements {
            // Without branches (whether an element is taken is a coin flip the predictor
            // cannot learn): both slots are written, and only the taken one is kept, since the
            // other is overwritten before the pass ends.
            let taken = u64::from(need > 0 && stream.below(elements - e) < need);
            // Once every taken element is placed, the taken slot is the scratch one.
            order[if need > 0 { chosen } else { elements as usize }] = e as u32;
            order[rest] = e as u32;
            chosen += taken as usize;
            rest += 1 - taken as usize;
            need -= taken;
        }
        match geometry.kind {
            Kind::Site => engine.occupy_ascending(&order[..first as usize]),
            Kind::Bond => {
                for &e in &order[..first as usize] {
                    engine.occupy(e as usize);
                }
            }
        }
        recorded.record::<D>(&engine, &mut deltas[..width]);
        next = take(&engine, &snapshots, next, first, &mut sizes);
        // The window in random order: Fisher–Yates over what is left, drawn up front so that
        // the elements a few steps ahead are known and (on lattices beyond the caches) their
        // sites read early.
        let (from, to) = (first as usize, last as usize);
        for i in from..to {
            let j = i + stream.below(elements - i as u64) as usize;
            order.swap(i, j);
        }
        let ahead = if engine.bytes() > 1 << 20 {
            AHEAD
        } else {
            usize::MAX / 2
        };
        let mut touched = 0i32;
        for i in from..to {
            if let Some(&later) = order[..to].get(i + ahead) {
                touched ^= engine.touch(later as usize);
            }
            engine.occupy(order[i] as usize);
            let n = i as u64 + 1;
            let at = (n - first) as usize * width;
            recorded.record::<D>(&engine, &mut deltas[at..at + width]);
            next = take(&engine, &snapshots, next, n, &mut sizes);
        }
        std::hint::black_box(touched);
    }
    // Events to states: the sum over runs at each n.
    let series = names
        .into_iter()
        .enumerate()
        .map(|(k, name)| {
            let mut values: Vec<i64> = deltas.iter().skip(k).step_by(width).copied().collect();
            for i in 1..values.len() {
                values[i] += values[i - 1];
            }
            Named { name, values }
        })
        .collect();
    Block {
        first,
        runs,
        series,
        sizes,
    }
}

/// Adds the live histogram to every snapshot due at `n`.
fn take<const D: usize>(
    engine: &Percolator<D>,
    snapshots: &[(u64, usize)],
    mut next: usize,
    n: u64,
    sizes: &mut [Vec<u64>],
) -> usize {
    while next < snapshots.len() && snapshots[next].0 == n {
        let j = snapshots[next].1;
        for (s, h) in sizes[j].iter_mut().zip(&engine.histogram) {
            *s += h;
        }
        next += 1;
    }
    next
}

/// The observables' values last written by a run, so that only their changes are written.
#[derive(Default)]
struct Recorded {
    wrapped: u8,
    largest: u64,
    squares: u64,
}

impl Recorded {
    #[inline(always)]
    fn record<const D: usize>(&mut self, e: &Percolator<D>, row: &mut [i64]) {
        if e.wrapped != self.wrapped {
            let (old, new) = (self.wrapped, e.wrapped);
            for (k, r) in row.iter_mut().take(D).enumerate() {
                *r += i64::from((new >> k) & 1) - i64::from((old >> k) & 1);
            }
            let (co, cn) = (old.count_ones() as usize, new.count_ones() as usize);
            for j in 1..=D {
                row[D + j - 1] += i64::from(cn >= j) - i64::from(co >= j);
            }
            self.wrapped = new;
        }
        if e.largest != self.largest {
            let (old, new) = (self.largest as i64, e.largest as i64);
            row[2 * D] += new - old;
            row[2 * D + 1] += new * new - old * old;
            self.largest = e.largest;
        }
        if e.sum_squares != self.squares {
            row[2 * D + 2] += e.sum_squares as i64 - self.squares as i64;
            self.squares = e.sum_squares;
        }
    }
}
