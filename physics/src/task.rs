//! One unit of work: a (model, L, T) point and a range of replicas, run to time series.
//!
//! Invariant: `run(task, seed)` is a pure function. Each replica's stream is
//! `Stream::derive(seed, task.stream_key(replica))`, so a replica reproduces bit for bit
//! whichever task, worker or thread runs it; multispin tasks share one stream across their 64
//! lanes (lane r is replica `first_replica + r`).

use crate::analysis::{PointData, Series};
use crate::model::dimer2d::{self, worm::Exits};
use crate::model::{Model, ModelKind};
use crate::model::{maze, percolation};
use crate::rg;
use crate::rng::Stream;
use crate::rsmi;
use crate::sampler::multispin::Multispin;
use crate::sampler::{Algorithm, Chain, SweepStats};
use crate::settings::{MonteCarlo, RsmiSweep};
use crate::with_model;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub model: ModelKind,
    /// Potts states (2 for Ising).
    pub q: u8,
    pub size: usize,
    pub temperature: f64,
    pub monte_carlo: MonteCarlo,
    pub first_replica: u32,
    pub replicas: u32,
    /// Also learn the RSMI coarse-graining on each replica's configurations. Absent from the
    /// canonical form when off, so tasks without RSMI keep their content keys. Boxed: the
    /// coordinator holds a million tasks in memory, most without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsmi: Option<Box<RsmiSweep>>,
    /// Also measure the RG flow of each replica's configurations (absent when off, like
    /// `rsmi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rg: Option<Box<rg::Settings>>,
    /// Configurations per replica to return (evenly spaced over the measurements); absent
    /// when 0, like `rsmi`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub save_samples: u64,
    /// Dimers: the interaction v per parallel plaquette (T in units of |v|). Absent for spin
    /// models, so their content keys are those of before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<i64>,
    /// Percolation: the sweep's occupation probabilities, which fix the window of occupation
    /// numbers a block records (`temperature` is then 0, `monte_carlo.measurements` counts
    /// runs). Absent for every other model, so their keys are those of before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub probabilities: Vec<f64>,
    /// Mazes: the training run's settings (n layers and the rest; `size` is the maze side,
    /// `first_replica` the run). Absent for every other model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maze: Option<Box<maze::train::Settings>>,
    /// External sweeps: the registered program that samples the configurations and its
    /// parameters (`model` is the spin model of their configuration type, the algorithm
    /// `external`). Absent for every other model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<Box<crate::model::external::Sampling>>,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// One RSMI measurement of a task: one replica, one buffer width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RsmiPoint {
    pub replica: u32,
    pub buffer: usize,
    pub mi_nats: f64,
    pub mi_err: f64,
    pub train_mi: f64,
    pub epochs: usize,
    /// n_H filters over the block, row-major site order (Potts: q weights per site).
    pub filters: Vec<Vec<f64>>,
    /// Training wall time, from the caller's clock: the one value not reproducible bit for bit
    /// (see `Task::run_timed`).
    pub seconds: f64,
    /// dimer2d with `dimension_size`: the scaling dimension of this rule's coarse variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<crate::stats::Estimate>,
}

/// What a task produces: every measurement, so aggregation never needs the worker again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    pub task: Task,
    pub sites: usize,
    pub order_norm: f64,
    pub replicas: Vec<Series>,
    pub stats: SweepStatsRecord,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rsmi: Vec<RsmiPoint>,
    /// With `rg`: replicas × maps × levels 0..=levels, replica-major, maps in the settings'
    /// order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rg: Vec<rg::Level>,
    /// With `save_samples`: replicas × save_samples configurations, replica-major, one state
    /// byte per site.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Vec<u8>>,
    /// Percolation: the block's runs, summed (`replicas` is then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percolation: Option<Box<percolation::Block>>,
    /// Mazes: what the training run measured (`replicas` is then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maze: Option<Box<maze::train::Outcome>>,
}

/// Serializable copy of [`SweepStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepStatsRecord {
    pub updates: u64,
    pub accepted: u64,
    pub clusters: u64,
    pub cluster_spins: u64,
}

impl From<SweepStats> for SweepStatsRecord {
    fn from(s: SweepStats) -> Self {
        SweepStatsRecord {
            updates: s.updates,
            accepted: s.accepted,
            clusters: s.clusters,
            cluster_spins: s.cluster_spins,
        }
    }
}

/// Version of what a task computes and how its result is encoded. Bump it whenever a change
/// alters any task's output bytes (a sampler, the stream scheme, the result format), so stored
/// results of the old code are never reused for the new.
pub const RESULT_FORMAT: u32 = 2;

