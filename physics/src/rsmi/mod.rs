//! Real-space mutual information (RSMI): learn the coarse-graining rule Λ whose coarse variable
//! H keeps the most information about the block's distant environment (Koch-Janusz & Ringel,
//! Nature Physics 2018; Gökmen et al., PRL/PRE 2021; REFERENCE.md §3).
//!
//! - [`regions`]: block, buffer and environment on periodic lattices; spin encodings.
//! - [`nn`]: dense layers, ReLU MLPs and Adam with hand-derived, finite-difference-checked
//!   gradients.
//! - [`bound`]: InfoNCE and NWJ lower bounds with a separable critic.
//! - [`train`]: Λ and critic trained jointly; held-out MI with an error bar.
//! - [`chain`]: the 1D Ising chain and its exact I(H:E), the analytic anchor.

pub mod bound;
pub mod chain;
pub mod nn;
pub mod regions;
pub mod train;

pub use bound::Bound;
pub use regions::{Encoding, Geometry, GeometryError};
pub use train::{Coarse, Pairs, TrainError, TrainSettings, Trained, train};

use ndarray::Array2;

/// (V, E) pairs of every configuration at every corner, configurations in order, corners in
/// order: the row order is a function of the inputs alone.
pub fn pairs(
    configs: &[&[u8]],
    geometry: &Geometry,
    encoding: Encoding,
    corners: &[[usize; 3]],
) -> Pairs {
    let vo = geometry.visible_offsets();
    let eo = geometry.environment_offsets();
    let sites: Vec<(Vec<usize>, Vec<usize>)> = corners
        .iter()
        .map(|&c| (geometry.sites(c, &vo), geometry.sites(c, &eo)))
        .collect();
    let nv = vo.len() * encoding.width();
    let ne = eo.len() * encoding.width();
    let rows = configs.len() * corners.len();
    let mut v = Vec::with_capacity(rows * nv);
    let mut e = Vec::with_capacity(rows * ne);
    for config in configs {
        for (vs, es) in &sites {
            encoding.encode(config, vs, &mut v);
            encoding.encode(config, es, &mut e);
        }
    }
    Pairs {
        v: Array2::from_shape_vec((rows, nv), v).unwrap_or_else(|_| Array2::zeros((0, nv))),
        e: Array2::from_shape_vec((rows, ne), e).unwrap_or_else(|_| Array2::zeros((0, ne))),
    }
}
