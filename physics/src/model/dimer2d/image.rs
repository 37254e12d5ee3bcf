//! The image encoding RSMI sees dimers through (Koch-Janusz & Ringel 2018; RSMI-NE's dimer
//! tutorial; REFERENCE.md §5), and what a learned filter on it is made of.
//!
//! Each site (x, y) is the 2×2 cell of pixels (2x..2x+1, 2y..2y+1) of a 2L×2L binary image:
//! - (2x + 1, 2y): the bond to the +x neighbour (occupied = 1),
//! - (2x, 2y + 1): the bond to the +y neighbour,
//! - (2x, 2y): a decoy, a random bit,
//! - (2x + 1, 2y + 1): a decoy that copies it.
//!
//! Every bond appears once, between the two vertex pixels it joins, so the image is the lattice
//! drawn to scale. The decoys carry no physics but are correlated with each other across the
//! cell: a rule that finds them worth keeping has learned noise. Pixels are numbered x fastest
//! (`X + 2L·Y`), as RSMI's regions and NumPy's `[Y, X]` arrays expect.
//!
//! The emergent electric field of the height description is, per bond, E = (−1)^(x+y)·(n − 1/4)
//! along the bond's direction; over a block its two components are the staggered sums of the
//! horizontal and of the vertical bond pixels, the two patterns [`field_overlap`] compares the
//! learned filters with.

use super::Dimers;
use crate::rng::Stream;
use serde::Serialize;

/// Which pixel of a cell: the four roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pixel {
    Vertex,
    Horizontal,
    Vertical,
    Face,
}

/// The role of image pixel (X, Y).
pub fn pixel(x: usize, y: usize) -> Pixel {
    match (x % 2, y % 2) {
        (0, 0) => Pixel::Vertex,
        (1, 0) => Pixel::Horizontal,
        (0, _) => Pixel::Vertical,
        _ => Pixel::Face,
    }
}

impl Dimers {
    /// This configuration moved by a lattice symmetry: translated by `shift` sites in x and y,
    /// then, if `transpose`, reflected on the diagonal (x ↔ y, so horizontal bonds become
    /// vertical). The Boltzmann distribution is invariant under both, and together they map
    /// each columnar state onto each of the four.
    pub fn transformed(&self, shift: [usize; 2], transpose: bool) -> Dimers {
        let l = self.size();
        let mut occ = vec![0u8; 2 * l * l];
        for y in 0..l {
            for x in 0..l {
                let (mut nx, mut ny) = ((x + shift[0]) % l, (y + shift[1]) % l);
                let mut axes = [0, 1];
                if transpose {
                    (nx, ny) = (ny, nx);
                    axes = [1, 0];
                }
                for axis in 0..2 {
                    occ[2 * (nx + l * ny) + axes[axis]] = self.bonds()[2 * (x + l * y) + axis];
                }
            }
        }
        Dimers::from_bonds(l, occ, self.interaction()).unwrap_or_else(|| self.clone())
    }

    /// The image of this configuration moved by a random lattice symmetry (see
    /// [`Dimers::transformed`]), decoys and symmetry drawn from `rng`. Below T_KT a chain keeps
    /// to one of the four columnar states for very long (at L = 32, T = 0.5 the worm stayed in
    /// one for 60,000 sweeps): images for RSMI are symmetrised so that they sample the torus's
    /// symmetric ensemble, as the Boltzmann distribution does.
    pub fn symmetrised_image(&self, rng: &mut Stream) -> Vec<u8> {
        let bits = rng.next_u64();
        let moved = self.transformed(
            [(bits & 1) as usize, ((bits >> 1) & 1) as usize],
            bits & 4 != 0,
        );
        moved.image(Some(rng))
    }

