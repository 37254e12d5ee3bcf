//! `rgsweep prx1d`: the exact 1D laboratory of optimal RG over a grid of (K, λ₁, λ₂): the
//! information each two-spin rule keeps against the range of the couplings it leaves
//! (Lenggenhager et al., PRX 10, 011037, 2020), as CSV or JSON lines.

use anyhow::{Result, bail};
use rgsweep_physics::rg::exact1d;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Couplings K = βJ of the chain, comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_parser = crate::positive_f64)]
    k: Vec<f64>,
    /// λ₁ values of the RBM rule P(h | v) ∝ exp(h(λ₁v₁ + λ₂v₂)), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,1,2,4")]
    lambda1: Vec<f64>,
    /// λ₂ values, comma-separated (each paired with every λ₁).
    #[arg(long, value_delimiter = ',', default_value = "0,0.25,0.5,1,2,4")]
    lambda2: Vec<f64>,
    /// One JSON object per line instead of CSV.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> Result<()> {
    for (name, values) in [("--lambda1", &a.lambda1), ("--lambda2", &a.lambda2)] {
        if let Some(x) = values.iter().find(|x| !x.is_finite() || x.abs() > 1e3) {
            bail!("{name}: {x} is not a finite number of at most 1000 in size");
        }
    }
    if a.k.len() * a.lambda1.len() * a.lambda2.len() > 100_000 {
        bail!("--k × --lambda1 × --lambda2: more than 100000 rules; sweep a coarser grid");
    }
    if !a.json {
        println!("{}", exact1d::CSV_HEADER);
    }
    for row in exact1d::table(&a.k, &a.lambda1, &a.lambda2) {
        if a.json {
            let (info, c) = (&row.info, &row.couplings);
            let lambdas = row.rule.lambdas();
            let v = serde_json::json!({
                "k": row.k, "rule": row.rule.name(),
                "lambda1": lambdas.map(|l| l.0), "lambda2": lambdas.map(|l| l.1),
                "i_ve": info.visible, "i_he": info.hidden, "retained": info.retained(),
                "k1": c.pair[0], "k2": c.pair[1], "k3": c.pair[2], "k4": c.four,
                "rangeness": c.rangeness(), "m_bodyness": c.m_bodyness(),
                "largest_other": c.rest,
            });
            println!("{v}");
        } else {
            println!("{}", row.csv());
        }
    }
    Ok(())
}
