//! Percolation across a sweep: block sums → curves Q(p) by the binomial convolution → the
//! critical point and exponents by finite-size scaling, with errors by a bootstrap over
//! blocks that runs through the whole chain.
//!
//! - p_c from R_L(p_L) = R_∞ (2D, the square torus: Pinson's exact R_∞ as quoted by Newman &
//!   Ziff, PRE 64, 016706, 2001), p_L = p_c + a·L^(−2−1/ν), and from the crossings of R_L and
//!   R_2L for consecutive sizes (any dimension);
//! - ν from the slopes dR/dp at p_c ∝ L^(1/ν); D from ⟨s_max⟩ ∝ L^D and γ/ν from the mean
//!   cluster size without the largest, χ' ∝ L^(γ/ν), both at p_c;
//! - τ from the cluster-size distribution n_s ∝ s^(−τ) of the largest lattice at the sweep's
//!   p nearest p_c, over sizes well inside the finite-size cutoff.
//!
//! The fits weigh sizes by their spreads over the bootstrap (a first pass), and every
//! replicate repeats the chain (p_c, then the exponents at its own p_c), so the errors carry
//! p_c's uncertainty into the exponents.

use super::newman_ziff::bin_range;
use super::{Block, Geometry, binomial, window};
use crate::rng::Stream;
use crate::stats::{Estimate, fit_line, fit_linear, std_dev};
use serde::{Deserialize, Serialize};

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

/// The wrapping probabilities that p_c is located with (monotone in p).
const WRAPPING: [Quantity; 3] = [Quantity::Axis, Quantity::Either, Quantity::All];

/// R_∞ at p_c on the square torus (Pinson; Newman & Ziff 2001, table I).
pub fn r_infinity(dim: usize, q: Quantity) -> Option<f64> {
    match (dim, q) {
        (2, Quantity::Axis) => Some(0.521_058_290),
        (2, Quantity::Either) => Some(0.690_473_725),
        (2, Quantity::All) => Some(0.351_642_855),
        (2, Quantity::One) => Some(0.169_415_435),
        _ => None,
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
    fn root(&self, lo: f64, hi: f64, f: impl Fn(f64) -> (f64, f64)) -> Option<f64> {
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

/// One lattice size's blocks, in block order.
pub struct SizeBlocks<'a> {
    pub geometry: Geometry,
    pub blocks: Vec<&'a Block>,
}

/// p_c from one wrapping probability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Locator {
    /// [`Quantity::name`].
    pub quantity: String,
    /// 2D: R_L(p_L) = R_∞ per size.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_point: Vec<Option<Estimate>>,
    /// p_c from the p_L by p_L = p_c + a·L^(−2−1/ν).
    pub fixed_point_pc: Option<Estimate>,
    /// Crossings of consecutive sizes (L_k, L_k+1), in size order.
    pub crossings: Vec<Option<Estimate>>,
    /// p_c from the crossings: the error-weighted mean of the crossings of the sizes kept.
    pub crossing_pc: Option<Estimate>,
}

/// The sweep's percolation summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub sizes: Vec<usize>,
    pub runs: Vec<u64>,
    pub locators: Vec<Locator>,
    /// The headline p_c and how it was found.
    pub p_c: Option<Estimate>,
    pub p_c_method: String,
    pub nu: Option<Estimate>,
    pub fractal_dimension: Option<Estimate>,
    pub gamma_over_nu: Option<Estimate>,
    pub tau: Option<Estimate>,
    /// The p where τ was read and the size range of its fit.
    pub tau_at: Option<(f64, u64, u64)>,
    /// At p_c, per size: R_h, R_e, R_b, R_1 (wrapping), P_max and χ'.
    pub at_pc: Vec<(String, Vec<Option<Estimate>>)>,
    /// Bootstrap replicates behind the errors.
    pub replicates: usize,
    pub notes: Vec<String>,
}

/// One replicate's numbers, in a fixed layout so that the bootstrap can take spreads.
#[derive(Clone, Debug, Default)]
struct Point {
    fixed: Vec<Vec<f64>>,
    cross: Vec<Vec<f64>>,
    fixed_pc: Vec<f64>,
    cross_pc: Vec<f64>,
    p_c: f64,
    slope: Vec<f64>,
    largest: Vec<f64>,
    chi: Vec<f64>,
    at_pc: Vec<Vec<f64>>,
    nu: f64,
    d: f64,
    gamma: f64,
    tau: f64,
}

