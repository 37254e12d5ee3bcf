//! Maze training tasks and their outcomes on the wire, checked as the sweep file checks them:
//! a worker must not be made to train without bound, and an outcome must have the shape its
//! own task implies (curve length, weights, landscape offsets, counts) before it is stored.

use super::{WireError, invalid};
use crate::v1;
use rgsweep_physics::model::maze::train::{
    CURVE_POINTS, DepthBin, LandscapePoint, Outcome, Settings,
};
use rgsweep_physics::sweep::{self, MonteCarlo};
use rgsweep_physics::task::SweepStatsRecord;
use rgsweep_physics::{Algorithm, ModelKind, Task, TaskResult};

pub(super) fn settings_to_wire(s: &Settings) -> v1::MazeTraining {
    v1::MazeTraining {
        layers: s.layers as u32,
        steps: s.steps as u64,
        p: s.p,
        batch: s.batch as u32,
        learning_rate: s.learning_rate,
        init_scale: s.init_scale,
        test: s.test as u32,
        balanced: s.balanced,
        gain: s.gain,
        landscape: s.landscape.clone(),
        neglect_threshold: s.neglect_threshold,
    }
}

pub(super) fn task_from_wire(
    t: &v1::Task,
    model: ModelKind,
    algorithm: Algorithm,
) -> Result<(Task, u64), WireError> {
    let m = t.maze.as_ref().ok_or(WireError::Missing("maze"))?;
    if t.interaction.is_some() || t.rsmi.is_some() || t.rg.is_some() || t.save_samples != 0 {
        return Err(invalid(
            "model",
            format!("{model} takes no interaction, rsmi, rg or samples"),
        ));
    }
    if !t.probabilities.is_empty() {
        return Err(invalid("probabilities", format!("{model} has none")));
    }
    if t.temperature != 0.0 {
        return Err(invalid(
            "temperature",
            format!("{} for {model} (0)", t.temperature),
        ));
    }
    if t.replicas != 1 || t.first_replica >= sweep::MAX_REPLICAS {
        return Err(invalid(
            "replicas",
            "a maze task is one training run: replicas 1, first_replica the run",
        ));
    }
    if !(5..=sweep::MAX_MAZE_SIZE as u32).contains(&t.size) {
        return Err(invalid(
            "size",
            format!("{} (mazes: 5 to {})", t.size, sweep::MAX_MAZE_SIZE),
        ));
    }
    let settings = Settings {
        layers: m.layers as usize,
        p: m.p,
        steps: m.steps as usize,
        batch: m.batch as usize,
        learning_rate: m.learning_rate,
        init_scale: m.init_scale,
        test: m.test as usize,
        balanced: m.balanced,
        gain: m.gain,
        landscape: m.landscape.clone(),
        neglect_threshold: m.neglect_threshold,
    };
    if let Some((field, why)) = settings.problem() {
        return Err(invalid(field, why));
    }
    if t.thermalize != 0 || t.interval != 1 || t.measurements != m.steps {
        return Err(invalid(
            "measurements",
            "a maze task: thermalize 0, interval 1, measurements = maze.steps",
        ));
    }
    let task = Task {
        model,
        q: 2,
        size: t.size as usize,
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
        probabilities: Vec::new(),
        maze: Some(Box::new(settings)),
        external: None,
    };
    Ok((task, t.seed))
}

pub(super) fn outcome_to_wire(o: &Outcome) -> v1::MazeOutcome {
    v1::MazeOutcome {
        loss_curve: o.loss_curve.clone(),
        test_loss: o.test_loss,
        test_loss_error: o.test_loss_error,
        test_accuracy: o.test_accuracy,
        hand_loss: o.hand_loss,
        hand_accuracy: o.hand_accuracy,
        test_positives: o.test_positives,
        test_negatives: o.test_negatives,
        negatives_correct: o.negatives_correct,
        depth_bins: o
            .depth_bins
            .iter()
            .map(|b| v1::MazeDepthBin {
                upto: b.upto,
                total: b.total,
                correct: b.correct,
                hand_correct: b.hand_correct,
            })
            .collect(),
        sensitivity: o.sensitivity,
        hand_sensitivity: o.hand_sensitivity,
        neglect: o.neglect,
        landscape: o
            .landscape
            .iter()
            .map(|p| v1::MazeLandscapePoint {
                epsilon: p.epsilon,
                loss: p.loss,
                error: p.error,
            })
            .collect(),
        weights: o.weights.clone(),
        seconds: o.seconds,
    }
}

