//! Shared by the fuzz tests of this crate and of `proto` (included there by path, since a test
//! helper cannot be a dependency without becoming a crate of its own): a deterministic byte
//! mutator, the case count, and per-input allocation and time limits.
//!
//! Case counts: each test runs a small number of cases by default (the CI pass of
//! `cargo test --workspace`), and `RGSWEEP_FUZZ_CASES=N` sets the number of mutated inputs per
//! target; the `--ignored` variants default to 1,000,000.

#![allow(dead_code)]

use cap::Cap;
use std::alloc::System;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Counts every allocation of the test binary. `cap` wraps the system allocator without any
/// `unsafe` on our side (the workspace forbids it), and its hard limit turns a runaway
/// allocation into an immediate abort instead of swapping a shared machine.
#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

/// Bytes live at once before the process aborts: far above any input's budget, far below the
/// machine's memory.
const HARD_LIMIT: usize = 2 << 30;
/// Bytes one input may allocate in total (a sum over its allocations, so at least its peak).
pub const INPUT_BUDGET: usize = 64 << 20;
/// Wall time one input may take: the slowest legitimate input is a few milliseconds.
pub const INPUT_TIME: Duration = Duration::from_secs(1);

/// Serialises the fuzz tests of one binary, so that one input's allocations are its own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn exclusive() -> MutexGuard<'static, ()> {
    let guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Only fails if more than the limit is already live, which would be a failure anyway.
    assert!(ALLOC.set_limit(HARD_LIMIT).is_ok(), "over the hard limit");
    guard
}

/// Runs `f` on one input and fails, naming the input, if it panics, allocates more than
/// [`INPUT_BUDGET`] or runs longer than [`INPUT_TIME`].
pub fn bounded<R>(what: &dyn std::fmt::Debug, f: impl FnOnce() -> R) -> R {
    let before = ALLOC.total_allocated();
    let started = Instant::now();
    let r = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            eprintln!("the input that panicked: {what:?}");
            std::panic::resume_unwind(panic)
        }
    };
    let (bytes, time) = (ALLOC.total_allocated() - before, started.elapsed());
    assert!(
        bytes <= INPUT_BUDGET,
        "{bytes} bytes allocated for one input: {what:?}"
    );
    assert!(time <= INPUT_TIME, "{time:?} for one input: {what:?}");
    r
}

/// The number of mutated inputs per target: `RGSWEEP_FUZZ_CASES` or `default`.
pub fn cases(default: u64) -> u64 {
    std::env::var("RGSWEEP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (SplitMix64): fixed seeds give the same inputs everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Integers that sit on boundaries, little-endian, for overwriting binary fields.
const INTERESTING: [u64; 12] = [
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x7fff,
    0xffff,
    0x7fff_ffff,
    0xffff_ffff,
    0x7fff_ffff_ffff_ffff,
    u64::MAX,
];

/// One to four random edits of `input`: bit flips, byte overwrites, deletions, insertions,
/// duplications, boundary integers, `tokens` from the format's vocabulary, and splices of
/// lines (or byte ranges) from `corpus`.
pub fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = rng.next() as u8;
            }
            2 => {
                let n = 1 + rng.below(16);
                out.drain(at..(at + n).min(out.len()));
            }
            3 => {
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.splice(at..at, bytes);
            }
            4 if !out.is_empty() => {
                let from = rng.below(out.len());
                let n = (1 + rng.below(32)).min(out.len() - from);
                let piece = out[from..from + n].to_vec();
                out.splice(at..at, piece);
            }
            5 => {
                let v = *rng.pick(&INTERESTING);
                let width = *rng.pick(&[1usize, 2, 4, 8]);
                let bytes = &v.to_le_bytes()[..width];
                let end = (at + width).min(out.len());
                out.splice(at..end, bytes.iter().copied());
            }
            6 if !tokens.is_empty() => {
                let t = rng.pick(tokens);
                let end = if rng.below(2) == 0 {
                    at
                } else {
                    (at + t.len()).min(out.len())
                };
                out.splice(at..end, t.iter().copied());
            }
            7 if corpus.iter().any(|c| !c.is_empty()) => {
                // A line of another input, in place of one of ours (text) or anywhere (binary).
                let mut other = rng.pick(corpus);
                while other.is_empty() {
                    other = rng.pick(corpus);
                }
                let lines: Vec<&[u8]> = other.split_inclusive(|&b| b == b'\n').collect();
                let line = rng.pick(&lines).to_vec();
                let start = out[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let end = out[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(out.len(), |i| at + i + 1);
                if rng.below(2) == 0 {
                    out.splice(start..end, line);
                } else {
                    out.splice(start..start, line);
                }
            }
            _ => {
                // A number, replaced by a boundary value written as text.
                let digits = |b: &u8| b.is_ascii_digit();
                if let Some(s) = out[at..].iter().position(digits).map(|i| at + i) {
                    let e = out[s..]
                        .iter()
                        .position(|b| !digits(b))
                        .map_or(out.len(), |i| s + i);
                    let v = *rng.pick(&[
                        "0",
                        "-1",
                        "1e300",
                        "-0.0",
                        "nan",
                        "inf",
                        "9223372036854775807",
                        "18446744073709551616",
                        "4294967296",
                        "100000",
                        "1e-9",
                        "8193",
                    ]);
                    out.splice(s..e, v.bytes());
                }
            }
        }
    }
    out
}
