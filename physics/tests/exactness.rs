//! Samplers against exact results (REFERENCE.md §1): full enumeration of tiny lattices, and
//! Onsager's energy of the infinite square lattice. Tolerances are 4 standard errors of the
//! jackknife estimate; with ~100 comparisons a correct sampler fails one by chance with
//! probability ~0.6% — and the seeds are fixed, so a failure is reproducible and points at a bug.

use rgsweep_physics::exact::{DensityOfStates, ISING2D_TC, onsager_energy};
use rgsweep_physics::lattice::Lattice;
use rgsweep_physics::model::{Ising, ModelKind, Potts};
use rgsweep_physics::sweep::MonteCarlo;
use rgsweep_physics::task::{Task, point_data};
use rgsweep_physics::{Algorithm, Estimate, Observables};

/// Simulates one point with `measurements` sweeps (a single chain), or for multispin 64
/// replicas sharing that budget, and returns its observables.
fn simulate(
    (model, q, size): (ModelKind, u8, usize),
    temperature: f64,
    algorithm: Algorithm,
    measurements: u64,
    seed: u64,
) -> Observables {
    let (measurements, replicas) = if algorithm == Algorithm::Multispin {
        (measurements / 32, 64)
    } else {
        (measurements, 1)
    };
    let task = Task {
        model,
        q,
        size,
        temperature,
        monte_carlo: MonteCarlo {
            algorithm,
            thermalize: 500,
            measurements,
            interval: 1,
        },
        first_replica: 0,
        replicas,
        rsmi: None,
        rg: None,
        save_samples: 0,
        interaction: None,
        probabilities: Vec::new(),
        maze: None,
        external: None,
    };
    let result = task.run(seed);
    point_data(&[&result]).expect("one result").observables()
}

fn check(what: &str, est: Estimate, exact: f64) {
    assert!(
        est.error.is_finite() && est.error > 0.0,
        "{what}: no error bar ({est})"
    );
    let dev = est.deviation(exact);
    assert!(
        dev < 4.0,
        "{what}: {est} vs exact {exact:.6} ({dev:.1} sigma)"
    );
}

fn samplers_for(model: ModelKind) -> Vec<Algorithm> {
    Algorithm::ALL
        .into_iter()
        .filter(|a| a.runs(model))
        .collect()
}

#[test]
fn every_sampler_matches_enumeration_of_4x4_ising() {
    let dos = DensityOfStates::enumerate(&Ising::new(Lattice::new(2, 4)));
    for t in [2.0, ISING2D_TC, 3.0] {
        let exact = dos.at(t);
        for alg in samplers_for(ModelKind::Ising2d) {
            let o = simulate((ModelKind::Ising2d, 2, 4), t, alg, 60_000, 11);
            let tag = |q: &str| format!("4x4 Ising T={t:.3} {alg} {q}");
            check(&tag("energy"), o.energy, exact.energy);
            check(&tag("|m|"), o.abs_m, exact.abs_m);
            check(&tag("m2"), o.m2, exact.m2);
            check(&tag("binder"), o.binder, exact.binder);
            check(&tag("C"), o.specific_heat, exact.specific_heat);
            check(&tag("chi"), o.susceptibility, exact.susceptibility);
        }
    }
}

#[test]
fn every_sampler_matches_enumeration_of_3x3_potts_q3() {
    // q = 3 on 3×3: 3^9 = 19683 states. T near the infinite-lattice T_c = 0.995.
    let dos = DensityOfStates::enumerate(&Potts::new(Lattice::new(2, 3), 3));
    for t in [0.8, 0.995, 1.5] {
        let exact = dos.at(t);
        for alg in samplers_for(ModelKind::Potts2d) {
            let o = simulate((ModelKind::Potts2d, 3, 3), t, alg, 60_000, 12);
            let tag = |q: &str| format!("3x3 Potts q=3 T={t} {alg} {q}");
            check(&tag("energy"), o.energy, exact.energy);
            check(&tag("m"), o.abs_m, exact.abs_m);
            check(&tag("m2"), o.m2, exact.m2);
            check(&tag("C"), o.specific_heat, exact.specific_heat);
        }
    }
}

