//! Finite-size scaling over a set of (L, T) points of one model.
//!
//! 1. Every point is cut into blocks (see [`crate::analysis`]); for each size the Binder
//!    cumulant U₄, its β-derivative, d ln⟨|m|⟩/dβ, χ and ⟨|m|⟩ are evaluated on a fine β grid by
//!    single-histogram reweighting (Ferrenberg & Swendsen 1988) from the two simulated
//!    temperatures around each grid point, blended linearly in β, inside the range where every
//!    size's reweighting is reliable (|Δβ| ≲ 1/σ_E beyond its outermost temperatures).
//! 2. Binder crossings `U_L(T*) = U_L'(T*)` for every pair of sizes; `T_c` from a weighted fit
//!    `T*(L_k, L_{k+1}) = T_c + a·L_k^{−ω'}` over consecutive pairs (ω' = `shift_exponent`).
//! 3. At `T_c`: `dU/dβ ∝ L^{1/ν}`, `d ln⟨|m|⟩/dβ ∝ L^{1/ν}`, `χ ∝ L^{γ/ν}`, `⟨|m|⟩ ∝ L^{−β/ν}`,
//!    fitted as straight lines in log–log for `L ≥ fit_min_size` (Binder, Z. Phys. B 43, 119, 1981;
//!    Ferrenberg & Landau, PRB 44, 5081, 1991).
//!
//! Errors: the whole chain (crossings, extrapolation, evaluation at T_c, fits) is repeated on
//! bootstrap resamples of every point's blocks, and each estimate's error is the spread over
//! resamples, so correlations between steps (a shifted T_c moves every slope) are carried
//! through. The power-law fits weight each size by its spread at the fixed central T_c, where
//! sizes are independent runs, so their χ²/dof is meaningful; the T_c extrapolation is a
//! generalised least-squares fit with the crossings' covariance (consecutive pairs share a size). The resampling stream is derived from the sweep seed, so the numbers are
//! reproducible.

use crate::analysis::{BlockSums, Derived, PointData};
use crate::rng::Stream;
use crate::settings::FssSettings;
use crate::stats::{Estimate, covariance, fit_line_correlated, fit_linear, std_dev};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const GRID: usize = 201;

/// An FSS estimate with the quality of the fit that produced it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitEstimate {
    pub value: f64,
    pub error: f64,
    /// χ²/dof of the fit on the unresampled data; absent when the fit has no degree of freedom.
    pub chi2_per_dof: Option<f64>,
    /// Half the spread of the acceptable fits of the scan over the smallest size kept (and
    /// with and without the correction to scaling), already included in `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systematic: Option<f64>,
}

/// One power-law fit of the scan behind an exponent: sizes from `min_size` up, with or without
/// the leading correction to scaling `Q = A·L^x·(1 + B·L^−ω)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanFit {
    pub min_size: usize,
    pub corrected: bool,
    pub value: f64,
    /// Bootstrap error.
    pub error: f64,
    pub chi2_per_dof: Option<f64>,
    /// At least one degree of freedom, χ²/dof within two standard deviations of its
    /// distribution, and an error bar.
    pub acceptable: bool,
}

/// χ²/dof of an acceptable fit: at most two standard deviations (√(2/dof)) above 1.
fn acceptable_chi2(chi2_per_dof: Option<f64>, dof: usize) -> bool {
    chi2_per_dof.is_some_and(|c| c <= 1.0 + 2.0 * (2.0 / dof as f64).sqrt())
}

