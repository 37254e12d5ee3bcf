//! Histogram reweighting against direct simulation, and the approach of the 3-state Potts
//! energy to its exact critical value.

use rgsweep_physics::model::ModelKind;
use rgsweep_physics::stats::fit_line;
use rgsweep_physics::sweep::MonteCarlo;
use rgsweep_physics::task::{Task, point_data};
use rgsweep_physics::{Algorithm, Estimate, PointData};

fn point(
    model: ModelKind,
    q: u8,
    size: usize,
    t: f64,
    alg: Algorithm,
    n: u64,
    seed: u64,
) -> PointData {
    let task = Task {
        model,
        q,
        size,
        temperature: t,
        monte_carlo: MonteCarlo {
            algorithm: alg,
            thermalize: 1_000,
            measurements: n,
            interval: 1,
        },
        first_replica: 0,
        replicas: 1,
        rsmi: None,
        rg: None,
        save_samples: 0,
        interaction: None,
        probabilities: Vec::new(),
        maze: None,
        external: None,
    };
    let r = task.run(seed);
    point_data(&[&r]).expect("result")
}

fn agree(what: &str, a: Estimate, b: Estimate) {
    let combined = (a.error.powi(2) + b.error.powi(2)).sqrt();
    assert!(
        (a.value - b.value).abs() < 4.0 * combined,
        "{what}: reweighted {a} vs direct {b}"
    );
}

#[test]
fn reweighting_from_2_27_reproduces_direct_runs_at_2_25_and_2_29() {
    // Ferrenberg & Swendsen, PRL 61, 2635 (1988). At L = 16 the energy histogram at 2.27 overlaps
    // those at 2.25 and 2.29 well (|Δβ|·σ_E ≈ 0.5), so reweighting must agree within errors.
    let source = point(
        ModelKind::Ising2d,
        2,
        16,
        2.27,
        Algorithm::Wolff,
        60_000,
        41,
    );
    for (t, seed) in [(2.25, 42), (2.29, 43)] {
        let rw = source.observables_at(t);
        let direct =
            point(ModelKind::Ising2d, 2, 16, t, Algorithm::Wolff, 60_000, seed).observables();
        agree(&format!("T={t} energy"), rw.energy, direct.energy);
        agree(&format!("T={t} |m|"), rw.abs_m, direct.abs_m);
        agree(&format!("T={t} binder"), rw.binder, direct.binder);
        agree(
            &format!("T={t} chi"),
            rw.susceptibility,
            direct.susceptibility,
        );
        agree(&format!("T={t} C"), rw.specific_heat, direct.specific_heat);
        // And it must actually move: the energies at 2.27 and at t differ by many errors.
        let own = source.observables();
        assert!((own.energy.value - rw.energy.value).abs() > 5.0 * rw.energy.error);
    }
}

#[test]
fn potts_q3_energy_at_tc_approaches_exact_value_like_l_to_minus_0_8() {
    // q = 3 Potts, square lattice: T_c = 1/ln(1+√3), e(T_c) = −(1 + 1/√3) = −1.5773503 per site
    // (REFERENCE.md §1). The finite-size deviation scales like L^{(α−1)/ν} = L^{−0.8}
    // (α = 1/3, ν = 5/6). On the torus the finite lattice is more ordered than the infinite one,
    // so e(L) lies below the limit and rises towards it.
    let tc = 1.0 / (1.0 + 3f64.sqrt()).ln();
    let exact = -(1.0 + 1.0 / 3f64.sqrt());
    let mut ln_l = Vec::new();
    let mut ln_d = Vec::new();
    let mut sigma = Vec::new();
    let mut last = f64::INFINITY;
    for (size, seed) in [(16, 51), (32, 52), (64, 53)] {
        let e = point(
            ModelKind::Potts2d,
            3,
            size,
            tc,
            Algorithm::SwendsenWang,
            20_000,
            seed,
        )
        .observables()
        .energy;
        let d = exact - e.value;
        assert!(
            d > 0.0,
            "L={size}: e = {e} should lie below the infinite-lattice value"
        );
        assert!(
            d < last,
            "L={size}: the deviation must shrink with L ({d} vs {last})"
        );
        assert!(
            d > 6.0 * e.error,
            "L={size}: deviation {d} not resolved by ±{}",
            e.error
        );
        last = d;
        ln_l.push((size as f64).ln());
        ln_d.push(d.ln());
        sigma.push(e.error / d);
    }
    let fit = fit_line(&ln_l, &ln_d, &sigma).expect("fit");
    eprintln!(
        "q=3 Potts: e(L) deviation ~ L^({:.3} ± {:.3})",
        fit.slope, fit.slope_error
    );
    // 4 statistical errors, plus 0.1 for corrections to scaling at these small sizes (the
    // leading correction in the 2D Potts energy is a constant background, which makes the
    // effective exponent drift by O(0.1) over L = 16..64).
    assert!(
        (fit.slope + 0.8).abs() < 4.0 * fit.slope_error + 0.1,
        "effective exponent {} ± {}",
        fit.slope,
        fit.slope_error
    );
}