#[test]
fn every_sampler_matches_enumeration_of_2x2x2_ising() {
    // 2×2×2 periodic: 256 states, every bond doubled by the wrap (see lattice.rs).
    let dos = DensityOfStates::enumerate(&Ising::new(Lattice::new(3, 2)));
    for t in [3.0, 4.5, 6.0] {
        let exact = dos.at(t);
        for alg in samplers_for(ModelKind::Ising3d) {
            let o = simulate((ModelKind::Ising3d, 2, 2), t, alg, 60_000, 13);
            let tag = |q: &str| format!("2^3 Ising T={t} {alg} {q}");
            check(&tag("energy"), o.energy, exact.energy);
            check(&tag("m2"), o.m2, exact.m2);
            check(&tag("C"), o.specific_heat, exact.specific_heat);
        }
    }
}

#[test]
fn ising2d_energy_at_l64_matches_onsager() {
    // Away from T_c the correlation length is a few sites (ξ < 2 at T = 2 and at T = 3), so the
    // finite-size shift at L = 64 is of order e^{−L/ξ}: far below the ~1e-4 errors here.
    for t in [2.0, 3.0] {
        for alg in samplers_for(ModelKind::Ising2d) {
            let o = simulate((ModelKind::Ising2d, 2, 64), t, alg, 4_000, 21);
            check(
                &format!("L=64 T={t} {alg} energy"),
                o.energy,
                onsager_energy(t),
            );
        }
    }
}

/// Every sampler of the model against Swendsen–Wang at one point with no exact value: energy,
/// m² and the specific heat must agree within 4 combined errors.
fn assert_samplers_agree(point: (ModelKind, u8, usize), t: f64, seeds: (u64, u64)) {
    let reference = simulate(point, t, Algorithm::SwendsenWang, 40_000, seeds.0);
    for alg in samplers_for(point.0) {
        if alg == Algorithm::SwendsenWang {
            continue;
        }
        let o = simulate(point, t, alg, 40_000, seeds.1);
        for (what, a, b) in [
            ("energy", o.energy, reference.energy),
            ("m2", o.m2, reference.m2),
            ("binder", o.binder, reference.binder),
            ("C", o.specific_heat, reference.specific_heat),
        ] {
            let combined = (a.error.powi(2) + b.error.powi(2)).sqrt();
            assert!(
                (a.value - b.value).abs() < 4.0 * combined,
                "{point:?} T={t} {alg} vs swendsen-wang, {what}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn samplers_agree_at_criticality() {
    assert_samplers_agree((ModelKind::Ising2d, 2, 16), ISING2D_TC, (31, 32));
    // L ≡ 2 (mod 4) takes the Metropolis row loop's remainder path.
    assert_samplers_agree((ModelKind::Ising2d, 2, 6), ISING2D_TC, (33, 34));
}

#[test]
fn odd_lattices_match_enumeration_of_3x3_ising() {
    // Odd L breaks the checkerboard colouring, so the local samplers take their site-by-site
    // paths; they must still sample the Boltzmann distribution exactly.
    let dos = DensityOfStates::enumerate(&Ising::new(Lattice::new(2, 3)));
    let t = 2.5;
    let exact = dos.at(t);
    for alg in samplers_for(ModelKind::Ising2d) {
        let o = simulate((ModelKind::Ising2d, 2, 3), t, alg, 60_000, 14);
        let tag = |q: &str| format!("3x3 Ising T={t} {alg} {q}");
        check(&tag("energy"), o.energy, exact.energy);
        check(&tag("m2"), o.m2, exact.m2);
        check(&tag("C"), o.specific_heat, exact.specific_heat);
    }
}

#[test]
fn samplers_agree_on_a_4x4x4_ising_lattice() {
    // The 2×2×2 oracle doubles every bond, so it never meets an odd number of anti-aligned
    // neighbours; on 4³ every count 0..6 occurs. Near the 3D critical point (T_c = 4.5115).
    assert_samplers_agree((ModelKind::Ising3d, 2, 4), 4.5, (61, 62));
}
