//! One maze-testing experiment: train the spreading network on fresh mazes by cross-entropy
//! with Adam, then measure it on held-out mazes against the hand-set breadth-first network.
//!
//! Mazes are drawn with the centre open (conditioning on it: a closed centre is a negative
//! the gate alone settles), and with `balanced` every other training and test maze is a
//! positive (drawn by rejection), so chance is 1/2 and a network that has stopped looking at
//! the maze sits at ln 2. Training mazes are fresh at every step: there is no training set to
//! over-fit. What a run measures:
//! - the test loss and accuracy, and the hand-set network's on the same mazes;
//! - accuracy against breadth-first depth (log bins), where the paper's difficulty lives;
//! - **neglect**: each test maze is re-drawn around the same hot spot (its cell and the
//!   centre kept open); the maze sensitivity is the mean |P(m) − P(m′)| over these pairs. A
//!   run is in a neglect minimum when its sensitivity is below `neglect_threshold` times the
//!   hand-set network's on the same pairs: its output no longer depends on the maze. Runs
//!   that stall above chance while still reading the maze near the hot spot are not counted:
//!   they show in the accuracy against depth instead;
//! - the **loss landscape near the optimum**: the test loss at θ* + ε·gain·δ for each ε of
//!   `landscape`, θ* the hand-set weights at `gain` (the readout bias fit to calibration mazes
//!   drawn apart from the test mazes: [`calibrated_hand`]) and δ one random direction in the
//!   layers' weights (unit RMS per parameter, drawn from the run's stream), to compare across L.

use super::net::{Framed, Net, Scratch, sigmoid};
use super::{Maze, SITE_P_C, distances};
use crate::rng::Stream;
use crate::rsmi::nn::{Adam, normal};
use serde::{Deserialize, Serialize};

/// Points of the training-loss curve a run reports (means over equal chunks of steps).
pub const CURVE_POINTS: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// n: convolution layers.
    pub layers: usize,
    /// Occupation probability of the mazes.
    #[serde(default = "default_p")]
    pub p: f64,
    /// Adam steps, one fresh batch each.
    pub steps: usize,
    #[serde(default = "default_batch")]
    pub batch: usize,
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
    /// Standard deviation of the initial kernel weights (biases start at 0).
    #[serde(default = "default_init_scale")]
    pub init_scale: f64,
    /// Held-out test mazes.
    #[serde(default = "default_test")]
    pub test: usize,
    #[serde(default = "default_true")]
    pub balanced: bool,
    /// Gain of the hand-set network the run is compared with (and the landscape's scale).
    #[serde(default = "default_gain")]
    pub gain: f64,
    /// Offsets ε along the landscape's direction, in units of `gain`.
    #[serde(default = "default_landscape")]
    pub landscape: Vec<f64>,
    #[serde(default = "default_neglect")]
    pub neglect_threshold: f64,
}

fn default_p() -> f64 {
    SITE_P_C
}
fn default_batch() -> usize {
    32
}
fn default_learning_rate() -> f64 {
    0.01
}
fn default_init_scale() -> f64 {
    0.5
}
fn default_test() -> usize {
    1000
}
fn default_true() -> bool {
    true
}
fn default_gain() -> f64 {
    10.0
}
fn default_landscape() -> Vec<f64> {
    vec![-0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2]
}
fn default_neglect() -> f64 {
    0.1
}

impl Settings {
    /// Settings with every default but the three that have none.
    pub fn new(layers: usize, steps: usize) -> Settings {
        Settings {
            layers,
            p: default_p(),
            steps,
            batch: default_batch(),
            learning_rate: default_learning_rate(),
            init_scale: default_init_scale(),
            test: default_test(),
            balanced: true,
            gain: default_gain(),
            landscape: default_landscape(),
            neglect_threshold: default_neglect(),
        }
    }
}

