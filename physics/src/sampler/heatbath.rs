//! Checkerboard heat-bath (Gibbs) updates: each site draws its new state from its exact
//! conditional distribution `P(s) ∝ exp(β·gap·n_s)`, `n_s` = neighbours in state s.

use super::SweepStats;
use crate::model::Model;
use crate::rng::{Stream, Threshold};

pub(crate) struct Tables {
    /// `exp(β·gap·(n − z))` for n = 0..=z (Potts path): relative weights scaled so the largest
    /// is 1, which stays finite at any temperature.
    weight: Vec<f64>,
    /// q = 2: threshold for choosing state 0, indexed by the number of neighbours in state 0.
    zero: Vec<Threshold>,
}

impl Tables {
    pub(crate) fn new<M: Model>(model: &M, beta: f64) -> Tables {
        let z = model.lattice().coordination();
        let gap = model.gap() as f64;
        let weight: Vec<f64> = (0..=z)
            .map(|n| (beta * gap * (n as f64 - z as f64)).exp())
            .collect();
        let zero = (0..=z)
            .map(|n0| {
                // P(0) = w(n0) / (w(n0) + w(z − n0)), written to stay finite at large β.
                let d = beta * gap * (z as f64 - 2.0 * n0 as f64);
                Threshold::new(1.0 / (1.0 + d.exp()))
            })
            .collect();
        Tables { weight, zero }
    }
}

pub(crate) fn sweep<M: Model>(
    model: &M,
    spins: &mut [u8],
    tables: &Tables,
    stream: &mut Stream,
    stats: &mut SweepStats,
) {
    let lat = model.lattice();
    let l = lat.size();
    let q = usize::from(model.states());
    let mut counts = vec![0usize; q];
    let mut accepted = 0u64;
    for colour in 0..2 {
        for row in lat.rows() {
            let mut x = (colour + row.parity) % 2;
            let others = &row.others[..row.n_others];
            while x < l {
                let i = row.start + x;
                let left = spins[row.start + if x == 0 { l - 1 } else { x - 1 }];
                let right = spins[row.start + if x + 1 == l { 0 } else { x + 1 }];
                let new = if q == 2 {
                    let mut n0 = usize::from(left == 0) + usize::from(right == 0);
                    for &o in others {
                        n0 += usize::from(spins[o + x] == 0);
                    }
                    u8::from(!tables.zero[n0].test(stream))
                } else {
                    counts.iter_mut().for_each(|c| *c = 0);
                    counts[usize::from(left)] += 1;
                    counts[usize::from(right)] += 1;
                    for &o in others {
                        counts[usize::from(spins[o + x])] += 1;
                    }
                    let total: f64 = counts.iter().map(|&c| tables.weight[c]).sum();
                    let mut u = stream.uniform() * total;
                    let mut pick = q - 1;
                    for (s, &c) in counts.iter().enumerate() {
                        u -= tables.weight[c];
                        if u < 0.0 {
                            pick = s;
                            break;
                        }
                    }
                    pick as u8
                };
                accepted += u64::from(new != spins[i]);
                spins[i] = new;
                x += 2;
            }
        }
    }
    stats.updates += lat.sites() as u64;
    stats.accepted += accepted;
}
