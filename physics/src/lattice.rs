//! Periodic hypercubic lattices (chain, square, simple cubic).
//!
//! Sites are numbered `x + L·y + L²·z`. Bonds are the pairs `(i, i + ê_k)` for each site and
//! each axis k, so a lattice with `N` sites in `d` dimensions has `d·N` bonds; at `L = 2` the two
//! bonds between a pair of sites are both counted, consistently for every sampler and for the
//! energy, which keeps tiny lattices usable as exact-enumeration oracles.

/// A periodic hypercubic lattice of `size^dim` sites.
#[derive(Clone, Debug)]
pub struct Lattice {
    dim: usize,
    size: usize,
    sites: usize,
    /// `neighbours[z*i .. z*i+z]`: for each axis, +1 then −1 neighbour.
    neighbours: Vec<u32>,
    /// Per site, bit 2a: coordinate a is L − 1; bit 2a + 1: it is 0. One byte per site keeps
    /// neighbour arithmetic in cache where the 4·z-byte table would not be (see
    /// [`Lattice::for_each_neighbour`]).
    boundary: Vec<u8>,
}

impl Lattice {
    /// `dim` in 1..=3, `size >= 2`.
    pub fn new(dim: usize, size: usize) -> Lattice {
        assert!((1..=3).contains(&dim), "dimension {dim} not supported");
        assert!(size >= 2, "size {size} too small");
        let sites = size.pow(dim as u32);
        assert!(sites < u32::MAX as usize, "lattice too large");
        let z = 2 * dim;
        let mut neighbours = Vec::with_capacity(sites * z);
        let mut boundary = Vec::with_capacity(sites);
        for i in 0..sites {
            let mut b = 0u8;
            for axis in 0..dim {
                neighbours.push(Self::shift(size, i, axis, 1) as u32);
                neighbours.push(Self::shift(size, i, axis, size - 1) as u32);
                let coord = (i / size.pow(axis as u32)) % size;
                b |= u8::from(coord == size - 1) << (2 * axis);
                b |= u8::from(coord == 0) << (2 * axis + 1);
            }
            boundary.push(b);
        }
        Lattice {
            dim,
            size,
            sites,
            neighbours,
            boundary,
        }
    }

    fn shift(size: usize, i: usize, axis: usize, by: usize) -> usize {
        let stride = size.pow(axis as u32);
        let coord = (i / stride) % size;
        let moved = (coord + by) % size;
        i - coord * stride + moved * stride
    }

    /// Site `i` moved by `k` steps along each listed axis, wrapping periodically.
    pub fn offset(&self, i: usize, by: &[(usize, isize)]) -> usize {
        let l = self.size as isize;
        by.iter().fold(i, |site, &(axis, k)| {
            Self::shift(self.size, site, axis, k.rem_euclid(l) as usize)
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn sites(&self) -> usize {
        self.sites
    }

    /// Coordination number 2d.
    pub fn coordination(&self) -> usize {
        2 * self.dim
    }

    pub fn bonds(&self) -> usize {
        self.dim * self.sites
    }

    #[inline(always)]
    pub fn neighbours(&self, i: usize) -> &[u32] {
        let z = 2 * self.dim;
        &self.neighbours[z * i..z * i + z]
    }

    /// Calls `f` with each neighbour of `i`, in the order of [`Lattice::neighbours`], computed
    /// from strides and the boundary byte instead of read from the table: cluster growth visits
    /// sites in no regular order, and at L = 256 the table (1 MiB) missed the cache.
    #[inline(always)]
    pub fn for_each_neighbour(&self, i: usize, mut f: impl FnMut(usize)) {
        let b = self.boundary[i];
        let mut stride = 1;
        for axis in 0..self.dim {
            let wrap = self.size * stride;
            let up = if b & (1 << (2 * axis)) != 0 { wrap } else { 0 };
            let down = if b & (2 << (2 * axis)) != 0 { wrap } else { 0 };
            f(i + stride - up);
            f(i + down - stride);
            stride = wrap;
        }
    }

    /// The site one step along `+axis` from `i`.
    #[inline(always)]
    pub fn forward(&self, i: usize, axis: usize) -> usize {
        self.neighbours[2 * self.dim * i + 2 * axis] as usize
    }

    /// Rows along the x axis, in order: `(start, [start of the row at ±1 along each other axis])`.
    /// Local samplers walk rows so the x-neighbours are plain index arithmetic.
    pub(crate) fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        let l = self.size;
        (0..self.sites / l).map(move |r| {
            let start = r * l;
            let mut others = [0usize; 4];
            for axis in 1..self.dim {
                others[2 * (axis - 1)] = Self::shift(l, start, axis, 1);
                others[2 * (axis - 1) + 1] = Self::shift(l, start, axis, l - 1);
            }
            // Parity of the row's (y + z), for the checkerboard.
            let mut parity = 0;
            for axis in 1..self.dim {
                parity += (start / l.pow(axis as u32)) % l;
            }
            Row {
                start,
                others,
                n_others: 2 * (self.dim - 1),
                parity: parity % 2,
            }
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    pub start: usize,
    pub others: [usize; 4],
    pub n_others: usize,
    pub parity: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_symmetric() {
        for (dim, size) in [(1, 5), (2, 4), (2, 3), (3, 3), (3, 2)] {
            let lat = Lattice::new(dim, size);
            for i in 0..lat.sites() {
                for &j in lat.neighbours(i) {
                    let back = lat
                        .neighbours(j as usize)
                        .iter()
                        .filter(|&&k| k as usize == i);
                    let forth = lat.neighbours(i).iter().filter(|&&k| k == j);
                    assert_eq!(
                        back.count(),
                        forth.count(),
                        "dim {dim} size {size} site {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn arithmetic_neighbours_match_the_table() {
        for (dim, size) in [(1, 5), (2, 4), (2, 3), (3, 3), (3, 2), (2, 2)] {
            let lat = Lattice::new(dim, size);
            for i in 0..lat.sites() {
                let mut got = Vec::new();
                lat.for_each_neighbour(i, |j| got.push(j as u32));
                assert_eq!(got, lat.neighbours(i), "dim {dim} size {size} site {i}");
            }
        }
    }

    #[test]
    fn rows_cover_each_site_once() {
        let lat = Lattice::new(3, 4);
        let mut seen = vec![0; lat.sites()];
        for row in lat.rows() {
            for x in 0..lat.size() {
                seen[row.start + x] += 1;
            }
            for k in 0..row.n_others {
                let nb = row.others[k];
                assert!(lat.neighbours(row.start).contains(&(nb as u32)));
            }
        }
        assert!(seen.iter().all(|&c| c == 1));
    }
}
