//! Configurations from a user's own sampler (issue 17): a registered external program samples
//! a spin model of its own, and rgsweep does everything after sampling — observables, finite-
//! size scaling, RSMI, RG flows, saved samples, the report — exactly as for its built-in spin
//! models.
//!
//! The physics crate never runs the program (it does no I/O): the worker does, and hands the
//! checked configurations to [`crate::task::Task::run_on_samples`]. What lives here is the
//! plain data a task carries ([`Sampling`]) and the conversion from the program's values to
//! site states ([`states`]).
//!
//! A task of an external sweep is a task of the spin model its configuration type declares
//! (`ising2d`, `ising3d`, `potts2d` with its q), so every spin caller reads it unchanged; its
//! `external` field says where the configurations come from, and its algorithm is
//! [`crate::sampler::Algorithm::External`], which no built-in sampler runs.

mod run;

use super::dimer2d;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a task's configurations come from and with what parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// The name workers register the program under.
    pub sampler: String,
    /// The version the program advertises (its `--version` line or its executable's hash): in
    /// the task, so in its key, so results of two versions never mix.
    pub version: String,
    /// The parameter that is the temperature T of the weight exp(−E/T): swept, its value is
    /// the task's `temperature`.
    pub temperature: String,
    /// Every other parameter, fixed across the sweep.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, f64>,
}

impl Sampling {
    /// The parameters the program is given at temperature `t`, by name.
    pub fn parameters_at(&self, t: f64) -> BTreeMap<String, f64> {
        let mut all = self.parameters.clone();
        all.insert(self.temperature.clone(), t);
        all
    }

    /// What a worker must advertise to be given this task.
    pub fn capability(&self) -> Capability {
        Capability {
            kind: "sampler".into(),
            name: self.sampler.clone(),
            version: self.version.clone(),
        }
    }
}

/// Something a worker can run beyond the built-in models. Samplers are the first kind; a GPU
/// would be one more (`kind = "gpu"`), matched the same way.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Capability {
    pub kind: String,
    pub name: String,
    pub version: String,
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.kind, self.name, self.version)
    }
}

/// Names a sweep file and a worker may give a sampler or a parameter: plain, so that they
/// pass through JSON, file names and logs unchanged.
pub fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The site states of one configuration as the program gave it: Ising ±1 (+1 → state 0,
/// as the built-in Ising stores it), q-state spins 0..q as they are. `None` on any other value.
pub fn states(values: &[i8], q: u8) -> Option<Vec<u8>> {
    values
        .iter()
        .map(|&v| match (q, v) {
            (2, 1) => Some(0),
            (2, -1) => Some(1),
            (2, _) => None,
            (q, v) if v >= 0 && (v as u8) < q => Some(v as u8),
            _ => None,
        })
        .collect()
}

/// One replica's configurations, checked, with the energy of each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Replica {
    /// Site states (see [`states`]), one vector per configuration.
    pub states: Vec<Vec<u8>>,
    /// The program's energies, integers in the units of its temperature.
    pub energy: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_follow_the_built_in_encodings_and_refuse_the_rest() {
        assert_eq!(states(&[1, -1, 1], 2), Some(vec![0, 1, 0]));
        assert_eq!(states(&[1, 0], 2), None, "0 is no Ising spin");
        assert_eq!(states(&[0, 2, 1], 3), Some(vec![0, 2, 1]));
        assert_eq!(states(&[3], 3), None);
        assert_eq!(states(&[-1], 3), None);
    }

    #[test]
    fn the_swept_parameter_joins_the_fixed_ones() {
        let s = Sampling {
            sampler: "mine".into(),
            version: "1".into(),
            temperature: "T".into(),
            parameters: [("J".to_string(), 1.0)].into(),
        };
        let p = s.parameters_at(2.25);
        assert_eq!(p.get("T"), Some(&2.25));
        assert_eq!(p.get("J"), Some(&1.0));
        assert!(plain_name("ising-numpy_1.0") && !plain_name("../x") && !plain_name(""));
    }
}
