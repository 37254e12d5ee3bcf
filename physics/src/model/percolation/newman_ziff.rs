//! The Newman–Ziff engine: sites or bonds occupied one at a time, clusters kept by weighted
//! union-find with path halving, wrapping found by Machta's displacements (Newman & Ziff,
//! PRE 64, 016706, 2001, §II and §IV.B).
//!
//! Every site carries its displacement to its parent in unwrapped lattice coordinates, so a
//! find returns the site's displacement to its root as well. A new bond between two sites of
//! one cluster closes a loop; if the tree's path between them differs from the bond itself by
//! a non-zero lattice vector, the loop winds around the torus along every axis where that
//! vector is non-zero.
//!
//! The engine is generic over the dimension `D` (2 or 3) so that displacements are fixed-size
//! arrays in registers; [`super::Geometry`] picks the instance.

use super::{Geometry, Kind};

/// `ptr` of an empty site (site percolation); roots hold −size, other sites their parent.
const EMPTY: i32 = i32::MIN;

/// Cluster sizes are counted in log bins: exact below 8, then four bins per octave.
pub fn size_bin(s: u64) -> usize {
    debug_assert!(s > 0);
    if s < 8 {
        (s - 1) as usize
    } else {
        let octave = 63 - s.leading_zeros() as usize;
        7 + (octave - 3) * 4 + ((s >> (octave - 2)) & 3) as usize
    }
}

/// The sizes bin `b` holds: `(first, count)`.
pub fn bin_range(b: usize) -> (u64, u64) {
    if b < 7 {
        (b as u64 + 1, 1)
    } else {
        let octave = 3 + (b - 7) / 4;
        let sub = ((b - 7) % 4) as u64;
        ((4 + sub) << (octave - 2), 1 << (octave - 2))
    }
}

/// One site of the union-find.
#[derive(Clone, Copy, Debug)]
struct Node<const D: usize> {
    /// −size at a root, the parent elsewhere, [`EMPTY`] if not occupied.
    ptr: i32,
    /// Displacement from the site to its parent, unwrapped (meaningless at roots).
    disp: [i32; D],
}

/// Union-find over the lattice's sites, with what the observables need kept up to date.
pub struct Percolator<const D: usize> {
    size: usize,
    /// Index strides of the axes (1, L, L²).
    stride: [usize; D],
    /// ⌊2⁶⁴/s⌋ + 1 for each stride s: a site's coordinates by multiplications, exact for
    /// indices below 2³² (Lemire, Kaser & Kurz 2019); a division per neighbour was most of a
    /// step's time.
    magic: [u64; D],
    kind: Kind,
    /// Per site, its pointer and displacement side by side: a find reads both, and one cache
    /// line per step rather than two was 1.4× faster at L = 256.
    node: Vec<Node<D>>,
    /// Occupied elements so far.
    pub occupied: usize,
    /// Size of the largest cluster.
    pub largest: u64,
    /// Σ s² over clusters.
    pub sum_squares: u64,
    /// Axes along which some cluster wraps, as bits.
    pub wrapped: u8,
    /// Live cluster-size histogram in [`size_bin`] bins.
    pub histogram: Vec<u64>,
}

impl<const D: usize> Percolator<D> {
    pub fn new(geometry: &Geometry) -> Self {
        assert_eq!(geometry.dim, D, "engine dimension");
        let size = geometry.size;
        let mut stride = [1usize; D];
        for k in 1..D {
            stride[k] = stride[k - 1] * size;
        }
        let sites = geometry.sites();
        assert!(sites < 1 << 32, "site indices fit 32 bits");
        let mut magic = [0u64; D];
        for k in 0..D {
            magic[k] = (u64::MAX / stride[k] as u64).wrapping_add(1);
        }
        let mut p = Percolator {
            size,
            stride,
            magic,
            kind: geometry.kind,
            node: vec![
                Node {
                    ptr: EMPTY,
                    disp: [0; D]
                };
                sites
            ],
            occupied: 0,
            largest: 0,
            sum_squares: 0,
            wrapped: 0,
            histogram: vec![0; size_bin(sites as u64) + 1],
        };
        p.reset();
        p
    }

