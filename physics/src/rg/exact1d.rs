//! The exact one-dimensional laboratory of optimal RG (Lenggenhager et al., PRX 10, 011037,
//! 2020; REFERENCE.md §6): the Ising chain at coupling K, blocks of two spins (v₁, v₂), and a
//! stochastic block rule of RBM form P(h | v₁, v₂) ∝ exp(h(λ₁v₁ + λ₂v₂)), with decimation
//! (λ₁ → ∞, λ₂ = 0) and majority (λ₁ = λ₂ → ∞, a fair coin on ties) as its limits. Everything
//! here is exact up to rounding: no sampling.
//!
//! - Information: with a one-site buffer on each side, the Markov property leaves only the
//!   nearest environment spin on each side, so I(V:E) and I(H:E) come from the six-spin
//!   marginal (e_L, b_L, v₁, v₂, b_R, e_R).
//! - The renormalised Hamiltonian: the coarse chain's distribution P(h) on a ring of n blocks is
//!   a trace of 2×2 transfer matrices, one per block, M(h)[a][c] = Σ_b e^{K a b} P(h | a, b)
//!   e^{K b c} (a the block's first spin, b its second, c the next block's first). Writing
//!   P(h) ∝ exp(Σ_S K′_S Π_{i∈S} h_i), every coupling is a Walsh–Hadamard coefficient,
//!   K′_S = 2⁻ⁿ Σ_h ln P(h) Π_{i∈S} h_i. On a ring the couplings of the infinite chain are
//!   recovered up to corrections that fall exponentially with n ([`RING`] is far past them:
//!   the tests compare two ring sizes).

/// Blocks on the ring of the coupling extraction: 2¹⁴ coarse states.
pub const RING: usize = 14;

/// A two-spin block rule: P(h = +1 | v₁, v₂).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// P(h | v) ∝ exp(h(λ₁v₁ + λ₂v₂)).
    Rbm { lambda1: f64, lambda2: f64 },
    /// h = v₁.
    Decimation,
    /// h = sign(v₁ + v₂), a fair coin on ties.
    Majority,
}

impl Rule {
    /// P(h = +1 | v₁, v₂) for spins ±1.
    pub fn p_up(self, v1: i8, v2: i8) -> f64 {
        match self {
            Rule::Rbm { lambda1, lambda2 } => {
                let x = lambda1 * f64::from(v1) + lambda2 * f64::from(v2);
                // e^x / (e^x + e^−x), stable on both tails.
                if x >= 0.0 {
                    1.0 / (1.0 + (-2.0 * x).exp())
                } else {
                    let e = (2.0 * x).exp();
                    e / (1.0 + e)
                }
            }
            Rule::Decimation => f64::from(u8::from(v1 > 0)),
            Rule::Majority => match v1 + v2 {
                2 => 1.0,
                -2 => 0.0,
                _ => 0.5,
            },
        }
    }
}

/// Spin ±1 of bit `i` of `bits` (0: +1).
fn spin(bits: u32, i: u32) -> i8 {
    if bits >> i & 1 == 0 { 1 } else { -1 }
}

/// Σ p ln(p / (p_a p_b)) over a joint table p[a][b].
fn mutual_information<const A: usize, const B: usize>(p: &[[f64; B]; A]) -> f64 {
    let pa: Vec<f64> = p.iter().map(|row| row.iter().sum()).collect();
    let pb: Vec<f64> = (0..B).map(|b| p.iter().map(|row| row[b]).sum()).collect();
    let mut mi = 0.0;
    for (a, row) in p.iter().enumerate() {
        for (b, &x) in row.iter().enumerate() {
            if x > 0.0 {
                mi += x * (x / (pa[a] * pb[b])).ln();
            }
        }
    }
    mi
}

/// The information a block keeps about its environment, in nats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Information {
    /// I(V:E): what the two block spins know about the environment (the most any rule keeps).
    pub visible: f64,
    /// I(H:E): what the rule's coarse spin keeps.
    pub hidden: f64,
}

impl Information {
    /// I(H:E) / I(V:E).
    pub fn retained(&self) -> f64 {
        self.hidden / self.visible
    }
}

