//! `report.html` in a real browser: Debian's `chromium`, headless, opens the report of a sweep
//! with RSMI and RG flows, and the test checks what a reader would get — no script errors, no
//! network request, and every figure drawn (an SVG with axes, labels and data, and ink where
//! it stands in a screenshot). `.ci/run` installs chromium and sets RGSWEEP_REQUIRE_CHROMIUM=1,
//! so there this test cannot be skipped; elsewhere, without chromium, it says so and does
//! nothing.
//!
//! The browser may fetch nothing beyond this machine: `--host-resolver-rules` makes every host
//! name unresolvable, so even a page that asked for a remote URL sends no packet; the request
//! still shows in Chromium's network log, which is how the test sees it.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("RGSWEEP_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|d| d.join("chromium"))
                .find(|p| p.exists())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("RGSWEEP_REQUIRE_CHROMIUM").is_none(),
            "RGSWEEP_REQUIRE_CHROMIUM is set but there is no chromium on PATH"
        );
        eprintln!("no chromium: skipping; `apt-get install chromium` brings it");
    }
    found
}

/// What one headless visit of a page showed.
struct Visit {
    /// The DOM after load (`--dump-dom`), or empty for a screenshot.
    dom: String,
    /// Console messages (script errors, failed loads) of the page.
    console: Vec<String>,
    /// URLs the page asked the network stack for (Chromium's own background requests, which
    /// carry no initiator, excluded).
    requests: Vec<String>,
}

fn visit(browser: &Path, scratch: &Path, page: &Path, action: &[&str]) -> Visit {
    let netlog = scratch.join("netlog.json");
    let _ = std::fs::remove_file(&netlog);
    let o = Command::new(browser)
        .args([
            "--headless",
            // Root in CI and containers: Chromium's sandbox needs user namespaces it may not have.
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-proxy-server",
            // Containers often give /dev/shm only 64 MiB.
            "--disable-dev-shm-usage",
            "--disable-features=MediaRouter,OptimizationHints,Translate",
            "--allow-file-access-from-files",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            s(&scratch.join("chromium-profile"))
        ))
        .arg(format!("--log-net-log={}", s(&netlog)))
        .args(action)
        .arg(format!("file://{}", s(page)))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium failed: {stderr}");
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(String::from)
        .collect();
    // A log cut short at exit lacks its closing brackets; the events before are whole.
    let text = std::fs::read_to_string(&netlog).expect("net log");
    let log: Value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&format!("{}]}}", text.trim_end().trim_end_matches(','))))
        .expect("net log is JSON");
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    let requests = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == start && e["params"]["initiator"] != "not an origin")
        .filter_map(|e| e["params"]["url"].as_str().map(String::from))
        .collect();
    Visit {
        dom: String::from_utf8_lossy(&o.stdout).into_owned(),
        console,
        requests,
    }
}

/// A page that frames `report` at the screenshot's width and writes, once it has loaded, what
/// the browser made of every figure into `<pre id="result">` as JSON.
fn inspector(report: &Path) -> String {
    format!(
        r#"<!DOCTYPE html><html><body style="margin:0"><pre id="result">not loaded</pre>
<iframe id="report" src="file://{}" style="border:0;width:1280px;height:30000px"></iframe>
<script>
document.getElementById('report').addEventListener('load', () => {{
  const frame = document.getElementById('report');
  const doc = frame.contentDocument;
  const figures = [...doc.querySelectorAll('figure')].map(f => {{
    const svg = f.querySelector('svg');
    if (!svg) return null;
    const r = svg.getBoundingClientRect();
    return {{
      x: r.x, y: r.y, width: r.width, height: r.height,
      texts: [...svg.querySelectorAll('text')]
        .filter(t => t.getBBox().width > 0)
        .map(t => t.textContent.trim()),
      data: svg.querySelectorAll('polyline, circle').length,
      rects: svg.querySelectorAll('rect').length,
    }};
  }});
  document.getElementById('result').textContent = JSON.stringify({{
    figures,
    resources: frame.contentWindow.performance.getEntriesByType('resource').map(e => e.name),
    height: doc.documentElement.getBoundingClientRect().height,
  }});
}});
</script></body></html>
"#,
        s(report)
    )
}

