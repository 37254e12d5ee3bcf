//! Effective couplings of Ising configurations by pseudo-likelihood (Swendsen, PRL 52, 1165,
//! 1984; REFERENCE.md §4).
//!
//! Write −βH = Σ_α K_α S_α over lattice-summed operators S_α. For Ising spins,
//! P(σ_i | rest) ∝ exp(σ_i h_i) with h_i = Σ_α K_α f_α,i and f_α,i = ∂S_α/∂σ_i. Maximising
//! Σ_i [σ_i h_i − ln 2cosh h_i] over K is concave and Newton's method solves it; its
//! stationarity conditions Σ_i ⟨f_α,i σ_i⟩ = Σ_i ⟨f_α,i tanh h_i⟩ are Swendsen's equations.
//!
//! Every (σ_i, f_·,i) is a tuple of small integers, so a pass over the configurations only
//! counts distinct tuples; Newton then iterates over a few hundred patterns, not millions of
//! sites, and jackknife blocks are differences of counts.

use crate::lattice::Lattice;
use crate::stats::{Estimate, invert};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Lattice-summed Ising operators (even sector unless noted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    /// Σ σ_i σ_{i+e_k}: nearest neighbours, the model's own coupling K₁.
    NearestNeighbour,
    /// Σ σ_i σ_{i+e_k±e_l} (k < l): (1,1) diagonals (2D and 3D).
    Diagonal,
    /// Σ σ_i σ_{i+2e_k}: (2,0) neighbours.
    Second,
    /// Σ σσσσ over elementary plaquettes (2D and 3D).
    Plaquette,
    /// Σ σ_i: the magnetic field (odd sector).
    Field,
    /// Σ σσσ over the corners of elementary plaquettes (three of four; odd sector, 2D and 3D).
    ThreeSpin,
}

impl Operator {
    pub fn name(self) -> &'static str {
        match self {
            Operator::NearestNeighbour => "nn",
            Operator::Diagonal => "diagonal",
            Operator::Second => "second",
            Operator::Plaquette => "plaquette",
            Operator::Field => "field",
            Operator::ThreeSpin => "three-spin",
        }
    }

    /// Odd under a global spin flip (the magnetic sector).
    pub fn odd(self) -> bool {
        matches!(self, Operator::Field | Operator::ThreeSpin)
    }

    pub const ALL: [Operator; 6] = [
        Operator::NearestNeighbour,
        Operator::Diagonal,
        Operator::Second,
        Operator::Plaquette,
        Operator::Field,
        Operator::ThreeSpin,
    ];

    pub fn parse(name: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Defined on a `dim`-dimensional lattice.
    pub fn exists(self, dim: usize) -> bool {
        match self {
            Operator::Diagonal | Operator::Plaquette | Operator::ThreeSpin => dim >= 2,
            _ => true,
        }
    }

    /// Defined for a `q`-state model (q = 2: Ising) on a `dim`-dimensional lattice. Potts
    /// operators are Kronecker deltas: δ(s_i, s_j) for pairs, all four states equal for a
    /// plaquette, δ(s_i, 0) for the field; a three-spin product has no Potts analogue here.
    pub fn exists_for(self, dim: usize, q: u8) -> bool {
        self.exists(dim) && (q == 2 || self != Operator::ThreeSpin)
    }

    /// Spins per term of S_α, so that S_α = Σ_i σ_i f_α,i / (spins per term).
    fn order(self) -> f64 {
        match self {
            Operator::Field => 1.0,
            Operator::ThreeSpin => 3.0,
            Operator::Plaquette => 4.0,
            _ => 2.0,
        }
    }
}