/// I(V:E) and I(H:E) with a one-site buffer on each side of the block.
pub fn information(k: f64, rule: Rule) -> Information {
    // Joint tables over E = (e_L, e_R): by V = (v₁, v₂) and by h.
    let mut pv = [[0.0f64; 4]; 4];
    let mut ph = [[0.0f64; 4]; 2];
    let mut z = 0.0;
    for bits in 0..64u32 {
        let s: Vec<i8> = (0..6).map(|i| spin(bits, i)).collect();
        let energy: i32 = s.windows(2).map(|w| i32::from(w[0] * w[1])).sum();
        let w = (k * f64::from(energy)).exp();
        z += w;
        let e = usize::from(s[0] < 0) + 2 * usize::from(s[5] < 0);
        let v = usize::from(s[2] < 0) + 2 * usize::from(s[3] < 0);
        pv[v][e] += w;
        let up = rule.p_up(s[2], s[3]);
        ph[0][e] += w * up;
        ph[1][e] += w * (1.0 - up);
    }
    for row in pv.iter_mut().chain(ph.iter_mut()) {
        for x in row.iter_mut() {
            *x /= z;
        }
    }
    Information {
        visible: mutual_information(&pv),
        hidden: mutual_information(&ph),
    }
}

/// The renormalised couplings of the coarse chain, P(h) ∝ exp(Σ K′_S h_S).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Couplings {
    /// K′₂(r): the pair coupling at distance r = 1, 2, 3.
    pub pair: [f64; 3],
    /// K′₄: four consecutive spins.
    pub four: f64,
    /// The largest |K′_S| over every other subset of spins (odd subsets, three spins, pairs
    /// beyond r = 3, four spins not consecutive, and more): what the four numbers above leave
    /// out.
    pub rest: f64,
}

impl Couplings {
    /// The PRX's rangeness K′₂(2) / K′₂(1).
    pub fn rangeness(&self) -> f64 {
        self.pair[1] / self.pair[0]
    }

    /// The PRX's m-bodyness K′₄ / K′₂(1).
    pub fn m_bodyness(&self) -> f64 {
        self.four / self.pair[0]
    }
}

/// 2×2 matrix product.
fn mul(a: [[f64; 2]; 2], b: [[f64; 2]; 2]) -> [[f64; 2]; 2] {
    let mut c = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j];
        }
    }
    c
}

/// The renormalised couplings on a ring of `n` blocks (4 ≤ n ≤ 20); see the module notes.
pub fn couplings_on_ring(k: f64, rule: Rule, n: usize) -> Couplings {
    assert!((4..=20).contains(&n), "a ring of {n} blocks");
    // M(h)[a][c], spins a, c as indices 0 (+1) and 1 (−1).
    let s = |i: usize| if i == 0 { 1i8 } else { -1 };
    let mut m = [[[0.0f64; 2]; 2]; 2];
    for (hi, mh) in m.iter_mut().enumerate() {
        for (a, row) in mh.iter_mut().enumerate() {
            for (c, x) in row.iter_mut().enumerate() {
                *x = (0..2)
                    .map(|b| {
                        let up = rule.p_up(s(a), s(b));
                        let p = if hi == 0 { up } else { 1.0 - up };
                        (k * f64::from(s(a) * s(b)) + k * f64::from(s(b) * s(c))).exp() * p
                    })
                    .sum();
            }
        }
    }
    // ln P(h) up to a constant (it only shifts K′ of the empty set).
    let states = 1usize << n;
    let mut f: Vec<f64> = (0..states)
        .map(|bits| {
            let mut t = [[1.0, 0.0], [0.0, 1.0]];
            for i in 0..n {
                t = mul(t, m[bits >> i & 1]);
            }
            (t[0][0] + t[1][1]).ln()
        })
        .collect();
    // In-place Walsh–Hadamard transform: f[S] becomes Σ_h f(h) Π_{i∈S} h_i (h_i = +1 on bit 0).
    let mut len = 1;
    while len < states {
        for start in (0..states).step_by(2 * len) {
            for i in start..start + len {
                let (x, y) = (f[i], f[i + len]);
                f[i] = x + y;
                f[i + len] = x - y;
            }
        }
        len *= 2;
    }
    let scale = 1.0 / states as f64;
    let coupling = |sites: &[usize]| f[sites.iter().map(|&i| 1usize << i).sum::<usize>()] * scale;
    let pair = [coupling(&[0, 1]), coupling(&[0, 2]), coupling(&[0, 3])];
    let four = coupling(&[0, 1, 2, 3]);
    // Every subset equivalent under rotation and reflection to one reported above is left out
    // of `rest`; so is the empty set.
    let reported: Vec<usize> = (0..n)
        .flat_map(|i| {
            let at = |d: usize| 1usize << ((i + d) % n);
            [
                at(0) | at(1),
                at(0) | at(2),
                at(0) | at(3),
                at(0) | at(1) | at(2) | at(3),
            ]
        })
        .collect();
    let rest = (1..states)
        .filter(|s| !reported.contains(s))
        .map(|s| (f[s] * scale).abs())
        .fold(0.0, f64::max);
    Couplings { pair, four, rest }
}

