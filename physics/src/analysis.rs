//! From time series to observables with honest errors, and single-histogram reweighting.
//!
//! A point (model, L, T) holds one energy/order-parameter time series per replica. Each replica's
//! series is cut into equal blocks much longer than τ_int, and every observable — simple means and
//! derived quantities alike — is a function of per-block sums, so one jackknife gives all errors.
//! Reweighting (Ferrenberg & Swendsen, PRL 61, 2635, 1988) is the same computation with weights
//! `w_i = e^{−(β' − β)E_i}` in the sums, so reweighted observables get their errors the same way.
//!
//! Conventions: `e = E/N` (energy per site), `m = order/order_norm` (per site), `C = β²N(⟨e²⟩ −
//! ⟨e⟩²)`, `χ = βN(⟨m²⟩ − ⟨|m|⟩²)`, `U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²)`.

use crate::stats::{Estimate, jackknife, tau_int};
use serde::{Deserialize, Serialize};

/// One replica's measurements, as exact integers: total energy, order-parameter numerator (spin
/// models; empty for models without a scalar order parameter) and the model's named series
/// ([`crate::ModelKind::observables`], in that order; absent from a spin model's result, so
/// its bytes are those of before).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub energy: Vec<i64>,
    pub order: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named: Vec<Named>,
}

/// One named observable series of a replica.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    pub values: Vec<i64>,
}

/// All measurements of one (model, size, temperature) point.
#[derive(Clone, Debug, PartialEq)]
pub struct PointData {
    pub size: usize,
    pub temperature: f64,
    pub sites: usize,
    pub order_norm: f64,
    pub replicas: Vec<Series>,
}

/// Indices into the per-block sums.
mod k {
    pub const W: usize = 0;
    pub const E: usize = 1;
    pub const E2: usize = 2;
    pub const ABS_M: usize = 3;
    pub const M2: usize = 4;
    pub const M4: usize = 5;
    pub const ABS_M_E: usize = 6;
    pub const M2_E: usize = 7;
    pub const M4_E: usize = 8;
    pub const N: usize = 9;
}

/// Per-block weighted sums of `1, ε, ε², |m|, m², m⁴, |m|ε, m²ε, m⁴ε`, with `ε = e − e_ref`
/// (a shift that keeps the sums well conditioned and cancels from every connected quantity).
pub type BlockSums = [f64; k::N];

/// Observables of one point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observables {
    pub samples: usize,
    pub energy: Estimate,
    pub abs_m: Estimate,
    pub m2: Estimate,
    pub binder: Estimate,
    pub susceptibility: Estimate,
    pub specific_heat: Estimate,
    /// τ_int of the energy and of m², in measurements, averaged over replicas.
    pub tau_int_energy: f64,
    pub tau_int_m2: f64,
    /// Number of jackknife blocks the errors come from.
    pub blocks: usize,
}

/// Quantities at one β computed from block sums (see [`PointData::block_sums`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Derived;

impl Derived {
    pub(crate) fn energy(s: &BlockSums, e_ref: f64) -> f64 {
        s[k::E] / s[k::W] + e_ref
    }
    pub(crate) fn abs_m(s: &BlockSums) -> f64 {
        s[k::ABS_M] / s[k::W]
    }
    pub(crate) fn m2(s: &BlockSums) -> f64 {
        s[k::M2] / s[k::W]
    }
    pub(crate) fn binder(s: &BlockSums) -> f64 {
        let m2 = s[k::M2] / s[k::W];
        1.0 - (s[k::M4] / s[k::W]) / (3.0 * m2 * m2)
    }
    pub(crate) fn susceptibility(s: &BlockSums, beta: f64, sites: f64) -> f64 {
        let am = s[k::ABS_M] / s[k::W];
        beta * sites * (s[k::M2] / s[k::W] - am * am)
    }
    pub(crate) fn specific_heat(s: &BlockSums, beta: f64, sites: f64) -> f64 {
        let e = s[k::E] / s[k::W];
        beta * beta * sites * (s[k::E2] / s[k::W] - e * e)
    }
    /// `d⟨O⟩/dβ = −N(⟨Oε⟩ − ⟨O⟩⟨ε⟩)` (total energy = Nε up to a constant).
    fn d_dbeta(s: &BlockSums, o: usize, oe: usize, sites: f64) -> f64 {
        -sites * (s[oe] / s[k::W] - (s[o] / s[k::W]) * (s[k::E] / s[k::W]))
    }
    /// `dU₄/dβ`.
    pub(crate) fn binder_slope(s: &BlockSums, sites: f64) -> f64 {
        let m2 = s[k::M2] / s[k::W];
        let m4 = s[k::M4] / s[k::W];
        let dm2 = Self::d_dbeta(s, k::M2, k::M2_E, sites);
        let dm4 = Self::d_dbeta(s, k::M4, k::M4_E, sites);
        -(dm4 * m2 - 2.0 * m4 * dm2) / (3.0 * m2 * m2 * m2)
    }
    /// `d ln⟨|m|⟩/dβ`.
    pub(crate) fn log_abs_m_slope(s: &BlockSums, sites: f64) -> f64 {
        Self::d_dbeta(s, k::ABS_M, k::ABS_M_E, sites) / (s[k::ABS_M] / s[k::W])
    }
}

