//! `examples/analyse.py` (numpy, pandas, matplotlib) loads a real quickstart output: every file
//! parses, the saved configurations have the lattice's shape, and the figure is a PNG. The
//! Python comes from RGSWEEP_PYTHON (`.ci/run` makes a venv with the three packages and sets
//! it); without it the test says so and does nothing.

mod common;

use common::*;
use std::process::Command;

#[test]
fn the_python_example_loads_a_quickstart_output() {
    let Some(python) = std::env::var_os("RGSWEEP_PYTHON") else {
        eprintln!("RGSWEEP_PYTHON is not set: skipping (a Python with numpy, pandas, matplotlib)");
        return;
    };
    let dir = scratch("python");
    let out = dir.join("quickstart");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = rgsweep(&[
        "run",
        s(&root.join("configs/quickstart.toml")),
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let figure = dir.join("figure.png");
    let o = Command::new(&python)
        .arg(root.join("examples/analyse.py"))
        .arg(&out)
        .arg("--plot")
        .arg(&figure)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // 4 sizes × 13 temperatures, 2 replicas × 20 configurations each.
    assert!(stdout.contains("52 points"), "{stdout}");
    assert!(
        stdout.contains("52 sample files, 2080 configurations"),
        "{stdout}"
    );
    // The quickstart's report has the data collapse (four sizes, a fitted ν) and the
    // log–log scaling of χ and |m| at T_c beside the Binder, χ and |m| figures.
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert_eq!(html.matches("<svg").count(), 6);
    assert!(html.contains("Data collapse"));
    assert!(out.join("fig-02-collapse.png").exists());
    let png = std::fs::read(&figure).expect("figure");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000);
}
