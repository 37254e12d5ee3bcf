//! What a dimer sweep measures (REFERENCE.md §5): per point the energy and specific heat, the
//! columnar order ⟨|M_col|²⟩ and the winding fluctuations ⟨W²⟩ (the Coulomb gas's stiffness);
//! across sizes the columnar exponent α_d(T) from ⟨|M_col|²⟩ ∝ L^(−α_d) between neighbouring
//! sizes, and T_KT where α_d(T) crosses 1/4 (KT's η: Alet et al., PRL 94, 235702, 2005).
//!
//! Errors are jackknife errors over blocks of at least 20 τ_int (the largest of the energy's
//! and |M_col|²'s), as for spin models ([`PointData::blocking`]).

use super::OBSERVABLES;
use crate::analysis::{PointData, Series};
use crate::stats::{Estimate, jackknife, tau_int};
use serde::Serialize;

/// One point's observables, per site where extensive.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointObservables {
    pub size: usize,
    pub temperature: f64,
    pub samples: usize,
    /// ⟨E⟩/N.
    pub energy: Estimate,
    /// β²(⟨E²⟩ − ⟨E⟩²)/N.
    pub specific_heat: Estimate,
    /// ⟨|M_col|²⟩: 1 in a columnar state, → 0 as L^(−α_d) in the critical phase.
    pub columnar_m2: Estimate,
    /// ⟨W_x² + W_y²⟩/2.
    pub winding2: Estimate,
    pub tau_int_energy: f64,
    pub tau_int_m2: f64,
    /// Why the error bars may be too small, if they may (as [`PointData::quality_note`]).
    #[serde(skip)]
    pub note: Option<String>,
}

/// The named series of a replica, in [`OBSERVABLES`] order, or `None` if any is missing.
fn named(r: &Series) -> Option<[&[i64]; 4]> {
    let mut out: [&[i64]; 4] = [&[]; 4];
    for (k, name) in OBSERVABLES.iter().enumerate() {
        out[k] = &r.named.iter().find(|s| s.name == *name)?.values;
    }
    Some(out)
}

/// Per-measurement |M_col|² and W² of a replica.
fn derived(r: &Series, sites: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let [dx, dy, wx, wy] = named(r)?;
    let scale = 2.0 / sites as f64;
    let m2 = dx
        .iter()
        .zip(dy)
        .map(|(&x, &y)| scale * scale * ((x * x + y * y) as f64))
        .collect();
    let w2 = wx
        .iter()
        .zip(wy)
        .map(|(&x, &y)| 0.5 * ((x * x + y * y) as f64))
        .collect();
    Some((m2, w2))
}

/// The observables of one point, or `None` if its series lack the dimer observables.
pub fn observables(p: &PointData) -> Option<PointObservables> {
    let per: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = p
        .replicas
        .iter()
        .map(|r| {
            let (m2, w2) = derived(r, p.sites)?;
            Some((r.energy.iter().map(|&e| e as f64).collect(), m2, w2))
        })
        .collect::<Option<_>>()?;
    let n = per.iter().map(|r| r.0.len()).min().unwrap_or(0);
    if n < 2
        || per
            .iter()
            .any(|r| r.1.len() != r.0.len() || r.2.len() != r.0.len())
    {
        return None;
    }
    // τ_int averaged over replicas (each replica's own estimate is noisy).
    let taus: Vec<_> = per
        .iter()
        .flat_map(|r| [tau_int(&r.0), tau_int(&r.1)])
        .collect();
    let mean =
        |k: usize| taus.iter().skip(k).step_by(2).map(|t| t.tau).sum::<f64>() / per.len() as f64;
    let (te, tm) = (mean(0), mean(1));
    let blocking = p.blocking(te.max(tm));
    let what = format!("L={} T={}", p.size, p.temperature);
    let note = if taus.iter().any(|t| !t.converged) {
        Some(format!(
            "{what}: the autocorrelation time did not converge within half the series; its error bars are lower bounds — take more measurements"
        ))
    } else if (blocking.length as f64) < 20.0 * te.max(tm) {
        Some(format!(
            "{what}: jackknife blocks of {} measurements are shorter than 20 τ_int ({:.1}); error bars may be too small — take more measurements",
            blocking.length,
            te.max(tm)
        ))
    } else {
        None
    };
    // Energies relative to the mean keep the second moment well conditioned.
    let e_ref = per.iter().flat_map(|r| r.0[..n].iter()).sum::<f64>() / (n * per.len()) as f64;
    let mut blocks: Vec<[f64; 5]> = Vec::new();
    for (e, m2, w2) in &per {
        for b in 0..blocking.per_replica {
            let range = b * blocking.length..(b + 1) * blocking.length;
            let mut s = [0.0; 5];
            for i in range {
                let eps = e[i] - e_ref;
                s[0] += 1.0;
                s[1] += eps;
                s[2] += eps * eps;
                s[3] += m2[i];
                s[4] += w2[i];
            }
            blocks.push(s);
        }
    }
    let sites = p.sites as f64;
    let beta = 1.0 / p.temperature;
    Some(PointObservables {
        size: p.size,
        temperature: p.temperature,
        samples: blocks.iter().map(|b| b[0] as usize).sum(),
        energy: jackknife(&blocks, |s| (e_ref + s[1] / s[0]) / sites),
        specific_heat: jackknife(&blocks, |s| {
            let m = s[1] / s[0];
            beta * beta * (s[2] / s[0] - m * m) / sites
        }),
        columnar_m2: jackknife(&blocks, |s| s[3] / s[0]),
        winding2: jackknife(&blocks, |s| s[4] / s[0]),
        tau_int_energy: te,
        tau_int_m2: tm,
        note,
    })
}

