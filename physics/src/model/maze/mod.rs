//! Maze testing (Ringel & de Bem, ICLR 2018, arXiv:1802.02154): a maze is an L×L image of
//! site percolation at p (open boundaries, default the square lattice's p_c), with a hot spot
//! on an open cell; its label says whether the hot spot's cluster contains the maze's centre,
//! and its depth is the breadth-first distance (shortest path along open cells) from the hot
//! spot to the centre. A network of n layers, each a 3×3 convolution of the previous hot-spot
//! image gated by the maze, can spread the hot spot one step per layer: [`HandSet`] holds
//! weights that do exactly that, so it labels every maze correctly once n reaches its depth.

pub mod analysis;
mod net;
pub mod train;

pub use net::{Framed, Net, Pass, Scratch, sigmoid};

use crate::rng::Stream;
use std::collections::VecDeque;

/// The square lattice's site p_c (Jacobsen 2015), the mazes' default.
pub const SITE_P_C: f64 = 0.592_746_050_792_1;

/// One maze-testing sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Maze {
    pub size: usize,
    /// Row-major, `true` where a cell is open.
    pub open: Vec<bool>,
    /// The hot spot: an open cell drawn uniformly among the open ones.
    pub start: usize,
    /// Whether the hot spot's cluster contains the centre (L/2, L/2).
    pub label: bool,
    /// The shortest path from the hot spot to the centre along open cells, if there is one.
    pub depth: Option<u32>,
}

impl Maze {
    /// The centre cell, (L/2, L/2).
    pub fn centre(size: usize) -> usize {
        (size / 2) * size + size / 2
    }

    /// A maze at occupation `p` (cells redrawn in the rare case none is open).
    pub fn draw(size: usize, p: f64, stream: &mut Stream) -> Maze {
        loop {
            let open: Vec<bool> = (0..size * size).map(|_| stream.uniform() < p).collect();
            let cells: Vec<usize> = (0..open.len()).filter(|&i| open[i]).collect();
            if cells.is_empty() {
                continue;
            }
            let start = cells[stream.below(cells.len() as u64) as usize];
            let depth = distances(size, &open, start)[Maze::centre(size)];
            return Maze {
                size,
                open,
                start,
                label: depth.is_some(),
                depth,
            };
        }
    }
}

