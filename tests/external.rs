//! Sweeps through a registered external sampler (issue 17), end to end with the real binary:
//! `examples/samplers/ising_numpy.py` gives the same bytes with one worker, three, and a
//! worker killed mid-task, and its T_c agrees with the built-in Metropolis sampler's within
//! errors; a worker without the sampler never leases its tasks, which wait (not fail) until
//! one with it connects; a failing program fails its tasks with its stderr in `status` and
//! the worker goes on; a sweep file naming a path, or a sampler nobody has without a
//! version, is refused at submit. The Python comes from RGSWEEP_PYTHON (numpy; `.ci/run`
//! makes the venv); without it the tests say so and do nothing.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// The example sampler behind a wrapper that runs it with the test's Python.
fn ising_numpy(dir: &Path) -> Option<PathBuf> {
    let Some(python) = std::env::var_os("RGSWEEP_PYTHON") else {
        eprintln!("RGSWEEP_PYTHON is not set: skipping (a Python with numpy)");
        return None;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("examples/samplers/ising_numpy.py");
    Some(program(
        dir,
        "ising_numpy",
        &format!(
            "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
            Path::new(&python).display(),
            script.display()
        ),
    ))
}

fn program(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = write(dir, name, text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// 2 sizes × 5 temperatures × 2 replicas = 20 program runs of about a third of a second.
const SWEEP: &str = r#"name = "ext"
seed = 21
model = "external"
sampler = "ising-numpy"
configuration = "ising"
sizes = [8, 16]
replicas = 2
configurations = 400

[parameters]
T = [2.15, 2.22, 2.29, 2.36, 2.43]
thermalize = 400
interval = 4
"#;

/// The same points, sampled by the built-in Metropolis with the same schedule.
const BUILT_IN: &str = r#"name = "int"
seed = 21
model = "ising2d"
sizes = [8, 16]
temperatures = [2.15, 2.22, 2.29, 2.36, 2.43]
replicas = 2

[monte_carlo]
algorithm = "metropolis"
thermalize = 400
measurements = 400
interval = 4
"#;

const TASKS: u64 = 20;

fn worker_with(c: &Coord, name: &str, samplers: &[String]) -> Proc {
    let flags: Vec<&str> = samplers
        .iter()
        .flat_map(|f| ["--sampler", f.as_str()])
        .collect();
    c.worker_with("2", name, &flags)
}

/// `rgsweep run FILE --sampler SAMPLER --out OUT` on one machine.
fn run_through(file: &Path, sampler: &str, out: &Path) -> std::process::Output {
    rgsweep(&["run", s(file), "--sampler", sampler, "--out", s(out)])
}

/// T_c ± error from an output directory's summary.json.
fn tc(out: &Path) -> (f64, f64) {
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let tc = &v["fss"]["tc"];
    match (tc["value"].as_f64(), tc["error"].as_f64()) {
        (Some(t), Some(e)) => (t, e),
        _ => panic!("no T_c in {text}"),
    }
}

#[test]
fn an_external_sweep_gives_the_same_bytes_for_any_workers_and_the_built_in_t_c() {
    let dir = scratch("external-sweep");
    let Some(program) = ising_numpy(&dir) else {
        return;
    };
    let flag = format!("ising-numpy={}", program.display());
    let file = write(&dir, "ext.toml", SWEEP);
    let run = |workers: &str, out: &Path| {
        let o = rgsweep(&[
            "run",
            s(&file),
            "--workers",
            workers,
            "--threads",
            "2",
            "--sampler",
            &flag,
            "--out",
            s(out),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (one, three) = (dir.join("one"), dir.join("three"));
    run("1", &one);
    run("3", &three);
    assert_same_files(&one, &three);

    // A coordinator pins the version its workers advertise; a worker killed while it runs
    // the program loses nothing.
    let killed = dir.join("killed");
    std::fs::create_dir_all(&killed).expect("dir");
    let c = Coord::start(&killed, None, "1", "1");
    let mut w1 = worker_with(&c, "w1", std::slice::from_ref(&flag));
    let id = wait_for("the coordinator to know w1's sampler", 30, || {
        let o = rgsweep(&["submit", s(&file), "--access", s(&c.access), "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
        v["sweep"].as_str().map(str::to_string)
    });
    wait_for("w1 to be mid-task", 60, || {
        let st = c.status(&id);
        (st["leased"].as_u64() >= Some(1) && st["done"].as_u64() >= Some(1)).then_some(())
    });
    w1.kill9();
    let _w2 = worker_with(&c, "w2", std::slice::from_ref(&flag));
    let st = c.wait_state(&id, "done", 120);
    assert_eq!(st["done"].as_u64(), Some(TASKS));
    c.results(&id, &killed.join("out"));
    assert_same_files(&killed.join("out"), &one);

    // The same physics as the built-in sampler: the Binder crossings' T_c agree within
    // their combined error (two independent estimates, 3 sigma).
    let built_in = dir.join("built-in");
    let o = rgsweep(&[
        "run",
        s(&write(&dir, "int.toml", BUILT_IN)),
        "--out",
        s(&built_in),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ((a, ea), (b, eb)) = (tc(&one), tc(&built_in));
    assert!(
        (a - b).abs() < 3.0 * (ea * ea + eb * eb).sqrt(),
        "external T_c {a} ± {ea}, built-in {b} ± {eb}"
    );

    // The compiled example, built with the C compiler Rust links with: the same check.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = dir.join("ising_c");
    let cc = std::process::Command::new("cc")
        .args(["-O2", "-o", s(&binary)])
        .arg(root.join("examples/samplers/ising_c.c"))
        .arg("-lm")
        .status()
        .expect("cc runs");
    assert!(cc.success(), "examples/samplers/ising_c.c does not compile");
    let c_file = write(
        &dir,
        "c.toml",
        &SWEEP.replace("\"ising-numpy\"", "\"ising-c\""),
    );
    let c_out = dir.join("c");
    let o = run_through(&c_file, &format!("ising-c={}", binary.display()), &c_out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (c, ec) = tc(&c_out);
    assert!(
        (c - b).abs() < 3.0 * (ec * ec + eb * eb).sqrt(),
        "C sampler T_c {c} ± {ec}, built-in {b} ± {eb}"
    );
}

#[test]
fn tasks_wait_for_a_worker_with_the_sampler_and_bad_programs_fail_only_their_tasks() {
    let dir = scratch("external-matching");
    let Some(program_path) = ising_numpy(&dir) else {
        return;
    };
    let flag = format!("ising-numpy={}", program_path.display());
    // The version the example advertises, as an operator reads it.
    let o = rgsweep(&["worker", "--sampler", &flag, "--list-samplers"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    let version = listed.split('\t').nth(1).expect("name, version, program");
    assert_eq!(version, "ising_numpy 1");

    let c = Coord::start(&dir, None, "2", "2");
    // Refused at submit, naming the field: a path, and a sampler nobody has with no version.
    let path = SWEEP.replace("\"ising-numpy\"", "\"/usr/bin/python3\"");
    let o = c.cli(&["submit", s(&write(&dir, "path.toml", &path))]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("path.toml:4:") && err.contains("never a program"),
        "{err}"
    );
    let o = c.cli(&["submit", s(&write(&dir, "nobody.toml", SWEEP))]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("nobody.toml:4:1: field `sampler`")
            && err.contains("sampler_version")
            && err.contains("ising-numpy"),
        "{err}"
    );

    // A worker without the sampler: the sweep waits for one, never failing.
    let mut plain = worker_with(&c, "plain", &[]);
    let pinned = SWEEP.replace(
        "configuration = ",
        &format!("sampler_version = \"{version}\"\nconfiguration = "),
    );
    let id = c.submit(&write(&dir, "pinned.toml", &pinned))["sweep"]
        .as_str()
        .expect("id")
        .to_string();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let st = c.status(&id);
    assert_eq!(
        (
            st["state"].as_str(),
            st["leased"].as_u64(),
            st["done"].as_u64()
        ),
        (Some("running"), Some(0), Some(0)),
        "{st}"
    );
    assert_eq!(st["waiting"][0]["name"], "ising-numpy", "{st}");
    assert_eq!(st["waiting"][0]["tasks"].as_u64(), Some(TASKS), "{st}");

    // A worker with it (and with a program that always fails) completes it; the failing
    // program's sweep fails with its stderr, and the same worker then runs another sweep.
    let broken = program(
        &dir,
        "broken",
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo broken 1; exit 0; }\necho 'no licence for this node' >&2\nexit 3\n",
    );
    let able = worker_with(
        &c,
        "able",
        &[flag.clone(), format!("broken={}", broken.display())],
    );
    c.wait_state(&id, "done", 120);
    let bad = SWEEP
        .replace("\"ising-numpy\"", "\"broken\"")
        .replace("name = \"ext\"", "name = \"bad\"");
    let bad_id = c.submit(&write(&dir, "bad.toml", &bad))["sweep"]
        .as_str()
        .expect("id")
        .to_string();
    let st = c.wait_end(&bad_id, "failed", 120);
    let errors = st["errors"].to_string();
    assert!(
        errors.contains("no licence for this node") && errors.contains("exited with"),
        "{st}"
    );
    // ... with the rest of the pipeline on the program's configurations: saved samples and a
    // majority-rule RG flow, as for a built-in model.
    let again = SWEEP.replace("seed = 21", "seed = 22").replace(
        "configurations = 400",
        "configurations = 400\nsave_samples = 3\n\n[rg]\nmaps = [\"majority\"]\nlevels = 1\nsamples = 100",
    );
    let again_id = c.submit(&write(&dir, "again.toml", &again))["sweep"]
        .as_str()
        .expect("id")
        .to_string();
    c.wait_state(&again_id, "done", 120);
    let again_out = dir.join("again");
    c.results(&again_id, &again_out);
    let flows = std::fs::read_to_string(again_out.join("flows.csv")).expect("flows.csv");
    assert!(
        flows.lines().count() > 10 && flows.contains("majority"),
        "{flows}"
    );
    let samples = std::fs::read(again_out.join("samples-L16-T2.29.npy")).expect("samples");
    // 2 replicas × 3 configurations of 16 × 16 int8 spins, after the .npy header.
    assert!(
        samples.len() > 6 * 256 && samples.len() < 6 * 256 + 200,
        "{}",
        samples.len()
    );

    plain.signal("-TERM");
    let (_, log) = plain.wait_exit(30);
    assert_eq!(
        worker_counts(&log).0,
        0,
        "the plain worker ran nothing: {log}"
    );
    drop(able);
}

#[test]
fn the_example_sweep_files_are_valid_external_sweeps() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/samplers");
    for name in ["ising_numpy.toml", "ising_c.toml"] {
        let text = std::fs::read_to_string(dir.join(name)).expect("example");
        let sweep = rgsweep_physics::Sweep::parse(&text, name).expect("valid");
        let e = sweep.external.expect("external");
        assert!(
            e.version.is_empty(),
            "{name}: pinned to what its workers run"
        );
        assert_eq!(sweep.sizes, vec![8, 12, 16, 24, 32], "{name}");
    }
}

/// A dimer sampler in plain Python: Metropolis plaquette flips at T for E = v·N_∥ (v = −1
/// unless the parameters say otherwise), from the columnar state, bond occupations written as
/// [count, L, L, 2] int8 (.npy by hand) with integer energies.
const PLAQUETTE_SAMPLER: &str = r#"#!/usr/bin/env python3
import json, math, os, random, struct, sys
if sys.argv[1:] == ["--version"]:
    print("plaquette-py 1"); sys.exit(0)
r = json.load(sys.stdin)
assert r["configuration"] == "dimers"
p, L, n = r["parameters"], r["size"], r["count"]
T, v, every = p["T"], int(p.get("v", -1)), int(p.get("interval", 2))
rng = random.Random(r["seed"])
h = [[1 if x % 2 == 0 else 0 for x in range(L)] for y in range(L)]
w = [[0] * L for y in range(L)]
def par(x, y):
    x, y = x % L, y % L
    return (h[y][x] & h[(y + 1) % L][x]) | (w[y][x] & w[y][(x + 1) % L])
def around(x, y):
    return sum(par(a, b) for a, b in ((x, y), (x, y - 1), (x, y + 1), (x - 1, y), (x + 1, y)))
def sweep():
    for _ in range(L * L):
        x, y = rng.randrange(L), rng.randrange(L)
        x1, y1 = (x + 1) % L, (y + 1) % L
        hor = h[y][x] and h[y1][x]
        ver = w[y][x] and w[y][x1]
        if not (hor or ver):
            continue
        before = around(x, y)
        h[y][x] = h[y1][x] = 0 if hor else 1
        w[y][x] = w[y][x1] = 1 if hor else 0
        d = v * (around(x, y) - before)
        if d > 0 and rng.random() >= math.exp(-d / T):
            h[y][x] = h[y1][x] = 1 if hor else 0
            w[y][x] = w[y][x1] = 0 if hor else 1
def save(path, descr, shape, data):
    head = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, repr(tuple(shape)))
    head += " " * ((64 - (10 + len(head) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + data)
for _ in range(50):
    sweep()
bonds, energy = bytearray(), []
for _ in range(n):
    for _ in range(every):
        sweep()
    for y in range(L):
        for x in range(L):
            bonds += bytes((h[y][x], w[y][x]))
    energy.append(v * sum(par(x, y) for y in range(L) for x in range(L)))
save(os.path.join(r["output_dir"], "configurations.npy"), "|i1", (n, L, L, 2), bytes(bonds))
save(os.path.join(r["output_dir"], "energy.npy"), "<i8", (n,), struct.pack("<%dq" % n, *energy))
"#;

#[test]
fn an_external_dimer_sampler_feeds_the_dimer_analysis_and_rsmi_images() {
    let dir = scratch("external-dimers");
    let sampler = program(&dir, "plaquette", PLAQUETTE_SAMPLER);
    let file = write(
        &dir,
        "dimers.toml",
        r#"name = "ext-dimers"
seed = 4
model = "external"
sampler = "plaquette"
configuration = "dimers"
sizes = [4, 8]
replicas = 2
configurations = 64
save_samples = 2

[parameters]
T = [0.5, 2.0]
interval = 2
"#,
    );
    let out = dir.join("out");
    let o = run_through(&file, &format!("plaquette={}", sampler.display()), &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert!(v["dimers"].is_object(), "{text}");
    // Ordered at T = 0.5 (columnar, |M_col|² near 1), disordered at T = 2.
    let rows = std::fs::read_to_string(out.join("observables.csv")).expect("observables.csv");
    assert!(rows.lines().count() == 5, "{rows}");
    let m2 = |size: &str, t: &str| -> f64 {
        let header: Vec<&str> = rows.lines().next().expect("header").split(',').collect();
        let col = header
            .iter()
            .position(|h| *h == "columnar_m2")
            .expect("columnar_m2");
        rows.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f[1] == size && f[2] == t)
            .and_then(|f| f[col].parse().ok())
            .expect("a row")
    };
    assert!(m2("8", "0.5") > 0.6 && m2("8", "2") < 0.5, "{rows}");
    // Saved images: 2 replicas × 2 configurations, each 2L × 2L pixels of 0/1.
    let npy = std::fs::read(out.join("samples-L8-T0.5.npy")).expect("samples");
    assert!(
        npy.len() > 4 * 256 && npy.len() < 4 * 256 + 200,
        "{}",
        npy.len()
    );
    // A sampler that writes something other than a covering fails its task, by name.
    let broken = program(
        &dir,
        "broken",
        &PLAQUETTE_SAMPLER.replace("h[y][x], w[y][x]", "1, 1"),
    );
    let o = run_through(
        &file,
        &format!("plaquette={}", broken.display()),
        &dir.join("broken-out"),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("not a close-packed covering"),
        "{err}"
    );
}
