//! The test oracle: the observables of one configuration computed from scratch, by
//! breadth-first search rather than union-find, and their exact averages over every
//! configuration of a small torus.
//!
//! Wrapping is found independently of the engine's displacements: the search gives each site
//! of a cluster an unwrapped position; an occupied bond whose ends' positions differ by other
//! than the bond's own step closes a loop that winds around the torus.

use super::{Geometry, Kind};
use std::collections::VecDeque;

/// One configuration's observables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub wrapped: u8,
    pub largest: u64,
    pub sum_squares: u64,
    /// Every cluster's size, sorted.
    pub clusters: Vec<u64>,
}

/// The coordinates of site `i`.
fn coords(g: &Geometry, mut i: usize) -> Vec<i64> {
    (0..g.dim)
        .map(|_| {
            let c = (i % g.size) as i64;
            i /= g.size;
            c
        })
        .collect()
}

fn index(g: &Geometry, c: &[i64]) -> usize {
    c.iter().rev().fold(0, |acc, &x| {
        acc * g.size + x.rem_euclid(g.size as i64) as usize
    })
}

/// The observables of the configuration whose occupied elements (site or bond indices, as the
/// engine numbers them: bond `dim·site + axis` joins `site` to its forward neighbour) are
/// `occupied`.
pub fn state(g: &Geometry, occupied: &[bool]) -> State {
    let sites = g.sites();
    let site_on = |i: usize| match g.kind {
        Kind::Site => occupied[i],
        Kind::Bond => true,
    };
    // Each site's bonds as (neighbour, unwrapped step), occupied ones only.
    let links = |i: usize| -> Vec<(usize, Vec<i64>)> {
        let c = coords(g, i);
        let mut out = Vec::new();
        for axis in 0..g.dim {
            for dir in [1i64, -1] {
                let mut n = c.clone();
                n[axis] += dir;
                let j = index(g, &n);
                let open = match g.kind {
                    Kind::Site => occupied[i] && occupied[j],
                    Kind::Bond => {
                        let from = if dir == 1 { i } else { j };
                        occupied[g.dim * from + axis]
                    }
                };
                if open {
                    let mut step = vec![0; g.dim];
                    step[axis] = dir;
                    out.push((j, step));
                }
            }
        }
        out
    };
    let mut position: Vec<Option<Vec<i64>>> = vec![None; sites];
    let mut wrapped = 0u8;
    let mut clusters = Vec::new();
    for start in 0..sites {
        if !site_on(start) || position[start].is_some() {
            continue;
        }
        position[start] = Some(vec![0; g.dim]);
        let mut queue = VecDeque::from([start]);
        let mut count = 0;
        while let Some(i) = queue.pop_front() {
            count += 1;
            let here = position[i].clone().unwrap_or_default();
            for (j, step) in links(i) {
                let there: Vec<i64> = here.iter().zip(&step).map(|(a, b)| a + b).collect();
                match &position[j] {
                    None => {
                        position[j] = Some(there);
                        queue.push_back(j);
                    }
                    Some(p) => {
                        for k in 0..g.dim {
                            if p[k] != there[k] {
                                wrapped |= 1 << k;
                            }
                        }
                    }
                }
            }
        }
        clusters.push(count);
    }
    clusters.sort_unstable();
    State {
        wrapped,
        largest: clusters.last().copied().unwrap_or(0),
        sum_squares: clusters.iter().map(|s| s * s).sum(),
        clusters,
    }
}

/// Exact averages over all configurations with n occupied elements, n = 0..=N: the
/// observables as polynomials in p are Σ_n B(N, n, p) of these.
#[derive(Clone, Debug, PartialEq)]
pub struct Averages {
    /// Per n: the fraction of configurations wrapping along each axis, then along at least
    /// j = 1..d axes, then ⟨s_max⟩, ⟨s_max²⟩ and ⟨Σ s²⟩ — the order of
    /// [`super::observables`].
    pub by_n: Vec<Vec<f64>>,
}

/// Every configuration of `g` (2^N of them: keep N ≤ 24), averaged at each n.
pub fn enumerate(g: &Geometry) -> Averages {
    let n_total = g.elements();
    assert!(n_total <= 24, "2^{n_total} configurations");
    let observables = 2 * g.dim + 3;
    let mut sums = vec![vec![0.0; observables]; n_total + 1];
    let mut counts = vec![0u64; n_total + 1];
    let mut occupied = vec![false; n_total];
    for mask in 0u64..(1 << n_total) {
        for (k, o) in occupied.iter_mut().enumerate() {
            *o = mask >> k & 1 == 1;
        }
        let n = mask.count_ones() as usize;
        let s = state(g, &occupied);
        counts[n] += 1;
        for (k, row) in values(g.dim, &s).into_iter().enumerate() {
            sums[n][k] += row;
        }
    }
    Averages {
        by_n: sums
            .into_iter()
            .zip(counts)
            .map(|(row, c)| row.into_iter().map(|x| x / c as f64).collect())
            .collect(),
    }
}

/// A state's values in the order of [`super::observables`].
pub fn values(dim: usize, s: &State) -> Vec<f64> {
    let mut v: Vec<f64> = (0..dim).map(|k| f64::from((s.wrapped >> k) & 1)).collect();
    let axes = s.wrapped.count_ones() as usize;
    v.extend((1..=dim).map(|j| f64::from(u8::from(axes >= j))));
    v.push(s.largest as f64);
    v.push((s.largest * s.largest) as f64);
    v.push(s.sum_squares as f64);
    v
}
