//! Pseudo-likelihood couplings against exact answers (REFERENCE.md §4): uncoarsened 2D Ising
//! samples must give K₁ = 1/T and nothing else; 1D decimation by 2 maps K to
//! K' = ½ ln cosh 2K exactly.

use rgsweep_physics::lattice::Lattice;
use rgsweep_physics::rg::{Map, Operator, coarse_grain, couplings};
use rgsweep_physics::rsmi::chain;
use rgsweep_physics::rsmi::samples::{System, generate};
use rgsweep_physics::{Algorithm, ModelKind, Stream};

#[test]
fn uncoarsened_ising_samples_return_the_model_s_couplings() {
    let ops = [
        Operator::NearestNeighbour,
        Operator::Diagonal,
        Operator::Second,
        Operator::Plaquette,
        Operator::Field,
    ];
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
        let k1 = 1.0 / t;
        // The acceptance bounds (1% on K₁, 0.01 on the rest), and the estimates' own errors:
        // each must sit within 4 jackknife errors of the exact value.
        assert!(
            (k[0].value - k1).abs() < 0.01 * k1,
            "T={t}: K1 = {:?}, exact {k1}",
            k[0]
        );
        assert!(k[0].deviation(k1).abs() < 4.0, "T={t}: K1 = {:?}", k[0]);
        for (op, e) in ops.iter().zip(&k).skip(1) {
            assert!(e.value.abs() < 0.01, "T={t}: {op:?} = {e:?}");
            assert!(e.deviation(0.0).abs() < 4.0, "T={t}: {op:?} = {e:?}");
        }
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
