//! `report.html`: one self-contained page per finished sweep — figures as inline SVG, no
//! scripts, no fetches — and each figure again as a PNG file beside it (`fig-N-name.png`), all
//! built from the output files alone, so `rgsweep report DIR` makes the same bytes from a copied
//! output directory.
//!
//! Figures: Binder cumulants with the estimated T_c and their data collapse (only with a
//! determined ν), susceptibility and ⟨|m|⟩ against T for every L and at T_c against L (log–log,
//! with the fitted γ/ν and β/ν), RSMI's I(H:E) against T for every buffer and its learned filters
//! as heat maps, and per RG map the nearest-neighbour coupling of every level against T and the
//! flow in the (K₁, K_diag) plane, with the RSMI rule of every level; then a table of every
//! estimate beside its exact or literature value. Each figure is a [`Plot`] (data), drawn by one
//! generic routine on plotters' SVG and bitmap backends; text is measured (SVG) and drawn (PNG)
//! with the bundled DejaVu Sans, so a machine with no fonts draws the same PNG bytes.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use plot::{Figure, Filters, Lines, Panel, Plot, Series, register_font};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReportError {
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{file}: {message}")]
    Malformed { file: &'static str, message: String },
    #[error("cannot draw a figure: {0}")]
    Draw(String),
}

/// The output files a report is built from; the first two are required.
pub const INPUTS: [&str; 12] = [
    "observables.csv",
    "summary.json",
    "rsmi.csv",
    "filters.json",
    "flows.csv",
    "rg-filters.json",
    "layers.csv",
    "information-plane.csv",
    "cluster-sizes.csv",
    "maze-runs.csv",
    "maze-depths.csv",
    "maze-landscape.csv",
];

/// The output files a laboratory's report is built from (`rgsweep run LAB.toml`).
pub const LAB_INPUTS: [&str; 2] = ["summary.json", "prx1d.csv"];

/// The page and its figures as PNG files (name → bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub html: String,
    pub figures: Vec<(String, Vec<u8>)>,
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

    /// The largest value of the `size` column (NaN without rows).
    fn largest_size(&self) -> f64 {
        self.rows
            .iter()
            .map(|r| self.numbers(r, "size"))
            .fold(f64::NAN, f64::max)
    }

    /// Column `name` as numbers, row by row (NaN where absent or not a number).
    fn numbers(&self, row: &BTreeMap<String, String>, name: &str) -> f64 {
        row.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }
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
    keyed_curves(t, by, label, y, y_err, keep)
        .into_iter()
        .map(|(_, name, s)| (name, s))
        .collect()
}

/// [`curves`] with each curve's value of `by` as a number (NaN if it is not one).
fn keyed_curves(
    t: &Table,
    by: &str,
    label: &str,
    y: &str,
    y_err: &str,
    keep: impl Fn(&BTreeMap<String, String>) -> bool,
) -> Vec<(f64, String, Series)> {
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
            (k.parse().unwrap_or(f64::NAN), format!("{label}{k}"), s)
        })
        .collect()
}

/// Exact or literature values of the estimates a sweep of `model` reports (REFERENCE.md §1), with
/// their source: the report and the shipped configs' regression test read them.
pub fn reference(model: &str, q: Option<u64>) -> BTreeMap<&'static str, (f64, &'static str)> {
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
        ("dimer2d", _) => {
            r.insert("t_kt", (0.65, "Alet et al. 2005"));
        }
        (m, _) if m.starts_with("percolation") => {
            let two = m.starts_with("percolation2d");
            match m {
                "percolation2d-site" => r.insert("p_c", (0.592_746_050_792_1, "Jacobsen 2015")),
                "percolation2d-bond" => r.insert("p_c", (0.5, "exact")),
                "percolation3d-site" => r.insert("p_c", (0.311_607_7, "Wang et al. 2013")),
                _ => r.insert("p_c", (0.248_811_82, "Wang et al. 2013")),
            };
            if two {
                r.insert("nu", (4.0 / 3.0, "exact"));
                r.insert("fractal_dimension", (91.0 / 48.0, "exact"));
                r.insert("gamma_over_nu", (43.0 / 24.0, "exact"));
                r.insert("tau", (187.0 / 91.0, "exact"));
                r.insert("r_axis", (0.521_058_290, "Pinson"));
                r.insert("r_either", (0.690_473_725, "Pinson"));
                r.insert("r_all", (0.351_642_855, "Pinson"));
                r.insert("r_one", (0.169_415_435, "Pinson"));
            } else {
                r.insert("nu", (1.0 / 1.1410, "Wang et al. 2013"));
            }
        }
        _ => {}
    }
    r
}

