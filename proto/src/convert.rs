//! Wire ↔ physics conversions. Everything arriving from the network is checked here before it
//! reaches the physics code: a worker must not be made to allocate a lattice no sweep file could
//! ask for, and the coordinator must not store a result whose shape does not match its task.

use crate::v1;
use rgsweep_physics::analysis::Named;
use rgsweep_physics::rg::{
    self, AutoencoderRule, Level, MapKind, Operator, RbmRule, RsmiRule, Rule,
};
use rgsweep_physics::rsmi::{Bound, Geometry};
use rgsweep_physics::stats::Estimate;
use rgsweep_physics::sweep::{self, MonteCarlo, RsmiSweep};
use rgsweep_physics::task::{RsmiPoint, SweepStatsRecord};
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
        rsmi: task.rsmi.as_ref().map(|r| v1::TaskRsmi {
            block: r.block as u32,
            buffers: r.buffers.iter().map(|&b| b as u32).collect(),
            env: r.env as u32,
            hidden: r.hidden as u32,
            samples: r.samples,
            stride: r.stride.map_or(0, |s| s as u32),
            bound: r.bound.name().to_string(),
            batch: r.batch as u32,
            max_epochs: r.max_epochs as u32,
            learning_rate: r.learning_rate,
            dimension_size: r.dimension_size.map_or(0, |s| s as u32),
            stagewise: r.stagewise,
            critic_leak: r.critic_leak,
            quiet_steps: r.quiet_steps as u32,
            restarts: r.restarts as u32,
        }),
        save_samples: task.save_samples,
        interaction: task.interaction,
        probabilities: task.probabilities.clone(),
        maze: task.maze.as_deref().map(maze::settings_to_wire),
        external: task.external.as_deref().map(external::sampling_to_wire),
        rg: task.rg.as_ref().map(|r| v1::TaskRg {
            maps: r.maps.iter().map(|m| m.name().to_string()).collect(),
            levels: r.levels as u32,
            operators: r.operators.iter().map(|o| o.name().to_string()).collect(),
            samples: r.samples,
            blocks: r.blocks as u32,
            rsmi: r.rsmi.as_ref().map(|x| v1::RgRsmi {
                buffer: x.buffer as u32,
                env: x.env as u32,
                rule: match x.rule {
                    Rule::Sign => "sign",
                    Rule::Sample => "sample",
                }
                .to_string(),
                retrain: x.retrain,
                warm_start: x.warm_start,
                batch: x.batch as u32,
                max_epochs: x.max_epochs as u32,
            }),
            audit: r.audit,
            rbm: r.rbm.as_ref().map(|x| v1::RgRbm {
                learning_rate: x.learning_rate,
                batch: x.batch as u32,
                epochs: x.epochs as u32,
                cd_steps: x.cd_steps as u32,
                persistent: x.persistent,
                l1: x.l1,
                information_plane: x.information_plane,
            }),
            autoencoder: r.autoencoder.as_ref().map(|x| v1::RgAutoencoder {
                hidden: x.hidden as u32,
                learning_rate: x.learning_rate,
                batch: x.batch as u32,
                epochs: x.epochs as u32,
                information_plane: x.information_plane,
            }),
        }),
    }
}

