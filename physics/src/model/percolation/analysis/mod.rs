//! Percolation across a sweep: block sums → curves Q(p) by the binomial convolution → the
//! critical point and exponents by finite-size scaling, with errors by a bootstrap over
//! blocks that runs through the whole chain.
//!
//! - p_c from R_L(p_L) = R_∞ (2D, the square torus: Pinson's exact R_∞ as quoted by Newman &
//!   Ziff, PRE 64, 016706, 2001), p_L = p_c + a·L^(−2−1/ν), and from the crossings of R_L
//!   for consecutive sizes (any dimension), extrapolated as L^(−1/ν−ω) from three pairs;
//! - ν from the slopes dR/dp at p_c ∝ L^(1/ν); D from ⟨s_max⟩ ∝ L^D and γ/ν from the mean
//!   cluster size without the largest, χ' ∝ L^(γ/ν), both at p_c;
//! - τ from the cluster-size distribution n_s ∝ s^(−τ) of the largest lattice at the sweep's
//!   p nearest p_c, over sizes well inside the finite-size cutoff.
//!
//! The fits weigh sizes by their spreads over the bootstrap (a first pass), and every
//! replicate repeats the chain (p_c, then the exponents at its own p_c), so the errors carry
//! p_c's uncertainty into the exponents.

use super::newman_ziff::bin_range;
use super::{Block, Geometry};
use crate::rng::Stream;
use crate::stats::{Estimate, LineFit, fit_line, fit_linear, std_dev};
use serde::{Deserialize, Serialize};

mod curves;
mod table;

pub use curves::{Curves, Quantity};
pub use table::{Row, SizeRow, distribution, rows};

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
    /// Where τ was read: at p_c, from the fits at the sweep's p nearest it, over s_min..=s_max.
    pub tau_at: Option<TauAt>,
    /// ν, D and γ/ν between consecutive sizes (pair k: sizes k and k + 1): where they still
    /// drift, the fits over all sizes carry corrections to scaling.
    pub local: Vec<(String, Vec<Option<Estimate>>)>,
    /// At p_c, per size: R_h, R_e, R_b, R_1 (wrapping), P_max and χ'.
    pub at_pc: Vec<(String, Vec<Option<Estimate>>)>,
    /// Bootstrap replicates behind the errors.
    pub replicates: usize,
    pub notes: Vec<String>,
}

/// Where τ was read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TauAt {
    /// p_c, where the fits are interpolated to.
    pub p: f64,
    /// The sweep's p whose size distributions were fitted.
    pub from: Vec<f64>,
    pub s_min: u64,
    pub s_max: u64,
}

/// The polynomial through `points` (x, y) evaluated at `x` (NaN if any y is).
fn lagrange(points: &[(f64, f64)], x: f64) -> f64 {
    let mut total = 0.0;
    for (i, &(xi, yi)) in points.iter().enumerate() {
        let mut w = 1.0;
        for (k, &(xk, _)) in points.iter().enumerate() {
            if k != i {
                w *= (x - xk) / (xi - xk);
            }
        }
        total += w * yi;
    }
    total
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
    /// ν, D and γ/ν between consecutive sizes.
    local: Vec<Vec<f64>>,
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
    /// x of the crossings' shift p*(L, L') = p_c + a·L^(−x), x = 1/ν + ω.
    pub shift_exponent: f64,
}

