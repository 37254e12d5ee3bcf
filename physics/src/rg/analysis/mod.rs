//! The flow across a sweep (REFERENCE.md §4): replicas combined per (size, temperature, map,
//! level); T_c where the nearest-neighbour couplings of successive levels agree; ν from how
//! fast they part; y_t and y_h from the linearised RG at the sweep point nearest that T_c.
//!
//! T_c: with lattices L and L/2 in the sweep, level n+1 of L is compared with level n of L/2
//! for every n (Swendsen's two-lattice matching: both are lattices of L/2^(n+1) sites per
//! side, so the finite-size effects of the two sides cancel); only without any such pair,
//! levels n+1 and n of the same L. Near the fixed point K⁽ⁿ⁺¹⁾(T) = f(λ_t·(T − T_c)) when
//! K⁽ⁿ⁾(T) = f(T − T_c): the stretch that collapses one curve onto the other is λ_t
//! ([`super::collapse`]), and ν = ln 2 / ln λ_t. Each
//! pair's crossing must be one the data supports ([`super::crossing`]); the trustworthy ones
//! are combined into one T_c and one ν whose errors include the pairs' spread, and the notes
//! say which pairs were used and which were dropped and why.
//!
//! Errors are jackknife errors over blocks of configurations, the same block index left out of
//! every replica at every temperature at once (independent samples, so the one jackknife covers
//! them all, and a combination of pairs is jackknifed block by block); a crossing that some
//! leave-out sample does not have is not used.

use super::couplings::{Operator, jackknife_error};
use super::crossing::{Pair, fit};
use super::flow::{Level, MapKind, PlanePoint, Settings};
use crate::stats::Estimate;
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
    /// With the audit: mean over replicas of the step's relevance and compression (errors
    /// combined as independent).
    pub relevance: Option<Estimate>,
    pub compression: Option<Estimate>,
    /// The information plane over training, replicas combined like the audit (empty unless
    /// every replica measured the same epochs).
    pub plane: Vec<PlanePoint>,
    /// RBM maps: mean over replicas of the units' receptive-field radius.
    pub receptive: Option<Estimate>,
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
        relevance: mean_estimate(|l| l.relevance),
        compression: mean_estimate(|l| l.compression),
        plane: combine_planes(levels),
        receptive: mean_estimate(|l| l.receptive),
    })
}

/// The replicas' planes point by point, when they share their epochs.
fn combine_planes(levels: &[&Level]) -> Vec<PlanePoint> {
    let Some(first) = levels.first() else {
        return Vec::new();
    };
    let epochs: Vec<usize> = first.plane.iter().map(|p| p.epoch).collect();
    if levels
        .iter()
        .any(|l| l.plane.iter().map(|p| p.epoch).ne(epochs.iter().copied()))
    {
        return Vec::new();
    }
    let r = levels.len() as f64;
    let mean = |get: &dyn Fn(&PlanePoint) -> Estimate, k: usize| {
        let all: Vec<Estimate> = levels.iter().map(|l| get(&l.plane[k])).collect();
        Estimate::new(
            all.iter().map(|e| e.value).sum::<f64>() / r,
            all.iter().map(|e| e.error * e.error).sum::<f64>().sqrt() / r,
        )
    };
    epochs
        .iter()
        .enumerate()
        .map(|(k, &epoch)| PlanePoint {
            epoch,
            relevance: mean(&|p| p.relevance, k),
            compression: mean(&|p| p.compression, k),
        })
        .collect()
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
    /// ν = ln 2 / ln λ, λ the stretch that collapses one curve onto the other there.
    pub nu: Estimate,
    /// Usable temperatures keeping their sign below and above the crossing.
    pub support: [usize; 2],
}

/// A pair of curves that gave no trustworthy crossing, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dropped {
    pub size: usize,
    pub level: usize,
    pub against_size: usize,
    pub against_level: usize,
    pub why: String,
}

impl Dropped {
    fn of(c: &Crossing, why: String) -> Dropped {
        Dropped {
            size: c.size,
            level: c.level,
            against_size: c.against_size,
            against_level: c.against_level,
            why,
        }
    }
}

/// Where the linearised-RG exponents were read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinearPoint {
    pub size: usize,
    pub temperature: f64,
    pub level: usize,
}

