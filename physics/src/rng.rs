//! Reproducible random streams.
//!
//! Every random number rgsweep draws comes from a [`Stream`] derived from the sweep's seed and a
//! task key, so a task's output depends on what it is and never on which worker, thread or retry
//! ran it.
//!
//! # Derivation scheme (a stable, documented contract)
//! `state = SHA-256(b"rgsweep-stream-v1" || seed as 8 little-endian bytes || key as UTF-8)`, and the
//! 32 bytes seed a xoshiro256++ generator (`rand_xoshiro::Xoshiro256PlusPlus::from_seed`). The key is
//! a canonical text such as `ising2d/L=64/T=2.269/alg=wolff/r=3`; see `sweep::Task::stream_key`.
//! Changing this scheme changes every result, so it is versioned in the prefix.
//!
//! Uniform floats and bounded integers are derived here by hand rather than through `rand`'s
//! distributions, whose exact bit consumption is not a stability promise across versions.

use rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use sha2::{Digest, Sha256};

const STREAM_DOMAIN: &[u8] = b"rgsweep-stream-v1";

/// A deterministic random stream (xoshiro256++).
#[derive(Clone, Debug)]
pub struct Stream {
    inner: Xoshiro256PlusPlus,
}

impl Stream {
    /// The stream for `key` within a sweep whose seed is `seed`.
    pub fn derive(seed: u64, key: &str) -> Stream {
        let mut hasher = Sha256::new();
        hasher.update(STREAM_DOMAIN);
        hasher.update(seed.to_le_bytes());
        hasher.update(key.as_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&digest);
        Stream {
            inner: Xoshiro256PlusPlus::from_seed(bytes),
        }
    }

    /// A child stream, e.g. one per replica or per analysis stage, derived from this one's next
    /// output so that it never overlaps the parent in practice.
    pub fn child(&mut self, label: &str) -> Stream {
        let seed = self.next_u64();
        Stream::derive(seed, label)
    }

    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline(always)]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (n > 0), by Lemire's multiply-shift with rejection, so it is
    /// exactly uniform.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let x = self.next_u64();
            let m = (x as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// Acceptance threshold for `bernoulli_u64`: an event of probability `p` happens when a uniform
/// 64-bit word is below the returned value. `p >= 1` maps to `u64::MAX` plus an always-true flag.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Threshold {
    bound: u64,
    always: bool,
}

impl Threshold {
    pub(crate) fn new(p: f64) -> Threshold {
        if p >= 1.0 {
            Threshold {
                bound: u64::MAX,
                always: true,
            }
        } else if p <= 0.0 {
            Threshold {
                bound: 0,
                always: false,
            }
        } else {
            // p * 2^64 rounded down; p < 1 keeps this below 2^64.
            Threshold {
                bound: (p * 18_446_744_073_709_551_616.0) as u64,
                always: false,
            }
        }
    }

    #[inline(always)]
    pub(crate) fn always(self) -> bool {
        self.always
    }

    #[inline(always)]
    pub(crate) fn test(self, word: u64) -> bool {
        self.always | (word < self.bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_is_stable() {
        // Regression guard for the documented scheme: if this changes, every stored result and
        // every published seed reproduces differently, so the prefix version must change too.
        let mut s = Stream::derive(42, "ising2d/L=4/T=2/alg=metropolis/r=0");
        let first = s.next_u64();
        let mut again = Stream::derive(42, "ising2d/L=4/T=2/alg=metropolis/r=0");
        assert_eq!(first, again.next_u64());
        let mut other = Stream::derive(43, "ising2d/L=4/T=2/alg=metropolis/r=0");
        assert_ne!(first, other.next_u64());
        let mut other_key = Stream::derive(42, "ising2d/L=4/T=2/alg=metropolis/r=1");
        assert_ne!(first, other_key.next_u64());
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut s = Stream::derive(1, "below");
        let mut seen = [0u32; 7];
        for _ in 0..7000 {
            let v = s.below(7) as usize;
            seen[v] += 1;
        }
        // Each bin expects 1000 with sd ~29; 6 sd is a bug, not bad luck.
        for c in seen {
            assert!((c as i64 - 1000).abs() < 180, "{seen:?}");
        }
    }

    #[test]
    fn uniform_mean() {
        let mut s = Stream::derive(7, "uniform");
        let n = 100_000;
        let mean: f64 = (0..n).map(|_| s.uniform()).sum::<f64>() / n as f64;
        // sd of the mean = sqrt(1/12/n) = 9.1e-4
        assert!((mean - 0.5).abs() < 5.0 * 9.2e-4);
    }

    #[test]
    fn threshold_extremes() {
        assert!(Threshold::new(1.0).test(u64::MAX));
        assert!(!Threshold::new(0.0).test(0));
        let half = Threshold::new(0.5);
        assert!(half.test((1u64 << 63) - 1));
        assert!(!half.test(1u64 << 63));
    }
}
