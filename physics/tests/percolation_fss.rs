//! Percolation's finite-size scaling on small lattices (REFERENCE.md §7): bond percolation on
//! the square lattice has p_c = 1/2 exactly, and on the torus R_axis(p_c) → 0.521058 (Pinson,
//! as quoted by Newman & Ziff, PRE 64, 016706, 2001). The full-size measurements are the
//! configs' (configs/percolation2d.toml); this holds the chain to them at CI cost.

use rgsweep_physics::model::percolation::analysis::{self, Quantity, SizeBlocks};
use rgsweep_physics::model::percolation::{self, Geometry, Kind};
use rgsweep_physics::rng::Stream;

type Blocks = Vec<(Geometry, Vec<percolation::Block>)>;

/// `blocks` blocks of `runs` runs per 2D lattice size, each on its own stream.
fn simulate(kind: Kind, sizes: &[usize], ps: &[f64], blocks: usize, runs: u64) -> Blocks {
    sizes
        .iter()
        .map(|&size| {
            let g = Geometry { dim: 2, size, kind };
            let b = (0..blocks)
                .map(|k| {
                    let mut s = Stream::derive(16, &format!("fss/{kind:?}/{size}/{k}"));
                    percolation::simulate(&g, ps, runs, &mut s)
                })
                .collect();
            (g, b)
        })
        .collect()
}

fn analyse(
    blocks: &[(Geometry, Vec<percolation::Block>)],
    ps: &[f64],
    bootstrap: usize,
) -> analysis::Summary {
    let sizes: Vec<SizeBlocks> = blocks
        .iter()
        .map(|(g, b)| SizeBlocks {
            geometry: *g,
            blocks: b.iter().collect(),
        })
        .collect();
    analysis::analyse(
        &sizes,
        &analysis::Settings {
            probabilities: ps.to_vec(),
            fit_min_size: 0,
            bootstrap,
            seed: 16,
            size_correction: analysis::size_correction(2),
            shift_exponent: analysis::SHIFT_EXPONENT,
        },
    )
}

#[test]
fn bond_p_c_and_wrapping_at_p_c_are_found_within_their_errors() {
    let ps: Vec<f64> = (0..=20).map(|i| 0.46 + 0.004 * f64::from(i)).collect();
    let blocks = simulate(Kind::Bond, &[8, 16, 32], &ps, 20, 1000);
    let s = analyse(&blocks, &ps, 100);
    let pc = s.p_c.expect("p_c located");
    assert!(pc.error > 0.0 && pc.error < 2e-3, "{pc:?}");
    assert!(
        pc.deviation(0.5) < 3.0,
        "p_c = {pc:?} against 1/2 ({})",
        s.p_c_method
    );
    // Every locator agrees with 1/2 too (they are correlated, not independent checks).
    for l in &s.locators {
        for e in [l.fixed_point_pc, l.crossing_pc].into_iter().flatten() {
            assert!(e.deviation(0.5) < 3.5, "{}: {e:?}", l.quantity);
        }
    }
    // R_axis at p_c on L = 32: Pinson's 0.521058 within 3 errors (L^-2 corrections are
    // 0.001 here).
    let (_, r) = s
        .at_pc
        .iter()
        .find(|(n, _)| n == Quantity::Axis.name())
        .expect("R_axis at p_c");
    let r32 = r.last().copied().flatten().expect("L = 32");
    assert!(r32.deviation(0.521_058_29) < 3.0, "R_axis(p_c) = {r32:?}");
    // ν from the slopes: 4/3 within 10% at these sizes.
    let nu = s.nu.expect("ν");
    assert!((nu.value / (4.0 / 3.0) - 1.0).abs() < 0.1, "ν = {nu:?}");
}

/// A sweep's running estimate reads whatever sizes are complete: one size (no pair to cross),
/// or two, must give an answer or none, never a panic.
#[test]
fn one_or_two_sizes_are_analysed_without_a_pair_to_spare() {
    let ps = [0.58, 0.59, 0.6];
    let blocks = simulate(Kind::Site, &[8, 16], &ps, 4, 200);
    for n in 1..=2 {
        let s = analyse(&blocks[..n], &ps, 20);
        assert_eq!(s.sizes.len(), n);
        assert!(s.locators.iter().all(|l| l.crossings.len() == n - 1));
    }
}
