//! RG flows of the 2D Ising model under majority rule, decimation and the learned RSMI rule
//! (REFERENCE.md §4; Koch-Janusz & Ringel, Nature Physics 14, 578, 2018): the nearest-neighbour
//! coupling shrinks level by level above T_c for every map, and grows below it for majority and
//! RSMI rules (T_c and exponents from whole sweeps: `tests/science.rs`).

use rgsweep_physics::rg::flow::{Level, MapKind, RsmiRule, Settings, flows};
use rgsweep_physics::rg::{Operator, RbmRule};
use rgsweep_physics::rsmi::samples::{System, generate};
use rgsweep_physics::{Algorithm, ModelKind, Stream};

fn ising2d(size: usize, t: f64, n: usize, seed: u64) -> Vec<Vec<u8>> {
    generate(
        System::Lattice {
            model: ModelKind::Ising2d,
            q: 2,
        },
        size,
        t,
        n,
        Algorithm::Wolff,
        300,
        Stream::derive(seed, &format!("flows/L={size}/T={t}")),
    )
    .configs
}

/// The b = 2 maps whose flows this file tests. The dense RBM is not among them: its units are
/// not local (configs/layers-mehta-schwab.toml: receptive radius 15.9 of 16.3 for spread
/// weight), so it makes no RG flow to test — at L = 64 and T = 2.6 its first level came out
/// fully ordered — and at L = 64 it would take most of this file's time.
const MAPS: [MapKind; 4] = [
    MapKind::Majority,
    MapKind::Decimation,
    MapKind::Rsmi,
    MapKind::Rbm,
];

fn settings(levels: usize, samples: u64) -> Settings {
    Settings {
        maps: MAPS.to_vec(),
        levels,
        operators: Operator::ALL.to_vec(),
        samples,
        blocks: 10,
        rsmi: Some(RsmiRule::default()),
        rbm: Some(RbmRule::default()),
        autoencoder: None,
        audit: false,
    }
}

fn nn(levels: &[Level], map: MapKind) -> Vec<f64> {
    levels
        .iter()
        .filter(|l| l.map == map)
        .map(|l| l.couplings[0])
        .collect()
}

#[test]
fn couplings_grow_below_tc_and_shrink_above() {
    let s = settings(3, 500);
    let flow = |t: f64| {
        let configs = ising2d(64, t, 500, 5);
        flows(&s, 2, 2, 64, &configs, 0, &Stream::derive(5, "flows-test"))
    };
    // Above T_c every map shrinks K₁ at every step, towards the infinite-temperature sink.
    for t in [2.6, 3.2] {
        let out = flow(t);
        for map in MAPS {
            let k = nn(&out, map);
            assert_eq!(k.len(), 4);
            // Level 0 is the model itself: K₁ = 1/T.
            assert!((k[0] - 1.0 / t).abs() < 0.02, "{map:?} T={t}: {k:?}");
            assert!(k.windows(2).all(|w| w[1] < w[0]), "{map:?} T={t}: {k:?}");
        }
    }
    // Below T_c, majority and RSMI rules flow to the zero-temperature sink: K₁ grows from the
    // first coarse level on, and the deepest level is ordered (K₁ = +∞). The first step is
    // excluded: it projects the model's nearest-neighbour-only Hamiltonian onto the coarse one,
    // which moves weight from K₁ into the diagonal coupling (measured at T = 1.9: majority
    // 0.540 → 0.490 with K_diag 0 → 0.10).
    let out = flow(1.9);
    for map in [MapKind::Majority, MapKind::Rsmi] {
        let k = nn(&out, map);
        assert!(k[1..].windows(2).all(|w| w[1] > w[0]), "{map:?}: {k:?}");
        assert_eq!(k[3], f64::INFINITY, "{map:?}: {k:?}");
    }
    // Decimation does not: a kept spin keeps its own thermal fluctuations (a minority spin
    // stays one with probability (1 − m)/2 whatever the level), so the ordered phase
    // renormalises to finite couplings — K₁ settles instead of growing.
    let decimated: Vec<&Level> = out
        .iter()
        .filter(|l| l.map == MapKind::Decimation)
        .collect();
    let (a, b) = (decimated[2], decimated[3]);
    assert!(b.couplings[0].is_finite() && b.couplings[0] < 0.5, "{b:?}");
    let change = (b.couplings[0] - a.couplings[0]).abs();
    assert!(change < 4.0 * a.errors[0].hypot(b.errors[0]), "{a:?} {b:?}");
    // The RSMI map learns a 2×2 filter of one sign at every level.
    for level in out.iter().filter(|l| l.map == MapKind::Rsmi && l.level > 0) {
        assert_eq!(level.filter.len(), 4);
        assert!(level.filter.iter().all(|&w| w > 0.0), "{level:?}");
    }
}

