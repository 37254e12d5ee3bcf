//! `rgsweep run LAB.toml`: a laboratory file, computed exactly on the spot (no store, no
//! workers: there is nothing to lose or share). Writes `prx1d.csv`, `summary.json` and the
//! report, like a sweep's output directory.

use anyhow::{Context, Result};
use rgsweep_physics::rg::exact1d::{self, Reading, Row};
use rgsweep_physics::sweep::lab::Lab;
use std::path::{Path, PathBuf};

pub(crate) fn run(
    text: &str,
    file: &str,
    out: Option<PathBuf>,
    threads: usize,
    json: bool,
) -> Result<()> {
    let lab = Lab::parse(text, file)?;
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&lab.name));
    let started = std::time::Instant::now();
    let rows = table(&lab, threads);
    let readings = exact1d::read(&rows);
    let seconds = started.elapsed().as_secs_f64();
    let mut csv = format!("{}\n", exact1d::CSV_HEADER);
    for r in &rows {
        csv.push_str(&r.csv());
        csv.push('\n');
    }
    // The wall time is the one thing not reproduced byte for byte; it stays out of the files.
    let summary = serde_json::json!({ "sweep": &lab, "prx1d": &readings });
    let summary = format!("{}\n", serde_json::to_string_pretty(&summary)?);
    let mut files = std::collections::BTreeMap::new();
    files.insert("prx1d.csv".to_string(), csv.clone());
    files.insert("summary.json".to_string(), summary.clone());
    let report = rgsweep_coordinator::report::render(&files).context("cannot build the report")?;
    let mut outputs = vec![
        ("prx1d.csv".to_string(), csv.into_bytes()),
        ("summary.json".to_string(), summary.clone().into_bytes()),
        ("report.html".to_string(), report.html.into_bytes()),
    ];
    outputs.extend(report.figures);
    crate::write_outputs(&out, &outputs)?;
    if json {
        print!("{summary}");
    } else {
        print_readings(&lab.name, &out, rows.len(), seconds, &readings);
    }
    Ok(())
}

/// The whole grid, the couplings shared out over `threads` (rows stay in the file's order).
fn table(lab: &Lab, threads: usize) -> Vec<Row> {
    let chunk = lab.couplings.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = lab
            .couplings
            .chunks(chunk)
            .map(|ks| s.spawn(move || exact1d::table(ks, &lab.lambda1, &lab.lambda2)))
            .collect();
        parts
            .into_iter()
            // A panic in the exact code is a bug; pass it on rather than write half a table.
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn print_readings(name: &str, out: &Path, rules: usize, seconds: f64, readings: &[Reading]) {
    println!(
        "laboratory {name}: {rules} rules in {seconds:.1} s -> {}",
        out.display()
    );
    let opt = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:+.3}"));
    for r in readings {
        println!(
            "  K = {}: I(V:E) = {:.4e} nats; kept: decimation {:.4} (rangeness {:+.2e}), majority {:.4} (rangeness {:+.2e})",
            r.k,
            r.i_ve,
            r.decimation.retained,
            r.decimation.rangeness,
            r.majority.retained,
            r.majority.rangeness
        );
        if let Some(b) = &r.best {
            println!(
                "    most kept by an RBM rule: λ = ({}, {}) keeps {:.4}, rangeness {:+.2e}; over {} rules, rank correlation of kept with |rangeness| {}, with |m-bodyness| {}",
                b.lambda1.unwrap_or(f64::NAN),
                b.lambda2.unwrap_or(f64::NAN),
                b.retained,
                b.rangeness,
                r.rules,
                opt(r.spearman_range),
                opt(r.spearman_m_body)
            );
        }
    }
}
