//! The q-state Potts model, `H = −Σ_⟨ij⟩ δ(s_i, s_j)`, on the square lattice.
//!
//! Order parameter: `m = (q·ρ_max − 1)/(q − 1)` with `ρ_max` the largest fraction of sites in one
//! state; 0 in the disordered limit, 1 when ordered. We store its integer numerator
//! `q·n_max − N`, normalised by `N(q − 1)`.

use super::Model;
use crate::lattice::Lattice;

#[derive(Clone, Debug)]
pub struct Potts {
    lattice: Lattice,
    q: u8,
}

impl Potts {
    pub fn new(lattice: Lattice, q: u8) -> Potts {
        // q ≤ 64 leaves the top bit of a state free for the cluster samplers' marks.
        assert!((2..=64).contains(&q), "Potts needs 2 <= q <= 64");
        Potts { lattice, q }
    }
}

impl Model for Potts {
    fn name(&self) -> &'static str {
        "potts2d"
    }

    fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    fn states(&self) -> u8 {
        self.q
    }

    fn bond_equal(&self) -> i64 {
        -1
    }

    fn bond_unequal(&self) -> i64 {
        0
    }

    fn order(&self, counts: &[u64]) -> i64 {
        let max = counts.iter().copied().max().unwrap_or(0) as i64;
        i64::from(self.q) * max - self.lattice.sites() as i64
    }

    fn order_norm(&self) -> f64 {
        self.lattice.sites() as f64 * f64::from(self.q - 1)
    }

    fn signed_order(&self) -> bool {
        false
    }
}
