//! The finite-size-scaling pipeline end to end on small 2D Ising lattices (seconds): crossings
//! and T_c near the exact value within their own errors, exponents with sane error bars, and a
//! result that does not depend on the order the points arrive in.

use rgsweep_physics::exact::ISING2D_TC;
use rgsweep_physics::fss::analyse;
use rgsweep_physics::sweep::{FssSettings, MonteCarlo};
use rgsweep_physics::task::{Task, point_data};
use rgsweep_physics::{Algorithm, ModelKind, PointData};

fn points() -> Vec<PointData> {
    let mut out = Vec::new();
    for size in [8, 16, 32] {
        for (k, t) in [2.22, 2.25, 2.28, 2.31].into_iter().enumerate() {
            let task = Task {
                model: ModelKind::Ising2d,
                q: 2,
                size,
                temperature: t,
                monte_carlo: MonteCarlo {
                    algorithm: Algorithm::Wolff,
                    thermalize: 300,
                    measurements: 6_000,
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
            let r = task.run(100 + size as u64 * 10 + k as u64);
            out.push(point_data(&[&r]).expect("result"));
        }
    }
    out
}

#[test]
fn small_ising_fss_brackets_the_exact_values() {
    let pts = points();
    let settings = FssSettings {
        bootstrap: 100,
        ..FssSettings::default()
    };
    let s = analyse(&pts, &settings, 9);
    assert_eq!(
        s.crossings.len(),
        3,
        "every pair of sizes crosses: {:?}",
        s.notes
    );
    let tc = s.tc.expect("T_c").estimate();
    // Exact T_c within 4 of its error bars; the error itself is a few 1e-3 at these sizes,
    // neither zero nor so large that the check is empty.
    assert!(tc.deviation(ISING2D_TC) < 4.0, "T_c {tc}");
    eprintln!("T_c: {tc}");
    // Extrapolating from two consecutive crossings (8/16, 16/32) amplifies their noise.
    assert!(tc.error > 1e-4 && tc.error < 0.02, "T_c error {}", tc.error);
    for (name, est, exact, max_error) in [
        ("nu", s.nu, 1.0f64, 0.1),
        ("gamma/nu", s.gamma_over_nu, 1.75, 0.08),
        ("beta/nu", s.beta_over_nu, 0.125, 0.03),
    ] {
        let e = est.expect(name).estimate();
        eprintln!("{name}: {e}");
        // The error must be a real, informative number at these sizes...
        assert!(e.error > 0.0 && e.error < max_error, "{name}: {e}");
        // ...and cover the exact value, allowing 5% for corrections to scaling at L = 8..32.
        assert!(
            (e.value - exact).abs() < 4.0 * e.error + 0.05 * exact,
            "{name}: {e} vs {exact}"
        );
    }
    let u = s.binder_at_tc.expect("U4*");
    // U₄* = 0.6107 on the periodic square lattice (REFERENCE.md §1, Salas & Sokal 2000);
    // 0.01 allows for its finite-size drift at L = 32.
    eprintln!("U4 at T_c, L = 32: {u}");
    assert!((u.value - 0.6107).abs() < 4.0 * u.error + 0.01, "U4* {u}");
}

#[test]
fn analysis_does_not_depend_on_point_order() {
    let pts = points();
    let settings = FssSettings {
        bootstrap: 40,
        ..FssSettings::default()
    };
    let a = analyse(&pts, &settings, 3);
    let mut reversed = pts.clone();
    reversed.reverse();
    let b = analyse(&reversed, &settings, 3);
    assert_eq!(a, b);
}