    /// The 2L×2L image; decoy bits drawn from `decoys`, or all 0 without one.
    pub fn image(&self, mut decoys: Option<&mut Stream>) -> Vec<u8> {
        let l = self.size();
        let w = 2 * l;
        let mut out = vec![0u8; w * w];
        for y in 0..l {
            for x in 0..l {
                let i = x + l * y;
                let (px, py) = (2 * x, 2 * y);
                out[px + 1 + w * py] = self.bonds()[2 * i];
                out[px + w * (py + 1)] = self.bonds()[2 * i + 1];
                if let Some(rng) = decoys.as_deref_mut() {
                    let bit = (rng.next_u64() >> 63) as u8;
                    out[px + w * py] = bit;
                    out[px + 1 + w * (py + 1)] = bit;
                }
            }
        }
        out
    }
}

/// How learned filters over a block of `block`×`block` pixels (corner on a cell corner) relate
/// to the electric field and to the decoys; each a fraction of the filters' squared weight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct FieldOverlap {
    /// The filters' weight inside the span of the two field patterns (E_x, E_y).
    pub in_field_span: f64,
    /// How much of the two field patterns lies inside the span of the filters (1 when the
    /// filters are two independent combinations of E_x and E_y; needs two filters).
    pub field_in_filter_span: f64,
    /// The filters' weight on decoy (vertex and face) pixels.
    pub decoy_weight: f64,
    /// The filters' weight inside the span of the two columnar patterns (Σ(−1)^x n_x and
    /// Σ(−1)^y n_y over the block): the order parameter of the crystal, which is what the
    /// filters become near and below T_KT, where it is the most relevant variable.
    pub in_columnar_span: f64,
}

/// The two field patterns over a block: the staggered sign (−1)^(x+y) of each site on its
/// horizontal (E_x) or vertical (E_y) bond pixel, 0 elsewhere.
pub fn field_patterns(block: usize) -> [Vec<f64>; 2] {
    bond_patterns(block, |x, y| (x + y) % 2 == 0, |x, y| (x + y) % 2 == 0)
}

/// The two columnar patterns over a block: (−1)^x on the horizontal bond pixels, (−1)^y on the
/// vertical ones.
pub fn columnar_patterns(block: usize) -> [Vec<f64>; 2] {
    bond_patterns(block, |x, _| x % 2 == 0, |_, y| y % 2 == 0)
}

/// Sign patterns on the horizontal and on the vertical bond pixels of a block, from the sites'
/// coordinates (x, y) within it.
fn bond_patterns(
    block: usize,
    horizontal: impl Fn(usize, usize) -> bool,
    vertical: impl Fn(usize, usize) -> bool,
) -> [Vec<f64>; 2] {
    let mut p = [vec![0.0; block * block], vec![0.0; block * block]];
    let sign = |b: bool| if b { 1.0 } else { -1.0 };
    for y in 0..block {
        for x in 0..block {
            let (sx, sy) = (x / 2, y / 2);
            match pixel(x, y) {
                Pixel::Horizontal => p[0][x + block * y] = sign(horizontal(sx, sy)),
                Pixel::Vertical => p[1][x + block * y] = sign(vertical(sx, sy)),
                _ => {}
            }
        }
    }
    p
}

