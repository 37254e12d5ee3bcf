//! The flow across a sweep (REFERENCE.md §4): replicas combined per (size, temperature, map,
//! level); T_c where the nearest-neighbour couplings of successive levels agree; ν from how
//! fast they part; y_t and y_h from the linearised RG at the sweep point nearest that T_c.
//!
//! T_c: with lattices L and L/2 in the sweep, level n+1 of L is compared with level n of L/2
//! (Swendsen's two-lattice matching: both are lattices of L/2^(n+1) sites per side, so the
//! finite-size effects of the two sides cancel); otherwise levels n+1 and n of the same L.
//! Near the fixed point K⁽ⁿ⁺¹⁾ − K* ≈ λ_t (K⁽ⁿ⁾ − K*), so the ratio of the slopes in T of
//! levels n+1 and n of the same lattice at that T_c is λ_t, and ν = ln 2 / ln λ_t.
//!
//! Errors are jackknife errors over blocks of configurations, the same block index left out of
//! every replica at every temperature at once (independent samples, so the one jackknife covers
//! them all); a crossing that some leave-out sample does not have gets a NaN error, not a
//! made-up one.

use super::couplings::{Operator, jackknife_error};
use super::flow::{Level, MapKind, Settings};
use crate::stats::{Estimate, fit_line};
use serde::Serialize;
use std::collections::BTreeMap;

/// One (size, temperature, map, level), replicas combined.
#[derive(Clone, Debug, PartialEq)]
pub struct Combined {
    pub size: usize,
    pub temperature: f64,
    pub map: MapKind,
    pub level: usize,
    /// Mean over replicas (+∞ if any replica's level is fully ordered, NaN if any fit failed).
    pub couplings: Vec<f64>,
    pub errors: Vec<f64>,
    /// Per jackknife block: the mean over replicas of their leave-this-block-out couplings.
    pub leave_out: Vec<Vec<f64>>,
    pub y_t: Option<Estimate>,
    pub y_h: Option<Estimate>,
    /// RSMI map: mean held-out I(H:E) of the filters that made this level.
    pub mi_nats: f64,
}

/// Combines the replicas of one (size, temperature, map, level) (at least one).
pub fn combine(size: usize, temperature: f64, levels: &[&Level]) -> Option<Combined> {
    let first = levels.first()?;
    let r = levels.len() as f64;
    let ops = first.couplings.len();
    let couplings: Vec<f64> = (0..ops)
        .map(|k| levels.iter().map(|l| l.couplings[k]).sum::<f64>() / r)
        .collect();
    let blocks = first.leave_out.len();
    let complete = blocks >= 2
        && levels
            .iter()
            .all(|l| l.leave_out.len() == blocks && l.couplings.iter().all(|c| c.is_finite()));
    let leave_out: Vec<Vec<f64>> = if complete {
        (0..blocks)
            .map(|b| {
                (0..ops)
                    .map(|k| levels.iter().map(|l| l.leave_out[b][k]).sum::<f64>() / r)
                    .collect()
            })
            .collect()
    } else {
        Vec::new()
    };
    let errors = (0..ops)
        .map(|k| {
            if complete {
                jackknife_error(&leave_out.iter().map(|row| row[k]).collect::<Vec<_>>())
            } else {
                f64::NAN
            }
        })
        .collect();
    let mean_estimate = |get: fn(&Level) -> Option<Estimate>| -> Option<Estimate> {
        let all: Vec<Estimate> = levels.iter().filter_map(|l| get(l)).collect();
        (all.len() == levels.len()).then(|| {
            Estimate::new(
                all.iter().map(|e| e.value).sum::<f64>() / r,
                all.iter().map(|e| e.error * e.error).sum::<f64>().sqrt() / r,
            )
        })
    };
    Some(Combined {
        size,
        temperature,
        map: first.map,
        level: first.level,
        couplings,
        errors,
        leave_out,
        y_t: mean_estimate(|l| l.y_t),
        y_h: mean_estimate(|l| l.y_h),
        mi_nats: levels.iter().map(|l| l.mi_nats).sum::<f64>() / r,
    })
}

