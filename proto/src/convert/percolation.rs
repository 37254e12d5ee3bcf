//! Percolation tasks and blocks on the wire, checked as the sweep file checks them: a worker
//! must not be made to allocate a window without bound, and a block must have exactly the
//! shape its own task implies before the coordinator stores it.

use super::{WireError, invalid};
use crate::v1;
use rgsweep_physics::analysis::Named;
use rgsweep_physics::model::percolation::{self, Block, newman_ziff::size_bin};
use rgsweep_physics::sweep::{self, MonteCarlo};
use rgsweep_physics::task::SweepStatsRecord;
use rgsweep_physics::{Algorithm, ModelKind, Task, TaskResult};

pub(super) fn task_from_wire(
    t: &v1::Task,
    model: ModelKind,
    algorithm: Algorithm,
) -> Result<(Task, u64), WireError> {
    if t.interaction.is_some() {
        return Err(invalid("interaction", format!("{model} has none")));
    }
    if t.rsmi.is_some() || t.rg.is_some() || t.save_samples != 0 {
        return Err(invalid(
            "model",
            format!("{model} takes no rsmi, rg or samples"),
        ));
    }
    if t.temperature != 0.0 {
        return Err(invalid(
            "temperature",
            format!("{} for {model}, which is swept over p (0)", t.temperature),
        ));
    }
    if t.replicas != 1 || t.first_replica >= sweep::MAX_REPLICAS {
        return Err(invalid(
            "replicas",
            "a percolation task is one block: replicas 1, first_replica the block",
        ));
    }
    if t.thermalize != 0 || t.interval != 1 {
        return Err(invalid(
            "thermalize",
            "Newman–Ziff runs are independent: thermalize 0, interval 1",
        ));
    }
    let ps = &t.probabilities;
    if ps.is_empty()
        || ps.len() > 100_000
        || ps.iter().any(|p| !(0.0..=1.0).contains(p))
        || ps.windows(2).any(|w| w[0] >= w[1])
    {
        return Err(invalid(
            "probabilities",
            "1 to 100000 probabilities in [0, 1], strictly ascending",
        ));
    }
    let size = t.size as usize;
    let geometry = model
        .percolation(size)
        .ok_or_else(|| invalid("model", format!("{model}")))?;
    let sites = geometry.sites() as u64;
    if t.measurements == 0 || t.measurements > sweep::max_runs(sites) {
        return Err(invalid(
            "measurements",
            format!(
                "{} runs; from 1 to {} at L = {size}",
                t.measurements,
                sweep::max_runs(sites)
            ),
        ));
    }
    let (first, last) = percolation::window(geometry.elements() as u64, ps);
    if (last - first + 1) * percolation::observables(geometry.dim).len() as u64
        > sweep::MAX_WINDOW_ENTRIES
    {
        return Err(invalid(
            "probabilities",
            "their window of occupation numbers is more than a block may store",
        ));
    }
    let task = Task {
        model,
        q: 2,
        size,
        temperature: 0.0,
        monte_carlo: MonteCarlo {
            algorithm,
            thermalize: 0,
            measurements: t.measurements,
            interval: 1,
        },
        first_replica: t.first_replica,
        replicas: 1,
        rsmi: None,
        rg: None,
        save_samples: 0,
        interaction: None,
        probabilities: ps.clone(),
        maze: None,
        external: None,
    };
    Ok((task, t.seed))
}

pub(super) fn block_to_wire(b: &Block) -> v1::PercolationBlock {
    v1::PercolationBlock {
        first: b.first,
        runs: b.runs,
        series: b
            .series
            .iter()
            .map(|n| v1::NamedSeries {
                name: n.name.clone(),
                values: n.values.clone(),
            })
            .collect(),
        sizes: b
            .sizes
            .iter()
            .map(|c| v1::SizeCounts { counts: c.clone() })
            .collect(),
    }
}

