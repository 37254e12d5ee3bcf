//! The RSMI geometry on a periodic lattice: a visible block V (L_V per side), a buffer of width
//! L_B around it that is ignored, and the environment E, a shell of width L_E outside the buffer
//! (Koch-Janusz & Ringel 2018; REFERENCE.md §3).
//!
//! Sites use the lattice's numbering (`x + L·y + L²·z`, x fastest), which is also the row-major
//! order of a NumPy array `[.., z, y, x]`; a block's sites are listed in that order too.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geometry {
    pub dim: usize,
    /// Lattice linear size L.
    pub size: usize,
    pub block: usize,
    pub buffer: usize,
    pub env: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GeometryError {
    #[error("block must be at least 1 site wide")]
    EmptyBlock,
    #[error("environment must be at least 1 site wide")]
    EmptyEnvironment,
    #[error(
        "block {block} + 2×(buffer {buffer} + environment {env}) = {span} sites does not fit a periodic lattice of L = {size} (the region would wrap onto itself)"
    )]
    TooLarge {
        block: usize,
        buffer: usize,
        env: usize,
        span: usize,
        size: usize,
    },
}

impl Geometry {
    pub fn new(
        dim: usize,
        size: usize,
        block: usize,
        buffer: usize,
        env: usize,
    ) -> Result<Geometry, GeometryError> {
        if block == 0 {
            return Err(GeometryError::EmptyBlock);
        }
        if env == 0 {
            return Err(GeometryError::EmptyEnvironment);
        }
        // Widths come from files and the network: a sum past usize is simply too large.
        let span = buffer
            .saturating_add(env)
            .saturating_mul(2)
            .saturating_add(block);
        if span > size {
            return Err(GeometryError::TooLarge {
                block,
                buffer,
                env,
                span,
                size,
            });
        }
        Ok(Geometry {
            dim,
            size,
            block,
            buffer,
            env,
        })
    }

    /// Offsets of the block's sites from its corner, in row-major order.
    pub fn visible_offsets(&self) -> Vec<[isize; 3]> {
        cube(self.dim, 0, self.block as isize)
    }

    /// Offsets of the environment's sites from the block's corner, in row-major order of the
    /// enclosing cube.
    pub fn environment_offsets(&self) -> Vec<[isize; 3]> {
        let inner_lo = -(self.buffer as isize);
        let inner_hi = (self.block + self.buffer) as isize;
        let lo = inner_lo - self.env as isize;
        let hi = inner_hi + self.env as isize;
        cube(self.dim, lo, hi)
            .into_iter()
            .filter(|o| !(0..self.dim).all(|a| (inner_lo..inner_hi).contains(&o[a])))
            .collect()
    }

    /// How many corners [`Geometry::corners`] lists, without listing them (a million-site
    /// lattice at stride 1 has a million).
    pub fn corner_count(&self, stride: usize) -> u64 {
        let per_axis = self.size.div_ceil(stride.max(1)) as u64;
        per_axis.saturating_pow(self.dim.clamp(1, 3) as u32)
    }

    /// Block corners on a regular grid of spacing `stride` in every direction.
    pub fn corners(&self, stride: usize) -> Vec<[usize; 3]> {
        let per_axis: Vec<usize> = (0..self.size).step_by(stride.max(1)).collect();
        let mut out = Vec::new();
        let zs = if self.dim >= 3 {
            per_axis.clone()
        } else {
            vec![0]
        };
        let ys = if self.dim >= 2 {
            per_axis.clone()
        } else {
            vec![0]
        };
        for &z in &zs {
            for &y in &ys {
                for &x in &per_axis {
                    out.push([x, y, z]);
                }
            }
        }
        out
    }

    /// Site indices of `offsets` around `corner`, wrapped periodically.
    pub fn sites(&self, corner: [usize; 3], offsets: &[[isize; 3]]) -> Vec<usize> {
        let l = self.size as isize;
        offsets
            .iter()
            .map(|o| {
                let mut index = 0isize;
                let mut stride = 1isize;
                for a in 0..self.dim {
                    let c = (corner[a] as isize + o[a]).rem_euclid(l);
                    index += c * stride;
                    stride *= l;
                }
                index as usize
            })
            .collect()
    }
}

