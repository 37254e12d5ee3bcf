//! The models a sweep can name.
//!
//! Spin models are of Potts type: a site holds one of `q` states and a bond's energy depends
//! only on whether its two states are equal. Their samplers are written against [`Model`]
//! alone, so a new spin model is one new file here and one arm in [`ModelKind::build`]; no
//! sampler or caller changes. Models of other kinds live in a folder of their own with their
//! configuration, samplers and observables ([`dimer2d`]: bond occupations, directed loops;
//! [`percolation`]: occupied sites or bonds, Newman–Ziff, swept over p rather than T;
//! [`maze`]: percolation mazes and the spreading network trained on them, swept over L and
//! depth); [`external`]: spin configurations from a user's registered program;
//! [`ModelKind`] registers them, says what they support ([`ModelKind::is_spin`],
//! [`ModelKind::observables`], [`ModelKind::size_error`]), and `task.rs` runs them.

pub mod dimer2d;
pub mod external;
mod ising;
pub mod maze;
pub mod percolation;
mod potts;

pub use ising::Ising;
pub use potts::Potts;

use crate::lattice::Lattice;
use serde::{Deserialize, Serialize};

/// A lattice spin model of Potts type, `H = Σ_bonds ε(s_i, s_j)` with
/// `ε = bond_equal` when `s_i = s_j` and `bond_unequal` otherwise (integers, J = 1).
pub trait Model: Send + Sync {
    /// Stable short name used in files and task keys.
    fn name(&self) -> &'static str;
    fn lattice(&self) -> &Lattice;
    /// Number of states per site.
    fn states(&self) -> u8;
    /// Energy of a bond whose two spins are equal.
    fn bond_equal(&self) -> i64;
    /// Energy of a bond whose two spins differ.
    fn bond_unequal(&self) -> i64;
    /// Integer numerator of the order parameter for the given per-state site counts; the
    /// order parameter per site is this divided by [`Model::order_norm`].
    fn order(&self, counts: &[u64]) -> i64;
    /// See [`Model::order`].
    fn order_norm(&self) -> f64;
    /// Whether the order parameter has a sign (Ising) or is non-negative by construction (Potts).
    fn signed_order(&self) -> bool;

    /// `bond_unequal − bond_equal`: the energy cost of breaking one satisfied bond (> 0).
    fn gap(&self) -> i64 {
        self.bond_unequal() - self.bond_equal()
    }

    /// Total energy of a configuration.
    fn energy(&self, spins: &[u8]) -> i64 {
        let lat = self.lattice();
        let mut equal = 0i64;
        for (i, &s) in spins.iter().enumerate() {
            for axis in 0..lat.dim() {
                equal += i64::from(spins[lat.forward(i, axis)] == s);
            }
        }
        let bonds = lat.bonds() as i64;
        equal * self.bond_equal() + (bonds - equal) * self.bond_unequal()
    }

    /// Order-parameter numerator of a configuration.
    fn order_of(&self, spins: &[u8]) -> i64 {
        let mut counts = vec![0u64; usize::from(self.states())];
        for &s in spins {
            counts[usize::from(s)] += 1;
        }
        self.order(&counts)
    }
}

/// The models a sweep can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Ising2d,
    Ising3d,
    Potts2d,
    Dimer2d,
    #[serde(rename = "percolation2d-site")]
    Percolation2dSite,
    #[serde(rename = "percolation2d-bond")]
    Percolation2dBond,
    #[serde(rename = "percolation3d-site")]
    Percolation3dSite,
    #[serde(rename = "percolation3d-bond")]
    Percolation3dBond,
    /// Maze testing: a task trains the spreading network on percolation mazes ([`maze`]).
    Mazes,
}