/// A percolation result: no replica series, and a block whose window, series and size bins
/// are those its task implies.
pub(super) fn result_from_wire(
    r: v1::TaskResult,
    task: Task,
    seed: u64,
) -> Result<(TaskResult, u64), WireError> {
    let geometry = task
        .model
        .percolation(task.size)
        .ok_or_else(|| invalid("model", format!("{}", task.model)))?;
    if !r.replicas.is_empty() || !r.rsmi.is_empty() || !r.rg.is_empty() || !r.samples.is_empty() {
        return Err(invalid(
            "replicas",
            "a percolation result carries its block only",
        ));
    }
    if r.sites != geometry.sites() as u64 {
        return Err(invalid("sites", format!("{}", r.sites)));
    }
    let b = r.percolation.ok_or(WireError::Missing("percolation"))?;
    let (first, last) = percolation::window(geometry.elements() as u64, &task.probabilities);
    let len = (last - first + 1) as usize;
    let names = percolation::observables(geometry.dim);
    let bins = size_bin(geometry.sites() as u64) + 1;
    if b.first != first
        || b.runs != task.monte_carlo.measurements
        || b.series.len() != names.len()
        || b.series
            .iter()
            .zip(&names)
            .any(|(s, name)| s.name != *name || s.values.len() != len)
        || b.sizes.len() != task.probabilities.len()
        || b.sizes.iter().any(|c| c.counts.len() != bins)
    {
        return Err(invalid(
            "percolation",
            format!(
                "the block must start at n = {first}, sum {} runs, hold {names:?} of {len} entries and {} rows of {bins} size bins",
                task.monte_carlo.measurements,
                task.probabilities.len()
            ),
        ));
    }
    let stats = r.stats.unwrap_or_default();
    let block = Block {
        first: b.first,
        runs: b.runs,
        series: b
            .series
            .into_iter()
            .map(|s| Named {
                name: s.name,
                values: s.values,
            })
            .collect(),
        sizes: b.sizes.into_iter().map(|c| c.counts).collect(),
    };
    Ok((
        TaskResult {
            task,
            sites: geometry.sites(),
            order_norm: 1.0,
            replicas: Vec::new(),
            stats: SweepStatsRecord {
                updates: stats.updates,
                accepted: stats.accepted,
                clusters: stats.clusters,
                cluster_spins: stats.cluster_spins,
            },
            rsmi: Vec::new(),
            rg: Vec::new(),
            samples: Vec::new(),
            percolation: Some(Box::new(block)),
            maze: None,
        },
        seed,
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{result_from_wire, result_to_wire, task_from_wire, task_to_wire};
    use rgsweep_physics::Sweep;

    fn task() -> rgsweep_physics::Task {
        let s = Sweep::parse(
            r#"
name = "w"
seed = 9
model = "percolation3d-bond"
sizes = [4]
p = [0.2, 0.25, 0.3]
replicas = 2
[monte_carlo]
algorithm = "newman-ziff"
runs = 50
"#,
            "w.toml",
        )
        .expect("valid");
        s.tasks().remove(1)
    }

    #[test]
    fn a_block_round_trips_and_keeps_its_key() {
        let t = task();
        let r = t.run(9);
        let (back, seed) = result_from_wire(result_to_wire(&r, 9)).expect("well-formed");
        assert_eq!((back, seed), (r, 9));
        let (t2, _) = task_from_wire(&task_to_wire(&t, 9)).expect("task");
        assert_eq!(t2.content_key(9), t.content_key(9));
    }

    #[test]
    fn malformed_blocks_and_tasks_are_refused() {
        let t = task();
        let good = result_to_wire(&t.run(9), 9);
        let mut broken = Vec::new();
        let mut r = good.clone();
        r.percolation = None;
        broken.push(("no block", r));
        let mut r = good.clone();
        if let Some(b) = r.percolation.as_mut() {
            b.series[2].values.pop();
        }
        broken.push(("short series", r));
        let mut r = good.clone();
        if let Some(b) = r.percolation.as_mut() {
            b.first += 1;
        }
        broken.push(("shifted window", r));
        let mut r = good.clone();
        if let Some(b) = r.percolation.as_mut() {
            b.sizes.pop();
        }
        broken.push(("size rows", r));
        let mut r = good.clone();
        r.replicas.push(Default::default());
        broken.push(("replica series", r));
        for (why, r) in broken {
            assert!(result_from_wire(r).is_err(), "{why}");
        }
        let wire = task_to_wire(&t, 9);
        type Mutation = fn(&mut crate::v1::Task);
        let mutations: [(&str, Mutation); 6] = [
            ("temperature", |w| w.temperature = 1.0),
            ("p above 1", |w| w.probabilities.push(1.5)),
            ("p unsorted", |w| w.probabilities.reverse()),
            ("no p", |w| w.probabilities.clear()),
            ("sampler", |w| w.algorithm = "wolff".into()),
            ("replicas", |w| w.replicas = 2),
        ];
        for (why, m) in mutations {
            let mut w = wire.clone();
            m(&mut w);
            assert!(task_from_wire(&w).is_err(), "{why}");
        }
        // A thermal task with probabilities.
        let mut w = wire.clone();
        w.model = "ising3d".into();
        w.algorithm = "wolff".into();
        w.temperature = 4.5;
        assert!(task_from_wire(&w).is_err(), "ising with p");
    }
}
