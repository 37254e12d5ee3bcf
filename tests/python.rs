//! `examples/analyse.py` (numpy, pandas, matplotlib) loads a real quickstart output: every file
//! parses, the saved configurations have the lattice's shape, and the figure is a PNG; and
//! `examples/reflect.py` (grpcio-reflection) lists a coordinator's services over reflection
//! v1alpha with the token and is refused without it. The
//! Python comes from RGSWEEP_PYTHON (`.ci/run` makes a venv with the three packages and sets
//! it); without it the test says so and does nothing.

mod common;

use common::*;
use std::process::Command;

/// The Python `.ci/run` makes (numpy, pandas, matplotlib, grpcio-reflection), if set.
fn python() -> Option<std::ffi::OsString> {
    let p = std::env::var_os("RGSWEEP_PYTHON");
    if p.is_none() {
        eprintln!("RGSWEEP_PYTHON is not set: skipping (a Python with the examples' packages)");
    }
    p
}

/// Runs `examples/NAME` with `args`; its standard output, once it succeeded.
fn example(python: &std::ffi::OsStr, name: &str, args: &[&std::ffi::OsStr]) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(python)
        .arg(root.join("examples").join(name))
        .args(args)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{name}: {stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}

#[test]
fn the_python_example_loads_a_quickstart_output() {
    let Some(python) = python() else {
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
    let stdout = example(
        &python,
        "analyse.py",
        &[out.as_os_str(), "--plot".as_ref(), figure.as_os_str()],
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

#[test]
fn python_s_grpcio_reflection_reads_the_contract_with_the_token_only() {
    let Some(python) = python() else {
        return;
    };
    let dir = scratch("reflection");
    let c = Coord::start(&dir, None, "5", "5");
    let access: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&c.access).expect("access")).expect("json");
    let token = access["token"].as_str().expect("client token");
    let address = format!("127.0.0.1:{}", c.port);
    let out = example(&python, "reflect.py", &[address.as_ref(), token.as_ref()]);
    for service in ["rgsweep.v1.Client", "rgsweep.v1.Worker"] {
        assert!(out.contains(service), "{service} not listed: {out}");
    }
    assert!(out.contains("Submit") && out.contains("Lease"), "{out}");
    assert!(out.contains("rgsweep/v1/rgsweep.proto"), "{out}");
    assert!(out.contains("unauthenticated: UNAUTHENTICATED"), "{out}");
}