/// The RG settings of a task, checked as the sweep file's were.
fn rg_from_wire(
    r: &v1::TaskRg,
    model: ModelKind,
    q: u8,
    size: usize,
    measurements: u64,
) -> Result<rg::Settings, WireError> {
    let maps = r
        .maps
        .iter()
        .map(|m| MapKind::parse(m).ok_or_else(|| invalid("rg.maps", format!("{m:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let operators = r
        .operators
        .iter()
        .map(|o| Operator::parse(o).ok_or_else(|| invalid("rg.operators", format!("{o:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let rsmi = match &r.rsmi {
        Some(x) => Some(RsmiRule {
            buffer: x.buffer as usize,
            env: x.env as usize,
            rule: match x.rule.as_str() {
                "sign" => Rule::Sign,
                "sample" => Rule::Sample,
                other => return Err(invalid("rg.rsmi.rule", format!("{other:?}"))),
            },
            retrain: x.retrain,
            warm_start: x.warm_start,
            batch: x.batch as usize,
            max_epochs: x.max_epochs as usize,
        }),
        None => None,
    };
    let settings = rg::Settings {
        maps,
        levels: r.levels as usize,
        operators,
        samples: r.samples,
        blocks: r.blocks as usize,
        rsmi,
        rbm: r.rbm.as_ref().map(|x| RbmRule {
            learning_rate: x.learning_rate,
            batch: x.batch as usize,
            epochs: x.epochs as usize,
            cd_steps: x.cd_steps as usize,
            persistent: x.persistent,
            l1: x.l1,
            information_plane: x.information_plane,
        }),
        autoencoder: r.autoencoder.as_ref().map(|x| AutoencoderRule {
            hidden: x.hidden as usize,
            learning_rate: x.learning_rate,
            batch: x.batch as usize,
            epochs: x.epochs as usize,
            information_plane: x.information_plane,
        }),
        audit: r.audit,
    };
    settings
        .check(model.dim(), q, size, measurements)
        .map_err(|m| invalid("rg", m))?;
    Ok(settings)
}

fn estimate_to_wire(e: &Option<Estimate>) -> Option<v1::Estimate> {
    e.map(|e| v1::Estimate {
        value: e.value,
        error: e.error,
    })
}

/// The RSMI settings of a task, checked as the sweep file's were (a worker must not be made to
/// train on a geometry that wraps onto itself, or allocate without bound).
fn rsmi_from_wire(
    r: &v1::TaskRsmi,
    model: ModelKind,
    size: usize,
    measurements: u64,
) -> Result<RsmiSweep, WireError> {
    let bound =
        Bound::parse(&r.bound).ok_or_else(|| invalid("rsmi.bound", format!("{:?}", r.bound)))?;
    if r.buffers.is_empty() || r.buffers.len() > 64 {
        return Err(invalid("rsmi.buffers", "1 to 64 buffer widths"));
    }
    for &b in &r.buffers {
        Geometry::new(
            model.dim(),
            model.sample_size(size),
            r.block as usize,
            b as usize,
            r.env as usize,
        )
        .map_err(|e| invalid("rsmi", e.to_string()))?;
    }
    if r.dimension_size > 0 {
        let l = r.dimension_size as usize;
        if model.is_spin()
            || l > 1024
            || model.size_error(l).is_some()
            || 2 * l < 8 * r.block as usize
        {
            return Err(invalid(
                "rsmi.dimension_size",
                format!("{l} for {model} with block {}", r.block),
            ));
        }
    }
    // Dimer images: whole 2×2 cells per block, blocks on cell corners (as the sweep file).
    if !model.is_spin() && (!r.block.is_multiple_of(2) || !r.stride.is_multiple_of(2)) {
        return Err(invalid(
            "rsmi",
            "a dimer image's block and stride must be even",
        ));
    }
    if !(1..=64).contains(&r.hidden) {
        return Err(invalid("rsmi.hidden", format!("{}", r.hidden)));
    }
    if r.stagewise && r.hidden < 2 {
        return Err(invalid("rsmi.stagewise", "needs hidden >= 2"));
    }
    if !(0.0..1.0).contains(&r.critic_leak) {
        return Err(invalid("rsmi.critic_leak", format!("{}", r.critic_leak)));
    }
    if r.quiet_steps > 10_000_000 {
        return Err(invalid("rsmi.quiet_steps", format!("{}", r.quiet_steps)));
    }
    if r.restarts as usize > rgsweep_physics::rsmi::MAX_RESTARTS {
        return Err(invalid("rsmi.restarts", format!("{}", r.restarts)));
    }
    if r.samples < 10 || r.samples > measurements {
        return Err(invalid("rsmi.samples", format!("{}", r.samples)));
    }
    if r.batch < 2 || r.max_epochs == 0 || !(r.learning_rate > 0.0 && r.learning_rate < 1.0) {
        return Err(invalid(
            "rsmi",
            "batch >= 2, max_epochs >= 1 and learning_rate in (0, 1)",
        ));
    }
    Ok(RsmiSweep {
        block: r.block as usize,
        buffers: r.buffers.iter().map(|&b| b as usize).collect(),
        env: r.env as usize,
        hidden: r.hidden as usize,
        samples: r.samples,
        stride: (r.stride > 0).then_some(r.stride as usize),
        bound,
        batch: r.batch as usize,
        max_epochs: r.max_epochs as usize,
        learning_rate: r.learning_rate,
        dimension_size: (r.dimension_size > 0).then_some(r.dimension_size as usize),
        stagewise: r.stagewise,
        critic_leak: r.critic_leak,
        quiet_steps: r.quiet_steps as usize,
        // An older peer leaves it out: 0, one training.
        restarts: (r.restarts as usize).max(1),
    })
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
        _ => {
            return Err(invalid(
                "q",
                format!("{} for {model} (only potts2d has q)", t.q),
            ));
        }
    };
    let sites = u64::from(t.size).checked_pow(model.dim() as u32);
    if t.size < 2 || sites.is_none_or(|s| s > MAX_SITES) {
        return Err(invalid("size", format!("{} out of range", t.size)));
    }
    if let Some(why) = model.size_error(t.size as usize) {
        return Err(invalid("size", why));
    }
    // A registered program samples a spin model's configurations under "external"; no
    // built-in sampler runs that algorithm, and the program runs nothing else.
    let runs = match (algorithm, &t.external) {
        (Algorithm::External, Some(_)) => model.is_spin() || model == ModelKind::Dimer2d,
        (Algorithm::External, None) => false,
        (_, Some(_)) => return Err(invalid("external", format!("a sampler with {algorithm}"))),
        (_, None) => algorithm.runs(model),
    };
    if !runs {
        return Err(invalid(
            "algorithm",
            format!("{algorithm} cannot sample {model}"),
        ));
    }
    // Dimers carry their interaction (a non-zero integer, as the sweep file allows); spin
    // models none, and none of what needs site spins.
    if model.is_maze() {
        return maze::task_from_wire(t, model, algorithm);
    }
    if t.maze.is_some() {
        return Err(invalid("maze", format!("a maze training for {model}")));
    }
    if !model.is_thermal() {
        return percolation::task_from_wire(t, model, algorithm);
    }
    if !t.probabilities.is_empty() {
        return Err(invalid(
            "probabilities",
            format!("{model} is swept over T, not p"),
        ));
    }
    let interaction = match (model.is_spin(), t.interaction) {
        (true, None) => None,
        (false, Some(v)) if v != 0 && v.abs() <= 1000 => Some(v),
        (_, v) => return Err(invalid("interaction", format!("{v:?} for {model}"))),
    };
    if !model.is_spin() && t.rg.is_some() {
        return Err(invalid("model", format!("{model} takes no rg")));
    }
    if !(t.temperature.is_finite() && t.temperature > 0.0) {
        return Err(invalid("temperature", format!("{}", t.temperature)));
    }
    if t.replicas == 0 || (algorithm == Algorithm::Multispin && t.replicas > 64) {
        return Err(invalid("replicas", format!("{}", t.replicas)));
    }
    // Replica indices are first_replica + k: past u32 they overflowed in the result's checks.
    if u64::from(t.first_replica) + u64::from(t.replicas) > u64::from(sweep::MAX_REPLICAS) {
        return Err(invalid(
            "first_replica",
            format!(
                "{} + {} replicas passes {}",
                t.first_replica,
                t.replicas,
                sweep::MAX_REPLICAS
            ),
        ));
    }
    if t.interval == 0 || t.measurements == 0 {
        return Err(invalid(
            "measurements",
            "measurements and interval must be positive",
        ));
    }
    // A task's series are allocated up front: the sweep file's limits hold here too.
    if t.measurements > sweep::MAX_MEASUREMENTS
        || t.interval > sweep::MAX_INTERVAL
        || u64::from(t.replicas).saturating_mul(t.measurements) > sweep::MAX_STORED_MEASUREMENTS
    {
        return Err(invalid(
            "measurements",
            format!(
                "{} replicas × {} measurements every {} sweeps is more than a sweep file may ask",
                t.replicas, t.measurements, t.interval
            ),
        ));
    }
    let rsmi = match &t.rsmi {
        Some(r) if algorithm != Algorithm::Multispin => Some(Box::new(rsmi_from_wire(
            r,
            model,
            t.size as usize,
            t.measurements,
        )?)),
        Some(_) => return Err(invalid("rsmi", "not with multispin")),
        None => None,
    };
    let rg = match &t.rg {
        Some(r) if algorithm != Algorithm::Multispin => Some(Box::new(rg_from_wire(
            r,
            model,
            q,
            t.size as usize,
            t.measurements,
        )?)),
        Some(_) => return Err(invalid("rg", "not with multispin")),
        None => None,
    };
    if t.save_samples > t.measurements || (t.save_samples > 0 && algorithm == Algorithm::Multispin)
    {
        return Err(invalid("save_samples", format!("{}", t.save_samples)));
    }
    let external = match &t.external {
        Some(e) => {
            if t.thermalize != 0 || t.interval != 1 {
                return Err(invalid(
                    "measurements",
                    "an external task returns its configurations: thermalize 0, interval 1",
                ));
            }
            Some(Box::new(external::sampling_from_wire(e)?))
        }
        None => None,
    };
    let task = Task {
        rsmi,
        rg,
        save_samples: t.save_samples,
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
        interaction,
        probabilities: Vec::new(),
        maze: None,
        external,
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
                named: s
                    .named
                    .iter()
                    .map(|n| v1::NamedSeries {
                        name: n.name.clone(),
                        values: n.values.clone(),
                    })
                    .collect(),
            })
            .collect(),
        stats: Some(v1::SweepStats {
            updates: r.stats.updates,
            accepted: r.stats.accepted,
            clusters: r.stats.clusters,
            cluster_spins: r.stats.cluster_spins,
        }),
        rsmi: r
            .rsmi
            .iter()
            .map(|p| v1::RsmiPoint {
                replica: p.replica,
                buffer: p.buffer as u32,
                mi_nats: p.mi_nats,
                mi_err: p.mi_err,
                train_mi: p.train_mi,
                epochs: p.epochs as u32,
                filters: p
                    .filters
                    .iter()
                    .map(|f| v1::Filter { weights: f.clone() })
                    .collect(),
                seconds: p.seconds,
                dimension: p.dimension.map(|e| v1::Estimate {
                    value: e.value,
                    error: e.error,
                }),
            })
            .collect(),
        samples: r.samples.clone(),
        percolation: r.percolation.as_deref().map(percolation::block_to_wire),
        maze: r.maze.as_deref().map(maze::outcome_to_wire),
        rg: r
            .rg
            .iter()
            .map(|l| v1::FlowLevel {
                replica: l.replica,
                map: l.map.name().to_string(),
                level: l.level as u32,
                size: l.size as u32,
                couplings: l.couplings.clone(),
                errors: l.errors.clone(),
                leave_out: l.leave_out.iter().flatten().copied().collect(),
                y_t: estimate_to_wire(&l.y_t),
                y_h: estimate_to_wire(&l.y_h),
                filter: l.filter.clone(),
                mi_nats: l.mi_nats,
                relevance: estimate_to_wire(&l.relevance),
                compression: estimate_to_wire(&l.compression),
                receptive: estimate_to_wire(&l.receptive),
                plane: l
                    .plane
                    .iter()
                    .map(|p| v1::PlanePoint {
                        epoch: p.epoch as u32,
                        relevance: estimate_to_wire(&Some(p.relevance)),
                        compression: estimate_to_wire(&Some(p.compression)),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// A result's flow levels, checked against its task: every (replica, map, level) in order,
/// one coupling per operator, whole jackknife rows, 2^d filter weights.
fn flows_from_wire(task: &Task, levels: Vec<v1::FlowLevel>) -> Result<Vec<Level>, WireError> {
    let Some(settings) = &task.rg else {
        if levels.is_empty() {
            return Ok(Vec::new());
        }
        return Err(invalid("rg", "flow levels for a task without [rg]"));
    };
    let per_replica = settings.maps.len() * (settings.levels + 1);
    if levels.len() != per_replica * task.replicas as usize {
        return Err(invalid(
            "rg",
            format!(
                "{} levels, expected {}",
                levels.len(),
                per_replica * task.replicas as usize
            ),
        ));
    }
    let ops = settings.operators.len();
    let dim = task.model.dim();
    let mut out = Vec::with_capacity(levels.len());
    for (i, l) in levels.into_iter().enumerate() {
        let replica = task.first_replica + (i / per_replica) as u32;
        let map = settings.maps[(i % per_replica) / (settings.levels + 1)];
        let level = i % (settings.levels + 1);
        let rows = l.leave_out.len() / ops.max(1);
        if l.replica != replica
            || l.map != map.name()
            || l.level as usize != level
            || l.size as usize != task.size >> level
            || l.couplings.len() != ops
            || l.errors.len() != ops
            || l.leave_out.len() % ops.max(1) != 0
            || rows > settings.blocks
            || !(l.filter.is_empty() || l.filter.len() == 1 << dim)
            || ((l.relevance.is_some() || l.compression.is_some())
                && (!settings.audit || level == 0))
            || (!l.plane.is_empty() && (!settings.plane(map) || level == 0))
            || (l.receptive.is_some() && (!map.is_rbm() || level == 0))
        {
            return Err(invalid("rg", format!("level {i} does not match the task")));
        }
        out.push(Level {
            replica,
            map,
            level,
            size: l.size as usize,
            couplings: l.couplings,
            errors: l.errors,
            leave_out: l
                .leave_out
                .chunks(ops.max(1))
                .map(<[f64]>::to_vec)
                .collect(),
            y_t: l.y_t.map(|e| Estimate::new(e.value, e.error)),
            y_h: l.y_h.map(|e| Estimate::new(e.value, e.error)),
            filter: l.filter,
            mi_nats: l.mi_nats,
            relevance: l.relevance.map(|e| Estimate::new(e.value, e.error)),
            compression: l.compression.map(|e| Estimate::new(e.value, e.error)),
            receptive: l.receptive.map(|e| Estimate::new(e.value, e.error)),
            plane: l
                .plane
                .into_iter()
                .map(|p| match (p.relevance, p.compression) {
                    (Some(r), Some(c)) => Ok(rg::flow::PlanePoint {
                        epoch: p.epoch as usize,
                        relevance: Estimate::new(r.value, r.error),
                        compression: Estimate::new(c.value, c.error),
                    }),
                    _ => Err(invalid(
                        "rg",
                        format!("level {i}: a plane point without estimates"),
                    )),
                })
                .collect::<Result<_, _>>()?,
        });
    }
    Ok(out)
}

/// The result and its sweep seed, after checking its shape against its own task: one series
/// per replica, one value per measurement, the lattice's site count.
pub fn result_from_wire(r: v1::TaskResult) -> Result<(TaskResult, u64), WireError> {
    let (task, seed) = task_from_wire(r.task.as_ref().ok_or(WireError::Missing("task"))?)?;
    if task.model.is_maze() {
        return maze::result_from_wire(r, task, seed);
    }
    if r.maze.is_some() {
        return Err(invalid(
            "maze",
            format!("a maze outcome for {}", task.model),
        ));
    }
    if !task.model.is_thermal() {
        return percolation::result_from_wire(r, task, seed);
    }
    if r.percolation.is_some() {
        return Err(invalid(
            "percolation",
            format!("a block for {}", task.model),
        ));
    }
    if r.replicas.len() != task.replicas as usize {
        return Err(invalid(
            "replicas",
            format!("{} series for {} replicas", r.replicas.len(), task.replicas),
        ));
    }
    let n = task.monte_carlo.measurements as usize;
    // Spin models: energy and order; others: energy and their named series, in their order.
    let order = if task.model.is_spin() { n } else { 0 };
    let names = task.model.observables();
    if r.replicas.iter().any(|s| {
        s.energy.len() != n
            || s.order.len() != order
            || s.named.len() != names.len()
            || s.named
                .iter()
                .zip(names)
                .any(|(x, name)| x.name != *name || x.values.len() != n)
    }) {
        return Err(invalid(
            "replicas",
            format!(
                "series lengths differ from {n}, or the named series are not {names:?} (order series {order} long)"
            ),
        ));
    }
    if r.sites != (task.size as u64).pow(task.model.dim() as u32) {
        return Err(invalid("sites", format!("{}", r.sites)));
    }
    if !(r.order_norm.is_finite() && r.order_norm > 0.0) {
        return Err(invalid("order_norm", format!("{}", r.order_norm)));
    }
    let expected = task
        .rsmi
        .as_ref()
        .map_or(0, |s| s.buffers.len() * task.replicas as usize);
    if r.rsmi.len() != expected {
        return Err(invalid(
            "rsmi",
            format!("{} points, expected {expected}", r.rsmi.len()),
        ));
    }
    let mut points = Vec::with_capacity(r.rsmi.len());
    if let Some(settings) = &task.rsmi {
        let width = if task.model == ModelKind::Potts2d {
            usize::from(task.q)
        } else {
            1
        };
        let weights = settings.block.pow(task.model.dim() as u32) * width;
        for (i, p) in r.rsmi.into_iter().enumerate() {
            let replica = task.first_replica + (i / settings.buffers.len()) as u32;
            let buffer = settings.buffers[i % settings.buffers.len()];
            let failed = p.filters.is_empty() && p.mi_nats.is_nan();
            if p.replica != replica
                || p.buffer as usize != buffer
                || (!failed
                    && (p.filters.len() != settings.hidden
                        || p.filters.iter().any(|f| f.weights.len() != weights)))
            {
                return Err(invalid(
                    "rsmi",
                    format!("point {i} does not match the task"),
                ));
            }
            points.push(RsmiPoint {
                replica,
                buffer,
                mi_nats: p.mi_nats,
                mi_err: p.mi_err,
                train_mi: p.train_mi,
                epochs: p.epochs as usize,
                filters: p.filters.into_iter().map(|f| f.weights).collect(),
                seconds: p.seconds,
                dimension: p.dimension.map(|e| Estimate::new(e.value, e.error)),
            });
        }
    }
    let flows = flows_from_wire(&task, r.rg)?;
    // Saved configurations: the lattice's states, or a dimer lattice's image.
    let per_config = task
        .model
        .sample_size(task.size)
        .pow(task.model.dim() as u32);
    if r.samples.len() as u64 != task.save_samples * u64::from(task.replicas)
        || r.samples
            .iter()
            .any(|c| c.len() != per_config || c.iter().any(|&x| x >= task.q))
    {
        return Err(invalid(
            "samples",
            format!(
                "{} configurations for {} replicas × {}, each {per_config} states below {}",
                r.samples.len(),
                task.replicas,
                task.save_samples,
                task.q
            ),
        ));
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
                    named: s
                        .named
                        .into_iter()
                        .map(|n| Named {
                            name: n.name,
                            values: n.values,
                        })
                        .collect(),
                })
                .collect(),
            stats: SweepStatsRecord {
                updates: stats.updates,
                accepted: stats.accepted,
                clusters: stats.clusters,
                cluster_spins: stats.cluster_spins,
            },
            rsmi: points,
            rg: flows,
            samples: r.samples,
            percolation: None,
            maze: None,
        },
        seed,
    ))
}

pub mod external;
mod maze;
mod percolation;
#[cfg(test)]
mod tests;