/// Settings of the analysis (from the sweep file's `[fss]`).
#[derive(Clone, Debug)]
pub struct Settings {
    pub probabilities: Vec<f64>,
    pub fit_min_size: usize,
    pub bootstrap: usize,
    pub seed: u64,
    /// Ω of the cluster-size distribution's leading correction, n_s ∝ s^(−τ)(1 + b·s^(−Ω)).
    pub size_correction: f64,
}

/// Ω of n_s's leading correction: 72/91 in 2D (Ziff, PRE 83, 020107, 2011), 0.64(2) in 3D
/// (Lorenz & Ziff, PRE 57, 230, 1998).
pub fn size_correction(dim: usize) -> f64 {
    if dim == 2 { 72.0 / 91.0 } else { 0.64 }
}

/// Finite-size scaling over `sizes` (any order).
pub fn analyse(sizes: &[SizeBlocks], settings: &Settings) -> Summary {
    let mut sizes: Vec<&SizeBlocks> = sizes.iter().filter(|s| !s.blocks.is_empty()).collect();
    sizes.sort_by_key(|s| s.geometry.size);
    let dim = sizes.first().map_or(2, |s| s.geometry.dim);
    let (p_lo, p_hi) = (
        settings.probabilities.iter().copied().fold(1.0, f64::min),
        settings.probabilities.iter().copied().fold(0.0, f64::max),
    );
    let mut notes = Vec::new();
    let resample = |r: usize, stream: &mut Stream| -> Option<Vec<Curves>> {
        sizes
            .iter()
            .map(|s| {
                let b = s.blocks.len();
                let mut w = vec![0.0; b];
                if r == 0 {
                    w.iter_mut().for_each(|x| *x = 1.0);
                } else {
                    for _ in 0..b {
                        w[stream.below(b as u64) as usize] += 1.0;
                    }
                }
                Curves::new(s.geometry, &s.blocks, &w)
            })
            .collect()
    };
    let mut stream = Stream::derive(settings.seed, "percolation/bootstrap");
    let replicates: Vec<Vec<Curves>> = (0..=settings.bootstrap)
        .filter_map(|r| resample(r, &mut stream))
        .collect();
    let ls: Vec<f64> = sizes.iter().map(|s| s.geometry.size as f64).collect();
    let keep: Vec<bool> = sizes
        .iter()
        .map(|s| s.geometry.size >= settings.fit_min_size)
        .collect();

    // Pass A: per size p_L and per pair crossings.
    let mut points: Vec<Point> = replicates
        .iter()
        .map(|curves| {
            let mut pt = Point::default();
            for q in WRAPPING {
                pt.fixed.push(
                    curves
                        .iter()
                        .map(|c| match r_infinity(dim, q) {
                            Some(r) => c
                                .root(p_lo, p_hi, |p| (c.at(q, p) - r, c.slope(q, p)))
                                .unwrap_or(f64::NAN),
                            None => f64::NAN,
                        })
                        .collect(),
                );
                pt.cross.push(
                    curves
                        .windows(2)
                        .map(|w| {
                            // R_2L − R_L rises through zero at the crossing.
                            w[0].root(p_lo, p_hi, |p| {
                                (
                                    w[1].at(q, p) - w[0].at(q, p),
                                    w[1].slope(q, p) - w[0].slope(q, p),
                                )
                            })
                            .unwrap_or(f64::NAN)
                        })
                        .collect(),
                );
            }
            pt
        })
        .collect();
    let nq = WRAPPING.len();
    let fixed_sd: Vec<Vec<f64>> = (0..nq)
        .map(|k| {
            (0..sizes.len())
                .map(|i| spread(&points, &|p| p.fixed[k][i]))
                .collect()
        })
        .collect();
    let cross_sd: Vec<Vec<f64>> = (0..nq)
        .map(|k| {
            (0..sizes.len().saturating_sub(1))
                .map(|i| spread(&points, &|p| p.cross[k][i]))
                .collect()
        })
        .collect();

    // Pass B: p_c per locator, the headline p_c, and per-size values there.
    // A pair is kept when its smaller lattice is.
    let pair_keep = &keep[..keep.len().saturating_sub(1)];
    for pt in points.iter_mut() {
        for k in 0..nq {
            pt.fixed_pc
                .push(extrapolate(&ls, &keep, &pt.fixed[k], &fixed_sd[k], dim));
            pt.cross_pc
                .push(weighted_mean(&pt.cross[k], &cross_sd[k], pair_keep));
        }
    }
    // The headline: the locator with the smallest bootstrap error, fixed points first (their
    // corrections are the smallest known).
    let mut best: Option<(f64, Method)> = None;
    for k in 0..nq {
        for m in [Method::Fixed(k), Method::Crossings(k)] {
            let sd = spread(&points, &|p| m.value(p));
            if sd.is_finite() && m.value(&points[0]).is_finite() && best.is_none_or(|b| sd < b.0) {
                best = Some((sd, m));
            }
        }
    }
    let p_c_method = best.map_or_else(|| "none".to_string(), |b| b.1.name());
    for pt in points.iter_mut() {
        pt.p_c = best.map_or(f64::NAN, |b| b.1.value(pt));
    }
    for (pt, curves) in points.iter_mut().zip(&replicates) {
        let pc = pt.p_c;
        let ok = pc.is_finite() && pc > 0.0 && pc < 1.0;
        let read = |c: &Curves, q: Quantity, slope: bool| {
            if !ok {
                f64::NAN
            } else if slope {
                c.slope(q, pc)
            } else {
                c.at(q, pc)
            }
        };
        // ν from the slope of the locator behind p_c (R_axis if none).
        let q = locator_quantity(&p_c_method);
        pt.slope = curves.iter().map(|c| read(c, q, true).ln()).collect();
        pt.largest = curves
            .iter()
            .map(|c| (read(c, Quantity::Largest, false) * c.geometry.sites() as f64).ln())
            .collect();
        pt.chi = curves
            .iter()
            .map(|c| read(c, Quantity::Susceptibility, false).ln())
            .collect();
        pt.at_pc = Quantity::ALL
            .iter()
            .map(|&q| curves.iter().map(|c| read(c, q, false)).collect())
            .collect();
    }
    let slope_sd: Vec<f64> = (0..sizes.len())
        .map(|i| spread(&points, &|p| p.slope[i]))
        .collect();
    let largest_sd: Vec<f64> = (0..sizes.len())
        .map(|i| spread(&points, &|p| p.largest[i]))
        .collect();
    let chi_sd: Vec<f64> = (0..sizes.len())
        .map(|i| spread(&points, &|p| p.chi[i]))
        .collect();
    let log_l: Vec<f64> = ls.iter().map(|l| l.ln()).collect();
    // τ on the largest lattice at the sweep's p nearest the data's p_c.
    let tau_at = points[0].p_c.is_finite().then(|| {
        let j = nearest(&settings.probabilities, points[0].p_c);
        let c = replicates[0].last();
        let cutoff = c.map_or(0.0, |c| {
            c.at(Quantity::Largest, points[0].p_c) * c.geometry.sites() as f64
        });
        // Sizes from 16 up to a hundredth of the largest cluster: inside the finite-size
        // cutoff, past the small-s corrections.
        (j, 16u64, (cutoff / 100.0).floor().max(0.0) as u64)
    });
    for (pt, curves) in points.iter_mut().zip(&replicates) {
        pt.nu = fit_line_masked(&log_l, &pt.slope, &slope_sd, &keep).map_or(f64::NAN, |s| 1.0 / s);
        pt.d = fit_line_masked(&log_l, &pt.largest, &largest_sd, &keep).unwrap_or(f64::NAN);
        pt.gamma = fit_line_masked(&log_l, &pt.chi, &chi_sd, &keep).unwrap_or(f64::NAN);
        pt.tau = match (tau_at, curves.last()) {
            (Some((j, lo, hi)), Some(c)) => tau_fit(c, j, lo, hi, settings.size_correction),
            _ => f64::NAN,
        };
    }
    if tau_at.is_some_and(|(_, lo, hi)| hi < 8 * lo) {
        notes.push("τ: the largest lattice's clusters at p_c span less than three octaves above s = 16; τ is not reported".into());
        points.iter_mut().for_each(|p| p.tau = f64::NAN);
    }

    let est = |f: &dyn Fn(&Point) -> f64| -> Option<Estimate> {
        let v = f(&points[0]);
        let sd = spread(&points, f);
        (v.is_finite() && sd.is_finite()).then(|| Estimate::new(v, sd))
    };
    let locators = (0..nq)
        .map(|k| Locator {
            quantity: WRAPPING[k].name().to_string(),
            fixed_point: if r_infinity(dim, WRAPPING[k]).is_some() {
                (0..sizes.len()).map(|i| est(&|p| p.fixed[k][i])).collect()
            } else {
                Vec::new()
            },
            fixed_point_pc: est(&|p| p.fixed_pc[k]),
            crossings: (0..sizes.len().saturating_sub(1))
                .map(|i| est(&|p| p.cross[k][i]))
                .collect(),
            crossing_pc: est(&|p| p.cross_pc[k]),
        })
        .collect();
    if replicates.len() < 21 {
        notes.push("fewer than 20 bootstrap replicates: no errors".into());
    }
    Summary {
        sizes: sizes.iter().map(|s| s.geometry.size).collect(),
        runs: sizes
            .iter()
            .map(|s| s.blocks.iter().map(|b| b.runs).sum())
            .collect(),
        locators,
        p_c: est(&|p| p.p_c),
        p_c_method,
        nu: est(&|p| p.nu),
        fractal_dimension: est(&|p| p.d),
        gamma_over_nu: est(&|p| p.gamma),
        tau: est(&|p| p.tau),
        tau_at: tau_at.map(|(j, lo, hi)| (settings.probabilities[j], lo, hi)),
        at_pc: Quantity::ALL
            .iter()
            .enumerate()
            .map(|(k, q)| {
                (
                    q.name().to_string(),
                    (0..sizes.len()).map(|i| est(&|p| p.at_pc[k][i])).collect(),
                )
            })
            .collect(),
        replicates: replicates.len().saturating_sub(1),
        notes,
    }
}

