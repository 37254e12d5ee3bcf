use super::curves::{Curves, crossing};
use super::*;

/// U₄ curves whose difference is `d` (b sits at zero).
fn curves(d: &[f64]) -> (Curves, Curves) {
    let a = Curves {
        at: d.iter().map(|&u| [u, 0.0, 0.0, 0.0, 0.0]).collect(),
    };
    let b = Curves {
        at: vec![[0.0; 5]; d.len()],
    };
    (a, b)
}

#[test]
fn the_crossing_is_the_best_supported_sign_change_not_the_steepest() {
    // The physical crossing between grid points 80 and 81: the larger lattice significantly
    // above (10 σ), then significantly below (10 σ). In the tail, a steeper sign change into
    // a stretch that is zero within noise (−0.2 ± 0.3), as reweighting across a wide gap
    // makes it.
    let mut d = vec![0.0; GRID];
    let mut noise = vec![0.0; GRID];
    for g in 0..GRID {
        (d[g], noise[g]) = match g {
            0..=80 => (-0.01, 0.001),
            81..=159 => (0.05, 0.005),
            _ => (-0.2, 0.3),
        };
    }
    let (a, b) = curves(&d);
    let x = crossing(&a, &b, None, &noise).expect("a crossing");
    assert!((x - (80.0 + 0.01 / 0.06)).abs() < 1e-12, "{x}");
    // Steepness alone (no resamples to measure noise with) takes the tail.
    let steepest = crossing(&a, &b, None, &[]).expect("a crossing");
    assert!((159.0..160.0).contains(&steepest), "{steepest}");
    // A resample keeps to the sign change nearest the data's.
    let near = crossing(&a, &b, Some(158.0), &noise).expect("a crossing");
    assert!((near - steepest).abs() < 1e-12);
    // Without measurable support on either side, the steeper of two sign changes.
    let (a, b) = curves(&d);
    let flat = vec![0.0; GRID];
    let x = crossing(&a, &b, None, &flat).expect("a crossing");
    assert!((x - steepest).abs() < 1e-12, "{x}");
    // No sign change, no crossing.
    let (a, b) = curves(&vec![0.1; GRID]);
    assert_eq!(crossing(&a, &b, None, &noise), None);
}
