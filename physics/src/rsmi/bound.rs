//! Variational lower bounds on mutual information with a separable critic f(h, e) = u(h)·g(e)
//! (Poole et al., ICML 2019; as used by RSMI-NE, Gökmen et al. 2021).
//!
//! For a batch of B joint samples (h_i, e_i), the score matrix S_ij = u(h_i)·g(e_j) holds the
//! joint pairs on its diagonal and product-of-marginals pairs off it, so one B×B product gives
//! B² critic evaluations.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    /// InfoNCE (van den Oord et al. 2018): low variance, but never above ln B.
    InfoNce,
    /// NWJ (Nguyen, Wainwright & Jordan 2010): unbounded, higher variance.
    Nwj,
}

impl Bound {
    pub fn name(self) -> &'static str {
        match self {
            Bound::InfoNce => "infonce",
            Bound::Nwj => "nwj",
        }
    }

    pub fn parse(s: &str) -> Option<Bound> {
        [Bound::InfoNce, Bound::Nwj]
            .into_iter()
            .find(|b| b.name() == s)
    }
}

/// The bound's value in nats for embeddings `u` (B×k, of h) and `g` (B×k, of e), and its
/// gradients with respect to `u` and `g`.
pub fn value_and_grad(
    bound: Bound,
    u: &Array2<f64>,
    g: &Array2<f64>,
) -> (f64, Array2<f64>, Array2<f64>) {
    let s = u.dot(&g.t());
    let b = s.nrows();
    let bf = b as f64;
    let mut ds = Array2::<f64>::zeros((b, b));
    let value = match bound {
        Bound::InfoNce => {
            let mut total = 0.0;
            for i in 0..b {
                // One exponential per score: the softmax and the log-sum-exp share them.
                let row = s.row(i);
                let max = row.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                let mut d = ds.row_mut(i);
                let mut sum = 0.0;
                for (dj, &x) in d.iter_mut().zip(row.iter()) {
                    *dj = (x - max).exp();
                    sum += *dj;
                }
                total += s[[i, i]] - (max + sum.ln());
                let scale = -1.0 / (sum * bf);
                d.mapv_inplace(|e| e * scale);
                d[i] += 1.0 / bf;
            }
            total / bf + bf.ln()
        }
        Bound::Nwj => {
            let off = nwj_pairs(bf);
            let (joint, marginal) = nwj_sums(&s, |i, j, t| ds[[i, j]] = -t / off);
            for i in 0..b {
                ds[[i, i]] = 1.0 / bf;
            }
            joint / bf - marginal / off
        }
    };
    let du = ds.dot(g);
    let dg = ds.t().dot(u);
    (value, du, dg)
}

/// The bound only (evaluation, at ten times the training batch): the same formulas as
/// [`value_and_grad`] without the B×B gradient matrix, which would double evaluation time.
pub fn value(bound: Bound, u: &Array2<f64>, g: &Array2<f64>) -> f64 {
    let s = u.dot(&g.t());
    let b = s.nrows();
    let bf = b as f64;
    match bound {
        Bound::InfoNce => {
            let total: f64 = (0..b).map(|i| s[[i, i]] - log_sum_exp(s.row(i))).sum();
            total / bf + bf.ln()
        }
        Bound::Nwj => {
            let (joint, marginal) = nwj_sums(&s, |_, _, _| {});
            joint / bf - marginal / nwj_pairs(bf)
        }
    }
}

fn log_sum_exp(row: ndarray::ArrayView1<f64>) -> f64 {
    let max = row.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    max + row.iter().map(|&x| (x - max).exp()).sum::<f64>().ln()
}

/// Off-diagonal pairs in a batch of B (at least 1, so B = 1 does not divide by zero).
fn nwj_pairs(bf: f64) -> f64 {
    (bf * (bf - 1.0)).max(1.0)
}

/// NWJ's Σ_i S_ii and Σ_{i≠j} e^{S_ij − 1} (exponent clamped so a wild critic cannot overflow;
/// the bound stays a bound); `each(i, j, e^{S_ij − 1})` sees every off-diagonal term.
fn nwj_sums(s: &Array2<f64>, mut each: impl FnMut(usize, usize, f64)) -> (f64, f64) {
    let b = s.nrows();
    let (mut joint, mut marginal) = (0.0, 0.0);
    for i in 0..b {
        for j in 0..b {
            if i == j {
                joint += s[[i, i]];
            } else {
                let t = (s[[i, j]] - 1.0).min(50.0).exp();
                marginal += t;
                each(i, j, t);
            }
        }
    }
    (joint, marginal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Stream;
    use crate::rsmi::nn::normal;

    #[test]
    fn gradients_match_finite_differences() {
        let mut s = Stream::derive(3, "bound-test");
        let u = Array2::from_shape_simple_fn((6, 4), || normal(&mut s));
        let g = Array2::from_shape_simple_fn((6, 4), || 0.5 * normal(&mut s));
        for bound in [Bound::InfoNce, Bound::Nwj] {
            let (v, du, dg) = value_and_grad(bound, &u, &g);
            assert!((v - value(bound, &u, &g)).abs() < 1e-12);
            let h = 1e-6;
            for (x, dx, which) in [(&u, &du, "u"), (&g, &dg, "g")] {
                for idx in 0..x.len() {
                    let (i, j) = (idx / x.ncols(), idx % x.ncols());
                    let mut p = x.clone();
                    p[[i, j]] += h;
                    let mut m = x.clone();
                    m[[i, j]] -= h;
                    let (vp, vm) = if which == "u" {
                        (value(bound, &p, &g), value(bound, &m, &g))
                    } else {
                        (value(bound, &u, &p), value(bound, &u, &m))
                    };
                    let fd = (vp - vm) / (2.0 * h);
                    assert!(
                        (fd - dx[[i, j]]).abs() < 1e-6 * (1.0 + fd.abs()),
                        "{bound:?} d{which}[{i},{j}]: {fd} vs {}",
                        dx[[i, j]]
                    );
                }
            }
        }
    }

    #[test]
    fn infonce_is_capped_by_ln_batch() {
        // A perfect critic (huge scores on the diagonal) reaches ln B and no more.
        let b = 8;
        let u = Array2::from_shape_fn((b, b), |(i, j)| if i == j { 30.0 } else { 0.0 });
        let g = Array2::eye(b);
        let v = value(Bound::InfoNce, &u, &g);
        assert!(((b as f64).ln() - v).abs() < 1e-9, "{v}");
    }
}
