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

/// Weighted least squares with weights `1/σ²`; `None` with fewer than two points or a degenerate
/// design. Errors with non-finite or zero σ fall back to unit weights for all points.
pub fn fit_line(x: &[f64], y: &[f64], sigma: &[f64]) -> Option<LineFit> {
    let n = x.len();
    if n < 2 || y.len() != n || sigma.len() != n {
        return None;
    }
    let usable = sigma.iter().all(|s| s.is_finite() && *s > 0.0);
    let w: Vec<f64> = sigma
        .iter()
        .map(|s| if usable { 1.0 / (s * s) } else { 1.0 })
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;
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
}