/// Integrated autocorrelation times of a point (in measurements).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TauSummary {
    pub energy: f64,
    pub m2: f64,
    pub converged: bool,
}

/// How a point's data is cut into blocks: the same block length for every replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    pub per_replica: usize,
    pub length: usize,
}

impl PointData {
    pub fn beta(&self) -> f64 {
        1.0 / self.temperature
    }

    pub fn samples(&self) -> usize {
        self.replicas.iter().map(|r| r.energy.len()).sum()
    }

    fn per_site_energy<'a>(&self, r: &'a Series) -> impl Iterator<Item = f64> + 'a {
        let n = self.sites as f64;
        r.energy.iter().map(move |&e| e as f64 / n)
    }

    fn per_site_order<'a>(&self, r: &'a Series) -> impl Iterator<Item = f64> + 'a {
        let norm = self.order_norm;
        r.order.iter().map(move |&m| m as f64 / norm)
    }

    /// Mean energy per site, used as the reference shift `e_ref`.
    pub fn mean_energy(&self) -> f64 {
        let total: f64 = self
            .replicas
            .iter()
            .flat_map(|r| self.per_site_energy(r))
            .sum();
        total / self.samples().max(1) as f64
    }

    /// τ_int of e and of m² per replica, averaged.
    pub fn tau_ints(&self) -> (f64, f64) {
        let t = self.tau_summary();
        (t.energy, t.m2)
    }

    /// τ_int of e and of m², averaged over replicas, and whether every window converged.
    pub fn tau_summary(&self) -> TauSummary {
        let mut te = 0.0;
        let mut tm = 0.0;
        let mut converged = true;
        for r in &self.replicas {
            let e: Vec<f64> = self.per_site_energy(r).collect();
            let m2: Vec<f64> = self.per_site_order(r).map(|m| m * m).collect();
            let (a, b) = (tau_int(&e), tau_int(&m2));
            te += a.tau;
            tm += b.tau;
            converged &= a.converged && b.converged;
        }
        let n = self.replicas.len().max(1) as f64;
        TauSummary {
            energy: te / n,
            m2: tm / n,
            converged,
        }
    }

    /// Why this point's error bars may be too small, if they may: a τ_int window that did not
    /// converge, or blocks shorter than 20·τ_int because the run is short.
    pub fn quality_note(&self) -> Option<String> {
        let t = self.tau_summary();
        let tau = t.energy.max(t.m2);
        let blocking = self.blocking(tau);
        let what = format!("L={} T={}", self.size, self.temperature);
        if !t.converged {
            Some(format!(
                "{what}: the autocorrelation time did not converge within half the series; its error bars are lower bounds — take more measurements"
            ))
        } else if (blocking.length as f64) < 20.0 * tau {
            Some(format!(
                "{what}: jackknife blocks of {} measurements are shorter than 20 τ_int ({tau:.1}); error bars may be too small — take more measurements",
                blocking.length
            ))
        } else {
            None
        }
    }

    /// Blocks of at least 20·τ_int each (so block means are nearly independent), aiming for 64
    /// blocks in all and never fewer than two per point.
    pub fn blocking(&self, tau: f64) -> Blocking {
        let n = self
            .replicas
            .iter()
            .map(|r| r.energy.len())
            .min()
            .unwrap_or(0);
        let r = self.replicas.len().max(1);
        let wanted = 64usize.div_ceil(r).max(1);
        let affordable = ((n as f64) / (20.0 * tau.max(0.5))).floor() as usize;
        let mut per_replica = wanted.min(affordable).max(1);
        if per_replica * r < 2 {
            per_replica = 2;
        }
        let per_replica = per_replica.min(n.max(1));
        Blocking {
            per_replica,
            length: n / per_replica,
        }
    }

    /// Per-block sums at inverse temperature `beta_target` (the point's own β gives plain
    /// averages). `e_ref` is the energy shift of the ε moments.
    pub fn block_sums(&self, blocking: Blocking, beta_target: f64, e_ref: f64) -> Vec<BlockSums> {
        let db = beta_target - self.beta();
        let n = self.sites as f64;
        // Largest log-weight over all samples, subtracted so no weight overflows; a common factor
        // cancels in every ratio.
        let mut log_w_max = f64::NEG_INFINITY;
        for r in &self.replicas {
            for e in self
                .per_site_energy(r)
                .take(blocking.per_replica * blocking.length)
            {
                log_w_max = log_w_max.max(-db * n * (e - e_ref));
            }
        }
        if db == 0.0 {
            log_w_max = 0.0;
        }
        let mut out = Vec::with_capacity(self.replicas.len() * blocking.per_replica);
        for r in &self.replicas {
            let es: Vec<f64> = self.per_site_energy(r).collect();
            let ms: Vec<f64> = self.per_site_order(r).collect();
            for b in 0..blocking.per_replica {
                let range = b * blocking.length..(b + 1) * blocking.length;
                let mut s = [0.0; k::N];
                for (e, m) in es[range.clone()].iter().zip(&ms[range]) {
                    let eps = e - e_ref;
                    let w = if db == 0.0 {
                        1.0
                    } else {
                        (-db * n * eps - log_w_max).exp()
                    };
                    let am = m.abs();
                    let m2 = m * m;
                    let m4 = m2 * m2;
                    s[k::W] += w;
                    s[k::E] += w * eps;
                    s[k::E2] += w * eps * eps;
                    s[k::ABS_M] += w * am;
                    s[k::M2] += w * m2;
                    s[k::M4] += w * m4;
                    s[k::ABS_M_E] += w * am * eps;
                    s[k::M2_E] += w * m2 * eps;
                    s[k::M4_E] += w * m4 * eps;
                }
                out.push(s);
            }
        }
        out
    }

    /// Observables at the point's own temperature.
    pub fn observables(&self) -> Observables {
        self.observables_at(self.temperature)
    }

    /// Observables reweighted to `temperature` (equal to the point's own for a direct estimate).
    pub fn observables_at(&self, temperature: f64) -> Observables {
        let (te, tm) = self.tau_ints();
        let blocking = self.blocking(te.max(tm));
        let e_ref = self.mean_energy();
        let beta = 1.0 / temperature;
        let sums = self.block_sums(blocking, beta, e_ref);
        let n = self.sites as f64;
        Observables {
            samples: self.samples(),
            energy: jackknife(&sums, |s| Derived::energy(s, e_ref)),
            abs_m: jackknife(&sums, Derived::abs_m),
            m2: jackknife(&sums, Derived::m2),
            binder: jackknife(&sums, Derived::binder),
            susceptibility: jackknife(&sums, |s| Derived::susceptibility(s, beta, n)),
            specific_heat: jackknife(&sums, |s| Derived::specific_heat(s, beta, n)),
            tau_int_energy: te,
            tau_int_m2: tm,
            blocks: sums.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(energy: Vec<i64>, order: Vec<i64>) -> PointData {
        PointData {
            size: 2,
            temperature: 2.0,
            sites: 4,
            order_norm: 4.0,
            replicas: vec![Series {
                energy,
                order,
                named: Vec::new(),
            }],
        }
    }

    #[test]
    fn plain_averages_from_block_sums() {
        let p = point(
            vec![-8, -8, 0, 0, -8, 0, 0, -8],
            vec![4, -4, 0, 2, 4, 0, -2, -4],
        );
        let o = p.observables();
        assert!((o.energy.value - (-1.0)).abs() < 1e-12);
        // m = [1, -1, 0, .5, 1, 0, -.5, -1]: <|m|> = 5/8, <m²> = 4.5/8.
        assert!((o.abs_m.value - 0.625).abs() < 1e-12);
        assert!((o.m2.value - 0.5625).abs() < 1e-12);
        // C = β² N Var(e) = 0.25 · 4 · 1 = 1 (Var of ±1 around -1 with equal counts).
        assert!((o.specific_heat.value - 1.0).abs() < 1e-12);
    }

    #[test]
    fn reweighting_to_own_temperature_is_identity() {
        let p = point(
            vec![-8, -4, 0, -4, -8, 0, -4, -8],
            vec![4, 2, 0, 2, 4, 0, -2, -4],
        );
        let a = p.observables();
        let b = p.observables_at(2.0 + 1e-15);
        assert!((a.energy.value - b.energy.value).abs() < 1e-9);
        assert!((a.binder.value - b.binder.value).abs() < 1e-9);
    }
}
