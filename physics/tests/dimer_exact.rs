//! Every dimer sampler against exact enumeration of all coverings of the 4×4 (272) and 6×6
//! (90,176) tori (REFERENCE.md §5; counts: OEIS A335586): ⟨N_∥⟩, ⟨N_∥²⟩ (so ⟨E⟩ and the
//! specific heat), ⟨|M_col|²⟩ and the winding-sector distribution, within 4 standard errors
//! (τ_int-corrected) at T = ∞, 1.0 and 0.5. The worm with heat-bath and with minimal-bounce
//! exits samples the whole torus; plaquette flips keep the sector they start in, so they are
//! held to the exact averages within that sector.

use rgsweep_physics::model::dimer2d::exact::{Exact, averages, coverings};
use rgsweep_physics::model::dimer2d::plaquette::Plaquette;
use rgsweep_physics::model::dimer2d::worm::{Exits, Worm};
use rgsweep_physics::model::dimer2d::{Dimers, Sample};
use rgsweep_physics::rng::Stream;
use rgsweep_physics::stats::mean_with_tau;

const V: f64 = -1.0;
const SIGMAS: f64 = 4.0;

#[derive(Clone, Copy, Debug)]
enum Sampler {
    Worm(Exits),
    Plaquette,
}

/// Samples after each of `n` updates (`worms` worms, or one plaquette sweep).
fn run(l: usize, beta: f64, sampler: Sampler, n: usize, worms: u64, seed: &str) -> Vec<Sample> {
    let mut d = Dimers::columnar(l, V).expect("even L");
    let mut rng = Stream::derive(7, seed);
    let worm = |e| Worm::new(V, beta, e);
    let mut out = Vec::with_capacity(n);
    match sampler {
        Sampler::Worm(e) => {
            let w = worm(e);
            w.run(&mut d, &mut rng, 1000);
            for _ in 0..n {
                w.run(&mut d, &mut rng, worms);
                out.push(d.sample());
            }
        }
        Sampler::Plaquette => {
            let p = Plaquette::new(V, beta);
            for _ in 0..200 {
                p.sweep(&mut d, &mut rng);
            }
            for _ in 0..n {
                p.sweep(&mut d, &mut rng);
                out.push(d.sample());
            }
        }
    }
    out
}

fn compare(what: &str, series: &[Sample], sites: usize, exact: &Exact) {
    let check = |name: &str, x: Vec<f64>, truth: f64| {
        let (m, tau) = mean_with_tau(&x);
        assert!(tau.converged, "{what} {name}: τ not converged");
        let z = (m.value - truth) / m.error.max(1e-12);
        eprintln!(
            "{what} {name}: {:.5} ± {:.5} (exact {truth:.5}, {z:+.1}σ, τ {:.1})",
            m.value, m.error, tau.tau
        );
        assert!(z.abs() < SIGMAS, "{what} {name}: {z:.1} errors off");
    };
    let p: Vec<f64> = series.iter().map(|s| s.parallel as f64).collect();
    check("N_par", p.clone(), exact.parallel);
    check(
        "N_par²",
        p.iter().map(|x| x * x).collect(),
        exact.parallel_sq,
    );
    check(
        "M_col²",
        series.iter().map(|s| s.columnar_sq(sites)).collect(),
        exact.columnar_sq,
    );
    for (&(wx, wy), &prob) in &exact.sectors {
        if prob < 0.01 {
            continue;
        }
        let hits = series
            .iter()
            .map(|s| f64::from(u8::from(s.winding == [wx, wy])))
            .collect();
        check(&format!("P(W = ({wx}, {wy}))"), hits, prob);
    }
}

fn check_size(l: usize, n: usize, worms: u64) {
    let all = coverings(l);
    let sites = l * l;
    for (t, beta) in [("inf", 0.0), ("1.0", 1.0), ("0.5", 2.0)] {
        for sampler in [
            Sampler::Worm(Exits::HeatBath),
            Sampler::Worm(Exits::MinimalBounce),
            Sampler::Plaquette,
        ] {
            let what = format!("L={l} T={t} {sampler:?}");
            let series = run(l, beta, sampler, n, worms, &what);
            let sector = matches!(sampler, Sampler::Plaquette).then_some([0, 0]);
            if sector.is_some() {
                assert!(series.iter().all(|s| s.winding == [0, 0]), "{what}");
            }
            compare(
                &what,
                &series,
                sites,
                &averages(&all, sites, V, beta, sector),
            );
        }
    }
}

#[test]
fn the_coverings_of_small_tori_are_counted_right() {
    assert_eq!(coverings(4).len(), 272);
    let six = coverings(6);
    assert_eq!(six.len(), 90_176);
    // At T = ∞ a parallel pair sits on a plaquette with probability → 1/4 (1/8 each
    // orientation on the infinite lattice); the 6×6 torus is already close.
    let e = averages(&six, 36, V, 0.0, None);
    assert!(
        (e.parallel / 36.0 - 0.25).abs() < 0.03,
        "{}",
        e.parallel / 36.0
    );
    // Winding sectors are symmetric under x ↔ y and W → −W.
    for (&(wx, wy), &p) in &e.sectors {
        assert!((p - e.sectors[&(wy, wx)]).abs() < 1e-12);
        assert!((p - e.sectors[&(-wx, wy)]).abs() < 1e-12);
    }
}

#[test]
fn samplers_match_the_4x4_torus_exactly() {
    check_size(4, 60_000, 1);
}

#[test]
fn samplers_match_the_6x6_torus_exactly() {
    check_size(6, 40_000, 2);
}
