use super::*;

#[test]
fn a_result_with_flows_round_trips_and_is_checked() {
    use prost::Message;
    let mut t = task();
    t.model = ModelKind::Ising2d;
    t.q = 2;
    t.size = 16;
    t.monte_carlo.measurements = 100;
    t.rg = Some(Box::new(rg::Settings {
        maps: vec![MapKind::Majority, MapKind::Rsmi],
        levels: 2,
        operators: vec![Operator::NearestNeighbour, Operator::Field],
        samples: 40,
        blocks: 4,
        rsmi: Some(RsmiRule {
            max_epochs: 2,
            ..RsmiRule::default()
        }),
        rbm: None,
        autoencoder: None,
        audit: false,
    }));
    t.save_samples = 3;
    let r = t.run(7);
    // 2 replicas × 2 maps × levels 0..=2; 2 replicas × 3 saved configurations.
    assert_eq!(r.rg.len(), 12);
    assert_eq!(r.samples.len(), 6);
    assert!(r.samples.iter().all(|c| c.len() == 256));
    let wire = result_to_wire(&r, 7);
    let (back, _) = result_from_wire(wire.clone()).expect("valid");
    // (Levels hold NaNs, which are not equal to themselves: compare the encodings.)
    assert_eq!(
        result_to_wire(&back, 7).encode_to_vec(),
        wire.encode_to_vec()
    );
    let mut bad = wire.clone();
    bad.rg[3].couplings.pop();
    assert!(matches!(
        result_from_wire(bad),
        Err(WireError::Invalid { field: "rg", .. })
    ));
    let mut bad = wire.clone();
    bad.rg.swap(0, 1);
    assert!(result_from_wire(bad).is_err(), "levels out of order");
    let mut bad = wire.clone();
    bad.rg.pop();
    assert!(result_from_wire(bad).is_err(), "a level missing");
    let mut bad = wire.clone();
    bad.samples[5][0] = 2;
    assert!(matches!(
        result_from_wire(bad),
        Err(WireError::Invalid {
            field: "samples",
            ..
        })
    ));
    let mut bad = wire;
    bad.samples.pop();
    assert!(result_from_wire(bad).is_err(), "a configuration missing");
    // Settings a sweep file could not have: more levels than L = 16 allows, an operator that
    // does not exist.
    let mut wire = task_to_wire(&t, 7);
    if let Some(r) = wire.rg.as_mut() {
        r.levels = 3;
    }
    assert!(matches!(
        task_from_wire(&wire),
        Err(WireError::Invalid { field: "rg", .. })
    ));
    let mut wire = task_to_wire(&t, 7);
    if let Some(r) = wire.rg.as_mut() {
        r.operators.push("sixth".into());
    }
    assert!(task_from_wire(&wire).is_err());
}

