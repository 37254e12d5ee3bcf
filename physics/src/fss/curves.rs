//! The Binder-cumulant curves of every size on a β grid, by reweighting, for the data and its
//! bootstrap resamples, and the crossings of every pair of sizes.

use super::GRID;
use crate::analysis::{BlockSums, Derived, PointData};
use crate::rng::Stream;
use crate::stats::std_dev;
use std::collections::BTreeMap;

#[derive(Clone)]
pub(super) struct Curves {
    /// [U₄, dU₄/dβ, d ln|m|/dβ, χ, ⟨|m|⟩] per grid point.
    pub(super) at: Vec<[f64; 5]>,
}

pub(super) struct SizeData {
    pub(super) size: usize,
    pub(super) sites: f64,
    /// Per grid point: the (at most two) simulated points it is reweighted from, each with its
    /// weight in the blend and its block sums at the grid β.
    pub(super) sources: Vec<Vec<Source>>,
}

pub(super) struct Source {
    pub(super) point: usize,
    pub(super) weight: f64,
    pub(super) sums: Vec<BlockSums>,
}

/// A point with its blocking and energy shift.
pub(super) type Prepared<'a> = (&'a PointData, crate::analysis::Blocking, f64);

/// One resample's outputs.
pub(super) struct Replicate {
    pub(super) curves: Vec<Curves>,
}

pub(super) fn curve_at(sums: &BlockSums, beta: f64, sites: f64) -> [f64; 5] {
    [
        Derived::binder(sums),
        Derived::binder_slope(sums, sites),
        Derived::log_abs_m_slope(sums, sites),
        Derived::susceptibility(sums, beta, sites),
        Derived::abs_m(sums),
    ]
}

/// Linear interpolation of quantity `q` at fractional grid position `x`.
pub(super) fn interp(c: &Curves, x: f64, q: usize) -> f64 {
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
pub(super) fn crossing(a: &Curves, b: &Curves, near: Option<f64>, noise: &[f64]) -> Option<f64> {
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
pub(super) fn difference_noise(replicates: &[Replicate], a: usize, b: usize) -> Vec<f64> {
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

/// Each size's points (by temperature) with their blocking and energy reference, and the β
/// window where every size's reweighting is reliable (|Δβ| ≲ 1/σ_E beyond its outermost
/// temperatures): `(prepared, lo, hi)`. Gaps between neighbouring temperatures wider than
/// reweighting reaches go to `gaps`.
#[allow(clippy::type_complexity)]
pub(super) fn prepare<'a>(
    by_size: &BTreeMap<usize, Vec<&'a PointData>>,
    gaps: &mut Vec<(usize, f64, f64)>,
) -> (Vec<(usize, Vec<Prepared<'a>>)>, f64, f64) {
    let mut lo = f64::NEG_INFINITY;
    let mut hi = f64::INFINITY;
    let mut prepared: Vec<(usize, Vec<Prepared>)> = Vec::new();
    for (&size, pts) in by_size {
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
    (prepared, lo, hi)
}

/// Per size and grid point, the block sums reweighted from the (at most two) simulated
/// temperatures around it.
pub(super) fn size_data(prepared: &[(usize, Vec<Prepared>)], grid: &[f64]) -> Vec<SizeData> {
    prepared
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
        .collect()
}

/// The curves of every size on the grid for the data (replicate 0) and `bootstrap` resamples of
/// every point's blocks, drawn from a stream derived from `seed`.
pub(super) fn replicates(
    sizes: &[SizeData],
    prepared: &[(usize, Vec<Prepared>)],
    grid: &[f64],
    bootstrap: usize,
    seed: u64,
) -> Vec<Replicate> {
    // Resamples: 0 is the data itself.
    let mut stream = Stream::derive(seed, "fss/bootstrap");
    (0..=bootstrap)
        .map(|r| {
            let curves = sizes
                .iter()
                .zip(prepared)
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
        .collect()
}

/// The Binder crossing of every pair of sizes (a < b), as grid positions, per replicate (NaN
/// where a resample has none; all NaN where the data has none).
pub(super) fn pair_crossings(
    replicates: &[Replicate],
    n_sizes: usize,
) -> BTreeMap<(usize, usize), Vec<f64>> {
    let mut pair_x: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for a in 0..n_sizes {
        for b in a + 1..n_sizes {
            let noise = difference_noise(replicates, a, b);
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
    pair_x
}
