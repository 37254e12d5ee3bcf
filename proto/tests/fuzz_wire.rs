//! Fuzzing the wire: prost decoding of every request message and the conversions of tasks and
//! results. Inputs are byte mutations of valid encodings (results of real tasks) and
//! structured messages with arbitrary field values. Every accepted conversion must round-trip
//! (to_wire(from_wire(x)) converts back to the same value), every rejection must name its
//! field, and nothing may panic, allocate more than 64 MiB or take over a second.
//!
//! `cargo test -p rgsweep-proto --test fuzz_wire` runs the CI pass;
//! `cargo test --release -p rgsweep-proto --test fuzz_wire -- --ignored` runs 10⁶ inputs.

// Request messages gain fields as the protocol grows: the corpus fills the rest with defaults
// so that it keeps compiling.
#![allow(clippy::needless_update)]

// Shared with physics' fuzz tests; a path include, since a test helper is not a crate.
#[path = "../../physics/tests/fuzzing/mod.rs"]
mod fuzzing;

use fuzzing::{Rng, bounded, cases, exclusive, mutate};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use prost::Message;
use rgsweep_physics::rg::{self, MapKind, Operator, RsmiRule};
use rgsweep_physics::rsmi::Bound;
use rgsweep_physics::sweep::{MonteCarlo, RsmiSweep};
use rgsweep_physics::{Algorithm, ModelKind, Sweep, Task, TaskResult};
use rgsweep_proto::{
    WireError, result_from_wire, result_to_wire, task_from_wire, task_to_wire, v1,
};
use std::sync::OnceLock;

const SEED: u64 = 7;

fn base_task() -> Task {
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
        save_samples: 2,
        interaction: None,
        probabilities: Vec::new(),
        maze: None,
        external: None,
    }
}

/// Results of small real tasks: plain Potts with saved samples, RSMI, RG flows with the
/// learned map, multispin, and dimers (named series).
fn results() -> &'static [TaskResult] {
    static RESULTS: OnceLock<Vec<TaskResult>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let potts = base_task();
        let mut rsmi = base_task();
        rsmi.model = ModelKind::Ising2d;
        rsmi.q = 2;
        rsmi.size = 8;
        rsmi.monte_carlo.measurements = 60;
        rsmi.replicas = 2;
        rsmi.save_samples = 0;
        rsmi.rsmi = Some(Box::new(RsmiSweep {
            block: 2,
            buffers: vec![0, 1],
            env: 1,
            hidden: 2,
            samples: 50,
            stride: None,
            bound: Bound::InfoNce,
            batch: 100,
            max_epochs: 1,
            learning_rate: 5e-3,
            dimension_size: None,
            stagewise: false,
            critic_leak: 0.0,
            quiet_steps: 0,
            restarts: 1,
        }));
        let mut flows = rsmi.clone();
        flows.rsmi = None;
        flows.size = 16;
        flows.rg = Some(Box::new(rg::Settings {
            maps: vec![MapKind::Majority, MapKind::Rsmi],
            levels: 2,
            operators: vec![Operator::NearestNeighbour, Operator::Field],
            samples: 40,
            blocks: 4,
            rsmi: Some(RsmiRule {
                max_epochs: 1,
                ..RsmiRule::default()
            }),
            rbm: None,
            autoencoder: None,
            audit: false,
        }));
        let mut multispin = base_task();
        multispin.model = ModelKind::Ising2d;
        multispin.q = 2;
        multispin.monte_carlo.algorithm = Algorithm::Multispin;
        multispin.replicas = 3;
        multispin.save_samples = 0;
        let mut dimers = base_task();
        dimers.model = ModelKind::Dimer2d;
        dimers.q = 2;
        dimers.monte_carlo.algorithm = Algorithm::Worm;
        dimers.save_samples = 0;
        dimers.interaction = Some(-1);
        // A maze training run: a task that trains rather than samples, with its outcome.
        let mazes = Sweep::parse(
            "name = \"f\"\nseed = 1\nmodel = \"mazes\"\nsizes = [5]\n[mazes]\nlayers = [2]\nsteps = 4\nbatch = 2\ntest = 10\n",
            "fuzz.toml",
        )
        .expect("a maze sweep")
        .tasks()
        .remove(0);
        [potts, rsmi, flows, multispin, dimers, mazes]
            .iter()
            .map(|t| t.run(SEED))
            .collect()
    })
}