/// One crossing of the nearest-neighbour coupling curves K(T) of two (size, level) pairs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Crossing {
    /// Level `level` of `size` against level `against_level` of `against_size`.
    pub size: usize,
    pub level: usize,
    pub against_size: usize,
    pub against_level: usize,
    pub tc: Estimate,
    pub nu: Estimate,
}

/// Where the linearised-RG exponents were read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinearPoint {
    pub size: usize,
    pub temperature: f64,
    pub level: usize,
}

/// Linearised-RG exponents of one lattice and level at the sweep temperature nearest T_c.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelExponents {
    pub size: usize,
    pub temperature: f64,
    pub level: usize,
    pub y_t: Estimate,
    pub y_h: Estimate,
}

/// A map's results across the sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MapSummary {
    pub tc: Estimate,
    pub nu: Estimate,
    pub y_t: Estimate,
    pub y_h: Estimate,
    /// ν = 1/y_t from the linearised RG (the flow's own ν, `nu`, comes from the slopes of one
    /// coupling and is the noisier of the two).
    pub nu_linearised: Estimate,
    /// Which crossing `tc` and `nu` are (the largest lattice's deepest two-lattice crossing, if
    /// any; null if no curves cross in the sweep's temperature range).
    pub from: Option<Crossing>,
    pub linearised: Option<LinearPoint>,
    /// Every crossing, by size then level.
    pub crossings: Vec<Crossing>,
    /// y_t and y_h of every size and level at the temperature nearest T_c (convergence in n
    /// and L at a glance).
    pub exponents: Vec<LevelExponents>,
}

fn nan() -> Estimate {
    Estimate::new(f64::NAN, f64::NAN)
}

/// Points of each side of a crossing in the straight-line fits: enough to average the
/// pseudo-likelihood's noise over, few enough that the curves stay straight.
const WINDOW: usize = 8;

/// Curves over ascending temperatures: values and their errors.
struct Curve {
    values: Vec<f64>,
    errors: Vec<f64>,
}

/// The temperature where curves `a` and `b` cross, and the ratio of the slopes of `a` and `c`
/// there. Straight lines weighted by the errors are fitted to a − b, a and c over the (at most
/// [`WINDOW`]) temperatures nearest the sign change (the middle one if noise makes several): a
/// single coarse level's coupling is noisy (neighbouring temperatures differ by several errors
/// on a 16×16 level), and the line averages that noise over the window.
fn crossing(t: &[f64], a: &Curve, b: &Curve, c: &Curve) -> Option<(f64, f64)> {
    let d: Vec<f64> = a.values.iter().zip(&b.values).map(|(x, y)| x - y).collect();
    let changes: Vec<usize> = (0..d.len().saturating_sub(1))
        .filter(|&i| d[i] * d[i + 1] <= 0.0)
        .collect();
    let i = *changes.get(changes.len() / 2)?;
    // The window: grow outwards from the bracketing pair.
    let (mut lo, mut hi) = (i, i + 2);
    while hi - lo < WINDOW && (lo > 0 || hi < t.len()) {
        if lo > 0 && (hi >= t.len() || i - lo < hi - i - 1) {
            lo -= 1;
        } else {
            hi += 1;
        }
    }
    let sd: Vec<f64> = a
        .errors
        .iter()
        .zip(&b.errors)
        .map(|(x, y)| x.hypot(*y))
        .collect();
    let line = |y: &[f64], s: &[f64]| fit_line(&t[lo..hi], &y[lo..hi], &s[lo..hi]);
    let fd = line(&d, &sd)?;
    if fd.slope == 0.0 {
        return None;
    }
    let tc = -fd.intercept / fd.slope;
    let (fa, fc) = (line(&a.values, &a.errors)?, line(&c.values, &c.errors)?);
    Some((tc, fa.slope / fc.slope))
}