/// Breadth-first distances from `start` along open cells (4 neighbours, open boundaries).
pub fn distances(size: usize, open: &[bool], start: usize) -> Vec<Option<u32>> {
    let mut dist = vec![None; open.len()];
    if !open[start] {
        return dist;
    }
    dist[start] = Some(0);
    let mut queue = VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        let d = dist[i].unwrap_or(0);
        let (x, y) = (i % size, i / size);
        let mut visit = |j: usize| {
            if open[j] && dist[j].is_none() {
                dist[j] = Some(d + 1);
                queue.push_back(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < size {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - size);
        }
        if y + 1 < size {
            visit(i + size);
        }
    }
    dist
}

/// The mean breadth-first depth of the positive mazes (label true) among `mazes`, with its
/// standard error: across sizes it grows as L^d_min.
pub fn mean_depth(mazes: &[Maze]) -> Option<crate::stats::Estimate> {
    let d: Vec<f64> = mazes
        .iter()
        .filter_map(|m| m.depth)
        .map(f64::from)
        .collect();
    if d.len() < 2 {
        return None;
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    Some(crate::stats::Estimate::new(
        mean,
        crate::stats::std_dev(&d) / n.sqrt(),
    ))
}

/// d_min from the mean depth of positive mazes at several sizes: the slope of ln⟨ℓ⟩ against
/// ln L (weighted by the means' errors), with the fit's error scaled by √(χ²/dof) when above 1.
/// `sizes[k]` is the side of the mazes whose mean depth is `means[k]`.
pub fn depth_dimension(
    sizes: &[usize],
    means: &[crate::stats::Estimate],
) -> Option<crate::stats::Estimate> {
    let x: Vec<f64> = sizes.iter().map(|&l| (l as f64).ln()).collect();
    let y: Vec<f64> = means.iter().map(|e| e.value.ln()).collect();
    let s: Vec<f64> = means.iter().map(|e| e.error / e.value).collect();
    let f = crate::stats::fit_line(&x, &y, &s)?;
    let scale = f.chi2_per_dof().map_or(1.0, |q| q.max(1.0).sqrt());
    Some(crate::stats::Estimate::new(f.slope, f.slope_error * scale))
}

/// The spreading network with hand-set weights: layer t + 1 is
/// H' = maze ⊙ σ(g·(K ∗ H − ½)) with the plus-shaped 3×3 kernel K (centre and its four
/// neighbours 1, corners 0), zero padding and gain g. A cell turns hot when it is open and it
/// or a neighbour was hot: breadth-first search, one step per layer, exact as g → ∞ (at
/// g = 40 a hot cell holds 1 − 2·10⁻⁹, a cold one 2·10⁻⁹, over 10⁴ layers).
#[derive(Clone, Copy, Debug)]
pub struct HandSet {
    pub gain: f64,
}

impl HandSet {
    /// The 3×3 kernel, row-major.
    pub const KERNEL: [f64; 9] = [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    pub const BIAS: f64 = -0.5;

    /// The network of `layers` layers with these weights.
    pub fn net(&self, layers: usize) -> Net {
        Net::hand_set(layers, self.gain)
    }

    /// The network's answer: the centre hot after `layers` layers.
    pub fn classify(&self, maze: &Maze, layers: usize) -> bool {
        self.net(layers).predict(&Framed::new(maze)) > 0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mazes(size: usize, count: usize) -> Vec<Maze> {
        let mut s = Stream::derive(16, &format!("mazes/{size}"));
        (0..count)
            .map(|_| Maze::draw(size, SITE_P_C, &mut s))
            .collect()
    }

    #[test]
    fn depths_are_shortest_paths() {
        // Against a plain relaxation: d(i) = min over open neighbours of d + 1.
        for m in mazes(9, 200) {
            let d = distances(m.size, &m.open, m.start);
            let l = m.size;
            for i in 0..l * l {
                let (x, y) = (i % l, i / l);
                let mut nbrs = Vec::new();
                if x > 0 {
                    nbrs.push(i - 1);
                }
                if x + 1 < l {
                    nbrs.push(i + 1);
                }
                if y > 0 {
                    nbrs.push(i - l);
                }
                if y + 1 < l {
                    nbrs.push(i + l);
                }
                let best = nbrs.iter().filter_map(|&j| d[j]).min();
                match d[i] {
                    Some(0) => assert_eq!(i, m.start),
                    Some(v) => assert_eq!(Some(v - 1), best, "maze {:?} cell {i}", m.open),
                    None => assert!(!m.open[i] || best.is_none()),
                }
            }
            assert_eq!(m.label, m.depth.is_some());
        }
    }

    /// The depths grow as L^d_min (REFERENCE.md §7: d_min = 1.13077, Zhou, Yang, Deng & Ziff
    /// 2012): within 3% and 3 errors, from 20,000 mazes at each of L = 33, 65, 129, 257 at p_c.
    /// `cargo test --release -p rgsweep-physics --lib depth -- --ignored`; the numbers are in
    /// issue 16's note.
    #[test]
    #[ignore = "about 30 s in release"]
    fn the_depths_grow_with_the_shortest_path_dimension() {
        let sizes = [33usize, 65, 129, 257];
        let means: Vec<_> = sizes
            .iter()
            .map(|&l| mean_depth(&mazes(l, 20_000)).expect("positives"))
            .collect();
        for (l, e) in sizes.iter().zip(&means) {
            eprintln!("L = {l}: mean depth of positive mazes {e}");
        }
        let d = depth_dimension(&sizes, &means).expect("a fit");
        eprintln!("d_min = {d} (1.13077)");
        assert!((d.value / 1.13077 - 1.0).abs() < 0.03, "{d}");
        assert!(d.deviation(1.13077) < 3.0, "{d}");
    }

    /// The hand-set network is breadth-first search: right on every maze once n ≥ its depth,
    /// and at every n its accuracy is the fraction of mazes it can settle by then (the
    /// negatives, whose centre it never reaches, and the positives with depth ≤ n).
    #[test]
    fn the_hand_set_network_solves_every_maze_deep_enough() {
        let ms = mazes(15, 300);
        let net = HandSet { gain: 40.0 };
        let deepest = ms.iter().filter_map(|m| m.depth).max().unwrap_or(0) as usize;
        assert!(deepest > 5, "some long paths: {deepest}");
        for n in [0, 1, 2, 4, 8, 16, deepest] {
            let right = ms.iter().filter(|m| net.classify(m, n) == m.label).count();
            let settled = ms
                .iter()
                .filter(|m| m.depth.is_none_or(|d| d as usize <= n))
                .count();
            assert_eq!(right, settled, "n = {n}");
        }
        assert!(ms.iter().all(|m| net.classify(m, deepest) == m.label));
        assert!(ms.iter().any(|m| m.label) && ms.iter().any(|m| !m.label));
    }
}
