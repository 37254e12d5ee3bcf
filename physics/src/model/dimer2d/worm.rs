//! Directed loops (worms) for interacting dimers (Sandvik & Moessner, PRB 73, 144504, 2006;
//! Alet et al., PRE 74, 041124, 2006; REFERENCE.md §5).
//!
//! A worm starts at a random site, the tail t, whose dimer goes to the pivot p. At a pivot the
//! dimer that entered it (from the head, a doubly covered site, or at the start from t) is
//! lifted, leaving the rest R, and put back on one of the pivot's four bonds — the exit, the
//! entrance itself included (a bounce). The exit's far site is the new head: doubly covered,
//! its own dimer is the next to move, around its other end, the next pivot. The worm closes
//! when an exit lands on the tail, which is then covered again.
//!
//! Why it samples exp(−E/T): the four configurations R + (p, e) at a pivot form a vertex whose
//! weights are W_e = exp(−v·n_∥(e)/T), n_∥(e) the dimers of R parallel to bond e across its
//! plaquettes; that is exp(−E/T) of the configuration up to a factor common to the vertex, for
//! one energy E = v·(parallel pairs) that holds for the defect configurations too. Exit
//! probabilities with W_e·P(x|e) = W_x·P(e|x) (the directed-loop equations) make every worm
//! and its reverse (the same vertices backwards, from the same tail) balance, and the product
//! of the weight ratios along a worm telescopes to the ratio of the closed configurations'
//! Boltzmann weights. Heat-bath exits, P(x|e) ∝ W_x, solve the equations; minimal-bounce exits
//! solve them with the least probability of going back (fewer wasted steps when one bond's
//! weight dominates, as in the columnar phase).
//!
//! Exit probabilities depend on (n_∥ of the four bonds, entrance) only, so they are tabulated
//! once per temperature: 81 vertices × 4 entrances.

use super::{DIRECTIONS, Dimers};
use crate::rng::Stream;

/// How the exit at a pivot is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exits {
    /// P(x | e) ∝ W_x, whatever the entrance.
    HeatBath,
    /// The directed-loop solution with the least bounce probability.
    MinimalBounce,
}

/// Cumulative exit probabilities per (vertex, entrance) at one temperature.
#[derive(Clone, Debug)]
pub struct Worm {
    table: Vec<[f64; DIRECTIONS]>,
    exits: Exits,
}

/// What a run of worms did: for benchmarks and the time to an independent configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WormStats {
    pub worms: u64,
    /// Pivot steps (bounces included).
    pub steps: u64,
    pub bounces: u64,
}

impl Worm {
    /// The exit tables for interaction `v` at inverse temperature `beta` (0 is T = ∞).
    pub fn new(v: f64, beta: f64, exits: Exits) -> Worm {
        let mut table = Vec::with_capacity(81 * DIRECTIONS);
        for vertex in 0..81 {
            let n = [vertex % 3, vertex / 3 % 3, vertex / 9 % 3, vertex / 27];
            let w = n.map(|k| (-beta * v * k as f64).exp());
            let a = match exits {
                Exits::HeatBath => heat_bath(w),
                Exits::MinimalBounce => minimal_bounce(w),
            };
            for (e, row) in a.iter().enumerate() {
                let mut acc = 0.0;
                let mut cum = [0.0; DIRECTIONS];
                for x in 0..DIRECTIONS {
                    acc += row[x] / w[e];
                    cum[x] = acc;
                }
                cum[DIRECTIONS - 1] = 1.0;
                table.push(cum);
            }
        }
        Worm { table, exits }
    }

    pub fn exits(&self) -> Exits {
        self.exits
    }

    /// One worm, from a tail drawn from `rng`; returns its pivot steps and bounces.
    pub fn step(&self, d: &mut Dimers, rng: &mut Stream) -> (u64, u64) {
        let n = d.sites();
        let tail = rng.below(n as u64) as usize;
        let Some(first) = d.dimer_at(tail, None) else {
            return (0, 0);
        };
        let mut pivot = d.neighbour(tail, first);
        // The pivot's bond to the site its moving dimer came from.
        let mut entrance = (first + 2) % DIRECTIONS;
        let (mut steps, mut bounces) = (0u64, 0u64);
        loop {
            let lifted = d.bond(pivot, entrance);
            d.occ[lifted] = 0;
            let mut vertex = 0;
            for dir in (0..DIRECTIONS).rev() {
                vertex = 3 * vertex + usize::from(d.parallel_to(d.bond(pivot, dir)));
            }
            let cum = &self.table[vertex * DIRECTIONS + entrance];
            let u = rng.uniform();
            let exit = cum.iter().position(|&c| u < c).unwrap_or(DIRECTIONS - 1);
            let placed = d.bond(pivot, exit);
            d.occ[placed] = 1;
            steps += 1;
            bounces += u64::from(exit == entrance);
            let head = d.neighbour(pivot, exit);
            if head == tail {
                return (steps, bounces);
            }
            // The head is covered twice; its other dimer moves next, around its far end.
            let back = (exit + 2) % DIRECTIONS;
            let Some(next) = d.dimer_at(head, Some(back)) else {
                // Unreachable on a covering: the head had its own dimer. Stop rather than
                // loop on a broken configuration.
                return (steps, bounces);
            };
            pivot = d.neighbour(head, next);
            entrance = (next + 2) % DIRECTIONS;
        }
    }