/// Where the headline p_c comes from: a wrapping probability's extrapolated fixed points, or
/// its crossings.
#[derive(Clone, Copy, Debug)]
enum Method {
    Fixed(usize),
    Crossings(usize),
}

impl Method {
    fn value(self, p: &Point) -> f64 {
        match self {
            Method::Fixed(k) => p.fixed_pc[k],
            Method::Crossings(k) => p.cross_pc[k],
        }
    }

    fn name(self) -> String {
        match self {
            Method::Fixed(k) => format!("{} = R_inf, extrapolated", WRAPPING[k].name()),
            Method::Crossings(k) => format!("{} crossings", WRAPPING[k].name()),
        }
    }
}

/// The bootstrap standard deviation of `f` over the replicates (not the data, `points[0]`).
fn spread(points: &[Point], f: &dyn Fn(&Point) -> f64) -> f64 {
    let v: Vec<f64> = points[1..]
        .iter()
        .map(f)
        .filter(|x| x.is_finite())
        .collect();
    if v.len() < 2 { f64::NAN } else { std_dev(&v) }
}

fn locator_quantity(method: &str) -> Quantity {
    WRAPPING
        .into_iter()
        .find(|q| method.starts_with(q.name()))
        .unwrap_or(Quantity::Axis)
}

fn nearest(list: &[f64], x: f64) -> usize {
    (0..list.len())
        .min_by(|&a, &b| (list[a] - x).abs().total_cmp(&(list[b] - x).abs()))
        .unwrap_or(0)
}

