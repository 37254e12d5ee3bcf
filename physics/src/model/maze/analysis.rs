//! Across a maze sweep: per (L, n), the runs' test accuracy and loss against the hand-set
//! network's, the fraction of runs that succeed and of those that end in a neglect minimum,
//! accuracy against breadth-first depth, the mean loss curve and the loss landscape near the
//! hand-set optimum — and whether that landscape still changes with L (the paper's claim is
//! that it does not, for large mazes). Means carry their standard error over runs; fractions
//! of k runs out of N the Laplace error √((k+1)(N−k+1)/((N+2)²(N+3))), which stays honest at
//! 0 and N.

use super::train::Outcome;
use crate::stats::Estimate;
use serde::Serialize;

/// A run succeeds when its test accuracy is within this of the hand-set network's.
pub const SUCCESS_MARGIN: f64 = 0.05;

/// One (L, n) point: its runs' outcomes in run order.
pub struct Point<'a> {
    pub size: usize,
    pub layers: usize,
    pub runs: Vec<&'a Outcome>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DepthSummary {
    /// Positives with breadth-first depth up to this (and above the previous bin's).
    pub upto: u32,
    pub mazes: u64,
    pub accuracy: Estimate,
    pub hand_accuracy: Estimate,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LandscapeSummary {
    pub epsilon: f64,
    pub loss: Estimate,
    /// loss(ε) − loss(0), run by run (each run's own direction and test mazes) then averaged:
    /// the landscape's shape, apart from the loss at the optimum, which grows with L wherever
    /// n layers leave mazes unsettled. Absent when 0 is not among the offsets.
    pub excess: Option<Estimate>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointSummary {
    pub size: usize,
    pub layers: usize,
    pub runs: usize,
    pub accuracy: Estimate,
    pub hand_accuracy: Estimate,
    pub test_loss: Estimate,
    pub hand_loss: Estimate,
    /// The last point of the training-loss curve.
    pub final_loss: Estimate,
    pub success: Estimate,
    pub neglect: Estimate,
    pub sensitivity: Estimate,
    pub hand_sensitivity: Estimate,
    pub loss_curve: Vec<Estimate>,
    pub depth: Vec<DepthSummary>,
    pub landscape: Vec<LandscapeSummary>,
}

/// The landscape at one depth n compared between the two largest sizes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SizeComparison {
    pub layers: usize,
    pub sizes: [usize; 2],
    /// Largest |excess(L₂) − excess(L₁)| over the offsets ε ≠ 0, in combined standard errors
    /// (the raw losses' where the offsets lack 0), and at which offset.
    pub max_deviation: f64,
    pub at_epsilon: f64,
    /// The loss at the optimum itself, L₁ then L₂.
    pub optimum_loss: [Estimate; 2],
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub success_margin: f64,
    pub points: Vec<PointSummary>,
    pub landscape_vs_size: Vec<SizeComparison>,
    pub notes: Vec<String>,
}

fn mean(values: impl Iterator<Item = f64>) -> Estimate {
    let v: Vec<f64> = values.collect();
    let n = v.len() as f64;
    if v.is_empty() {
        return Estimate::new(f64::NAN, f64::NAN);
    }
    let m = v.iter().sum::<f64>() / n;
    let err = if v.len() > 1 {
        crate::stats::std_dev(&v) / n.sqrt()
    } else {
        f64::NAN
    };
    Estimate::new(m, err)
}

/// k out of n, with the Laplace (uniform-prior posterior) standard deviation.
pub fn fraction(k: u64, n: u64) -> Estimate {
    let (k, n) = (k as f64, n as f64);
    let var = (k + 1.0) * (n - k + 1.0) / ((n + 2.0).powi(2) * (n + 3.0));
    Estimate::new(if n > 0.0 { k / n } else { f64::NAN }, var.sqrt())
}

fn point(p: &Point) -> PointSummary {
    let runs = &p.runs;
    let succeeded = runs
        .iter()
        .filter(|o| o.test_accuracy >= o.hand_accuracy - SUCCESS_MARGIN)
        .count() as u64;
    let neglected = runs.iter().filter(|o| o.neglect).count() as u64;
    let curve_len = runs.iter().map(|o| o.loss_curve.len()).min().unwrap_or(0);
    let bins = runs.iter().map(|o| o.depth_bins.len()).max().unwrap_or(0);
    let depth = (0..bins)
        .map(|k| {
            let (mut total, mut right, mut hand) = (0u64, 0u64, 0u64);
            for o in runs {
                if let Some(b) = o.depth_bins.get(k) {
                    total += u64::from(b.total);
                    right += u64::from(b.correct);
                    hand += u64::from(b.hand_correct);
                }
            }
            DepthSummary {
                upto: (2u32 << k) - 2,
                mazes: total,
                accuracy: fraction(right, total),
                hand_accuracy: fraction(hand, total),
            }
        })
        .collect();
    let offsets = runs.first().map_or(0, |o| o.landscape.len());
    let zero = runs
        .first()
        .and_then(|o| o.landscape.iter().position(|p| p.epsilon == 0.0));
    PointSummary {
        size: p.size,
        layers: p.layers,
        runs: runs.len(),
        accuracy: mean(runs.iter().map(|o| o.test_accuracy)),
        hand_accuracy: mean(runs.iter().map(|o| o.hand_accuracy)),
        test_loss: mean(runs.iter().map(|o| o.test_loss)),
        hand_loss: mean(runs.iter().map(|o| o.hand_loss)),
        final_loss: mean(runs.iter().filter_map(|o| o.loss_curve.last().copied())),
        success: fraction(succeeded, runs.len() as u64),
        neglect: fraction(neglected, runs.len() as u64),
        sensitivity: mean(runs.iter().map(|o| o.sensitivity)),
        hand_sensitivity: mean(runs.iter().map(|o| o.hand_sensitivity)),
        loss_curve: (0..curve_len)
            .map(|k| mean(runs.iter().map(|o| o.loss_curve[k])))
            .collect(),
        depth,
        landscape: (0..offsets)
            .map(|k| LandscapeSummary {
                epsilon: runs[0].landscape[k].epsilon,
                loss: mean(runs.iter().map(|o| o.landscape[k].loss)),
                excess: zero.map(|z| {
                    mean(
                        runs.iter()
                            .map(|o| o.landscape[k].loss - o.landscape[z].loss),
                    )
                }),
            })
            .collect(),
    }
}

