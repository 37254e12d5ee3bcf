use super::*;

#[test]
fn lattices_allow_levels_down_to_the_smallest_measured_size() {
    assert_eq!(Settings::max_levels(64), 4); // 64 → 32 → 16 → 8 → 4
    assert_eq!(Settings::max_levels(8), 1);
    assert_eq!(Settings::max_levels(6), 0); // 6 → 3 is below 4
    assert_eq!(Settings::max_levels(24), 2); // 24 → 12 → 6, not 3
}

#[test]
fn the_audit_leaves_every_level_as_it_was() {
    let mut s = Stream::derive(4, "audit-invariance");
    let configs: Vec<Vec<u8>> = (0..40)
        .map(|_| (0..64).map(|_| u8::from(s.uniform() < 0.3)).collect())
        .collect();
    let mut settings = Settings {
        maps: vec![MapKind::Majority, MapKind::Rbm],
        levels: 1,
        operators: vec![Operator::NearestNeighbour, Operator::Field],
        samples: 40,
        blocks: 4,
        rsmi: None,
        rbm: Some(RbmRule {
            epochs: 2,
            ..RbmRule::default()
        }),
        autoencoder: None,
        audit: false,
    };
    assert_eq!(settings.check(2, 2, 8, 40), Ok(()));
    let stream = Stream::derive(1, "flows");
    let plain = flows(&settings, 2, 2, 8, &configs, 0, &stream);
    settings.audit = true;
    if let Some(r) = settings.rbm.as_mut() {
        r.information_plane = true;
    }
    assert_eq!(settings.check(2, 2, 8, 40), Ok(()));
    let audited = flows(&settings, 2, 2, 8, &configs, 0, &stream);
    for (a, b) in plain.iter().zip(&audited) {
        assert_eq!(
            serde_json::to_string(&a.couplings).ok(),
            serde_json::to_string(&b.couplings).ok()
        );
        assert_eq!(a.filter, b.filter);
        assert_eq!(b.relevance.is_some(), b.level == 1, "{b:?}");
        let epochs: Vec<usize> = b.plane.iter().map(|p| p.epoch).collect();
        let want = if b.map == MapKind::Rbm && b.level == 1 {
            vec![1, 2]
        } else {
            vec![]
        };
        assert_eq!(epochs, want, "{b:?}");
    }
    // The plane needs the audit.
    settings.audit = false;
    assert!(settings.check(2, 2, 8, 40).is_err());
}

#[test]
fn fully_ordered_levels_report_an_infinite_coupling() {
    let settings = Settings {
        maps: vec![MapKind::Majority],
        levels: 1,
        operators: vec![Operator::NearestNeighbour, Operator::Field],
        samples: 4,
        blocks: 2,
        rsmi: None,
        rbm: None,
        autoencoder: None,
        audit: false,
    };
    let configs = vec![vec![0u8; 64], vec![1u8; 64], vec![0u8; 64], vec![0u8; 64]];
    let out = flows(
        &settings,
        2,
        2,
        8,
        &configs,
        0,
        &Stream::derive(1, "ordered"),
    );
    assert_eq!(out.len(), 2);
    for level in &out {
        assert_eq!(level.couplings[0], f64::INFINITY, "{level:?}");
        assert!(level.couplings[1].is_nan());
    }
}