/// The renormalised couplings of the infinite chain (on a ring of [`RING`] blocks).
pub fn couplings(k: f64, rule: Rule) -> Couplings {
    couplings_on_ring(k, rule, RING)
}

/// One rule of a laboratory grid, measured: what it keeps and the couplings it leaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub k: f64,
    pub rule: Rule,
    pub info: Information,
    pub couplings: Couplings,
}

impl Rule {
    /// "decimation", "majority" or "rbm".
    pub fn name(self) -> &'static str {
        match self {
            Rule::Rbm { .. } => "rbm",
            Rule::Decimation => "decimation",
            Rule::Majority => "majority",
        }
    }

    /// (λ₁, λ₂) of an RBM rule.
    pub fn lambdas(self) -> Option<(f64, f64)> {
        match self {
            Rule::Rbm { lambda1, lambda2 } => Some((lambda1, lambda2)),
            _ => None,
        }
    }
}

/// Every rule of the grid at each coupling: decimation and majority first, then the RBM rules
/// λ₁-major, in the order given.
pub fn table(couplings_k: &[f64], lambda1: &[f64], lambda2: &[f64]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &k in couplings_k {
        let mut rules = vec![Rule::Decimation, Rule::Majority];
        for &l1 in lambda1 {
            rules.extend(lambda2.iter().map(|&l2| Rule::Rbm {
                lambda1: l1,
                lambda2: l2,
            }));
        }
        rows.extend(rules.into_iter().map(|rule| Row {
            k,
            rule,
            info: information(k, rule),
            couplings: couplings(k, rule),
        }));
    }
    rows
}

/// The CSV header of [`Row::csv`].
pub const CSV_HEADER: &str =
    "K,rule,lambda1,lambda2,I_VE,I_HE,retained,K1,K2,K3,K4,rangeness,m_bodyness,largest_other";

impl Row {
    /// One CSV line (no newline); λ's empty for decimation and majority.
    pub fn csv(&self) -> String {
        let (l1, l2) = self
            .rule
            .lambdas()
            .map_or((String::new(), String::new()), |(a, b)| {
                (a.to_string(), b.to_string())
            });
        let (i, c) = (&self.info, &self.couplings);
        format!(
            "{},{},{l1},{l2},{:.10e},{:.10e},{:.6},{:.10e},{:.10e},{:.10e},{:.10e},{:.6e},{:.6e},{:.3e}",
            self.k,
            self.rule.name(),
            i.visible,
            i.hidden,
            i.retained(),
            c.pair[0],
            c.pair[1],
            c.pair[2],
            c.four,
            c.rangeness(),
            c.m_bodyness(),
            c.rest
        )
    }
}

/// One rule's numbers, as the laboratory's summary reports them.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    pub rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lambda2: Option<f64>,
    pub retained: f64,
    pub rangeness: f64,
    pub m_bodyness: f64,
}

impl From<&Row> for Summary {
    fn from(r: &Row) -> Summary {
        let lambdas = r.rule.lambdas();
        Summary {
            rule: r.rule.name(),
            lambda1: lambdas.map(|l| l.0),
            lambda2: lambdas.map(|l| l.1),
            retained: r.info.retained(),
            rangeness: r.couplings.rangeness(),
            m_bodyness: r.couplings.m_bodyness(),
        }
    }
}