impl Settings {
    /// What is out of bounds in these settings, as (field, why), for input from outside the
    /// sweep file (the wire): the bounds the sweep file enforces, so a worker is never made to
    /// allocate or compute without limit.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let checks: [(bool, &'static str, &str); 10] = [
            (
                (1..=1024).contains(&self.layers),
                "layers",
                "from 1 to 1024",
            ),
            (
                (1..=10_000_000).contains(&self.steps),
                "steps",
                "from 1 to 10^7",
            ),
            ((1..=4096).contains(&self.batch), "batch", "from 1 to 4096"),
            (
                (10..=1_000_000).contains(&self.test),
                "test",
                "from 10 to 10^6",
            ),
            (self.p > 0.0 && self.p <= 1.0, "p", "in (0, 1]"),
            (
                self.learning_rate > 0.0 && self.learning_rate <= 1.0,
                "learning_rate",
                "in (0, 1]",
            ),
            (
                (0.0..=10.0).contains(&self.init_scale),
                "init_scale",
                "from 0 to 10",
            ),
            (self.gain > 0.0 && self.gain <= 100.0, "gain", "in (0, 100]"),
            (
                (0.0..=1.0).contains(&self.neglect_threshold),
                "neglect_threshold",
                "from 0 to 1",
            ),
            (
                !self.landscape.is_empty()
                    && self.landscape.len() <= 64
                    && self
                        .landscape
                        .iter()
                        .all(|x| x.is_finite() && x.abs() <= 10.0),
                "landscape",
                "1 to 64 offsets within ±10",
            ),
        ];
        checks
            .into_iter()
            .find(|(ok, _, _)| !ok)
            .map(|(_, field, range)| (field, format!("must be {range}")))
    }
}

/// Positive test mazes whose breadth-first depth d has d + 1 in [2^k, 2^(k+1)): depths up to
/// `upto` = 2^(k+1) − 2.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DepthBin {
    pub upto: u32,
    pub total: u32,
    pub correct: u32,
    pub hand_correct: u32,
}

/// The test loss at one point of the landscape: mean over test mazes and its standard error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LandscapePoint {
    pub epsilon: f64,
    pub loss: f64,
    pub error: f64,
}

/// What one training run measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Mean training loss over each of [`CURVE_POINTS`] equal chunks of the steps.
    pub loss_curve: Vec<f64>,
    pub test_loss: f64,
    pub test_loss_error: f64,
    pub test_accuracy: f64,
    /// The hand-set network (same n, `gain`, its readout bias fit to calibration mazes of its
    /// own: [`calibrated_hand`]) on the same test mazes.
    pub hand_loss: f64,
    pub hand_accuracy: f64,
    pub test_positives: u32,
    pub test_negatives: u32,
    pub negatives_correct: u32,
    pub depth_bins: Vec<DepthBin>,
    pub sensitivity: f64,
    pub hand_sensitivity: f64,
    pub neglect: bool,
    pub landscape: Vec<LandscapePoint>,
    /// The trained weights (layer-major: 9 kernel weights and a bias each, readout last).
    pub weights: Vec<f64>,
    /// Training wall time from the caller's clock: the one value not reproducible bit for bit.
    pub seconds: f64,
}

/// Mazes with the centre open, alternating positive and negative when balanced: what a
/// training run trains and tests on (and what `rgsweep mazes` exports).
pub struct Source {
    size: usize,
    p: f64,
    balanced: bool,
    want: bool,
}

impl Source {
    /// Mazes of side `size` at occupation `p`; the first is a positive when `balanced`.
    pub fn new(size: usize, p: f64, balanced: bool) -> Source {
        Source {
            size,
            p,
            balanced,
            want: true,
        }
    }

    pub fn next(&mut self, stream: &mut Stream) -> Maze {
        loop {
            let m = Maze::draw(self.size, self.p, stream);
            if !m.open[Maze::centre(self.size)] || (self.balanced && m.label != self.want) {
                continue;
            }
            self.want = !self.want;
            return m;
        }
    }
}

