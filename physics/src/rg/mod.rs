//! Monte Carlo renormalisation group: coarse-graining maps and the effective couplings of each
//! coarse-grained level (REFERENCE.md §4).
//!
//! - [`maps`]: majority rule and decimation with b = 2.
//! - [`couplings`]: pseudo-likelihood (Swendsen 1984) over a set of lattice operators, with
//!   jackknife errors.
//! - [`linear`]: linearised RG (Swendsen 1979): y_t and y_h from correlations between levels.
//! - [`flow`]: one replica's flow: every map (majority, decimation, the learned RSMI rule),
//!   level by level, couplings and exponents.
//! - [`audit`]: every step measured alike: relevance I(H:E) at RSMI's geometry and the
//!   block's compression I(V:H).
//! - [`rbm_map`]: a block-local RBM layer as a b = 2 map, trained per level.
//! - [`ae_map`]: a convolutional autoencoder layer as a b = 2 map, trained per level.
//! - [`crossing`], [`collapse`]: where two levels' coupling curves cross, and λ_t there.
//! - [`analysis`]: the flow across a sweep: T_c and ν from where levels' couplings cross.
//! - [`exact1d`]: the exact 1D laboratory of optimal RG (PRX 2020): I(V:E), I(H:E) and the
//!   renormalised couplings of two-spin RBM rules on the Ising chain, by transfer matrices.

pub mod ae_map;
pub mod analysis;
pub mod audit;
pub mod collapse;
pub mod couplings;
pub mod crossing;
pub mod exact1d;
pub mod flow;
pub mod linear;
pub mod maps;
pub mod rbm_map;

pub use ae_map::AutoencoderRule;
pub use couplings::{CouplingError, Operator, couplings};
pub use flow::{Level, MapKind, RsmiRule, Rule, Settings};
pub use maps::{Map, coarse_grain};
pub use rbm_map::RbmRule;
