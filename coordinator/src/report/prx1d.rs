//! The page of a `lab = "prx1d"` laboratory (`prx1d.csv`, `summary.json`): the PRX picture of
//! Lenggenhager et al. (PRX 10, 011037, 2020) for the Ising chain's two-spin rules — the
//! fraction of the block's information about its environment a rule keeps, against the range
//! (and the many-bodyness) of the couplings it leaves.

use super::{Figure, Lines, Plot, Report, ReportError, Series, Table, finish, head, spread};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// λ₁ curves drawn per figure: past the palette, colours would repeat.
const CURVES: usize = 6;

pub(super) fn render(
    files: &BTreeMap<String, String>,
    summary: &Value,
) -> Result<Report, ReportError> {
    let t = Table::parse(
        "prx1d.csv",
        files
            .get("prx1d.csv")
            .ok_or(ReportError::Missing("prx1d.csv"))?,
    )?;
    let name = summary["sweep"]["name"].as_str().unwrap_or("laboratory");
    let mut html = head(name);
    html.push_str(
        "<p>The exact 1D laboratory of optimal RG: the Ising chain at coupling K, blocks of two spins, a one-site buffer on each side, and block rules P(h | v₁, v₂) ∝ exp(h(λ₁v₁ + λ₂v₂)) with decimation (λ₂ = 0, λ₁ → ∞) and majority (λ₁ = λ₂ → ∞, a fair coin on ties) as limits. Every number is exact (transfer matrices; no sampling). The PRX claim: a rule that keeps more of I(V:E) leaves shorter-ranged couplings.</p>\n<h2>Per coupling</h2>\n<table><tr><th>K</th><th>I(V:E) (nats)</th><th>kept: decimation</th><th>rangeness</th><th>kept: majority</th><th>rangeness</th><th>RBM keeping most (λ₁, λ₂)</th><th>kept</th><th>rangeness</th><th>rules</th><th>rank corr. kept vs |rangeness|</th><th>vs |m-bodyness|</th></tr>\n",
    );
    let num = |v: &Value| v.as_f64().map_or("—".to_string(), |x| format!("{x:.4}"));
    let sci = |v: &Value| v.as_f64().map_or("—".to_string(), |x| format!("{x:+.2e}"));
    for r in summary["prx1d"].as_array().into_iter().flatten() {
        let b = &r["best"];
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>({}, {})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r["k"],
            r["i_ve"]
                .as_f64()
                .map_or("—".to_string(), |x| format!("{x:.4e}")),
            num(&r["decimation"]["retained"]),
            sci(&r["decimation"]["rangeness"]),
            num(&r["majority"]["retained"]),
            sci(&r["majority"]["rangeness"]),
            b["lambda1"],
            b["lambda2"],
            num(&b["retained"]),
            sci(&b["rangeness"]),
            r["rules"],
            num(&r["spearman_range"]),
            num(&r["spearman_m_body"]),
        );
    }
    html.push_str("</table>\n<h2>Figures</h2>\n");
    let mut figures = Vec::new();
    for (k, rows) in by_coupling(&t) {
        for (slug, column, label, what) in [
            (
                "rangeness",
                "rangeness",
                "rangeness K'2(2) / K'2(1)",
                "rangeness",
            ),
            (
                "m-bodyness",
                "m_bodyness",
                "m-bodyness K'4 / K'2(1)",
                "m-bodyness",
            ),
        ] {
            let plot = picture(&t, &rows, column, label, k);
            if let Some(plot) = plot {
                figures.push(Figure::new(
                    &format!("{slug}-k{k}"),
                    &format!(
                        "Information kept, I(H:E)/I(V:E), against the {what} of the couplings the rule leaves, K = {k}: one curve per λ₁ through λ₂ ascending, decimation and majority as points. Rules whose K′₂(1) is below 10⁻¹² in size (a rule that barely reads its block) are left out."
                    ),
                    plot,
                ));
            }
        }
    }
    finish(html, &figures)
}