/// f_α,i for one site: the sum over the terms of S_α containing σ_i of the other spins'
/// product.
fn local(op: Operator, lattice: &Lattice, s: &[i8], i: usize) -> i32 {
    let dim = lattice.dim();
    let spin = |by: &[(usize, isize)]| i32::from(s[lattice.offset(i, by)]);
    let mut f = 0;
    match op {
        Operator::Field => f = 1,
        Operator::NearestNeighbour => {
            for a in 0..dim {
                f += spin(&[(a, 1)]) + spin(&[(a, -1)]);
            }
        }
        Operator::Second => {
            for a in 0..dim {
                f += spin(&[(a, 2)]) + spin(&[(a, -2)]);
            }
        }
        Operator::Diagonal => {
            for a in 0..dim {
                for b in a + 1..dim {
                    for (x, y) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                        f += spin(&[(a, x), (b, y)]);
                    }
                }
            }
        }
        Operator::Plaquette => {
            for a in 0..dim {
                for b in a + 1..dim {
                    // The four plaquettes of the (a, b) plane that contain site i.
                    for (x, y) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                        f += spin(&[(a, x)]) * spin(&[(b, y)]) * spin(&[(a, x), (b, y)]);
                    }
                }
            }
        }
        Operator::ThreeSpin => {
            for a in 0..dim {
                for b in a + 1..dim {
                    // Each plaquette of the (a, b) plane containing i has four three-spin
                    // corners, three of which contain i: with its two edge neighbours, or with
                    // one edge neighbour and the diagonal one.
                    for (x, y) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                        let (p, q, d) = (spin(&[(a, x)]), spin(&[(b, y)]), spin(&[(a, x), (b, y)]));
                        f += p * q + p * d + q * d;
                    }
                }
            }
        }
    }
    f
}

/// S_α = Σ over its terms of the spins' product, for each operator, on one configuration.
pub fn lattice_sums(lattice: &Lattice, spins: &[u8], ops: &[Operator]) -> Vec<f64> {
    let s: Vec<i8> = spins.iter().map(|&x| 1 - 2 * x as i8).collect();
    ops.iter()
        .map(|&op| {
            // Each term is counted once per spin it contains.
            let total: i64 = (0..s.len())
                .map(|i| i64::from(s[i]) * i64::from(local(op, lattice, &s, i)))
                .sum();
            total as f64 / op.order()
        })
        .collect()
}

/// Potts local terms of site i for one operator: `g[b]` = how much of S_α site i would carry if
/// it were in state b (so P(s_i = b | rest) ∝ exp Σ_α K_α g_α,i(b)).
fn potts_local(op: Operator, lattice: &Lattice, s: &[u8], i: usize, g: &mut [i32]) {
    g.iter_mut().for_each(|x| *x = 0);
    let dim = lattice.dim();
    let state = |by: &[(usize, isize)]| usize::from(s[lattice.offset(i, by)]);
    match op {
        Operator::Field => g[0] = 1,
        Operator::NearestNeighbour | Operator::Second => {
            let d = if op == Operator::Second { 2 } else { 1 };
            for a in 0..dim {
                g[state(&[(a, d)])] += 1;
                g[state(&[(a, -d)])] += 1;
            }
        }
        Operator::Diagonal => {
            for a in 0..dim {
                for b in a + 1..dim {
                    for (x, y) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                        g[state(&[(a, x), (b, y)])] += 1;
                    }
                }
            }
        }
        Operator::Plaquette => {
            for a in 0..dim {
                for b in a + 1..dim {
                    for (x, y) in [(1, 1), (1, -1), (-1, 1), (-1, -1)] {
                        let (p, q, d) =
                            (state(&[(a, x)]), state(&[(b, y)]), state(&[(a, x), (b, y)]));
                        if p == q && q == d {
                            g[p] += 1;
                        }
                    }
                }
            }
        }
        // Refused by `exists_for`; contributes nothing if it ever got here.
        Operator::ThreeSpin => {}
    }
}

/// The spin variables of the configurations being fitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Spins {
    /// States 0 → σ = +1, 1 → σ = −1.
    #[default]
    Ising,
    /// States 0..q.
    Potts(u8),
}

/// Counts of distinct (σ_i, f_1,i … f_n,i) tuples (Ising) or (s_i, g_1,i(0..q) … g_n,i(0..q))
/// tuples (Potts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Patterns {
    pub ops: Vec<Operator>,
    pub spins: Spins,
    /// Key: σ then each f, as small integers.
    pub counts: BTreeMap<Vec<i8>, u64>,
}

