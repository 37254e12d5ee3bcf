//! Plaquette flips with Metropolis acceptance: a plaquette holding two parallel dimers turns
//! them by 90°. Local and simple, it keeps the winding sector (a flip moves no flux across any
//! cut), so it is the cross-check for the worm within a sector, not a sampler of the torus.

use super::Dimers;
use crate::rng::Stream;

/// Metropolis plaquette flips at one temperature.
#[derive(Clone, Copy, Debug)]
pub struct Plaquette {
    /// exp(−β·v·Δ) for Δ = −4 … 4 changes of N_∥.
    accept: [f64; 9],
}

impl Plaquette {
    pub fn new(v: f64, beta: f64) -> Plaquette {
        let mut accept = [1.0; 9];
        for (k, a) in accept.iter_mut().enumerate() {
            *a = (-beta * v * (k as f64 - 4.0)).exp().min(1.0);
        }
        Plaquette { accept }
    }

    /// One attempt at a random plaquette; true if it flipped.
    pub fn attempt(&self, d: &mut Dimers, rng: &mut Stream) -> bool {
        let i = rng.below(d.sites() as u64) as usize;
        let (up, right) = (d.neighbour(i, 1), d.neighbour(i, 0));
        let (bottom, top, left, right) = (2 * i, 2 * up, 2 * i + 1, 2 * right + 1);
        let (from, to) = if d.occ[bottom] == 1 && d.occ[top] == 1 {
            ([bottom, top], [left, right])
        } else if d.occ[left] == 1 && d.occ[right] == 1 {
            ([left, right], [bottom, top])
        } else {
            return false;
        };
        // With both dimers lifted, each bond's parallel partners are the rest's; the pair on
        // the plaquette itself counts once before and once after.
        for b in from {
            d.occ[b] = 0;
        }
        let count = |d: &Dimers, bonds: [usize; 2]| {
            bonds
                .iter()
                .map(|&b| i64::from(d.parallel_to(b)))
                .sum::<i64>()
        };
        let delta = count(d, to) - count(d, from);
        let flip = rng.uniform() < self.accept[(delta + 4) as usize];
        for b in if flip { to } else { from } {
            d.occ[b] = 1;
        }
        flip
    }

    /// N attempts (one per site on average).
    pub fn sweep(&self, d: &mut Dimers, rng: &mut Stream) -> u64 {
        (0..d.sites())
            .map(|_| u64::from(self.attempt(d, rng)))
            .sum()
    }
}
