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

mod curves;
mod scan;
#[cfg(test)]
mod tests;

use crate::analysis::PointData;
use crate::settings::FssSettings;
use crate::stats::{Estimate, covariance, fit_line_correlated, std_dev};
use curves::{Replicate, interp};
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

    let (prepared, lo, hi) = curves::prepare(&by_size, gaps);
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

    let sizes = curves::size_data(&prepared, &grid);

    let replicates = curves::replicates(&sizes, &prepared, &grid, settings.bootstrap, seed);

    let n_sizes = sizes.len();
    let pair_x = curves::pair_crossings(&replicates, n_sizes);
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

    let size_of: Vec<usize> = sizes.iter().map(|s| s.size).collect();
    scan::exponents(
        &mut summary,
        &values,
        &fixed,
        &size_of,
        &fit_idx,
        settings.correction_exponent,
    );
    summary
}
