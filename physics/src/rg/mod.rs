//! Monte Carlo renormalisation group: coarse-graining maps and the effective couplings of each
//! coarse-grained level (REFERENCE.md §4).
//!
//! - [`maps`]: majority rule and decimation with b = 2.
//! - [`couplings`]: pseudo-likelihood (Swendsen 1984) over a set of lattice operators, with
//!   jackknife errors.
//! - [`linear`]: linearised RG (Swendsen 1979): y_t and y_h from correlations between levels.
//! - [`flow`]: one replica's flow: every map (majority, decimation, the learned RSMI rule),
//!   level by level, couplings and exponents.
//! - [`crossing`], [`collapse`]: where two levels' coupling curves cross, and λ_t there.
//! - [`analysis`]: the flow across a sweep: T_c and ν from where levels' couplings cross.
//! - [`exact1d`]: the exact 1D laboratory of optimal RG (PRX 2020): I(V:E), I(H:E) and the
//!   renormalised couplings of two-spin RBM rules on the Ising chain, by transfer matrices.

pub mod analysis;
pub mod collapse;
pub mod couplings;
pub mod crossing;
pub mod exact1d;
pub mod flow;
pub mod linear;
pub mod maps;

pub use couplings::{CouplingError, Operator, couplings};
pub use flow::{Level, MapKind, RsmiRule, Rule, Settings};
pub use maps::{Map, coarse_grain};