impl Patterns {
    pub fn new(ops: &[Operator]) -> Patterns {
        Patterns::with_spins(ops, Spins::Ising)
    }

    pub fn with_spins(ops: &[Operator], spins: Spins) -> Patterns {
        Patterns {
            ops: ops.to_vec(),
            spins,
            counts: BTreeMap::new(),
        }
    }

    /// Adds every site of one configuration and returns the configuration's lattice sums S_α
    /// (the same local terms give both).
    pub fn add(&mut self, lattice: &Lattice, spins: &[u8]) -> Vec<f64> {
        if let Spins::Potts(q) = self.spins {
            return self.add_potts(lattice, spins, usize::from(q));
        }
        let s: Vec<i8> = spins.iter().map(|&x| 1 - 2 * x as i8).collect();
        let mut key = vec![0i8; 1 + self.ops.len()];
        let mut sums = vec![0i64; self.ops.len()];
        for i in 0..s.len() {
            key[0] = s[i];
            for (k, &op) in self.ops.iter().enumerate() {
                let f = local(op, lattice, &s, i);
                key[k + 1] = f as i8;
                sums[k] += i64::from(s[i]) * i64::from(f);
            }
            self.tally(&key);
        }
        self.lattice_sums(&sums)
    }

    fn add_potts(&mut self, lattice: &Lattice, spins: &[u8], q: usize) -> Vec<f64> {
        let n = self.ops.len();
        let mut key = vec![0i8; 1 + n * q];
        let mut g = vec![0i32; q];
        let mut sums = vec![0i64; n];
        for i in 0..spins.len() {
            let own = usize::from(spins[i]);
            key[0] = spins[i] as i8;
            for (k, &op) in self.ops.iter().enumerate() {
                potts_local(op, lattice, spins, i, &mut g);
                for b in 0..q {
                    key[1 + k * q + b] = g[b] as i8;
                }
                sums[k] += i64::from(g[own]);
            }
            self.tally(&key);
        }
        self.lattice_sums(&sums)
    }

    /// One more site with local pattern `key` (cloned only the first time it is seen).
    fn tally(&mut self, key: &[i8]) {
        match self.counts.get_mut(key) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(key.to_vec(), 1);
            }
        }
    }

    /// Lattice sums S_α from the sums of local terms: each term is counted once per spin it
    /// contains.
    fn lattice_sums(&self, local: &[i64]) -> Vec<f64> {
        local
            .iter()
            .zip(&self.ops)
            .map(|(&t, op)| t as f64 / op.order())
            .collect()
    }

    fn minus(&self, other: &Patterns) -> Patterns {
        let mut out = self.clone();
        for (k, c) in &other.counts {
            if let Some(x) = out.counts.get_mut(k) {
                *x -= c;
            }
        }
        out
    }

    fn plus(&mut self, other: &Patterns) {
        for (k, c) in &other.counts {
            *self.counts.entry(k.clone()).or_default() += c;
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CouplingError {
    #[error("operator {0} does not exist on a {1}-dimensional lattice")]
    NoSuchOperator(&'static str, usize),
    #[error(
        "the pseudo-likelihood has no maximum: the operators are degenerate on these samples (e.g. a fully ordered configuration)"
    )]
    Degenerate,
    #[error(
        "the pseudo-likelihood grows without bound along a direction of couplings (an ordered level: the couplings are infinite)"
    )]
    Diverged { direction: Vec<f64> },
    #[error("no configurations")]
    Empty,
}

