//! The audit of one coarse-graining step (issue 15): how much a map's coarse spin knows about
//! the block's distant environment (relevance, the quantity RSMI maximises) and about the
//! block itself (compression), measured the same way for every map.
//!
//! Every map here has b = 2: coarse site j reads the 2^d block whose corner is 2·j, and its
//! coarse spin is up with a probability [`Unit::p_up`] of that block alone (majority with a
//! fair coin at a tie, decimation, an RSMI filter, one block-local RBM unit).
//!
//! - **Relevance** I(H : E): one coarse spin per block is drawn, and the plain held-out
//!   estimator of [`crate::rsmi`] (critic only, [`rsmi::Coarse::Identity`] over the one
//!   column H) is trained on (H, E) pairs at RSMI's own geometry: the same buffer, environment,
//!   batch and epochs, block corners on the map's tiling. Being a lower bound trained the
//!   same way for every map, the comparison between maps is fair; RSMI maximises the same
//!   quantity, so no map may beat it beyond errors.
//! - **Compression** I(V : H) of one block: exact for the configurations' empirical block
//!   distribution, since H depends on the 2^d block spins alone (an autoencoder's code too:
//!   its encoder reads the block, [`Unit::Table`]):
//!   I = h(⟨q⟩) − ⟨h(q)⟩ with q = P(up | V) and h the binary entropy. Maps with one rule for
//!   every block pool all blocks; an RBM (its own weights per block) gives I(V : H | block),
//!   the mean over block positions. Jackknife errors over blocks of consecutive
//!   configurations.

use super::flow::RsmiRule;
use crate::rbm::Rbm;
use crate::rng::Stream;
use crate::rsmi::{self, Coarse, Environments, Geometry, Pairs};
use crate::stats::Estimate;
use ndarray::Array2;

/// What a map does to one block.
#[derive(Clone, Copy, Debug)]
pub enum Unit<'a> {
    /// The sign of the block's magnetisation; a tie is a fair coin.
    Majority,
    /// The block's first site.
    Decimation,
    /// An RSMI filter over the block's ±1 spins (row-major, x fastest): H = sign(Λ·V) with a
    /// fair coin at zero, or sampled from σ(Λ·V).
    Filter { weights: &'a [f64], sample: bool },
    /// A block-local RBM layer whose unit j reads coarse site j's block (inputs in the
    /// layer's own order), P(h_j = 1 | v) = σ(b_j + w_j·v) over state bytes v ∈ {0, 1}
    /// (1: spin down). `down[j]`: h_j = 1 means a down coarse spin (the unit's weights favour
    /// down spins), so that the coarse lattice is ferromagnetic and not a random gauge of it.
    Rbm { layer: &'a Rbm, down: &'a [bool] },
    /// One rule for every block given as P(up) per block state: bit k of the index is block
    /// site k's state byte (a convolutional autoencoder's code, [`super::ae_map`]).
    Table { p_up: &'a [f64] },
}

impl Unit<'_> {
    /// P(coarse spin up) for coarse site `j`, whose block's sites in `config` are `sites` (the
    /// block's visible offsets from its corner, in order).
    pub fn p_up(&self, config: &[u8], j: usize, sites: &[usize]) -> f64 {
        let spin = |i: usize| 1.0 - 2.0 * f64::from(config[i]);
        let step = |x: f64| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                0.0
            } else {
                0.5
            }
        };
        match self {
            Unit::Majority => step(sites.iter().map(|&i| spin(i)).sum()),
            Unit::Decimation => step(spin(sites[0])),
            Unit::Filter { weights, sample } => {
                let field: f64 = sites.iter().zip(*weights).map(|(&i, w)| w * spin(i)).sum();
                if *sample {
                    1.0 / (1.0 + (-field).exp())
                } else {
                    step(field)
                }
            }
            Unit::Table { p_up } => {
                let state = sites
                    .iter()
                    .enumerate()
                    .fold(0, |acc, (k, &i)| acc | (usize::from(config[i] & 1) << k));
                // A table of the wrong length is a fair coin, not a panic.
                p_up.get(state).copied().unwrap_or(0.5)
            }
            Unit::Rbm { layer, down } => {
                let p1 = f64::from(layer.unit_probability(config, j));
                if down[j] { 1.0 - p1 } else { p1 }
            }
        }
    }

    /// One rule for every block (pooled compression) or one per block position.
    fn shared(&self) -> bool {
        !matches!(self, Unit::Rbm { .. })
    }
}

/// Coarse site index of a block corner on a lattice of linear size `size` (x fastest).
fn coarse_site(corner: [usize; 3], dim: usize, size: usize) -> usize {
    let half = size / 2;
    (0..dim).rev().fold(0, |j, a| j * half + corner[a] / 2)
}

