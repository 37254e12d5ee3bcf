//! Interacting close-packed dimers on the L×L square torus (REFERENCE.md §5).
//!
//! E = v·N_∥, N_∥ the number of plaquettes holding two parallel dimers; v = −1 aligns them and
//! T is in units of |v|. Below T_KT ≈ 0.65 the dimers crystallise in columns; above, a critical
//! phase whose long-wavelength theory is a height (Coulomb gas) field whose gradient, the
//! "electric field", RSMI is to discover.
//!
//! A configuration is the occupation of the 2N bonds: bond `2i` joins site i to its +x
//! neighbour, bond `2i + 1` to its +y neighbour (each bond stored once, so RSMI's image encoding
//! is a relabelling). Sites are `i = x + L·y`. The samplers ([`worm`]: directed loops, which
//! change the winding sector; [`plaquette`]: flips of parallel pairs, which do not) keep the
//! occupations only; everything else is derived.
//!
//! Module map: this file (configuration, energy, observables), [`worm`], [`plaquette`],
//! [`exact`] (every covering of a small torus, for the tests that hold the samplers to it).

pub mod analysis;
pub mod coarse;
pub mod exact;
pub mod image;
pub mod plaquette;
pub mod worm;

use crate::rng::Stream;

/// Directions at a site: +x, +y, −x, −y.
pub const DIRECTIONS: usize = 4;

/// The named series a dimer task measures besides the energy (see [`Sample`]): the staggered
/// sums D_x, D_y of the columnar order parameter and the winding numbers W_x, W_y.
pub const OBSERVABLES: [&str; 4] = ["columnar_x", "columnar_y", "winding_x", "winding_y"];

/// One replica's series: its energies and its [`OBSERVABLES`], in that order, by name.
pub fn series(energy: Vec<i64>, named: [Vec<i64>; 4]) -> crate::analysis::Series {
    crate::analysis::Series {
        energy,
        order: Vec::new(),
        named: OBSERVABLES
            .iter()
            .zip(named)
            .map(|(name, values)| crate::analysis::Named {
                name: (*name).to_string(),
                values,
            })
            .collect(),
    }
}

/// How a chain is updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    Worm(worm::Exits),
    Plaquette,
}

/// One replica's measurements: the energy v·N_∥ and the [`OBSERVABLES`], one value per
/// measurement; and the work done.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    pub energy: Vec<i64>,
    pub named: [Vec<i64>; 4],
    /// Worm pivot steps or plaquette attempts, thermalisation included.
    pub updates: u64,
    /// Worms built (0 for plaquette flips).
    pub worms: u64,
    /// The kept configurations as images ([`image`]), evenly spaced over the measurements.
    pub images: Vec<Vec<u8>>,
}

/// When a replica measures: `thermalize` sweeps, then `measurements` measurements each
/// `interval` sweeps apart, keeping `keep` of them (evenly spaced) as images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub thermalize: u64,
    pub measurements: u64,
    pub interval: u64,
    pub keep: u64,
}

/// One replica from the columnar state, on `schedule`. A sweep is N plaquette attempts, or for
/// the worm about N pivot steps: during thermalisation worms until N steps are done, after it a
/// fixed number of worms, N over their mean length then (rounded, at least 1) — fixed, as for
/// Wolff's clusters, so a measurement's timing does not depend on the configuration it
/// measures. Kept images draw their decoy bits and their random lattice symmetry
/// ([`Dimers::symmetrised_image`]) from `decoys`, a stream of their own, so the chain is the
/// same whether images are kept or not.
pub fn simulate(
    l: usize,
    v: i64,
    beta: f64,
    update: Update,
    schedule: Schedule,
    rng: &mut Stream,
    decoys: &mut Stream,
) -> Result<Run, DimerError> {
    let Schedule {
        thermalize,
        measurements,
        interval,
        keep,
    } = schedule;
    let mut d = Dimers::columnar(l, v as f64)?;
    let n = d.sites() as u64;
    let mut run = Run::default();
    let every = measurements
        .checked_div(keep)
        .map_or(u64::MAX, |e| e.max(1));
    let mut measured = 0u64;
    let mut record = |d: &Dimers, run: &mut Run| {
        measured += 1;
        if measured.is_multiple_of(every) && (run.images.len() as u64) < keep {
            run.images.push(d.symmetrised_image(decoys));
        }
        let s = d.sample();
        run.energy.push(v * s.parallel);
        for (k, x) in [s.columnar[0], s.columnar[1], s.winding[0], s.winding[1]]
            .into_iter()
            .enumerate()
        {
            run.named[k].push(x);
        }
    };
    match update {
        Update::Worm(exits) => {
            let w = worm::Worm::new(v as f64, beta, exits);
            let (mut steps, mut worms) = (0u64, 0u64);
            for _ in 0..thermalize {
                let target = steps + n;
                while steps < target {
                    steps += w.step(&mut d, rng).0;
                    worms += 1;
                }
            }
            let per_sweep = if worms == 0 {
                1
            } else {
                ((n as f64 * worms as f64 / steps.max(1) as f64).round() as u64).max(1)
            };
            for _ in 0..measurements {
                let s = w.run(&mut d, rng, per_sweep * interval);
                steps += s.steps;
                worms += s.worms;
                record(&d, &mut run);
            }
            run.updates = steps;
            run.worms = worms;
        }
        Update::Plaquette => {
            let p = plaquette::Plaquette::new(v as f64, beta);
            for _ in 0..thermalize {
                p.sweep(&mut d, rng);
            }
            for _ in 0..measurements {
                for _ in 0..interval {
                    p.sweep(&mut d, rng);
                }
                record(&d, &mut run);
            }
            run.updates = n * (thermalize + measurements * interval);
        }
    }
    Ok(run)
}