/// One pattern's log conditional likelihood at couplings `k`, its gradient (added to `grad`,
/// times `c`) and its negated Hessian (added to `hess`, times `c`).
fn pattern_terms(
    spins: Spins,
    key: &[i8],
    k: &[f64],
    c: f64,
    derivatives: Option<(&mut [f64], &mut [Vec<f64>])>,
) -> f64 {
    let n = k.len();
    match spins {
        Spins::Ising => {
            // P(σ_i | rest) = e^{σ h} / 2cosh h, h = Σ_α K_α f_α.
            let h: f64 = (0..n).map(|a| k[a] * f64::from(key[a + 1])).sum();
            if let Some((grad, hess)) = derivatives {
                let t = h.tanh();
                for a in 0..n {
                    let fa = f64::from(key[a + 1]);
                    grad[a] += c * fa * (f64::from(key[0]) - t);
                    for b in 0..n {
                        hess[a][b] += c * fa * f64::from(key[b + 1]) * (1.0 - t * t);
                    }
                }
            }
            c * (f64::from(key[0]) * h - log_2cosh(h))
        }
        Spins::Potts(q) => {
            // P(s_i = b | rest) = e^{E_b} / Σ e^{E_b'}, E_b = Σ_α K_α g_α(b).
            let q = usize::from(q);
            let g = |a: usize, b: usize| f64::from(key[1 + a * q + b]);
            let energy: Vec<f64> = (0..q)
                .map(|b| (0..n).map(|a| k[a] * g(a, b)).sum())
                .collect();
            let top = energy.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = energy.iter().map(|e| (e - top).exp()).sum();
            let own = key[0] as usize;
            if let Some((grad, hess)) = derivatives {
                let p: Vec<f64> = energy.iter().map(|e| (e - top).exp() / z).collect();
                let mean: Vec<f64> = (0..n)
                    .map(|a| (0..q).map(|b| p[b] * g(a, b)).sum())
                    .collect();
                for a in 0..n {
                    grad[a] += c * (g(a, own) - mean[a]);
                    for a2 in 0..n {
                        let second: f64 = (0..q).map(|b| p[b] * g(a, b) * g(a2, b)).sum();
                        hess[a][a2] += c * (second - mean[a] * mean[a2]);
                    }
                }
            }
            c * (energy[own] - top - z.ln())
        }
    }
}

/// Maximises the pseudo-likelihood over the counted patterns (Newton with step halving).
pub fn fit(p: &Patterns) -> Result<Vec<f64>, CouplingError> {
    let n = p.ops.len();
    let mut k = vec![0.0; n];
    let objective = |k: &[f64]| -> f64 {
        p.counts
            .iter()
            .map(|(key, &c)| pattern_terms(p.spins, key, k, c as f64, None))
            .sum()
    };
    let mut current = objective(&k);
    for _ in 0..100 {
        let mut grad = vec![0.0; n];
        let mut hess = vec![vec![0.0; n]; n];
        for (key, &c) in &p.counts {
            pattern_terms(p.spins, key, &k, c as f64, Some((&mut grad, &mut hess)));
        }
        let Some(inv) = invert(&hess) else {
            if k.iter().all(|&x| x == 0.0) {
                // Singular from the start: the operators are linearly dependent on these samples.
                return Err(CouplingError::Degenerate);
            }
            // Singular later: every conditional saturated, the couplings running off to
            // infinity.
            return Err(diverged(&k));
        };
        let step: Vec<f64> = (0..n)
            .map(|a| (0..n).map(|b| inv[a][b] * grad[b]).sum())
            .collect();
        let mut scale = 1.0;
        loop {
            let trial: Vec<f64> = (0..n).map(|a| k[a] + scale * step[a]).collect();
            let v = objective(&trial);
            if v >= current || scale < 1e-6 {
                k = trial;
                current = v;
                break;
            }
            scale /= 2.0;
        }
        let size = step.iter().map(|x| x.abs()).fold(0.0, f64::max) * scale;
        if !size.is_finite() {
            return Err(CouplingError::Degenerate);
        }
        if k.iter().any(|x| x.abs() > 1e3) {
            // Separable data (every spin predicted by its local fields): the maximum is at
            // infinity, and where Newton went says which way.
            return Err(diverged(&k));
        }
        if size < 1e-12 {
            break;
        }
    }
    Ok(k)
}

fn diverged(k: &[f64]) -> CouplingError {
    let norm = k.iter().map(|x| x * x).sum::<f64>().sqrt();
    CouplingError::Diverged {
        direction: k.iter().map(|x| x / norm).collect(),
    }
}