/// What one coupling's grid says of the PRX claim (more information kept, shorter range).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Reading {
    pub k: f64,
    /// I(V:E) in nats: what any rule could keep.
    pub i_ve: f64,
    pub decimation: Summary,
    pub majority: Summary,
    /// The RBM rule of the grid keeping the most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best: Option<Summary>,
    /// RBM rules whose K′₂(1) is resolved (above 10⁻¹² in size; a rule that barely reads its
    /// block leaves couplings at rounding, and a ratio of roundings says nothing).
    pub rules: usize,
    /// Spearman's rank correlation, over those rules, between the fraction of I(V:E) kept and
    /// |rangeness|: the PRX claim predicts it negative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spearman_range: Option<f64>,
    /// The same against |m-bodyness|.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spearman_m_body: Option<f64>,
}

/// Ranks 0..n of `v` (ties share their mean rank).
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        for &o in &order[i..=j] {
            r[o] = 0.5 * (i + j) as f64;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation; `None` under three points or when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 3 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mean) * (b - mean);
        sxx += (a - mean) * (a - mean);
        syy += (b - mean) * (b - mean);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// One [`Reading`] per coupling of a [`table`], in its order.
pub fn read(rows: &[Row]) -> Vec<Reading> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < rows.len() {
        let k = rows[at].k;
        let here: Vec<&Row> = rows[at..].iter().take_while(|r| r.k == k).collect();
        at += here.len();
        let of = |rule: Rule| {
            here.iter()
                .find(|r| r.rule == rule)
                .map(|r| Summary::from(*r))
        };
        let (Some(decimation), Some(majority)) = (of(Rule::Decimation), of(Rule::Majority)) else {
            continue;
        };
        let rbm: Vec<&&Row> = here
            .iter()
            .filter(|r| r.rule.lambdas().is_some() && r.couplings.pair[0].abs() > 1e-12)
            .collect();
        let kept: Vec<f64> = rbm.iter().map(|r| r.info.retained()).collect();
        let range: Vec<f64> = rbm.iter().map(|r| r.couplings.rangeness().abs()).collect();
        let m_body: Vec<f64> = rbm.iter().map(|r| r.couplings.m_bodyness().abs()).collect();
        out.push(Reading {
            k,
            i_ve: here[0].info.visible,
            decimation,
            majority,
            best: rbm
                .iter()
                .max_by(|a, b| a.info.hidden.total_cmp(&b.info.hidden))
                .map(|r| Summary::from(**r)),
            rules: rbm.len(),
            spearman_range: spearman(&kept, &range),
            spearman_m_body: spearman(&kept, &m_body),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // REFERENCE.md §6 (Lenggenhager et al. 2020; the values): fractions of I(V:E) kept.
    #[test]
    fn the_information_kept_matches_the_prx_anchors() {
        let i = information(0.1, Rule::Decimation);
        assert!((i.visible - 9.868e-5).abs() < 5e-8, "{i:?}");
        for (k, rule, kept) in [
            (0.1, Rule::Decimation, 0.505),
            (0.5, Rule::Decimation, 0.604),
            (0.1, Rule::Majority, 0.302),
            (0.5, Rule::Majority, 0.530),
            (1.0, Rule::Decimation, 0.760),
            (1.0, Rule::Majority, 0.740),
        ] {
            let r = information(k, rule).retained();
            assert!((r - kept).abs() < 5e-4, "K = {k}, {rule:?}: {r}");
        }
        assert!((information(0.5, Rule::Decimation).visible - 4.574e-2).abs() < 5e-6);
        assert!((information(1.0, Rule::Majority).hidden - 0.2406).abs() < 5e-5);
    }

    #[test]
    fn rbm_rules_tend_to_decimation_and_majority() {
        for k in [0.1, 0.5, 1.0] {
            let far = Rule::Rbm {
                lambda1: 40.0,
                lambda2: 0.0,
            };
            let d = information(k, Rule::Decimation).hidden;
            assert!((information(k, far).hidden - d).abs() < 1e-12 * (1.0 + d));
            // Majority: λ₁ = λ₂ → ∞ sends ties (x = 0) to P = 1/2 exactly.
            let both = Rule::Rbm {
                lambda1: 40.0,
                lambda2: 40.0,
            };
            let m = information(k, Rule::Majority).hidden;
            assert!((information(k, both).hidden - m).abs() < 1e-12 * (1.0 + m));
            // A rule that ignores the block keeps nothing; no rule keeps more than V does.
            let blind = Rule::Rbm {
                lambda1: 0.0,
                lambda2: 0.0,
            };
            assert!(information(k, blind).hidden.abs() < 1e-15);
            for l in [0.3, 1.0, 3.0] {
                let i = information(
                    k,
                    Rule::Rbm {
                        lambda1: l,
                        lambda2: 0.5 * l,
                    },
                );
                assert!(i.hidden <= i.visible && i.hidden > 0.0, "{i:?}");
            }
        }
    }

    #[test]
    fn decimation_gives_the_exact_nearest_neighbour_chain() {
        for k in [0.1, 0.5, 1.0] {
            let c = couplings(k, Rule::Decimation);
            let exact = 0.5 * (2.0 * k).cosh().ln();
            assert!(
                (c.pair[0] - exact).abs() < 1e-12,
                "K = {k}: {c:?} vs {exact}"
            );
            assert!(
                c.pair[1].abs() < 1e-12 && c.pair[2].abs() < 1e-12 && c.four.abs() < 1e-12,
                "{c:?}"
            );
            assert!(c.rest < 1e-12, "{c:?}");
        }
    }

    #[test]
    fn majority_grows_a_small_negative_next_nearest_coupling() {
        for k in [0.1, 0.5, 1.0] {
            let c = couplings(k, Rule::Majority);
            // Converged in the ring size: two sizes agree far below the couplings.
            let smaller = couplings_on_ring(k, Rule::Majority, RING - 4);
            for (a, b) in c.pair.iter().zip(smaller.pair) {
                assert!((a - b).abs() < 1e-8, "{c:?} vs {smaller:?}");
            }
            eprintln!(
                "K = {k}: K'(1) = {:.6}, rangeness {:.5}, m-bodyness {:.5}, largest other {:.1e}",
                c.pair[0],
                c.rangeness(),
                c.m_bodyness(),
                c.rest
            );
            assert!(c.pair[0] > 0.0 && c.rangeness() < 0.0, "K = {k}: {c:?}");
        }
        // REFERENCE.md §6: of order −0.02 at K = 0.1 and −0.04 at K = 0.5 (an independent
        // calculation, to be derived here rather than matched).
        let r01 = couplings(0.1, Rule::Majority).rangeness();
        let r05 = couplings(0.5, Rule::Majority).rangeness();
        assert!((-0.05..-0.005).contains(&r01), "{r01}");
        assert!((-0.1..-0.01).contains(&r05), "{r05}");
    }

    #[test]
    fn spearman_ranks_with_ties() {
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // Ranks (0, 1.5, 1.5, 3) against (0, 1, 2, 3), both about 1.5: Σxy = 4.5, Σx² = 4.5,
        // Σy² = 5, so r = 4.5 / √22.5.
        let r = spearman(&[1.0, 2.0, 2.0, 4.0], &[1.0, 2.0, 3.0, 4.0]).expect("ranked");
        assert!((r - 4.5 / 22.5f64.sqrt()).abs() < 1e-15, "{r}");
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }

    #[test]
    fn the_reading_finds_the_limits_and_the_rule_keeping_most() {
        let rows = table(&[0.5], &[1.0, 4.0], &[0.0, 1.0]);
        assert_eq!(rows.len(), 6);
        let reading = read(&rows);
        assert_eq!(reading.len(), 1);
        let r = &reading[0];
        assert!((r.decimation.retained - 0.604).abs() < 5e-4, "{r:?}");
        assert!((r.majority.retained - 0.530).abs() < 5e-4, "{r:?}");
        // λ₁ = 4, λ₂ = 0 is nearly decimation, the most any two-spin rule of the grid keeps.
        let best = r.best.as_ref().expect("a best rule");
        assert_eq!(
            (best.lambda1, best.lambda2),
            (Some(4.0), Some(0.0)),
            "{r:?}"
        );
        assert_eq!(r.rules, 4);
    }
}