/// The same hot spot in a fresh maze (its cell and the centre open): what a network answers
/// on both differs only through the maze.
fn redraw(m: &Maze, p: f64, stream: &mut Stream) -> Maze {
    let mut open: Vec<bool> = (0..m.open.len()).map(|_| stream.uniform() < p).collect();
    open[m.start] = true;
    open[Maze::centre(m.size)] = true;
    let depth = distances(m.size, &open, m.start)[Maze::centre(m.size)];
    Maze {
        size: m.size,
        open,
        start: m.start,
        label: depth.is_some(),
        depth,
    }
}

/// Mean cross-entropy over `mazes` and its standard error.
fn mean_loss(net: &Net, mazes: &[(Framed, bool)]) -> (f64, f64) {
    let losses: Vec<f64> = mazes
        .iter()
        .map(|(f, y)| {
            let z = net.forward(f).logit;
            let y = if *y { 1.0 } else { 0.0 };
            z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z
        })
        .collect();
    let n = losses.len() as f64;
    let mean = losses.iter().sum::<f64>() / n;
    let var = losses.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

fn depth_bin(depth: u32) -> usize {
    (u64::from(depth) + 1).ilog2() as usize
}

/// Trains one network on mazes of side `size` and measures it. `stream` is the run's own
/// (derived from the sweep seed and the task key); `clock` times the training.
pub fn run(size: usize, s: &Settings, stream: &mut Stream, clock: &dyn Fn() -> f64) -> Outcome {
    let mut init = stream.child("init");
    let mut train = stream.child("train");
    let mut test_stream = stream.child("test");
    let mut direction = stream.child("direction");

    let started = clock();
    let mut net = Net::random(s.layers, s.init_scale, &mut init);
    let mut adam = Adam::new(s.learning_rate);
    let mut source = Source::new(size, s.p, s.balanced);
    let mut curve = [0.0; CURVE_POINTS];
    let mut in_chunk = vec![0usize; CURVE_POINTS];
    let mut grad = vec![0.0; net.theta.len()];
    let weight = 1.0 / s.batch as f64;
    let mut scratch = Scratch::default();
    for step in 0..s.steps {
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for _ in 0..s.batch {
            let m = source.next(&mut train);
            loss += net.backward_with(&Framed::new(&m), m.label, weight, &mut grad, &mut scratch);
        }
        let chunk = step * CURVE_POINTS / s.steps.max(1);
        curve[chunk] += loss / s.batch as f64;
        in_chunk[chunk] += 1;
        adam.step(&mut [&mut net.theta], &[&grad]);
    }
    let seconds = clock() - started;
    let loss_curve = curve
        .iter()
        .zip(&in_chunk)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| c / *n as f64)
        .collect();

    let mut tester = Source::new(size, s.p, s.balanced);
    let mazes: Vec<Maze> = (0..s.test).map(|_| tester.next(&mut test_stream)).collect();
    let framed: Vec<(Framed, bool)> = mazes.iter().map(|m| (Framed::new(m), m.label)).collect();
    let mut calibrate = stream.child("calibrate");
    let mut source = Source::new(size, s.p, s.balanced);
    let calibration: Vec<(Framed, bool)> = (0..s.test)
        .map(|_| {
            let m = source.next(&mut calibrate);
            (Framed::new(&m), m.label)
        })
        .collect();
    let hand = calibrated_hand(s.layers, s.gain, &calibration);
    let (test_loss, test_loss_error) = mean_loss(&net, &framed);
    let (hand_loss, _) = mean_loss(&hand, &framed);

    let mut depth_bins: Vec<DepthBin> = Vec::new();
    let (mut right, mut hand_right, mut negatives_correct) = (0u32, 0u32, 0u32);
    let (mut sensitivity, mut hand_sensitivity) = (0.0, 0.0);
    for (m, (f, label)) in mazes.iter().zip(&framed) {
        let guess = net.predict(f);
        let hand_guess = hand.predict(f);
        let ok = (guess > 0.5) == *label;
        let hand_ok = (hand_guess > 0.5) == *label;
        right += u32::from(ok);
        hand_right += u32::from(hand_ok);
        match m.depth {
            None => negatives_correct += u32::from(ok),
            Some(d) => {
                let k = depth_bin(d);
                while depth_bins.len() <= k {
                    let upto = (1u32 << (depth_bins.len() + 1)) - 2;
                    depth_bins.push(DepthBin {
                        upto,
                        ..DepthBin::default()
                    });
                }
                depth_bins[k].total += 1;
                depth_bins[k].correct += u32::from(ok);
                depth_bins[k].hand_correct += u32::from(hand_ok);
            }
        }
        let other = Framed::new(&redraw(m, s.p, &mut test_stream));
        sensitivity += (guess - net.predict(&other)).abs();
        hand_sensitivity += (hand_guess - hand.predict(&other)).abs();
    }
    let count = mazes.len().max(1) as f64;
    let (sensitivity, hand_sensitivity) = (sensitivity / count, hand_sensitivity / count);
    let positives = mazes.iter().filter(|m| m.label).count() as u32;

    let delta: Vec<f64> = (0..hand.theta.len())
        .map(|k| {
            if k < super::net::PER_LAYER * s.layers {
                normal(&mut direction)
            } else {
                0.0
            }
        })
        .collect();
    let rms = (delta.iter().map(|d| d * d).sum::<f64>()
        / (super::net::PER_LAYER * s.layers).max(1) as f64)
        .sqrt()
        .max(f64::MIN_POSITIVE);
    let landscape = s
        .landscape
        .iter()
        .map(|&epsilon| {
            let mut at = hand.clone();
            for (t, d) in at.theta.iter_mut().zip(&delta) {
                *t += epsilon * s.gain * d / rms;
            }
            let (loss, error) = mean_loss(&at, &framed);
            LandscapePoint {
                epsilon,
                loss,
                error,
            }
        })
        .collect();

    Outcome {
        loss_curve,
        test_loss,
        test_loss_error,
        test_accuracy: f64::from(right) / count,
        hand_loss,
        hand_accuracy: f64::from(hand_right) / count,
        test_positives: positives,
        test_negatives: mazes.len() as u32 - positives,
        negatives_correct,
        depth_bins,
        sensitivity,
        hand_sensitivity,
        neglect: sensitivity < s.neglect_threshold * hand_sensitivity,
        landscape,
        weights: net.theta,
        seconds,
    }
}

