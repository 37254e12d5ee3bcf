//! Newman–Ziff against exact enumeration (issue 16's exactness acceptance): on small tori,
//! after any prefix of any order the engine's observables equal those computed from scratch
//! by breadth-first search, for every configuration; averaged over all configurations this is
//! the statement that Q(p) = Σ_n B(N, n, p) Q_n are the exact polynomials. Then the binomial
//! convolution of block averages against direct sampling at fixed p.

use rgsweep_physics::model::percolation::newman_ziff::{Percolator, size_bin};
use rgsweep_physics::model::percolation::{self, Geometry, Kind, analysis, exact};
use rgsweep_physics::rng::Stream;

/// Runs the engine on `order`'s first `n` elements and compares with the oracle.
fn check<const D: usize>(g: &Geometry, order: &[usize], n: usize) {
    let mut engine = Percolator::<D>::new(g);
    for &e in &order[..n] {
        engine.occupy(e);
    }
    let mut occupied = vec![false; g.elements()];
    for &e in &order[..n] {
        occupied[e] = true;
    }
    let want = exact::state(g, &occupied);
    assert_eq!(engine.wrapped, want.wrapped, "{g:?} {:?}", &order[..n]);
    assert_eq!(engine.largest, want.largest, "{g:?} {:?}", &order[..n]);
    assert_eq!(engine.sum_squares, want.sum_squares, "{g:?}");
    let mut hist = vec![0u64; engine.histogram.len()];
    for &s in &want.clusters {
        hist[size_bin(s)] += 1;
    }
    assert_eq!(engine.histogram, hist, "{g:?}");
}

/// Every configuration of `g`: its elements in a random order, then the rest.
fn every_configuration<const D: usize>(g: &Geometry) {
    let total = g.elements();
    let mut rng = Stream::derive(16, &format!("{g:?}"));
    for mask in 0u64..(1 << total) {
        let mut on: Vec<usize> = (0..total).filter(|k| mask >> k & 1 == 1).collect();
        let n = on.len();
        for i in (1..n).rev() {
            on.swap(i, rng.below(i as u64 + 1) as usize);
        }
        on.extend((0..total).filter(|k| mask >> k & 1 == 0));
        check::<D>(g, &on, n);
        if g.kind == Kind::Site {
            // The in-order fill that runs use up to their window.
            let mut engine = Percolator::<D>::new(g);
            let sorted: Vec<u32> = (0..total as u32).filter(|k| mask >> k & 1 == 1).collect();
            engine.occupy_ascending(&sorted);
            let mut occupied = vec![false; total];
            for &k in &sorted {
                occupied[k as usize] = true;
            }
            let want = exact::state(g, &occupied);
            assert_eq!(
                (engine.wrapped, engine.largest, engine.sum_squares),
                (want.wrapped, want.largest, want.sum_squares),
                "{g:?} ascending {sorted:?}"
            );
        }
    }
}

#[test]
fn every_configuration_of_small_tori_matches_the_oracle() {
    for (size, kind) in [(3, Kind::Site), (4, Kind::Site), (3, Kind::Bond)] {
        every_configuration::<2>(&Geometry { dim: 2, size, kind });
    }
    every_configuration::<3>(&Geometry {
        dim: 3,
        size: 2,
        kind: Kind::Site,
    });
}

/// 4×4 bonds are 2^32 configurations: every prefix of random orders instead (all n, all
/// wrapping topologies many times over).
#[test]
fn random_orders_on_larger_tori_match_the_oracle_at_every_prefix() {
    let mut rng = Stream::derive(16, "prefixes");
    for (dim, size, kind, orders) in [
        (2, 4, Kind::Bond, 3000),
        (2, 5, Kind::Site, 500),
        (2, 5, Kind::Bond, 300),
        (3, 3, Kind::Site, 200),
        (3, 3, Kind::Bond, 100),
    ] {
        let g = Geometry { dim, size, kind };
        let total = g.elements();
        for _ in 0..orders {
            let mut order: Vec<usize> = (0..total).collect();
            for i in (1..total).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            for n in 0..=total {
                if dim == 2 {
                    check::<2>(&g, &order, n);
                } else {
                    check::<3>(&g, &order, n);
                }
            }
        }
    }
}