/// α_d at one temperature from two sizes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exponent {
    pub temperature: f64,
    pub size: usize,
    pub against: usize,
    pub alpha_d: Estimate,
}

/// RSMI's filters at one point and buffer against the electric field
/// ([`super::image::FieldOverlap`]), averaged over replicas.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldRow {
    pub size: usize,
    pub temperature: f64,
    pub buffer: usize,
    pub replicas: usize,
    pub in_field_span: f64,
    pub field_in_filter_span: f64,
    pub decoy_weight: f64,
    pub in_columnar_span: f64,
    /// With `dimension_size`: the coarse variables' scaling dimension, the mean over replicas
    /// (its error that of a mean of independent measurements).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<Estimate>,
}

/// Where one pair's α_d(T) crosses 1/4.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Crossing {
    pub size: usize,
    pub against: usize,
    /// Statistical error only (the line fit's, scaled up by √(χ²/dof) when that exceeds 1).
    pub temperature: Estimate,
    pub chi2_per_dof: Option<f64>,
}

/// What a dimer sweep found across its points.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DimerSummary {
    /// α_d(T) for each pair of neighbouring sizes, by pair then temperature.
    pub alpha_d: Vec<Exponent>,
    /// Each pair's crossing of 1/4, by pair.
    pub crossings: Vec<Crossing>,
    /// With `[rsmi]`: the learned filters against the electric field, per point and buffer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldRow>,
    /// The largest pair's crossing, its error including the shift from the next smaller pair
    /// (KT's finite-size drift is logarithmic: that shift is the honest size of what is left).
    pub t_kt: Option<Estimate>,
    pub notes: Vec<String>,
}

/// Temperatures on each side of the first upward crossing of 1/4 used in its line fit.
const CROSSING_REACH: usize = 2;

/// The first upward crossing of 1/4 of a pair's α_d(T) (ascending T): an error-weighted line
/// through up to [`CROSSING_REACH`] temperatures on each side.
fn crossing(curve: &[&Exponent]) -> Option<(Estimate, Option<f64>)> {
    let k = curve
        .windows(2)
        .position(|w| w[0].alpha_d.value < ALPHA_AT_KT && w[1].alpha_d.value >= ALPHA_AT_KT)?;
    let lo = k.saturating_sub(CROSSING_REACH - 1);
    let hi = (k + 1 + CROSSING_REACH).min(curve.len());
    let window = &curve[lo..hi];
    let mean = window.iter().map(|e| e.temperature).sum::<f64>() / window.len() as f64;
    let x: Vec<f64> = window.iter().map(|e| e.temperature - mean).collect();
    let y: Vec<f64> = window.iter().map(|e| e.alpha_d.value).collect();
    let s: Vec<f64> = window.iter().map(|e| e.alpha_d.error).collect();
    let fit = crate::stats::fit_line(&x, &y, &s)?;
    if fit.slope.is_nan() || fit.slope <= 0.0 {
        return None;
    }
    let dx = (ALPHA_AT_KT - fit.intercept) / fit.slope;
    // The centred fit's intercept and slope are uncorrelated.
    let var = (fit.intercept_error.powi(2) + dx * dx * fit.slope_error.powi(2)) / fit.slope.powi(2);
    let chi2 = fit.chi2_per_dof();
    let scale = chi2.map_or(1.0, |c| c.max(1.0).sqrt());
    Some((Estimate::new(mean + dx, var.sqrt() * scale), chi2))
}

/// KT's η: α_d at the transition.
pub const ALPHA_AT_KT: f64 = 0.25;

