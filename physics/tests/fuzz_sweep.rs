//! Fuzzing the sweep-file parser: mutations of the shipped configs and grammar-generated files.
//! Every input must be accepted with a bounded task list, or refused with an error naming the
//! file and a line of it; none may panic, allocate more than 64 MiB or take over a second.
//!
//! `cargo test -p rgsweep-physics --test fuzz_sweep` runs the CI pass;
//! `cargo test --release -p rgsweep-physics --test fuzz_sweep -- --ignored` runs 10⁶ inputs.

mod fuzzing;

use fuzzing::{Rng, bounded, cases, exclusive, mutate};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use rgsweep_physics::sweep::MAX_TASKS;
use rgsweep_physics::{Algorithm, Sweep};

const FILE: &str = "fuzz/sweep.toml";
/// Accepted sweeps of up to this many tasks are planned within the per-input budget.
const PLANNED: usize = 200_000;

fn shipped() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("configs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("readable"))
        .collect()
}

/// The whole contract for one input.
fn check(text: &str) {
    bounded(&text, || match Sweep::parse(text, FILE) {
        Ok(sweep) => {
            let group = if sweep.monte_carlo.algorithm == Algorithm::Multispin {
                64
            } else {
                1
            };
            // Percolation has no temperatures: one task per (size, block); mazes one per
            // (size, depth, run).
            let depths = sweep.mazes.as_ref().map_or(1, |m| m.layers.len());
            let expected = sweep.sizes.len()
                * sweep.temperatures.len().max(1)
                * depths
                * sweep.replicas.div_ceil(group) as usize;
            assert!(expected <= MAX_TASKS, "{text}");
            // Planning is linear in the tasks (about 100 bytes each), which MAX_TASKS bounds;
            // the large legal sweeps are the coordinator benchmark's business, not this
            // budget's.
            if expected <= PLANNED {
                assert_eq!(sweep.tasks().len(), expected, "{text}");
            }
        }
        Err(e) => {
            let shown = e.to_string();
            assert_eq!(e.file, FILE);
            assert!(
                shown.starts_with(&format!("{FILE}:{}:{}: ", e.line, e.column)),
                "{shown}"
            );
            assert!(!e.message.trim().is_empty(), "empty message: {shown}");
            assert!(
                e.line >= 1 && e.line <= text.lines().count() + 1,
                "line {} of {}: {shown}",
                e.line,
                text.lines().count()
            );
        }
    });
}

const TOKENS: &[&[u8]] = &[
    b"temperatures = { start = 0.1, stop = 1e9, step = 1e-9 }\n",
    b"temperatures = { start = 1.0, stop = 2.0, count = 100000 }\n",
    b"sizes = [100000]\n",
    b"sizes = [8192]\n",
    b"sizes = [406]\n",
    b"replicas = 1048576\n",
    b"measurements = 4294967296\n",
    b"measurements = 16\n",
    b"save_samples = 16\n",
    b"stride = 1\n",
    b"block = 1\n",
    b"env = 1024\n",
    b"samples = 10000000\n",
    b"algorithm = \"multispin\"\n",
    b"model = \"potts2d\"\nq = 64\n",
    b"model = \"ising3d\"\n",
    b"[rsmi]\nblock = 1\nbuffers = [0]\nenv = 1\nsamples = 16\nstride = 1\n",
    b"[rg]\nmaps = [\"rsmi\"]\nlevels = 1\nsamples = 32\n",
    b"[fss]\n",
    b"[[x]]\n",
    b"\"\"\"",
    b"'''",
    b"\xc3\xa9",
    b"\x00",
    b"[",
    b"{",
    b"=",
    b"\n",
    b"#",
    b"1e308",
    b"nan",
    b"-inf",
];

fn mutations(n: u64, seed: u64) {
    let _one = exclusive();
    let started = std::time::Instant::now();
    let corpus = shipped();
    assert!(corpus.len() >= 6);
    for original in &corpus {
        check(std::str::from_utf8(original).expect("utf-8"));
    }
    let mut rng = Rng::new(seed);
    let mut accepted = 0u64;
    for _ in 0..n {
        let base = rng.pick(&corpus).clone();
        let bytes = mutate(&mut rng, &base, &corpus, TOKENS);
        let text = String::from_utf8_lossy(&bytes);
        check(&text);
        accepted += u64::from(Sweep::parse(&text, FILE).is_ok());
    }
    // The mutations must still reach the checks after parsing, not only TOML syntax errors.
    assert!(accepted * 50 >= n, "{accepted} of {n} accepted");
    eprintln!(
        "fuzz_sweep mutations: {n} inputs, {accepted} accepted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        20 => prop::sample::select(vec![0.5, 1.0, 2.0, 2.269, 2.3, 4.5]),
        1 => prop::sample::select(vec![0.0, -1.0, 1e-300, 1e-9, 1e9, 1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0]),
        1 => any::<f64>(),
    ]
}

