//! Monte Carlo renormalisation group: coarse-graining maps and the effective couplings of each
//! coarse-grained level (REFERENCE.md §4).
//!
//! - [`maps`]: majority rule and decimation with b = 2.
//! - [`couplings`]: pseudo-likelihood (Swendsen 1984) over a set of lattice operators, with
//!   jackknife errors.
//! - [`linear`]: linearised RG (Swendsen 1979): y_t and y_h from correlations between levels.

pub mod couplings;
pub mod linear;
pub mod maps;

pub use couplings::{CouplingError, Operator, couplings};
pub use maps::{Map, coarse_grain};