/// `y` with half the spread of `around` (its values at the temperatures T_c's error cannot
/// exclude, `y` among them) added to its error in quadrature; `y` itself when fewer than two
/// finite values are around.
pub fn widen(y: Estimate, around: &[Estimate]) -> Estimate {
    let finite: Vec<f64> = around
        .iter()
        .map(|e| e.value)
        .filter(|v| v.is_finite())
        .collect();
    if finite.len() < 2 || !y.value.is_finite() {
        return y;
    }
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    Estimate::new(y.value, y.error.hypot((hi - lo) / 2.0))
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
    /// T_c and ν combined over every trustworthy crossing (NaN when there is none).
    pub tc: Estimate,
    pub nu: Estimate,
    pub y_t: Estimate,
    pub y_h: Estimate,
    /// ν = 1/y_t from the linearised RG.
    pub nu_linearised: Estimate,
    pub linearised: Option<LinearPoint>,
    /// The crossings `tc` and `nu` combine, by size then level.
    pub crossings: Vec<Crossing>,
    /// Pairs that gave no crossing, or one not used, with the reason.
    pub dropped: Vec<Dropped>,
    /// y_t and y_h of every size and level at the temperature nearest T_c (convergence in n
    /// and L at a glance).
    pub exponents: Vec<LevelExponents>,
    /// How `tc` and `nu` were formed, and what limits them.
    pub notes: Vec<String>,
}

fn nan() -> Estimate {
    Estimate::new(f64::NAN, f64::NAN)
}

/// ν = ln 2 / ln λ_t.
fn nu(lambda: f64) -> f64 {
    2f64.ln() / lambda.ln()
}

/// A crossing with its jackknife leave-out values (one per block; all pairs of a sweep have
/// the same blocks, so combinations of pairs are jackknifed block by block).
struct Found {
    crossing: Crossing,
    tc_blocks: Vec<f64>,
    nu_blocks: Vec<f64>,
}

type Points<'a> = BTreeMap<(usize, u64, usize), &'a Combined>;