/// Close-packed dimers on an L×L torus and their interaction.
#[derive(Clone, Debug, PartialEq)]
pub struct Dimers {
    l: usize,
    /// Bond occupations (0 or 1), `2i + axis`.
    occ: Vec<u8>,
    /// The interaction v per parallel plaquette.
    v: f64,
}

/// One configuration's observables, all integers so that sums over a run are exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sample {
    /// Plaquettes holding two parallel dimers.
    pub parallel: i64,
    /// Staggered sums D_x = Σ (−1)^x n_x(r) and D_y = Σ (−1)^y n_y(r): the columnar order
    /// parameter is (2/N)·(D_x, D_y), of length 1 in each of the four columnar states.
    pub columnar: [i64; 2],
    /// Winding numbers: the electric flux through a cut across x and across y.
    pub winding: [i64; 2],
}

impl Sample {
    /// |M_col|² = (2/N)²(D_x² + D_y²).
    pub fn columnar_sq(&self, sites: usize) -> f64 {
        let [dx, dy] = self.columnar;
        let scale = 2.0 / sites as f64;
        scale * scale * (dx * dx + dy * dy) as f64
    }
}

/// Why a lattice cannot hold the model.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DimerError {
    #[error(
        "dimer2d needs an even L of at least 4 (a plaquette's bonds must be distinct), not {0}"
    )]
    Size(usize),
}

impl Dimers {
    /// The columnar state with every dimer horizontal on even x: a valid start at any T.
    pub fn columnar(l: usize, v: f64) -> Result<Dimers, DimerError> {
        if l < 4 || !l.is_multiple_of(2) {
            return Err(DimerError::Size(l));
        }
        let mut occ = vec![0u8; 2 * l * l];
        for y in 0..l {
            for x in (0..l).step_by(2) {
                occ[2 * (x + l * y)] = 1;
            }
        }
        Ok(Dimers { l, occ, v })
    }

    /// A configuration from its bond occupations; `None` unless every site is covered once.
    pub fn from_bonds(l: usize, occ: Vec<u8>, v: f64) -> Option<Dimers> {
        let d = Dimers { l, occ, v };
        (l >= 4 && l.is_multiple_of(2) && d.occ.len() == 2 * l * l && d.is_covering()).then_some(d)
    }

    pub fn size(&self) -> usize {
        self.l
    }

    pub fn sites(&self) -> usize {
        self.l * self.l
    }

    pub fn interaction(&self) -> f64 {
        self.v
    }

    /// The bond occupations, `2i + axis`.
    pub fn bonds(&self) -> &[u8] {
        &self.occ
    }

    /// The neighbour of site `i` in direction `dir` (+x, +y, −x, −y).
    #[inline]
    pub fn neighbour(&self, i: usize, dir: usize) -> usize {
        let l = self.l;
        let (x, y) = (i % l, i / l);
        match dir {
            0 => (x + 1) % l + l * y,
            1 => x + l * ((y + 1) % l),
            2 => (x + l - 1) % l + l * y,
            _ => x + l * ((y + l - 1) % l),
        }
    }

    /// The bond from site `i` in direction `dir`.
    #[inline]
    pub fn bond(&self, i: usize, dir: usize) -> usize {
        match dir {
            0 => 2 * i,
            1 => 2 * i + 1,
            2 => 2 * self.neighbour(i, 2),
            _ => 2 * self.neighbour(i, 3) + 1,
        }
    }

    /// Occupied bonds opposite `bond` across its two plaquettes: the parallel dimers a dimer on
    /// it would pair with (0, 1 or 2).
    #[inline]
    pub fn parallel_to(&self, bond: usize) -> u8 {
        let i = bond / 2;
        if bond.is_multiple_of(2) {
            self.occ[2 * self.neighbour(i, 1)] + self.occ[2 * self.neighbour(i, 3)]
        } else {
            self.occ[2 * self.neighbour(i, 0) + 1] + self.occ[2 * self.neighbour(i, 2) + 1]
        }
    }