fn result(dom: &str) -> Value {
    let start = dom.find("<pre id=\"result\">").expect("result") + "<pre id=\"result\">".len();
    let end = start + dom[start..].find("</pre>").expect("closed");
    serde_json::from_str(
        &dom[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
    .unwrap_or_else(|e| panic!("{e}: {}", &dom[start..end]))
}

/// RGBA (or RGB) pixels of a PNG: (width, height, channels, bytes).
fn pixels(path: &Path) -> (usize, usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("screenshot colour type {other:?}"),
    };
    (info.width as usize, info.height as usize, channels, buf)
}

#[test]
fn the_report_opens_in_chromium_without_errors_or_requests_and_every_figure_is_drawn() {
    let Some(browser) = chromium() else { return };
    let dir = scratch("browser");
    // Two sizes, so the page also has the data collapse.
    let file = write(
        &dir,
        "sweep.toml",
        &RSMI_SWEEP.replace("sizes = [16]", "sizes = [16, 32]"),
    );
    let out = dir.join("out");
    let o = rgsweep(&["run", s(&file), "--out", s(&out)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).expect("report.html");
    let expected = html.matches("<figure").count();
    assert!(expected >= 12, "{expected} figures");

    let check = write(&dir, "inspect.html", &inspector(&report));
    let v = visit(&browser, &dir, &check, &["--dump-dom"]);
    assert!(v.console.is_empty(), "console: {:?}", v.console);
    assert!(v.requests.is_empty(), "requests: {:?}", v.requests);
    let r = result(&v.dom);
    assert_eq!(r["resources"], serde_json::json!([]), "fetched by the page");
    let figures = r["figures"].as_array().expect("figures");
    assert_eq!(figures.len(), expected, "every <figure> has an SVG");
    for (k, f) in figures.iter().enumerate() {
        let texts: Vec<&str> = f["texts"]
            .as_array()
            .expect("texts")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            f["width"].as_f64() >= Some(600.0) && f["height"].as_f64() >= Some(300.0),
            "figure {k} laid out: {f}"
        );
        assert!(texts.len() >= 5, "figure {k}: visible text {texts:?}");
        if f["data"].as_u64() > Some(0) {
            // A chart: data (curves and markers), and axis labels, tick labels and a legend as
            // drawn text.
            assert!(
                texts.iter().any(|t| [
                    "T",
                    "K1",
                    "ln L",
                    "(T - T_c) L^(1/nu)",
                    "level",
                    "K(2,0) / K1",
                    "I(V:H) (nats)"
                ]
                .contains(t)),
                "figure {k}: x axis label in {texts:?}"
            );
            assert!(
                texts.iter().filter(|t| t.parse::<f64>().is_ok()).count() >= 6,
                "figure {k}: ticks {texts:?}"
            );
        } else {
            assert!(f["rects"].as_u64() > Some(8), "figure {k}: heat map {f}");
            assert!(
                texts.iter().any(|t| t.starts_with("T = ")),
                "figure {k}: rows {texts:?}"
            );
        }
    }

    // The screenshot: inside every figure's box there is ink, and its top band (the title)
    // holds dark text pixels.
    let height = r["height"].as_f64().expect("height").ceil() as usize;
    let shot = dir.join("report.png");
    let v = visit(
        &browser,
        &dir,
        &report,
        &[
            &format!("--screenshot={}", s(&shot)),
            &format!("--window-size=1280,{height}"),
        ],
    );
    assert!(v.console.is_empty(), "console: {:?}", v.console);
    assert!(v.requests.is_empty(), "requests: {:?}", v.requests);
    let (w, h, ch, px) = pixels(&shot);
    assert_eq!((w, h), (1280, height));
    let at = |x: usize, y: usize| &px[ch * (y * w + x)..ch * (y * w + x) + 3];
    for (k, f) in figures.iter().enumerate() {
        let num = |key: &str| f[key].as_f64().expect("number") as usize;
        let (x0, y0, fw, fh) = (num("x"), num("y"), num("width"), num("height"));
        let inside = |dy: std::ops::Range<usize>| {
            let (mut ink, mut dark, mut all) = (0, 0, 0);
            for y in dy {
                for x in x0 + 4..x0 + fw - 4 {
                    let p = at(x, y);
                    all += 1;
                    ink += usize::from(p.iter().any(|&c| c < 235));
                    dark += usize::from(p.iter().all(|&c| c < 110));
                }
            }
            (ink as f64 / all as f64, dark)
        };
        let (ink, _) = inside(y0 + 4..y0 + fh - 4);
        assert!(ink > 0.02, "figure {k}: {:.3} of its box inked", ink);
        let (_, title) = inside(y0 + 2..y0 + 36);
        assert!(
            title > 150,
            "figure {k}: {title} dark pixels in the title band"
        );
    }

    // The checks above can fail: a page that fetches a remote image and throws a script error
    // is caught by both.
    let bad = write(
        &dir,
        "bad.html",
        &html.replacen(
            "<body>",
            "<body><img src=\"http://fetch.invalid/pixel.png\"><script>notDefined()</script>",
            1,
        ),
    );
    let v = visit(&browser, &dir, &bad, &["--dump-dom"]);
    assert_eq!(
        v.requests,
        vec!["http://fetch.invalid/pixel.png".to_string()]
    );
    assert!(
        v.console.iter().any(|l| l.contains("notDefined")),
        "console: {:?}",
        v.console
    );
}