impl Task {
    /// Content hash of the task: SHA-256 over a versioned domain tag, [`RESULT_FORMAT`], the
    /// sweep seed and the task's canonical JSON (fields in declaration order, floats in
    /// shortest round-trip form). Two tasks with the same key compute the same bytes.
    pub fn content_key(&self, seed: u64) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"rgsweep-task-v1");
        h.update(RESULT_FORMAT.to_le_bytes());
        h.update(seed.to_le_bytes());
        // Serialising plain data with derived impls cannot fail; if it ever did, every key
        // would collide, so fail loudly instead.
        h.update(serde_json::to_vec(self).expect("a task serialises"));
        h.finalize().into()
    }

    /// Canonical text naming the point, algorithm and replica; the random stream's key.
    pub fn stream_key(&self, replica: u32) -> String {
        if let Some(m) = &self.maze {
            // One training run: no temperature; the depth n is part of the point.
            return format!(
                "{}/L={}/n={}/alg={}/run={replica}",
                self.model, self.size, m.layers, self.monte_carlo.algorithm
            );
        }
        if !self.model.is_thermal() {
            // A block: no temperature; its probabilities only set what it records.
            return format!(
                "{}/L={}/alg={}/block={replica}",
                self.model, self.size, self.monte_carlo.algorithm
            );
        }
        let model = if self.model == ModelKind::Potts2d {
            format!("{}q{}", self.model, self.q)
        } else {
            self.model.to_string()
        };
        let who = if self.monte_carlo.algorithm == Algorithm::Multispin {
            format!("r={}+64", self.first_replica)
        } else {
            format!("r={replica}")
        };
        format!(
            "{model}/L={}/T={}/alg={}/{who}",
            self.size, self.temperature, self.monte_carlo.algorithm
        )
    }

    /// Rough cost in spin updates, for ordering and progress.
    pub fn cost(&self) -> f64 {
        if let Some(m) = &self.maze {
            // Cell updates: every layer of every maze of every step, backward counted twice.
            let cells = (self.size * self.size * m.layers * m.batch * m.steps) as f64;
            return 3.0 * cells;
        }
        let sites = (self.size as f64).powi(self.model.dim() as i32);
        let sweeps =
            self.monte_carlo.thermalize + self.monte_carlo.measurements * self.monte_carlo.interval;
        let replicas = if self.monte_carlo.algorithm == Algorithm::Multispin {
            1.0
        } else {
            f64::from(self.replicas)
        };
        sites * sweeps as f64 * replicas
    }

    /// Runs the task to completion (RSMI timings read 0).
    pub fn run(&self, seed: u64) -> TaskResult {
        self.run_timed(seed, &|| 0.0)
    }

    /// Runs the task, timing RSMI training with `clock` (seconds; this crate reads no clock).
    pub fn run_timed(&self, seed: u64, clock: &dyn Fn() -> f64) -> TaskResult {
        if let Some(geometry) = self.model.percolation(self.size) {
            return self.run_percolation(seed, &geometry);
        }
        if let Some(settings) = &self.maze {
            return self.run_maze(seed, settings, clock);
        }
        if self.external.is_some() {
            // The worker runs the program and calls `run_on_samples`; without samples there is
            // nothing to measure, and empty series are what aggregation refuses.
            return self.run_on_samples(seed, &[], clock);
        }
        let Some(model) = self.model.build(self.size, self.q) else {
            return self.run_dimers(seed, clock);
        };
        let beta = 1.0 / self.temperature;
        let mc = &self.monte_carlo;
        let (sites, order_norm) = with_model!(&model, m => (m.lattice().sites(), m.order_norm()));
        if mc.algorithm == Algorithm::Multispin {
            let lattice = with_model!(&model, m => m.lattice().clone());
            let stream = Stream::derive(seed, &self.stream_key(self.first_replica));
            let mut ms = Multispin::new(lattice, beta, stream);
            for _ in 0..mc.thermalize {
                ms.sweep();
            }
            // A multispin task is one 64-lane word; the planner never makes larger ones.
            let lanes = (self.replicas as usize).min(64);
            let mut series = vec![Series::default(); lanes];
            for _ in 0..mc.measurements {
                for _ in 0..mc.interval {
                    ms.sweep();
                }
                let (e, m) = ms.measure();
                for (lane, s) in series.iter_mut().enumerate() {
                    s.energy.push(e[lane]);
                    s.order.push(m[lane]);
                }
            }
            let updates = (sites as u64) * (mc.thermalize + mc.measurements * mc.interval);
            return TaskResult {
                task: self.clone(),
                sites,
                order_norm,
                replicas: series,
                stats: SweepStatsRecord {
                    updates: updates * self.replicas as u64,
                    ..Default::default()
                },
                rsmi: Vec::new(),
                rg: Vec::new(),
                samples: Vec::new(),
                percolation: None,
                maze: None,
            };
        }
        let mut stats = SweepStats::default();
        let keep = self
            .rsmi
            .as_ref()
            .map_or(0, |r| r.samples)
            .max(self.rg.as_ref().map_or(0, |r| r.samples))
            .max(self.save_samples);
        let mut extras = Extras::default();
        let replicas = (self.first_replica..self.first_replica + self.replicas)
            .map(|r| {
                let stream = Stream::derive(seed, &self.stream_key(r));
                with_model!(&model, m => {
                    let (series, s, configs) = run_chain(m, beta, stream, mc, keep);
                    stats.updates += s.updates;
                    stats.accepted += s.accepted;
                    stats.clusters += s.clusters;
                    stats.cluster_spins += s.cluster_spins;
                    self.measure_configurations(seed, r, &configs, clock, &mut extras);
                    series
                })
            })
            .collect();
        TaskResult {
            task: self.clone(),
            sites,
            order_norm,
            replicas,
            stats: stats.into(),
            rsmi: extras.rsmi,
            rg: extras.rg,
            samples: extras.samples,
            percolation: None,
            maze: None,
        }
    }

    /// What a replica's kept configurations feed beyond its series: RSMI, the RG flow and the
    /// saved samples, each on its own evenly spaced subset and its own stream.
    pub(crate) fn measure_configurations(
        &self,
        seed: u64,
        r: u32,
        configs: &[Vec<u8>],
        clock: &dyn Fn() -> f64,
        into: &mut Extras,
    ) {
        if let Some(settings) = &self.rsmi {
            let configs = evenly(configs, settings.samples as usize);
            into.rsmi
                .extend(self.learn(settings, seed, r, &configs, clock));
        }
        if self.save_samples > 0 {
            into.samples
                .extend(evenly(configs, self.save_samples as usize));
        }
        if let Some(settings) = &self.rg {
            let configs = evenly(configs, settings.samples as usize);
            let stream = Stream::derive(seed, &format!("{}/rg", self.stream_key(r)));
            into.rg.extend(rg::flow::flows(
                settings,
                self.model.dim(),
                self.q,
                self.size,
                &configs,
                r,
                &stream,
            ));
        }
    }

    /// A percolation task: one block of `monte_carlo.measurements` Newman–Ziff runs, recording
    /// the window of its probabilities, on the stream of its block.
    fn run_percolation(&self, seed: u64, geometry: &percolation::Geometry) -> TaskResult {
        let runs = self.monte_carlo.measurements;
        let mut stream = Stream::derive(seed, &self.stream_key(self.first_replica));
        let block = percolation::simulate(geometry, &self.probabilities, runs, &mut stream);
        let elements = geometry.elements() as u64;
        TaskResult {
            task: self.clone(),
            sites: geometry.sites(),
            order_norm: 1.0,
            replicas: Vec::new(),
            stats: SweepStatsRecord {
                updates: runs * percolation::window(elements, &self.probabilities).1,
                ..Default::default()
            },
            rsmi: Vec::new(),
            rg: Vec::new(),
            samples: Vec::new(),
            percolation: Some(Box::new(block)),
            maze: None,
        }
    }

    /// A maze task: one training run of the spreading network (n layers, mazes of side
    /// `size`) on the stream of its run, `first_replica`.
    fn run_maze(
        &self,
        seed: u64,
        settings: &maze::train::Settings,
        clock: &dyn Fn() -> f64,
    ) -> TaskResult {
        let mut stream = Stream::derive(seed, &self.stream_key(self.first_replica));
        let outcome = maze::train::run(self.size, settings, &mut stream, clock);
        TaskResult {
            task: self.clone(),
            sites: self.size * self.size,
            order_norm: 1.0,
            replicas: Vec::new(),
            stats: SweepStatsRecord {
                updates: (settings.steps * settings.batch) as u64,
                ..Default::default()
            },
            rsmi: Vec::new(),
            rg: Vec::new(),
            samples: Vec::new(),
            percolation: None,
            maze: Some(Box::new(outcome)),
        }
    }

    /// A dimer task: each replica by [`dimer2d::simulate`]; the energy and the model's named
    /// series, no order parameter; with `[rsmi]` or `save_samples`, images ([`dimer2d::image`])
    /// evenly spaced over the measurements, RSMI trained on them as on spins. The sweep file and the wire checked the size and the
    /// algorithm, so a failure here (which they make unreachable) yields empty series, which
    /// aggregation refuses, rather than a panic in a worker.
    fn run_dimers(&self, seed: u64, clock: &dyn Fn() -> f64) -> TaskResult {
        let mc = &self.monte_carlo;
        let update = match mc.algorithm {
            Algorithm::WormMinimalBounce => dimer2d::Update::Worm(Exits::MinimalBounce),
            Algorithm::Plaquette => dimer2d::Update::Plaquette,
            _ => dimer2d::Update::Worm(Exits::HeatBath),
        };
        let v = self.interaction.unwrap_or(-1);
        let mut stats = SweepStats::default();
        let schedule = dimer2d::Schedule {
            thermalize: mc.thermalize,
            measurements: mc.measurements,
            interval: mc.interval,
            keep: self
                .rsmi
                .as_ref()
                .map_or(0, |r| r.samples)
                .max(self.save_samples),
        };
        let mut points = Vec::new();
        let mut saved = Vec::new();
        let replicas = (self.first_replica..self.first_replica + self.replicas)
            .map(|r| {
                let key = self.stream_key(r);
                let mut stream = Stream::derive(seed, &key);
                let mut decoys = Stream::derive(seed, &format!("{key}/decoys"));
                let run = dimer2d::simulate(
                    self.size,
                    v,
                    1.0 / self.temperature,
                    update,
                    schedule,
                    &mut stream,
                    &mut decoys,
                )
                .unwrap_or_default();
                stats.updates += run.updates;
                stats.clusters += run.worms;
                if let Some(settings) = &self.rsmi {
                    let images = evenly(&run.images, settings.samples as usize);
                    points.extend(self.learn(settings, seed, r, &images, clock));
                }
                if self.save_samples > 0 {
                    saved.extend(evenly(&run.images, self.save_samples as usize));
                }
                dimer2d::series(run.energy, run.named)
            })
            .collect();
        let sites = self.size * self.size;
        TaskResult {
            task: self.clone(),
            sites,
            // |M_col| = D / (N/2): the named columnar sums over this are the order parameter.
            order_norm: sites as f64 / 2.0,
            replicas,
            stats: stats.into(),
            rsmi: points,
            rg: Vec::new(),
            samples: saved,
            percolation: None,
            maze: None,
        }
    }

    /// RSMI on one replica's configurations, once per buffer width. The sweep file was checked
    /// to fit every geometry, so a failure here is reported in the point (NaN MI), not a panic.
    pub(crate) fn learn(
        &self,
        settings: &RsmiSweep,
        seed: u64,
        replica: u32,
        configs: &[Vec<u8>],
        clock: &dyn Fn() -> f64,
    ) -> Vec<RsmiPoint> {
        let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
        settings
            .buffers
            .iter()
            .map(|&buffer| {
                let started = clock();
                let outcome = settings
                    .job(self.model, self.q, self.size, buffer)
                    .map_err(rsmi::RsmiError::from)
                    .and_then(|job| {
                        let mut stream = Stream::derive(
                            seed,
                            &format!("{}/rsmi/LB={buffer}", self.stream_key(replica)),
                        );
                        rsmi::run(&refs, &job, &mut stream, Some(clock))
                    });
                let seconds = clock() - started;
                let dimension = match (&outcome, settings.dimension_size) {
                    (Ok(t), Some(size)) => {
                        let key =
                            format!("{}/rsmi/LB={buffer}/dimension", self.stream_key(replica));
                        let mut rng = Stream::derive(seed, &key);
                        let mut decoys = Stream::derive(seed, &format!("{key}/decoys"));
                        dimer2d::coarse::measure(
                            &t.filters,
                            settings.block,
                            size,
                            1.0 / self.temperature,
                            &mut rng,
                            &mut decoys,
                        )
                    }
                    _ => None,
                };
                match outcome {
                    Ok(t) => RsmiPoint {
                        replica,
                        buffer,
                        mi_nats: t.mi_nats,
                        mi_err: t.mi_err,
                        train_mi: t.train_mi,
                        epochs: t.epochs,
                        filters: t.filters,
                        seconds,
                        dimension,
                    },
                    Err(_) => RsmiPoint {
                        replica,
                        buffer,
                        mi_nats: f64::NAN,
                        mi_err: f64::NAN,
                        train_mi: f64::NAN,
                        epochs: 0,
                        filters: Vec::new(),
                        seconds,
                        dimension: None,
                    },
                }
            })
            .collect()
    }
}