/// The slope of a weighted line through the kept, finite points.
fn fit_line_masked(x: &[f64], y: &[f64], sd: &[f64], keep: &[bool]) -> Option<f64> {
    let idx: Vec<usize> = (0..x.len())
        .filter(|&i| keep[i] && y[i].is_finite() && sd[i].is_finite() && sd[i] > 0.0)
        .collect();
    let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
    let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
    let ss: Vec<f64> = idx.iter().map(|&i| sd[i]).collect();
    fit_line(&xs, &ys, &ss).map(|f| f.slope)
}

/// p_c from fixed points p_L = p_c + a·L^(−x): x = 2 + 1/ν with 2D's ν = 4/3 the only case
/// with an R_∞ (the correction's exponent is set by R_L(p_c) − R_∞ ~ L^−2).
fn extrapolate(ls: &[f64], keep: &[bool], p: &[f64], sd: &[f64], dim: usize) -> f64 {
    if dim != 2 {
        return f64::NAN;
    }
    let idx: Vec<usize> = (0..ls.len())
        .filter(|&i| keep[i] && p[i].is_finite() && sd[i].is_finite() && sd[i] > 0.0)
        .collect();
    let rows: Vec<Vec<f64>> = idx.iter().map(|&i| vec![1.0, ls[i].powf(-2.75)]).collect();
    let y: Vec<f64> = idx.iter().map(|&i| p[i]).collect();
    let s: Vec<f64> = idx.iter().map(|&i| sd[i]).collect();
    if idx.len() >= 3 {
        fit_linear(&rows, &y, &s).map_or(f64::NAN, |f| f.params[0])
    } else {
        weighted_mean(&y, &s, &vec![true; y.len()])
    }
}