/// All offsets in [lo, hi)^dim, x fastest.
fn cube(dim: usize, lo: isize, hi: isize) -> Vec<[isize; 3]> {
    let mut out = Vec::new();
    let zr = if dim >= 3 { lo..hi } else { 0..1 };
    for z in zr {
        let yr = if dim >= 2 { lo..hi } else { 0..1 };
        for y in yr {
            for x in lo..hi {
                out.push([x, y, z]);
            }
        }
    }
    out
}

/// How spins become network inputs: Ising ±1 (one number per site), Potts one-hot (q).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Ising,
    OneHot(u8),
}

impl Encoding {
    pub fn width(self) -> usize {
        match self {
            Encoding::Ising => 1,
            Encoding::OneHot(q) => q as usize,
        }
    }

    /// Appends the encoding of the spins at `sites` to `out` (Ising states 0/1 are σ = +1/−1;
    /// f64 for blocks, f32 for environments: see [`super::Pairs`]). Spin values are 0..q, so the narrowing to i8 is exact.
    pub fn encode<T: From<i8>>(self, spins: &[u8], sites: &[usize], out: &mut Vec<T>) {
        match self {
            Encoding::Ising => out.extend(
                sites
                    .iter()
                    .map(|&i| T::from(1 - 2 * i8::from(spins[i] != 0))),
            ),
            Encoding::OneHot(q) => {
                for &i in sites {
                    for k in 0..q {
                        out.push(T::from(i8::from(spins[i] == k)));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_have_the_right_sizes_and_never_overlap_the_block() {
        let g = Geometry::new(2, 64, 4, 2, 10).expect("fits");
        assert_eq!(g.visible_offsets().len(), 16);
        // (4 + 2·2 + 2·10)² − (4 + 2·2)² = 28² − 8².
        let env = g.environment_offsets();
        assert_eq!(env.len(), 28 * 28 - 64);
        let v = g.sites([62, 63, 0], &g.visible_offsets());
        let e = g.sites([62, 63, 0], &env);
        assert!(v.iter().all(|s| !e.contains(s)));
        // Wrapping: the block at (62, 63) holds site (1, 2) = 1 + 64·2.
        assert!(v.contains(&(1 + 64 * 2)));
        let g3 = Geometry::new(3, 16, 2, 1, 2).expect("fits");
        assert_eq!(g3.environment_offsets().len(), 8 * 8 * 8 - 4 * 4 * 4);
        let g1 = Geometry::new(1, 32, 2, 1, 3).expect("fits");
        assert_eq!(
            g1.environment_offsets(),
            vec![
                [-4, 0, 0],
                [-3, 0, 0],
                [-2, 0, 0],
                [3, 0, 0],
                [4, 0, 0],
                [5, 0, 0]
            ]
        );
    }

    #[test]
    fn regions_that_would_wrap_onto_themselves_are_refused() {
        assert!(
            Geometry::new(2, 16, 4, 2, 4).is_ok(),
            "4 + 2·(2 + 4) = 16 just fits"
        );
        assert_eq!(
            Geometry::new(2, 16, 4, 2, 5),
            Err(GeometryError::TooLarge {
                block: 4,
                buffer: 2,
                env: 5,
                span: 18,
                size: 16
            })
        );
        assert_eq!(
            Geometry::new(2, 16, 0, 2, 4),
            Err(GeometryError::EmptyBlock)
        );
        assert_eq!(
            Geometry::new(2, 16, 2, 2, 0),
            Err(GeometryError::EmptyEnvironment)
        );
    }

    #[test]
    fn encodings() {
        let mut out: Vec<f64> = Vec::new();
        Encoding::Ising.encode(&[0, 1, 1], &[2, 0], &mut out);
        assert_eq!(out, vec![-1.0, 1.0]);
        out.clear();
        Encoding::OneHot(3).encode(&[2, 0], &[0, 1], &mut out);
        assert_eq!(out, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    }
}