/// The 2^d block geometry of a lattice of `size` (no buffer or environment).
fn blocks(dim: usize, size: usize) -> Result<Geometry, String> {
    Geometry::new(dim, size, 2, 0, 1).map_err(|e| e.to_string())
}

/// One step of the map on every configuration: coarse states (0 up, 1 down), sites in the
/// coarse lattice's row-major order, drawn from `stream` in (configuration, site) order.
pub fn apply(
    unit: &Unit,
    dim: usize,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
) -> Result<Vec<Vec<u8>>, String> {
    let g = blocks(dim, size)?;
    let offsets = g.visible_offsets();
    let corners = g.corners(2);
    let sites: Vec<Vec<usize>> = corners.iter().map(|&c| g.sites(c, &offsets)).collect();
    Ok(configs
        .iter()
        .map(|c| {
            sites
                .iter()
                .enumerate()
                .map(|(j, s)| {
                    let p = unit.p_up(c, j, s);
                    let up = if p >= 1.0 {
                        true
                    } else if p <= 0.0 {
                        false
                    } else {
                        stream.uniform() < p
                    };
                    u8::from(!up)
                })
                .collect()
        })
        .collect())
}

/// Held-out I(H : E) in nats of `unit` on `configs` (a lattice of `size`), at the geometry and
/// training settings of `rule` with block corners on the map's tiling.
pub fn relevance(
    unit: &Unit,
    rule: &RsmiRule,
    dim: usize,
    size: usize,
    configs: &[Vec<u8>],
    stream: &mut Stream,
) -> Result<Estimate, String> {
    let mut job = rule.job(dim, size).map_err(|e| e.to_string())?;
    // An odd stride would put corners off the map's blocks.
    job.stride = job.stride.next_multiple_of(2);
    let corners = job.corners();
    let offsets = job.geometry.visible_offsets();
    let block_sites: Vec<(usize, Vec<usize>)> = corners
        .iter()
        .map(|&c| (coarse_site(c, dim, size), job.geometry.sites(c, &offsets)))
        .collect();
    let (train_n, val_n, _) = job.split(configs.len());
    let mut draws = stream.child("draw");
    let mut set = |part: &[Vec<u8>]| -> Pairs {
        let refs: Vec<&[u8]> = part.iter().map(Vec::as_slice).collect();
        let e = rsmi::pairs(&refs, &job.geometry, job.encoding, &corners).e;
        let h: Vec<f64> = part
            .iter()
            .flat_map(|c| block_sites.iter().map(move |(j, s)| (c, *j, s)))
            .map(|(c, j, s)| {
                if draws.uniform() < unit.p_up(c, j, s) {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        let rows = h.len();
        Pairs {
            v: Array2::from_shape_vec((rows, 1), h).unwrap_or_else(|_| Array2::zeros((0, 1))),
            e,
        }
    };
    let train = set(&configs[..train_n]);
    let val = set(&configs[train_n..train_n + val_n]);
    let test = set(&configs[train_n + val_n..]);
    if let Environments::Spins(e) = &train.e
        && e.ncols() == 0
    {
        return Err("the environment is empty".into());
    }
    let t = rsmi::train(
        &job.settings,
        &train,
        Some(&val),
        &test,
        Coarse::Identity,
        &mut stream.child("critic"),
        None,
    )
    .map_err(|e| e.to_string())?;
    Ok(Estimate::new(t.mi_nats, t.mi_err))
}

/// Binary entropy in nats.
fn h2(p: f64) -> f64 {
    let term = |x: f64| if x > 0.0 { -x * x.ln() } else { 0.0 };
    term(p) + term(1.0 - p)
}

/// I(V : H) in nats of one block of `configs` (a lattice of `size`) under `unit`, with a
/// jackknife error over `jackknife` blocks of consecutive configurations.
pub fn compression(
    unit: &Unit,
    dim: usize,
    size: usize,
    configs: &[Vec<u8>],
    jackknife: usize,
) -> Result<Estimate, String> {
    let g = blocks(dim, size)?;
    let offsets = g.visible_offsets();
    let sites: Vec<Vec<usize>> = g.corners(2).iter().map(|&c| g.sites(c, &offsets)).collect();
    let positions = sites.len();
    let n = configs.len();
    if n == 0 || positions == 0 {
        return Err("no configurations".into());
    }
    // Per configuration and position: q = P(up | block) and h(q).
    let q: Vec<Vec<f64>> = configs
        .iter()
        .map(|c| {
            sites
                .iter()
                .enumerate()
                .map(|(j, s)| unit.p_up(c, j, s))
                .collect()
        })
        .collect();
    let shared = unit.shared();
    // I over the configurations whose `keep` is true.
    let info = |keep: &dyn Fn(usize) -> bool| -> f64 {
        let mut p = vec![0.0; positions];
        let mut cond = 0.0;
        let mut m = 0usize;
        for (k, row) in q.iter().enumerate() {
            if !keep(k) {
                continue;
            }
            m += 1;
            for (pj, &x) in p.iter_mut().zip(row) {
                *pj += x;
                cond += h2(x);
            }
        }
        let m = m.max(1) as f64;
        let cond = cond / (m * positions as f64);
        let marginal = if shared {
            h2(p.iter().sum::<f64>() / (m * positions as f64))
        } else {
            p.iter().map(|&s| h2(s / m)).sum::<f64>() / positions as f64
        };
        marginal - cond
    };
    let value = info(&|_| true);
    let nb = jackknife.clamp(2, n.max(2));
    let per = n.div_ceil(nb);
    let leave_out: Vec<f64> = (0..n.div_ceil(per))
        .map(|b| info(&|k| k / per != b))
        .collect();
    Ok(Estimate::new(
        value,
        super::couplings::jackknife_error(&leave_out),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent fair spins: every block state equally likely.
    fn random_configs(n: usize, sites: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut s = Stream::derive(seed, "audit-test");
        (0..n)
            .map(|_| (0..sites).map(|_| u8::from(s.uniform() < 0.5)).collect())
            .collect()
    }

    #[test]
    fn compression_of_fair_blocks_matches_counting() {
        // 2×2 blocks of independent fair spins: decimation keeps one bit (ln 2); majority is
        // decided on 10 of 16 states and a coin on the 6 ties: I = ln 2 − (6/16) ln 2.
        let configs = random_configs(400, 64, 3);
        let ln2 = std::f64::consts::LN_2;
        for (unit, exact) in [
            (Unit::Decimation, ln2),
            (Unit::Majority, ln2 * (1.0 - 6.0 / 16.0)),
        ] {
            let c = compression(&unit, 2, 8, &configs, 10).expect("measures");
            // The plug-in estimate of the block distribution over 400 × 16 blocks: a few
            // standard errors, and the error itself must be of the sampling order.
            assert!(
                (c.value - exact).abs() < 4.0 * c.error + 1e-3,
                "{unit:?}: {c:?} vs {exact}"
            );
            assert!(c.error < 0.02, "{c:?}");
        }
        // A filter with all weights equal is majority's sign rule.
        let w = [1.0; 4];
        let f = compression(
            &Unit::Filter {
                weights: &w,
                sample: false,
            },
            2,
            8,
            &configs,
            10,
        );
        let m = compression(&Unit::Majority, 2, 8, &configs, 10);
        assert_eq!(f, m);
        // Majority as a table over the 16 block states (bit k: site k down).
        let table: Vec<f64> = (0..16u32)
            .map(|s| match s.count_ones() {
                0 | 1 => 1.0,
                2 => 0.5,
                _ => 0.0,
            })
            .collect();
        let t = compression(&Unit::Table { p_up: &table }, 2, 8, &configs, 10);
        assert_eq!(t, m);
        let (mut a, mut b) = (Stream::derive(1, "t"), Stream::derive(1, "t"));
        assert_eq!(
            apply(&Unit::Table { p_up: &table }, 2, 8, &configs, &mut a),
            apply(&Unit::Majority, 2, 8, &configs, &mut b)
        );
    }

    #[test]
    fn apply_matches_the_maps() {
        let configs = random_configs(5, 64, 4);
        let mut a = Stream::derive(1, "x");
        let mut b = Stream::derive(1, "x");
        let ours = apply(&Unit::Decimation, 2, 8, &configs, &mut a).expect("applies");
        for (c, o) in configs.iter().zip(&ours) {
            let theirs = super::super::maps::coarse_grain(
                super::super::maps::Map::Decimation,
                2,
                8,
                c,
                &mut b,
            );
            assert_eq!(&theirs, o);
        }
    }

    #[test]
    fn relevance_of_independent_spins_is_zero_and_of_a_copy_is_positive() {
        // Independent spins: the block says nothing about its environment.
        let rule = RsmiRule {
            max_epochs: 8,
            ..RsmiRule::default()
        };
        let configs = random_configs(300, 256, 5);
        let r = relevance(
            &Unit::Majority,
            &rule,
            2,
            16,
            &configs,
            &mut Stream::derive(2, "r"),
        )
        .expect("measures");
        assert!(r.value.abs() < 4.0 * r.error + 0.01, "{r:?}");
        // Uniform configurations (all up or all down): H is the environment's one bit.
        let mut s = Stream::derive(6, "uniform");
        let uniform: Vec<Vec<u8>> = (0..300)
            .map(|_| vec![u8::from(s.uniform() < 0.5); 256])
            .collect();
        let r = relevance(
            &Unit::Decimation,
            &rule,
            2,
            16,
            &uniform,
            &mut Stream::derive(2, "r"),
        )
        .expect("measures");
        let ln2 = std::f64::consts::LN_2;
        assert!(
            r.value > 0.8 * ln2 && r.value < ln2 + 4.0 * r.error,
            "{r:?}"
        );
    }
}