#[test]
fn potts_flows_shrink_above_tc() {
    // 3-state Potts at T = 1.4 > T_c = 0.995: K_nn = 1/T at level 0, then smaller at every
    // level, for the majority (most frequent state) rule and decimation.
    let s = Settings {
        maps: vec![MapKind::Majority, MapKind::Decimation],
        levels: 2,
        operators: vec![
            Operator::NearestNeighbour,
            Operator::Diagonal,
            Operator::Field,
        ],
        samples: 400,
        blocks: 10,
        rsmi: None,
        rbm: None,
        autoencoder: None,
        audit: false,
    };
    let t = 1.4;
    let configs = generate(
        System::Lattice {
            model: ModelKind::Potts2d,
            q: 3,
        },
        32,
        t,
        400,
        Algorithm::SwendsenWang,
        200,
        Stream::derive(6, "potts-flows"),
    )
    .configs;
    let out = flows(
        &s,
        2,
        3,
        32,
        &configs,
        0,
        &Stream::derive(6, "potts-flows-maps"),
    );
    for map in [MapKind::Majority, MapKind::Decimation] {
        let k = nn(&out, map);
        assert!((k[0] - 1.0 / t).abs() < 0.03, "{map:?}: {k:?}");
        assert!(k.windows(2).all(|w| w[1] < w[0]), "{map:?}: {k:?}");
    }
}

/// The audit of every map's steps at T_c (issue 15; REFERENCE.md §6): RSMI maximises I(H:E)
/// over rules, so no other map's relevance may beat it beyond errors, and every compression is
/// at most ln 2 (one binary unit) and at least the relevance (data processing:
/// I(H:E) ≤ I(H:V)).
#[test]
fn the_audit_orders_rsmi_first() {
    let tc = 2.0 / (1.0 + 2f64.sqrt()).ln();
    let mut s = settings(2, 600);
    s.audit = true;
    if let Some(r) = s.rbm.as_mut() {
        r.information_plane = true;
    }
    let configs = ising2d(32, tc, 600, 8);
    let out = flows(&s, 2, 2, 32, &configs, 0, &Stream::derive(8, "audit-test"));
    let get = |map: MapKind, level: usize| {
        out.iter()
            .find(|l| l.map == map && l.level == level)
            .expect("every map and level")
    };
    for level in 1..=2 {
        for map in MAPS {
            let l = get(map, level);
            let (r, c) = (
                l.relevance.expect("audited"),
                l.compression.expect("audited"),
            );
            eprintln!(
                "level {level} {:>10}: relevance {:.4}({:.4}) compression {:.4}({:.4}) K1 {:.4}",
                map.name(),
                r.value,
                r.error,
                c.value,
                c.error,
                l.couplings[0]
            );
            assert!(c.value <= std::f64::consts::LN_2 + 1e-12, "{map:?}: {c:?}");
            assert!(
                r.value < c.value + 3.0 * r.error.hypot(c.error),
                "{map:?}: {r:?} {c:?}"
            );
            assert!(r.value > 0.0, "{map:?}: {r:?}");
        }
    }
    // Level 1: every map reads the same configurations.
    let rsmi = get(MapKind::Rsmi, 1).relevance.expect("audited");
    for map in MAPS {
        let r = get(map, 1).relevance.expect("audited");
        assert!(
            r.value < rsmi.value + 3.0 * r.error.hypot(rsmi.error),
            "{map:?}: {r:?} vs RSMI {rsmi:?}"
        );
    }
    // The RBM's information plane over training: epochs 1, 2, 5, …, 200; its units start
    // nearly uncoupled (weights ~0.01) and sharpen, so compression grows from the first
    // checkpoint to the last; relevance never exceeds compression.
    for level in 1..=2 {
        let plane = &get(MapKind::Rbm, level).plane;
        let epochs: Vec<usize> = plane.iter().map(|p| p.epoch).collect();
        assert_eq!(epochs, vec![1, 2, 5, 10, 20, 50, 100, 200]);
        for p in plane {
            eprintln!(
                "rbm level {level} epoch {:>3}: compression {:.4} relevance {:.4}({:.4})",
                p.epoch, p.compression.value, p.relevance.value, p.relevance.error
            );
            let e = p.relevance.error.hypot(p.compression.error);
            assert!(p.relevance.value < p.compression.value + 3.0 * e, "{p:?}");
        }
        let (first, last) = (plane[0].compression, plane[plane.len() - 1].compression);
        assert!(last.value > first.value + 0.1, "{first:?} → {last:?}");
    }
    // Levels 0 are not audited (no step made them).
    assert!(
        out.iter()
            .filter(|l| l.level == 0)
            .all(|l| l.relevance.is_none())
    );
}
