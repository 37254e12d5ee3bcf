//! The report's figures as data ([`Plot`]: curves or filter heat maps) and the one routine
//! that draws them, on plotters' SVG backend for the page and its bitmap backend for the PNGs,
//! with the bundled DejaVu Sans so that PNG bytes do not depend on the machine's fonts.

use super::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// (x, y, error) points of one curve.
pub(super) type Series = Vec<(f64, f64, f64)>;

pub(super) const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The page's figure width in CSS pixels; PNGs are drawn at `PNG_SCALE` times that.
pub(super) const WIDTH: u32 = 640;
pub(super) const PNG_SCALE: u32 = 2;

/// Registers the bundled DejaVu Sans as plotters' "sans-serif", once: plotters measures text
/// with it for every backend, and the PNG backend draws glyphs from it, so figures look the
/// same on a machine without any installed font.
pub(super) fn register_font() -> Result<(), ReportError> {
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
pub(super) struct Figure {
    /// File-name part of the PNG: `fig-{n}-{slug}.png`.
    pub(super) slug: String,
    pub(super) caption: String,
    pub(super) plot: Plot,
}

impl Figure {
    pub(super) fn new(slug: &str, caption: &str, plot: Plot) -> Figure {
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

pub(super) enum Plot {
    Lines(Lines),
    Filters(Filters),
}

/// Curves with error bars against a common x axis.
pub(super) struct Lines {
    pub(super) title: String,
    pub(super) x_label: String,
    pub(super) y_label: String,
    pub(super) curves: Vec<(String, Series)>,
    pub(super) vline: Option<(f64, String)>,
    /// A fitted line (name, end points), drawn plain.
    pub(super) fit: Option<(String, [(f64, f64); 2])>,
    /// Marked points with error bars in x and y: (x, y, x error, y error), and their name.
    pub(super) marks: Option<(String, Vec<[f64; 4]>)>,
    pub(super) x: (f64, f64),
    pub(super) y: (f64, f64),
}

impl Lines {
    /// `None` without a finite point: a figure with nothing to show is left out.
    pub(super) fn plot(
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
pub(super) struct Filters {
    pub(super) title: String,
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<(String, Vec<Option<Panel>>)>,
}

/// A filter's weights on a grid, scaled to [−1, 1].
pub(super) struct Panel {
    pub(super) width: usize,
    pub(super) values: Vec<f64>,
}

impl Panel {
    /// The weights in row-major order, `width` per row. H and −H carry the same information,
    /// so the sign is fixed (weights sum to ≥ 0) before scaling by the largest |weight|.
    pub(super) fn new(weights: &[f64], width: usize) -> Option<Panel> {
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
pub(super) fn diverging(v: f64) -> RGBColor {
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
pub(super) fn legend_line(
    style: ShapeStyle,
    s: u32,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let length = 16 * s as i32;
    move |(x, y)| PathElement::new(vec![(x, y), (x + length, y)], style)
}

pub(super) type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

impl Plot {
    /// Size in CSS pixels.
    pub(super) fn size(&self) -> (u32, u32) {
        match self {
            Plot::Lines(_) => (WIDTH, 400),
            Plot::Filters(f) => (WIDTH, 110 + 56 * f.rows.len() as u32),
        }
    }

    /// Draws on `root` at `s` device pixels per CSS pixel.
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: u32,
    ) -> Drawn<DB> {
        root.fill(&WHITE)?;
        match self {
            Plot::Lines(l) => l.draw(root, s),
            Plot::Filters(f) => f.draw(root, s),
        }
    }

    pub(super) fn svg(&self) -> Result<String, ReportError> {
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

    pub(super) fn png(&self) -> Result<Vec<u8>, ReportError> {
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
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: u32,
    ) -> Drawn<DB> {
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
    pub(super) fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        s: u32,
    ) -> Drawn<DB> {
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
