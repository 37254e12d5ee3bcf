//! The report of a maze sweep (Ringel & de Bem 2018): how trained spreading networks compare
//! with the hand-set breadth-first one as the network deepens and the mazes grow — accuracy,
//! the fraction of runs that succeed and of runs that end in a neglect minimum, against n per
//! L; accuracy against breadth-first depth; the loss landscape near the hand-set optimum per L
//! (the paper's claim: independent of L for large mazes); the mean training-loss curves — and a
//! table of every (L, n).

use super::{Lines, Plot, ReportError, Series, Table, escape};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

type Row = BTreeMap<String, String>;

/// Curves of `column` (and its error) against log₂ n, one per maze side.
fn against_depth(t: &Table, column: &str, label: &str) -> Vec<(String, Series)> {
    let mut out: BTreeMap<u64, Series> = BTreeMap::new();
    for r in &t.rows {
        out.entry(t.numbers(r, "size") as u64).or_default().push((
            t.numbers(r, "layers").log2(),
            t.numbers(r, column),
            t.numbers(r, &format!("{column}_err")),
        ));
    }
    out.into_iter()
        .map(|(l, mut s)| {
            s.sort_by(|a, b| a.0.total_cmp(&b.0));
            (format!("L = {l}{label}"), s)
        })
        .collect()
}

/// Rows of `t` grouped by (size, layers), in that order.
fn by_point(t: &Table) -> BTreeMap<(u64, u64), Vec<&Row>> {
    let mut out: BTreeMap<(u64, u64), Vec<&Row>> = BTreeMap::new();
    for r in &t.rows {
        out.entry((t.numbers(r, "size") as u64, t.numbers(r, "layers") as u64))
            .or_default()
            .push(r);
    }
    out
}

/// (slug, caption, plot) of every maze figure, in page order.
pub(super) fn figures(
    files: &BTreeMap<String, String>,
    observables: &Table,
    summary: &Value,
) -> Result<Vec<(String, String, Option<Plot>)>, ReportError> {
    let accuracy: Vec<(String, Series)> = against_depth(observables, "accuracy", " trained")
        .into_iter()
        .chain(against_depth(observables, "hand_accuracy", " hand-set"))
        .collect();
    let margin = summary["mazes"]["success_margin"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let mut out = vec![
        (
            "maze-accuracy".into(),
            "Test accuracy of the trained networks (mean over runs) and of the hand-set breadth-first network against log₂ n, per maze side L. Below the mazes' typical depth even breadth-first search cannot settle every maze; above it the hand-set network is right on all of them.".into(),
            Lines::plot("Accuracy", "log2 n", "accuracy", accuracy, None),
        ),
        (
            "maze-success".into(),
            format!(
                "The fraction of training runs that succeed (test accuracy within {margin} of the hand-set network's), against log₂ n per L, with its Laplace error."
            ),
            Lines::plot(
                "Training success",
                "log2 n",
                "fraction of runs",
                against_depth(observables, "success", ""),
                None,
            ),
        ),
        (
            "maze-neglect".into(),
            "The fraction of runs in a neglect minimum — their answer hardly changes when the maze around the same hot spot is re-drawn (sensitivity below the threshold times the hand-set network's) — against log₂ n per L.".into(),
            Lines::plot(
                "Neglect minima",
                "log2 n",
                "fraction of runs",
                against_depth(observables, "neglect", ""),
                None,
            ),
        ),
    ];
    if let Some(text) = files.get("maze-depths.csv") {
        let t = Table::parse("maze-depths.csv", text)?;
        // The deepest network at each size: accuracy on positives by breadth-first depth.
        let mut curves = Vec::new();
        let points = by_point(&t);
        let mut deepest: BTreeMap<u64, u64> = BTreeMap::new();
        for &(l, n) in points.keys() {
            let d = deepest.entry(l).or_default();
            *d = (*d).max(n);
        }
        for (l, n) in deepest {
            for (column, who) in [("accuracy", "trained"), ("hand_accuracy", "hand-set")] {
                let s: Series = points[&(l, n)]
                    .iter()
                    .map(|r| {
                        (
                            (t.numbers(r, "depth_upto") + 2.0).log2(),
                            t.numbers(r, column),
                            t.numbers(r, &format!("{column}_err")),
                        )
                    })
                    .collect();
                curves.push((format!("L = {l}, n = {n} {who}"), s));
            }
        }
        out.push((
            "maze-depths".into(),
            "Accuracy on positive test mazes against their breadth-first depth d (log bins: the point at log₂(d_max + 2) holds depths from the previous bin's up to d_max), for the deepest network at each L: where the task's difficulty lives.".into(),
            Lines::plot("Accuracy against depth", "log2 (depth + 2)", "accuracy", curves, None),
        ));
    }
    if let Some(text) = files.get("maze-landscape.csv") {
        let t = Table::parse("maze-landscape.csv", text)?;
        let points = by_point(&t);
        let mut depths: Vec<u64> = points.keys().map(|k| k.1).collect();
        depths.sort_unstable();
        depths.dedup();
        for n in depths {
            let curves: Vec<(String, Series)> = points
                .iter()
                .filter(|((_, m), _)| *m == n)
                .map(|((l, _), rows)| {
                    let s = rows
                        .iter()
                        .map(|r| {
                            (
                                t.numbers(r, "epsilon"),
                                t.numbers(r, "excess"),
                                t.numbers(r, "excess_err"),
                            )
                        })
                        .collect();
                    (format!("L = {l}"), s)
                })
                .collect();
            out.push((
                format!("maze-landscape-n{n}"),
                format!(
                    "The loss landscape near the hand-set optimum, n = {n}: the test loss at θ* + ε·g·δ less the loss at θ* (θ* the hand-set weights at gain g, δ a random direction in the layers' weights; run by run, then the mean over runs), per L. The paper's claim is that for large mazes its shape no longer depends on L; the loss at θ* itself grows with L wherever n layers leave mazes unsettled (maze-landscape.csv has both)."
                ),
                Lines::plot(
                    &format!("Loss landscape, n = {n}"),
                    "epsilon",
                    "loss - loss at optimum",
                    curves,
                    Some((0.0, "hand-set")),
                ),
            ));
        }
    }
    // Mean training-loss curves (summary.json), one per (L, n).
    let curves: Vec<(String, Series)> = summary["mazes"]["points"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let c = p["loss_curve"].as_array().cloned().unwrap_or_default();
            let k = c.len().max(1) as f64;
            let s = c
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    (
                        (i as f64 + 0.5) / k,
                        e["value"].as_f64().unwrap_or(f64::NAN),
                        e["error"].as_f64().unwrap_or(f64::NAN),
                    )
                })
                .collect();
            (format!("L = {}, n = {}", p["size"], p["layers"]), s)
        })
        .collect();
    out.push((
        "maze-training".into(),
        "Mean training loss (cross-entropy, nats) over the run, in equal chunks of its steps, per (L, n); ln 2 = 0.693 is a guess that ignores the maze.".into(),
        Lines::plot("Training loss", "fraction of training", "loss", super::spread(curves, 10), None),
    ));
    Ok(out)
}

