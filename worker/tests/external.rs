//! Registered external samplers under the worker's protocol (issue 17): a well-behaved program
//! gives its configurations back, deterministic in its seed; every kind of misbehaviour —
//! a non-zero exit, a hang (with a child of its own), garbage, the wrong shape or values, a
//! gigabyte printed or written, too much memory — fails that run with a reason naming it,
//! quickly, and leaves no directory behind.

use rgsweep_worker::external::{
    Configuration, ExternalError, Limits, Request, Sampler, parse_flag, run,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rgsweep-external-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("work")).expect("scratch");
    dir
}

fn program(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write program");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// A Python (standard library only) sampler: ±1 spins from a 64-bit LCG seeded by the
/// request's seed, written as int8 .npy with an energy per configuration. `EXTRA` and
/// `VALUES` let a test bend it (one configuration too many, 0/1 values).
fn python_sampler(extra: usize, up: i32, down: i32) -> String {
    format!(
        r#"#!/usr/bin/env python3
import json, os, struct, sys
if sys.argv[1:] == ["--version"]:
    print("lcg-ising 1.0"); sys.exit(0)
r = json.load(sys.stdin)
n, L, d = r["count"] + {extra}, r["size"], r["dim"]
def save(path, descr, shape, data):
    h = "{{'descr': '%s', 'fortran_order': False, 'shape': %s, }}" % (descr, repr(tuple(shape)))
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data)
x = r["seed"]
vals = []
for i in range(n * L ** d):
    x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    vals.append({up} if x >> 63 else {down})
save(os.path.join(r["output_dir"], "configurations.npy"), "|i1", (n,) + (L,) * d, struct.pack("%db" % len(vals), *vals))
save(os.path.join(r["output_dir"], "energy.npy"), "<f8", (n,), struct.pack("<%dd" % n, *[-float(i) for i in range(n)]))
"#
    )
}

fn request(seed: u64) -> Request {
    Request {
        sampler: "s".into(),
        configuration: "ising".into(),
        parameters: BTreeMap::from([("temperature".into(), 2.269)]),
        size: 6,
        dim: 2,
        replica: 0,
        count: 5,
        seed,
        output_dir: PathBuf::new(),
    }
}