#[test]
fn an_audited_result_with_the_rbm_map_round_trips_and_is_checked() {
    use prost::Message;
    let mut t = task();
    t.model = ModelKind::Ising2d;
    t.q = 2;
    t.size = 16;
    t.monte_carlo.measurements = 100;
    t.rg = Some(Box::new(rg::Settings {
        maps: vec![MapKind::Rbm, MapKind::Rsmi, MapKind::AutoencoderRelu],
        levels: 1,
        operators: vec![Operator::NearestNeighbour, Operator::Second],
        samples: 60,
        blocks: 4,
        rsmi: Some(RsmiRule {
            max_epochs: 2,
            warm_start: true,
            ..RsmiRule::default()
        }),
        rbm: Some(rg::RbmRule {
            epochs: 3,
            batch: 10,
            information_plane: true,
            ..rg::RbmRule::default()
        }),
        autoencoder: Some(rg::AutoencoderRule {
            epochs: 2,
            ..rg::AutoencoderRule::default()
        }),
        audit: true,
    }));
    let r = t.run(7);
    assert!(
        r.rg.iter()
            .all(|l| (l.map == MapKind::Rbm && l.level > 0) == (l.plane.len() == 3))
    );
    assert!(r.rg.iter().all(|l| (l.level > 0) == l.relevance.is_some()));
    assert!(
        r.rg.iter()
            .all(|l| (l.level > 0) == l.compression.is_some())
    );
    let wire = task_to_wire(&t, 7);
    let (back, _) = task_from_wire(&wire).expect("valid");
    assert_eq!(back.rg, t.rg);
    let wire = result_to_wire(&r, 7);
    let (back, _) = result_from_wire(wire.clone()).expect("valid");
    assert_eq!(
        result_to_wire(&back, 7).encode_to_vec(),
        wire.encode_to_vec()
    );
    // An audit on level 0, or one the task did not ask for, is refused.
    let mut bad = wire.clone();
    bad.rg[0].relevance = bad.rg[1].relevance;
    assert!(result_from_wire(bad).is_err());
    let mut bad = wire.clone();
    bad.rg[3].plane = bad.rg[1].plane.clone();
    assert!(result_from_wire(bad).is_err(), "a plane on the RSMI map");
    let mut bad = wire.clone();
    bad.rg[5].plane = bad.rg[1].plane.clone();
    assert!(
        result_from_wire(bad).is_err(),
        "a plane on an autoencoder whose settings did not ask for one"
    );
    let mut bad = wire.clone();
    bad.rg[5].receptive = bad.rg[1].receptive;
    assert!(
        result_from_wire(bad).is_err(),
        "receptive fields of a non-RBM"
    );
    assert!(
        r.rg.iter()
            .all(|l| (l.map == MapKind::Rbm && l.level > 0) == l.receptive.is_some())
    );
    let mut bad = wire.clone();
    bad.rg[3].receptive = bad.rg[1].receptive;
    assert!(
        result_from_wire(bad).is_err(),
        "receptive fields of the RSMI map"
    );
    let mut bad = wire.clone();
    bad.rg[1].plane[0].relevance = None;
    assert!(
        result_from_wire(bad).is_err(),
        "a plane point without its estimate"
    );
    let mut bad = wire;
    if let Some(rg) = bad.task.as_mut().and_then(|t| t.rg.as_mut()) {
        rg.audit = false;
    }
    assert!(result_from_wire(bad).is_err());
    // RBM settings the sweep file refuses are refused on the wire.
    let mut wire = task_to_wire(&t, 7);
    if let Some(r) = wire.rg.as_mut().and_then(|r| r.rbm.as_mut()) {
        r.batch = 0;
    }
    assert!(task_from_wire(&wire).is_err());
    let mut wire = task_to_wire(&t, 7);
    if let Some(r) = wire.rg.as_mut() {
        r.rbm = None;
    }
    assert!(task_from_wire(&wire).is_err());
}

fn task() -> Task {
    Task {
        model: ModelKind::Potts2d,
        q: 3,
        size: 4,
        temperature: 0.99,
        monte_carlo: MonteCarlo {
            algorithm: Algorithm::SwendsenWang,
            thermalize: 5,
            measurements: 20,
            interval: 2,
        },
        first_replica: 2,
        replicas: 2,
        rsmi: None,
        rg: None,
        save_samples: 0,
        interaction: None,
        probabilities: Vec::new(),
        maze: None,
        external: None,
    }
}

fn dimer_task() -> Task {
    let mut t = task();
    t.model = ModelKind::Dimer2d;
    t.q = 2;
    t.size = 8;
    t.temperature = 1.0;
    t.monte_carlo.algorithm = Algorithm::Worm;
    t.interaction = Some(-1);
    t
}

fn dimer_rsmi_task() -> Task {
    let mut t = dimer_task();
    t.monte_carlo.measurements = 40;
    t.save_samples = 3;
    t.rsmi = Some(Box::new(RsmiSweep {
        block: 4,
        buffers: vec![0],
        env: 2,
        hidden: 2,
        samples: 40,
        stride: Some(4),
        bound: Bound::InfoNce,
        batch: 20,
        max_epochs: 1,
        learning_rate: 5e-3,
        dimension_size: Some(16),
        stagewise: true,
        critic_leak: 0.1,
        quiet_steps: 5,
        restarts: 2,
    }));
    t
}

#[test]
fn a_dimer_result_with_images_and_rsmi_round_trips() {
    let r = dimer_rsmi_task().run(5);
    // Images of the 8×8 lattice: 16×16 pixels; 4×4-pixel filters.
    assert_eq!(r.samples.len(), 6);
    assert!(
        r.samples
            .iter()
            .all(|c| c.len() == 256 && c.iter().all(|&p| p <= 1))
    );
    assert_eq!(r.rsmi.len(), 2);
    assert!(
        r.rsmi
            .iter()
            .all(|p| p.filters.len() == 2 && p.filters.iter().all(|f| f.len() == 16))
    );
    let wire = result_to_wire(&r, 5);
    let (back, _) = result_from_wire(wire.clone()).expect("valid");
    assert_eq!(result_to_wire(&back, 5), wire);
    let mut bad = wire;
    bad.samples[0].pop();
    assert!(result_from_wire(bad).is_err(), "an image one pixel short");
}