/// ν = ln 2 / ln λ_t.
fn nu(lambda: f64) -> f64 {
    2f64.ln() / lambda.ln()
}

/// The crossing of (size, level) against (against, against_level) for one map, and ν from the
/// slopes of (size, level) and (size, level − 1) there — the flow of one lattice from one level
/// to the next, K⁽ⁿ⁺¹⁾ − K* ≈ λ_t (K⁽ⁿ⁾ − K*) — with jackknife errors.
fn cross(
    points: &BTreeMap<(usize, u64, usize), &Combined>,
    temperatures: &[f64],
    nn: usize,
    (size, level): (usize, usize),
    (against, against_level): (usize, usize),
) -> Option<Crossing> {
    let mut t = Vec::new();
    let mut rows: Vec<[&Combined; 3]> = Vec::new();
    for &temp in temperatures {
        let at = |s: usize, n: usize| points.get(&(s, temp.to_bits(), n)).copied();
        let (Some(x), Some(y), Some(z)) = (
            at(size, level),
            at(against, against_level),
            at(size, level.checked_sub(1)?),
        ) else {
            continue;
        };
        if [x, y, z].iter().all(|p| p.couplings[nn].is_finite()) {
            t.push(temp);
            rows.push([x, y, z]);
        }
    }
    // Weights: the jackknife errors (a level without them counts as its neighbours' mean).
    let errors = |k: usize| {
        let e: Vec<f64> = rows.iter().map(|r| r[k].errors[nn]).collect();
        let known: Vec<f64> = e
            .iter()
            .copied()
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        let fill = if known.is_empty() {
            1.0
        } else {
            known.iter().sum::<f64>() / known.len() as f64
        };
        e.into_iter()
            .map(|x| if x.is_finite() && x > 0.0 { x } else { fill })
            .collect::<Vec<_>>()
    };
    let curve = |k: usize, value: &dyn Fn(&Combined) -> f64| Curve {
        values: rows.iter().map(|r| value(r[k])).collect(),
        errors: errors(k),
    };
    let full = |p: &Combined| p.couplings[nn];
    let (tc, lambda) = crossing(&t, &curve(0, &full), &curve(1, &full), &curve(2, &full))?;
    let blocks = rows
        .iter()
        .flatten()
        .map(|p| p.leave_out.len())
        .min()
        .unwrap_or(0);
    let mut tcs = Vec::new();
    let mut nus = Vec::new();
    if blocks >= 2 {
        for k in 0..blocks {
            let leave = |p: &Combined| p.leave_out[k][nn];
            if let Some((t_k, l_k)) =
                crossing(&t, &curve(0, &leave), &curve(1, &leave), &curve(2, &leave))
            {
                tcs.push(t_k);
                nus.push(nu(l_k));
            }
        }
    }
    let error = |v: &[f64]| {
        if v.len() == blocks && blocks >= 2 {
            jackknife_error(v)
        } else {
            f64::NAN
        }
    };
    Some(Crossing {
        size,
        level,
        against_size: against,
        against_level,
        tc: Estimate::new(tc, error(&tcs)),
        nu: Estimate::new(nu(lambda), error(&nus)),
    })
}

