//! Wolff single-cluster updates (Wolff, PRL 62, 361, 1989), for Potts-type models: grow a
//! cluster of equal spins from a random seed, adding each equal neighbour with probability
//! `p = 1 − e^{−β·gap}`, and move the whole cluster to a new state (a flip for Ising, uniform
//! among the other q − 1 for Potts).
//!
//! A site is marked as visited by taking the new state as it joins, so no separate mark array.
//! The growth loop is branch-free: whether a neighbour joins is a coin flip the branch predictor
//! cannot learn, so every neighbour draws 32 random bits and is pushed (or not) arithmetically.
//! That spends a few random bits on neighbours that could never join, and saved ~25% per spin.

use super::{SweepStats, other_state};
use crate::model::Model;
use crate::rng::{NeighbourDraws, Stream, Threshold};

pub(crate) struct Scratch {
    /// Room for every site plus one speculative push per neighbour.
    stack: Vec<u32>,
    add: Threshold,
}

impl Scratch {
    pub(crate) fn new<M: Model>(model: &M, beta: f64) -> Scratch {
        Scratch {
            // Sized on first use, so chains of other algorithms do not pay for it.
            stack: Vec::new(),
            add: Threshold::new(bond_probability(model, beta)),
        }
    }
}

/// Fortuin–Kasteleyn bond probability between equal neighbours.
pub(crate) fn bond_probability<M: Model>(model: &M, beta: f64) -> f64 {
    -(-beta * model.gap() as f64).exp_m1()
}

/// Builds and flips one cluster; returns its size.
pub(crate) fn cluster<M: Model>(
    model: &M,
    spins: &mut [u8],
    scratch: &mut Scratch,
    stream: &mut Stream,
) -> u64 {
    let lat = model.lattice();
    let seed = stream.below(lat.sites() as u64) as usize;
    let old = spins[seed];
    let new = other_state(old, model.states(), stream);
    spins[seed] = new;
    let room = lat.sites() + lat.coordination() + 1;
    if scratch.stack.len() < room {
        scratch.stack.resize(room, 0);
    }
    let stack = &mut scratch.stack[..];
    stack[0] = seed as u32;
    let mut top = 1usize;
    let mut size = 1u64;
    let add = scratch.add;
    let z = lat.coordination();
    while top > 0 {
        top -= 1;
        let i = stack[top] as usize;
        let mut draws = NeighbourDraws::new(stream, z);
        lat.for_each_neighbour(i, |j| {
            let here = spins[j];
            let r = draws.next();
            let joins = (here == old) & add.test_with(r, stream);
            spins[j] = if joins { new } else { here };
            stack[top] = j as u32;
            top += usize::from(joins);
            size += u64::from(joins);
        });
    }
    size
}

/// One sweep-equivalent. With `clusters = None` (thermalisation), clusters are built until at
/// least N spins have flipped; with `Some(k)`, exactly k clusters.
///
/// Measurements must use a fixed k: stopping after a flipped-spin total makes the stopping time
/// depend on the configuration, and the configurations seen at such times are not Boltzmann
/// distributed (on a 4×4 lattice at T = 2 it biased the energy by 100 standard errors).
pub(crate) fn sweep<M: Model>(
    model: &M,
    spins: &mut [u8],
    scratch: &mut Scratch,
    original: &mut Stream,
    stats: &mut SweepStats,
    clusters: Option<u64>,
) {
    let n = model.lattice().sites() as u64;
    let mut flipped = 0u64;
    // A local copy of the stream stays in registers; it is written back below.
    let mut local = original.clone();
    let stream = &mut local;
    match clusters {
        None => {
            while flipped < n {
                flipped += cluster(model, spins, scratch, stream);
                stats.clusters += 1;
            }
        }
        Some(k) => {
            for _ in 0..k {
                flipped += cluster(model, spins, scratch, stream);
            }
            stats.clusters += k;
        }
    }
    stats.cluster_spins += flipped;
    *original = local;
}