fn int(typical: Vec<i64>) -> impl Strategy<Value = i64> {
    prop_oneof![
        24 => prop::sample::select(typical),
        2 => prop::sample::select(vec![0, -1, 1, 2, 16, 64, 1 << 20, 1 << 26, 1 << 32, i64::MAX, i64::MIN]),
        1 => any::<i64>(),
    ]
}

/// TOML for a float, including the special values.
fn toml_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

fn temperatures() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(float(), 0..6).prop_map(|v| format!(
            "[{}]",
            v.into_iter().map(toml_float).collect::<Vec<_>>().join(", ")
        )),
        (float(), float(), float()).prop_map(|(a, b, s)| format!(
            "{{ start = {}, stop = {}, step = {} }}",
            toml_float(a),
            toml_float(b),
            toml_float(s)
        )),
        (float(), float(), int(vec![1, 2, 5, 100_000, 100_001])).prop_map(|(a, b, n)| format!(
            "{{ start = {}, stop = {}, count = {n} }}",
            toml_float(a),
            toml_float(b)
        )),
    ]
}

fn optional(
    key: &'static str,
    value: impl Strategy<Value = String>,
) -> impl Strategy<Value = String> {
    prop::option::weighted(0.4, value)
        .prop_map(move |v| v.map_or(String::new(), |v| format!("{key} = {v}\n")))
}

fn section(head: &'static str, lines: Vec<BoxedStrategy<String>>) -> impl Strategy<Value = String> {
    prop::option::weighted(0.3, lines)
        .prop_map(move |v| v.map_or(String::new(), |v| format!("[{head}]\n{}", v.concat())))
}