/// The hand-set network with its readout bias fit by maximum likelihood (Newton's method, a
/// convex problem in one variable) to `mazes`. Where n layers of breadth-first search leave the
/// centre cold, the best answer is the share of positives among the mazes they leave
/// unsettled, not a confident "no": below the mazes' depths the uncalibrated network's loss is
/// dominated by such confident errors, and it would be no optimum to compare against.
pub fn calibrated_hand(layers: usize, gain: f64, mazes: &[(Framed, bool)]) -> Net {
    let mut net = Net::hand_set(layers, gain);
    // The bias adds to every logit; the centre's activation does not depend on it.
    let logits: Vec<(f64, f64)> = mazes
        .iter()
        .map(|(f, y)| (net.forward(f).logit, f64::from(u8::from(*y))))
        .collect();
    let bound = 4.0 * gain;
    let mut shift = 0.0f64;
    for _ in 0..100 {
        let (mut g, mut h) = (0.0, 0.0);
        for &(z, y) in &logits {
            let p = sigmoid(z + shift);
            g += p - y;
            h += p * (1.0 - p);
        }
        if h <= 0.0 {
            break;
        }
        let step = (g / h).clamp(-1.0, 1.0);
        shift = (shift - step).clamp(-bound, bound);
        if step.abs() < 1e-12 {
            break;
        }
    }
    let r = super::net::PER_LAYER * layers + 1;
    net.theta[r] += shift;
    net
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shallow network learns the task: on 12×12 mazes with n = 4 the trained network
    /// reaches the hand-set network's accuracy within a few points, and is not in a neglect
    /// minimum; a run repeats bit for bit.
    #[test]
    fn a_shallow_network_learns_and_repeats() {
        let mut s = Settings::new(4, 300);
        s.test = 400;
        let go = || run(12, &s, &mut Stream::derive(5, "mazes/train-test"), &|| 0.0);
        let out = go();
        eprintln!(
            "accuracy {} (hand {}), loss {} (hand {}), sensitivity {} (hand {}), curve {:?}",
            out.test_accuracy,
            out.hand_accuracy,
            out.test_loss,
            out.hand_loss,
            out.sensitivity,
            out.hand_sensitivity,
            out.loss_curve
        );
        assert!(out.loss_curve[0] > *out.loss_curve.last().unwrap_or(&0.0));
        assert!(out.test_accuracy > out.hand_accuracy - 0.05, "{out:?}");
        assert!(!out.neglect);
        assert_eq!(out.test_positives, 200);
        assert_eq!(out, go());
    }

    /// A network whose layers are all zero answers σ(b) at every open cell whatever the maze:
    /// its sensitivity is zero, the neglect flag's reference case.
    #[test]
    fn a_blind_network_has_no_sensitivity() {
        let mut s = Stream::derive(6, "blind");
        let mut blind = Net::hand_set(3, 10.0);
        for t in 0..3 {
            for k in 0..9 {
                blind.theta[10 * t + k] = 0.0;
            }
        }
        for _ in 0..50 {
            let m = Maze::draw(9, SITE_P_C, &mut s);
            if !m.open[Maze::centre(9)] {
                continue;
            }
            let other = redraw(&m, SITE_P_C, &mut s);
            let a = blind.predict(&Framed::new(&m));
            let b = blind.predict(&Framed::new(&other));
            assert_eq!(a, b);
        }
    }

    /// The calibrated readout is the maximum-likelihood one: its predictions add up to the
    /// positives it was fit on, it never loses against the uncalibrated readout there, and
    /// below the mazes' depth it turns the confident errors on unsettled positives into the
    /// share of positives among the unsettled mazes.
    #[test]
    fn the_calibrated_readout_is_the_likelihood_optimum() {
        let mut stream = Stream::derive(8, "calibrate-test");
        let mut source = Source::new(12, SITE_P_C, true);
        let mazes: Vec<(Framed, bool)> = (0..400)
            .map(|_| {
                let m = source.next(&mut stream);
                (Framed::new(&m), m.label)
            })
            .collect();
        for n in [1, 3, 40] {
            let fitted = calibrated_hand(n, 10.0, &mazes);
            let sum: f64 = mazes.iter().map(|(f, _)| fitted.predict(f)).sum();
            let positives = mazes.iter().filter(|m| m.1).count() as f64;
            assert!(
                (sum - positives).abs() < 1e-6,
                "n = {n}: {sum} against {positives}"
            );
            let (fit, _) = mean_loss(&fitted, &mazes);
            let (plain, _) = mean_loss(&Net::hand_set(n, 10.0), &mazes);
            assert!(fit <= plain + 1e-12, "n = {n}: {fit} > {plain}");
            if n == 1 {
                assert!(fit < 0.75 && plain > 1.5, "n = 1: {fit} against {plain}");
            }
        }
    }

    #[test]
    fn depth_bins_are_logarithmic() {
        assert_eq!(depth_bin(0), 0);
        assert_eq!(depth_bin(1), 1);
        assert_eq!(depth_bin(2), 1);
        assert_eq!(depth_bin(3), 2);
        assert_eq!(depth_bin(6), 2);
        assert_eq!(depth_bin(7), 3);
    }
}