/// The filters' squared weight inside the span of two patterns with disjoint supports.
fn in_span(filters: &[Vec<f64>], [a, b]: &[Vec<f64>; 2], total: f64) -> f64 {
    let (na, nb) = (dot(a, a), dot(b, b));
    filters
        .iter()
        .map(|f| dot(f, a).powi(2) / na + dot(f, b).powi(2) / nb)
        .sum::<f64>()
        / total
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// See [`FieldOverlap`]; `None` if a filter does not cover the block.
pub fn field_overlap(filters: &[Vec<f64>], block: usize) -> Option<FieldOverlap> {
    let n = block * block;
    if filters.is_empty() || filters.iter().any(|f| f.len() != n) || !block.is_multiple_of(2) {
        return None;
    }
    let field = field_patterns(block);
    let [ex, ey] = &field;
    let (nx, ny) = (dot(ex, ex), dot(ey, ey));
    let total: f64 = filters.iter().map(|f| dot(f, f)).sum();
    if total <= 0.0 {
        return None;
    }
    let decoy: f64 = filters
        .iter()
        .map(|f| {
            (0..n)
                .filter(|&k| matches!(pixel(k % block, k / block), Pixel::Vertex | Pixel::Face))
                .map(|k| f[k] * f[k])
                .sum::<f64>()
        })
        .sum();
    // The patterns' projection on the filters' span (Gram–Schmidt over the filters).
    let mut basis: Vec<Vec<f64>> = Vec::new();
    for f in filters {
        let mut v = f.clone();
        for b in &basis {
            let c = dot(&v, b);
            v.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
        }
        let norm = dot(&v, &v).sqrt();
        if norm > 1e-12 * total.sqrt() {
            basis.push(v.into_iter().map(|x| x / norm).collect());
        }
    }
    let covered = |p: &[f64], np: f64| basis.iter().map(|b| dot(p, b).powi(2)).sum::<f64>() / np;
    Some(FieldOverlap {
        // Each pair of patterns has disjoint supports, so they are orthogonal.
        in_field_span: in_span(filters, &field, total),
        field_in_filter_span: 0.5 * (covered(ex, nx) + covered(ey, ny)),
        decoy_weight: decoy / total,
        in_columnar_span: in_span(filters, &columnar_patterns(block), total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_draws_every_bond_once_and_the_decoys_in_pairs() {
        let d = Dimers::columnar(4, -1.0).expect("even");
        let img = d.image(None);
        assert_eq!(img.len(), 64);
        // N/2 dimers, one pixel each.
        assert_eq!(img.iter().map(|&p| u32::from(p)).sum::<u32>(), 8);
        // Columnar: horizontal dimers from even x, i.e. pixels (4k + 1, 2y).
        assert_eq!(img[1], 1);
        assert_eq!(img[3], 0);
        let mut rng = Stream::derive(1, "decoys");
        let img = d.image(Some(&mut rng));
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(img[2 * x + 8 * 2 * y], img[2 * x + 1 + 8 * (2 * y + 1)]);
            }
        }
    }

    #[test]
    fn symmetries_map_the_columnar_states_onto_each_other_and_keep_the_energy() {
        let d = Dimers::columnar(6, -1.0).expect("even");
        let mut seen = std::collections::BTreeSet::new();
        for shift in [[0, 0], [1, 0], [0, 1], [1, 1]] {
            for transpose in [false, true] {
                let t = d.transformed(shift, transpose);
                assert_eq!(t.sample().parallel, d.sample().parallel);
                seen.insert(t.sample().columnar);
            }
        }
        // (±18, 0) and (0, ±18): all four columnar states.
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    #[test]
    fn field_overlap_measures_what_it_says() {
        let [ex, ey] = field_patterns(8);
        // Two mixtures of the field: all inside, and the field covered.
        let mix = |a: f64, b: f64| ex.iter().zip(&ey).map(|(x, y)| a * x + b * y).collect();
        let o = field_overlap(&[mix(1.0, 0.5), mix(-0.3, 1.0)], 8).expect("ok");
        assert!(
            (o.in_field_span - 1.0).abs() < 1e-12 && o.decoy_weight == 0.0,
            "{o:?}"
        );
        assert!((o.field_in_filter_span - 1.0).abs() < 1e-12, "{o:?}");
        // One filter on E_x only covers half of the field; a decoy-only filter is all decoy.
        let o = field_overlap(std::slice::from_ref(&ex), 8).expect("ok");
        assert!((o.field_in_filter_span - 0.5).abs() < 1e-12, "{o:?}");
        // The columnar patterns are orthogonal to the field's: a columnar filter is all
        // columnar, none field.
        let [cx, _] = columnar_patterns(8);
        let o = field_overlap(&[cx], 8).expect("ok");
        assert!(
            (o.in_columnar_span - 1.0).abs() < 1e-12 && o.in_field_span < 1e-12,
            "{o:?}"
        );
        let decoys: Vec<f64> = (0..64)
            .map(|k| f64::from(u8::from(pixel(k % 8, k / 8) == Pixel::Vertex)))
            .collect();
        let o = field_overlap(&[decoys], 8).expect("ok");
        assert!(
            o.in_field_span == 0.0 && (o.decoy_weight - 1.0).abs() < 1e-12,
            "{o:?}"
        );
    }
}