    /// `worms` worms; the counters add up.
    pub fn run(&self, d: &mut Dimers, rng: &mut Stream, worms: u64) -> WormStats {
        let mut s = WormStats::default();
        for _ in 0..worms {
            let (steps, bounces) = self.step(d, rng);
            s.worms += 1;
            s.steps += steps;
            s.bounces += bounces;
        }
        s
    }
}

/// a[e][x] = W_e·P(x|e) = W_e·W_x / ΣW: symmetric, rows sum to W_e.
fn heat_bath(w: [f64; DIRECTIONS]) -> [[f64; DIRECTIONS]; DIRECTIONS] {
    let total: f64 = w.iter().sum();
    let mut a = [[0.0; DIRECTIONS]; DIRECTIONS];
    for e in 0..DIRECTIONS {
        for x in 0..DIRECTIONS {
            a[e][x] = w[e] * w[x] / total;
        }
    }
    a
}

/// The symmetric a with rows summing to W and the least trace (total bounce weight): from the
/// heat-bath solution, the diagonal is moved off in pairs (a_ii, a_jj → a_ij), then what is left
/// on one diagonal through triangles (a_kk −2δ, a_ij −δ, a_ik +δ, a_jk +δ), both of which keep
/// symmetry and row sums. What remains is W_max − Σ others when the largest weight exceeds the
/// rest (no solution then bounces less), else nothing.
fn minimal_bounce(w: [f64; DIRECTIONS]) -> [[f64; DIRECTIONS]; DIRECTIONS] {
    let mut a = heat_bath(w);
    loop {
        let mut diag: Vec<usize> = (0..DIRECTIONS).filter(|&i| a[i][i] > 0.0).collect();
        if diag.len() < 2 {
            break;
        }
        diag.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]).then(i.cmp(&j)));
        let (i, j) = (diag[0], diag[1]);
        let delta = a[j][j];
        a[i][i] -= delta;
        a[j][j] = 0.0;
        a[i][j] += delta;
        a[j][i] += delta;
        if a[i][i] <= 1e-15 * w[i] {
            a[i][i] = 0.0;
        }
    }
    if let Some(k) = (0..DIRECTIONS).find(|&k| a[k][k] > 0.0) {
        let pairs: Vec<(usize, usize)> = (0..DIRECTIONS)
            .flat_map(|i| (i + 1..DIRECTIONS).map(move |j| (i, j)))
            .filter(|&(i, j)| i != k && j != k)
            .collect();
        let available: f64 = pairs.iter().map(|&(i, j)| a[i][j]).sum();
        if available > 0.0 {
            let scale = (0.5 * a[k][k] / available).min(1.0);
            let mut moved = 0.0;
            for (i, j) in pairs {
                let delta = a[i][j] * scale;
                a[i][j] -= delta;
                a[j][i] -= delta;
                a[i][k] += delta;
                a[k][i] += delta;
                a[j][k] += delta;
                a[k][j] += delta;
                moved += 2.0 * delta;
            }
            a[k][k] = (a[k][k] - moved).max(0.0);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(w: [f64; 4], a: &[[f64; 4]; 4]) {
        for e in 0..4 {
            let row: f64 = a[e].iter().sum();
            assert!((row - w[e]).abs() < 1e-12 * w[e], "{w:?} {a:?}");
            for x in 0..4 {
                assert!(a[e][x] >= 0.0 && (a[e][x] - a[x][e]).abs() < 1e-12, "{a:?}");
            }
        }
    }

    #[test]
    fn minimal_bounce_solves_the_loop_equations_with_the_least_bounce() {
        let e = std::f64::consts::E;
        for w in [
            [1.0, 1.0, 1.0, 1.0],
            [e, 1.0, 1.0, 1.0],
            [e * e, e, 1.0, 1.0],
            [e.powi(4), 1.0, 1.0, 1.0],
            [1.0, e.powi(4), e * e, 1.0],
            [e * e, e * e, 1.0, e],
        ] {
            let a = minimal_bounce(w);
            check(w, &a);
            check(w, &heat_bath(w));
            let max = w.iter().copied().fold(0.0, f64::max);
            let rest: f64 = w.iter().sum::<f64>() - max;
            let trace: f64 = (0..4).map(|i| a[i][i]).sum();
            assert!(
                (trace - (max - rest).max(0.0)).abs() < 1e-12 * max,
                "{w:?}: trace {trace}"
            );
        }
    }
}