#[test]
fn a_dimer_result_round_trips_and_its_named_series_are_checked() {
    let r = dimer_task().run(5);
    assert!(r.replicas.iter().all(|s| s.order.is_empty()
        && s.energy.len() == 20
        && s.named.len() == 4
        && s.named.iter().all(|n| n.values.len() == 20)));
    let wire = result_to_wire(&r, 5);
    let (back, _) = result_from_wire(wire.clone()).expect("valid");
    assert_eq!(back, r);
    let mut bad = wire.clone();
    bad.replicas[1].named.swap(0, 1);
    assert!(result_from_wire(bad).is_err(), "named series out of order");
    let mut bad = wire.clone();
    bad.replicas[0].named[3].values.pop();
    assert!(result_from_wire(bad).is_err(), "a short named series");
    let mut bad = wire.clone();
    bad.replicas[0].order = bad.replicas[0].energy.clone();
    assert!(
        result_from_wire(bad).is_err(),
        "an order series dimers do not have"
    );
    // Tasks a sweep file could not have written.
    for (what, edit) in [
        (
            "odd L",
            Box::new(|w: &mut v1::Task| w.size = 7) as Box<dyn Fn(&mut v1::Task)>,
        ),
        (
            "wolff",
            Box::new(|w: &mut v1::Task| w.algorithm = "wolff".into()),
        ),
        (
            "no interaction",
            Box::new(|w: &mut v1::Task| w.interaction = None),
        ),
        (
            "zero interaction",
            Box::new(|w: &mut v1::Task| w.interaction = Some(0)),
        ),
        (
            "an odd RSMI block",
            Box::new(|w: &mut v1::Task| {
                w.rsmi = task_to_wire(&dimer_rsmi_task(), 5).rsmi;
                if let Some(r) = w.rsmi.as_mut() {
                    r.block = 3;
                }
            }),
        ),
    ] {
        let mut w = task_to_wire(&dimer_task(), 5);
        edit(&mut w);
        assert!(task_from_wire(&w).is_err(), "{what}");
    }
    let mut w = task_to_wire(&task(), 5);
    w.interaction = Some(-1);
    assert!(
        task_from_wire(&w).is_err(),
        "an interaction on a spin model"
    );
    let mut w = task_to_wire(&task(), 5);
    w.algorithm = "worm".into();
    assert!(task_from_wire(&w).is_err(), "a worm on a spin model");
}

#[test]
fn a_result_round_trips_exactly() {
    let r = task().run(42);
    let wire = result_to_wire(&r, 42);
    let (back, seed) = result_from_wire(wire).expect("valid");
    assert_eq!(seed, 42);
    assert_eq!(back, r);
}

#[test]
fn a_result_with_rsmi_round_trips_and_is_checked() {
    let mut t = task();
    t.model = ModelKind::Ising2d;
    t.q = 2;
    t.size = 8;
    t.monte_carlo.measurements = 100;
    t.replicas = 1;
    t.rsmi = Some(Box::new(RsmiSweep {
        block: 2,
        buffers: vec![0, 1],
        env: 1,
        hidden: 1,
        samples: 50,
        stride: None,
        bound: Bound::InfoNce,
        batch: 100,
        max_epochs: 2,
        learning_rate: 5e-3,
        dimension_size: None,
        stagewise: false,
        critic_leak: 0.0,
        quiet_steps: 0,
        restarts: 1,
    }));
    let r = t.run(7);
    assert_eq!(r.rsmi.len(), 2);
    assert!(
        r.rsmi
            .iter()
            .all(|p| p.mi_nats.is_finite() && p.filters[0].len() == 4)
    );
    let (back, _) = result_from_wire(result_to_wire(&r, 7)).expect("valid");
    assert_eq!(back, r);
    let mut wire = result_to_wire(&r, 7);
    wire.rsmi[1].filters[0].weights.pop();
    assert!(matches!(
        result_from_wire(wire),
        Err(WireError::Invalid { field: "rsmi", .. })
    ));
    let mut wire = task_to_wire(&t, 7);
    if let Some(r) = wire.rsmi.as_mut() {
        r.env = 10;
    }
    assert!(matches!(
        task_from_wire(&wire),
        Err(WireError::Invalid { field: "rsmi", .. })
    ));
}

