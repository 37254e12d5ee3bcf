//! Linearised renormalisation group (Swendsen, PRL 42, 859, 1979; REFERENCE.md §4).
//!
//! With S_α⁽ⁿ⁾ the lattice sums of the operators on level n, the matrix
//! T_αβ = ∂K_α⁽ⁿ⁾/∂K_β⁽ⁿ⁻¹⁾ solves D·T = U with D_γα = ⟨S_γ⁽ⁿ⁾ S_α⁽ⁿ⁾⟩_c and
//! U_γβ = ⟨S_γ⁽ⁿ⁾ S_β⁽ⁿ⁻¹⁾⟩_c. Its leading eigenvalue λ in a symmetry sector gives the RG
//! eigenvalue y = ln λ / ln b: y_t from the even operators, y_h from the odd ones, and
//! ν = 1/y_t.

use super::couplings::{Operator, lattice_sums};
use crate::lattice::Lattice;
use crate::stats::{Estimate, invert};

/// Lattice sums of `ops` for each configuration of one level.
pub fn sums(lattice: &Lattice, configs: &[&[u8]], ops: &[Operator]) -> Vec<Vec<f64>> {
    configs
        .iter()
        .map(|c| lattice_sums(lattice, c, ops))
        .collect()
}

/// Connected correlation matrix ⟨a_γ b_β⟩ − ⟨a_γ⟩⟨b_β⟩ over samples in `rows`.
fn connected(a: &[Vec<f64>], b: &[Vec<f64>], rows: &[usize]) -> Vec<Vec<f64>> {
    let n = rows.len() as f64;
    let (na, nb) = (a[0].len(), b[0].len());
    let mean = |x: &[Vec<f64>], k: usize| rows.iter().map(|&r| x[r][k]).sum::<f64>() / n;
    let ma: Vec<f64> = (0..na).map(|k| mean(a, k)).collect();
    let mb: Vec<f64> = (0..nb).map(|k| mean(b, k)).collect();
    (0..na)
        .map(|g| {
            (0..nb)
                .map(|h| {
                    rows.iter()
                        .map(|&r| (a[r][g] - ma[g]) * (b[r][h] - mb[h]))
                        .sum::<f64>()
                        / n
                })
                .collect()
        })
        .collect()
}

/// The leading eigenvalue of T = D⁻¹U by power iteration (the relevant eigenvalue dominates:
/// every other one is below 1 near the fixed point).
fn leading(coarse: &[Vec<f64>], fine: &[Vec<f64>], rows: &[usize]) -> Option<f64> {
    let d = connected(coarse, coarse, rows);
    let u = connected(coarse, fine, rows);
    let di = invert(&d)?;
    let n = d.len();
    let t: Vec<Vec<f64>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| (0..n).map(|g| di[a][g] * u[g][b]).sum())
                .collect()
        })
        .collect();
    let mut v = vec![1.0; n];
    let mut lambda = 0.0;
    for _ in 0..500 {
        let w: Vec<f64> = (0..n)
            .map(|a| (0..n).map(|b| t[a][b] * v[b]).sum())
            .collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return None;
        }
        // Rayleigh-style estimate along the current direction.
        let next = w.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>()
            / v.iter().map(|x| x * x).sum::<f64>();
        v = w.iter().map(|x| x / norm).collect();
        if (next - lambda).abs() < 1e-13 * next.abs().max(1.0) {
            lambda = next;
            break;
        }
        lambda = next;
    }
    Some(lambda)
}

/// RG eigenvalue exponent y = ln λ / ln 2 of the operators' sector between a fine and a coarse
/// level (same samples, in the same order), with a jackknife error over `blocks` blocks.
pub fn exponent(coarse: &[Vec<f64>], fine: &[Vec<f64>], blocks: usize) -> Option<Estimate> {
    let n = coarse.len();
    if n < 4 || fine.len() != n {
        return None;
    }
    let all: Vec<usize> = (0..n).collect();
    let y = |rows: &[usize]| leading(coarse, fine, rows).map(|l| l.ln() / 2f64.ln());
    let value = y(&all)?;
    let blocks = blocks.clamp(2, n);
    let per = n / blocks;
    let mut leave = Vec::with_capacity(blocks);
    for b in 0..blocks {
        let end = if b + 1 == blocks { n } else { (b + 1) * per };
        let rows: Vec<usize> = (0..n).filter(|&r| r < b * per || r >= end).collect();
        leave.push(y(&rows)?);
    }
    let nb = blocks as f64;
    let mean = leave.iter().sum::<f64>() / nb;
    let var = leave.iter().map(|x| (x - mean).powi(2)).sum::<f64>() * (nb - 1.0) / nb;
    Some(Estimate::new(value, var.sqrt()))
}
