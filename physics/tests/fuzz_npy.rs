//! Fuzzing the `.npy` reader: mutations of valid files of every accepted element type, in C and
//! Fortran order with one to four axes, and generated headers (shapes, types, versions and
//! lengths that lie about the data). Every input must be read into configurations of the
//! asked shape, or refused with an error naming the file; none may panic, allocate more than
//! 64 MiB or take over a second.
//!
//! `cargo test -p rgsweep-physics --test fuzz_npy` runs the CI pass;
//! `cargo test --release -p rgsweep-physics --test fuzz_npy -- --ignored` runs 10⁶ inputs.

mod fuzzing;

use fuzzing::{Rng, bounded, cases, exclusive, mutate};
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use ndarray_npy::{WritableElement, WriteNpyExt};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use rgsweep_physics::npy::{NpyError, read_samples};

const FILE: &str = "fuzz/samples.npy";

/// A valid file: `n` configurations of `dim` axes of `size`, as Ising ±1 or Potts 0..q−1.
struct Sample {
    bytes: Vec<u8>,
    dim: usize,
    size: usize,
    q: Option<u8>,
    /// False for Ising spins written as uint8, which cannot hold −1.
    valid: bool,
}

fn encode<T: WritableElement + Clone>(
    a: &ArrayD<f64>,
    f: impl Fn(f64) -> T,
    fortran: bool,
) -> Vec<u8> {
    let shape = a.shape().to_vec();
    let values: Vec<T> = a.iter().map(|&x| f(x)).collect();
    let mut array = ArrayD::from_shape_vec(IxDyn(&shape), values).expect("shape");
    if fortran {
        let mut f_order = ArrayD::from_elem(IxDyn(&shape).f(), array.first().expect("one").clone());
        f_order.assign(&array);
        array = f_order;
    }
    let mut out = Vec::new();
    array.write_npy(&mut out).expect("in memory");
    out
}

fn corpus() -> Vec<Sample> {
    let mut out = Vec::new();
    let mut rng = Rng::new(7);
    for dim in 0..=3 {
        for (size, q) in [(2, None), (3, Some(3u8)), (4, None)] {
            let n = 1 + rng.below(3);
            let mut shape = vec![n];
            shape.extend(std::iter::repeat_n(size, dim));
            let a = ArrayD::from_shape_simple_fn(IxDyn(&shape), || match q {
                None => [1.0, -1.0][rng.below(2)],
                Some(q) => rng.below(q as usize) as f64,
            });
            for fortran in [false, true] {
                for (k, bytes) in [
                    encode(&a, |x| x as i8, fortran),
                    encode(&a, |x| x as u8, fortran),
                    encode(&a, |x| x as i16, fortran),
                    encode(&a, |x| x as i32, fortran),
                    encode(&a, |x| x as i64, fortran),
                    encode(&a, |x| x as f32, fortran),
                    encode(&a, |x| x, fortran),
                ]
                .into_iter()
                .enumerate()
                {
                    let valid = q.is_some() || k != 1 || a.iter().all(|&x| x == 1.0);
                    out.push(Sample {
                        bytes,
                        dim,
                        size,
                        q,
                        valid,
                    });
                }
            }
        }
    }
    out
}

/// The whole contract for one input.
fn check(bytes: &[u8], dim: usize, size: usize, q: Option<u8>) -> bool {
    bounded(&bytes, || match read_samples(bytes, FILE, dim, size, q) {
        Ok(configs) => {
            let sites = size.pow(dim as u32);
            assert!(!configs.is_empty());
            assert!(configs.iter().all(|c| c.len() == sites));
            let states = q.unwrap_or(2);
            assert!(configs.iter().flatten().all(|&s| s < states));
            // The data cannot have come from fewer bytes than the configurations hold.
            assert!(configs.len() * sites <= bytes.len());
            true
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("{FILE}: ")), "{shown}");
            if let NpyError::Format { reason, .. } = &e {
                assert!(!reason.trim().is_empty(), "{shown}");
            }
            false
        }
    })
}

const TOKENS: &[&[u8]] = &[
    b"(1099511627776, 4)",
    b"(4611686018427387904, 4, 4)",
    b"18446744073709551615",
    b"(0,)",
    b"()",
    b"-1",
    b"'<f8'",
    b"'>i4'",
    b"'<u2'",
    b"'|b1'",
    b"'<c16'",
    b"True",
    b"{{{{{{{{",
    b"((((((((",
    b"[[[[[[[[",
    b"\\x00",
    b"\xff\xff\xff\xff",
    b"'shape': (",
    b"'descr': ",
    b"\n",
];