fn weighted_mean(x: &[f64], sd: &[f64], keep: &[bool]) -> f64 {
    let (mut sw, mut swx) = (0.0, 0.0);
    for i in 0..x.len() {
        if keep.get(i).copied().unwrap_or(false)
            && x[i].is_finite()
            && sd[i].is_finite()
            && sd[i] > 0.0
        {
            let w = 1.0 / (sd[i] * sd[i]);
            sw += w;
            swx += w * x[i];
        }
    }
    if sw > 0.0 { swx / sw } else { f64::NAN }
}

/// τ from the size distribution at sweep p number `j`: ln n_s = a − τ ln s + b·s^(−Ω) over
/// the bins within [lo, hi], weighted by their counts (Poisson). The correction term matters:
/// without it, L = 512 gave τ = 1.990(2) against 187/91 = 2.0549.
fn tau_fit(c: &Curves, j: usize, lo: u64, hi: u64, omega: f64) -> f64 {
    let Some(hist) = c.sizes.get(j) else {
        return f64::NAN;
    };
    let (mut rows, mut ys, mut ss) = (Vec::new(), Vec::new(), Vec::new());
    for (b, &count) in hist.iter().enumerate() {
        let (first, width) = bin_range(b);
        if first < lo || first + width - 1 > hi || count <= 0.0 {
            continue;
        }
        let s = ((first as f64) * ((first + width - 1) as f64)).sqrt();
        rows.push(vec![1.0, s.ln(), s.powf(-omega)]);
        ys.push((count / width as f64).ln());
        // Relative error of a count of `count·runs` clusters.
        ss.push(1.0 / (count * c.runs).sqrt());
    }
    if rows.len() < 5 {
        return f64::NAN;
    }
    fit_linear(&rows, &ys, &ss).map_or(f64::NAN, |f| -f.params[1])
}

/// One row of a sweep's percolation table: every [`Quantity`] at (L, p), the mean over blocks
/// with its standard error (blocks are independent and hold equal runs).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub size: usize,
    pub p: f64,
    pub runs: u64,
    /// In [`Quantity::ALL`]'s order.
    pub values: Vec<Estimate>,
}

/// Mean and standard error of per-block values.
fn over_blocks(values: &[f64]) -> Estimate {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let error = if values.len() > 1 {
        std_dev(values) / n.sqrt()
    } else {
        f64::NAN
    };
    Estimate::new(mean, error)
}

/// Per-block curves of one size (each block alone).
fn block_curves(s: &SizeBlocks) -> Vec<Curves> {
    (0..s.blocks.len())
        .filter_map(|b| Curves::new(s.geometry, &s.blocks[b..=b], &[1.0]))
        .collect()
}

/// Every quantity at every size and sweep p.
pub fn rows(sizes: &[SizeBlocks], probabilities: &[f64]) -> Vec<Row> {
    let mut out = Vec::new();
    for s in sizes {
        let blocks = block_curves(s);
        if blocks.is_empty() {
            continue;
        }
        for &p in probabilities {
            let values = Quantity::ALL
                .iter()
                .map(|&q| over_blocks(&blocks.iter().map(|c| c.at(q, p)).collect::<Vec<_>>()))
                .collect();
            out.push(Row {
                size: s.geometry.size,
                p,
                runs: s.blocks.iter().map(|b| b.runs).sum(),
                values,
            });
        }
    }
    out
}

/// One bin of the cluster-size distribution at (L, p): clusters per site per unit size,
/// n_s, averaged over the sizes s in [first, last].
#[derive(Clone, Debug, PartialEq)]
pub struct SizeRow {
    pub size: usize,
    pub p: f64,
    pub first: u64,
    pub last: u64,
    pub n_s: Estimate,
}

/// The cluster-size distribution at every size and sweep p (bins with no cluster left out).
pub fn distribution(sizes: &[SizeBlocks], probabilities: &[f64]) -> Vec<SizeRow> {
    let mut out = Vec::new();
    for s in sizes {
        let blocks = block_curves(s);
        let sites = s.geometry.sites() as f64;
        for (j, &p) in probabilities.iter().enumerate() {
            let bins = blocks
                .first()
                .and_then(|c| c.sizes.get(j))
                .map_or(0, Vec::len);
            for b in 0..bins {
                let (first, width) = bin_range(b);
                let per: Vec<f64> = blocks
                    .iter()
                    .map(|c| c.sizes[j][b] / (width as f64 * sites))
                    .collect();
                if per.iter().all(|x| *x == 0.0) {
                    continue;
                }
                out.push(SizeRow {
                    size: s.geometry.size,
                    p,
                    first,
                    last: first + width - 1,
                    n_s: over_blocks(&per),
                });
            }
        }
    }
    out
}
