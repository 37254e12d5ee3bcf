//! Block sums to curves: per occupation number n the mean of every quantity over a
//! resample's runs, and Q(p) = Σ_n B(N, n, p) Q_n with its derivative.

use super::super::{Block, Geometry, binomial, window};

/// What is read off the curves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Wrapping along one given axis, averaged over the axes (R_h).
    Axis,
    /// Along at least one axis (R_e).
    Either,
    /// Along every axis (R_b).
    All,
    /// Along a given axis and no other (R_1 = R_h − R_b in 2D), averaged over the axes.
    One,
    /// ⟨s_max⟩/N_sites.
    Largest,
    /// Mean cluster size without the largest, (⟨Σ s²⟩ − ⟨s_max²⟩)/N_sites.
    Susceptibility,
}

impl Quantity {
    pub const ALL: [Quantity; 6] = [
        Quantity::Axis,
        Quantity::Either,
        Quantity::All,
        Quantity::One,
        Quantity::Largest,
        Quantity::Susceptibility,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Quantity::Axis => "R_axis",
            Quantity::Either => "R_either",
            Quantity::All => "R_all",
            Quantity::One => "R_one",
            Quantity::Largest => "P_max",
            Quantity::Susceptibility => "chi",
        }
    }
}

/// One lattice's runs, averaged per occupation number (a resample of its blocks).
#[derive(Clone, Debug)]
pub struct Curves {
    pub geometry: Geometry,
    pub runs: f64,
    first: u64,
    /// Per [`Quantity`], its value per run at n = first, first + 1, ...
    q: Vec<Vec<f64>>,
    /// Per sweep p, the mean number of clusters per run in each size bin.
    pub sizes: Vec<Vec<f64>>,
}

impl Curves {
    /// The blocks' sums with multiplicities `weights` (a bootstrap resample; all ones for the
    /// data itself). `None` without runs or with blocks of different windows.
    pub fn new(geometry: Geometry, blocks: &[&Block], weights: &[f64]) -> Option<Curves> {
        let head = blocks.first()?;
        let len = head.series.first()?.values.len();
        if blocks.iter().any(|b| {
            b.first != head.first
                || b.series.len() != head.series.len()
                || b.series.iter().any(|s| s.values.len() != len)
                || b.sizes.len() != head.sizes.len()
        }) {
            return None;
        }
        let runs: f64 = blocks
            .iter()
            .zip(weights)
            .map(|(b, w)| w * b.runs as f64)
            .sum();
        if runs <= 0.0 {
            return None;
        }
        let sum = |k: usize| -> Vec<f64> {
            let mut out = vec![0.0; len];
            for (b, w) in blocks.iter().zip(weights) {
                if *w != 0.0 {
                    for (o, v) in out.iter_mut().zip(&b.series[k].values) {
                        *o += w * *v as f64;
                    }
                }
            }
            out.iter_mut().for_each(|x| *x /= runs);
            out
        };
        let d = geometry.dim;
        let axes: Vec<Vec<f64>> = (0..d).map(sum).collect();
        let at_least: Vec<Vec<f64>> = (0..d).map(|j| sum(d + j)).collect();
        let (largest, largest_sq, squares) = (sum(2 * d), sum(2 * d + 1), sum(2 * d + 2));
        let sites = geometry.sites() as f64;
        let q = vec![
            (0..len)
                .map(|i| axes.iter().map(|a| a[i]).sum::<f64>() / d as f64)
                .collect(),
            at_least[0].clone(),
            at_least[d - 1].clone(),
            (0..len)
                .map(|i| (at_least[0][i] - at_least[1][i]) / d as f64)
                .collect(),
            largest.iter().map(|x| x / sites).collect(),
            (0..len)
                .map(|i| (squares[i] - largest_sq[i]) / sites)
                .collect(),
        ];
        let bins = head.sizes.first().map_or(0, Vec::len);
        let sizes = (0..head.sizes.len())
            .map(|j| {
                let mut out = vec![0.0; bins];
                for (b, w) in blocks.iter().zip(weights) {
                    for (o, v) in out.iter_mut().zip(&b.sizes[j]) {
                        *o += w * *v as f64;
                    }
                }
                out.iter_mut().for_each(|x| *x /= runs);
                out
            })
            .collect();
        Some(Curves {
            geometry,
            runs,
            first: head.first,
            q,
            sizes,
        })
    }

    fn series(&self, q: Quantity) -> &[f64] {
        let k = Quantity::ALL.iter().position(|x| *x == q).unwrap_or(0);
        &self.q[k]
    }

    /// The binomial weights at p over the part of the window that matters for p, with the
    /// index of their first entry.
    fn weights(&self, p: f64) -> (usize, Vec<f64>) {
        let elements = self.geometry.elements() as u64;
        let last = self.first + self.q[0].len() as u64 - 1;
        let (lo, hi) = window(elements, &[p]);
        let (lo, hi) = (lo.max(self.first), hi.min(last).max(lo.max(self.first)));
        ((lo - self.first) as usize, binomial(elements, p, lo, hi))
    }

    /// Q(p) = Σ_n B(N, n, p) Q_n.
    pub fn at(&self, q: Quantity, p: f64) -> f64 {
        let (start, w) = self.weights(p);
        let s = &self.series(q)[start..];
        w.iter().zip(s).map(|(w, x)| w * x).sum()
    }

    /// dQ/dp = Σ_n B(N, n, p)·(n − Np)/(p(1 − p))·Q_n.
    pub fn slope(&self, q: Quantity, p: f64) -> f64 {
        let (start, w) = self.weights(p);
        let n_total = self.geometry.elements() as f64;
        let s = &self.series(q)[start..];
        let base = self.first as f64 + start as f64;
        w.iter()
            .zip(s)
            .enumerate()
            .map(|(i, (w, x))| w * (base + i as f64 - n_total * p) * x)
            .sum::<f64>()
            / (p * (1.0 - p))
    }

    /// The p in [lo, hi] where an increasing `f` (value, derivative) passes zero: the sign
    /// change from − to + on a grid of 64 (tails where both curves are 0 or 1 are not zero
    /// crossings), then Newton safeguarded by bisection. `None` without such a change.
    pub(super) fn root(&self, lo: f64, hi: f64, f: impl Fn(f64) -> (f64, f64)) -> Option<f64> {
        const GRID: usize = 64;
        let at = |i: usize| lo + (hi - lo) * i as f64 / GRID as f64;
        let values: Vec<f64> = (0..=GRID).map(|i| f(at(i)).0).collect();
        let i = (0..GRID).find(|&i| values[i] < 0.0 && values[i + 1] >= 0.0)?;
        let (mut a, mut b) = (at(i), at(i + 1));
        let mut x = 0.5 * (a + b);
        for _ in 0..100 {
            let (fx, dfx) = f(x);
            if fx < 0.0 {
                a = x;
            } else {
                b = x;
            }
            let newton = x - fx / dfx;
            x = if dfx > 0.0 && newton > a && newton < b {
                newton
            } else {
                0.5 * (a + b)
            };
            if (b - a) < 1e-13 || fx == 0.0 {
                break;
            }
        }
        Some(x)
    }
}