/// Both RBM maps on configurations made of uniform 2×2 blocks, each up or down by its own
/// coin. The local map's fields are its blocks by construction: radius √½ (the blocks' four
/// weights come out equal). The dense map's units need not be local even here: CD-1 spreads
/// them (in-block fractions of |w| of 2–49% over units, at 200 or 1000 epochs, with or without
/// an L1 penalty of 10⁻³), so what is asserted is the measurement's range, below the 3.27 of
/// weight spread evenly over the 8×8 lattice. Neither keeps any knowledge of the environment:
/// there is none to have.
#[test]
fn both_rbm_maps_measure_receptive_fields() {
    let size = 8;
    let mut s = Stream::derive(5, "dense-blocks");
    let configs = crate::rg::rbm_map::uniform_blocks(400, &mut s);
    let settings = Settings {
        maps: vec![MapKind::Rbm, MapKind::RbmDense],
        levels: 1,
        operators: vec![Operator::NearestNeighbour, Operator::Field],
        samples: 400,
        blocks: 4,
        rsmi: None,
        rbm: Some(RbmRule::default()),
        autoencoder: None,
        audit: true,
    };
    assert_eq!(settings.check(2, 2, size, 400), Ok(()));
    let levels = flows(&settings, 2, 2, size, &configs, 0, &Stream::derive(1, "f"));
    for l in levels.iter().filter(|l| l.level == 1) {
        let r = l.receptive.expect("an RBM level has receptive fields");
        if l.map == MapKind::Rbm {
            assert!((r.value - 0.5f64.sqrt()).abs() < 1e-3, "{r:?}");
        } else {
            assert!(
                r.value > 0.0 && r.value < 8.0 * (1.0f64 / 6.0).sqrt(),
                "{r:?}"
            );
        }
        let rel = l.relevance.expect("audited");
        assert!(
            rel.value.abs() < 4.0 * rel.error + 0.01,
            "{:?}: {rel:?}",
            l.map
        );
        assert_eq!(l.filter.is_empty(), l.map == MapKind::RbmDense, "{l:?}");
    }
    assert!(
        levels
            .iter()
            .filter(|l| l.level == 0)
            .all(|l| l.receptive.is_none())
    );
    // Too large a dense layer is refused; the plane is the local map's.
    let mut big = settings.clone();
    big.maps = vec![MapKind::RbmDense];
    assert!(big.check(2, 2, 128, 400).is_err());
    big.rbm = Some(RbmRule {
        information_plane: true,
        ..RbmRule::default()
    });
    assert!(big.check(2, 2, size, 400).is_err());
}

/// Both autoencoder maps on uniform 2×2 blocks: one bit per block, which a one-code layer can
/// keep whole. Each learns it (compression ln 2), keeps nothing about the environment (there
/// is none), reports its information plane at the checkpoints, and is reproducible.
#[test]
fn autoencoder_maps_learn_the_block_bit_and_show_their_plane() {
    let size = 8;
    let mut s = Stream::derive(5, "ae-blocks");
    let configs = crate::rg::rbm_map::uniform_blocks(400, &mut s);
    let settings = Settings {
        maps: vec![MapKind::AutoencoderTanh, MapKind::AutoencoderRelu],
        levels: 1,
        operators: vec![Operator::NearestNeighbour, Operator::Field],
        samples: 400,
        blocks: 4,
        rsmi: None,
        rbm: None,
        autoencoder: Some(AutoencoderRule {
            learning_rate: 0.03,
            batch: 256,
            epochs: 10,
            information_plane: true,
            ..AutoencoderRule::default()
        }),
        audit: true,
    };
    assert_eq!(settings.check(2, 2, size, 400), Ok(()));
    let stream = Stream::derive(1, "f");
    let levels = flows(&settings, 2, 2, size, &configs, 0, &stream);
    let ln2 = std::f64::consts::LN_2;
    for l in levels.iter().filter(|l| l.level == 1) {
        let c = l.compression.expect("audited");
        assert!(c.value > 0.9 * ln2, "{:?}: {c:?}", l.map);
        let rel = l.relevance.expect("audited");
        assert!(
            rel.value.abs() < 4.0 * rel.error + 0.01,
            "{:?}: {rel:?}",
            l.map
        );
        let epochs: Vec<usize> = l.plane.iter().map(|p| p.epoch).collect();
        assert_eq!(epochs, vec![1, 2, 5, 10], "{:?}", l.map);
        assert!(l.filter.is_empty() && l.receptive.is_none());
        // Uniform blocks coarse-grain to a lattice of independent spins: K₁ ≈ 0.
        assert!(l.couplings[0].abs() < 4.0 * l.errors[0] + 0.02, "{l:?}");
    }
    assert!(levels.iter().all(|l| l.level == 1 || l.plane.is_empty()));
    // (Through JSON: level 0's NaN couplings are not equal to themselves.)
    let json = |l: &[Level]| serde_json::to_string(l).expect("serialises");
    assert_eq!(
        json(&levels),
        json(&flows(&settings, 2, 2, size, &configs, 0, &stream))
    );
    // The section goes with the maps, the plane with the audit, the maps with 2D Ising.
    let mut bad = settings.clone();
    bad.autoencoder = None;
    assert!(bad.check(2, 2, size, 400).is_err());
    let mut bad = settings.clone();
    bad.maps = vec![MapKind::Majority];
    assert!(bad.check(2, 2, size, 400).is_err());
    let mut bad = settings.clone();
    bad.audit = false;
    assert!(bad.check(2, 2, size, 400).is_err());
    assert!(settings.check(3, 2, size, 400).is_err());
    assert!(settings.check(2, 3, size, 400).is_err());
}
