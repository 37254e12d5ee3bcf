//! Where two coupling curves K_a(T) and K_b(T) cross, when the data says they do.
//!
//! A coarse level's nearest-neighbour coupling is noisy, and far from T_c the two curves of a
//! pair say nothing about T_c: above it both flow to zero (their difference changes sign at
//! random), below it a level orders (K = +∞, no finite coupling). A crossing counts only if
//! - it is a sign change of d = K_a − K_b between two temperatures where neither curve is
//!   ordered and not both are consistent with zero (|K| < [`ZERO_SIGMAS`] errors);
//! - at least [`MIN_SUPPORT`] such temperatures on each side keep the sign of their side, and
//!   on each side some |d| reaches [`MIN_SCORE`] errors (a crossing between two stretches where
//!   the curves agree within noise is no crossing); temperatures where |d| is below
//!   [`NEUTRAL_SIGMAS`] errors lie on the crossing itself and count for neither side.
//!
//! Of several such sign changes the best supported one (the larger of the two sides' weaker
//! peak |d|/σ) is taken and the others are reported; over at most [`WINDOW`] temperatures of
//! the supporting stretches, T_c is where an error-weighted line through d vanishes and λ_t
//! comes from collapsing one curve onto the other ([`super::collapse`]).
//! (Issue 13: on the paper-scale flows, the deepest levels' couplings in the disordered tail
//! changed sign at random and the analysis took that tail crossing for T_c = 3.37.)

use super::collapse::collapse;
use crate::stats::fit_line;

/// A coupling within this many errors of zero is consistent with zero.
pub const ZERO_SIGMAS: f64 = 2.0;
/// Where d is within this many errors of zero the curves agree: such a temperature is part of
/// the crossing, not of either side.
pub const NEUTRAL_SIGMAS: f64 = 1.0;
/// Temperatures that must keep the sign of d on each side of a crossing.
pub const MIN_SUPPORT: usize = 2;
/// The largest |d|/σ on each side must reach this.
pub const MIN_SCORE: f64 = 2.0;
/// Temperatures in the line fits: enough to average the pseudo-likelihood's noise over, few
/// enough that the curves stay straight.
pub const WINDOW: usize = 8;

/// Two curves over ascending temperatures, with their errors.
pub struct Pair<'a> {
    pub t: &'a [f64],
    pub a: &'a [f64],
    pub a_err: &'a [f64],
    pub b: &'a [f64],
    pub b_err: &'a [f64],
}

/// A trustworthy sign change: which temperatures the fits use.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// Indices (into the pair's temperatures) of the usable ones, ascending.
    pub kept: Vec<usize>,
    /// The fit window, as a range of `kept`.
    pub window: (usize, usize),
    /// Usable temperatures keeping their side's sign, below and above the crossing.
    pub support: [usize; 2],
    /// The weaker side's peak |d|/σ.
    pub score: f64,
    /// Other sign changes that also passed (the data is ambiguous if this is not 0).
    pub rivals: usize,
}