#[test]
fn malformed_results_are_refused_with_the_field() {
    let r = task().run(1);
    let mut wire = result_to_wire(&r, 1);
    wire.replicas[1].order.pop();
    assert!(matches!(
        result_from_wire(wire),
        Err(WireError::Invalid {
            field: "replicas",
            ..
        })
    ));
    let mut wire = result_to_wire(&r, 1);
    wire.task = None;
    assert_eq!(result_from_wire(wire), Err(WireError::Missing("task")));
    let mut t = task_to_wire(&task(), 1);
    t.size = 100_000;
    assert!(matches!(
        task_from_wire(&t),
        Err(WireError::Invalid { field: "size", .. })
    ));
    t.size = 4;
    t.model = "xy".into();
    assert!(matches!(
        task_from_wire(&t),
        Err(WireError::Invalid { field: "model", .. })
    ));
}

fn external_task() -> Task {
    let mut t = task();
    t.monte_carlo = MonteCarlo {
        algorithm: Algorithm::External,
        thermalize: 0,
        measurements: 20,
        interval: 1,
    };
    t.external = Some(Box::new(rgsweep_physics::model::external::Sampling {
        sampler: "mine".into(),
        version: "mine 1.0 (build 7)".into(),
        temperature: "T".into(),
        parameters: [("J".to_string(), 1.0), ("h".to_string(), -0.5)].into(),
    }));
    t
}

#[test]
fn an_external_task_round_trips_and_its_bounds_are_the_sweep_file_s() {
    let t = external_task();
    let back = task_from_wire(&task_to_wire(&t, 7)).expect("valid");
    assert_eq!(back, (t.clone(), 7));
    type Bend = fn(&mut v1::Task);
    let bends: [(&str, Bend); 8] = [
        ("no sampler", |w| w.external = None),
        ("a built-in sampler", |w| w.algorithm = "wolff".into()),
        ("a path", |w| {
            if let Some(e) = w.external.as_mut() {
                e.sampler = "../bin/sh".into();
            }
        }),
        ("no version", |w| {
            if let Some(e) = w.external.as_mut() {
                e.version.clear();
            }
        }),
        ("a NaN parameter", |w| {
            if let Some(e) = w.external.as_mut() {
                e.parameters[0].value = f64::NAN;
            }
        }),
        ("the temperature twice", |w| {
            if let Some(e) = w.external.as_mut() {
                e.parameters[0].name = "T".into();
            }
        }),
        ("a schedule", |w| w.thermalize = 10),
        ("a percolation model", |w| {
            w.model = "percolation2d-site".into();
            w.q = 2;
            w.probabilities = vec![0.5];
        }),
    ];
    for (what, bend) in bends {
        let mut w = task_to_wire(&t, 7);
        bend(&mut w);
        assert!(task_from_wire(&w).is_err(), "{what} accepted");
    }
    // An external algorithm with no sampler, on a built-in task.
    let mut w = task_to_wire(&task(), 7);
    w.algorithm = "external".into();
    assert!(task_from_wire(&w).is_err());
}

#[test]
fn capabilities_are_checked_at_the_edge() {
    use crate::convert::external::{MAX_CAPABILITIES, capabilities_from_wire};
    let c = |kind: &str, name: &str, version: &str| v1::Capability {
        kind: kind.into(),
        name: name.into(),
        version: version.into(),
    };
    let good = capabilities_from_wire(&[c("sampler", "mine", "sha256:00ff")]).expect("good");
    assert_eq!(good[0].to_string(), "sampler mine (sha256:00ff)");
    for bad in [
        c("sampler", "a b", "1"),
        c("", "mine", "1"),
        c("sampler", "mine", ""),
        c("sampler", "mine", "1\n2"),
    ] {
        assert!(
            capabilities_from_wire(std::slice::from_ref(&bad)).is_err(),
            "{bad:?}"
        );
    }
    let many = vec![c("sampler", "mine", "1"); MAX_CAPABILITIES + 1];
    assert!(capabilities_from_wire(&many).is_err());
}