    /// Back to no occupied element.
    pub fn reset(&mut self) {
        let sites = self.node.len();
        self.occupied = 0;
        self.wrapped = 0;
        self.histogram.iter_mut().for_each(|h| *h = 0);
        match self.kind {
            Kind::Site => {
                self.node.iter_mut().for_each(|n| n.ptr = EMPTY);
                self.largest = 0;
                self.sum_squares = 0;
            }
            Kind::Bond => {
                // Every site is a cluster of one from the start.
                self.node.iter_mut().for_each(|n| n.ptr = -1);
                self.largest = 1;
                self.sum_squares = sites as u64;
                self.histogram[0] = sites as u64;
            }
        }
    }

    /// ⌊i / stride[axis]⌋.
    #[inline(always)]
    fn quotient(&self, i: usize, axis: usize) -> usize {
        if axis == 0 {
            i
        } else {
            ((u128::from(self.magic[axis]) * i as u128) >> 64) as usize
        }
    }

    /// Coordinate `axis` of site `i`.
    #[inline(always)]
    fn coordinate(&self, i: usize, axis: usize) -> usize {
        // ⌊i/s_k⌋ mod L = ⌊i/s_k⌋ − L·⌊i/s_(k+1)⌋.
        let q = self.quotient(i, axis);
        if axis + 1 == D {
            q
        } else {
            q - self.size * self.quotient(i, axis + 1)
        }
    }

    /// The site one step along `axis` from `i`, forward or backward, on the torus.
    #[inline(always)]
    fn step(&self, i: usize, axis: usize, forward: bool) -> usize {
        let s = self.stride[axis];
        let c = self.coordinate(i, axis);
        match (forward, c) {
            (true, c) if c + 1 == self.size => i + s - self.size * s,
            (true, _) => i + s,
            (false, 0) => i + self.size * s - s,
            (false, _) => i - s,
        }
    }

    /// The root of `x`'s cluster and `x`'s displacement to it; halves the path on the way.
    #[inline(always)]
    fn find(&mut self, mut x: usize) -> (usize, [i32; D]) {
        let mut total = [0i32; D];
        loop {
            let p = self.node[x].ptr;
            if p < 0 {
                return (x, total);
            }
            let p = p as usize;
            let gp = self.node[p].ptr;
            if gp < 0 {
                add(&mut total, &self.node[x].disp);
                return (p, total);
            }
            let dp = self.node[p].disp;
            add(&mut self.node[x].disp, &dp);
            self.node[x].ptr = gp;
            add(&mut total, &self.node[x].disp);
            x = gp as usize;
        }
    }

    /// Joins the clusters of `a` and `b`, where `b` sits one step from `a` along `axis`
    /// (`sign` ±1), unwrapped.
    #[inline(always)]
    fn join(&mut self, a: usize, b: usize, axis: usize, sign: i32) {
        // The step as a vector, built by comparisons: an array written at a run-time index
        // lives on the stack, and reading it back whole stalled store forwarding (a tenth of
        // the run).
        let e: [i32; D] = std::array::from_fn(|k| if k == axis { sign } else { 0 });
        let (ra, da) = self.find(a);
        let (rb, db) = self.find(b);
        if ra == rb {
            // The loop a → b along the bond, back along the tree, winds by e − (da − db).
            for k in 0..D {
                if e[k] != da[k] - db[k] {
                    self.wrapped |= 1 << k;
                }
            }
            return;
        }
        let (sa, sb) = ((-self.node[ra].ptr) as u64, (-self.node[rb].ptr) as u64);
        // The smaller tree goes under the larger: u(parent) − u(child) = da − e − db when rb
        // goes under ra, the negative when ra goes under rb. Chosen by selects, not a branch:
        // which tree is larger is a coin flip the predictor cannot learn.
        let a_larger = sa >= sb;
        let (parent, child) = if a_larger { (ra, rb) } else { (rb, ra) };
        let orient = if a_larger { 1 } else { -1 };
        let d: [i32; D] = std::array::from_fn(|k| orient * (da[k] - e[k] - db[k]));
        let merged = sa + sb;
        self.node[child].ptr = parent as i32;
        self.node[child].disp = d;
        self.node[parent].ptr = -(merged as i32);
        self.sum_squares += 2 * sa * sb;
        self.largest = self.largest.max(merged);
        self.histogram[size_bin(sa)] -= 1;
        self.histogram[size_bin(sb)] -= 1;
        self.histogram[size_bin(merged)] += 1;
    }

