//! Error analysis: integrated autocorrelation times, jackknife, bootstrap helpers and weighted
//! least-squares fits.
//!
//! References: Madras & Sokal, J. Stat. Phys. 50, 109 (1988) for the automatic window;
//! Efron (1982) and Young, "Everything you wanted to know about data analysis and fitting"
//! (arXiv:1210.3781) for jackknife and bootstrap.

use serde::{Deserialize, Serialize};

/// A value with its one-standard-deviation error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub error: f64,
}

impl Estimate {
    pub fn new(value: f64, error: f64) -> Estimate {
        Estimate { value, error }
    }

    /// How many error bars `reference` lies from the value.
    pub fn deviation(&self, reference: f64) -> f64 {
        (self.value - reference).abs() / self.error
    }
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.6} ± {:.6}", self.value, self.error)
    }
}

/// Integrated autocorrelation time `τ_int = ½ + Σ_{t=1}^{W} ρ(t)`, in units of the series'
/// spacing, with the window `W` chosen self-consistently as the smallest `W ≥ c·τ_int(W)`,
/// `c = 6` (Madras & Sokal 1988). A sequence of independent samples gives τ_int ≈ ½, so the
/// error of the mean is `sqrt(2 τ_int σ² / n)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TauInt {
    pub tau: f64,
    pub window: usize,
    /// Statistical error of τ_int, `τ·sqrt(2(2W + 1)/n)`.
    pub error: f64,
    /// False when the window reached n/2 before the criterion held: the series is too short to
    /// measure τ and the value is a lower bound.
    pub converged: bool,
}

pub fn tau_int(x: &[f64]) -> TauInt {
    const C: f64 = 6.0;
    let n = x.len();
    let mean = x.iter().sum::<f64>() / n.max(1) as f64;
    let centred: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let c0 = centred.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64;
    if n < 4 || c0 <= 0.0 {
        return TauInt {
            tau: 0.5,
            window: 0,
            error: 0.0,
            converged: n >= 4,
        };
    }
    let mut tau = 0.5;
    let mut w = 0;
    let mut converged = false;
    while w < n / 2 {
        w += 1;
        let ct: f64 = centred[..n - w]
            .iter()
            .zip(&centred[w..])
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / (n - w) as f64;
        tau += ct / c0;
        if w as f64 >= C * tau {
            converged = true;
            break;
        }
    }
    let tau = tau.max(0.5);
    TauInt {
        tau,
        window: w,
        error: tau * (2.0 * (2.0 * w as f64 + 1.0) / n as f64).sqrt(),
        converged,
    }
}

/// Mean and its error from an autocorrelated series, via τ_int.
pub fn mean_with_tau(x: &[f64]) -> (Estimate, TauInt) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let t = tau_int(x);
    (Estimate::new(mean, (2.0 * t.tau * var / n).sqrt()), t)
}

/// Jackknife over blocks of additive sums: `blocks[b]` holds block b's sums, `f` turns a total
/// of sums into the derived quantity. Returns `f(total)` with the jackknife error
/// `sqrt((n−1)/n · Σ (f_(b) − f̄)²)`, where `f_(b) = f(total − blocks[b])`. Working on sums
/// (not means) makes reweighted ratios `Σ wO / Σ w` come out right.
pub fn jackknife<const K: usize>(blocks: &[[f64; K]], f: impl Fn(&[f64; K]) -> f64) -> Estimate {
    let mut total = [0.0; K];
    for b in blocks {
        for k in 0..K {
            total[k] += b[k];
        }
    }
    let value = f(&total);
    let n = blocks.len();
    if n < 2 {
        return Estimate::new(value, f64::NAN);
    }
    let leave_out: Vec<f64> = blocks
        .iter()
        .map(|b| {
            let mut rest = total;
            for k in 0..K {
                rest[k] -= b[k];
            }
            f(&rest)
        })
        .collect();
    let mean = leave_out.iter().sum::<f64>() / n as f64;
    let var = leave_out.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    Estimate::new(value, ((n as f64 - 1.0) / n as f64 * var).sqrt())
}

