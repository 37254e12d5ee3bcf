//! The critical phase of interacting dimers at T = ∞ (REFERENCE.md §5): columnar dimer
//! correlations along an axis decay as r^(−α_d) with α_d = 2 (Fisher & Stephenson, Phys. Rev.
//! 132, 1411, 1963). The correlation of horizontal dimers in one row, G(r) = ⟨n(0)n(r)⟩ − 1/16,
//! is the oscillating columnar part (−1)^r·A·r^(−α_d) plus a smooth part (the electric field,
//! also ∝ r^(−2)); S(r) = (−1)^r·[G(r) − (G(r−1) + G(r+1))/2] keeps the first. Averaged over
//! the same window of r/L on every torus (r = L/4 … L/2), S ∝ L^(−α_d) with one shape function
//! for every L, so ln(S_L / S_2L) / ln 2 is α_d up to corrections that shrink with L. (A power-law fit in r
//! on one lattice depends on the window: on L = 48, r²S is flat within 3% for r = 7 … 18, but
//! short-distance corrections below and the torus above pull a fit over r = 3 … 21 to 2.4.)

use rgsweep_physics::Stream;
use rgsweep_physics::model::dimer2d::Dimers;
use rgsweep_physics::model::dimer2d::worm::{Exits, Worm};
use rgsweep_physics::stats::{Estimate, jackknife};

/// The mean of S(r) over r = L/4 … L/2 at T = ∞, with its jackknife error: the same window in
/// r/L for every L, so ∝ L^(−α_d), and much less noisy than S(L/2) alone.
fn staggered_window(l: usize, blocks: usize, per_block: usize) -> Estimate {
    const K: usize = 34;
    let n = l * l;
    let mut d = Dimers::columnar(l, -1.0).expect("even");
    let worm = Worm::new(-1.0, 0.0, Exits::MinimalBounce);
    let mut rng = Stream::derive(5, &format!("dimer-critical/L={l}"));
    worm.run(&mut d, &mut rng, 50 * l as u64);
    // A worm at T = ∞ is about L²/8 steps: a few make a sweep-equivalent.
    let worms = 8;
    let mut sums: Vec<[f64; K]> = Vec::new();
    for _ in 0..blocks {
        let mut c = vec![0u64; l / 2 + 1];
        for _ in 0..per_block {
            worm.run(&mut d, &mut rng, worms);
            d.add_correlations(&mut c);
        }
        let mut row = [0.0; K];
        for (r, v) in c.iter().enumerate() {
            row[r] = *v as f64 / (n * per_block) as f64;
        }
        row[K - 1] = 1.0;
        sums.push(row);
    }
    jackknife(&sums, |s| {
        // G(L/2 + 1) = G(L/2 − 1) on the torus.
        let g = |r: usize| s[r.min(l - r)] / s[K - 1] - 1.0 / 16.0;
        let window = l / 4..=l / 2;
        let count = window.clone().count() as f64;
        window
            .map(|r| {
                let sign = if r % 2 == 0 { 1.0 } else { -1.0 };
                sign * (g(r) - 0.5 * (g(r - 1) + g(r + 1)))
            })
            .sum::<f64>()
            / count
    })
}

/// α_d between the two largest sizes, with its error, printing every pair.
fn alpha_d(blocks: usize, per_block: usize) -> (f64, f64) {
    let s: Vec<(usize, Estimate)> = [16, 32, 64]
        .into_iter()
        .map(|l| (l, staggered_window(l, blocks, per_block)))
        .collect();
    let mut last = None;
    for w in s.windows(2) {
        let ((la, a), (lb, b)) = (w[0], w[1]);
        let alpha = (a.value / b.value).ln() / 2f64.ln();
        let error = (a.error / a.value).hypot(b.error / b.value) / 2f64.ln();
        eprintln!(
            "S over r = L/4 … L/2: L={la} {:.4e} ± {:.1e}, L={lb} {:.4e} ± {:.1e}: α_d = {alpha:.4} ± {error:.4}",
            a.value, a.error, b.value, b.error
        );
        last = Some((alpha, error));
    }
    last.expect("two sizes")
}

#[test]
fn columnar_correlations_decay_with_fisher_stephenson_exponent_two_at_infinite_temperature() {
    let (alpha, error) = alpha_d(20, 1500);
    // At this CI-sized statistics (11 s) the error is about 0.13: the test tells α_d = 2 from
    // α_d = 1/4 (T_KT) or 4 (the monomers' exponent there) but not within 5%; the ignored test
    // below does.
    assert!(error < 0.2, "α_d = {alpha} ± {error}: too noisy to test");
    assert!(
        (alpha - 2.0).abs() < 4.0 * error,
        "α_d = {alpha} ± {error}, not 2"
    );
}

/// Issue 14's acceptance: α_d = 2 at T = ∞ within 5%, from the correlation function.
/// Measured (157 s): 2.068(27) between L = 32 and 64; 2.216(13) between 16 and 32 — the
/// estimate falls towards 2 as L grows.
#[test]
#[ignore = "long: 16 times the statistics, about 3 minutes"]
fn alpha_d_at_infinite_temperature_is_two_within_five_percent() {
    let (alpha, error) = alpha_d(20, 24_000);
    assert!(
        error < 0.04,
        "α_d = {alpha} ± {error}: too noisy to test 5%"
    );
    assert!(
        (alpha - 2.0).abs() <= 0.1 && (alpha - 2.0).abs() <= 3.0 * error,
        "α_d = {alpha} ± {error}"
    );
}
