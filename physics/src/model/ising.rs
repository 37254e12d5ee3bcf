//! The Ising model, `H = −Σ_⟨ij⟩ σ_i σ_j`, on a periodic chain, square or cubic lattice.
//! State 0 is σ = +1 and state 1 is σ = −1.

use super::Model;
use crate::lattice::Lattice;

#[derive(Clone, Debug)]
pub struct Ising {
    lattice: Lattice,
}

impl Ising {
    pub fn new(lattice: Lattice) -> Ising {
        Ising { lattice }
    }

    /// σ for a state.
    pub fn sigma(state: u8) -> i64 {
        1 - 2 * i64::from(state)
    }
}

impl Model for Ising {
    fn name(&self) -> &'static str {
        match self.lattice.dim() {
            1 => "ising1d",
            2 => "ising2d",
            _ => "ising3d",
        }
    }

    fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    fn states(&self) -> u8 {
        2
    }

    fn bond_equal(&self) -> i64 {
        -1
    }

    fn bond_unequal(&self) -> i64 {
        1
    }

    /// Magnetisation `M = Σ σ_i`, signed.
    fn order(&self, counts: &[u64]) -> i64 {
        counts[0] as i64 - counts[1] as i64
    }

    fn order_norm(&self) -> f64 {
        self.lattice.sites() as f64
    }

    fn signed_order(&self) -> bool {
        true
    }
}
