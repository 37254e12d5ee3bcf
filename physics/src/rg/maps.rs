//! Coarse-graining maps with scale factor b = 2 for Ising configurations (states 0 ↔ σ = +1,
//! 1 ↔ σ = −1) and q-state Potts configurations: majority rule over 2^d blocks (for Potts the
//! most frequent state; ties broken by the stream) and decimation.

use crate::rng::Stream;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Map {
    /// The sign of the block's magnetisation; a tie is a fair coin from the stream.
    Majority,
    /// The block's first site (lowest coordinates).
    Decimation,
}

/// The configuration of the lattice of size `size / 2` obtained by applying `map` to each
/// 2^dim block of Ising `spins` (lattice of `size`, even).
pub fn coarse_grain(
    map: Map,
    dim: usize,
    size: usize,
    spins: &[u8],
    stream: &mut Stream,
) -> Vec<u8> {
    coarse_grain_q(map, dim, size, 2, spins, stream)
}

/// [`coarse_grain`] for `q`-state spins (q = 2: Ising).
pub fn coarse_grain_q(
    map: Map,
    dim: usize,
    size: usize,
    q: u8,
    spins: &[u8],
    stream: &mut Stream,
) -> Vec<u8> {
    let mut votes = vec![0u8; usize::from(q)];
    let half = size / 2;
    let sites = half.pow(dim as u32);
    let mut out = Vec::with_capacity(sites);
    let stride = |axis: usize| size.pow(axis as u32);
    for j in 0..sites {
        // The block's corner on the fine lattice.
        let mut corner = 0;
        let mut r = j;
        for axis in 0..dim {
            corner += 2 * (r % half) * stride(axis);
            r /= half;
        }
        let state = match map {
            Map::Decimation => spins[corner],
            Map::Majority if q > 2 => {
                votes.iter_mut().for_each(|v| *v = 0);
                for k in 0..(1usize << dim) {
                    let mut i = corner;
                    for axis in 0..dim {
                        if k >> axis & 1 == 1 {
                            i += stride(axis);
                        }
                    }
                    votes[usize::from(spins[i])] += 1;
                }
                let most = votes.iter().copied().max().unwrap_or(0);
                let tied: Vec<u8> = (0..q).filter(|&s| votes[usize::from(s)] == most).collect();
                if tied.len() == 1 {
                    tied[0]
                } else {
                    tied[stream.below(tied.len() as u64) as usize]
                }
            }
            Map::Majority => {
                let mut sum = 0i32;
                for k in 0..(1usize << dim) {
                    let mut i = corner;
                    for axis in 0..dim {
                        if k >> axis & 1 == 1 {
                            i += stride(axis);
                        }
                    }
                    sum += 1 - 2 * i32::from(spins[i]);
                }
                match sum.signum() {
                    1 => 0,
                    -1 => 1,
                    _ => u8::from(stream.uniform() < 0.5),
                }
            }
        };
        out.push(state);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_map_as_defined() {
        let mut s = Stream::derive(1, "maps");
        // 4×4, x fastest: block (0,0) = sites 0,1,4,5.
        #[rustfmt::skip]
        let spins = [
            0, 0, 1, 1,
            0, 1, 1, 1,
            1, 0, 0, 0,
            1, 1, 0, 1,
        ];
        assert_eq!(
            coarse_grain(Map::Decimation, 2, 4, &spins, &mut s),
            vec![0, 1, 1, 0]
        );
        // Majorities: (0,0) +3−1 → 0; (1,0) all −1 → 1; (0,1) tie; (1,1) +3−1 → 0.
        let m = coarse_grain(Map::Majority, 2, 4, &spins, &mut s);
        assert_eq!((m[0], m[1], m[3]), (0, 1, 0));
        // Ties are fair coins.
        let tie = [0u8, 1, 1, 0];
        let ones: usize = (0..10_000)
            .map(|_| usize::from(coarse_grain(Map::Majority, 1, 4, &tie, &mut s)[0]))
            .sum();
        assert!((ones as f64 - 5_000.0).abs() < 4.0 * 50.0, "{ones}");
        // Potts: the most frequent state; a two-way tie is a fair coin between the two.
        #[rustfmt::skip]
        let potts = [
            2, 2, 0, 1,
            1, 2, 1, 1,
            0, 1, 2, 0,
            2, 0, 0, 2,
        ];
        let m = coarse_grain_q(Map::Majority, 2, 4, 3, &potts, &mut s);
        assert_eq!((m[0], m[1]), (2, 1));
        assert_eq!(m[2], 0, "0, 1, 2, 0: state 0 twice");
        let tie = [0u8, 2, 2, 0];
        let twos: usize = (0..10_000)
            .map(|_| usize::from(coarse_grain_q(Map::Majority, 1, 4, 3, &tie, &mut s)[0] == 2))
            .sum();
        assert!((twos as f64 - 5_000.0).abs() < 4.0 * 50.0, "{twos}");
    }
}