    /// The direction of the dimer covering `i` (the first occupied bond if the site is, during
    /// a worm, covered twice, skipping `except`).
    #[inline]
    pub fn dimer_at(&self, i: usize, except: Option<usize>) -> Option<usize> {
        (0..DIRECTIONS).find(|&d| Some(d) != except && self.occ[self.bond(i, d)] == 1)
    }

    fn is_covering(&self) -> bool {
        (0..self.sites()).all(|i| {
            (0..DIRECTIONS)
                .map(|d| u32::from(self.occ[self.bond(i, d)]))
                .sum::<u32>()
                == 1
        })
    }

    /// Energy E = v·N_∥.
    pub fn energy(&self) -> f64 {
        self.v * self.parallel() as f64
    }

    /// N_∥: each parallel pair is seen from both of its bonds.
    pub fn parallel(&self) -> i64 {
        let twice: u64 = (0..self.occ.len())
            .filter(|&b| self.occ[b] == 1)
            .map(|b| u64::from(self.parallel_to(b)))
            .sum();
        (twice / 2) as i64
    }

    /// The flux of the staggered field through the cut between columns x and x+1 (`axis` 0)
    /// or rows y and y+1 (`axis` 1). The same for every cut (a test checks it): the field is
    /// divergence-free on a covering.
    pub fn winding_at(&self, axis: usize, cut: usize) -> i64 {
        let l = self.l;
        (0..l)
            .map(|k| {
                let (x, y) = if axis == 0 { (cut, k) } else { (k, cut) };
                let sign = if (x + y) % 2 == 0 { 1 } else { -1 };
                sign * i64::from(self.occ[2 * (x + l * y) + axis])
            })
            .sum()
    }

    /// Every observable of this configuration.
    pub fn sample(&self) -> Sample {
        let l = self.l;
        let mut columnar = [0i64; 2];
        for y in 0..l {
            for x in 0..l {
                let i = x + l * y;
                let sx = if x % 2 == 0 { 1 } else { -1 };
                let sy = if y % 2 == 0 { 1 } else { -1 };
                columnar[0] += sx * i64::from(self.occ[2 * i]);
                columnar[1] += sy * i64::from(self.occ[2 * i + 1]);
            }
        }
        Sample {
            parallel: self.parallel(),
            columnar,
            winding: [self.winding_at(0, 0), self.winding_at(1, 0)],
        }
    }

    /// ⟨n_x(0) n_x(r x̂)⟩-type products along x, summed over all origins: `out[r]` gets
    /// Σ_i n_x(i) n_x(i + r x̂) for r < L/2 + 1 (the dimer–dimer correlation along an axis).
    pub fn add_correlations(&self, out: &mut [u64]) {
        let l = self.l;
        for y in 0..l {
            for x in 0..l {
                if self.occ[2 * (x + l * y)] == 0 {
                    continue;
                }
                for (r, o) in out.iter_mut().enumerate().take(l / 2 + 1) {
                    *o += u64::from(self.occ[2 * ((x + r) % l + l * y)]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_columnar_state_is_a_covering_with_unit_order_and_no_winding() {
        let d = Dimers::columnar(6, -1.0).expect("even");
        assert!(d.is_covering());
        let s = d.sample();
        assert_eq!(s.columnar_sq(d.sites()), 1.0);
        assert_eq!(s.winding, [0, 0]);
        // Every plaquette with its bottom on even x holds a horizontal pair: L/2 per row.
        assert_eq!(s.parallel, 18);
        assert_eq!(d.energy(), -18.0);
        assert_eq!(Dimers::columnar(5, -1.0), Err(DimerError::Size(5)));
        assert_eq!(Dimers::columnar(2, -1.0), Err(DimerError::Size(2)));
    }

    #[test]
    fn the_staggered_state_winds_as_far_as_a_covering_can() {
        // Horizontal dimers at (x, y) with x ≡ y (mod 2): the flux L/2 through every cut.
        let l = 6;
        let mut occ = vec![0u8; 2 * l * l];
        for y in 0..l {
            for x in 0..l {
                if (x + y) % 2 == 0 {
                    occ[2 * (x + l * y)] = 1;
                }
            }
        }
        let d = Dimers::from_bonds(l, occ, -1.0).expect("a covering");
        for cut in 0..l {
            assert_eq!(d.winding_at(0, cut), 3);
            assert_eq!(d.winding_at(1, cut), 0);
        }
        assert_eq!(d.sample().parallel, 0);
        assert!(Dimers::from_bonds(l, vec![0; 2 * l * l], -1.0).is_none());
    }
}
