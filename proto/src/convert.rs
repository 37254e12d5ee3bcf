//! Wire ↔ physics conversions. Everything arriving from the network is checked here before it
//! reaches the physics code: a worker must not be made to allocate a lattice no sweep file could
//! ask for, and the coordinator must not store a result whose shape does not match its task.

use crate::v1;
use rgsweep_physics::sweep::MonteCarlo;
use rgsweep_physics::task::SweepStatsRecord;
use rgsweep_physics::{Algorithm, ModelKind, Series, Task, TaskResult};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("field `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> WireError {
    WireError::Invalid {
        field,
        message: message.into(),
    }
}

/// Largest lattice a task may name (the sweep file's own limit).
const MAX_SITES: u64 = 1 << 26;

pub fn task_to_wire(task: &Task, seed: u64) -> v1::Task {
    v1::Task {
        model: task.model.name().to_string(),
        q: u32::from(task.q),
        size: task.size as u32,
        temperature: task.temperature,
        algorithm: task.monte_carlo.algorithm.name().to_string(),
        thermalize: task.monte_carlo.thermalize,
        measurements: task.monte_carlo.measurements,
        interval: task.monte_carlo.interval,
        first_replica: task.first_replica,
        replicas: task.replicas,
        seed,
    }
}

/// The task and its sweep seed.
pub fn task_from_wire(t: &v1::Task) -> Result<(Task, u64), WireError> {
    let model =
        ModelKind::parse(&t.model).ok_or_else(|| invalid("model", format!("{:?}", t.model)))?;
    let algorithm = Algorithm::parse(&t.algorithm)
        .ok_or_else(|| invalid("algorithm", format!("{:?}", t.algorithm)))?;
    let q = match model {
        ModelKind::Potts2d if (2..=64).contains(&t.q) => t.q as u8,
        ModelKind::Potts2d => return Err(invalid("q", format!("{} not in 2..=64", t.q))),
        _ if t.q == 2 => 2,
        _ => return Err(invalid("q", format!("{} for an Ising model", t.q))),
    };
    let sites = u64::from(t.size).checked_pow(model.dim() as u32);
    if t.size < 2 || sites.is_none_or(|s| s > MAX_SITES) {
        return Err(invalid("size", format!("{} out of range", t.size)));
    }
    if !(t.temperature.is_finite() && t.temperature > 0.0) {
        return Err(invalid("temperature", format!("{}", t.temperature)));
    }
    if t.replicas == 0 || (algorithm == Algorithm::Multispin && t.replicas > 64) {
        return Err(invalid("replicas", format!("{}", t.replicas)));
    }
    if t.interval == 0 || t.measurements == 0 {
        return Err(invalid(
            "measurements",
            "measurements and interval must be positive",
        ));
    }
    let task = Task {
        model,
        q,
        size: t.size as usize,
        temperature: t.temperature,
        monte_carlo: MonteCarlo {
            algorithm,
            thermalize: t.thermalize,
            measurements: t.measurements,
            interval: t.interval,
        },
        first_replica: t.first_replica,
        replicas: t.replicas,
    };
    Ok((task, t.seed))
}

pub fn result_to_wire(r: &TaskResult, seed: u64) -> v1::TaskResult {
    v1::TaskResult {
        task: Some(task_to_wire(&r.task, seed)),
        sites: r.sites as u64,
        order_norm: r.order_norm,
        replicas: r
            .replicas
            .iter()
            .map(|s| v1::Series {
                energy: s.energy.clone(),
                order: s.order.clone(),
            })
            .collect(),
        stats: Some(v1::SweepStats {
            updates: r.stats.updates,
            accepted: r.stats.accepted,
            clusters: r.stats.clusters,
            cluster_spins: r.stats.cluster_spins,
        }),
    }
}

/// The result and its sweep seed, after checking its shape against its own task: one series
/// per replica, one value per measurement, the lattice's site count.
pub fn result_from_wire(r: v1::TaskResult) -> Result<(TaskResult, u64), WireError> {
    let (task, seed) = task_from_wire(r.task.as_ref().ok_or(WireError::Missing("task"))?)?;
    if r.replicas.len() != task.replicas as usize {
        return Err(invalid(
            "replicas",
            format!("{} series for {} replicas", r.replicas.len(), task.replicas),
        ));
    }
    let n = task.monte_carlo.measurements as usize;
    if r.replicas
        .iter()
        .any(|s| s.energy.len() != n || s.order.len() != n)
    {
        return Err(invalid(
            "replicas",
            format!("series lengths differ from {n}"),
        ));
    }
    if r.sites != (task.size as u64).pow(task.model.dim() as u32) {
        return Err(invalid("sites", format!("{}", r.sites)));
    }
    if !(r.order_norm.is_finite() && r.order_norm > 0.0) {
        return Err(invalid("order_norm", format!("{}", r.order_norm)));
    }
    let stats = r.stats.unwrap_or_default();
    Ok((
        TaskResult {
            task,
            sites: r.sites as usize,
            order_norm: r.order_norm,
            replicas: r
                .replicas
                .into_iter()
                .map(|s| Series {
                    energy: s.energy,
                    order: s.order,
                })
                .collect(),
            stats: SweepStatsRecord {
                updates: stats.updates,
                accepted: stats.accepted,
                clusters: stats.clusters,
                cluster_spins: stats.cluster_spins,
            },
        },
        seed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task {
            model: ModelKind::Potts2d,
            q: 3,
            size: 4,
            temperature: 0.99,
            monte_carlo: MonteCarlo {
                algorithm: Algorithm::SwendsenWang,
                thermalize: 5,
                measurements: 20,
                interval: 2,
            },
            first_replica: 2,
            replicas: 2,
        }
    }

    #[test]
    fn a_result_round_trips_exactly() {
        let r = task().run(42);
        let wire = result_to_wire(&r, 42);
        let (back, seed) = result_from_wire(wire).expect("valid");
        assert_eq!(seed, 42);
        assert_eq!(back, r);
    }

    #[test]
    fn malformed_results_are_refused_with_the_field() {
        let r = task().run(1);
        let mut wire = result_to_wire(&r, 1);
        wire.replicas[1].order.pop();
        assert!(matches!(
            result_from_wire(wire),
            Err(WireError::Invalid {
                field: "replicas",
                ..
            })
        ));
        let mut wire = result_to_wire(&r, 1);
        wire.task = None;
        assert_eq!(result_from_wire(wire), Err(WireError::Missing("task")));
        let mut t = task_to_wire(&task(), 1);
        t.size = 100_000;
        assert!(matches!(
            task_from_wire(&t),
            Err(WireError::Invalid { field: "size", .. })
        ));
        t.size = 4;
        t.model = "xy".into();
        assert!(matches!(
            task_from_wire(&t),
            Err(WireError::Invalid { field: "model", .. })
        ));
    }
}
