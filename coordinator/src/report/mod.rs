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

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
pub const INPUTS: [&str; 8] = [
    "observables.csv",
    "summary.json",
    "rsmi.csv",
    "filters.json",
    "flows.csv",
    "rg-filters.json",
    "layers.csv",
    "information-plane.csv",
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

/// The page's figure width in CSS pixels; PNGs are drawn at `PNG_SCALE` times that.
const WIDTH: u32 = 640;
const PNG_SCALE: u32 = 2;

/// Registers the bundled DejaVu Sans as plotters' "sans-serif", once: plotters measures text
/// with it for every backend, and the PNG backend draws glyphs from it, so figures look the
/// same on a machine without any installed font.
fn register_font() -> Result<(), ReportError> {
    static FONT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *FONT.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ReportError::Draw("the bundled font does not load".into()))
    }
}

/// A figure as data: drawn once as inline SVG for the page and once as a PNG file.
struct Figure {
    /// File-name part of the PNG: `fig-{n}-{slug}.png`.
    slug: String,
    caption: String,
    plot: Plot,
}

impl Figure {
    fn new(slug: &str, caption: &str, plot: Plot) -> Figure {
        Figure {
            // Map names come from flows.csv: keep file names and links plain.
            slug: slug
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect(),
            caption: caption.to_string(),
            plot,
        }
    }
}

enum Plot {
    Lines(Lines),
    Filters(Filters),
}

/// Curves with error bars against a common x axis.
struct Lines {
    title: String,
    x_label: String,
    y_label: String,
    curves: Vec<(String, Series)>,
    vline: Option<(f64, String)>,
    /// A fitted line (name, end points), drawn plain.
    fit: Option<(String, [(f64, f64); 2])>,
    /// Marked points with error bars in x and y: (x, y, x error, y error), and their name.
    marks: Option<(String, Vec<[f64; 4]>)>,
    x: (f64, f64),
    y: (f64, f64),
}

impl Lines {
    /// `None` without a finite point: a figure with nothing to show is left out.
    fn plot(
        title: &str,
        x_label: &str,
        y_label: &str,
        curves: Vec<(String, Series)>,
        vline: Option<(f64, &str)>,
    ) -> Option<Plot> {
        let err = |p: &(f64, f64, f64)| if p.2.is_finite() { p.2 } else { 0.0 };
        let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
        let curves: Vec<(String, Series)> = curves
            .into_iter()
            .map(|(name, s)| {
                let s: Series = s
                    .into_iter()
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect();
                (name, s)
            })
            .collect();
        for p in curves.iter().flat_map(|(_, s)| s) {
            x0 = x0.min(p.0);
            x1 = x1.max(p.0);
            y0 = y0.min(p.1 - err(p));
            y1 = y1.max(p.1 + err(p));
        }
        // Padded ranges; none when a value so large that the range overflows (a malformed
        // output file): plotters' tick search would never end on an infinite axis.
        let pad = |a: f64, b: f64| {
            let scale = a.abs().max(b.abs());
            let d = if b > a {
                ((b - a) * 0.05).max(1e-9 * scale)
            } else {
                (0.05 * scale).max(0.5)
            };
            let (lo, hi) = (a - d, b + d);
            (lo.is_finite() && hi.is_finite() && hi - lo > 0.0 && (hi - lo).is_finite())
                .then_some((lo, hi))
        };
        let (x, y) = (pad(x0, x1)?, pad(y0, y1)?);
        Some(Plot::Lines(Lines {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            curves,
            vline: vline
                .filter(|(x, _)| x.is_finite())
                .map(|(x, n)| (x, n.to_string())),
            fit: None,
            marks: None,
            x,
            y,
        }))
    }
}

/// Learned filters as heat maps: one row of panels per temperature, one panel per column
/// (hidden unit or RG level), each panel the filter's weights laid out like the block.
struct Filters {
    title: String,
    columns: Vec<String>,
    rows: Vec<(String, Vec<Option<Panel>>)>,
}

/// A filter's weights on a grid, scaled to [−1, 1].
struct Panel {
    width: usize,
    values: Vec<f64>,
}