/// Sweep files built from the grammar, with each value drawn from typical, boundary and
/// arbitrary ones, so that most reach the semantic checks and some pass them.
fn sweep_file() -> impl Strategy<Value = String> {
    // Mostly allowed words, so that files get past one field to the next.
    let strings = |valid: Vec<&'static str>, invalid: Vec<&'static str>| {
        prop_oneof![9 => prop::sample::select(valid), 1 => prop::sample::select(invalid)]
            .prop_map(|s| format!("{s:?}"))
    };
    let ints = |v: Vec<i64>| int(v).prop_map(|x| x.to_string());
    let head = (
        strings(vec!["fuzz", "a.b-c_1"], vec!["", ".hidden", "a b", "é"]),
        ints(vec![0, 1, 7]),
        strings(vec!["ising2d", "ising2d", "ising3d", "potts2d"], vec!["xy"]),
        optional("q", ints(vec![2, 3, 64, 65])),
        prop::collection::vec(int(vec![4, 8, 16, 32, 2, 406, 8192]), 0..4).prop_map(|v| {
            format!(
                "[{}]",
                v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            )
        }),
        temperatures(),
        optional("replicas", ints(vec![1, 2, 64, 100])),
        optional("save_samples", ints(vec![1, 5, 16])),
        optional("task_seconds", float().prop_map(toml_float)),
    );
    let monte_carlo = (
        strings(
            vec![
                "wolff",
                "metropolis",
                "heatbath",
                "swendsen-wang",
                "multispin",
            ],
            vec!["glauber"],
        ),
        ints(vec![0, 10]),
        ints(vec![16, 100, 1000]),
        optional("interval", ints(vec![1, 2])),
    )
        .prop_map(|(a, t, m, i)| {
            format!("[monte_carlo]\nalgorithm = {a}\nthermalize = {t}\nmeasurements = {m}\n{i}")
        });
    let fss = section(
        "fss",
        vec![
            optional("fit_min_size", ints(vec![0, 8])).boxed(),
            optional("shift_exponent", float().prop_map(toml_float)).boxed(),
            optional("bootstrap", ints(vec![20, 200])).boxed(),
        ],
    );
    let rsmi = section(
        "rsmi",
        vec![
            ints(vec![1, 2, 4])
                .prop_map(|v| format!("block = {v}\n"))
                .boxed(),
            prop::collection::vec(int(vec![0, 1, 2]), 0..4)
                .prop_map(|v| format!("buffers = {v:?}\n"))
                .boxed(),
            ints(vec![1, 2, 1024])
                .prop_map(|v| format!("env = {v}\n"))
                .boxed(),
            ints(vec![10, 50, 100])
                .prop_map(|v| format!("samples = {v}\n"))
                .boxed(),
            optional("stride", ints(vec![1, 2, 4])).boxed(),
            optional("hidden", ints(vec![1, 2])).boxed(),
            optional("batch", ints(vec![2, 10, 100])).boxed(),
            optional("bound", strings(vec!["infonce", "nwj"], vec!["x"])).boxed(),
            optional("max_epochs", ints(vec![1, 60])).boxed(),
            optional("learning_rate", float().prop_map(toml_float)).boxed(),
        ],
    );
    let rg = section(
        "rg",
        vec![
            optional(
                "maps",
                prop::collection::vec(
                    prop::sample::select(vec!["majority", "decimation", "rsmi", "x"]),
                    0..3,
                )
                .prop_map(|v| format!("{v:?}")),
            )
            .boxed(),
            ints(vec![1, 2, 3])
                .prop_map(|v| format!("levels = {v}\n"))
                .boxed(),
            optional(
                "operators",
                prop::collection::vec(
                    prop::sample::select(vec!["nn", "diagonal", "field", "three-spin", "x"]),
                    0..4,
                )
                .prop_map(|v| format!("{v:?}")),
            )
            .boxed(),
            ints(vec![20, 50, 100])
                .prop_map(|v| format!("samples = {v}\n"))
                .boxed(),
            optional("blocks", ints(vec![2, 10])).boxed(),
            optional("buffer", ints(vec![0, 1])).boxed(),
            optional("env", ints(vec![1, 2])).boxed(),
            optional("batch", ints(vec![2, 100])).boxed(),
            optional("rule", strings(vec!["sign", "sample"], vec!["x"])).boxed(),
        ],
    );
    (head, monte_carlo, fss, rsmi, rg, prop::option::weighted(0.05, "[a-z]{1,6} = 1\n"))
        .prop_map(|((name, seed, model, q, sizes, temps, replicas, save, seconds), mc, fss, rsmi, rg, extra)| {
            format!(
                "name = {name}\nseed = {seed}\nmodel = {model}\n{q}sizes = {sizes}\ntemperatures = {temps}\n{replicas}{save}{seconds}{}\n{mc}\n{fss}\n{rsmi}\n{rg}",
                extra.unwrap_or_default()
            )
        })
}

