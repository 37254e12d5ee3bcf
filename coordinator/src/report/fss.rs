//! The report's finite-size-scaling figures (spin models): the Binder cumulant with every
//! pair's crossing, its data collapse, χ and ⟨|m|⟩ against T, and their scaling at T_c.

use super::{Lines, Plot, Series, Table, curves, keyed_curves};
use serde_json::Value;
use std::collections::BTreeMap;

/// (slug, caption, plot) of the FSS figures, in page order, and the note to add when ν is too
/// uncertain to collapse the data by.
#[allow(clippy::type_complexity)]
pub(super) fn figures(
    observables: &Table,
    summary: &Value,
) -> (Vec<(String, String, Option<Plot>)>, Option<String>) {
    let tc = summary["fss"]["tc"]["value"].as_f64();
    let mut out = Vec::new();
    let mut add = |slug: &str, caption: &str, plot: Option<Plot>| {
        out.push((slug.to_string(), caption.to_string(), plot));
    };
    let all = |_: &BTreeMap<String, String>| true;
    let binder_curves = keyed_curves(observables, "size", "L = ", "binder", "binder_err", all);
    let mut binder = Lines::plot(
        "Binder cumulant",
        "T",
        "U4",
        binder_curves
            .iter()
            .map(|(_, name, s)| (name.clone(), s.clone()))
            .collect(),
        tc.map(|t| (t, "T_c")),
    );
    // Each pair of sizes' crossing (T*, U₄*) with its bootstrap errors, inside the axes.
    if let Some(Plot::Lines(l)) = &mut binder {
        let marks: Vec<[f64; 4]> = summary["fss"]["crossings"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| {
                        let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
                        let m = [
                            c["temperature"]["value"].as_f64()?,
                            c["binder"]["value"].as_f64()?,
                            num(&c["temperature"]["error"]),
                            num(&c["binder"]["error"]),
                        ];
                        let inside =
                            (l.x.0..=l.x.1).contains(&m[0]) && (l.y.0..=l.y.1).contains(&m[1]);
                        inside.then_some(m)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !marks.is_empty() {
            l.marks = Some(("crossings".into(), marks));
        }
    }
    add(
        "binder",
        "Binder cumulant U₄(T) for every L, with the crossing (T*, U₄*) of every pair of sizes; the line is the finite-size-scaling T_c.",
        binder,
    );
    let mut note = None;
    let nu = summary["fss"]["nu"]["value"].as_f64();
    // Scaling the data by an exponent the fit did not determine shows nothing but the noise
    // of that exponent; the reader is told instead.
    let nu_err = summary["fss"]["nu"]["error"].as_f64();
    let determined = |n: f64| n > 0.0 && nu_err.is_some_and(|e| e < 0.5 * n);
    if let (Some(_), Some(nu)) = (tc, nu.filter(|n| !determined(*n))) {
        note = Some(format!(
            "No data collapse: ν = {nu:.4} ± {} is not determined well enough (error above half the value) to scale the data by.",
            nu_err.map_or("?".into(), |e| format!("{e:.4}"))
        ));
    }
    if let (Some(tc), Some(nu)) = (tc, nu.filter(|n| determined(*n))) {
        let collapsed: Vec<(String, Series)> = binder_curves
            .into_iter()
            .map(|(l, name, series)| {
                let scaled = series
                    .into_iter()
                    .map(|(t, u, e)| ((t - tc) * l.powf(1.0 / nu), u, e))
                    .collect();
                (name, scaled)
            })
            .collect();
        add(
            "collapse",
            &format!(
                "Data collapse: U₄ against (T − T_c)·L^(1/ν) with the fitted T_c = {tc:.5} and ν = {nu:.4}; the curves of all sizes fall on one if the exponents are right."
            ),
            Lines::plot(
                "Data collapse of the Binder cumulant",
                "(T - T_c) L^(1/nu)",
                "U4",
                collapsed,
                None,
            ),
        );
    }
    add(
        "susceptibility",
        "Susceptibility χ(T) for every L.",
        Lines::plot(
            "Susceptibility",
            "T",
            "chi",
            curves(
                observables,
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
        "chi-scaling",
        "Finite-size scaling of the susceptibility: χ at the estimated T_c against L on log–log axes; the line has the fitted slope γ/ν.",
        scaling(
            &summary["fss"],
            "susceptibility",
            "chi",
            "gamma_over_nu",
            1.0,
            "gamma/nu",
        ),
    );
    add(
        "order-parameter",
        "Order parameter ⟨|m|⟩(T) for every L.",
        Lines::plot(
            "Order parameter",
            "T",
            "<|m|>",
            curves(observables, "size", "L = ", "abs_m", "abs_m_err", all),
            tc.map(|t| (t, "T_c")),
        ),
    );
    add(
        "m-scaling",
        "Finite-size scaling of the order parameter: ⟨|m|⟩ at the estimated T_c against L on log–log axes; the line has the fitted slope −β/ν.",
        scaling(
            &summary["fss"],
            "abs_m",
            "<|m|>",
            "beta_over_nu",
            -1.0,
            "beta/nu",
        ),
    );
    (out, note)
}

/// `quantity` at T_c against L on log–log axes (`summary.fss.at_tc`), with the line of the
/// fitted slope `slope_key` (sign `sign`: ⟨|m|⟩ falls as L^(−β/ν)) through the points' weighted
/// centre.
pub(super) fn scaling(
    fss: &Value,
    quantity: &str,
    y_label: &str,
    slope_key: &str,
    sign: f64,
    fit_label: &str,
) -> Option<Plot> {
    let mut points: Series = fss["at_tc"]
        .as_array()?
        .iter()
        .filter_map(|a| {
            let (l, v) = (a["size"].as_f64()?, a[quantity]["value"].as_f64()?);
            let e = a[quantity]["error"].as_f64().unwrap_or(f64::NAN);
            (l > 0.0 && v > 0.0).then(|| (l.ln(), v.ln(), e / v))
        })
        .collect();
    if points.len() < 2 {
        return None;
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut plot = Lines::plot(
        &format!("{y_label} at T_c against L"),
        "ln L",
        &format!("ln {y_label}"),
        vec![("measured at T_c".into(), points.clone())],
        None,
    )?;
    if let (Plot::Lines(lines), Some(slope)) = (&mut plot, fss[slope_key]["value"].as_f64()) {
        let slope = sign * slope;
        let weight = |p: &(f64, f64, f64)| {
            if p.2.is_finite() && p.2 > 0.0 {
                1.0 / (p.2 * p.2)
            } else {
                1.0
            }
        };
        let total: f64 = points.iter().map(weight).sum();
        let intercept = points
            .iter()
            .map(|p| weight(p) * (p.1 - slope * p.0))
            .sum::<f64>()
            / total;
        let (x0, x1) = (points[0].0, points[points.len() - 1].0);
        let (y0, y1) = (intercept + slope * x0, intercept + slope * x1);
        let y = (lines.y.0.min(y0).min(y1), lines.y.1.max(y0).max(y1));
        // Only a line the axes can hold (an absurd slope from a malformed file is left out).
        if y.0.is_finite() && y.1.is_finite() && (y.1 - y.0).is_finite() {
            lines.fit = Some((
                format!("{fit_label} = {:.4}", sign * slope),
                [(x0, y0), (x1, y1)],
            ));
            lines.y = y;
        }
    }
    Some(plot)
}