/// The summary of a sweep's points, in (size, layers) order.
pub fn analyse(points: &[Point]) -> Summary {
    let points: Vec<PointSummary> = points.iter().map(point).collect();
    let mut notes = Vec::new();
    let mut depths: Vec<usize> = points.iter().map(|p| p.layers).collect();
    depths.sort_unstable();
    depths.dedup();
    let mut landscape_vs_size = Vec::new();
    for n in depths {
        let mut at: Vec<&PointSummary> = points.iter().filter(|p| p.layers == n).collect();
        at.sort_by_key(|p| p.size);
        let [.., a, b] = at.as_slice() else { continue };
        let shape = |p: &LandscapeSummary| p.excess.unwrap_or(p.loss);
        let worst = a
            .landscape
            .iter()
            .zip(&b.landscape)
            .filter(|(x, _)| x.excess.is_none() || x.epsilon != 0.0)
            .map(|(x, y)| {
                let (x_, y_) = (shape(x), shape(y));
                let sigma = x_.error.hypot(y_.error);
                ((y_.value - x_.value).abs() / sigma, x.epsilon)
            })
            .filter(|(d, _)| d.is_finite())
            .fold(
                (0.0f64, f64::NAN),
                |best, d| if d.0 > best.0 { d } else { best },
            );
        let at_zero = |p: &PointSummary| {
            p.landscape
                .iter()
                .find(|l| l.epsilon == 0.0)
                .map_or(Estimate::new(f64::NAN, f64::NAN), |l| l.loss)
        };
        landscape_vs_size.push(SizeComparison {
            layers: n,
            sizes: [a.size, b.size],
            max_deviation: worst.0,
            at_epsilon: worst.1,
            optimum_loss: [at_zero(a), at_zero(b)],
        });
    }
    if points.iter().any(|p| p.runs < 2) {
        notes.push(
            "points with a single run have no error on their means: give replicas >= 2".into(),
        );
    }
    Summary {
        success_margin: SUCCESS_MARGIN,
        points,
        landscape_vs_size,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(accuracy: f64, landscape: &[(f64, f64)]) -> Outcome {
        Outcome {
            loss_curve: vec![0.7, 0.5],
            test_loss: 0.5,
            test_loss_error: 0.01,
            test_accuracy: accuracy,
            hand_loss: 0.1,
            hand_accuracy: 0.9,
            test_positives: 5,
            test_negatives: 5,
            negatives_correct: 5,
            depth_bins: Vec::new(),
            sensitivity: 0.3,
            hand_sensitivity: 0.4,
            neglect: false,
            landscape: landscape
                .iter()
                .map(|&(epsilon, loss)| super::super::train::LandscapePoint {
                    epsilon,
                    loss,
                    error: 0.01,
                })
                .collect(),
            weights: Vec::new(),
            seconds: 0.0,
        }
    }

    /// The landscape's excess is taken run by run, so two sizes whose losses at the optimum
    /// differ but whose landscapes have one shape compare as equal; success counts runs
    /// within the margin of the hand-set accuracy.
    #[test]
    fn landscapes_compare_by_their_shape_and_success_by_the_margin() {
        let small = [
            outcome(0.88, &[(-0.1, 1.3), (0.0, 0.3), (0.1, 1.1)]),
            outcome(0.5, &[(-0.1, 1.5), (0.0, 0.3), (0.1, 1.3)]),
        ];
        let large: Vec<Outcome> = small
            .iter()
            .map(|o| {
                let mut o = o.clone();
                o.landscape.iter_mut().for_each(|p| p.loss += 0.4);
                o
            })
            .collect();
        let points = [
            Point {
                size: 8,
                layers: 4,
                runs: small.iter().collect(),
            },
            Point {
                size: 16,
                layers: 4,
                runs: large.iter().collect(),
            },
        ];
        let s = analyse(&points);
        let p = &s.points[0];
        assert_eq!(p.success.value, 0.5);
        let excess: Vec<f64> = p
            .landscape
            .iter()
            .map(|l| l.excess.as_ref().map_or(f64::NAN, |e| e.value))
            .collect();
        assert!(
            (excess[0] - 1.1).abs() < 1e-12 && excess[1] == 0.0 && (excess[2] - 0.9).abs() < 1e-12,
            "{excess:?}"
        );
        let c = &s.landscape_vs_size[0];
        assert_eq!((c.layers, c.sizes), (4, [8, 16]));
        assert!(c.max_deviation < 1e-9, "{c:?}");
        assert!((c.optimum_loss[1].value - c.optimum_loss[0].value - 0.4).abs() < 1e-12);
    }

    #[test]
    fn fractions_have_honest_errors_at_the_ends() {
        let none = fraction(0, 10);
        assert_eq!(none.value, 0.0);
        assert!(none.error > 0.05, "{none:?}");
        let half = fraction(50, 100);
        // Close to the binomial √(p(1−p)/N) = 0.05 in the bulk.
        assert!((half.error - 0.05).abs() < 0.002, "{half:?}");
    }
}
