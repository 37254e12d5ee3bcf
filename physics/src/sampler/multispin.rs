//! Exact multispin-coded Metropolis for the Ising model: 64 independent replicas, one per bit
//! of a `u64` per site, updated together with bitwise logic.
//!
//! Exactness: every replica (bit lane) is an ordinary single-spin Metropolis chain. Its accept
//! decision compares its own uniform variate `U` with `p = e^{−βΔE}` for its own ΔE, where the
//! bits of `U` come from fresh random words, one bit of each word per lane, so lanes share no
//! randomness and no site reuses another's. The comparison `U < p` runs bit-sliced from the most
//! significant bit and stops once every lane that needs a decision has one (~log₂64 + 2 words on
//! average), so `p` is honoured to 53 bits, like a double-precision uniform.
//!
//! Replica `r` is bit `r`; bit value 0 is σ = +1 (the same convention as [`crate::model::Ising`]).

use crate::lattice::Lattice;
use crate::rng::Stream;

/// Acceptance probabilities `p_c = e^{−2β(z − 2c)}` for anti-aligned-neighbour counts `c < z/2`
/// (counts ≥ z/2 have ΔE ≤ 0 and always flip), as 53-bit fixed point, expanded into one
/// all-ones/all-zeros mask per bit so the inner loop selects each lane's bit without branching.
struct Probabilities {
    /// `mask[j][c]`: bit `52 − j` (j-th most significant) of `floor(p_c · 2^53)`, as 0 or !0.
    mask: [[u64; CLASSES]; BITS as usize],
    /// Classes with p = 1 (only at β = 0), which need no random bits.
    certain: [bool; CLASSES],
}

/// At most ⌈6/2⌉ = 3 classes (3D); unused classes hold empty lane masks.
const CLASSES: usize = 3;

impl Probabilities {
    fn new(z: usize, beta: f64) -> Probabilities {
        let mut mask = [[0u64; CLASSES]; BITS as usize];
        let mut certain = [false; CLASSES];
        for c in 0..z.div_ceil(2) {
            let de = 2.0 * (z as f64 - 2.0 * c as f64);
            let fixed = ((-beta * de).exp() * (1u64 << BITS) as f64) as u64;
            certain[c] = fixed >> BITS != 0;
            for (j, row) in mask.iter_mut().enumerate() {
                if (fixed >> (BITS as usize - 1 - j)) & 1 == 1 {
                    row[c] = !0;
                }
            }
        }
        Probabilities { mask, certain }
    }
}

pub struct Multispin {
    lattice: Lattice,
    words: Vec<u64>,
    probs: Probabilities,
    stream: Stream,
}

const BITS: u32 = 53;
/// Bits of U drawn without checking whether any lane still needs them (see `sweep_with`).
const FIXED: usize = 8;

impl Multispin {
    /// 64 replicas of the Ising model on `lattice` at `beta`, each started from independent
    /// random spins.
    pub fn new(lattice: Lattice, beta: f64, mut stream: Stream) -> Multispin {
        let z = lattice.coordination();
        let probs = Probabilities::new(z, beta);
        let words = (0..lattice.sites()).map(|_| stream.next_u64()).collect();
        Multispin {
            lattice,
            words,
            probs,
            stream,
        }
    }

    pub fn lattice(&self) -> &Lattice {
        &self.lattice
    }

    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// One Metropolis sweep of all 64 replicas (checkerboard order, as the scalar sampler).
    pub fn sweep(&mut self) {
        // The number of random-decision classes is a compile-time constant in the hot loop.
        match self.lattice.coordination().div_ceil(2) {
            1 => self.sweep_with::<1>(),
            2 => self.sweep_with::<2>(),
            _ => self.sweep_with::<3>(),
        }
    }