impl FitEstimate {
    pub fn estimate(&self) -> Estimate {
        Estimate::new(self.value, self.error)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    pub sizes: [usize; 2],
    pub temperature: Estimate,
    pub binder: Estimate,
}

/// Per-size quantities at the estimated T_c.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AtTc {
    pub size: usize,
    pub binder: Estimate,
    pub binder_slope: Estimate,
    pub susceptibility: Estimate,
    pub abs_m: Estimate,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FssSummary {
    pub tc: Option<FitEstimate>,
    pub nu: Option<FitEstimate>,
    pub nu_from_log_m: Option<FitEstimate>,
    pub gamma_over_nu: Option<FitEstimate>,
    pub beta_over_nu: Option<FitEstimate>,
    pub binder_at_tc: Option<Estimate>,
    pub crossings: Vec<Crossing>,
    pub at_tc: Vec<AtTc>,
    /// Sizes the power-law fits may use (each exponent's scan picks its smallest size).
    pub fit_sizes: Vec<usize>,
    /// Every fit behind each exponent (`nu`, `nu_from_log_m`, `gamma_over_nu`, `beta_over_nu`).
    pub scans: BTreeMap<String, Vec<ScanFit>>,
    pub bootstrap: usize,
    /// Why an estimate is missing, or what limits it.
    pub notes: Vec<String>,
}

/// Curves of one size on the β grid, for one resample.
#[derive(Clone)]
struct Curves {
    /// [U₄, dU₄/dβ, d ln|m|/dβ, χ, ⟨|m|⟩] per grid point.
    at: Vec<[f64; 5]>,
}

struct SizeData {
    size: usize,
    sites: f64,
    /// Per grid point: the (at most two) simulated points it is reweighted from, each with its
    /// weight in the blend and its block sums at the grid β.
    sources: Vec<Vec<Source>>,
}

struct Source {
    point: usize,
    weight: f64,
    sums: Vec<BlockSums>,
}

/// A point with its blocking and energy shift.
type Prepared<'a> = (&'a PointData, crate::analysis::Blocking, f64);

/// One resample's outputs.
struct Replicate {
    curves: Vec<Curves>,
}

fn curve_at(sums: &BlockSums, beta: f64, sites: f64) -> [f64; 5] {
    [
        Derived::binder(sums),
        Derived::binder_slope(sums, sites),
        Derived::log_abs_m_slope(sums, sites),
        Derived::susceptibility(sums, beta, sites),
        Derived::abs_m(sums),
    ]
}

/// Linear interpolation of quantity `q` at fractional grid position `x`.
fn interp(c: &Curves, x: f64, q: usize) -> f64 {
    let i = (x.floor() as usize).min(GRID - 2);
    let f = x - i as f64;
    c.at[i][q] * (1.0 - f) + c.at[i + 1][q] * f
}

/// Crossing of U₄ curves `a` and `b` as a fractional grid position.
///
/// Without a `near` hint (the data itself) it is the sign change of the difference that the
/// data supports best: `noise` (the resamples' spread of the difference per grid point) turns
/// the difference into standard deviations, and a sign change scores the smaller of the largest
/// |difference|/noise reached on its two sides (up to the neighbouring sign changes). The
/// physical crossing separates a stretch where the larger lattice is significantly above from
/// one where it is significantly below; sign changes in the flat tails, where both cumulants sit
/// at 2/3 or 0 within noise, score about 1. (The steepest sign change, used before, picked a
/// tail crossing at T = 2.64 over the real one at 2.26 for L = 64/128 when reweighting across a
/// wide gap made the tail steep.) Without resamples it falls back to the steepest.
///
/// For a resample it is the sign change nearest the data's crossing, so a resample never swaps
/// in a different (noise) crossing, which once inflated an error bar a hundredfold.
fn crossing(a: &Curves, b: &Curves, near: Option<f64>, noise: &[f64]) -> Option<f64> {
    let d: Vec<f64> = (0..GRID).map(|g| a.at[g][0] - b.at[g][0]).collect();
    let changes: Vec<usize> = (0..GRID - 1)
        .filter(|&g| {
            let (d0, d1) = (d[g], d[g + 1]);
            d0.is_finite() && d1.is_finite() && d0 * d1 <= 0.0 && d0 != d1
        })
        .collect();
    // Largest |d|/noise over grid points lo..=hi.
    let significance = |lo: usize, hi: usize| {
        (lo..=hi)
            .filter(|&g| d[g].is_finite() && noise[g] > 0.0)
            .map(|g| d[g].abs() / noise[g])
            .fold(0.0f64, f64::max)
    };
    let mut best: Option<(f64, (f64, f64))> = None;
    for (k, &g) in changes.iter().enumerate() {
        let (d0, d1) = (d[g], d[g + 1]);
        let x = g as f64 + d0 / (d0 - d1);
        // Larger is better; ties in support (none measurable: a run of exact zeros, or no
        // spread) go to the steeper.
        let score = match near {
            Some(x0) => (-(x - x0).abs(), 0.0),
            None if noise.len() == GRID => {
                let left = if k == 0 { 0 } else { changes[k - 1] + 1 };
                let right = changes.get(k + 1).copied().unwrap_or(GRID - 1);
                (
                    significance(left, g).min(significance(g + 1, right)),
                    (d1 - d0).abs(),
                )
            }
            None => ((d1 - d0).abs(), 0.0),
        };
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((x, score));
        }
    }
    best.map(|(x, _)| x)
}