fn quick() -> Limits {
    Limits {
        timeout: Duration::from_secs(20),
        max_output: 1 << 20,
        max_memory: None,
    }
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

#[test]
fn a_registered_program_samples_deterministically_and_its_directory_goes() {
    let dir = scratch("good");
    let path = program(&dir, "ising", &python_sampler(0, 1, -1));
    let s = Sampler::register("ising", &path).expect("registers");
    assert_eq!(s.version, "lcg-ising 1.0");
    let work = dir.join("work");
    let a = run(&s, &request(7), Configuration::Ising, &quick(), &work).expect("runs");
    assert_eq!(a.configurations.len(), 5);
    assert!(
        a.configurations
            .iter()
            .all(|c| c.len() == 36 && c.iter().all(|&v| v == 1 || v == -1))
    );
    assert_eq!(a.energy, Some(vec![0.0, -1.0, -2.0, -3.0, -4.0]));
    let again = run(&s, &request(7), Configuration::Ising, &quick(), &work).expect("runs");
    assert_eq!(a, again, "the same seed, the same configurations");
    let other = run(&s, &request(8), Configuration::Ising, &quick(), &work).expect("runs");
    assert_ne!(a.configurations, other.configurations);
    assert!(empty(&work), "run directories are removed");
}

#[test]
fn misbehaving_programs_fail_their_run_with_a_reason() {
    let dir = scratch("bad");
    let work = dir.join("work");
    let register = |name: &str, text: &str| {
        Sampler::register(name, &program(&dir, name, text)).expect("registers")
    };
    let go = |s: &Sampler, limits: &Limits| {
        let started = Instant::now();
        let e = run(s, &request(1), Configuration::Ising, limits, &work).expect_err("fails");
        eprintln!("{}: {e} ({:?})", s.name, started.elapsed());
        (e, started.elapsed())
    };

    let exits = register(
        "exits",
        "#!/bin/sh\necho 'temperature must be positive' >&2\nexit 3\n",
    );
    match go(&exits, &quick()).0 {
        ExternalError::Exit { stderr, status, .. } => {
            assert!(stderr.contains("temperature must be positive"), "{stderr}");
            assert!(status.contains('3'), "{status}");
        }
        e => panic!("{e}"),
    }

    // A hang, with a child of its own holding the pipes: the whole group goes.
    let hangs = register("hangs", "#!/bin/sh\nsleep 60 &\nsleep 60\n");
    let limits = Limits {
        timeout: Duration::from_millis(500),
        ..quick()
    };
    let (e, took) = go(&hangs, &limits);
    assert!(matches!(e, ExternalError::Timeout { .. }), "{e}");
    assert!(took < Duration::from_secs(10), "{took:?}");

    let garbage = register(
        "garbage",
        "#!/bin/sh\nout=$(sed -n 's/.*\"output_dir\": *\"\\([^\"]*\\)\".*/\\1/p')\necho hello > \"$out/configurations.npy\"\n",
    );
    let e = go(&garbage, &quick()).0;
    assert!(
        matches!(
            e,
            ExternalError::Malformed {
                file: "configurations.npy",
                ..
            }
        ),
        "{e}"
    );

    let nothing = register("nothing", "#!/bin/sh\ncat > /dev/null\n");
    let e = go(&nothing, &quick()).0;
    assert!(e.to_string().contains("cannot read it"), "{e}");

    let shape = register("shape", &python_sampler(1, 1, -1));
    let e = go(&shape, &quick()).0;
    assert!(e.to_string().contains("shape [6, 6, 6]"), "{e}");

    let values = register("values", &python_sampler(0, 1, 0));
    let e = go(&values, &quick()).0;
    assert!(
        e.to_string().contains("value 0 is not a Ising state"),
        "{e}"
    );

    // A gigabyte printed, and a gigabyte written: killed at the limit, long before the end.
    for (name, text) in [
        ("prints", "#!/bin/sh\nhead -c 1073741824 /dev/zero\n"),
        ("writes", "#!/bin/sh\nhead -c 1073741824 /dev/zero > big\n"),
    ] {
        let s = register(name, text);
        let (e, took) = go(&s, &quick());
        assert!(
            matches!(e, ExternalError::TooMuchOutput { .. }),
            "{name}: {e}"
        );
        assert!(took < Duration::from_secs(10), "{name}: {took:?}");
    }

    let greedy = register(
        "greedy",
        "#!/usr/bin/env python3\nimport sys\nsys.stdin.read()\nx = bytearray(2 << 30)\n",
    );
    let limits = Limits {
        max_memory: Some(512 << 20),
        ..quick()
    };
    let e = go(&greedy, &limits).0;
    assert!(
        matches!(&e, ExternalError::Exit { stderr, .. } if stderr.contains("MemoryError")),
        "{e}"
    );

    assert!(empty(&work), "run directories are removed");
}

#[test]
fn registration_takes_only_executables_and_plain_names() {
    let dir = scratch("register");
    let text = dir.join("plain.txt");
    std::fs::write(&text, "not a program").expect("write");
    assert!(Sampler::register("plain", &text).is_err());
    assert!(Sampler::register("missing", &dir.join("nope")).is_err());
    // No --version: the executable's hash names its version.
    let s = Sampler::register("quiet", &program(&dir, "quiet", "#!/bin/sh\nexit 1\n"))
        .expect("registers");
    assert!(s.version.starts_with("sha256:"), "{}", s.version);
    assert_eq!(
        parse_flag("ising=/opt/ising").expect("a flag"),
        ("ising".to_string(), PathBuf::from("/opt/ising"))
    );
    for bad in ["ising", "=/opt/x", "a b=/x", "ising=", "x/y=/z"] {
        assert!(parse_flag(bad).is_err(), "{bad}");
    }
}

/// A spin task of an external sweep, as a coordinator would lease it.
fn external_task(version: &str) -> rgsweep_physics::Task {
    let text = format!(
        "name = \"x\"\nseed = 3\nmodel = \"external\"\nsampler = \"lcg\"\nsampler_version = \"{version}\"\nconfiguration = \"ising\"\nsizes = [6]\nreplicas = 2\nconfigurations = 16\n[parameters]\nT = [2.0]\n"
    );
    let sweep = rgsweep_physics::Sweep::parse(&text, "x.toml").expect("valid");
    sweep.tasks().remove(0)
}

#[test]
fn the_registry_checks_versions_and_catches_a_program_that_ignores_its_seed() {
    use rgsweep_worker::external::Registry;
    let dir = scratch("registry");
    let good = program(&dir, "good", &python_sampler(0, 1, -1));
    let deaf = program(
        &dir,
        "deaf",
        &python_sampler(0, 1, -1).replace("x = r[\"seed\"]", "x = 12345"),
    );
    let registry = |path: &Path| {
        Registry::new(
            vec![Sampler::register("lcg", path).expect("register")],
            quick(),
            dir.join("work"),
        )
        .expect("registry")
    };
    // A good program: both replicas come back, each its own seed's, with integer energies.
    let r = registry(&good);
    let task = external_task("lcg-ising 1.0");
    let replicas = r.sample(&task, 3).expect("samples");
    assert_eq!(replicas.len(), 1, "one replica per task");
    assert_eq!(replicas[0].states.len(), 16);
    assert_eq!(replicas[0].energy[..3], [0, -1, -2]);
    let result = task.run_on_samples(3, &replicas, &|| 0.0);
    assert_eq!(result.replicas[0].order.len(), 16);
    // Another version is refused before anything runs.
    let e = r
        .sample(&external_task("lcg-ising 2.0"), 3)
        .expect_err("version");
    assert!(matches!(e, ExternalError::Version { .. }), "{e}");
    // A program deaf to its seed fails on its first task, with both seeds named.
    let e = registry(&deaf).sample(&task, 3).expect_err("deaf");
    assert!(
        matches!(e, ExternalError::SeedIgnored { .. })
            && e.to_string().contains("ignores the seed"),
        "{e}"
    );
    assert!(empty(&dir.join("work")), "scratch directories removed");
}