/// A request message of each kind, encoded; results and tasks come from [`results`].
fn corpus() -> Vec<(Kind, Vec<u8>)> {
    let mut out = Vec::new();
    let configs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    for name in ["quickstart.toml", "ising2d-rsmi.toml", "ising2d-flows.toml"] {
        let toml = std::fs::read_to_string(configs.join(name)).expect("shipped config");
        let m = v1::SubmitRequest {
            file_name: name.into(),
            toml,
            ..Default::default()
        };
        out.push((Kind::Submit, m.encode_to_vec()));
    }
    for (i, r) in results().iter().enumerate() {
        let wire = result_to_wire(r, SEED + i as u64);
        out.push((Kind::Task, wire.task.clone().expect("task").encode_to_vec()));
        out.push((Kind::Result, wire.encode_to_vec()));
        let complete = v1::CompleteRequest {
            worker_id: format!("w{i}"),
            results: vec![v1::Completed {
                key: vec![i as u8; 32],
                token: 41 + i as u64,
                result: Some(wire),
            }],
            lease_slots: 2,
            time_left_ms: 60_000,
            ..Default::default()
        };
        out.push((Kind::Complete, complete.encode_to_vec()));
    }
    let lease = v1::LeaseRequest {
        worker_id: "w".into(),
        slots: 4,
        time_left_ms: 1 << 40,
        ..Default::default()
    };
    out.push((Kind::Lease, lease.encode_to_vec()));
    let heartbeat = v1::HeartbeatRequest {
        worker_id: "w".into(),
        leases: (0..3)
            .map(|k| v1::LeaseRef {
                key: vec![k; 32],
                token: u64::from(k),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    out.push((Kind::Heartbeat, heartbeat.encode_to_vec()));
    let fail = v1::FailRequest {
        worker_id: "w".into(),
        key: vec![9; 32],
        token: 3,
        reason: "worker stopping".into(),
        release: true,
        ..Default::default()
    };
    out.push((Kind::Fail, fail.encode_to_vec()));
    let id = "0123456789abcdef".to_string();
    let status = v1::StatusRequest {
        sweep_id: id.clone(),
        ..Default::default()
    };
    out.push((Kind::Status, status.encode_to_vec()));
    let results = v1::ResultsRequest {
        sweep_id: id.clone(),
        ..Default::default()
    };
    out.push((Kind::Results, results.encode_to_vec()));
    let cancel = v1::CancelRequest {
        sweep_id: id,
        ..Default::default()
    };
    out.push((Kind::Cancel, cancel.encode_to_vec()));
    out.push((
        Kind::Resume,
        v1::ResumeAllocationRequest::default().encode_to_vec(),
    ));
    out
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Task,
    Result,
    Complete,
    Lease,
    Heartbeat,
    Fail,
    Submit,
    Status,
    Results,
    Cancel,
    Resume,
}

const KINDS: [Kind; 11] = [
    Kind::Task,
    Kind::Result,
    Kind::Complete,
    Kind::Lease,
    Kind::Heartbeat,
    Kind::Fail,
    Kind::Submit,
    Kind::Status,
    Kind::Results,
    Kind::Cancel,
    Kind::Resume,
];

fn rejection(e: &WireError) {
    let shown = e.to_string();
    match e {
        WireError::Missing(field) => assert!(!field.is_empty(), "{shown}"),
        WireError::Invalid { field, message } => {
            assert!(!field.is_empty() && !message.trim().is_empty(), "{shown}");
        }
    }
    assert!(shown.contains('`'), "names the field: {shown}");
}

/// Accepted tasks round-trip to the same wire message and domain value.
fn task(wire: &v1::Task) -> bool {
    match task_from_wire(wire) {
        Ok((t, seed)) => {
            let back = task_to_wire(&t, seed);
            let again = v1::Task::decode(back.encode_to_vec().as_slice()).expect("decodes");
            assert_eq!(task_from_wire(&again), Ok((t, seed)));
            true
        }
        Err(e) => {
            rejection(&e);
            false
        }
    }
}

/// Accepted results round-trip: same encoding, same value (compared through Debug, since
/// failed RSMI points and unordered flow levels hold NaNs).
fn result(wire: v1::TaskResult) -> bool {
    match result_from_wire(wire) {
        Ok((r, seed)) => {
            let bytes = result_to_wire(&r, seed).encode_to_vec();
            let decoded = v1::TaskResult::decode(bytes.as_slice()).expect("decodes");
            let (again, seed_again) = result_from_wire(decoded).expect("a round trip is valid");
            assert_eq!(seed, seed_again);
            assert_eq!(result_to_wire(&again, seed).encode_to_vec(), bytes);
            assert_eq!(format!("{again:?}"), format!("{r:?}"));
            true
        }
        Err(e) => {
            rejection(&e);
            false
        }
    }
}

/// A submitted sweep: its tasks must all pass the wire check a worker applies.
fn submit(m: &v1::SubmitRequest) -> bool {
    match Sweep::parse(&m.toml, &m.file_name) {
        Ok(sweep) => {
            // Planning is linear in the tasks; the sweep fuzz test covers large plans.
            let tasks = sweep.sizes.len() * sweep.temperatures.len() * sweep.replicas as usize;
            if tasks > 200_000 {
                return true;
            }
            for t in sweep.tasks().iter().take(64) {
                let wire = task_to_wire(t, sweep.seed);
                assert_eq!(
                    task_from_wire(&wire),
                    Ok((t.clone(), sweep.seed)),
                    "{}",
                    m.toml
                );
            }
            true
        }
        Err(e) => {
            assert_eq!(e.file, m.file_name);
            false
        }
    }
}

/// The whole contract for one input read as `kind`; true if a conversion accepted it.
fn check(kind: Kind, bytes: &[u8]) -> bool {
    bounded(&(kind, bytes), || match kind {
        Kind::Task => v1::Task::decode(bytes).is_ok_and(|m| task(&m)),
        Kind::Result => v1::TaskResult::decode(bytes).is_ok_and(result),
        Kind::Complete => v1::CompleteRequest::decode(bytes).is_ok_and(|m| {
            let mut any = false;
            for c in m.results {
                if let Some(r) = c.result {
                    any |= result(r);
                }
            }
            any
        }),
        Kind::Submit => v1::SubmitRequest::decode(bytes).is_ok_and(|m| submit(&m)),
        Kind::Lease => v1::LeaseRequest::decode(bytes).is_ok(),
        Kind::Heartbeat => v1::HeartbeatRequest::decode(bytes).is_ok(),
        Kind::Fail => v1::FailRequest::decode(bytes).is_ok(),
        Kind::Status => v1::StatusRequest::decode(bytes).is_ok(),
        Kind::Results => v1::ResultsRequest::decode(bytes).is_ok(),
        Kind::Cancel => v1::CancelRequest::decode(bytes).is_ok(),
        Kind::Resume => v1::ResumeAllocationRequest::decode(bytes).is_ok(),
    })
}

const TOKENS: &[&[u8]] = &[
    b"\xff\xff\xff\xff\x0f",
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
    b"\x18\xff\xff\xff\xff\x0f",
    b"\x21\x00\x00\x00\x00\x00\x00\xf8\x7f",
    b"\x0a\x00",
    b"\x12\x7f",
    b"\x22\xff\xff\x03",
    b"ising3d",
    b"multispin",
    b"potts2d",
    b"rsmi",
    b"nwj",
];

fn mutations(n: u64, seed: u64) {
    let _one = exclusive();
    let started = std::time::Instant::now();
    let corpus = corpus();
    for (kind, bytes) in &corpus {
        assert!(
            check(*kind, bytes)
                || !matches!(
                    kind,
                    Kind::Task | Kind::Result | Kind::Complete | Kind::Submit
                ),
            "{kind:?} of the corpus is valid"
        );
    }
    let raw: Vec<Vec<u8>> = corpus.iter().map(|(_, b)| b.clone()).collect();
    let mut rng = Rng::new(seed);
    let mut accepted = 0u64;
    for _ in 0..n {
        let (kind, base) = rng.pick(&corpus);
        let bytes = mutate(&mut rng, base, &raw, TOKENS);
        // Now and then a message read as another kind: every decoder sees every shape.
        let kind = if rng.below(8) == 0 {
            *rng.pick(&KINDS)
        } else {
            *kind
        };
        accepted += u64::from(check(kind, &bytes));
    }
    assert!(accepted * 100 >= n, "{accepted} of {n} accepted");
    eprintln!(
        "fuzz_wire mutations: {n} inputs, {accepted} accepted by a conversion in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// One edit of a valid wire result, with an arbitrary or boundary value.
#[derive(Clone, Debug)]
enum Edit {
    Size(u32),
    Q(u32),
    Replicas(u32),
    FirstReplica(u32),
    /// The first replica moved, and every point and level with it.
    ShiftReplicas(u32),
    Measurements(u64),
    Interval(u64),
    Temperature(f64),
    SaveSamples(u64),
    Model(&'static str),
    Algorithm(&'static str),
    Sites(u64),
    OrderNorm(f64),
    DropSeries(usize),
    PushValue(usize, i64),
    PopValue(usize),
    RsmiBlock(u32),
    RsmiEnv(u32),
    RsmiBuffers(Vec<u32>),
    RsmiStride(u32),
    RsmiSamples(u64),
    RsmiHidden(u32),
    PointFilters(usize, usize),
    PointNan(usize),
    RgLevels(u32),
    RgBlocks(u32),
    RgSamples(u64),
    RgMaps(Vec<&'static str>),
    DropLevel(usize),
    LevelSize(usize, u32),
    LevelLeaveOut(usize, usize),
    DropSample(usize),
    SampleValue(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let u32s = || {
        prop_oneof![
            3 => 0u32..20,
            1 => prop::sample::select(vec![64, 406, 8192, 8193, 1 << 20, u32::MAX - 1, u32::MAX]),
            1 => any::<u32>(),
        ]
    };
    let u64s = || {
        prop_oneof![
            3 => 0u64..200,
            1 => prop::sample::select(vec![1 << 30, 1 << 32, 1 << 40, u64::MAX / 2, u64::MAX]),
            1 => any::<u64>(),
        ]
    };
    let f64s = || {
        prop_oneof![
            prop::sample::select(vec![
                0.0,
                -0.0,
                -1.0,
                1e-300,
                1e300,
                f64::NAN,
                f64::INFINITY
            ]),
            any::<f64>(),
        ]
    };
    let idx = || 0usize..8;
    prop_oneof![
        u32s().prop_map(Edit::Size),
        u32s().prop_map(Edit::Q),
        u32s().prop_map(Edit::Replicas),
        u32s().prop_map(Edit::FirstReplica),
        u32s().prop_map(Edit::ShiftReplicas),
        u64s().prop_map(Edit::Measurements),
        u64s().prop_map(Edit::Interval),
        f64s().prop_map(Edit::Temperature),
        u64s().prop_map(Edit::SaveSamples),
        prop::sample::select(vec!["ising2d", "ising3d", "potts2d", "ising1d", ""])
            .prop_map(Edit::Model),
        prop::sample::select(vec!["wolff", "multispin", "metropolis", "x"])
            .prop_map(Edit::Algorithm),
        u64s().prop_map(Edit::Sites),
        f64s().prop_map(Edit::OrderNorm),
        idx().prop_map(Edit::DropSeries),
        (idx(), any::<i64>()).prop_map(|(i, v)| Edit::PushValue(i, v)),
        idx().prop_map(Edit::PopValue),
        u32s().prop_map(Edit::RsmiBlock),
        u32s().prop_map(Edit::RsmiEnv),
        prop::collection::vec(u32s(), 0..4).prop_map(Edit::RsmiBuffers),
        u32s().prop_map(Edit::RsmiStride),
        u64s().prop_map(Edit::RsmiSamples),
        u32s().prop_map(Edit::RsmiHidden),
        (idx(), 0usize..5).prop_map(|(i, n)| Edit::PointFilters(i, n)),
        idx().prop_map(Edit::PointNan),
        u32s().prop_map(Edit::RgLevels),
        u32s().prop_map(Edit::RgBlocks),
        u64s().prop_map(Edit::RgSamples),
        prop::collection::vec(
            prop::sample::select(vec!["majority", "decimation", "rsmi", "x"]),
            0..4
        )
        .prop_map(Edit::RgMaps),
        idx().prop_map(Edit::DropLevel),
        (idx(), u32s()).prop_map(|(i, s)| Edit::LevelSize(i, s)),
        (idx(), 0usize..6).prop_map(|(i, n)| Edit::LevelLeaveOut(i, n)),
        idx().prop_map(Edit::DropSample),
        (idx(), any::<u8>()).prop_map(|(i, v)| Edit::SampleValue(i, v)),
    ]
}

fn apply(w: &mut v1::TaskResult, e: &Edit) {
    let n = |len: usize, i: usize| i % len.max(1);
    let Some(t) = w.task.as_mut() else { return };
    if let Edit::ShiftReplicas(first) = e {
        let old = t.first_replica;
        t.first_replica = *first;
        let shift = |r: &mut u32| *r = r.wrapping_sub(old).wrapping_add(*first);
        w.rsmi.iter_mut().for_each(|p| shift(&mut p.replica));
        w.rg.iter_mut().for_each(|l| shift(&mut l.replica));
        return;
    }
    match e.clone() {
        Edit::Size(v) => t.size = v,
        Edit::Q(v) => t.q = v,
        Edit::Replicas(v) => t.replicas = v,
        Edit::FirstReplica(v) => t.first_replica = v,
        Edit::Measurements(v) => t.measurements = v,
        Edit::Interval(v) => t.interval = v,
        Edit::Temperature(v) => t.temperature = v,
        Edit::SaveSamples(v) => t.save_samples = v,
        Edit::Model(v) => t.model = v.into(),
        Edit::Algorithm(v) => t.algorithm = v.into(),
        Edit::RsmiBlock(v) => t.rsmi.iter_mut().for_each(|r| r.block = v),
        Edit::RsmiEnv(v) => t.rsmi.iter_mut().for_each(|r| r.env = v),
        Edit::RsmiBuffers(v) => t.rsmi.iter_mut().for_each(|r| r.buffers = v.clone()),
        Edit::RsmiStride(v) => t.rsmi.iter_mut().for_each(|r| r.stride = v),
        Edit::RsmiSamples(v) => t.rsmi.iter_mut().for_each(|r| r.samples = v),
        Edit::RsmiHidden(v) => t.rsmi.iter_mut().for_each(|r| r.hidden = v),
        Edit::RgLevels(v) => t.rg.iter_mut().for_each(|r| r.levels = v),
        Edit::RgBlocks(v) => t.rg.iter_mut().for_each(|r| r.blocks = v),
        Edit::RgSamples(v) => t.rg.iter_mut().for_each(|r| r.samples = v),
        Edit::RgMaps(v) => {
            t.rg.iter_mut()
                .for_each(|r| r.maps = v.iter().map(|m| m.to_string()).collect())
        }
        Edit::Sites(v) => w.sites = v,
        Edit::OrderNorm(v) => w.order_norm = v,
        Edit::DropSeries(i) if !w.replicas.is_empty() => {
            w.replicas.remove(n(w.replicas.len(), i));
        }
        Edit::PushValue(i, v) if !w.replicas.is_empty() => {
            let k = n(w.replicas.len(), i);
            w.replicas[k].energy.push(v);
        }
        Edit::PopValue(i) if !w.replicas.is_empty() => {
            let k = n(w.replicas.len(), i);
            w.replicas[k].order.pop();
        }
        Edit::PointFilters(i, len) if !w.rsmi.is_empty() => {
            let k = n(w.rsmi.len(), i);
            w.rsmi[k].filters.truncate(len);
        }
        Edit::PointNan(i) if !w.rsmi.is_empty() => {
            let k = n(w.rsmi.len(), i);
            w.rsmi[k].mi_nats = f64::NAN;
            w.rsmi[k].filters.clear();
        }
        Edit::DropLevel(i) if !w.rg.is_empty() => {
            w.rg.remove(n(w.rg.len(), i));
        }
        Edit::LevelSize(i, s) if !w.rg.is_empty() => {
            let k = n(w.rg.len(), i);
            w.rg[k].size = s;
        }
        Edit::LevelLeaveOut(i, len) if !w.rg.is_empty() => {
            let k = n(w.rg.len(), i);
            w.rg[k].leave_out.truncate(len);
        }
        Edit::DropSample(i) if !w.samples.is_empty() => {
            w.samples.remove(n(w.samples.len(), i));
        }
        Edit::SampleValue(i, v) if !w.samples.is_empty() => {
            let k = n(w.samples.len(), i);
            if let Some(x) = w.samples[k].first_mut() {
                *x = v;
            }
        }
        _ => {}
    }
}

fn structured(cases: u32, seed: u64) {
    let _one = exclusive();
    let started = std::time::Instant::now();
    let wires: Vec<v1::TaskResult> = results().iter().map(|r| result_to_wire(r, SEED)).collect();
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(
            &(0..wires.len(), prop::collection::vec(edit(), 1..4)),
            |(base, edits)| {
                let mut w = wires[base].clone();
                for e in &edits {
                    apply(&mut w, e);
                }
                let task_ok = w.task.as_ref().is_some_and(|t| bounded(&edits, || task(t)));
                let bytes = w.encode_to_vec();
                let result_ok = check(Kind::Result, &bytes);
                // A result is never accepted for a task that is not.
                assert!(task_ok || !result_ok, "{edits:?}");
                accepted.set(accepted.get() + u32::from(result_ok));
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(accepted.get() > 0);
    eprintln!(
        "fuzz_wire structured: {cases} inputs, {} results accepted in {:.1} s",
        accepted.get(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn mutated_requests_decode_and_convert_or_are_refused_clearly() {
    mutations(cases(20_000), 1);
}

#[test]
fn structured_results_round_trip_or_are_refused_clearly() {
    structured(cases(5_000) as u32, 2);
}

#[test]
#[ignore = "10⁶ inputs: run with --release -- --ignored"]
fn a_million_mutated_requests() {
    mutations(cases(1_000_000), 11);
}

#[test]
#[ignore = "10⁶ inputs: run with --release -- --ignored"]
fn a_million_structured_results() {
    structured(cases(1_000_000) as u32, 12);
}

/// Inputs the fuzzer found, minimised.
mod regressions {
    use super::*;

    /// A result whose first replica is u32::MAX, with its RSMI points numbered to match:
    /// numbering the second replica's points overflowed (a panic in the coordinator).
    #[test]
    fn replica_numbers_past_u32() {
        let mut w = result_to_wire(&results()[1], SEED);
        let t = w.task.as_mut().expect("task");
        let shift = u32::MAX - t.first_replica;
        t.first_replica = u32::MAX;
        w.rsmi
            .iter_mut()
            .for_each(|p| p.replica = p.replica.wrapping_add(shift));
        let e = result_from_wire(w).expect_err("refused");
        assert!(
            matches!(
                e,
                WireError::Invalid {
                    field: "first_replica",
                    ..
                }
            ),
            "{e}"
        );
    }

    /// Series a sweep file could not ask for: 2^40 measurements would be allocated by the worker.
    #[test]
    fn measurements_past_the_sweep_limits() {
        let mut t = task_to_wire(&base_task(), SEED);
        t.measurements = 1 << 40;
        let e = task_from_wire(&t).expect_err("refused");
        assert!(
            matches!(
                e,
                WireError::Invalid {
                    field: "measurements",
                    ..
                }
            ),
            "{e}"
        );
        t.measurements = 1 << 29;
        t.replicas = 4;
        assert!(task_from_wire(&t).is_err(), "2^31 stored measurements");
    }
}