/// Sample standard deviation.
pub fn std_dev(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 2 {
        return f64::NAN;
    }
    let mean = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Result of a weighted straight-line fit `y = a + b·x`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineFit {
    pub intercept: f64,
    pub slope: f64,
    pub intercept_error: f64,
    pub slope_error: f64,
    pub chi2: f64,
    pub dof: usize,
}

impl LineFit {
    pub fn chi2_per_dof(&self) -> Option<f64> {
        (self.dof > 0).then(|| self.chi2 / self.dof as f64)
    }
}

/// Weighted least squares with weights `1/σ²`; `None` with fewer than two points, a degenerate
/// design, or any σ that is not finite and positive.
pub fn fit_line(x: &[f64], y: &[f64], sigma: &[f64]) -> Option<LineFit> {
    let n = x.len();
    if n < 2 || y.len() != n || sigma.len() != n {
        return None;
    }
    if !sigma.iter().all(|s| s.is_finite() && *s > 0.0) {
        // No honest weights, so no honest errors or χ²: refuse rather than guess.
        return None;
    }
    let w: Vec<f64> = sigma.iter().map(|s| 1.0 / (s * s)).collect();
    let s: f64 = w.iter().sum();
    let sx: f64 = w.iter().zip(x).map(|(w, x)| w * x).sum();
    let sy: f64 = w.iter().zip(y).map(|(w, y)| w * y).sum();
    let sxx: f64 = w.iter().zip(x).map(|(w, x)| w * x * x).sum();
    let sxy: f64 = w.iter().zip(x).zip(y).map(|((w, x), y)| w * x * y).sum();
    let det = s * sxx - sx * sx;
    if det.abs() <= f64::EPSILON * s * sxx {
        return None;
    }
    let slope = (s * sxy - sx * sy) / det;
    let intercept = (sxx * sy - sx * sxy) / det;
    let chi2: f64 = (0..n)
        .map(|i| w[i] * (y[i] - intercept - slope * x[i]).powi(2))
        .sum();
    Some(LineFit {
        intercept,
        slope,
        intercept_error: (sxx / det).sqrt(),
        slope_error: (s / det).sqrt(),
        chi2,
        dof: n - 2,
    })
}

/// Result of a weighted linear least-squares fit `y = Σ_k p_k·f_k(x)`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearFit {
    pub params: Vec<f64>,
    pub chi2: f64,
    pub dof: usize,
}

impl LinearFit {
    pub fn chi2_per_dof(&self) -> Option<f64> {
        (self.dof > 0).then(|| self.chi2 / self.dof as f64)
    }
}

/// Weighted least squares over a design matrix (`rows[i][k]` = f_k(x_i)), weights `1/σ²`, by
/// the normal equations with partial pivoting (a handful of parameters: no conditioning
/// worries beyond a singular design, which returns `None`, as do fewer points than parameters
/// or any σ that is not finite and positive).
pub fn fit_linear(rows: &[Vec<f64>], y: &[f64], sigma: &[f64]) -> Option<LinearFit> {
    let n = rows.len();
    let p = rows.first().map_or(0, Vec::len);
    if p == 0 || n < p || y.len() != n || sigma.len() != n || rows.iter().any(|r| r.len() != p) {
        return None;
    }
    if !sigma.iter().all(|s| s.is_finite() && *s > 0.0) {
        return None;
    }
    // [A | b] with A = FᵀWF, b = FᵀWy.
    let mut m = vec![vec![0.0; p + 1]; p];
    for i in 0..n {
        let w = 1.0 / (sigma[i] * sigma[i]);
        for a in 0..p {
            for b in 0..p {
                m[a][b] += w * rows[i][a] * rows[i][b];
            }
            m[a][p] += w * rows[i][a] * y[i];
        }
    }
    let scale = (0..p).map(|a| m[a][a].abs()).fold(0.0, f64::max);
    for col in 0..p {
        let pivot = (col..p).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col].clone();
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let f = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    let params: Vec<f64> = (0..p).map(|a| m[a][p] / m[a][a]).collect();
    let chi2 = (0..n)
        .map(|i| {
            let model: f64 = (0..p).map(|k| params[k] * rows[i][k]).sum();
            ((y[i] - model) / sigma[i]).powi(2)
        })
        .sum();
    Some(LinearFit {
        params,
        chi2,
        dof: n - p,
    })
}

/// Sample covariance matrix of the columns of `rows` (each row one resample), skipping rows
/// with a non-finite entry.
pub fn covariance(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let good: Vec<&Vec<f64>> = rows
        .iter()
        .filter(|r| r.iter().all(|v| v.is_finite()))
        .collect();
    let n = rows.first().map_or(0, Vec::len);
    let m = good.len() as f64;
    let mean: Vec<f64> = (0..n)
        .map(|j| good.iter().map(|r| r[j]).sum::<f64>() / m)
        .collect();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    good.iter()
                        .map(|r| (r[i] - mean[i]) * (r[j] - mean[j]))
                        .sum::<f64>()
                        / (m - 1.0)
                })
                .collect()
        })
        .collect()
}