fn grammar(cases: u32, seed: u64) {
    let _one = exclusive();
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(&sweep_file(), |text| {
            check(&text);
            accepted.set(accepted.get() + u32::from(Sweep::parse(&text, FILE).is_ok()));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(accepted.get() > 0, "no generated sweep was valid");
    eprintln!(
        "fuzz_sweep grammar: {cases} inputs, {} accepted in {:.1} s",
        accepted.get(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn mutated_configs_are_accepted_or_refused_clearly() {
    mutations(cases(20_000), 1);
}

#[test]
fn generated_sweeps_are_accepted_or_refused_clearly() {
    grammar(cases(3_000) as u32, 2);
}

#[test]
#[ignore = "10⁶ inputs: run with --release -- --ignored"]
fn a_million_mutated_configs() {
    mutations(cases(1_000_000), 11);
}

#[test]
#[ignore = "10⁶ inputs: run with --release -- --ignored"]
fn a_million_generated_sweeps() {
    grammar(cases(1_000_000) as u32, 12);
}

/// Inputs the fuzzer found, minimised: each must be refused quickly, with its field and line,
/// and without allocating what it asks for.
mod regressions {
    use super::*;

    const BASE: &str = "name = \"r\"\nseed = 1\nmodel = \"ising2d\"\nsizes = [8]\ntemperatures = [2.0]\n\n[monte_carlo]\nalgorithm = \"wolff\"\nthermalize = 0\nmeasurements = 100\n";

    fn refused(text: &str, field: &str, says: &str, line: usize) {
        let _one = exclusive();
        let e = bounded(&text, || Sweep::parse(text, FILE)).expect_err("refused");
        let shown = e.to_string();
        assert!(
            e.field.contains(field) && shown.contains(says) && e.line == line,
            "{shown}"
        );
    }

    /// A buffer width near i64::MAX overflowed `block + 2·(buffer + env)` (a panic).
    #[test]
    fn a_huge_buffer_width() {
        let rg =
            "\n[rg]\nmaps = [\"rsmi\"]\nlevels = 1\nsamples = 50\nbuffer = 9223372036854775807\n";
        refused(&format!("{BASE}{rg}"), "rg.buffer", "from 0 to 1024", 16);
        let rsmi = "\n[rsmi]\nblock = 2\nbuffers = [9223372036854775807]\nenv = 1\nsamples = 50\n";
        refused(
            &format!("{BASE}{rsmi}"),
            "rsmi.buffers",
            "from 0 to 1024",
            14,
        );
    }

    /// 100000 temperatures × 101 replicas: 10.1 million tasks, a gigabyte from `tasks()`
    /// (only the stored measurements bounded them, at 2^26).
    #[test]
    fn too_many_tasks() {
        let text = BASE
            .replace(
                "[2.0]",
                "{ start = 1.0, stop = 2.0, count = 100000 }\nreplicas = 101",
            )
            .replace("measurements = 100", "measurements = 16");
        refused(&text, "replicas", "10100000 tasks; at most 10000000", 6);
        // Without replicas the temperatures are blamed: 101 sizes × 100000 of them.
        let sizes: Vec<String> = (2..=102).map(|l| l.to_string()).collect();
        let text = text
            .replace("\nreplicas = 101", "")
            .replace("[8]", &format!("[{}]", sizes.join(", ")));
        refused(
            &text,
            "temperatures",
            "101 × 100000 × 1 = 10100000 tasks",
            5,
        );
        // Multispin's 64 replicas per task count as one task.
        let text = BASE
            .replace(
                "[2.0]",
                "{ start = 1.0, stop = 2.0, count = 1000 }\nreplicas = 64",
            )
            .replace("wolff", "multispin");
        let _one = exclusive();
        let ok = bounded(&text, || Sweep::parse(&text, FILE)).expect("1000 tasks");
        assert_eq!(bounded(&text, || ok.tasks()).len(), 1000);
    }

    /// A range up to 1e300 printed each of its 100000 temperatures to ten decimals (30 MB).
    #[test]
    fn a_range_of_huge_temperatures() {
        let text = BASE
            .replace("[2.0]", "{ start = 1.0, stop = 1e300, count = 100000 }")
            .replace("measurements = 100", "measurements = -1");
        refused(&text, "monte_carlo.measurements", "from 1", 10);
    }

    /// RSMI blocks at every other site of an 8192² lattice: listing the corners to count them
    /// allocated 800 MB in the parser, and the task would have held 10 GB of pairs.
    #[test]
    fn rsmi_blocks_at_every_site_of_a_huge_lattice() {
        let text = BASE
            .replace("[8]", "[8192]")
            .replace("measurements = 100", "measurements = 1000");
        let rsmi = "\n[rsmi]\nblock = 4\nbuffers = [0]\nenv = 2\nsamples = 10\nstride = 2\n";
        refused(
            &format!("{text}{rsmi}"),
            "rsmi.samples",
            "bytes of training pairs",
            16,
        );
        let rsmi = "\n[rsmi]\nblock = 1\nbuffers = [0]\nenv = 1\nsamples = 10\nstride = 1\n";
        refused(
            &format!("{text}{rsmi}"),
            "rsmi.samples",
            "bytes of training pairs",
            16,
        );
    }

    /// 10⁶ kept configurations of a 4096² lattice: 16 TB per task.
    #[test]
    fn kept_configurations_beyond_memory() {
        let text = BASE
            .replace("[8]", "[4096]")
            .replace("measurements = 100", "measurements = 1000000");
        refused(
            &format!("save_samples = 1000000\n{text}"),
            "save_samples",
            "kept in memory",
            1,
        );
        let rg = "\n[rg]\nlevels = 1\nsamples = 200\n";
        refused(&format!("{text}{rg}"), "rg.samples", "3355443200 bytes", 14);
        let ok = format!("{text}{}", rg.replace("200", "100"));
        let _one = exclusive();
        bounded(&ok, || Sweep::parse(&ok, FILE)).expect("100 × 4096² bytes fit");
    }
}