impl Pair<'_> {
    fn sigma_d(&self, i: usize) -> f64 {
        self.a_err[i].hypot(self.b_err[i])
    }

    fn usable(&self, i: usize) -> bool {
        let (a, b) = (self.a[i], self.b[i]);
        let zero = |v: f64, e: f64| v.abs() < ZERO_SIGMAS * e;
        a.is_finite()
            && b.is_finite()
            && self.sigma_d(i) > 0.0
            && !(zero(a, self.a_err[i]) && zero(b, self.b_err[i]))
    }

    /// The crossing the data supports, or why there is none.
    pub fn locate(&self) -> Result<Located, String> {
        let n = self.t.len();
        let ordered = (0..n).filter(|&i| self.a[i] == f64::INFINITY || self.b[i] == f64::INFINITY);
        let kept: Vec<usize> = (0..n).filter(|&i| self.usable(i)).collect();
        let d = |k: usize| self.a[kept[k]] - self.b[kept[k]];
        let z = |k: usize| d(k).abs() / self.sigma_d(kept[k]);
        let sign = |k: usize| d(k) > 0.0;
        // Points where the curves agree within NEUTRAL_SIGMAS errors belong to the crossing
        // itself: they neither break a side's run nor count for it (noise flips their sign).
        let sig: Vec<usize> = (0..kept.len())
            .filter(|&k| z(k) >= NEUTRAL_SIGMAS)
            .collect();
        let changes: Vec<usize> = (0..sig.len().saturating_sub(1))
            .filter(|&j| sign(sig[j]) != sign(sig[j + 1]))
            .collect();
        if changes.is_empty() {
            let finite = (0..n)
                .filter(|&i| self.a[i].is_finite() && self.b[i].is_finite())
                .count();
            return Err(format!(
                "no sign change among {} usable temperatures ({} with an ordered level, {} with \
                 both couplings consistent with zero)",
                kept.len(),
                ordered.count(),
                finite - kept.len()
            ));
        }
        let mut best: Option<Located> = None;
        let mut passed = 0;
        let mut why = String::new();
        for &j in &changes {
            // The runs of significant points of the two signs meeting between sig[j] and
            // sig[j + 1].
            let below = (0..=j)
                .rev()
                .take_while(|&i| sign(sig[i]) == sign(sig[j]))
                .count();
            let above = (j + 1..sig.len())
                .take_while(|&i| sign(sig[i]) == sign(sig[j + 1]))
                .count();
            let peak = |r: std::ops::Range<usize>| r.map(|i| z(sig[i])).fold(0.0, f64::max);
            let score = peak(j + 1 - below..j + 1).min(peak(j + 1..j + 1 + above));
            let t_at = self.t[kept[sig[j]]];
            if below < MIN_SUPPORT || above < MIN_SUPPORT {
                why = format!(
                    "the sign change above T = {t_at} has {below} temperature(s) below and \
                     {above} above it, fewer than {MIN_SUPPORT}"
                );
                continue;
            }
            if score < MIN_SCORE {
                why = format!(
                    "the sign change above T = {t_at} is within noise (the curves part by at \
                     most {score:.1} errors on one side)"
                );
                continue;
            }
            passed += 1;
            if best.as_ref().is_none_or(|b| score > b.score) {
                // The window: the two bracketing points and what lies between them, grown to
                // at most WINDOW temperatures within the two runs.
                let (run_lo, run_hi) = (sig[j + 1 - below], sig[j + above] + 1);
                let (mut lo, mut hi) = (sig[j], sig[j + 1] + 1);
                let centre = sig[j] + sig[j + 1];
                while hi - lo < WINDOW && (lo > run_lo || hi < run_hi) {
                    if lo > run_lo && (hi >= run_hi || centre - 2 * lo < 2 * hi - centre - 2) {
                        lo -= 1;
                    } else {
                        hi += 1;
                    }
                }
                best = Some(Located {
                    kept: kept.clone(),
                    window: (lo, hi),
                    support: [below, above],
                    score,
                    rivals: 0,
                });
            }
        }
        let mut found = best.ok_or(why)?;
        found.rivals = passed - 1;
        Ok(found)
    }
}

