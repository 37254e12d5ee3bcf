//! Checkerboard Metropolis: sites of one parity, then the other; each proposes a new state
//! (a flip for q = 2, else uniform among the other q − 1) and accepts with min(1, e^{−βΔE}).
//!
//! Updates are applied one site at a time in a fixed order, so each step satisfies detailed
//! balance on its own and the sweep is correct for odd L too, where the checkerboard is not a
//! proper colouring.

use super::{SweepStats, other_state};
use crate::model::Model;
use crate::rng::{Stream, Threshold};

/// Acceptance thresholds indexed by `n_old − n_new + z`, where `n_s` counts neighbours in state
/// `s`, so ΔE = gap · (n_old − n_new).
pub(crate) struct Tables {
    accept: Vec<Threshold>,
    /// q = 2: acceptance of a flip indexed by the number of equal neighbours.
    flip: Vec<Threshold>,
}

impl Tables {
    pub(crate) fn new<M: Model>(model: &M, beta: f64) -> Tables {
        let z = model.lattice().coordination() as i64;
        let gap = model.gap() as f64;
        let accept = (-z..=z)
            .map(|d| Threshold::new((-beta * gap * d as f64).exp()))
            .collect();
        let flip = (0..=z)
            .map(|n_equal| Threshold::new((-beta * gap * (2 * n_equal - z) as f64).exp()))
            .collect();
        Tables { accept, flip }
    }
}

pub(crate) fn sweep<M: Model>(
    model: &M,
    spins: &mut [u8],
    tables: &Tables,
    stream: &mut Stream,
    stats: &mut SweepStats,
) {
    if model.states() == 2 {
        return sweep_binary(model, spins, tables, stream, stats);
    }
    let lat = model.lattice();
    let l = lat.size();
    let q = model.states();
    let z = lat.coordination();
    let mut accepted = 0u64;
    for colour in 0..2 {
        for row in lat.rows() {
            let mut x = (colour + row.parity) % 2;
            let others = &row.others[..row.n_others];
            while x < l {
                let i = row.start + x;
                let s = spins[i];
                let new = other_state(s, q, stream);
                let left = spins[row.start + if x == 0 { l - 1 } else { x - 1 }];
                let right = spins[row.start + if x + 1 == l { 0 } else { x + 1 }];
                let mut n_old = usize::from(left == s) + usize::from(right == s);
                let mut n_new = usize::from(left == new) + usize::from(right == new);
                for &o in others {
                    let nb = spins[o + x];
                    n_old += usize::from(nb == s);
                    n_new += usize::from(nb == new);
                }
                if tables.accept[n_old + z - n_new].test(stream) {
                    spins[i] = new;
                    accepted += 1;
                }
                x += 2;
            }
        }
    }
    stats.updates += lat.sites() as u64;
    stats.accepted += accepted;
}

/// The two-state case, row by row in two phases: first the equal-neighbour counts of every
/// site of the row (unit-stride, so the compiler vectorises it), then the accept decisions of
/// the sites of the current colour, two per random word. The counts of the current colour stay
/// valid through the second phase because same-colour sites are not neighbours within a row
/// when L is even; odd L takes the site-by-site path.
fn sweep_binary<M: Model>(
    model: &M,
    spins: &mut [u8],
    tables: &Tables,
    stream: &mut Stream,
    stats: &mut SweepStats,
) {
    let lat = model.lattice();
    let l = lat.size();
    if l % 2 == 1 {
        return sweep_binary_odd(model, spins, tables, stream, stats);
    }
    let thresholds = &tables.flip[..];
    let mut accepted = 0u64;
    let mut equal = vec![0u8; l];
    let rows: Vec<_> = lat.rows().collect();
    for colour in 0..2 {
        for row in &rows {
            let x0 = (colour + row.parity) % 2;
            {
                let cur = &spins[row.start..row.start + l];
                let inner = equal[1..l - 1]
                    .iter_mut()
                    .zip(cur[..l - 2].iter().zip(&cur[1..l - 1]).zip(&cur[2..]));
                for (e, ((&left, &s), &right)) in inner {
                    *e = u8::from(left == s) + u8::from(right == s);
                }
                equal[0] = u8::from(cur[l - 1] == cur[0]) + u8::from(cur[1] == cur[0]);
                equal[l - 1] = u8::from(cur[l - 2] == cur[l - 1]) + u8::from(cur[0] == cur[l - 1]);
                for &o in &row.others[..row.n_others] {
                    let nb = &spins[o..o + l];
                    for ((e, &n), &s) in equal.iter_mut().zip(nb).zip(cur) {
                        *e += u8::from(n == s);
                    }
                }
            }
            let cur = &mut spins[row.start..row.start + l];
            // Four sites hold two of this colour (at x0 and x0 + 2): one random word decides both.
            let mut quads = cur.chunks_exact_mut(4);
            let mut counts = equal.chunks_exact(4);
            for (quad, count) in (&mut quads).zip(&mut counts) {
                let word = stream.next_u64();
                for (half, r) in [(0, word >> 32), (2, word & 0xffff_ffff)] {
                    let x = x0 + half;
                    let flip = thresholds[usize::from(count[x])].test_with(r, stream);
                    quad[x] ^= u8::from(flip);
                    accepted += u64::from(flip);
                }
            }
            // L ≡ 2 (mod 4): one more site of this colour in the last pair.
            let (rest, rest_counts) = (quads.into_remainder(), counts.remainder());
            if rest.len() == 2 {
                let flip = thresholds[usize::from(rest_counts[x0])].test(stream);
                rest[x0] ^= u8::from(flip);
                accepted += u64::from(flip);
            }
        }
    }
    stats.updates += lat.sites() as u64;
    stats.accepted += accepted;
}

/// Site-by-site variant for odd L, where the checkerboard is not a proper colouring.
fn sweep_binary_odd<M: Model>(
    model: &M,
    spins: &mut [u8],
    tables: &Tables,
    stream: &mut Stream,
    stats: &mut SweepStats,
) {
    let lat = model.lattice();
    let mut accepted = 0u64;
    for colour in 0..2 {
        for row in lat.rows() {
            let mut x = (colour + row.parity) % 2;
            while x < lat.size() {
                let i = row.start + x;
                let s = spins[i];
                let equal = lat
                    .neighbours(i)
                    .iter()
                    .filter(|&&j| spins[j as usize] == s)
                    .count();
                let flip = tables.flip[equal].test(stream);
                spins[i] = s ^ u8::from(flip);
                accepted += u64::from(flip);
                x += 2;
            }
        }
    }
    stats.updates += lat.sites() as u64;
    stats.accepted += accepted;
}
