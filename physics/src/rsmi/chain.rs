//! The 1D Ising chain, the analytic anchor of RSMI (Lenggenhager et al., PRX 10, 011037, 2020):
//! exact independent sampling (the exact I(H:E) of its block rules is
//! [`crate::rg::exact1d::information`]).

use crate::rng::Stream;

/// An open chain of `n` spins at coupling K = βJ, sampled exactly: the first spin uniform, each
/// bond aligned with probability e^K / (2 cosh K), independently. A contiguous segment of it has
/// the same distribution as the same segment of an infinite chain. States 0 (σ = +1) and 1.
pub fn sample(n: usize, k: f64, stream: &mut Stream) -> Vec<u8> {
    let aligned = 1.0 / (1.0 + (-2.0 * k).exp());
    let mut out = Vec::with_capacity(n);
    let mut s = u8::from(stream.uniform() < 0.5);
    for _ in 0..n {
        out.push(s);
        if stream.uniform() >= aligned {
            s ^= 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_neighbours_are_correlated_as_tanh_k() {
        let k = 0.6;
        let mut s = Stream::derive(4, "chain");
        let c = sample(400_000, k, &mut s);
        let n = (c.len() - 1) as f64;
        let corr: f64 = c
            .windows(2)
            .map(|w| if w[0] == w[1] { 1.0 } else { -1.0 })
            .sum::<f64>()
            / n;
        // Bonds are independent: standard error √((1 − t²)/n).
        let t = k.tanh();
        assert!(
            (corr - t).abs() < 4.0 * ((1.0 - t * t) / n).sqrt(),
            "{corr} vs {t}"
        );
    }
}