/// Per grid point, the resamples' spread of U₄(a) − U₄(b) (empty without resamples).
fn difference_noise(replicates: &[Replicate], a: usize, b: usize) -> Vec<f64> {
    if replicates.len() < 3 {
        return Vec::new();
    }
    (0..GRID)
        .map(|g| {
            let d: Vec<f64> = replicates[1..]
                .iter()
                .map(|r| r.curves[a].at[g][0] - r.curves[b].at[g][0])
                .filter(|v| v.is_finite())
                .collect();
            if d.len() < 2 { f64::NAN } else { std_dev(&d) }
        })
        .collect()
}

/// The data's value with the spread of its resamples. Resamples where the quantity could not be
/// formed (no crossing, T_c outside the range) are left out; when more than 5% are, the error
/// is reported as NaN (null in JSON) rather than an optimistic spread of the survivors.
fn bootstrap_estimate(central: f64, resamples: &[f64]) -> Estimate {
    let finite: Vec<f64> = resamples
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    if (finite.len() as f64) < 0.95 * resamples.len() as f64 {
        return Estimate::new(central, f64::NAN);
    }
    Estimate::new(central, std_dev(&finite))
}

/// Runs the analysis. `points` may come in any order; `seed` drives the resampling.
///
/// Temperatures further apart than reweighting reaches are reported only where they matter:
/// a gap holding T_c or a Binder crossing (or every gap, when there is none); a sweep whose grid
/// is wide on purpose (flows to both sinks) gets one line for the rest.
pub fn analyse(points: &[PointData], settings: &FssSettings, seed: u64) -> FssSummary {
    // FSS reads a scalar order parameter, one per energy; a model without one (dimers) has its
    // own analysis, and its series must not reach the reweighting here.
    if points
        .iter()
        .flat_map(|p| &p.replicas)
        .any(|r| r.order.len() != r.energy.len())
    {
        return FssSummary {
            notes: vec![
                "no finite-size scaling: the points carry no order-parameter series (this model has its own analysis)".into(),
            ],
            ..FssSummary::default()
        };
    }
    let mut gaps = Vec::new();
    let mut summary = analyse_points(points, settings, seed, &mut gaps);
    let marks: Vec<f64> = summary
        .tc
        .map(|t| t.value)
        .into_iter()
        .chain(summary.crossings.iter().map(|c| c.temperature.value))
        .collect();
    let mut notes = Vec::new();
    let mut away = 0;
    for &(size, lo, hi) in &gaps {
        if marks.is_empty() || marks.iter().any(|&t| lo <= t && t <= hi) {
            notes.push(format!(
                "L={size}: T={lo:.4} and T={hi} are further apart than reweighting reaches (|Δβ| > 1/σ_E from each); values between them are interpolated — add temperatures there"
            ));
        } else {
            away += 1;
        }
    }
    if away > 0 {
        notes.push(format!(
            "{away} other gap(s) between simulated temperatures are beyond reweighting reach, away from T_c and every Binder crossing: they do not enter the estimates"
        ));
    }
    notes.append(&mut summary.notes);
    summary.notes = notes;
    summary
}

