//! The report's warning for an unfinished sweep: which points the page leaves out, and why.
//! Read from `summary.json`'s `partial` block, so `rgsweep report DIR` shows it too.

use super::escape;
use serde_json::Value;
use std::fmt::Write as _;

/// Rows listed before the rest is summed up: the full list is in summary.json.
const MAX_ROWS: usize = 40;

/// The HTML section, empty for a finished sweep.
pub(super) fn section(summary: &Value) -> String {
    let Some(p) = summary.get("partial").filter(|p| p.is_object()) else {
        return String::new();
    };
    let missing = p["missing"].as_array().map_or(&[][..], Vec::as_slice);
    let mut html = format!(
        "<section id=\"partial\" style=\"border:2px solid #c60;background:#fff4e5;padding:0.5em 1em\">\n\
         <h2>Partial results</h2>\n<p>The sweep is <b>{}</b>: {} of its {} points are missing \
         from every figure, table and estimate on this page (<code>rgsweep retry</code> runs \
         them again). Missing points:</p>\n<table><tr><th>L</th><th>T</th><th>replicas</th>\
         <th>state</th><th>errors</th><th>lost workers</th><th>why</th></tr>\n",
        escape(p["state"].as_str().unwrap_or("unfinished")),
        missing.len(),
        p["points"].as_u64().unwrap_or(0),
    );
    let tasks = missing.iter().flat_map(|point| {
        point["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(move |t| (point, t))
    });
    let mut rows = 0;
    let mut more = 0;
    for (point, t) in tasks {
        if rows == MAX_ROWS {
            more += 1;
            continue;
        }
        rows += 1;
        let first = t["first_replica"].as_u64().unwrap_or(0);
        let n = t["replicas"].as_u64().unwrap_or(0);
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{first}–{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td style=\"text-align:left\">{}</td></tr>",
            point["size"],
            point["temperature"],
            (first + n).saturating_sub(1),
            escape(t["state"].as_str().unwrap_or("")),
            t["errors"],
            t["workers_lost"],
            escape(t["reason"].as_str().unwrap_or("")),
        );
    }
    html.push_str("</table>\n");
    if more > 0 {
        let _ = writeln!(
            html,
            "<p>… and {more} more tasks (all listed in summary.json).</p>"
        );
    }
    html.push_str("</section>\n");
    html
}