/// What [`Task::measure_configurations`] collects over a task's replicas.
#[derive(Default)]
pub(crate) struct Extras {
    pub(crate) rsmi: Vec<RsmiPoint>,
    pub(crate) rg: Vec<rg::Level>,
    pub(crate) samples: Vec<Vec<u8>>,
}

/// `n` of `configs`, evenly spaced (all of them if there are no more than `n`).
pub(crate) fn evenly(configs: &[Vec<u8>], n: usize) -> Vec<Vec<u8>> {
    if configs.len() <= n {
        return configs.to_vec();
    }
    (0..n)
        .map(|i| configs[i * configs.len() / n].clone())
        .collect()
}

/// Runs one replica; also returns `keep` configurations evenly spaced over the measurements.
fn run_chain<M: Model>(
    model: &M,
    beta: f64,
    stream: Stream,
    mc: &MonteCarlo,
    keep: u64,
) -> (Series, SweepStats, Vec<Vec<u8>>) {
    let mut chain = Chain::new(model, beta, stream);
    for _ in 0..mc.thermalize {
        chain.sweep(mc.algorithm);
    }
    chain.end_thermalization();
    let mut series = Series {
        energy: Vec::with_capacity(mc.measurements as usize),
        order: Vec::with_capacity(mc.measurements as usize),
        named: Vec::new(),
    };
    let every = mc
        .measurements
        .checked_div(keep)
        .map_or(u64::MAX, |e| e.max(1));
    let mut configs = Vec::with_capacity(keep as usize);
    for k in 0..mc.measurements {
        for _ in 0..mc.interval {
            chain.sweep(mc.algorithm);
        }
        series.energy.push(chain.energy());
        series.order.push(chain.order());
        if (k + 1) % every == 0 && (configs.len() as u64) < keep {
            configs.push(chain.spins().to_vec());
        }
    }
    (series, chain.stats(), configs)
}