impl Panel {
    /// The weights in row-major order, `width` per row. H and −H carry the same information,
    /// so the sign is fixed (weights sum to ≥ 0) before scaling by the largest |weight|.
    fn new(weights: &[f64], width: usize) -> Option<Panel> {
        if width == 0
            || weights.is_empty()
            || !weights.len().is_multiple_of(width)
            || weights.iter().any(|w| !w.is_finite())
        {
            return None;
        }
        let sign = if weights.iter().sum::<f64>() < 0.0 {
            -1.0
        } else {
            1.0
        };
        let max = weights.iter().fold(0.0f64, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { sign / max } else { 0.0 };
        Some(Panel {
            width,
            values: weights.iter().map(|w| w * scale).collect(),
        })
    }
}

/// Blue (−1) through white (0) to red (+1).
fn diverging(v: f64) -> RGBColor {
    let t = v.abs().min(1.0);
    let (r, g, b) = if v >= 0.0 {
        (178.0, 24.0, 43.0)
    } else {
        (33.0, 102.0, 172.0)
    };
    let mix = |c: f64| (255.0 + (c - 255.0) * t).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

/// A legend entry's sample line, `16 * s` pixels long.
fn legend_line(style: ShapeStyle, s: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let length = 16 * s as i32;
    move |(x, y)| PathElement::new(vec![(x, y), (x + length, y)], style)
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

impl Plot {
    /// Size in CSS pixels.
    fn size(&self) -> (u32, u32) {
        match self {
            Plot::Lines(_) => (WIDTH, 400),
            Plot::Filters(f) => (WIDTH, 110 + 56 * f.rows.len() as u32),
        }
    }

    /// Draws on `root` at `s` device pixels per CSS pixel.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: u32) -> Drawn<DB> {
        root.fill(&WHITE)?;
        match self {
            Plot::Lines(l) => l.draw(root, s),
            Plot::Filters(f) => f.draw(root, s),
        }
    }

    fn svg(&self) -> Result<String, ReportError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            self.draw(&root, 1)
                .map_err(|e| ReportError::Draw(e.to_string()))?;
            root.present()
                .map_err(|e| ReportError::Draw(e.to_string()))?;
        }
        Ok(svg)
    }

    fn png(&self) -> Result<Vec<u8>, ReportError> {
        let draw = |e: &dyn std::fmt::Display| ReportError::Draw(e.to_string());
        let (w, h) = self.size();
        let (w, h) = (w * PNG_SCALE, h * PNG_SCALE);
        let mut rgb = vec![0u8; 3 * w as usize * h as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root, PNG_SCALE).map_err(|e| draw(&e))?;
            root.present().map_err(|e| draw(&e))?;
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| draw(&e))?;
        writer.write_image_data(&rgb).map_err(|e| draw(&e))?;
        writer.finish().map_err(|e| draw(&e))?;
        Ok(out)
    }
}

impl Lines {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: u32) -> Drawn<DB> {
        let si = s as i32;
        let mut c = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20 * s))
            .margin(12 * s)
            .x_label_area_size(40 * s)
            .y_label_area_size(60 * s)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)?;
        c.configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 12 * s))
            .axis_desc_style(("sans-serif", 14 * s))
            .draw()?;
        for (k, (name, pts)) in self.curves.iter().enumerate() {
            let colour = COLOURS[k % COLOURS.len()];
            let line = colour.stroke_width(s);
            c.draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), line))?
                .label(name.clone())
                .legend(legend_line(line, s));
            c.draw_series(pts.iter().map(|p| {
                let e = if p.2.is_finite() { p.2 } else { 0.0 };
                PathElement::new(vec![(p.0, p.1 - e), (p.0, p.1 + e)], line)
            }))?;
            c.draw_series(
                pts.iter()
                    .map(|p| Circle::new((p.0, p.1), 3 * s, colour.filled())),
            )?;
        }
        if let Some((name, marks)) = &self.marks {
            let style = BLACK.stroke_width(s);
            let size = 5 * si;
            for [x, y, ex, ey] in marks {
                let (ex, ey) = (
                    if ex.is_finite() { *ex } else { 0.0 },
                    if ey.is_finite() { *ey } else { 0.0 },
                );
                c.draw_series([
                    PathElement::new(vec![(x - ex, *y), (x + ex, *y)], style),
                    PathElement::new(vec![(*x, y - ey), (*x, y + ey)], style),
                ])?;
            }
            c.draw_series(
                marks
                    .iter()
                    .map(|[x, y, ..]| Cross::new((*x, *y), size, style)),
            )?
            .label(name.clone())
            .legend(move |(x, y)| Cross::new((x + 8 * si, y), size, style));
        }
        if let Some((name, ends)) = &self.fit {
            let style = BLACK.mix(0.6).stroke_width(s);
            c.draw_series(std::iter::once(PathElement::new(ends.to_vec(), style)))?
                .label(name.clone())
                .legend(legend_line(style, s));
        }
        if let Some((x, name)) = &self.vline {
            let style = BLACK.mix(0.5).stroke_width(s);
            c.draw_series(std::iter::once(PathElement::new(
                vec![(*x, self.y.0), (*x, self.y.1)],
                style,
            )))?
            .label(name.clone())
            .legend(legend_line(style, s));
        }
        c.configure_series_labels()
            .label_font(("sans-serif", 12 * s))
            .legend_area_size(24 * s)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