fn mutations(n: u64, seed: u64) {
    let _one = exclusive();
    let started = std::time::Instant::now();
    let corpus = corpus();
    let raw: Vec<Vec<u8>> = corpus.iter().map(|s| s.bytes.clone()).collect();
    for s in &corpus {
        assert_eq!(check(&s.bytes, s.dim, s.size, s.q), s.valid);
    }
    let mut rng = Rng::new(seed);
    let mut accepted = 0u64;
    for _ in 0..n {
        let s = rng.pick(&corpus);
        let bytes = mutate(&mut rng, &s.bytes, &raw, TOKENS);
        // Mostly the shape the file was made for; sometimes another one.
        let (dim, size) = if rng.below(8) == 0 {
            (rng.below(4), rng.below(6))
        } else {
            (s.dim, s.size)
        };
        accepted += u64::from(check(&bytes, dim, size, s.q));
    }
    assert!(accepted * 100 >= n, "{accepted} of {n} accepted");
    eprintln!(
        "fuzz_npy mutations: {n} inputs, {accepted} accepted in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A file from parts: version, header length as written (right or not), dictionary entries
/// and a body of any length.
fn npy_file() -> impl Strategy<Value = (Vec<u8>, usize, usize)> {
    let descr = prop::sample::select(vec![
        "'|i1'",
        "'|u1'",
        "'<i2'",
        "'>i2'",
        "'<i4'",
        "'<i8'",
        "'>i8'",
        "'<f4'",
        "'<f8'",
        "'>f8'",
        "'<u2'",
        "'|b1'",
        "'<c16'",
        "'x'",
        "3",
        "[('a', '<i4')]",
    ]);
    let dimension = prop_oneof![
        8 => 0usize..5,
        1 => prop::sample::select(vec![1usize << 20, 1 << 32, 1 << 40, 1 << 62, usize::MAX]),
    ];
    let shape = prop::collection::vec(dimension, 0..5);
    let order = prop::sample::select(vec!["False", "True", "0", "'x'"]);
    (
        prop::sample::select(vec![1u8, 2, 3, 4]),
        descr,
        order,
        shape,
        prop::option::weighted(0.1, any::<u32>()),
        0usize..300,
        any::<u8>(),
        0usize..4,
        1usize..5,
    )
        .prop_map(
            |(version, descr, order, shape, header_len, body, fill, dim, size)| {
                let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
                let tuple = match dims.len() {
                    1 => format!("({},)", dims[0]),
                    _ => format!("({})", dims.join(", ")),
                };
                let mut header =
                    format!("{{'descr': {descr}, 'fortran_order': {order}, 'shape': {tuple}, }}");
                let prefix = 6 + 2 + if version == 1 { 2 } else { 4 };
                while !(prefix + header.len() + 1).is_multiple_of(64) {
                    header.push(' ');
                }
                header.push('\n');
                let mut out = b"\x93NUMPY".to_vec();
                out.extend([version, 0]);
                let len = header_len.unwrap_or(header.len() as u32);
                if version == 1 {
                    out.extend((len as u16).to_le_bytes());
                } else {
                    out.extend(len.to_le_bytes());
                }
                out.extend(header.as_bytes());
                out.extend(std::iter::repeat_n(fill, body));
                (out, dim, size)
            },
        )
}

fn generated(cases: u32, seed: u64) {
    let _one = exclusive();
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&npy_file(), |(bytes, dim, size)| {
            check(&bytes, dim, size, None);
            check(&bytes, dim, size, Some(3));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "fuzz_npy generated: {cases} inputs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn mutated_files_are_read_or_refused_clearly() {
    mutations(cases(20_000), 1);
}

#[test]
fn generated_files_are_read_or_refused_clearly() {
    generated(cases(5_000) as u32, 2);
}

#[test]
#[ignore = "10⁶ inputs: run with --release -- --ignored"]
fn a_million_mutated_files() {
    mutations(cases(1_000_000), 11);
}

#[test]
#[ignore = "10⁶ inputs: run with --release -- --ignored"]
fn a_million_generated_files() {
    generated(cases(1_000_000) as u32, 12);
}
