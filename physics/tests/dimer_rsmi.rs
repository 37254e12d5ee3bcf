//! RSMI on interacting dimers in the RSMI-NE tutorial's geometry (REFERENCE.md §5): 32×32 dimers
//! as a 64×64 image with decoys, block 8×8 pixels, buffer 4, environment 4, two hidden units,
//! 15,000 images (16 blocks each). What the learned filters are made of, measured
//! (`configs/dimer-rsmi.toml` runs the same through the sweep machinery):
//! - T = 15, deep in the critical phase: the emergent electric field (71–80% of the filters'
//!   squared weight in the span of the two staggered bond patterns; decoys ≤ 1%). The issue's
//!   90% is not reached: the filters weight the block's edge bonds more and mix E_x with E_y.
//! - T = 1.0, near T_KT: the columnar order parameter, whose correlations (r^−α_d, α_d ≈ 0.6)
//!   outlast the field's (r^−2) — the more relevant variable wins the information.

use rgsweep_physics::Stream;
use rgsweep_physics::model::dimer2d::Dimers;
use rgsweep_physics::model::dimer2d::image::{FieldOverlap, field_overlap};
use rgsweep_physics::model::dimer2d::worm::{Exits, Worm};
use rgsweep_physics::rsmi::{self, Bound, Encoding, Geometry, Job, TrainSettings};

/// `n` symmetrised images at temperature `t` (v = −1), a few sweeps apart.
fn images(t: f64, n: usize) -> Vec<Vec<u8>> {
    let mut d = Dimers::columnar(32, -1.0).expect("even");
    let worm = Worm::new(-1.0, 1.0 / t, Exits::MinimalBounce);
    let mut rng = Stream::derive(3, &format!("T={t}"));
    let mut decoys = Stream::derive(4, &format!("T={t}"));
    worm.run(&mut d, &mut rng, 20_000);
    (0..n)
        .map(|_| {
            worm.run(&mut d, &mut rng, 200);
            d.symmetrised_image(&mut decoys)
        })
        .collect()
}

fn learn(t: f64, n: usize) -> (f64, f64, FieldOverlap, Vec<Vec<f64>>) {
    let configs = images(t, n);
    let refs: Vec<&[u8]> = configs.iter().map(Vec::as_slice).collect();
    let job = Job {
        geometry: Geometry::new(2, 64, 8, 4, 4).expect("fits"),
        encoding: Encoding::Ising,
        stride: 16,
        holdout: rsmi::HOLDOUT,
        open: false,
        settings: TrainSettings {
            hidden: 2,
            bound: Bound::InfoNce,
            batch: 500,
            max_epochs: 60,
            learning_rate: 9e-3,
            ..TrainSettings::default()
        },
    };
    let mut stream = Stream::derive(5, &format!("rsmi/T={t}"));
    let trained = rsmi::run(&refs, &job, &mut stream, None).expect("trains");
    let overlap = field_overlap(&trained.filters, 8).expect("8×8 filters");
    eprintln!(
        "T = {t}: I(H:E) = {:.4} ± {:.4} nats after {} epochs; {overlap:?}",
        trained.mi_nats, trained.mi_err, trained.epochs
    );
    (trained.mi_nats, trained.mi_err, overlap, trained.filters)
}

#[test]
#[ignore = "long: RSMI training on 64×64 dimer images, about 2 minutes"]
fn rsmi_finds_the_field_at_high_temperature_and_the_columnar_order_near_t_kt() {
    let (mi, err, o, _) = learn(15.0, 15_000);
    assert!(mi > 5.0 * err, "T = 15: no information found");
    assert!(
        o.in_field_span > 0.6 && o.in_columnar_span < 0.2,
        "T = 15: {o:?}"
    );
    assert!(o.decoy_weight <= 0.05, "T = 15: {o:?}");
    let (mi, err, o, _) = learn(1.0, 15_000);
    assert!(mi > 5.0 * err, "T = 1: no information found");
    assert!(
        o.in_columnar_span > 0.4 && o.in_field_span < 0.1,
        "T = 1: {o:?}"
    );
    assert!(o.decoy_weight <= 0.05, "T = 1: {o:?}");
}

/// Issue 14's emergent dimension: the filters learned at T = ∞ on L = 32, applied to every
/// block of L = 128 images, give coarse variables whose correlations fall as r^(−2Δ) with
/// Δ within 10% of the electric field's 1 (measured here: Δ = 0.97(11), filters 71% in the
/// field's span; `rgsweep rsmi --model dimer2d --temperature 1000 --dimension-size 128` on its
/// own samples: Δ = 1.05(7), 86%).
#[test]
#[ignore = "long: RSMI training on 64×64 dimer images, about a minute"]
fn the_learned_coarse_variable_has_the_field_s_dimension_at_infinite_temperature() {
    let (mi, err, o, filters) = learn(f64::INFINITY, 15_000);
    assert!(mi > 5.0 * err && o.in_field_span > 0.6, "{o:?}");
    let mut rng = Stream::derive(6, "dimension");
    let mut decoys = Stream::derive(6, "dimension/decoys");
    let delta = rgsweep_physics::model::dimer2d::coarse::measure(
        &filters,
        8,
        128,
        0.0,
        &mut rng,
        &mut decoys,
    )
    .expect("a fit");
    eprintln!("T = ∞: Δ = {delta:?}");
    assert!((delta.value - 1.0).abs() <= 0.1, "Δ = {delta:?}");
}