fn json(file: &'static str, text: &str) -> Result<Value, ReportError> {
    serde_json::from_str(text).map_err(|e| ReportError::Malformed {
        file,
        message: e.to_string(),
    })
}

/// At most `n` of `items`, evenly spread from first to last, so that a sweep of forty
/// temperatures still gives a figure one can read.
fn spread<T>(items: Vec<T>, n: usize) -> Vec<T> {
    let len = items.len();
    if len <= n || n < 2 {
        return items;
    }
    let keep: Vec<usize> = (0..n)
        .map(|i| (i * (len - 1) + (n - 1) / 2) / (n - 1))
        .collect();
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, t)| t)
        .collect()
}

const FILTER_ROWS: usize = 8;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

fn filter_plot(
    title: &str,
    column: &str,
    columns: usize,
    rows: Vec<(String, Vec<Option<Panel>>)>,
) -> Option<Plot> {
    if columns == 0 || !rows.iter().any(|r| r.1.iter().any(Option::is_some)) {
        return None;
    }
    Some(Plot::Filters(Filters {
        title: title.into(),
        columns: (1..=columns).map(|c| format!("{column} {c}")).collect(),
        rows: spread(rows, FILTER_ROWS),
    }))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report page from the output files (name → contents).
pub fn render(files: &BTreeMap<String, String>) -> Result<Report, ReportError> {
    register_font()?;
    let summary: Value = serde_json::from_str(
        files
            .get("summary.json")
            .ok_or(ReportError::Missing("summary.json"))?,
    )
    .map_err(|e| ReportError::Malformed {
        file: "summary.json",
        message: e.to_string(),
    })?;
    if summary["sweep"]["lab"].as_str() == Some("prx1d") {
        return prx1d::render(files, &summary);
    }
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
    let mut figures: Vec<Figure> = Vec::new();
    let mut add = |slug: &str, caption: &str, plot: Option<Plot>| {
        figures.extend(plot.map(|plot| Figure::new(slug, caption, plot)));
    };
    let (fss_figures, collapse_note) = if summary["mazes"].is_object() {
        (mazes::figures(files, &observables, &summary)?, None)
    } else if summary["percolation"].is_object() {
        let sizes = files
            .get("cluster-sizes.csv")
            .map(|t| Table::parse("cluster-sizes.csv", t))
            .transpose()?;
        (
            percolation::figures(&observables, sizes.as_ref(), &summary),
            None,
        )
    } else {
        fss::figures(&observables, &summary)
    };
    for (slug, caption, plot) in fss_figures {
        add(&slug, &caption, plot);
    }
    if summary["dimers"].is_object() {
        for (slug, caption, plot) in dimers::figures(&observables, &summary) {
            add(&slug, &caption, plot);
        }
    }
    // The analysis's own warnings (gaps reweighting cannot bridge, too few sizes, ...).
    let mut notes: Vec<String> = summary["fss"]["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for n in summary["percolation"]["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(summary["dimers"]["notes"].as_array().into_iter().flatten())
        .chain(summary["mazes"]["notes"].as_array().into_iter().flatten())
    {
        if let Some(n) = n.as_str() {
            notes.push(n.to_string());
        }
    }
    // Where the configurations came from, when not from rgsweep's own samplers.
    if let Some(e) = sweep["external"].as_object() {
        notes.insert(
            0,
            format!(
                "configurations from the registered sampler {} ({}), analysed as {model}",
                e.get("sampler").and_then(|v| v.as_str()).unwrap_or("?"),
                e.get("version").and_then(|v| v.as_str()).unwrap_or("?"),
            ),
        );
    }
    // The flow analysis's: which coupling crossings made T_c and ν, which were dropped and why.
    if let Some(rg) = summary["rg"].as_object() {
        for (map, block) in rg {
            for n in block["notes"].as_array().into_iter().flatten() {
                if let Some(n) = n.as_str() {
                    notes.push(format!("{map} flow: {n}"));
                }
            }
        }
    }
    notes.extend(collapse_note);
    // A site's inputs: one for Ising and dimer images, q one-hot weights for Potts (site-major),
    // so a row of the block is `block × q` weights wide.
    let per_site = q.filter(|_| model.starts_with("potts")).unwrap_or(1) as f64;
    for (slug, caption, plot) in rsmi::figures(files, per_site)? {
        add(&slug, &caption, plot);
    }
    for (slug, caption, plot) in flows::figures(files, &summary)? {
        add(&slug, &caption, plot);
    }
    for (slug, caption, plot) in layers::figures(files)? {
        add(&slug, &caption, plot);
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
    // Spin models: FSS; dimers: T_KT.
    if summary["fss"].is_object() {
        for (key, what) in [
            ("tc", "T_c (FSS)"),
            ("nu", "ν (FSS)"),
            ("gamma_over_nu", "γ/ν (FSS)"),
            ("beta_over_nu", "β/ν (FSS)"),
        ] {
            row(what, key, &summary["fss"][key]);
        }
    }
    if summary["percolation"].is_object() {
        for (what, key, est) in percolation::estimates(&summary) {
            row(&what, key, &est);
        }
    }
    if summary["dimers"].is_object() {
        row("T_KT (α_d = 1/4)", "t_kt", &summary["dimers"]["t_kt"]);
        // RSMI's filters against the emergent electric field, and the decoys' share.
        for f in summary["dimers"]["fields"].as_array().into_iter().flatten() {
            let at = format!(
                "L = {}, T = {}, L_B = {}",
                f["size"], f["temperature"], f["buffer"]
            );
            for (key, what) in [
                ("in_field_span", "filter weight in the E-field span"),
                ("field_in_filter_span", "E field in the filters' span"),
                ("decoy_weight", "filter weight on decoys"),
                ("in_columnar_span", "filter weight in the columnar span"),
            ] {
                row(
                    &format!("{what} ({at})"),
                    "",
                    &serde_json::json!({ "value": f[key] }),
                );
            }
            if f["dimension"].is_object() {
                row(
                    &format!("scaling dimension Δ of the coarse variables ({at}; the field's: 1)"),
                    "",
                    &f["dimension"],
                );
            }
        }
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
        "{0}<p>{1}{2}, sizes {3}, {4}.</p>\n{7}{5}{6}<h2>Figures</h2>\n",
        head(name),
        escape(model),
        q.map_or(String::new(), |q| format!(" (q = {q})")),
        escape(&sweep["sizes"].to_string()),
        match (
            sweep["probabilities"].as_array(),
            sweep["mazes"]["layers"].as_array()
        ) {
            (_, Some(n)) => format!(
                "network depths n = {}, {} runs each",
                escape(&serde_json::Value::Array(n.clone()).to_string()),
                sweep["replicas"]
            ),
            (Some(p), _) => format!("{} occupation probabilities", p.len()),
            (None, _) => format!(
                "{} temperatures",
                sweep["temperatures"].as_array().map_or(0, Vec::len)
            ),
        },
        if rows.is_empty() {
            // A maze sweep estimates nothing against a reference: its table is its own.
            String::new()
        } else {
            format!(
                "<h2>Estimates</h2>\n<table><tr><th>quantity</th><th>estimate</th><th>error</th><th>reference</th><th>(estimate − reference)/error</th><th>source</th></tr>\n{rows}</table>\n"
            )
        },
        if notes.is_empty() {
            String::new()
        } else {
            format!(
                "<h2>Notes</h2>\n<ul>\n{}</ul>\n",
                notes
                    .iter()
                    .map(|n| format!("<li>{}</li>\n", escape(n)))
                    .collect::<String>()
            )
        },
        partial::section(&summary)
            + &if summary["mazes"].is_object() {
                mazes::table(&summary)
            } else {
                String::new()
            },
    );
    finish(html, &figures)
}

/// The page's start, through its title.
fn head(name: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>rgsweep: {0}</title>\n<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}figure{{margin:1.5em 0}}figcaption{{font-size:0.9em;color:#444}}table{{border-collapse:collapse}}td,th{{border:1px solid #bbb;padding:0.2em 0.6em;text-align:right}}th{{background:#eee}}</style></head>\n<body>\n<h1>{0}</h1>\n",
        escape(name)
    )
}

/// The page's figures (inline SVG, each with a link to its PNG) and its end.
fn finish(mut html: String, figures: &[Figure]) -> Result<Report, ReportError> {
    let mut pngs = Vec::new();
    for (n, f) in figures.iter().enumerate() {
        // Zero-padded, so that file listings show the figures in page order.
        let png = format!("fig-{:02}-{}.png", n + 1, f.slug);
        let _ = write!(
            html,
            "<figure id=\"fig-{:02}\">\n{}\n<figcaption>{} <a href=\"{png}\">PNG</a></figcaption></figure>\n",
            n + 1,
            f.plot.svg()?,
            escape(&f.caption)
        );
        pngs.push((png, f.plot.png()?));
    }
    html.push_str("</body></html>\n");
    Ok(Report {
        html,
        figures: pngs,
    })
}

mod dimers;
mod flows;
mod fss;
mod layers;
mod mazes;
mod partial;
mod percolation;
mod plot;
mod prx1d;
mod rsmi;

#[cfg(test)]
mod tests;