fn log_2cosh(h: f64) -> f64 {
    // ln(2 cosh h) = |h| + ln(1 + e^{−2|h|}), stable for large |h|.
    let a = h.abs();
    a + (-2.0 * a).exp().ln_1p()
}

/// Couplings with jackknife errors, and the leave-one-block-out fits behind the errors (so
/// that quantities combining several fits, e.g. across temperatures, get jackknife errors too).
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub values: Vec<Estimate>,
    /// One row per block: the couplings fitted without it.
    pub leave_out: Vec<Vec<f64>>,
}

/// Fits the union of `parts` (one pattern count per block of configurations) and each union
/// without one part.
pub fn fit_blocks(parts: &[Patterns]) -> Result<Fit, CouplingError> {
    let Some(first) = parts.first() else {
        return Err(CouplingError::Empty);
    };
    let mut total = Patterns::with_spins(&first.ops, first.spins);
    for p in parts {
        total.plus(p);
    }
    if total.counts.is_empty() {
        return Err(CouplingError::Empty);
    }
    let k = fit(&total)?;
    if parts.len() < 2 {
        return Ok(Fit {
            values: k.into_iter().map(|v| Estimate::new(v, f64::NAN)).collect(),
            leave_out: Vec::new(),
        });
    }
    let Ok(leave_out) = parts
        .iter()
        .map(|p| fit(&total.minus(p)))
        .collect::<Result<Vec<_>, _>>()
    else {
        // Some block carries all the evidence against separability (a nearly ordered level):
        // the couplings are finite but their jackknife error is not.
        return Ok(Fit {
            values: k.into_iter().map(|v| Estimate::new(v, f64::NAN)).collect(),
            leave_out: Vec::new(),
        });
    };
    let values = (0..k.len())
        .map(|a| {
            let column: Vec<f64> = leave_out.iter().map(|v| v[a]).collect();
            Estimate::new(k[a], jackknife_error(&column))
        })
        .collect();
    Ok(Fit { values, leave_out })
}

/// The jackknife standard error from leave-one-block-out values.
pub fn jackknife_error(leave_out: &[f64]) -> f64 {
    let nb = leave_out.len() as f64;
    if leave_out.len() < 2 {
        return f64::NAN;
    }
    let mean = leave_out.iter().sum::<f64>() / nb;
    (leave_out.iter().map(|v| (v - mean).powi(2)).sum::<f64>() * (nb - 1.0) / nb).sqrt()
}

/// Pattern counts of `configs` in `blocks` blocks of consecutive configurations (the last block
/// takes the remainder), and every configuration's lattice sums.
pub fn count_blocks(
    lattice: &Lattice,
    configs: &[&[u8]],
    ops: &[Operator],
    spins: Spins,
    blocks: usize,
) -> (Vec<Patterns>, Vec<Vec<f64>>) {
    let blocks = blocks.clamp(1, configs.len().max(1));
    let per = configs.len() / blocks;
    let mut parts = Vec::with_capacity(blocks);
    let mut sums = Vec::with_capacity(configs.len());
    for b in 0..blocks {
        let end = if b + 1 == blocks {
            configs.len()
        } else {
            (b + 1) * per
        };
        let mut p = Patterns::with_spins(ops, spins);
        for c in &configs[b * per..end] {
            sums.push(p.add(lattice, c));
        }
        parts.push(p);
    }
    (parts, sums)
}

/// Couplings of `configs` on `lattice` for `ops`, with jackknife errors over `blocks` blocks of
/// consecutive configurations.
pub fn couplings(
    lattice: &Lattice,
    configs: &[&[u8]],
    ops: &[Operator],
    blocks: usize,
) -> Result<Vec<Estimate>, CouplingError> {
    if configs.is_empty() {
        return Err(CouplingError::Empty);
    }
    if let Some(op) = ops.iter().find(|o| !o.exists(lattice.dim())) {
        return Err(CouplingError::NoSuchOperator(op.name(), lattice.dim()));
    }
    let (parts, _) = count_blocks(lattice, configs, ops, Spins::Ising, blocks);
    Ok(fit_blocks(&parts)?.values)
}