/// Merges the results of one point (all its replicas, possibly from several tasks) in replica
/// order. Results of other points are ignored by the caller's grouping.
pub fn point_data(results: &[&TaskResult]) -> Option<PointData> {
    let first = results.first()?;
    let mut sorted: Vec<&&TaskResult> = results.iter().collect();
    sorted.sort_by_key(|r| r.task.first_replica);
    Some(PointData {
        size: first.task.size,
        temperature: first.task.temperature,
        sites: first.sites,
        order_norm: first.order_norm,
        replicas: sorted
            .iter()
            .flat_map(|r| r.replicas.iter().cloned())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        Task {
            model: ModelKind::Ising2d,
            q: 2,
            size: 16,
            temperature: 2.269,
            monte_carlo: MonteCarlo {
                algorithm: Algorithm::Wolff,
                thermalize: 10,
                measurements: 100,
                interval: 1,
            },
            first_replica: 0,
            replicas: 1,
            rsmi: None,
            rg: None,
            save_samples: 0,
            interaction: None,
            probabilities: Vec::new(),
            maze: None,
            external: None,
        }
    }

    /// The bytes of a spin task's key and result, pinned: models of other kinds (named series,
    /// `interaction`) came in with their fields absent from a spin task's canonical form, and
    /// these must not move without a RESULT_FORMAT bump. The values are those the code before
    /// the dimer change computes (checked by building that commit).
    #[test]
    fn a_spin_task_s_key_and_result_bytes_are_pinned() {
        use sha2::{Digest, Sha256};
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let t = task();
        let result = serde_json::to_vec(&t.run(1)).expect("serialises");
        let pinned = (hex(&t.content_key(1)), hex(&Sha256::digest(&result)));
        assert_eq!(
            pinned,
            (
                "3e2dbd55a81bd88b5d0385b9c85e9e1c295c9bc290fb6f0af100249c8f94726e".to_string(),
                "d7dab142a2889561b2e2de652c92b080363a3fabf9ca65c696a7056c9e0ee3d2".to_string()
            )
        );
    }

    #[test]
    fn content_key_changes_with_every_input() {
        let base = task().content_key(1);
        assert_eq!(base, task().content_key(1), "stable");
        assert_ne!(base, task().content_key(2), "seed");
        let variants: [fn(&mut Task); 6] = [
            |t| t.size = 32,
            |t| t.temperature = 2.27,
            |t| t.first_replica = 1,
            |t| t.monte_carlo.measurements = 101,
            |t| t.monte_carlo.algorithm = Algorithm::Metropolis,
            |t| t.model = ModelKind::Potts2d,
        ];
        for change in variants {
            let mut t = task();
            change(&mut t);
            assert_ne!(t.content_key(1), base, "{t:?}");
        }
    }
}
