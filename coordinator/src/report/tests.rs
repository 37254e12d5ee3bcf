use super::flows::rg_filters;
use super::fss::scaling;
use super::plot::*;
use super::*;
use plotters::prelude::*;

/// Decodes an RGB PNG: (width, height, pixels).
fn decode(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

fn line_plot(title: &str) -> Plot {
    let curve: Series = (0..10)
        .map(|i| (f64::from(i), f64::from(i * i), 1.0))
        .collect();
    Lines::plot(
        title,
        "T",
        "U4",
        vec![("L = 8".into(), curve)],
        Some((4.5, "T_c")),
    )
    .expect("finite points")
}

/// Rows of the image in which some pixel differs between `a` and `b`.
fn differing_rows(a: &[u8], b: &[u8], width: usize) -> Vec<usize> {
    a.chunks(3 * width)
        .zip(b.chunks(3 * width))
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(r, _)| r)
        .collect()
}

#[test]
fn pngs_are_valid_images_whose_text_is_drawn_with_the_bundled_font() {
    register_font().expect("font");
    let one = line_plot("Binder cumulant").png().expect("png");
    let (w, h, a) = decode(&one);
    assert_eq!((w, h), (2 * WIDTH as usize, 800));
    // Deterministic bytes (the report is part of the reproducible outputs).
    assert_eq!(line_plot("Binder cumulant").png().expect("png"), one);
    // Another title changes exactly the caption band at the top: the text is drawn
    // (a missing font would draw nothing, or fail), and only where the caption is.
    let (_, _, b) = decode(&line_plot("Susceptibility").png().expect("png"));
    let rows = differing_rows(&a, &b, w);
    assert!(!rows.is_empty(), "the title is drawn");
    assert!(
        rows.iter().all(|&r| r < 80),
        "only the caption band: {rows:?}"
    );
    // The caption's glyphs: dark pixels in several separate runs along a row.
    let band = &a[3 * w * 10..3 * w * 70];
    let dark = band
        .chunks(3)
        .filter(|p| p.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 500, "{dark} dark pixels in the caption");
}

#[test]
fn filter_panels_fix_the_sign_and_scale_to_the_largest_weight() {
    let p = Panel::new(&[-2.0, -1.0, 0.5, -0.5], 2).expect("panel");
    assert_eq!(p.values, vec![1.0, 0.5, -0.25, 0.25]);
    assert!(
        Panel::new(&[1.0, 2.0, 3.0], 2).is_none(),
        "not a whole grid"
    );
    assert_eq!(diverging(0.0), WHITE);
    assert_eq!(diverging(1.0), RGBColor(178, 24, 43));
    assert_eq!(diverging(-1.0), RGBColor(33, 102, 172));
}

#[test]
fn long_sweeps_show_evenly_spread_rows_from_first_to_last() {
    let rows: Vec<usize> = (0..40).collect();
    let kept = spread(rows, 8);
    assert_eq!(kept.len(), 8);
    assert_eq!((kept[0], kept[7]), (0, 39));
    assert!(
        kept.windows(2).all(|w| (5..=6).contains(&(w[1] - w[0]))),
        "{kept:?}"
    );
    assert_eq!(spread(vec![1, 2, 3], 8), vec![1, 2, 3]);
}

/// Output files of a two-size sweep whose fitted ν has error `nu_err`.
fn outputs(nu_err: f64) -> BTreeMap<String, String> {
    let mut csv = String::from("size,temperature,binder,binder_err\n");
    for l in [8, 16] {
        for t in [2.1, 2.2, 2.3, 2.4] {
            let u = 0.6 - (t - 2.27) * f64::from(l) * 0.1;
            csv += &format!("{l},{t},{u},0.01\n");
        }
    }
    let at_tc: Vec<Value> = [8.0f64, 16.0, 32.0]
        .iter()
        .map(|l| {
            serde_json::json!({
                "size": l,
                "susceptibility": {"value": 3.0 * l.powf(1.75), "error": 0.1},
                "abs_m": {"value": l.powf(-0.125), "error": 0.01},
            })
        })
        .collect();
    let summary = serde_json::json!({
        "sweep": {"name": "s", "model": "ising2d", "sizes": [8, 16], "temperatures": [2.1, 2.2, 2.3, 2.4]},
        "fss": {
            "tc": {"value": 2.27, "error": 0.01},
            "nu": {"value": 1.0, "error": nu_err},
            "notes": ["L=8: a gap <here>"],
            "crossings": [
                {"sizes": [8, 16], "temperature": {"value": 2.27, "error": 0.01},
                 "binder": {"value": 0.6, "error": 0.01}},
                // Outside the sampled range: not drawn (and not stretching the axes).
                {"sizes": [16, 32], "temperature": {"value": 9.0, "error": 0.01},
                 "binder": {"value": 0.6, "error": null}},
            ],
            "gamma_over_nu": {"value": 1.75, "error": 0.01},
            "beta_over_nu": {"value": 0.125, "error": 0.01},
            "at_tc": at_tc,
        },
    });
    [
        ("observables.csv".to_string(), csv),
        ("summary.json".to_string(), summary.to_string()),
    ]
    .into_iter()
    .collect()
}