    fn sweep_with<const C: usize>(&mut self) {
        let l = self.lattice.size();
        let rows: Vec<_> = self.lattice.rows().collect();
        let probs = &self.probs;
        let words = &mut self.words;
        // A local copy of the generator stays in registers through the loop (through the field it
        // round-trips memory on every draw); written back at the end.
        let mut local = self.stream.clone();
        let stream = &mut local;
        for colour in 0..2 {
            for row in &rows {
                let mut x = (colour + row.parity) % 2;
                let others = &row.others[..row.n_others];
                while x < l {
                    let i = row.start + x;
                    let s = words[i];
                    let left = words[row.start + if x == 0 { l - 1 } else { x - 1 }];
                    let right = words[row.start + if x + 1 == l { 0 } else { x + 1 }];
                    // Bit-sliced count (b2 b1 b0) of anti-aligned neighbours, up to 7.
                    let (mut b0, mut b1, mut b2) = (0u64, 0u64, 0u64);
                    let mut add = |a: u64| {
                        let c0 = b0 & a;
                        b0 ^= a;
                        let c1 = b1 & c0;
                        b1 ^= c0;
                        b2 |= c1;
                    };
                    add(s ^ left);
                    add(s ^ right);
                    for &o in others {
                        add(s ^ words[o + x]);
                    }
                    // Lanes with count c, for each class c < z/2 that needs a random decision.
                    let mut class = [0u64; C];
                    let mut need = 0u64;
                    for (c, mask) in class.iter_mut().enumerate() {
                        let m0 = if c & 1 == 1 { b0 } else { !b0 };
                        let m1 = if c & 2 == 2 { b1 } else { !b1 };
                        let m2 = if c & 4 == 4 { b2 } else { !b2 };
                        *mask = if probs.certain[c] { 0 } else { m0 & m1 & m2 };
                        need |= *mask;
                    }
                    let mut flip = !need;
                    let mut undecided = need;
                    // The first FIXED bits are drawn unconditionally: with tens of lanes to
                    // decide they are almost always all needed, and a loop exit at a random
                    // count is a branch misprediction per site. Rarer stragglers loop on.
                    let mut step = |bit: &[u64; CLASSES], r: u64| {
                        let mut p = 0u64;
                        for c in 0..C {
                            p |= class[c] & bit[c];
                        }
                        // At the first bit where U and p differ, U < p iff p has the 1.
                        flip |= undecided & p & !r;
                        undecided &= !(p ^ r);
                        undecided
                    };
                    let (first, rest) = probs.mask.split_at(FIXED);
                    let mut pending = need;
                    for bit in first {
                        pending = step(bit, stream.next_u64());
                    }
                    for bit in rest {
                        if pending == 0 {
                            break;
                        }
                        pending = step(bit, stream.next_u64());
                    }
                    words[i] = s ^ flip;
                    x += 2;
                }
            }
        }
        self.stream = local;
    }

    /// Per-replica total energy `E = Σ_bonds −σσ` and magnetisation `M = Σ σ`.
    pub fn measure(&self) -> ([i64; 64], [i64; 64]) {
        let n = self.lattice.sites();
        let bonds = self.lattice.bonds() as i64;
        let mut down = VerticalCounter::new(n as u64);
        let mut broken = VerticalCounter::new(bonds as u64);
        for (i, &w) in self.words.iter().enumerate() {
            down.add(w);
            for axis in 0..self.lattice.dim() {
                broken.add(w ^ self.words[self.lattice.forward(i, axis)]);
            }
        }
        let mut energy = [0i64; 64];
        let mut magnet = [0i64; 64];
        for lane in 0..64 {
            let d = down.lane(lane) as i64;
            let b = broken.lane(lane) as i64;
            magnet[lane] = n as i64 - 2 * d;
            energy[lane] = 2 * b - bonds;
        }
        (energy, magnet)
    }

    /// The configuration of one replica as states (0 for σ = +1).
    pub fn replica(&self, lane: usize) -> Vec<u8> {
        self.words
            .iter()
            .map(|&w| ((w >> lane) & 1) as u8)
            .collect()
    }
}

/// 64 lane-wise counters stored bit-sliced ("vertical"), so adding a word costs a short ripple
/// carry instead of 64 scalar additions.
struct VerticalCounter {
    planes: Vec<u64>,
}

impl VerticalCounter {
    fn new(max: u64) -> VerticalCounter {
        let bits = 64 - max.leading_zeros() as usize + 1;
        VerticalCounter {
            planes: vec![0; bits],
        }
    }

    #[inline]
    fn add(&mut self, mut carry: u64) {
        for p in self.planes.iter_mut() {
            if carry == 0 {
                break;
            }
            let next = *p & carry;
            *p ^= carry;
            carry = next;
        }
    }

    fn lane(&self, lane: usize) -> u64 {
        self.planes
            .iter()
            .enumerate()
            .map(|(k, &p)| ((p >> lane) & 1) << k)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Ising, Model};

    #[test]
    fn measure_matches_scalar_energy_and_magnetisation() {
        let lat = Lattice::new(2, 6);
        let ms = Multispin::new(lat.clone(), 0.3, Stream::derive(3, "ms"));
        let (e, m) = ms.measure();
        let ising = Ising::new(lat);
        for lane in [0, 1, 17, 63] {
            let spins = ms.replica(lane);
            assert_eq!(e[lane], ising.energy(&spins));
            assert_eq!(m[lane], ising.order_of(&spins));
        }
    }

    #[test]
    fn infinite_temperature_flips_everything_and_zero_temperature_never_climbs() {
        // β = 0: every proposal is accepted, so a sweep inverts every word.
        let lat = Lattice::new(2, 4);
        let mut ms = Multispin::new(lat.clone(), 0.0, Stream::derive(1, "x"));
        let before = ms.words().to_vec();
        ms.sweep();
        assert!(ms.words().iter().zip(&before).all(|(a, b)| *a == !*b));
        // Very large β: the energy of no lane ever increases.
        let mut cold = Multispin::new(lat, 50.0, Stream::derive(2, "y"));
        let (e0, _) = cold.measure();
        cold.sweep();
        let (e1, _) = cold.measure();
        assert!(e0.iter().zip(&e1).all(|(a, b)| b <= a));
    }
}
