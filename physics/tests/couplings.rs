//! Pseudo-likelihood couplings against exact answers (REFERENCE.md §4): uncoarsened 2D Ising
//! samples must give K₁ = 1/T and nothing else; 1D decimation by 2 maps K to
//! K' = ½ ln cosh 2K exactly. Majority-rule MCRG at K_c (Swendsen 1979) must give the 2D Ising
//! RG eigenvalues y_t = 1 and y_h = 15/8.

use rgsweep_physics::lattice::Lattice;
use rgsweep_physics::rg::{Map, Operator, coarse_grain, couplings};
use rgsweep_physics::rsmi::chain;
use rgsweep_physics::rsmi::samples::{System, generate};
use rgsweep_physics::{Algorithm, ModelKind, Stream};

/// Couplings fitted on samples of the model itself at `t`: K₁ = 1/T, the rest 0. The
/// acceptance bounds (1% on K₁, 0.01 on the rest), and the estimates' own errors: each must sit
/// within 4 jackknife errors of the exact value.
fn assert_model_couplings(t: f64, ops: &[Operator], k: &[rgsweep_physics::Estimate]) {
    let k1 = 1.0 / t;
    assert!(
        (k[0].value - k1).abs() < 0.01 * k1,
        "T={t}: K1 = {:?}, exact {k1}",
        k[0]
    );
    assert!(k[0].deviation(k1).abs() < 4.0, "T={t}: K1 = {:?}", k[0]);
    for (op, e) in ops.iter().zip(k).skip(1) {
        assert!(e.value.abs() < 0.01, "T={t}: {op:?} = {e:?}");
        assert!(e.deviation(0.0).abs() < 4.0, "T={t}: {op:?} = {e:?}");
    }
}

/// The operators the uncoarsened-sample checks fit (every one but the three-spin term).
const MODEL_CHECK_OPS: [Operator; 5] = [
    Operator::NearestNeighbour,
    Operator::Diagonal,
    Operator::Second,
    Operator::Plaquette,
    Operator::Field,
];

#[test]
fn uncoarsened_ising_samples_return_the_model_s_couplings() {
    let ops = MODEL_CHECK_OPS;
    let lattice = Lattice::new(2, 32);
    for t in [2.0, 2.269, 3.0] {
        let s = generate(
            System::Lattice {
                model: ModelKind::Ising2d,
                q: 2,
            },
            32,
            t,
            4000,
            Algorithm::Wolff,
            500,
            Stream::derive(21, &format!("pl-{t}")),
        );
        let refs: Vec<&[u8]> = s.configs.iter().map(Vec::as_slice).collect();
        let k = couplings(&lattice, &refs, &ops, 20).expect("fits");
        assert_model_couplings(t, &ops, &k);
    }
}

#[test]
fn one_dimensional_decimation_is_exact() {
    let size = 4096;
    let lattice = Lattice::new(1, size / 2);
    for k in [0.3, 0.6, 1.0] {
        let mut s = Stream::derive(22, &format!("chain-{k}"));
        let coarse: Vec<Vec<u8>> = (0..3000)
            .map(|_| {
                coarse_grain(
                    Map::Decimation,
                    1,
                    size,
                    &chain::sample(size, k, &mut s),
                    &mut s,
                )
            })
            .collect();
        let refs: Vec<&[u8]> = coarse.iter().map(Vec::as_slice).collect();
        let est = couplings(
            &lattice,
            &refs,
            &[Operator::NearestNeighbour, Operator::Second],
            10,
        )
        .expect("fits");
        let exact = 0.5 * (2.0 * k).cosh().ln();
        assert!(
            (est[0].value - exact).abs() < 0.02 * exact,
            "K={k}: K' = {:?}, exact {exact}",
            est[0]
        );
        // Decimation in 1D generates no longer-range coupling.
        assert!(
            est[1].deviation(0.0).abs() < 4.0,
            "K={k}: K2 = {:?}",
            est[1]
        );
    }
}

#[test]
fn majority_rule_mcrg_gives_the_ising_exponents() {
    use rgsweep_physics::rg::linear::{exponent, sums};
    let even = [
        Operator::NearestNeighbour,
        Operator::Diagonal,
        Operator::Second,
        Operator::Plaquette,
    ];
    let odd = [Operator::Field, Operator::ThreeSpin];
    let tc = 2.0 / (1.0 + 2f64.sqrt()).ln();
    let size = 64;
    let s = generate(
        System::Lattice {
            model: ModelKind::Ising2d,
            q: 2,
        },
        size,
        tc,
        3000,
        Algorithm::Wolff,
        500,
        Stream::derive(23, "mcrg"),
    );
    let mut stream = Stream::derive(23, "mcrg-maps");
    let mut levels = vec![s.configs];
    for n in 0..3 {
        let l = size >> n;
        let next: Vec<Vec<u8>> = levels[n]
            .iter()
            .map(|c| coarse_grain(Map::Majority, 2, l, c, &mut stream))
            .collect();
        levels.push(next);
    }
    let level_sums = |n: usize, ops: &[Operator]| {
        let refs: Vec<&[u8]> = levels[n].iter().map(Vec::as_slice).collect();
        sums(&Lattice::new(2, size >> n), &refs, ops)
    };
    for n in 1..=3 {
        let yt = exponent(&level_sums(n, &even), &level_sums(n - 1, &even), 20).expect("y_t");
        let yh = exponent(&level_sums(n, &odd), &level_sums(n - 1, &odd), 20).expect("y_h");
        // The bounds at every level (y_t within 5% of 1, y_h within 2% of 15/8); from
        // level 2 on, where truncation to these few operators no longer dominates, also within
        // 4 jackknife errors of the exact values.
        assert!((yt.value - 1.0).abs() < 0.05, "level {n}: y_t = {yt:?}");
        assert!(
            (yh.value - 1.875).abs() < 0.02 * 1.875,
            "level {n}: y_h = {yh:?}"
        );
        if n >= 2 {
            assert!(yt.deviation(1.0).abs() < 4.0, "level {n}: y_t = {yt:?}");
            assert!(yh.deviation(1.875).abs() < 4.0, "level {n}: y_h = {yh:?}");
        }
    }
}

