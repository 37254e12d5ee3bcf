//! The per-point tables: every quantity at every (L, p), and the cluster-size distribution,
//! as means over blocks with their standard errors (blocks are independent and hold equal
//! runs).

use super::super::newman_ziff::bin_range;
use super::{Curves, Quantity, SizeBlocks};
use crate::stats::{Estimate, std_dev};

/// One row of a sweep's percolation table: every [`Quantity`] at (L, p), the mean over blocks
/// with its standard error (blocks are independent and hold equal runs).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub size: usize,
    pub p: f64,
    pub runs: u64,
    /// In [`Quantity::ALL`]'s order.
    pub values: Vec<Estimate>,
}

/// Mean and standard error of per-block values.
fn over_blocks(values: &[f64]) -> Estimate {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let error = if values.len() > 1 {
        std_dev(values) / n.sqrt()
    } else {
        f64::NAN
    };
    Estimate::new(mean, error)
}

/// Per-block curves of one size (each block alone).
fn block_curves(s: &SizeBlocks) -> Vec<Curves> {
    (0..s.blocks.len())
        .filter_map(|b| Curves::new(s.geometry, &s.blocks[b..=b], &[1.0]))
        .collect()
}

/// Every quantity at every size and sweep p.
pub fn rows(sizes: &[SizeBlocks], probabilities: &[f64]) -> Vec<Row> {
    let mut out = Vec::new();
    for s in sizes {
        let blocks = block_curves(s);
        if blocks.is_empty() {
            continue;
        }
        for &p in probabilities {
            let values = Quantity::ALL
                .iter()
                .map(|&q| over_blocks(&blocks.iter().map(|c| c.at(q, p)).collect::<Vec<_>>()))
                .collect();
            out.push(Row {
                size: s.geometry.size,
                p,
                runs: s.blocks.iter().map(|b| b.runs).sum(),
                values,
            });
        }
    }
    out
}

/// One bin of the cluster-size distribution at (L, p): clusters per site per unit size,
/// n_s, averaged over the sizes s in [first, last].
#[derive(Clone, Debug, PartialEq)]
pub struct SizeRow {
    pub size: usize,
    pub p: f64,
    pub first: u64,
    pub last: u64,
    pub n_s: Estimate,
}

/// The cluster-size distribution at every size and sweep p (bins with no cluster left out).
pub fn distribution(sizes: &[SizeBlocks], probabilities: &[f64]) -> Vec<SizeRow> {
    let mut out = Vec::new();
    for s in sizes {
        let blocks = block_curves(s);
        let sites = s.geometry.sites() as f64;
        for (j, &p) in probabilities.iter().enumerate() {
            let bins = blocks
                .first()
                .and_then(|c| c.sizes.get(j))
                .map_or(0, Vec::len);
            for b in 0..bins {
                let (first, width) = bin_range(b);
                let per: Vec<f64> = blocks
                    .iter()
                    .map(|c| c.sizes[j][b] / (width as f64 * sites))
                    .collect();
                if per.iter().all(|x| *x == 0.0) {
                    continue;
                }
                out.push(SizeRow {
                    size: s.geometry.size,
                    p,
                    first,
                    last: first + width - 1,
                    n_s: over_blocks(&per),
                });
            }
        }
    }
    out
}