#[test]
fn the_collapse_needs_a_determined_nu_and_notes_reach_the_page() {
    let good = render(&outputs(0.05)).expect("report");
    assert!(good.html.contains("Data collapse of the Binder cumulant"));
    let binder = good.html.split("<svg").nth(1).expect("Binder figure");
    assert!(binder.contains(">\ncrossings\n</text>"), "crossings marked");
    assert!(
        !binder.contains(">\n9.0\n</text>"),
        "axes not stretched to T = 9"
    );
    assert!(good.figures.iter().any(|(n, _)| n == "fig-02-collapse.png"));
    assert!(
        good.html.contains("<li>L=8: a gap &lt;here&gt;</li>"),
        "escaped note"
    );
    let bad = render(&outputs(0.8)).expect("report");
    assert!(!bad.html.contains("Data collapse of the Binder cumulant"));
    assert!(!bad.figures.iter().any(|(n, _)| n.contains("collapse")));
    assert!(
        bad.html.contains("No data collapse: ν = 1.0000 ± 0.8000"),
        "{}",
        bad.html
    );
    let unknown = render(&outputs(f64::NAN)).expect("report");
    assert!(unknown.html.contains("No data collapse: ν = 1.0000 ± ?"));
}

#[test]
fn malformed_files_neither_hang_the_plots_nor_leak_into_names() {
    let mut files = outputs(0.05);
    // Values whose padded axis range overflows: the figure is left out (plotters would
    // search for ticks on an infinite axis forever).
    files.insert(
        "observables.csv".into(),
        "size,temperature,binder,binder_err\n8,2.0,1e308,1.7e308\n8,2.1,-1e308,0\n".into(),
    );
    files.insert(
            "flows.csv".into(),
            "size,temperature,map,level,operator,coupling,error\n8,2.0,a\"<b/c,0,nn,0.4,0.01\n8,2.1,a\"<b/c,0,nn,0.3,0.01\n".into(),
        );
    let r = render(&files).expect("report");
    assert!(
        !r.html.contains("Binder cumulant U₄(T)"),
        "no Binder figure"
    );
    let names: Vec<&str> = r.figures.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().any(|n| n.ends_with("-flow-a--b-c.png")),
        "{names:?}"
    );
    assert!(!r.html.contains("a\"<b"), "escaped everywhere");
}

#[test]
fn potts_filters_show_q_one_hot_weights_per_site_in_a_row() {
    let mut files = outputs(0.05);
    let mut summary: Value = serde_json::from_str(&files["summary.json"]).expect("json");
    summary["sweep"]["model"] = "potts2d".into();
    summary["sweep"]["q"] = 3.into();
    files.insert("summary.json".into(), summary.to_string());
    files.insert(
            "rsmi.csv".into(),
            "model,size,temperature,block,buffer,env,hidden,mi_nats,mi_err,seconds\npotts2d-q3,16,1.0,2,1,2,1,0.3,0.01,1\n".into(),
        );
    // Block 2×2, q = 3: site-major one-hot weights, 12 in all.
    let weights: Vec<f64> = (1..=12).map(f64::from).collect();
    files.insert(
        "filters.json".into(),
        serde_json::json!({"k": {"size": 16, "temperature": 1.0, "first_replica": 0,
                "buffers": {"1": [{"replica": 0, "mi_nats": 0.3, "filters": [weights]}]}}})
        .to_string(),
    );
    let r = render(&files).expect("report");
    let svg = r
        .html
        .split("<svg")
        .find(|s| s.contains("Learned RSMI filters"))
        .expect("heat map");
    let cells: Vec<(i64, i64)> = svg
        .split("<rect")
        .skip(1)
        .filter(|r| r.contains("fill-opacity=\"1\"") || r.contains("fill=\"#"))
        .filter_map(|r| {
            let num = |k: &str| {
                r.split(&format!("{k}=\""))
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            };
            Some((num("x")?, num("y")?))
        })
        .collect();
    // Past the background: two rows of the block, then the colour scale's row.
    let rows: Vec<i64> = cells
        .iter()
        .map(|c| c.1)
        .filter(|y| *y > 0)
        .collect::<std::collections::BTreeSet<i64>>()
        .into_iter()
        .collect();
    assert_eq!(rows.len(), 2 + 1, "{rows:?}");
    // Each block row is 2 sites × 3 states wide.
    for row in &rows[..2] {
        let cols: std::collections::BTreeSet<i64> =
            cells.iter().filter(|c| c.1 == *row).map(|c| c.0).collect();
        assert_eq!(cols.len(), 6, "row {row}: {cols:?}");
    }
}

