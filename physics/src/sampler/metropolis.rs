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
}

impl Tables {
    pub(crate) fn new<M: Model>(model: &M, beta: f64) -> Tables {
        let z = model.lattice().coordination() as i64;
        let gap = model.gap() as f64;
        let accept = (-z..=z)
            .map(|d| Threshold::new((-beta * gap * d as f64).exp()))
            .collect();
        Tables { accept }
    }
}

pub(crate) fn sweep<M: Model>(
    model: &M,
    spins: &mut [u8],
    tables: &Tables,
    stream: &mut Stream,
    stats: &mut SweepStats,
) {
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
                let t = tables.accept[n_old + z - n_new];
                if t.always() || t.test(stream.next_u64()) {
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
