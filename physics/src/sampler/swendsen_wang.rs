//! Swendsen–Wang updates (PRL 58, 86, 1987): activate each bond between equal spins with
//! probability `p = 1 − e^{−β·gap}`, find the clusters, and give every cluster an independent
//! uniformly random state (for Ising: flip each cluster with probability ½).
//!
//! Clusters are grown one at a time from the lowest unvisited site, and a bond is tested only
//! when growth reaches it with its far end unvisited. That is the same distribution as testing
//! every bond first: a bond inside a cluster does not change the partition, and a bond between
//! two clusters was tested, and failed, when the earlier cluster reached it. The growth loop is
//! branch-free like Wolff's (every neighbour draws 32 bits); it replaced a union–find over all
//! bonds and measured ~1.5× faster at T_c. Sites are scanned and clusters grown in a fixed
//! order, so the random stream is consumed deterministically.

use super::SweepStats;
use super::wolff::bond_probability;
use crate::model::Model;
use crate::rng::{NeighbourDraws, Stream, Threshold};

pub(crate) struct Scratch {
    queue: Vec<u32>,
    add: Threshold,
}

/// Marks a site as already in a cluster during a sweep. States are below 64, so a marked
/// site never equals an unmarked state and the "unvisited and equal" test is one comparison,
/// with no separate visited array to load and store.
const MARK: u8 = 0x80;

impl Scratch {
    pub(crate) fn new<M: Model>(model: &M, beta: f64) -> Scratch {
        Scratch {
            // Sized on first use, so chains of other algorithms do not pay for it.
            queue: Vec::new(),
            add: Threshold::new(bond_probability(model, beta)),
        }
    }
}

pub(crate) fn sweep<M: Model>(
    model: &M,
    spins: &mut [u8],
    scratch: &mut Scratch,
    original: &mut Stream,
    stats: &mut SweepStats,
) {
    // A local copy of the stream stays in registers; it is written back at the end.
    let mut local = original.clone();
    let stream = &mut local;
    let lat = model.lattice();
    let z = lat.coordination();
    let n = lat.sites();
    let q = model.states();
    let add = scratch.add;
    let room = n + lat.coordination() + 1;
    if scratch.queue.len() < room {
        scratch.queue.resize(room, 0);
    }
    let queue = &mut scratch.queue[..];
    let mut clusters = 0u64;
    for start in 0..n {
        if spins[start] & MARK != 0 {
            continue;
        }
        clusters += 1;
        let old = spins[start];
        let new = if q == 2 {
            old ^ (stream.next_u64() >> 63) as u8
        } else {
            stream.below(u64::from(q)) as u8
        };
        let new = new | MARK;
        spins[start] = new;
        // Breadth-first: the next site comes from the queue's head, written long before, so
        // the loop does not wait on the push it just made (a stack measured ~30% slower).
        queue[0] = start as u32;
        let (mut head, mut tail) = (0usize, 1usize);
        while head < tail {
            let i = queue[head] as usize;
            head += 1;
            let mut draws = NeighbourDraws::new(stream, z);
            lat.for_each_neighbour(i, |j| {
                let r = draws.next();
                let here = spins[j];
                let joins = (here == old) & add.test_with(r, stream);
                spins[j] = if joins { new } else { here };
                queue[tail] = j as u32;
                tail += usize::from(joins);
            });
        }
    }
    for s in spins.iter_mut() {
        *s &= !MARK;
    }
    stats.clusters += clusters;
    stats.cluster_spins += n as u64;
    *original = local;
}
