//! Swendsen–Wang updates (PRL 58, 86, 1987): activate each bond between equal spins with
//! probability `p = 1 − e^{−β·gap}`, find the clusters, and give every cluster an independent
//! uniformly random state (for Ising: flip each cluster with probability ½).
//!
//! Clusters are found with union–find (path halving, the smaller index becomes the root), and
//! new states are drawn in order of first appearance while scanning sites 0..N, so the random
//! stream is consumed in a fixed order.

use super::SweepStats;
use super::wolff::bond_probability;
use crate::model::Model;
use crate::rng::{Stream, Threshold};

pub(crate) struct Scratch {
    parent: Vec<u32>,
    state: Vec<u8>,
    add: Threshold,
}

const UNASSIGNED: u8 = u8::MAX;

impl Scratch {
    pub(crate) fn new<M: Model>(model: &M, beta: f64) -> Scratch {
        Scratch {
            parent: Vec::new(),
            state: Vec::new(),
            add: Threshold::new(bond_probability(model, beta)),
        }
    }
}

#[inline(always)]
fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

pub(crate) fn sweep<M: Model>(
    model: &M,
    spins: &mut [u8],
    scratch: &mut Scratch,
    stream: &mut Stream,
    stats: &mut SweepStats,
) {
    let lat = model.lattice();
    let n = lat.sites();
    let q = model.states();
    scratch.parent.clear();
    scratch.parent.extend(0..n as u32);
    scratch.state.clear();
    scratch.state.resize(n, UNASSIGNED);
    let parent = &mut scratch.parent;
    let add = scratch.add;
    for i in 0..n {
        let s = spins[i];
        for axis in 0..lat.dim() {
            let j = lat.forward(i, axis);
            if spins[j] == s && add.test(stream) {
                let a = find(parent, i as u32);
                let b = find(parent, j as u32);
                if a != b {
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    parent[hi as usize] = lo;
                }
            }
        }
    }
    let mut clusters = 0u64;
    for (i, spin) in spins.iter_mut().enumerate() {
        let r = find(parent, i as u32) as usize;
        if scratch.state[r] == UNASSIGNED {
            scratch.state[r] = if q == 2 {
                *spin ^ (stream.next_u64() >> 63) as u8
            } else {
                stream.below(u64::from(q)) as u8
            };
            clusters += 1;
        }
        *spin = scratch.state[r];
    }
    stats.clusters += clusters;
    stats.cluster_spins += n as u64;
}