/// The analysis proper; `gaps` collects (size, T below, T above) of every pair of neighbouring
/// temperatures that reweighting cannot bridge.
fn analyse_points(
    points: &[PointData],
    settings: &FssSettings,
    seed: u64,
    gaps: &mut Vec<(usize, f64, f64)>,
) -> FssSummary {
    let mut summary = FssSummary {
        bootstrap: settings.bootstrap,
        ..Default::default()
    };
    let mut by_size: BTreeMap<usize, Vec<&PointData>> = BTreeMap::new();
    for p in points {
        by_size.entry(p.size).or_default().push(p);
    }
    // Fixed order within a size, so resampling draws do not depend on the input order.
    for list in by_size.values_mut() {
        list.sort_by(|a, b| a.temperature.total_cmp(&b.temperature));
    }
    if by_size.len() < 2 {
        summary
            .notes
            .push("finite-size scaling needs at least two lattice sizes".into());
        return summary;
    }

    // Reliable β window of each size, and their intersection.
    let mut lo = f64::NEG_INFINITY;
    let mut hi = f64::INFINITY;
    let mut prepared: Vec<(usize, Vec<Prepared>)> = Vec::new();
    for (&size, pts) in &by_size {
        let mut size_lo = f64::INFINITY;
        let mut size_hi = f64::NEG_INFINITY;
        let mut list = Vec::new();
        let mut last: Option<(f64, f64)> = None;
        for p in pts {
            let (te, tm) = p.tau_ints();
            let blocking = p.blocking(te.max(tm));
            let e_ref = p.mean_energy();
            let sd = {
                let es: Vec<f64> = p
                    .replicas
                    .iter()
                    .flat_map(|r| r.energy.iter().map(|&e| e as f64))
                    .collect();
                std_dev(&es)
            };
            let half = if sd > 0.0 { 1.0 / sd } else { 0.0 };
            if let Some((beta, reach)) = last
                && (beta - p.beta()).abs() > reach + half
            {
                gaps.push((size, 1.0 / beta, p.temperature));
            }
            last = Some((p.beta(), half));
            size_lo = size_lo.min(p.beta() - half);
            size_hi = size_hi.max(p.beta() + half);
            list.push((*p, blocking, e_ref));
        }
        lo = lo.max(size_lo);
        hi = hi.min(size_hi);
        prepared.push((size, list));
    }
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        summary.notes.push(
            "the sizes' temperature ranges do not overlap within reweighting reach: no crossing can be located".into(),
        );
        return summary;
    }
    let grid: Vec<f64> = (0..GRID)
        .map(|g| lo + (hi - lo) * g as f64 / (GRID - 1) as f64)
        .collect();
    let position_of = |beta: f64| (beta - lo) / (hi - lo) * (GRID - 1) as f64;

    let sizes: Vec<SizeData> = prepared
        .iter()
        .map(|(size, list)| {
            // Between two simulated temperatures, blend the curves reweighted from each,
            // linearly in β: taking only the nearest point makes the curves jump where the
            // source switches, and a jump reads as a (spurious, steep) Binder crossing.
            let betas: Vec<f64> = list.iter().map(|(p, _, _)| p.beta()).collect();
            let sources = grid
                .iter()
                .map(|&beta| {
                    // `list` is sorted by temperature, so `betas` descends.
                    let below = betas.iter().position(|&b| b <= beta);
                    let pairs: Vec<(usize, f64)> = match below {
                        Some(0) => vec![(0, 1.0)],
                        None => vec![(betas.len() - 1, 1.0)],
                        Some(j) => {
                            let w = (betas[j - 1] - beta) / (betas[j - 1] - betas[j]);
                            vec![(j - 1, 1.0 - w), (j, w)]
                        }
                    };
                    pairs
                        .into_iter()
                        .map(|(point, weight)| {
                            let (p, blocking, e_ref) = &list[point];
                            Source {
                                point,
                                weight,
                                sums: p.block_sums(*blocking, beta, *e_ref),
                            }
                        })
                        .collect()
                })
                .collect();
            SizeData {
                size: *size,
                sites: list[0].0.sites as f64,
                sources,
            }
        })
        .collect();

    // Resamples: 0 is the data itself.
    let mut stream = Stream::derive(seed, "fss/bootstrap");
    let replicates: Vec<Replicate> = (0..=settings.bootstrap)
        .map(|r| {
            let curves = sizes
                .iter()
                .zip(&prepared)
                .map(|(sd, (_, list))| {
                    // One multiplicity vector per source point, shared by all grid points using it.
                    let mult: Vec<Vec<f64>> = list
                        .iter()
                        .map(|(p, blocking, _)| {
                            let nb = p.replicas.len() * blocking.per_replica;
                            let mut m = vec![if r == 0 { 1.0 } else { 0.0 }; nb];
                            if r > 0 {
                                for _ in 0..nb {
                                    m[stream.below(nb as u64) as usize] += 1.0;
                                }
                            }
                            m
                        })
                        .collect();
                    let at = (0..GRID)
                        .map(|g| {
                            let mut blended = [0.0; 5];
                            for src in &sd.sources[g] {
                                let w = &mult[src.point];
                                let mut total = [0.0; 9];
                                for (b, s) in src.sums.iter().enumerate() {
                                    for k in 0..9 {
                                        total[k] += w[b] * s[k];
                                    }
                                }
                                let c = curve_at(&total, grid[g], sd.sites);
                                for (x, v) in blended.iter_mut().zip(c) {
                                    *x += src.weight * v;
                                }
                            }
                            blended
                        })
                        .collect();
                    Curves { at }
                })
                .collect();
            Replicate { curves }
        })
        .collect();

    // Crossings of every pair.
    let n_sizes = sizes.len();
    let mut pair_x: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for a in 0..n_sizes {
        for b in a + 1..n_sizes {
            let noise = difference_noise(&replicates, a, b);
            let x0 = crossing(
                &replicates[0].curves[a],
                &replicates[0].curves[b],
                None,
                &noise,
            );
            let xs: Vec<f64> = replicates
                .iter()
                .enumerate()
                .map(|(r, rep)| {
                    let near = if r == 0 { None } else { x0 };
                    x0.and_then(|_| crossing(&rep.curves[a], &rep.curves[b], near, &noise))
                        .unwrap_or(f64::NAN)
                })
                .collect();
            pair_x.insert((a, b), xs);
        }
    }
    let temp_of = |x: f64| 1.0 / (lo + (hi - lo) * x / (GRID - 1) as f64);
    for (&(a, b), xs) in &pair_x {
        if !xs[0].is_finite() {
            continue;
        }
        let ts: Vec<f64> = xs.iter().map(|&x| temp_of(x)).collect();
        let us: Vec<f64> = xs
            .iter()
            .zip(&replicates)
            .map(|(&x, rep)| {
                if x.is_finite() {
                    interp(&rep.curves[a], x, 0)
                } else {
                    f64::NAN
                }
            })
            .collect();
        summary.crossings.push(Crossing {
            sizes: [sizes[a].size, sizes[b].size],
            temperature: bootstrap_estimate(ts[0], &ts[1..]),
            binder: bootstrap_estimate(us[0], &us[1..]),
        });
    }
    if summary.crossings.is_empty() {
        summary
            .notes
            .push("no Binder crossing inside the sampled temperature range".into());
        return summary;
    }

    // T_c per resample from consecutive pairs.
    let consecutive: Vec<(usize, &Vec<f64>)> = (0..n_sizes - 1)
        .filter_map(|a| {
            let xs = &pair_x[&(a, a + 1)];
            xs[0].is_finite().then_some((a, xs))
        })
        .collect();
    let consecutive: Vec<_> = {
        let fitted: Vec<_> = consecutive
            .iter()
            .filter(|(a, _)| sizes[*a].size >= settings.fit_min_size)
            .cloned()
            .collect();
        if fitted.is_empty() {
            consecutive
        } else {
            fitted
        }
    };
    let (tc_r, tc_chi2): (Vec<f64>, Option<f64>) = if consecutive.is_empty() {
        // Only non-consecutive pairs cross: take the largest-size crossing.
        let (a, b) = pair_x
            .iter()
            .rev()
            .find(|(_, xs)| xs[0].is_finite())
            .map(|(k, _)| *k)
            .unwrap_or((0, 1));
        (pair_x[&(a, b)].iter().map(|&x| temp_of(x)).collect(), None)
    } else if consecutive.len() == 1 {
        let xs = consecutive[0].1;
        summary.notes.push(
            "T_c is the single consecutive-size Binder crossing (no extrapolation: more sizes needed)".into(),
        );
        (xs.iter().map(|&x| temp_of(x)).collect(), None)
    } else {
        let lx: Vec<f64> = consecutive
            .iter()
            .map(|(a, _)| (sizes[*a].size as f64).powf(-settings.shift_exponent))
            .collect();
        let rows: Vec<Vec<f64>> = (0..replicates.len())
            .map(|r| consecutive.iter().map(|(_, xs)| temp_of(xs[r])).collect())
            .collect();
        let cov = covariance(&rows[1..]);
        let mut chi2 = None;
        let tcs = rows
            .iter()
            .enumerate()
            .map(|(r, ty)| {
                if ty.iter().any(|t| !t.is_finite()) {
                    return f64::NAN;
                }
                match fit_line_correlated(&lx, ty, &cov) {
                    Some(f) => {
                        if r == 0 {
                            chi2 = f.chi2_per_dof();
                        }
                        f.intercept
                    }
                    None => f64::NAN,
                }
            })
            .collect();
        (tcs, chi2)
    };
    if !tc_r[0].is_finite() {
        summary.notes.push("T_c extrapolation failed".into());
        return summary;
    }
    let tc = bootstrap_estimate(tc_r[0], &tc_r[1..]);
    summary.tc = Some(FitEstimate {
        value: tc.value,
        error: tc.error,
        chi2_per_dof: tc_chi2,
        systematic: None,
    });

    // Quantities at each resample's own T_c.
    let fit_idx: Vec<usize> = (0..n_sizes)
        .filter(|&i| sizes[i].size >= settings.fit_min_size)
        .collect();
    let fit_idx = if fit_idx.len() >= 2 {
        fit_idx
    } else {
        (0..n_sizes).collect()
    };
    summary.fit_sizes = fit_idx.iter().map(|&i| sizes[i].size).collect();
    // values[r][i] = [U, dU/dβ, dln|m|/dβ, χ, |m|] of size i at T_c of resample r.
    let at = |rep: &Replicate, t: f64| -> Vec<[f64; 5]> {
        let x = position_of(1.0 / t);
        (0..n_sizes)
            .map(|i| {
                if !(0.0..=(GRID - 1) as f64).contains(&x) {
                    return [f64::NAN; 5];
                }
                let mut v = [0.0; 5];
                for (q, slot) in v.iter_mut().enumerate() {
                    *slot = interp(&rep.curves[i], x, q);
                }
                v
            })
            .collect()
    };
    // values[r][i] = [U, dU/dβ, dln|m|/dβ, χ, |m|] of size i at T_c of resample r (carries the
    // T_c uncertainty into every exponent) ...
    let values: Vec<Vec<[f64; 5]>> = replicates
        .iter()
        .zip(&tc_r)
        .map(|(rep, &t)| at(rep, t))
        .collect();
    // ... and at the fixed central T_c, where different sizes are independent runs: their spread
    // gives the fit weights and a χ² that is not diluted by the common T_c shift.
    let fixed: Vec<Vec<[f64; 5]>> = replicates[1..].iter().map(|rep| at(rep, tc_r[0])).collect();
    if values[0].iter().any(|v| !v[0].is_finite()) {
        summary
            .notes
            .push("T_c lies outside the reweighting range of some size".into());
    }
    for i in 0..n_sizes {
        let col = |q: usize| -> Estimate {
            let rs: Vec<f64> = values[1..].iter().map(|v| v[i][q]).collect();
            bootstrap_estimate(values[0][i][q], &rs)
        };
        summary.at_tc.push(AtTc {
            size: sizes[i].size,
            binder: col(0),
            binder_slope: col(1),
            susceptibility: col(3),
            abs_m: col(4),
        });
    }
    // U₄ at T_c on the largest lattice: the best estimate of the universal U₄*.
    summary.binder_at_tc = summary.at_tc.last().map(|a| a.binder);

    // Power-law fits of ln|Q| against ln L, over resamples, for every smallest size kept and,
    // with a correction exponent ω, also with the term B·L^−ω; the choice and the spread of the
    // acceptable fits go into the estimate and the notes.
    let omega = settings.correction_exponent;
    let scan = |q: usize, transform: &dyn Fn(f64) -> f64| -> (Vec<ScanFit>, Option<usize>) {
        let sigma: Vec<f64> = fit_idx
            .iter()
            .map(|&i| {
                let col: Vec<f64> = fixed
                    .iter()
                    .map(|v| v[i][q].abs().ln())
                    .filter(|v| v.is_finite())
                    .collect();
                std_dev(&col)
            })
            .collect();
        let mut fits = Vec::new();
        for m in 0..fit_idx.len() {
            for corrected in [false, true] {
                let Some(w) = omega.filter(|_| corrected).or((!corrected).then_some(0.0)) else {
                    continue;
                };
                let params = if corrected { 3 } else { 2 };
                let idx = &fit_idx[m..];
                // Two sizes still give a slope (without a χ²), as they always did.
                if idx.len() < params || (corrected && idx.len() == params) {
                    continue;
                }
                let rows: Vec<Vec<f64>> = idx
                    .iter()
                    .map(|&i| {
                        let l = sizes[i].size as f64;
                        let mut row = vec![1.0, l.ln()];
                        if corrected {
                            row.push(l.powf(-w));
                        }
                        row
                    })
                    .collect();
                let mut chi2 = None;
                let est: Vec<f64> = values
                    .iter()
                    .enumerate()
                    .map(|(r, v)| {
                        let y: Vec<f64> = idx.iter().map(|&i| v[i][q].abs().ln()).collect();
                        if y.iter().any(|x| !x.is_finite()) {
                            return f64::NAN;
                        }
                        match fit_linear(&rows, &y, &sigma[m..]) {
                            Some(f) => {
                                if r == 0 {
                                    chi2 = f.chi2_per_dof();
                                }
                                transform(f.params[1])
                            }
                            None => f64::NAN,
                        }
                    })
                    .collect();
                if !est[0].is_finite() {
                    continue;
                }
                let e = bootstrap_estimate(est[0], &est[1..]);
                fits.push(ScanFit {
                    min_size: sizes[idx[0]].size,
                    corrected,
                    value: e.value,
                    error: e.error,
                    chi2_per_dof: chi2,
                    // A fit without a degree of freedom cannot be judged: it is never
                    // "acceptable", only the last resort when nothing else fits.
                    acceptable: e.error.is_finite()
                        && idx.len() > params
                        && acceptable_chi2(chi2, idx.len() - params),
                });
            }
        }
        // The corrected fit from the smallest size where it is acceptable (with ω); otherwise
        // the plain fit from the smallest acceptable size; with none acceptable, the plain fit
        // over the fewest, largest sizes.
        let smallest = |corrected: bool| {
            (0..fits.len())
                .filter(|&k| fits[k].corrected == corrected && fits[k].acceptable)
                .min_by_key(|&k| fits[k].min_size)
        };
        let chosen = smallest(true).or_else(|| smallest(false)).or_else(|| {
            (0..fits.len())
                .filter(|&k| !fits[k].corrected)
                .max_by_key(|&k| fits[k].min_size)
        });
        (fits, chosen)
    };
    let describe = |f: &ScanFit| {
        format!(
            "{} L ≥ {}: {:.4} ± {:.4}{}",
            if f.corrected { "corrected" } else { "plain" },
            f.min_size,
            f.value,
            f.error,
            f.chi2_per_dof
                .map(|c| format!(" (χ²/dof {c:.2})"))
                .unwrap_or_default()
        )
    };
    for (key, q, transform) in [
        ("nu", 1, &(|s: f64| 1.0 / s) as &dyn Fn(f64) -> f64),
        ("nu_from_log_m", 2, &|s: f64| 1.0 / s),
        ("gamma_over_nu", 3, &|s: f64| s),
        ("beta_over_nu", 4, &|s: f64| -s),
    ] {
        let (fits, chosen) = scan(q, transform);
        let estimate = chosen.map(|k| {
            let c = &fits[k];
            let good: Vec<f64> = fits
                .iter()
                .filter(|f| f.acceptable)
                .map(|f| f.value)
                .collect();
            let spread = if good.len() > 1 {
                let (lo, hi) = good
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                0.5 * (hi - lo)
            } else {
                0.0
            };
            let mut note = format!(
                "{key}: {} chosen{}; all fits: {}",
                describe(c),
                match (c.acceptable, c.chi2_per_dof) {
                    (true, _) => "",
                    (false, None) => " (no fit with a degree of freedom: more sizes needed)",
                    (false, Some(_)) => " (no fit has an acceptable χ²)",
                },
                fits.iter().map(describe).collect::<Vec<_>>().join("; ")
            );
            if spread > 0.0 {
                note += &format!(
                    "; ± {spread:.4} (half the spread of the acceptable fits) added to its error"
                );
            }
            summary.notes.push(note);
            FitEstimate {
                value: c.value,
                error: c.error.hypot(spread),
                chi2_per_dof: c.chi2_per_dof,
                systematic: (good.len() > 1).then_some(spread),
            }
        });
        match key {
            "nu" => summary.nu = estimate,
            "nu_from_log_m" => summary.nu_from_log_m = estimate,
            "gamma_over_nu" => summary.gamma_over_nu = estimate,
            _ => summary.beta_over_nu = estimate,
        }
        summary.scans.insert(key.to_string(), fits);
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    /// U₄ curves whose difference is `d` (b sits at zero).
    fn curves(d: &[f64]) -> (Curves, Curves) {
        let a = Curves {
            at: d.iter().map(|&u| [u, 0.0, 0.0, 0.0, 0.0]).collect(),
        };
        let b = Curves {
            at: vec![[0.0; 5]; d.len()],
        };
        (a, b)
    }

    #[test]
    fn the_crossing_is_the_best_supported_sign_change_not_the_steepest() {
        // The physical crossing between grid points 80 and 81: the larger lattice significantly
        // above (10 σ), then significantly below (10 σ). In the tail, a steeper sign change into
        // a stretch that is zero within noise (−0.2 ± 0.3), as reweighting across a wide gap
        // makes it.
        let mut d = vec![0.0; GRID];
        let mut noise = vec![0.0; GRID];
        for g in 0..GRID {
            (d[g], noise[g]) = match g {
                0..=80 => (-0.01, 0.001),
                81..=159 => (0.05, 0.005),
                _ => (-0.2, 0.3),
            };
        }
        let (a, b) = curves(&d);
        let x = crossing(&a, &b, None, &noise).expect("a crossing");
        assert!((x - (80.0 + 0.01 / 0.06)).abs() < 1e-12, "{x}");
        // Steepness alone (no resamples to measure noise with) takes the tail.
        let steepest = crossing(&a, &b, None, &[]).expect("a crossing");
        assert!((159.0..160.0).contains(&steepest), "{steepest}");
        // A resample keeps to the sign change nearest the data's.
        let near = crossing(&a, &b, Some(158.0), &noise).expect("a crossing");
        assert!((near - steepest).abs() < 1e-12);
        // Without measurable support on either side, the steeper of two sign changes.
        let (a, b) = curves(&d);
        let flat = vec![0.0; GRID];
        let x = crossing(&a, &b, None, &flat).expect("a crossing");
        assert!((x - steepest).abs() < 1e-12, "{x}");
        // No sign change, no crossing.
        let (a, b) = curves(&vec![0.1; GRID]);
        assert_eq!(crossing(&a, &b, None, &noise), None);
    }
}