/// T_c where an error-weighted line through d = a − b vanishes, and λ_t from collapsing `a`
/// onto `b` ([`collapse`]), over the located window; `a`, `b` may be jackknife leave-out values
/// (same window, same errors). T_c is taken from d, not from the collapse: the zero of a smooth
/// difference needs no model of either curve's shape, while the collapse's T_c trades off
/// against λ_t wherever corrections to scaling keep the curves from collapsing exactly (on the
/// three-level flows the majority rule's T_c moved from −0.34% to −0.42% with it).
pub fn fit(pair: &Pair, at: &Located, a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let idx = &at.kept[at.window.0..at.window.1];
    let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let t = pick(pair.t);
    let d: Vec<f64> = idx.iter().map(|&i| a[i] - b[i]).collect();
    let sd: Vec<f64> = idx.iter().map(|&i| pair.sigma_d(i)).collect();
    let fd = fit_line(&t, &d, &sd)?;
    if fd.slope == 0.0 || !fd.slope.is_finite() {
        return None;
    }
    let (_, lambda) = collapse(&t, &pick(a), &pick(pair.a_err), &pick(b), &pick(pair.b_err))?;
    Some((-fd.intercept / fd.slope, lambda))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temps(n: usize) -> Vec<f64> {
        (0..n).map(|i| 2.0 + 0.05 * i as f64).collect()
    }

    fn pair<'a>(t: &'a [f64], a: &'a [f64], b: &'a [f64], e: &'a [f64]) -> Pair<'a> {
        Pair {
            t,
            a,
            a_err: e,
            b,
            b_err: e,
        }
    }

    fn locate(t: &[f64], a: &[f64], b: &[f64], err: f64) -> Result<Located, String> {
        pair(t, a, b, &vec![err; t.len()]).locate()
    }

    #[test]
    fn straight_curves_cross_where_they_were_built_to() {
        // K⁽ⁿ⁾(T) = K* + λⁿ·0.3·(T_c − T): slope ratio λ between the two curves.
        let (tc, lambda, k): (f64, f64, f64) = (2.3, 1.8, 0.4);
        let t = temps(13);
        let curve = |n: i32| -> Vec<f64> {
            t.iter()
                .map(|x| k + lambda.powi(n) * 0.3 * (tc - x))
                .collect()
        };
        let (a, b) = (curve(2), curve(1));
        let e = vec![0.001; t.len()];
        let pair = pair(&t, &a, &b, &e);
        let at = pair.locate().expect("they cross");
        assert_eq!(at.window.1 - at.window.0, WINDOW);
        let (found, ratio) = fit(&pair, &at, &a, &b).expect("fits");
        assert!((found - tc).abs() < 1e-12 && (ratio - lambda).abs() < 1e-12);
        // Parallel curves never cross.
        let shifted: Vec<f64> = b.iter().map(|v| v + 1.0).collect();
        assert!(locate(&t, &shifted, &b, 0.001).is_err());
    }

    #[test]
    fn a_noise_only_tail_and_an_ordered_side_are_not_crossings() {
        // T = 2.0 … 3.6: ordered (K = ∞) up to 2.1, a real crossing at 2.27, and a disordered
        // tail from 2.6 where both couplings are zero within errors and d changes sign at
        // random (the paper-scale failure).
        let t: Vec<f64> = (0..33).map(|i| 2.0 + 0.05 * f64::from(i)).collect();
        let err = 0.01;
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (i, &x) in t.iter().enumerate() {
            let wobble = if i % 2 == 0 { 0.008 } else { -0.008 };
            if x < 2.12 {
                a.push(f64::INFINITY);
                b.push(0.9);
            } else if x < 2.58 {
                a.push(0.44 + 1.6 * (2.27 - x));
                b.push(0.44 + 0.9 * (2.27 - x));
            } else {
                a.push(wobble);
                b.push(-wobble);
            }
        }
        let at = locate(&t, &a, &b, err).expect("the real crossing");
        assert_eq!(at.rivals, 0);
        let e = vec![err; t.len()];
        let (tc, _) = fit(&pair(&t, &a, &b, &e), &at, &a, &b).expect("fits");
        assert!((tc - 2.27).abs() < 1e-9, "{tc}");
        // Without the real crossing, the tail alone yields none.
        let only_tail: Vec<usize> = (0..t.len()).filter(|&i| t[i] > 2.58).collect();
        let pick = |v: &[f64]| only_tail.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let why = locate(&pick(&t), &pick(&a), &pick(&b), err).expect_err("no crossing");
        assert!(why.contains("consistent with zero"), "{why}");
    }

    #[test]
    fn a_sign_change_with_one_supporting_temperature_is_dropped() {
        let t = temps(8);
        let b = vec![0.5; 8];
        // One point above, then below by many errors: a single outlier, not a crossing.
        let a = vec![0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.6, 0.4];
        let why = locate(&t, &a, &b, 0.01).expect_err("unsupported");
        assert!(why.contains("fewer than 2"), "{why}");
    }
}