/// α_d(T) between neighbouring sizes and T_KT, from the points' observables (any order).
pub fn summarise(points: &[PointObservables]) -> DimerSummary {
    let mut sizes: Vec<usize> = points.iter().map(|p| p.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut out = DimerSummary::default();
    if sizes.len() < 2 {
        out.notes
            .push("α_d and T_KT need at least two sizes: add one to `sizes`".into());
        return out;
    }
    let at = |size: usize, t: f64| {
        points
            .iter()
            .find(|p| p.size == size && p.temperature.to_bits() == t.to_bits())
    };
    let mut temperatures: Vec<f64> = points.iter().map(|p| p.temperature).collect();
    temperatures.sort_by(f64::total_cmp);
    temperatures.dedup();
    for pair in sizes.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        for &t in &temperatures {
            let (Some(pa), Some(pb)) = (at(a, t), at(b, t)) else {
                continue;
            };
            let (ma, mb) = (pa.columnar_m2, pb.columnar_m2);
            if !(ma.value > 0.0 && mb.value > 0.0) {
                continue;
            }
            let log = (b as f64 / a as f64).ln();
            let value = (ma.value / mb.value).ln() / log;
            let error = (ma.error / ma.value).hypot(mb.error / mb.value) / log;
            out.alpha_d.push(Exponent {
                temperature: t,
                size: a,
                against: b,
                alpha_d: Estimate::new(value, error),
            });
        }
    }
    // T_KT: each pair's first upward crossing of 1/4; the largest pair's is the estimate.
    let pairs: Vec<(usize, usize)> = sizes.windows(2).map(|w| (w[0], w[1])).collect();
    for &(a, b) in &pairs {
        let curve: Vec<&Exponent> = out.alpha_d.iter().filter(|e| e.size == a).collect();
        match crossing(&curve) {
            Some((temperature, chi2_per_dof)) => out.crossings.push(Crossing {
                size: a,
                against: b,
                temperature,
                chi2_per_dof,
            }),
            None => out.notes.push(format!(
                "T_KT: α_d(T) of L = {a} against {b} never crosses 1/4 from below over the \
                 sweep's temperatures (it is {}): the sweep does not bracket the transition",
                curve
                    .iter()
                    .map(|e| format!("{:.3} at T = {}", e.alpha_d.value, e.temperature))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    let largest = pairs.last().map(|p| p.0);
    let last = out.crossings.iter().find(|c| Some(c.size) == largest);
    if let Some(c) = last {
        let before = out
            .crossings
            .iter()
            .filter(|x| x.size < c.size)
            .max_by_key(|x| x.size);
        let drift = before.map_or(0.0, |p| (c.temperature.value - p.temperature.value).abs());
        out.t_kt = Some(Estimate::new(
            c.temperature.value,
            c.temperature.error.hypot(drift),
        ));
        out.notes.push(format!(
            "T_KT = {:.4} ± {:.4}: where α_d(T) of L = {} against {} crosses 1/4 (a line through \
             the nearest temperatures, ± {:.4}){}",
            c.temperature.value,
            c.temperature.error.hypot(drift),
            c.size,
            c.against,
            c.temperature.error,
            match before {
                Some(p) => format!(
                    ", with the shift from L = {} against {} ({:.4}) added: the crossing still \
                     drifts with L",
                    p.size, p.against, p.temperature.value
                ),
                None => String::new(),
            }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(size: usize, t: f64, m2: f64) -> PointObservables {
        let e = Estimate::new(0.0, 0.0);
        PointObservables {
            size,
            temperature: t,
            samples: 100,
            energy: e,
            specific_heat: e,
            columnar_m2: Estimate::new(m2, 0.01 * m2),
            winding2: e,
            tau_int_energy: 1.0,
            tau_int_m2: 1.0,
            note: None,
        }
    }

    #[test]
    fn alpha_d_and_t_kt_come_back_from_built_power_laws() {
        // α_d(T) = 0.25 + (T − 0.65): M² = L^(−α_d) exactly on L = 16 and 32.
        let alpha = |t: f64| 0.25 + (t - 0.65);
        let mut points = Vec::new();
        for t in [0.5, 0.6, 0.7, 0.8] {
            for l in [16, 32] {
                points.push(point(l, t, (l as f64).powf(-alpha(t))));
            }
        }
        let s = summarise(&points);
        assert_eq!(s.alpha_d.len(), 4);
        for e in &s.alpha_d {
            assert!(
                (e.alpha_d.value - alpha(e.temperature)).abs() < 1e-12,
                "{e:?}"
            );
            assert!(e.alpha_d.error > 0.0);
        }
        let t = s.t_kt.expect("bracketed");
        assert!((t.value - 0.65).abs() < 1e-12 && t.error > 0.0, "{t:?}");
        // Without the bracket: no T_KT, and a note saying so.
        let hot: Vec<PointObservables> = points
            .into_iter()
            .filter(|p| p.temperature > 0.66)
            .collect();
        let s = summarise(&hot);
        assert!(s.t_kt.is_none());
        assert!(
            s.notes.iter().any(|n| n.contains("does not bracket")),
            "{s:?}"
        );
    }
}