/// Every map's T_c, ν, y_t and y_h from the combined levels of a sweep.
pub fn analyse(settings: &Settings, combined: &[Combined]) -> BTreeMap<String, MapSummary> {
    let mut out = BTreeMap::new();
    let Some(nn) = settings
        .operators
        .iter()
        .position(|&o| o == Operator::NearestNeighbour)
    else {
        return out;
    };
    for &map in &settings.maps {
        let points: BTreeMap<(usize, u64, usize), &Combined> = combined
            .iter()
            .filter(|c| c.map == map)
            .map(|c| ((c.size, c.temperature.to_bits(), c.level), c))
            .collect();
        let mut sizes: Vec<usize> = points.keys().map(|k| k.0).collect();
        sizes.dedup();
        let mut temperatures: Vec<f64> = points.keys().map(|k| f64::from_bits(k.1)).collect();
        temperatures.sort_by(f64::total_cmp);
        temperatures.dedup();
        let mut crossings = Vec::new();
        for &size in &sizes {
            let against = if sizes.contains(&(size / 2)) && size.is_multiple_of(2) {
                size / 2
            } else {
                size
            };
            for n in 0..settings.levels {
                if let Some(c) = cross(&points, &temperatures, nn, (size, n + 1), (against, n)) {
                    crossings.push(c);
                }
            }
        }
        // The headline: two-lattice crossings first, then the largest lattice, then the deepest
        // level (closest to the fixed point).
        let from = crossings
            .iter()
            .filter(|c| c.tc.value.is_finite())
            .max_by_key(|c| (c.against_size != c.size, c.size, c.level))
            .cloned();
        let linear = from.as_ref().and_then(|f| {
            let largest = *sizes.last()?;
            let nearest = temperatures
                .iter()
                .copied()
                .min_by(|x, y| (x - f.tc.value).abs().total_cmp(&(y - f.tc.value).abs()))?;
            let p = points.get(&(largest, nearest.to_bits(), settings.levels))?;
            Some((
                LinearPoint {
                    size: largest,
                    temperature: nearest,
                    level: settings.levels,
                },
                p.y_t.unwrap_or_else(nan),
                p.y_h.unwrap_or_else(nan),
            ))
        });
        let nearest = from.as_ref().and_then(|f| {
            temperatures
                .iter()
                .copied()
                .min_by(|x, y| (x - f.tc.value).abs().total_cmp(&(y - f.tc.value).abs()))
        });
        let exponents = nearest.map_or_else(Vec::new, |t| {
            sizes
                .iter()
                .flat_map(|&size| (1..=settings.levels).map(move |n| (size, n)))
                .filter_map(|(size, level)| {
                    let p = points.get(&(size, t.to_bits(), level))?;
                    Some(LevelExponents {
                        size,
                        temperature: t,
                        level,
                        y_t: p.y_t.unwrap_or_else(nan),
                        y_h: p.y_h.unwrap_or_else(nan),
                    })
                })
                .collect()
        });
        let (linearised, y_t, y_h) = match linear {
            Some((p, t, h)) => (Some(p), t, h),
            None => (None, nan(), nan()),
        };
        out.insert(
            map.name().to_string(),
            MapSummary {
                tc: from.as_ref().map_or_else(nan, |c| c.tc),
                nu: from.as_ref().map_or_else(nan, |c| c.nu),
                y_t,
                y_h,
                nu_linearised: Estimate::new(1.0 / y_t.value, y_t.error / (y_t.value * y_t.value)),
                from,
                linearised,
                crossings,
                exponents,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_flows_cross_where_they_were_built_to() {
        // K⁽ⁿ⁾(T) = K* + λⁿ·a·(T_c − T): every level crosses the next at T_c, with slope ratio λ.
        let (tc, lambda, k_star): (f64, f64, f64) = (2.3, 1.8, 0.4);
        let t: Vec<f64> = (0..9).map(|i| 2.1 + 0.05 * f64::from(i)).collect();
        let curve = |n: i32| -> Vec<f64> {
            t.iter()
                .map(|x| k_star + lambda.powi(n) * 0.3 * (tc - x))
                .collect()
        };
        let plain = |values: Vec<f64>| Curve {
            errors: vec![1.0; values.len()],
            values,
        };
        let (found, slope_ratio) =
            crossing(&t, &plain(curve(2)), &plain(curve(1)), &plain(curve(1))).expect("they cross");
        assert!((found - tc).abs() < 1e-12, "{found}");
        assert!((slope_ratio - lambda).abs() < 1e-12);
        assert!((nu(lambda) - 2f64.ln() / 1.8f64.ln()).abs() < 1e-15);
        // Parallel curves never cross.
        let shifted: Vec<f64> = curve(1).iter().map(|k| k + 1.0).collect();
        assert!(crossing(&t, &plain(shifted), &plain(curve(1)), &plain(curve(1))).is_none());
    }
}