impl ModelKind {
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Ising2d,
        ModelKind::Ising3d,
        ModelKind::Potts2d,
        ModelKind::Dimer2d,
        ModelKind::Percolation2dSite,
        ModelKind::Percolation2dBond,
        ModelKind::Percolation3dSite,
        ModelKind::Percolation3dBond,
        ModelKind::Mazes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Ising2d => "ising2d",
            ModelKind::Ising3d => "ising3d",
            ModelKind::Potts2d => "potts2d",
            ModelKind::Dimer2d => "dimer2d",
            ModelKind::Percolation2dSite => "percolation2d-site",
            ModelKind::Percolation2dBond => "percolation2d-bond",
            ModelKind::Percolation3dSite => "percolation3d-site",
            ModelKind::Percolation3dBond => "percolation3d-bond",
            ModelKind::Mazes => "mazes",
        }
    }

    pub fn parse(s: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|m| m.name() == s)
    }

    pub fn dim(self) -> usize {
        match self {
            ModelKind::Ising2d
            | ModelKind::Potts2d
            | ModelKind::Dimer2d
            | ModelKind::Percolation2dSite
            | ModelKind::Percolation2dBond
            | ModelKind::Mazes => 2,
            ModelKind::Ising3d | ModelKind::Percolation3dSite | ModelKind::Percolation3dBond => 3,
        }
    }

    pub fn is_ising(self) -> bool {
        matches!(self, ModelKind::Ising2d | ModelKind::Ising3d)
    }

    /// A Potts-type spin model: one state per site, a [`Model`], the energy and scalar order
    /// parameter series that finite-size scaling reads, RSMI's site encoding and the RG maps.
    pub fn is_spin(self) -> bool {
        matches!(
            self,
            ModelKind::Ising2d | ModelKind::Ising3d | ModelKind::Potts2d
        )
    }

    /// Percolation on a lattice of linear size `size`: the control parameter is the
    /// occupation probability p, not a temperature, and a task is a block of Newman–Ziff runs
    /// ([`percolation`]); `None` for every other model.
    pub fn percolation(self, size: usize) -> Option<percolation::Geometry> {
        let kind = match self {
            ModelKind::Percolation2dSite | ModelKind::Percolation3dSite => percolation::Kind::Site,
            ModelKind::Percolation2dBond | ModelKind::Percolation3dBond => percolation::Kind::Bond,
            _ => return None,
        };
        Some(percolation::Geometry {
            dim: self.dim(),
            size,
            kind,
        })
    }

    /// Whether the model is swept over temperature (every model but percolation and mazes).
    pub fn is_thermal(self) -> bool {
        self.percolation(2).is_none() && !self.is_maze()
    }

    /// Maze testing: a task is one training run of the spreading network on mazes of side L
    /// ([`maze::train`]), not a sample of a lattice model.
    pub fn is_maze(self) -> bool {
        self == ModelKind::Mazes
    }

    /// The named series a task of this model measures besides energy and order, in order
    /// (spin models: none).
    pub fn observables(self) -> &'static [&'static str] {
        match self {
            ModelKind::Dimer2d => &dimer2d::OBSERVABLES,
            _ => &[],
        }
    }

    /// The linear size of the configurations RSMI and saved samples see for a lattice of
    /// linear size `size`: the lattice itself for spin models, dimers' 2L×2L image
    /// ([`dimer2d::image`]).
    pub fn sample_size(self, size: usize) -> usize {
        match self {
            ModelKind::Dimer2d => 2 * size,
            _ => size,
        }
    }

    /// Why linear size `size` cannot hold this model, if it cannot (beyond the common bounds).
    pub fn size_error(self, size: usize) -> Option<String> {
        match self {
            ModelKind::Dimer2d if size < 4 || !size.is_multiple_of(2) => Some(format!(
                "close-packed dimers need an even L of at least 4, got {size}"
            )),
            _ => None,
        }
    }

    /// The spin model on a lattice of linear size `size` (`q` is used by Potts only); `None`
    /// for models that are not of Potts type.
    pub fn build(self, size: usize, q: u8) -> Option<AnyModel> {
        match self {
            ModelKind::Ising2d | ModelKind::Ising3d => {
                Some(AnyModel::Ising(Ising::new(Lattice::new(self.dim(), size))))
            }
            ModelKind::Potts2d => Some(AnyModel::Potts(Potts::new(Lattice::new(2, size), q))),
            _ => None,
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A built model, so callers can hold any model in one type and dispatch to the generic,
/// monomorphised samplers once per task rather than once per spin.
pub enum AnyModel {
    Ising(Ising),
    Potts(Potts),
}

/// Runs `$body` with `$m` bound to the concrete model inside an [`AnyModel`].
#[macro_export]
macro_rules! with_model {
    ($any:expr, $m:ident => $body:expr) => {
        match $any {
            $crate::model::AnyModel::Ising($m) => $body,
            $crate::model::AnyModel::Potts($m) => $body,
        }
    };
}