/// Rows grouped by K, in the file's order.
fn by_coupling(t: &Table) -> Vec<(f64, Vec<&BTreeMap<String, String>>)> {
    let mut out: Vec<(f64, Vec<&BTreeMap<String, String>>)> = Vec::new();
    for r in &t.rows {
        let k = t.numbers(r, "K");
        match out.last_mut() {
            Some((last, rows)) if *last == k => rows.push(r),
            _ => out.push((k, vec![r])),
        }
    }
    out
}

/// One plotted point: (x, y, error).
type Point = (f64, f64, f64);

fn picture(
    t: &Table,
    rows: &[&BTreeMap<String, String>],
    column: &str,
    label: &str,
    k: f64,
) -> Option<Plot> {
    let resolved = |r: &&&BTreeMap<String, String>| t.numbers(r, "K1").abs() > 1e-12;
    let point =
        |r: &BTreeMap<String, String>| (t.numbers(r, column), t.numbers(r, "retained"), 0.0);
    // λ₁ bits → points in λ₂ order.
    let mut curves: BTreeMap<u64, Vec<(f64, Point)>> = BTreeMap::new();
    let mut limits: Vec<(String, Series)> = Vec::new();
    for r in rows.iter().filter(resolved) {
        match r.get("rule").map(String::as_str) {
            Some("rbm") => {
                let l1 = t.numbers(r, "lambda1");
                curves
                    .entry(l1.to_bits())
                    .or_default()
                    .push((t.numbers(r, "lambda2"), point(r)));
            }
            Some(rule) => limits.push((rule.to_string(), vec![point(r)])),
            None => {}
        }
    }
    let mut curves: Vec<(f64, Series)> = curves
        .into_iter()
        .map(|(bits, mut s)| {
            s.sort_by(|a, b| a.0.total_cmp(&b.0));
            (
                f64::from_bits(bits),
                s.into_iter().map(|(_, p)| p).collect(),
            )
        })
        .collect();
    curves.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut all: Vec<(String, Series)> = spread(curves, CURVES)
        .into_iter()
        .map(|(l1, s)| (format!("λ1 = {l1}"), s))
        .collect();
    all.extend(limits);
    Lines::plot(
        &format!("Information kept against range, K = {k}"),
        label,
        "I(H:E) / I(V:E)",
        all,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_laboratory_page_has_its_table_and_figures() {
        let csv = "K,rule,lambda1,lambda2,I_VE,I_HE,retained,K1,K2,K3,K4,rangeness,m_bodyness,largest_other\n\
0.5,decimation,,,4.5e-2,2.7e-2,0.604,0.33,0,0,0,0,0,0\n\
0.5,majority,,,4.5e-2,2.4e-2,0.530,0.3,-0.01,0,0.001,-0.03,0.003,0\n\
0.5,rbm,1,0,4.5e-2,1.0e-2,0.2,0.1,0.001,0,0,0.01,0,0\n\
0.5,rbm,1,1,4.5e-2,0.9e-2,0.19,0.1,-0.002,0,0,-0.02,0,0\n\
0.5,rbm,0,0,4.5e-2,0,0,0,0,0,0,NaN,NaN,0\n";
        let summary = serde_json::json!({
            "sweep": {"name": "chain", "lab": "prx1d"},
            "prx1d": [{"k": 0.5, "i_ve": 0.045, "rules": 2,
                "decimation": {"retained": 0.604, "rangeness": 0.0},
                "majority": {"retained": 0.53, "rangeness": -0.03},
                "best": {"lambda1": 1.0, "lambda2": 0.0, "retained": 0.2, "rangeness": 0.01}}]
        });
        let mut files = BTreeMap::new();
        files.insert("prx1d.csv".to_string(), csv.to_string());
        files.insert("summary.json".to_string(), summary.to_string());
        let r = super::super::render(&files).expect("a page");
        assert!(r.html.contains("<h1>chain</h1>"));
        assert!(r.html.contains("<td>0.6040</td>"), "{}", r.html);
        assert_eq!(r.figures.len(), 2, "rangeness and m-bodyness");
        assert!(
            r.figures[0].0.contains("rangeness-k0-5"),
            "{:?}",
            r.figures[0].0
        );
        files.remove("prx1d.csv");
        assert_eq!(
            super::super::render(&files),
            Err(ReportError::Missing("prx1d.csv"))
        );
    }
}