/// The table of every (L, n): runs, accuracies, losses, success and neglect with errors, and
/// the landscape's comparison across the two largest sizes; HTML.
pub(super) fn table(summary: &Value) -> String {
    let m = &summary["mazes"];
    let est = |v: &Value| match (v["value"].as_f64(), v["error"].as_f64()) {
        (Some(x), Some(e)) if e.is_finite() => format!("{x:.4} ± {e:.4}"),
        (Some(x), _) => format!("{x:.4}"),
        _ => "—".into(),
    };
    let mut html = String::from(
        "<h2>Maze testing</h2>\n<table><tr><th>L</th><th>n</th><th>runs</th><th>test accuracy</th><th>hand-set accuracy</th><th>test loss</th><th>hand-set loss</th><th>final training loss</th><th>success</th><th>neglect</th><th>maze sensitivity</th><th>hand-set sensitivity</th></tr>\n",
    );
    for p in m["points"].as_array().into_iter().flatten() {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            p["size"], p["layers"], p["runs"]
        );
        for key in [
            "accuracy",
            "hand_accuracy",
            "test_loss",
            "hand_loss",
            "final_loss",
            "success",
            "neglect",
            "sensitivity",
            "hand_sensitivity",
        ] {
            let _ = write!(html, "<td>{}</td>", escape(&est(&p[key])));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    let comparisons = m["landscape_vs_size"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !comparisons.is_empty() {
        html.push_str("<p>Loss landscape near the hand-set optimum (loss less the loss at the optimum), largest two sizes compared (largest difference over the offsets, in combined standard errors): ");
        let parts: Vec<String> = comparisons
            .iter()
            .map(|c| {
                format!(
                    "n = {}, L = {} against {}: {:.1}σ at ε = {} (loss at the optimum {:.4} and {:.4})",
                    c["layers"],
                    c["sizes"][0],
                    c["sizes"][1],
                    c["max_deviation"].as_f64().unwrap_or(f64::NAN),
                    c["at_epsilon"],
                    c["optimum_loss"][0]["value"].as_f64().unwrap_or(f64::NAN),
                    c["optimum_loss"][1]["value"].as_f64().unwrap_or(f64::NAN)
                )
            })
            .collect();
        html.push_str(&escape(&parts.join("; ")));
        html.push_str(".</p>\n");
    }
    html
}