/// Inverse of a small symmetric positive-definite matrix by Gauss–Jordan elimination with
/// partial pivoting; `None` when it is (numerically) singular.
pub(crate) fn invert(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            r
        })
        .collect();
    let scale = (0..n).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| m[x][col].abs().total_cmp(&m[y][col].abs()))?;
        if m[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        m.swap(col, pivot);
        let p = m[col][col];
        for v in m[col].iter_mut() {
            *v /= p;
        }
        let pivot_row = m[col].clone();
        for (row, r) in m.iter_mut().enumerate() {
            let f = r[col];
            if row != col && f != 0.0 {
                for (v, p) in r.iter_mut().zip(&pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    Some(m.into_iter().map(|r| r[n..].to_vec()).collect())
}

/// Generalised least squares `y = a + b·x` with the full covariance `cov` of the y values, so
/// correlated points (e.g. observables all evaluated at one estimated T_c) give an honest
/// χ². Falls back to [`fit_line`] with the diagonal errors when `cov` cannot be inverted.
pub fn fit_line_correlated(x: &[f64], y: &[f64], cov: &[Vec<f64>]) -> Option<LineFit> {
    let n = x.len();
    if n < 2 || y.len() != n || cov.len() != n {
        return None;
    }
    let diagonal = || {
        let sigma: Vec<f64> = (0..n).map(|i| cov[i][i].sqrt()).collect();
        fit_line(x, y, &sigma)
    };
    let Some(w) = invert(cov) else {
        return diagonal();
    };
    // Normal equations (AᵀWA)θ = AᵀWy with A = [1, x].
    let (mut s11, mut s1x, mut sxx, mut s1y, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..n {
            s11 += w[i][j];
            s1x += w[i][j] * x[j];
            sxx += x[i] * w[i][j] * x[j];
            s1y += w[i][j] * y[j];
            sxy += x[i] * w[i][j] * y[j];
        }
    }
    let det = s11 * sxx - s1x * s1x;
    if det <= 0.0 || !det.is_finite() {
        return diagonal();
    }
    let intercept = (sxx * s1y - s1x * sxy) / det;
    let slope = (s11 * sxy - s1x * s1y) / det;
    let r: Vec<f64> = (0..n).map(|i| y[i] - intercept - slope * x[i]).collect();
    let chi2: f64 = (0..n)
        .map(|i| (0..n).map(|j| r[i] * w[i][j] * r[j]).sum::<f64>())
        .sum();
    Some(LineFit {
        intercept,
        slope,
        intercept_error: (sxx / det).sqrt(),
        slope_error: (s11 / det).sqrt(),
        chi2,
        dof: n - 2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linear_fit_recovers_a_power_law_with_its_correction() {
        // ln Q = 0.3 + 1.6 ln L + 0.8 L^−0.83 exactly at L = 8 … 48: three parameters back,
        // χ² = 0; the straight line through the same points misses the slope.
        let sizes = [8.0f64, 12.0, 16.0, 24.0, 32.0, 48.0];
        let y: Vec<f64> = sizes
            .iter()
            .map(|l| 0.3 + 1.6 * l.ln() + 0.8 * l.powf(-0.83))
            .collect();
        let rows: Vec<Vec<f64>> = sizes
            .iter()
            .map(|l| vec![1.0, l.ln(), l.powf(-0.83)])
            .collect();
        let f = fit_linear(&rows, &y, &[0.01; 6]).expect("fits");
        for (got, want) in f.params.iter().zip([0.3, 1.6, 0.8]) {
            assert!((got - want).abs() < 1e-9, "{:?}", f.params);
        }
        assert!(f.chi2 < 1e-12 && f.dof == 3);
        let lnl: Vec<f64> = sizes.iter().map(|l| l.ln()).collect();
        let line = fit_line(&lnl, &y, &[0.01; 6]).expect("line");
        assert!(
            (line.slope - 1.6).abs() > 0.01,
            "the correction biases a plain fit"
        );
        // Too few points, or a singular design, is no fit.
        assert!(fit_linear(&rows[..2], &y[..2], &[0.01; 2]).is_none());
        let twice: Vec<Vec<f64>> = sizes.iter().map(|l| vec![l.ln(), 2.0 * l.ln()]).collect();
        assert!(fit_linear(&twice, &y, &[0.01; 6]).is_none());
    }
    use crate::rng::Stream;

    /// AR(1) series x_t = φ x_{t−1} + ε_t has τ_int = ½ (1+φ)/(1−φ) exactly.
    fn ar1(phi: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut s = Stream::derive(seed, "ar1");
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                // Sum of 12 uniforms − 6: unit-variance, near-Gaussian noise.
                let e: f64 = (0..12).map(|_| s.uniform()).sum::<f64>() - 6.0;
                x = phi * x + e;
                x
            })
            .collect()
    }

    #[test]
    fn tau_int_of_ar1_matches_theory() {
        for (phi, seed) in [(0.0, 1), (0.5, 2), (0.9, 3)] {
            let x = ar1(phi, 200_000, seed);
            let t = tau_int(&x);
            let exact = 0.5 * (1.0 + phi) / (1.0 - phi);
            // The window truncation bias is ~e^{-W/τ_exp}, far below the statistical error,
            // so a 4σ band around the exact value must hold.
            assert!(t.converged);
            assert!(
                (t.tau - exact).abs() < 4.0 * t.error,
                "phi {phi}: tau {} ± {} vs {exact}",
                t.tau,
                t.error
            );
        }
    }

    #[test]
    fn jackknife_of_mean_equals_standard_error() {
        let x = ar1(0.0, 1000, 9);
        let blocks: Vec<[f64; 2]> = x.iter().map(|&v| [1.0, v]).collect();
        let j = jackknife(&blocks, |s| s[1] / s[0]);
        let mean = x.iter().sum::<f64>() / 1000.0;
        let se = std_dev(&x) / 1000f64.sqrt();
        assert!((j.value - mean).abs() < 1e-12);
        // For the mean, jackknife and the standard error agree to rounding.
        assert!(
            (j.error - se).abs() < 1e-9 * se.max(1.0),
            "{} vs {se}",
            j.error
        );
    }

    #[test]
    fn line_fit_recovers_exact_line_and_errors() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|x| 0.5 + 2.0 * x).collect();
        let f = fit_line(&x, &y, &[0.1; 4]).expect("fit");
        assert!((f.slope - 2.0).abs() < 1e-12 && (f.intercept - 0.5).abs() < 1e-12);
        assert!(f.chi2 < 1e-20);
        // Slope error for equal σ: σ / sqrt(Σ (x − x̄)²) = 0.1 / sqrt(5).
        assert!((f.slope_error - 0.1 / 5f64.sqrt()).abs() < 1e-12);
        assert!(fit_line(&[1.0], &[1.0], &[1.0]).is_none());
    }

    #[test]
    fn correlated_fit_reduces_to_weighted_fit_for_diagonal_covariance() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [0.9, 2.1, 2.9, 4.2];
        let sigma = [0.1, 0.2, 0.1, 0.3];
        let cov: Vec<Vec<f64>> = (0..4)
            .map(|i| {
                (0..4)
                    .map(|j| if i == j { sigma[i] * sigma[i] } else { 0.0 })
                    .collect()
            })
            .collect();
        let a = fit_line(&x, &y, &sigma).expect("fit");
        let b = fit_line_correlated(&x, &y, &cov).expect("fit");
        for (u, v) in [
            (a.slope, b.slope),
            (a.intercept, b.intercept),
            (a.chi2, b.chi2),
            (a.slope_error, b.slope_error),
        ] {
            assert!((u - v).abs() < 1e-9, "{u} vs {v}");
        }
    }

    #[test]
    fn fully_shifted_points_cost_no_chi2_when_correlations_are_known() {
        // Points that all sit 1σ above the line because of a common shift: diagonal errors
        // count that as χ² = n, the correlated fit sees one coherent 1σ shift of the intercept.
        let x = [0.0, 1.0, 2.0];
        let y = [1.0, 2.0, 3.0];
        let c = 0.99;
        let cov: Vec<Vec<f64>> = (0..3)
            .map(|i| (0..3).map(|j| if i == j { 1.0 } else { c }).collect())
            .collect();
        let f = fit_line_correlated(&x, &y, &cov).expect("fit");
        assert!((f.slope - 1.0).abs() < 1e-9 && f.chi2 < 1e-9);
        assert!(
            f.intercept_error > 0.99,
            "a common shift is an intercept error: {}",
            f.intercept_error
        );
    }
}