#[test]
fn scaling_plots_carry_the_fitted_power_law_through_the_points() {
    let summary: Value = serde_json::from_str(&outputs(0.05)["summary.json"]).expect("json");
    for (quantity, key, sign, at8, at32) in [
        (
            "susceptibility",
            "gamma_over_nu",
            1.0,
            3f64.ln() + 1.75 * 8f64.ln(),
            3f64.ln() + 1.75 * 32f64.ln(),
        ),
        (
            "abs_m",
            "beta_over_nu",
            -1.0,
            -0.125 * 8f64.ln(),
            -0.125 * 32f64.ln(),
        ),
    ] {
        let Some(Plot::Lines(l)) = scaling(&summary["fss"], quantity, "y", key, sign, "slope")
        else {
            panic!("{quantity}: a line plot")
        };
        assert_eq!(l.curves[0].1.len(), 3);
        let (name, [(x0, y0), (x1, y1)]) = l.fit.expect("fit line");
        assert!(name.starts_with("slope = "), "{name}");
        assert!((x0 - 8f64.ln()).abs() < 1e-12 && (x1 - 32f64.ln()).abs() < 1e-12);
        assert!(
            (y0 - at8).abs() < 1e-9 && (y1 - at32).abs() < 1e-9,
            "{quantity}"
        );
    }
    assert!(scaling(&Value::Null, "abs_m", "y", "beta_over_nu", -1.0, "s").is_none());
}

#[test]
fn heat_maps_draw_every_filter_weight() {
    register_font().expect("font");
    let rules = serde_json::json!([
        {"size": 16, "temperature": 2.0, "replica": 1, "level": 1, "filter": [9.0, 9.0, 9.0, 9.0]},
        {"size": 16, "temperature": 2.0, "replica": 0, "level": 1, "filter": [1.0, 0.5, 0.0, -0.5]},
        {"size": 16, "temperature": 2.0, "replica": 0, "level": 2, "filter": [1.0, 1.0, 1.0, 1.0]},
        {"size": 16, "temperature": 3.0, "replica": 0, "level": 1, "filter": [0.1, 0.2, 0.3, 0.4]},
        {"size": 8, "temperature": 3.0, "replica": 0, "level": 1, "filter": [1.0, 1.0, 1.0, 1.0]},
    ]);
    let plot = rg_filters(&rules, 16.0).expect("a plot");
    let Plot::Filters(f) = &plot else {
        panic!("a heat map")
    };
    assert_eq!(f.columns, vec!["level 1", "level 2"]);
    assert_eq!(f.rows.len(), 2);
    // The first replica's rule, not replica 1's.
    let first = f.rows[0].1[0].as_ref().expect("panel");
    assert_eq!(first.values, vec![1.0, 0.5, 0.0, -0.5]);
    let svg = plot.svg().expect("svg");
    // 3 panels × 4 weights, each filled and outlined, plus the 21-step colour scale.
    assert_eq!(svg.matches("<rect").count(), 1 + 3 * 4 * 2 + 21, "{svg}");
    for label in ["T = 2", "T = 3", "level 1", "level 2"] {
        assert!(svg.contains(&format!(">\n{label}\n</text>")), "{label}");
    }
}