/// The same checks for the 3-state Potts model, H = −Σ δ(s_i, s_j) (K_nn = 1/T): Potts
/// operators are Kronecker deltas and the pseudo-likelihood a softmax over the q states.
#[test]
fn uncoarsened_potts_samples_return_the_model_s_couplings() {
    use rgsweep_physics::rg::couplings::{Spins, count_blocks, fit_blocks};
    let ops = MODEL_CHECK_OPS;
    let lattice = Lattice::new(2, 32);
    // T_c = 1/ln(1 + √3) = 0.995 (Baxter).
    for t in [0.9, 0.995, 1.3] {
        let s = generate(
            System::Lattice {
                model: ModelKind::Potts2d,
                q: 3,
            },
            32,
            t,
            2000,
            Algorithm::SwendsenWang,
            300,
            Stream::derive(24, &format!("potts-pl-{t}")),
        );
        let refs: Vec<&[u8]> = s.configs.iter().map(Vec::as_slice).collect();
        let (parts, _) = count_blocks(&lattice, &refs, &ops, Spins::Potts(3), 20);
        let k = fit_blocks(&parts).expect("fits").values;
        assert_model_couplings(t, &ops, &k);
    }
}

/// Majority (plurality) rule MCRG for the 3-state Potts model at T_c: y_t = 6/5 and
/// y_h = 28/15 (den Nijs 1979; Nienhuis & Nauenberg 1975).
#[test]
fn potts_majority_rule_mcrg_gives_the_potts_exponents() {
    use rgsweep_physics::rg::couplings::{Spins, count_blocks};
    use rgsweep_physics::rg::linear::exponent;
    use rgsweep_physics::rg::maps::coarse_grain_q;
    let even = [
        Operator::NearestNeighbour,
        Operator::Diagonal,
        Operator::Second,
        Operator::Plaquette,
    ];
    let odd = [Operator::Field];
    let tc = 1.0 / (1.0 + 3f64.sqrt()).ln();
    let size = 64;
    let s = generate(
        System::Lattice {
            model: ModelKind::Potts2d,
            q: 3,
        },
        size,
        tc,
        3000,
        Algorithm::SwendsenWang,
        300,
        Stream::derive(25, "potts-mcrg"),
    );
    let mut stream = Stream::derive(25, "potts-mcrg-maps");
    let mut levels = vec![s.configs];
    for n in 0..3 {
        let l = size >> n;
        let next: Vec<Vec<u8>> = levels[n]
            .iter()
            .map(|c| coarse_grain_q(Map::Majority, 2, l, 3, c, &mut stream))
            .collect();
        levels.push(next);
    }
    let level_sums = |n: usize, ops: &[Operator]| {
        let refs: Vec<&[u8]> = levels[n].iter().map(Vec::as_slice).collect();
        count_blocks(&Lattice::new(2, size >> n), &refs, ops, Spins::Potts(3), 1).1
    };
    let found: Vec<_> = (1..=3)
        .map(|n| {
            let yt = exponent(&level_sums(n, &even), &level_sums(n - 1, &even), 20).expect("y_t");
            let yh = exponent(&level_sums(n, &odd), &level_sums(n - 1, &odd), 20).expect("y_h");
            eprintln!("level {n}: y_t = {yt:?}, y_h = {yh:?}");
            (yt, yh)
        })
        .collect();
    // y_t converges more slowly in n than for Ising (measured: 1.106(10), 1.157(9), 1.187(12) at
    // levels 1–3; the truncation to four even operators matters more for Potts): from level 2
    // on within 5% of 6/5, and approaching it level by level. y_h within 2% at every level.
    for w in found.windows(2) {
        assert!(
            w[1].0.value > w[0].0.value,
            "y_t approaches 6/5 from below: {found:?}"
        );
    }
    for (n, (yt, yh)) in (1..).zip(found.iter()) {
        if n >= 2 {
            assert!(
                (yt.value - 1.2).abs() < 0.05 * 1.2,
                "level {n}: y_t = {yt:?}"
            );
        }
        assert!(
            (yh.value - 28.0 / 15.0).abs() < 0.02 * 28.0 / 15.0,
            "level {n}: y_h = {yh:?}"
        );
    }
}
