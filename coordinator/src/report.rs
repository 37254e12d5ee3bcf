//! `report.html`: one self-contained page per finished sweep — figures as inline SVG, no
//! scripts, no fetches — built from the output files alone, so `rgsweep report DIR` makes the
//! same bytes from a copied output directory.
//!
//! Figures (plotters' SVG backend; the browser renders the text, so no font is bundled): Binder
//! cumulants with the estimated T_c, susceptibility and ⟨|m|⟩ against T for every L, RSMI's
//! I(H:E) against T for every buffer, and the nearest-neighbour coupling of every RG level
//! against T per map; then a table of every estimate beside its exact or literature value.

use plotters::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReportError {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{file}: {message}")]
    Malformed { file: &'static str, message: String },
}

/// A CSV file as rows of named columns (rgsweep writes plain CSV: no quoting).
struct Table {
    rows: Vec<BTreeMap<String, String>>,
}

impl Table {
    fn parse(file: &'static str, text: &str) -> Result<Table, ReportError> {
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .ok_or(ReportError::Malformed {
                file,
                message: "empty".into(),
            })?
            .split(',')
            .map(String::from)
            .collect();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                header
                    .iter()
                    .cloned()
                    .zip(l.split(',').map(String::from))
                    .collect()
            })
            .collect();
        Ok(Table { rows })
    }

    /// Column `name` as numbers, row by row (NaN where absent or not a number).
    fn numbers(&self, row: &BTreeMap<String, String>, name: &str) -> f64 {
        row.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// (x, y, error) points of one curve.
type Series = Vec<(f64, f64, f64)>;

const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// One line chart with error bars as SVG, or `None` without finite points.
fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[(String, Series)],
    vline: Option<(f64, &str)>,
) -> Option<String> {
    let finite = |p: &&(f64, f64, f64)| p.0.is_finite() && p.1.is_finite();
    let points: Vec<&(f64, f64, f64)> = curves.iter().flat_map(|(_, s)| s).filter(finite).collect();
    if points.is_empty() {
        return None;
    }
    let err = |p: &(f64, f64, f64)| if p.2.is_finite() { p.2 } else { 0.0 };
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in &points {
        x0 = x0.min(p.0);
        x1 = x1.max(p.0);
        y0 = y0.min(p.1 - err(p));
        y1 = y1.max(p.1 + err(p));
    }
    let pad = |a: f64, b: f64| {
        let d = if b > a { (b - a) * 0.05 } else { 0.5 };
        (a - d, b + d)
    };
    let ((x0, x1), (y0, y1)) = (pad(x0, x1), pad(y0, y1));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 400)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut c = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .ok()?;
        c.configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .ok()?;
        for (k, (name, series)) in curves.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let pts: Vec<(f64, f64, f64)> = series.iter().filter(finite).copied().collect();
            c.draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), colour))
                .ok()?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
            c.draw_series(pts.iter().map(|p| {
                let e = err(p);
                PathElement::new(vec![(p.0, p.1 - e), (p.0, p.1 + e)], colour)
            }))
            .ok()?;
            c.draw_series(
                pts.iter()
                    .map(|p| Circle::new((p.0, p.1), 3, colour.filled())),
            )
            .ok()?;
        }
        if let Some((x, name)) = vline
            && x.is_finite()
        {
            c.draw_series(std::iter::once(PathElement::new(
                vec![(x, y0), (x, y1)],
                BLACK.mix(0.5),
            )))
            .ok()?
            .label(name.to_string())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.mix(0.5)));
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Curves of `y` against temperature, one per value of `by`, from rows passing `keep`.
fn curves(
    t: &Table,
    by: &str,
    label: &str,
    y: &str,
    y_err: &str,
    keep: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Vec<(String, Series)> {
    let mut out: BTreeMap<(u64, String), Series> = BTreeMap::new();
    for row in t.rows.iter().filter(|r| keep(r)) {
        let key = row.get(by).cloned().unwrap_or_default();
        let order = key.parse::<f64>().map_or(0, f64::to_bits);
        out.entry((order, key)).or_default().push((
            t.numbers(row, "temperature"),
            t.numbers(row, y),
            t.numbers(row, y_err),
        ));
    }
    out.into_iter()
        .map(|((_, k), mut s)| {
            s.sort_by(|a, b| a.0.total_cmp(&b.0));
            (format!("{label}{k}"), s)
        })
        .collect()
}

/// Exact or literature values for the estimates of a model (REFERENCE.md §1–§2).
fn reference(model: &str, q: Option<u64>) -> BTreeMap<&'static str, (f64, &'static str)> {
    let mut r = BTreeMap::new();
    match (model, q) {
        ("ising2d", _) => {
            r.insert("tc", (2.0 / (1.0 + 2f64.sqrt()).ln(), "Onsager"));
            r.insert("nu", (1.0, "exact"));
            r.insert("gamma_over_nu", (1.75, "exact"));
            r.insert("beta_over_nu", (0.125, "exact"));
            r.insert("y_t", (1.0, "exact"));
            r.insert("y_h", (1.875, "exact"));
        }
        ("ising3d", _) => {
            r.insert("tc", (4.511_528, "Hasenbusch 2010"));
            r.insert("nu", (0.629_97, "bootstrap"));
            r.insert("gamma_over_nu", (1.963_6, "bootstrap"));
            r.insert("beta_over_nu", (0.518_1, "bootstrap"));
        }
        ("potts2d", Some(q)) => {
            r.insert("tc", (1.0 / (1.0 + (q as f64).sqrt()).ln(), "Baxter"));
            if q == 3 {
                r.insert("nu", (5.0 / 6.0, "exact"));
                r.insert("gamma_over_nu", (26.0 / 15.0, "exact"));
                r.insert("beta_over_nu", (2.0 / 15.0, "exact"));
                r.insert("y_t", (1.2, "exact"));
                r.insert("y_h", (28.0 / 15.0, "exact"));
            }
        }
        _ => {}
    }
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The report page from the output files (name → contents).
pub fn render(files: &BTreeMap<String, String>) -> Result<String, ReportError> {
    let summary: Value = serde_json::from_str(
        files
            .get("summary.json")
            .ok_or(ReportError::Missing("summary.json"))?,
    )
    .map_err(|e| ReportError::Malformed {
        file: "summary.json",
        message: e.to_string(),
    })?;
    let observables = Table::parse(
        "observables.csv",
        files
            .get("observables.csv")
            .ok_or(ReportError::Missing("observables.csv"))?,
    )?;
    let sweep = &summary["sweep"];
    let name = sweep["name"].as_str().unwrap_or("sweep");
    let model = sweep["model"].as_str().unwrap_or("");
    let q = sweep["q"].as_u64();
    let tc = summary["fss"]["tc"]["value"].as_f64();
    let mut figures: Vec<(String, String)> = Vec::new();
    let mut add = |caption: &str, svg: Option<String>| {
        if let Some(svg) = svg {
            figures.push((caption.to_string(), svg));
        }
    };
    let all = |_: &BTreeMap<String, String>| true;
    add(
        "Binder cumulant U₄(T) for every L; the line is the finite-size-scaling T_c.",
        chart(
            "Binder cumulant",
            "T",
            "U4",
            &curves(&observables, "size", "L = ", "binder", "binder_err", all),
            tc.map(|t| (t, "T_c")),
        ),
    );
    let nu = summary["fss"]["nu"]["value"].as_f64();
    if let (Some(tc), Some(nu)) = (tc, nu.filter(|n| *n > 0.0)) {
        let collapsed: Vec<(String, Series)> =
            curves(&observables, "size", "L = ", "binder", "binder_err", all)
                .into_iter()
                .map(|(label, series)| {
                    let l: f64 = label.trim_start_matches("L = ").parse().unwrap_or(f64::NAN);
                    let scaled = series
                        .into_iter()
                        .map(|(t, u, e)| ((t - tc) * l.powf(1.0 / nu), u, e))
                        .collect();
                    (label, scaled)
                })
                .collect();
        add(
            &format!(
                "Data collapse: U₄ against (T − T_c)·L^(1/ν) with the fitted T_c = {tc:.5} and ν = {nu:.4}; the curves of all sizes fall on one if the exponents are right."
            ),
            chart(
                "Data collapse of the Binder cumulant",
                "(T - T_c) L^(1/nu)",
                "U4",
                &collapsed,
                None,
            ),
        );
    }
    add(
        "Susceptibility χ(T) for every L.",
        chart(
            "Susceptibility",
            "T",
            "chi",
            &curves(
                &observables,
                "size",
                "L = ",
                "susceptibility",
                "susceptibility_err",
                all,
            ),
            tc.map(|t| (t, "T_c")),
        ),
    );
    add(
        "Order parameter ⟨|m|⟩(T) for every L.",
        chart(
            "Order parameter",
            "T",
            "<|m|>",
            &curves(&observables, "size", "L = ", "abs_m", "abs_m_err", all),
            tc.map(|t| (t, "T_c")),
        ),
    );
    if let Some(text) = files.get("rsmi.csv") {
        let rsmi = Table::parse("rsmi.csv", text)?;
        let largest = rsmi
            .rows
            .iter()
            .map(|r| rsmi.numbers(r, "size"))
            .fold(f64::NAN, f64::max);
        add(
            &format!(
                "RSMI: held-out I(H:E) in nats against T for every buffer width, L = {largest}."
            ),
            chart(
                "Real-space mutual information",
                "T",
                "I(H:E) (nats)",
                &curves(&rsmi, "buffer", "L_B = ", "mi_nats", "mi_err", |r| {
                    r.get("size").and_then(|s| s.parse::<f64>().ok()) == Some(largest)
                }),
                None,
            ),
        );
    }
    if let Some(text) = files.get("flows.csv") {
        let flows = Table::parse("flows.csv", text)?;
        let largest = flows
            .rows
            .iter()
            .map(|r| flows.numbers(r, "size"))
            .fold(f64::NAN, f64::max);
        let mut maps: Vec<String> = flows
            .rows
            .iter()
            .filter_map(|r| r.get("map").cloned())
            .collect();
        maps.sort();
        maps.dedup();
        for map in maps {
            let rg_tc = summary["rg"][&map]["tc"]["value"].as_f64();
            add(
                &format!(
                    "Coupling flow, {map} rule: nearest-neighbour coupling K₁ of every level against T, L = {largest} (ordered levels, K₁ = ∞, left out); the line is the flow's T_c."
                ),
                chart(
                    &format!("K1 flow ({map})"),
                    "T",
                    "K1",
                    &curves(&flows, "level", "level ", "coupling", "error", |r| {
                        r.get("map") == Some(&map)
                            && r.get("operator").map(String::as_str) == Some("nn")
                            && r.get("size").and_then(|s| s.parse::<f64>().ok()) == Some(largest)
                    }),
                    rg_tc.map(|t| (t, "T_c")),
                ),
            );
            // The flow in the (K₁, K_diag) plane: one trajectory per temperature, level by level.
            let mut paths: BTreeMap<u64, BTreeMap<u64, (f64, f64)>> = BTreeMap::new();
            for r in &flows.rows {
                if r.get("map") != Some(&map)
                    || r.get("size").and_then(|s| s.parse::<f64>().ok()) != Some(largest)
                {
                    continue;
                }
                let t = flows.numbers(r, "temperature");
                let level = flows.numbers(r, "level");
                let k = flows.numbers(r, "coupling");
                let entry = paths
                    .entry(t.to_bits())
                    .or_default()
                    .entry(level.to_bits())
                    .or_insert((f64::NAN, f64::NAN));
                match r.get("operator").map(String::as_str) {
                    Some("nn") => entry.0 = k,
                    Some("diagonal") => entry.1 = k,
                    _ => {}
                }
            }
            let trajectories: Vec<(String, Series)> = paths
                .into_iter()
                .map(|(t, levels)| {
                    (
                        format!("T = {}", f64::from_bits(t)),
                        levels.into_values().map(|(k1, k2)| (k1, k2, 0.0)).collect(),
                    )
                })
                .collect();
            add(
                &format!(
                    "The {map} flow in the (K₁, K_diag) plane, L = {largest}: one path per temperature from level 0 (K_diag = 0) on; paths run off towards the ordered or the disordered sink on either side of T_c."
                ),
                chart(
                    &format!("Flow in the (K1, K2) plane ({map})"),
                    "K1",
                    "K2 (diagonal)",
                    &trajectories,
                    None,
                ),
            );
        }
    }
    let refs = reference(model, q);
    let mut rows = String::new();
    let mut row = |what: &str, key: &str, est: &Value| {
        let (Some(v), e) = (est["value"].as_f64(), est["error"].as_f64()) else {
            // Not estimated (too few sizes, no crossing in range): say so rather than omit it.
            let _ = writeln!(
                rows,
                "<tr><td>{}</td><td>—</td><td></td><td></td><td></td><td>not estimated</td></tr>",
                escape(what)
            );
            return;
        };
        let (exact, source, sigma) = match refs.get(key) {
            Some((x, src)) => (
                format!("{x:.6}"),
                *src,
                e.filter(|e| *e > 0.0)
                    .map_or(String::new(), |e| format!("{:+.1}", (v - x) / e)),
            ),
            None => (String::new(), "", String::new()),
        };
        let _ = writeln!(
            rows,
            "<tr><td>{}</td><td>{v:.6}</td><td>{}</td><td>{exact}</td><td>{sigma}</td><td>{source}</td></tr>",
            escape(what),
            e.map_or(String::new(), |e| format!("{e:.6}"))
        );
    };
    for (key, what) in [
        ("tc", "T_c (FSS)"),
        ("nu", "ν (FSS)"),
        ("gamma_over_nu", "γ/ν (FSS)"),
        ("beta_over_nu", "β/ν (FSS)"),
    ] {
        row(what, key, &summary["fss"][key]);
    }
    if let Some(rg) = summary["rg"].as_object() {
        for (map, block) in rg {
            for (key, what) in [("tc", "T_c"), ("nu", "ν"), ("y_t", "y_t"), ("y_h", "y_h")] {
                row(&format!("{what} ({map} flow)"), key, &block[key]);
            }
        }
    }
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rgsweep: {0}</title>\n<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}figure{{margin:1.5em 0}}figcaption{{font-size:0.9em;color:#444}}table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:0.2em 0.6em;text-align:right}}th{{background:#eee}}</style></head>\n<body>\n<h1>{0}</h1>\n<p>{1}{2}, sizes {3}, {4} temperatures.</p>\n<h2>Estimates</h2>\n<table><tr><th>quantity</th><th>estimate</th><th>error</th><th>reference</th><th>(estimate − reference)/error</th><th>source</th></tr>\n{5}</table>\n<h2>Figures</h2>\n",
        escape(name),
        escape(model),
        q.map_or(String::new(), |q| format!(" (q = {q})")),
        escape(&sweep["sizes"].to_string()),
        sweep["temperatures"].as_array().map_or(0, Vec::len),
        rows,
    );
    for (caption, svg) in &figures {
        let _ = write!(
            html,
            "<figure>\n{svg}\n<figcaption>{}</figcaption></figure>\n",
            escape(caption)
        );
    }
    html.push_str("</body></html>\n");
    Ok(html)
}