impl Filters {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>, s: u32) -> Drawn<DB> {
        let si = s as i32;
        let root = root
            .margin(8 * s, 0, 0, 0)
            .titled(&self.title, ("sans-serif", 20 * s))?;
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let font = |size: u32, h: HPos| {
            TextStyle::from(("sans-serif", size * s).into_font()).pos(Pos::new(h, VPos::Center))
        };
        let (left, top, bar) = (110 * si, 26 * si, 44 * si);
        let cols = self.columns.len().max(1) as i32;
        let rows = self.rows.len().max(1) as i32;
        let cell_w = (w - left - 12 * si) / cols;
        let cell_h = (h - top - bar) / rows;
        for (j, name) in self.columns.iter().enumerate() {
            let x = left + cell_w * j as i32 + cell_w / 2;
            root.draw(&Text::new(
                name.clone(),
                (x, top / 2),
                font(13, HPos::Center),
            ))?;
        }
        for (i, (label, panels)) in self.rows.iter().enumerate() {
            let y0 = top + cell_h * i as i32;
            root.draw(&Text::new(
                label.clone(),
                (8 * si, y0 + cell_h / 2),
                font(13, HPos::Left),
            ))?;
            for (j, panel) in panels.iter().enumerate() {
                let Some(p) = panel else { continue };
                let height = (p.values.len() / p.width) as i32;
                // Square pixels of the block, as large as fit 80% of the cell.
                let px = ((cell_w * 4 / 5) / p.width as i32).min((cell_h * 4 / 5) / height);
                let x0 = left + cell_w * j as i32 + (cell_w - px * p.width as i32) / 2;
                let y0 = y0 + (cell_h - px * height) / 2;
                for (k, v) in p.values.iter().enumerate() {
                    let (r, c) = ((k / p.width) as i32, (k % p.width) as i32);
                    let corner = (x0 + c * px, y0 + r * px);
                    let far = (corner.0 + px, corner.1 + px);
                    root.draw(&Rectangle::new([corner, far], diverging(*v).filled()))?;
                    root.draw(&Rectangle::new(
                        [corner, far],
                        BLACK.mix(0.3).stroke_width(s),
                    ))?;
                }
            }
        }
        // The colour scale.
        let (x0, y0, steps) = (left, h - bar + 10 * si, 21);
        let step = (w - left - 12 * si) / 2 / steps;
        for k in 0..steps {
            let v = -1.0 + 2.0 * k as f64 / (steps - 1) as f64;
            let corner = (x0 + k * step, y0);
            root.draw(&Rectangle::new(
                [corner, (corner.0 + step, corner.1 + 12 * si)],
                diverging(v).filled(),
            ))?;
        }
        for (k, label) in [(0, "-1"), (steps / 2, "0"), (steps - 1, "+1")] {
            root.draw(&Text::new(
                label,
                (x0 + k * step + step / 2, y0 + 22 * si),
                font(11, HPos::Center),
            ))?;
        }
        root.draw(&Text::new(
            "weight / largest |weight|",
            (x0 + steps * step + 10 * si, y0 + 6 * si),
            font(12, HPos::Left),
        ))?;
        Ok(())
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
    let (fss_figures, collapse_note) = fss::figures(&observables, &summary);
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
    for n in summary["dimers"]["notes"].as_array().into_iter().flatten() {
        if let Some(n) = n.as_str() {
            notes.push(n.to_string());
        }
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
        "{0}<p>{1}{2}, sizes {3}, {4} temperatures.</p>\n{7}<h2>Estimates</h2>\n<table><tr><th>quantity</th><th>estimate</th><th>error</th><th>reference</th><th>(estimate − reference)/error</th><th>source</th></tr>\n{5}</table>\n{6}<h2>Figures</h2>\n",
        head(name),
        escape(model),
        q.map_or(String::new(), |q| format!(" (q = {q})")),
        escape(&sweep["sizes"].to_string()),
        sweep["temperatures"].as_array().map_or(0, Vec::len),
        rows,
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
        partial::section(&summary),
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
mod partial;
mod prx1d;
mod rsmi;

#[cfg(test)]
mod tests;