/// The crossing of (size, level) against (against, against_level) for one map, with ν from the
/// stretch λ_t that collapses one curve onto the other there: on two lattices both curves
/// describe lattices of the same final size, so K⁽ⁿ⁺¹⁾_L(T) = f(λ_t·(T − T_c)) and
/// K⁽ⁿ⁾_{L/2}(T) = f(T − T_c) with the finite-size effects cancelling as they do for T_c.
fn cross(
    points: &Points,
    temperatures: &[f64],
    nn: usize,
    (size, level): (usize, usize),
    (against, against_level): (usize, usize),
) -> Result<Found, String> {
    let mut t = Vec::new();
    let mut rows: Vec<[&Combined; 2]> = Vec::new();
    for &temp in temperatures {
        let at = |s: usize, n: usize| points.get(&(s, temp.to_bits(), n)).copied();
        if let (Some(x), Some(y)) = (at(size, level), at(against, against_level)) {
            t.push(temp);
            rows.push([x, y]);
        }
    }
    // Errors: the jackknife errors (a level without them counts as its neighbours' mean).
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
    let value = |k: usize| {
        rows.iter()
            .map(|r| r[k].couplings[nn])
            .collect::<Vec<f64>>()
    };
    let (a, b, a_err, b_err) = (value(0), value(1), errors(0), errors(1));
    let pair = Pair {
        t: &t,
        a: &a,
        a_err: &a_err,
        b: &b,
        b_err: &b_err,
    };
    let at = pair.locate()?;
    let (tc, lambda) = fit(&pair, &at, &a, &b).ok_or("the line fits failed")?;
    if lambda.is_nan() || lambda <= 1.0 {
        return Err(format!(
            "the slopes' ratio at T = {tc:.4} is {lambda:.3}: the deeper curve is not the steeper"
        ));
    }
    let window = &at.kept[at.window.0..at.window.1];
    let blocks = window
        .iter()
        .flat_map(|&i| rows[i].iter().map(|p| p.leave_out.len()))
        .min()
        .unwrap_or(0);
    let mut tc_blocks = Vec::new();
    let mut nu_blocks = Vec::new();
    if blocks >= 2 {
        for k in 0..blocks {
            // Outside the window the values are not read: the full ones stand in.
            let leave = |side: usize, full: &[f64]| -> Vec<f64> {
                (0..rows.len())
                    .map(|i| {
                        rows[i][side]
                            .leave_out
                            .get(k)
                            .map_or(full[i], |row| row[nn])
                    })
                    .collect()
            };
            match fit(&pair, &at, &leave(0, &a), &leave(1, &b)) {
                Some((t_k, l_k)) => {
                    tc_blocks.push(t_k);
                    nu_blocks.push(nu(l_k));
                }
                None => break,
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
    Ok(Found {
        crossing: Crossing {
            size,
            level,
            against_size: against,
            against_level,
            tc: Estimate::new(tc, error(&tc_blocks)),
            nu: Estimate::new(nu(lambda), error(&nu_blocks)),
            support: at.support,
        },
        tc_blocks,
        nu_blocks,
    })
}

/// The error-weighted mean of several pairs' estimates: weights 1/σ² from the full data, the
/// error by jackknife over the shared blocks (the pairs share configurations, so their errors
/// are not independent), with the pairs' weighted standard deviation added in quadrature when
/// they scatter more than their errors allow (χ²/dof > 1). Returns the estimate and χ²/dof.
fn combine_pairs(values: &[(Estimate, &[f64])]) -> (Estimate, Option<f64>) {
    let w: Vec<f64> = values
        .iter()
        .map(|(e, _)| 1.0 / (e.error * e.error))
        .collect();
    let total: f64 = w.iter().sum();
    let mean = |x: &dyn Fn(usize) -> f64| -> f64 {
        (0..values.len()).map(|i| w[i] * x(i)).sum::<f64>() / total
    };
    let centre = mean(&|i| values[i].0.value);
    let blocks = values.first().map_or(0, |(_, b)| b.len());
    let jack: Vec<f64> = (0..blocks).map(|k| mean(&|i| values[i].1[k])).collect();
    let mut error = jackknife_error(&jack);
    let scatter: f64 = (0..values.len())
        .map(|i| w[i] * (values[i].0.value - centre).powi(2))
        .sum();
    let chi2 = (values.len() > 1).then(|| scatter / (values.len() - 1) as f64);
    if chi2.is_some_and(|c| c > 1.0) {
        // The pairs disagree (corrections to scaling differ between levels): their weighted
        // standard deviation joins the error, so the error covers the pairs themselves, not
        // only their mean.
        error = error.hypot((scatter / total).sqrt());
    }
    (Estimate::new(centre, error), chi2)
}

/// How far (in combined errors) a shallower pair's T_c may lie from the deeper pairs' and still
/// count as converged.
const CONVERGED_SIGMAS: f64 = 2.0;

/// The pairs whose T_c has converged in the level: for each lattice, from the deepest pair
/// (closest to the fixed point) towards shallower ones, as long as each agrees with the deeper
/// ones within [`CONVERGED_SIGMAS`]. The first that does not, and every shallower one, are
/// dropped: their curves start too close to the simulated model for the irrelevant couplings
/// to have died out (on the paper-scale flows, level 2 of L = 128 against level 1 of 64
/// crossed 1.5–2% below T_c while the deeper pairs agreed within 0.3%).
fn converged(found: Vec<Found>, dropped: &mut Vec<Dropped>) -> Vec<Found> {
    let mut by_size: BTreeMap<usize, Vec<Found>> = BTreeMap::new();
    for f in found {
        by_size.entry(f.crossing.size).or_default().push(f);
    }
    let mut kept = Vec::new();
    for (_, mut pairs) in by_size {
        pairs.sort_by_key(|f| std::cmp::Reverse(f.crossing.level));
        let mut deeper: Vec<Found> = Vec::new();
        let mut broken: Option<(f64, f64)> = None;
        for f in pairs {
            let c = &f.crossing;
            if let Some((m, e)) = broken {
                dropped.push(Dropped::of(
                    c,
                    format!(
                        "T = {:.5} ± {:.5}: shallower than a pair not converged in the level \
                         (the deeper pairs give {m:.5} ± {e:.5})",
                        c.tc.value, c.tc.error
                    ),
                ));
                continue;
            }
            if !deeper.is_empty() {
                let (m, _) = combine_pairs(
                    &deeper
                        .iter()
                        .map(|d| (d.crossing.tc, d.tc_blocks.as_slice()))
                        .collect::<Vec<_>>(),
                );
                let deviation = (c.tc.value - m.value).abs() / c.tc.error.hypot(m.error);
                if deviation > CONVERGED_SIGMAS {
                    dropped.push(Dropped::of(
                        c,
                        format!(
                            "T = {:.5} ± {:.5} is {deviation:.1} errors from the deeper pairs' \
                             {:.5} ± {:.5}: not converged in the level (corrections to scaling \
                             near the simulated model)",
                            c.tc.value, c.tc.error, m.value, m.error
                        ),
                    ));
                    broken = Some((m.value, m.error));
                    continue;
                }
            }
            deeper.push(f);
        }
        kept.extend(deeper);
    }
    kept.sort_by_key(|f| (f.crossing.size, f.crossing.level));
    kept
}

fn pair_name(size: usize, level: usize, against: usize, against_level: usize) -> String {
    format!("L={size} level {level} / L={against} level {against_level}")
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
        let points: Points = combined
            .iter()
            .filter(|c| c.map == map)
            .map(|c| ((c.size, c.temperature.to_bits(), c.level), c))
            .collect();
        let mut sizes: Vec<usize> = points.keys().map(|k| k.0).collect();
        sizes.dedup();
        let mut temperatures: Vec<f64> = points.keys().map(|k| f64::from_bits(k.1)).collect();
        temperatures.sort_by(f64::total_cmp);
        temperatures.dedup();
        out.insert(
            map.name().to_string(),
            summarise(settings, nn, &points, &sizes, &temperatures),
        );
    }
    out
}

fn summarise(
    settings: &Settings,
    nn: usize,
    points: &Points,
    sizes: &[usize],
    temperatures: &[f64],
) -> MapSummary {
    let mut notes = Vec::new();
    let mut found: Vec<Found> = Vec::new();
    let mut dropped = Vec::new();
    let halved = |size: usize| size.is_multiple_of(2) && sizes.contains(&(size / 2));
    // Two-lattice pairs (level n+1 of L against level n of L/2: the same final lattice) where
    // the sweep has L/2; the same lattice's successive levels only when no size has its half.
    let two_lattice = sizes.iter().any(|&s| halved(s));
    for &size in sizes {
        let against = if halved(size) { size / 2 } else { size };
        for n in 0..settings.levels {
            let drop = |why: String| Dropped {
                size,
                level: n + 1,
                against_size: against,
                against_level: n,
                why,
            };
            if two_lattice && against == size {
                dropped.push(drop(format!(
                    "same-lattice pair (levels of {size}/2^(n+1) and {size}/2^n sites a side: \
                     finite-size effects do not cancel) while two-lattice pairs exist"
                )));
                continue;
            }
            match cross(points, temperatures, nn, (size, n + 1), (against, n)) {
                Ok(f) if f.crossing.tc.error.is_finite() && f.crossing.tc.error > 0.0 => {
                    found.push(f)
                }
                Ok(f) => dropped.push(drop(format!(
                    "crossing at T = {:.4} has no jackknife error (a leave-out sample lacks it)",
                    f.crossing.tc.value
                ))),
                Err(why) => dropped.push(drop(why)),
            }
        }
    }
    let found = converged(found, &mut dropped);
    let crossings: Vec<Crossing> = found.iter().map(|f| f.crossing.clone()).collect();
    let (tc, nu) = if found.is_empty() {
        notes.push(
            "no trustworthy crossing of the coupling curves in the sweep's temperatures: T_c and ν are not estimated (see dropped)"
                .to_string(),
        );
        (nan(), nan())
    } else {
        let (tc, tc_chi2) = combine_pairs(
            &found
                .iter()
                .map(|f| (f.crossing.tc, f.tc_blocks.as_slice()))
                .collect::<Vec<_>>(),
        );
        let nus: Vec<(Estimate, &[f64])> = found
            .iter()
            .filter(|f| f.crossing.nu.error.is_finite() && f.crossing.nu.error > 0.0)
            .map(|f| (f.crossing.nu, f.nu_blocks.as_slice()))
            .collect();
        let (nu, nu_chi2) = if nus.is_empty() {
            (nan(), None)
        } else {
            combine_pairs(&nus)
        };
        let used: Vec<String> = crossings
            .iter()
            .map(|c| {
                format!(
                    "{} (T = {:.5} ± {:.5}, ν = {:.3} ± {:.3})",
                    pair_name(c.size, c.level, c.against_size, c.against_level),
                    c.tc.value,
                    c.tc.error,
                    c.nu.value,
                    c.nu.error
                )
            })
            .collect();
        notes.push(format!(
            "T_c and ν: error-weighted means over {} crossing(s): {}",
            used.len(),
            used.join("; ")
        ));
        for (what, chi2) in [("T_c", tc_chi2), ("ν", nu_chi2)] {
            if let Some(c) = chi2.filter(|&c| c > 1.0) {
                notes.push(format!(
                    "the pairs' {what} scatter beyond their errors (χ²/dof = {c:.2}): their weighted \
                     standard deviation is added to the error"
                ));
            }
        }
        (tc, nu)
    };
    for d in &dropped {
        notes.push(format!(
            "dropped {}: {}",
            pair_name(d.size, d.level, d.against_size, d.against_level),
            d.why
        ));
    }
    let nearest = tc.value.is_finite().then(|| {
        temperatures
            .iter()
            .copied()
            .min_by(|x, y| (x - tc.value).abs().total_cmp(&(y - tc.value).abs()))
    });
    let nearest = nearest.flatten();
    let linear = nearest.and_then(|t| {
        let largest = *sizes.last()?;
        let p = points.get(&(largest, t.to_bits(), settings.levels))?;
        Some((
            LinearPoint {
                size: largest,
                temperature: t,
                level: settings.levels,
            },
            p.y_t.unwrap_or_else(nan),
            p.y_h.unwrap_or_else(nan),
        ))
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
    let (linearised, mut y_t, mut y_h) = match linear {
        Some((p, t, h)) => (Some(p), t, h),
        None => (None, nan(), nan()),
    };
    // Off T_c the linearised exponents drift with T faster than their statistical errors
    // shrink (y_h at T = 2.25 against 2.269 on L = 128: 1.893(1) against 1.874(1)); the sweep
    // temperatures T_c's own error cannot tell apart from the nearest widen the error.
    if let Some(p) = &linearised {
        let window: Vec<f64> = temperatures
            .iter()
            .copied()
            .filter(|t| (t - tc.value).abs() <= 2.0 * tc.error)
            .collect();
        let at = |get: fn(&Combined) -> Option<Estimate>| -> Vec<Estimate> {
            window
                .iter()
                .filter_map(|t| {
                    points
                        .get(&(p.size, t.to_bits(), p.level))
                        .and_then(|c| get(c))
                })
                .collect()
        };
        let (wt, wh) = (widen(y_t, &at(|c| c.y_t)), widen(y_h, &at(|c| c.y_h)));
        if wt != y_t || wh != y_h {
            notes.push(format!(
                "y_t and y_h at T = {} carry half their spread over the sweep temperatures \
                 within two errors of T_c ({}): y_t {:.4} ± {:.4}, y_h {:.4} ± {:.4}",
                p.temperature,
                window
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                wt.value,
                wt.error,
                wh.value,
                wh.error
            ));
        }
        (y_t, y_h) = (wt, wh);
    }
    let nu_linearised = Estimate::new(1.0 / y_t.value, y_t.error / (y_t.value * y_t.value));
    let z = (nu.value - nu_linearised.value) / nu.error.hypot(nu_linearised.error);
    if z.abs() > 2.0 {
        let finals: Vec<String> = crossings
            .iter()
            .map(|c| (c.size >> c.level).to_string())
            .collect();
        notes.push(format!(
            "ν from the flow ({:.3} ± {:.3}) and from the linearised RG ({:.3} ± {:.3}) differ \
             by {:.1} errors: the flow's ν is the stretch that collapses one curve onto the \
             other on final lattices of {} sites a side, where finite-size corrections to the \
             couplings' temperature dependence are still large; the linearised RG at one \
             temperature is the better estimate of ν here",
            nu.value,
            nu.error,
            nu_linearised.value,
            nu_linearised.error,
            z.abs(),
            finals.join(", ")
        ));
    }
    MapSummary {
        tc,
        nu,
        y_t,
        y_h,
        nu_linearised,
        linearised,
        crossings,
        dropped,
        exponents,
        notes,
    }
}

#[cfg(test)]
mod tests;
