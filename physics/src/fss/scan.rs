//! Power-law fits of ln|Q| against ln L at T_c, scanned over the smallest size kept and, with a
//! correction exponent ω, also with the term B·L^−ω; the choice and the spread of the acceptable
//! fits go into the estimate and the notes.

use super::{FitEstimate, FssSummary, ScanFit, bootstrap_estimate};
use crate::stats::{fit_linear, std_dev};

/// χ²/dof of an acceptable fit: at most two standard deviations (√(2/dof)) above 1.
pub(super) fn acceptable_chi2(chi2_per_dof: Option<f64>, dof: usize) -> bool {
    chi2_per_dof.is_some_and(|c| c <= 1.0 + 2.0 * (2.0 / dof as f64).sqrt())
}

/// ν (from dU/dβ and from d ln|m|/dβ), γ/ν and β/ν into `summary`: `values[r][i]` holds
/// [U, dU/dβ, dln|m|/dβ, χ, |m|] of size i at resample r's own T_c (r = 0 the data), `fixed`
/// the resamples' at the central T_c (for the fit weights), `size_of[i]` size i's L and
/// `fit_idx` the sizes the fits may use.
pub(super) fn exponents(
    summary: &mut FssSummary,
    values: &[Vec<[f64; 5]>],
    fixed: &[Vec<[f64; 5]>],
    size_of: &[usize],
    fit_idx: &[usize],
    omega: Option<f64>,
) {
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
                        let l = size_of[i] as f64;
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
                    min_size: size_of[idx[0]],
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
}