/// The crossings' shift exponent 1/ν + ω: 3/4 + 2 in 2D (ω = 2 on the torus, as for R_∞:
/// Newman & Ziff 2001); 1.141 + 1.61 in 3D (Wang et al. 2013; Ballesteros et al., J. Phys. A
/// 32, 1, 1999) — both 2.75 to the digits that matter here.
pub const SHIFT_EXPONENT: f64 = 2.75;

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
                .push(fixed_points(&ls, &keep, &pt.fixed[k], &fixed_sd[k], dim).value);
            pt.cross_pc.push(
                extrapolate(
                    &ls,
                    pair_keep,
                    &pt.cross[k],
                    &cross_sd[k],
                    settings.shift_exponent,
                )
                .value,
            );
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
    // τ on the largest lattice at p_c, interpolated (quadratically) between the fits at the
    // three sweep p nearest the data's p_c: the effective exponent moves fast with p
    // (dτ/dp ≈ 24 at L = 512 in 2D), so the nearest p alone, 2.5·10⁻⁴ off, read τ 0.4% low.
    let tau_at = points[0].p_c.is_finite().then(|| {
        let mut js: Vec<usize> = (0..settings.probabilities.len()).collect();
        js.sort_by(|&a, &b| {
            (settings.probabilities[a] - points[0].p_c)
                .abs()
                .total_cmp(&(settings.probabilities[b] - points[0].p_c).abs())
        });
        js.truncate(3);
        let c = replicates[0].last();
        let cutoff = c.map_or(0.0, |c| {
            c.at(Quantity::Largest, points[0].p_c) * c.geometry.sites() as f64
        });
        // Sizes from 16 up to a hundredth of the largest cluster: inside the finite-size
        // cutoff, past the small-s corrections.
        (js, 16u64, (cutoff / 100.0).floor().max(0.0) as u64)
    });
    for (pt, curves) in points.iter_mut().zip(&replicates) {
        let slope = |y: &[f64], sd: &[f64]| {
            fit_line_masked(&log_l, y, sd, &keep).map_or(f64::NAN, |f| f.slope)
        };
        pt.nu = 1.0 / slope(&pt.slope, &slope_sd);
        pt.d = slope(&pt.largest, &largest_sd);
        pt.gamma = slope(&pt.chi, &chi_sd);
        // Local exponents between consecutive sizes: how far the pure power law holds.
        let local = |y: &[f64]| -> Vec<f64> {
            (1..y.len())
                .map(|i| (y[i] - y[i - 1]) / (log_l[i] - log_l[i - 1]))
                .collect()
        };
        pt.local = vec![
            local(&pt.slope).into_iter().map(|x| 1.0 / x).collect(),
            local(&pt.largest),
            local(&pt.chi),
        ];
        pt.tau = match (&tau_at, curves.last()) {
            (Some((js, lo, hi)), Some(c)) => {
                let at: Vec<(f64, f64)> = js
                    .iter()
                    .map(|&j| {
                        let t = tau_fit(c, j, *lo, *hi, settings.size_correction);
                        (settings.probabilities[j], t)
                    })
                    .collect();
                lagrange(&at, pt.p_c)
            }
            _ => f64::NAN,
        };
    }
    if tau_at.as_ref().is_some_and(|(_, lo, hi)| *hi < 8 * *lo) {
        notes.push("τ: the largest lattice's clusters at p_c span less than three octaves above s = 16; τ is not reported".into());
        points.iter_mut().for_each(|p| p.tau = f64::NAN);
    }

    let est = |f: &dyn Fn(&Point) -> f64| -> Option<Estimate> {
        let v = f(&points[0]);
        let sd = spread(&points, f);
        (v.is_finite() && sd.is_finite()).then(|| Estimate::new(v, sd))
    };
    // A fit its data reject (χ²/dof > 1) has an error that is too small by √(χ²/dof) at
    // least: scale it, and say so when the misfit is plain (corrections to scaling left in).
    let data = &points[0];
    let mut honest = |what: &str, e: Option<Estimate>, fit: Fitted| -> Option<Estimate> {
        let e = e?;
        let Some(q) = fit.chi2_per_dof() else {
            return Some(e);
        };
        if q > 3.0 {
            notes.push(format!(
                "{what}: χ²/dof = {q:.1} over sizes from L = {}: the model fitted does not describe these sizes (corrections to scaling); its error is scaled by √(χ²/dof) — raise fss.fit_min_size and see `local`",
                settings.fit_min_size.max(ls.first().copied().unwrap_or(0.0) as usize)
            ));
        }
        Some(if q > 1.0 {
            Estimate::new(e.value, e.error * q.sqrt())
        } else {
            e
        })
    };
    let power_law = |y: &[f64], sd: &[f64]| {
        fit_line_masked(&log_l, y, sd, &keep).map_or(Fitted::NONE, |f| Fitted {
            value: f.slope,
            chi2: f.chi2,
            dof: f.dof,
        })
    };
    let fixed_fit: Vec<Fitted> = (0..nq)
        .map(|k| fixed_points(&ls, &keep, &data.fixed[k], &fixed_sd[k], dim))
        .collect();
    let cross_fit: Vec<Fitted> = (0..nq)
        .map(|k| {
            extrapolate(
                &ls,
                pair_keep,
                &data.cross[k],
                &cross_sd[k],
                settings.shift_exponent,
            )
        })
        .collect();
    let headline_fit = match best.map(|b| b.1) {
        Some(Method::Fixed(k)) => fixed_fit[k],
        Some(Method::Crossings(k)) => cross_fit[k],
        None => Fitted::NONE,
    };
    let p_c = honest("p_c", est(&|p| p.p_c), headline_fit);
    let nu = honest("ν", est(&|p| p.nu), power_law(&data.slope, &slope_sd));
    let fractal_dimension = honest("D", est(&|p| p.d), power_law(&data.largest, &largest_sd));
    let gamma_over_nu = honest("γ/ν", est(&|p| p.gamma), power_law(&data.chi, &chi_sd));
    let tau = honest(
        "τ",
        est(&|p| p.tau),
        match (&tau_at, replicates[0].last()) {
            (Some((js, lo, hi)), Some(c)) => {
                tau_fit_quality(c, js[0], *lo, *hi, settings.size_correction)
            }
            _ => Fitted::NONE,
        },
    );
    let locators = (0..nq)
        .map(|k| Locator {
            quantity: WRAPPING[k].name().to_string(),
            fixed_point: if r_infinity(dim, WRAPPING[k]).is_some() {
                (0..sizes.len()).map(|i| est(&|p| p.fixed[k][i])).collect()
            } else {
                Vec::new()
            },
            fixed_point_pc: honest_plain(est(&|p| p.fixed_pc[k]), fixed_fit[k]),
            crossings: (0..sizes.len().saturating_sub(1))
                .map(|i| est(&|p| p.cross[k][i]))
                .collect(),
            crossing_pc: honest_plain(est(&|p| p.cross_pc[k]), cross_fit[k]),
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
        p_c,
        p_c_method,
        nu,
        fractal_dimension,
        gamma_over_nu,
        tau,
        local: ["nu", "fractal_dimension", "gamma_over_nu"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                (
                    name.to_string(),
                    (0..sizes.len().saturating_sub(1))
                        .map(|i| est(&|p| p.local[k][i]))
                        .collect(),
                )
            })
            .collect(),
        tau_at: tau_at.map(|(js, lo, hi)| TauAt {
            p: points[0].p_c,
            from: js.iter().map(|&j| settings.probabilities[j]).collect(),
            s_min: lo,
            s_max: hi,
        }),
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

/// A weighted line through the kept, finite points.
fn fit_line_masked(x: &[f64], y: &[f64], sd: &[f64], keep: &[bool]) -> Option<LineFit> {
    let idx: Vec<usize> = (0..x.len())
        .filter(|&i| keep[i] && y[i].is_finite() && sd[i].is_finite() && sd[i] > 0.0)
        .collect();
    let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
    let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
    let ss: Vec<f64> = idx.iter().map(|&i| sd[i]).collect();
    fit_line(&xs, &ys, &ss)
}

/// p_c from estimates p_L = p_c + a·L^(−x) (three or more kept; fewer: their weighted mean).
/// Estimate i belongs to size `ls[i]` (a crossing: the smaller of its pair).
fn extrapolate(ls: &[f64], keep: &[bool], p: &[f64], sd: &[f64], x: f64) -> Fitted {
    let idx: Vec<usize> = (0..p.len().min(keep.len()))
        .filter(|&i| keep[i] && p[i].is_finite() && sd[i].is_finite() && sd[i] > 0.0)
        .collect();
    let rows: Vec<Vec<f64>> = idx.iter().map(|&i| vec![1.0, ls[i].powf(-x)]).collect();
    let y: Vec<f64> = idx.iter().map(|&i| p[i]).collect();
    let s: Vec<f64> = idx.iter().map(|&i| sd[i]).collect();
    if idx.len() >= 3 {
        fit_linear(&rows, &y, &s).map_or(Fitted::NONE, |f| Fitted {
            value: f.params[0],
            chi2: f.chi2,
            dof: f.dof,
        })
    } else {
        weighted_mean(&y, &s, &vec![true; y.len()])
    }
}

/// p_c from the fixed points R_L(p_L) = R_∞, which converge as L^(−2−1/ν) (R_L(p_c) − R_∞ ~
/// L^−2): only in 2D, with ν = 4/3, is R_∞ known.
fn fixed_points(ls: &[f64], keep: &[bool], p: &[f64], sd: &[f64], dim: usize) -> Fitted {
    if dim == 2 {
        extrapolate(ls, keep, p, sd, 2.0 + 0.75)
    } else {
        Fitted::NONE
    }
}

/// A fitted value with its fit's χ² and degrees of freedom.
#[derive(Clone, Copy, Debug)]
struct Fitted {
    value: f64,
    chi2: f64,
    dof: usize,
}

impl Fitted {
    const NONE: Fitted = Fitted {
        value: f64::NAN,
        chi2: f64::NAN,
        dof: 0,
    };

    fn chi2_per_dof(self) -> Option<f64> {
        (self.dof > 0 && self.chi2.is_finite()).then(|| self.chi2 / self.dof as f64)
    }
}

fn weighted_mean(x: &[f64], sd: &[f64], keep: &[bool]) -> Fitted {
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
    if sw <= 0.0 {
        return Fitted::NONE;
    }
    let mean = swx / sw;
    let (mut chi2, mut n) = (0.0, 0usize);
    for i in 0..x.len() {
        if keep.get(i).copied().unwrap_or(false)
            && x[i].is_finite()
            && sd[i].is_finite()
            && sd[i] > 0.0
        {
            chi2 += ((x[i] - mean) / sd[i]).powi(2);
            n += 1;
        }
    }
    Fitted {
        value: mean,
        chi2,
        dof: n.saturating_sub(1),
    }
}

/// τ from the size distribution at sweep p number `j`: ln n_s = a − τ ln s + b·s^(−Ω) over
/// the bins within [lo, hi], weighted by their counts (Poisson). The correction term matters:
/// without it, L = 512 gave τ = 1.990(2) against 187/91 = 2.0549.
fn tau_fit(c: &Curves, j: usize, lo: u64, hi: u64, omega: f64) -> f64 {
    tau_fit_quality(c, j, lo, hi, omega).value
}

/// [`tau_fit`] with its χ².
fn tau_fit_quality(c: &Curves, j: usize, lo: u64, hi: u64, omega: f64) -> Fitted {
    let Some(hist) = c.sizes.get(j) else {
        return Fitted::NONE;
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
        return Fitted::NONE;
    }
    fit_linear(&rows, &ys, &ss).map_or(Fitted::NONE, |f| Fitted {
        value: -f.params[1],
        chi2: f.chi2,
        dof: f.dof,
    })
}

/// An estimate's error scaled by √(χ²/dof) of its fit when that exceeds 1.
fn honest_plain(e: Option<Estimate>, fit: Fitted) -> Option<Estimate> {
    match (e, fit.chi2_per_dof()) {
        (Some(e), Some(q)) if q > 1.0 => Some(Estimate::new(e.value, e.error * q.sqrt())),
        (e, _) => e,
    }
}