/// A maze result: no replica series, and an outcome whose shape its task implies.
pub(super) fn result_from_wire(
    r: v1::TaskResult,
    task: Task,
    seed: u64,
) -> Result<(TaskResult, u64), WireError> {
    let Some(settings) = task.maze.as_deref() else {
        return Err(WireError::Missing("maze"));
    };
    if !r.replicas.is_empty()
        || !r.rsmi.is_empty()
        || !r.rg.is_empty()
        || !r.samples.is_empty()
        || r.percolation.is_some()
    {
        return Err(invalid(
            "replicas",
            "a maze result carries its outcome only",
        ));
    }
    if r.sites != (task.size * task.size) as u64 {
        return Err(invalid("sites", format!("{}", r.sites)));
    }
    let o = r.maze.ok_or(WireError::Missing("maze"))?;
    let shape = |ok: bool, field: &'static str, why: String| {
        if ok { Ok(()) } else { Err(invalid(field, why)) }
    };
    let curve = CURVE_POINTS.min(settings.steps);
    shape(
        o.loss_curve.len() == curve,
        "maze.loss_curve",
        format!("{curve} points"),
    )?;
    let weights = 10 * settings.layers + 2;
    shape(
        o.weights.len() == weights,
        "maze.weights",
        format!("{weights} weights"),
    )?;
    shape(
        o.landscape.len() == settings.landscape.len()
            && o.landscape
                .iter()
                .zip(&settings.landscape)
                .all(|(p, e)| p.epsilon == *e),
        "maze.landscape",
        "one point per offset of the task, in its order".into(),
    )?;
    let test = settings.test as u64;
    let positives: u64 = o.depth_bins.iter().map(|b| u64::from(b.total)).sum();
    shape(
        u64::from(o.test_positives) + u64::from(o.test_negatives) == test
            && positives == u64::from(o.test_positives)
            && o.negatives_correct <= o.test_negatives
            && o.depth_bins.len() <= 32
            && o.depth_bins.iter().enumerate().all(|(k, b)| {
                b.correct <= b.total
                    && b.hand_correct <= b.total
                    && u64::from(b.upto) == (2u64 << k) - 2
            }),
        "maze",
        format!("counts that add up to the task's {test} test mazes"),
    )?;
    let reals = [
        o.test_loss,
        o.test_loss_error,
        o.hand_loss,
        o.sensitivity,
        o.hand_sensitivity,
        o.seconds,
    ];
    let fractions = [o.test_accuracy, o.hand_accuracy];
    shape(
        reals
            .iter()
            .chain(&o.loss_curve)
            .chain(&o.weights)
            .all(|x| x.is_finite())
            && reals.iter().all(|x| *x >= 0.0)
            && fractions.iter().all(|x| (0.0..=1.0).contains(x))
            && o.landscape
                .iter()
                .all(|p| p.loss.is_finite() && p.error.is_finite()),
        "maze",
        "finite losses and weights, accuracies in [0, 1]".into(),
    )?;
    let stats = r.stats.unwrap_or_default();
    let outcome = Outcome {
        loss_curve: o.loss_curve,
        test_loss: o.test_loss,
        test_loss_error: o.test_loss_error,
        test_accuracy: o.test_accuracy,
        hand_loss: o.hand_loss,
        hand_accuracy: o.hand_accuracy,
        test_positives: o.test_positives,
        test_negatives: o.test_negatives,
        negatives_correct: o.negatives_correct,
        depth_bins: o
            .depth_bins
            .into_iter()
            .map(|b| DepthBin {
                upto: b.upto,
                total: b.total,
                correct: b.correct,
                hand_correct: b.hand_correct,
            })
            .collect(),
        sensitivity: o.sensitivity,
        hand_sensitivity: o.hand_sensitivity,
        neglect: o.neglect,
        landscape: o
            .landscape
            .into_iter()
            .map(|p| LandscapePoint {
                epsilon: p.epsilon,
                loss: p.loss,
                error: p.error,
            })
            .collect(),
        weights: o.weights,
        seconds: o.seconds,
    };
    Ok((
        TaskResult {
            sites: task.size * task.size,
            task,
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
            percolation: None,
            maze: Some(Box::new(outcome)),
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
model = "mazes"
sizes = [7]
replicas = 2
[mazes]
layers = [3]
steps = 6
batch = 4
test = 20
"#,
            "w.toml",
        )
        .expect("valid");
        s.tasks().remove(1)
    }

    #[test]
    fn an_outcome_round_trips_and_keeps_its_key() {
        let t = task();
        let r = t.run(9);
        let (back, seed) = result_from_wire(result_to_wire(&r, 9)).expect("well-formed");
        assert_eq!((back, seed), (r, 9));
        let (t2, _) = task_from_wire(&task_to_wire(&t, 9)).expect("task");
        assert_eq!(t2.content_key(9), t.content_key(9));
    }

    #[test]
    fn malformed_outcomes_and_tasks_are_refused() {
        let t = task();
        let good = result_to_wire(&t.run(9), 9);
        type Broken = fn(&mut crate::v1::TaskResult);
        let broken: [(&str, Broken); 7] = [
            ("no outcome", |r| r.maze = None),
            ("short curve", |r| {
                if let Some(m) = r.maze.as_mut() {
                    m.loss_curve.pop();
                }
            }),
            ("weights", |r| {
                if let Some(m) = r.maze.as_mut() {
                    m.weights.push(1.0);
                }
            }),
            ("landscape", |r| {
                if let Some(m) = r.maze.as_mut() {
                    m.landscape[0].epsilon = 3.0;
                }
            }),
            ("counts", |r| {
                if let Some(m) = r.maze.as_mut() {
                    m.test_negatives += 1;
                }
            }),
            ("nan", |r| {
                if let Some(m) = r.maze.as_mut() {
                    m.test_loss = f64::NAN;
                }
            }),
            ("replica series", |r| r.replicas.push(Default::default())),
        ];
        for (why, b) in broken {
            let mut r = good.clone();
            b(&mut r);
            assert!(result_from_wire(r).is_err(), "{why}");
        }
        let wire = task_to_wire(&t, 9);
        type Mutation = fn(&mut crate::v1::Task);
        let mutations: [(&str, Mutation); 8] = [
            ("temperature", |w| w.temperature = 1.0),
            ("no training", |w| w.maze = None),
            ("huge batch", |w| {
                if let Some(m) = w.maze.as_mut() {
                    m.batch = 1 << 20;
                }
            }),
            ("no layers", |w| {
                if let Some(m) = w.maze.as_mut() {
                    m.layers = 0;
                }
            }),
            ("p", |w| {
                if let Some(m) = w.maze.as_mut() {
                    m.p = 2.0;
                }
            }),
            ("steps mismatch", |w| w.measurements += 1),
            ("sampler", |w| w.algorithm = "wolff".into()),
            ("size", |w| w.size = 4),
        ];
        for (why, m) in mutations {
            let mut w = wire.clone();
            m(&mut w);
            assert!(task_from_wire(&w).is_err(), "{why}");
        }
        // A spin task carrying a maze training.
        let mut w = wire.clone();
        w.model = "ising2d".into();
        w.algorithm = "wolff".into();
        w.temperature = 2.0;
        w.measurements = 100;
        assert!(task_from_wire(&w).is_err(), "ising with a maze");
    }
}