    /// Occupies element `e`: a site index (site percolation) or bond `D·site + axis`, the bond
    /// from `site` to its forward neighbour along `axis`.
    #[inline(always)]
    pub fn occupy(&mut self, element: usize) {
        self.occupied += 1;
        match self.kind {
            Kind::Site => {
                let s = element;
                self.node[s].ptr = -1;
                self.node[s].disp = [0; D];
                self.sum_squares += 1;
                self.largest = self.largest.max(1);
                self.histogram[0] += 1;
                for axis in 0..D {
                    for forward in [true, false] {
                        let nb = self.step(s, axis, forward);
                        if self.node[nb].ptr != EMPTY {
                            self.join(s, nb, axis, if forward { 1 } else { -1 });
                        }
                    }
                }
            }
            Kind::Bond => {
                let (s, axis) = (element / D, element % D);
                let nb = self.step(s, axis, true);
                self.join(s, nb, axis, 1);
            }
        }
    }

    /// Occupies `sites`, ascending (site percolation): only the bonds back to sites already
    /// occupied are looked at — the one behind along each axis, and across the boundary at
    /// the last coordinate — which is every bond once, with half the neighbour reads of
    /// [`Percolator::occupy`].
    pub fn occupy_ascending(&mut self, sites: &[u32]) {
        debug_assert!(self.kind == Kind::Site);
        for &s in sites {
            let s = s as usize;
            self.occupied += 1;
            self.node[s] = Node {
                ptr: -1,
                disp: [0; D],
            };
            self.sum_squares += 1;
            self.largest = self.largest.max(1);
            self.histogram[0] += 1;
            for axis in 0..D {
                let c = self.coordinate(s, axis);
                let stride = self.stride[axis];
                if c > 0 && self.node[s - stride].ptr != EMPTY {
                    self.join(s, s - stride, axis, -1);
                }
                if c + 1 == self.size {
                    let wrapped = s + stride - self.size * stride;
                    if self.node[wrapped].ptr != EMPTY {
                        self.join(s, wrapped, axis, 1);
                    }
                }
            }
        }
    }

    /// Bytes of the union-find's nodes.
    pub fn bytes(&self) -> usize {
        self.node.len() * std::mem::size_of::<Node<D>>()
    }

    /// Reads the sites `element` will touch and returns a value that depends on them: called
    /// a few elements ahead, it lets their cache misses overlap the current union (safe Rust
    /// has no prefetch instruction; a load whose value is used is the next best thing).
    #[inline(always)]
    pub fn touch(&self, element: usize) -> i32 {
        match self.kind {
            Kind::Site => {
                let mut acc = self.node[element].ptr;
                for axis in 1..D {
                    acc ^= self.node[self.step(element, axis, true)].ptr;
                    acc ^= self.node[self.step(element, axis, false)].ptr;
                }
                acc
            }
            Kind::Bond => {
                let (s, axis) = (element / D, element % D);
                self.node[s].ptr ^ self.node[self.step(s, axis, true)].ptr
            }
        }
    }

    /// Every site's cluster root (sites not occupied: `None`), for tests.
    pub fn roots(&mut self) -> Vec<Option<usize>> {
        (0..self.node.len())
            .map(|i| (self.node[i].ptr != EMPTY).then(|| self.find(i).0))
            .collect()
    }
}

#[inline(always)]
fn add<const D: usize>(a: &mut [i32; D], b: &[i32; D]) {
    for k in 0..D {
        a[k] += b[k];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_bins_cover_every_size_once_in_order() {
        let mut expected = 0;
        let mut s = 1u64;
        while s < 5000 {
            let b = size_bin(s);
            let (first, count) = bin_range(b);
            assert!(first <= s && s < first + count, "s = {s}, bin {b}");
            assert!(
                b == expected || b == expected + 1,
                "bins are consecutive at s = {s}"
            );
            expected = b;
            s += 1;
        }
        assert_eq!(bin_range(7), (8, 2));
        assert_eq!(bin_range(11), (16, 4));
    }
}