/// Newman–Ziff averages per n converge to the exact averages over all configurations, and
/// their convolution to the exact polynomial, within 4 standard errors (4×4 site, 3×3 bond,
/// 2×2×2 site).
#[test]
fn block_averages_converge_to_the_exact_polynomials() {
    for g in [
        Geometry {
            dim: 2,
            size: 4,
            kind: Kind::Site,
        },
        Geometry {
            dim: 2,
            size: 3,
            kind: Kind::Bond,
        },
        Geometry {
            dim: 3,
            size: 2,
            kind: Kind::Site,
        },
    ] {
        let exact = exact::enumerate(&g);
        let runs = 20_000;
        let mut stream = Stream::derive(16, "polynomials");
        let block = percolation::simulate(&g, &[0.0, 1.0], runs, &mut stream);
        assert_eq!(block.first, 0);
        let names = percolation::observables(g.dim);
        for (k, name) in names.iter().enumerate() {
            for (n, row) in exact.by_n.iter().enumerate() {
                let got = block.series[k].values[n] as f64 / runs as f64;
                let want = row[k];
                // Indicator variance q(1 − q); the sizes' variance bounded by their range.
                let range = if k < 2 * g.dim {
                    1.0
                } else {
                    (g.sites() * g.sites()) as f64
                };
                let sd = (want * (range - want)).max(0.0).sqrt() / (runs as f64).sqrt();
                assert!(
                    (got - want).abs() <= 4.0 * sd + 1e-12,
                    "{g:?} {name} n = {n}: {got} against exact {want} (sd {sd})"
                );
            }
        }
        // The convolution: Q(p) against Σ_n B(N, n, p) Q_n^exact.
        let curves = analysis::Curves::new(g, &[&block], &[1.0]).expect("curves");
        for p in [0.3, 0.5, 0.7] {
            let w = percolation::binomial(g.elements() as u64, p, 0, g.elements() as u64);
            let either = g.dim; // wrap_ge1
            let want: f64 = w.iter().zip(&exact.by_n).map(|(w, r)| w * r[either]).sum();
            let got = curves.at(analysis::Quantity::Either, p);
            let sd = (want * (1.0 - want) / runs as f64).sqrt();
            assert!(
                (got - want).abs() < 4.0 * sd,
                "{g:?} p = {p}: {got} vs {want}"
            );
        }
    }
}

/// The binomial convolution against direct sampling at fixed p: every bond open with
/// probability p, observables from scratch (8×8 bonds, 6×6 sites).
#[test]
fn the_convolution_equals_direct_sampling_at_fixed_p() {
    for (g, ps) in [
        (
            Geometry {
                dim: 2,
                size: 8,
                kind: Kind::Bond,
            },
            [0.45, 0.5, 0.55],
        ),
        (
            Geometry {
                dim: 2,
                size: 6,
                kind: Kind::Site,
            },
            [0.55, 0.6, 0.65],
        ),
    ] {
        let runs = 20_000u64;
        let mut stream = Stream::derive(16, &format!("direct {g:?}"));
        let block = percolation::simulate(&g, &ps, runs, &mut stream);
        let curves = analysis::Curves::new(g, &[&block], &[1.0]).expect("curves");
        for p in ps {
            let (mut either, mut largest, mut largest2) = (0.0, 0.0, 0.0);
            for _ in 0..runs {
                let occupied: Vec<bool> = (0..g.elements()).map(|_| stream.uniform() < p).collect();
                let s = exact::state(&g, &occupied);
                either += f64::from(u8::from(s.wrapped != 0));
                let m = s.largest as f64 / g.sites() as f64;
                largest += m;
                largest2 += m * m;
            }
            let n = runs as f64;
            let (e, m) = (either / n, largest / n);
            let e_sd = (2.0 * e * (1.0 - e) / n).sqrt();
            let m_sd = (2.0 * (largest2 / n - m * m) / n).sqrt();
            let (ge, gm) = (
                curves.at(analysis::Quantity::Either, p),
                curves.at(analysis::Quantity::Largest, p),
            );
            assert!(
                (ge - e).abs() < 4.0 * e_sd,
                "{g:?} p = {p}: R_e {ge} vs direct {e} ± {e_sd}"
            );
            assert!(
                (gm - m).abs() < 4.0 * m_sd,
                "{g:?} p = {p}: P_max {gm} vs direct {m} ± {m_sd}"
            );
        }
    }
}
