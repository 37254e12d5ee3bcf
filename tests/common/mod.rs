//! Process harness for end-to-end tests: a coordinator and workers as real `rgsweep` processes
//! on 127.0.0.1, driven through the CLI. Every wait polls observable state (files, `status
//! --json`) with a deadline; no test sleeps for a fixed time and hopes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rgsweep")
}

pub fn rgsweep(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("binary runs")
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rgsweep-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Polls `f` every 25 ms until it returns `Some`, or panics after `secs` naming `what`.
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A child process killed when dropped, with its stderr in a log file.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(args: &[&str], log: PathBuf) -> Proc {
        let err = std::fs::File::create(&log).expect("log file");
        let child = Command::new(bin())
            .args(args)
            .env("RGSWEEP_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn rgsweep");
        Proc { child, log }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill {sig} {}", self.pid());
    }

    pub fn kill9(&mut self) {
        self.signal("-KILL");
        let _ = self.child.wait();
    }

    /// Waits for exit; returns the exit code and the log.
    pub fn wait_exit(&mut self, secs: u64) -> (Option<i32>, String) {
        let status = wait_for("process exit", secs, || {
            self.child.try_wait().ok().flatten()
        });
        (status.code(), self.log_text())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A coordinator process with its database and access file in `dir`.
pub struct Coord {
    pub proc: Proc,
    pub dir: PathBuf,
    pub access: PathBuf,
    pub port: u16,
}

pub fn db(dir: &Path) -> PathBuf {
    dir.join("coord.db")
}

impl Coord {
    /// Starts a coordinator (on `port`, or a free one) and waits until its access file exists.
    pub fn start(dir: &Path, port: Option<u16>, lease_secs: &str, grace_secs: &str) -> Coord {
        Coord::start_with(dir, port, lease_secs, grace_secs, &[])
    }

    pub fn start_with(
        dir: &Path,
        port: Option<u16>,
        lease_secs: &str,
        grace_secs: &str,
        extra: &[&str],
    ) -> Coord {
        let access = dir.join("access.json");
        let listen = format!("127.0.0.1:{}", port.unwrap_or(0));
        let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
        let db_path = db(dir);
        let mut args = vec![
            "coordinator",
            "--listen",
            &listen,
            "--db",
            s(&db_path),
            "--access",
            s(&access),
            "--lease-secs",
            lease_secs,
            "--grace-secs",
            grace_secs,
        ];
        args.extend_from_slice(extra);
        let proc = Proc::spawn(&args, dir.join(format!("coordinator-{n}.log")));
        let port = wait_for("the coordinator's access file", 30, || {
            if !proc.log_text().contains("coordinator on ") {
                return None;
            }
            let text = std::fs::read_to_string(&access).ok()?;
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            let addr = v["address"].as_str()?.to_string();
            addr.rsplit(':').next()?.parse::<u16>().ok()
        });
        Coord {
            proc,
            dir: dir.to_path_buf(),
            access,
            port,
        }
    }

    pub fn worker(&self, slots: &str, name: &str) -> Proc {
        self.worker_with(slots, name, &[])
    }

    /// A worker with more flags (`--walltime 6`, `--sampler NAME=PROGRAM`, ...).
    pub fn worker_with(&self, slots: &str, name: &str, extra: &[&str]) -> Proc {
        let mut args = vec![
            "worker",
            "--access",
            s(&self.access),
            "--slots",
            slots,
            "--id",
            name,
        ];
        args.extend_from_slice(extra);
        Proc::spawn(&args, self.dir.join(format!("{name}.log")))
    }

    /// Submits `file`, runs it with one worker that is killed (-9) while it holds a lease and
    /// after it delivered something, finishes with a second worker, and fetches the outputs
    /// into `out`. Returns the sweep id.
    pub fn run_with_a_killed_worker(&self, file: &Path, out: &Path) -> String {
        let id = self.submit(file)["sweep"].as_str().expect("id").to_string();
        let mut w1 = self.worker("2", "w1");
        wait_for("w1 to be mid-task", 60, || {
            let st = self.status(&id);
            (st["leased"].as_u64() >= Some(1) && st["done"].as_u64() >= Some(1)).then_some(())
        });
        w1.kill9();
        let _w2 = self.worker("2", "w2");
        self.wait_state(&id, "done", 120);
        self.results(&id, out);
        id
    }

    pub fn submit(&self, file: &Path) -> serde_json::Value {
        let o = rgsweep(&["submit", s(file), "--access", s(&self.access), "--json"]);
        assert!(
            o.status.success(),
            "submit failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).expect("submit --json")
    }

    pub fn status(&self, sweep: &str) -> serde_json::Value {
        let o = rgsweep(&["status", sweep, "--access", s(&self.access), "--json"]);
        assert!(
            o.status.success(),
            "status failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("status --json");
        v["sweeps"][0].clone()
    }

    /// Waits for the sweep to reach `state`, checking it never fails on the way.
    pub fn wait_state(&self, sweep: &str, state: &str, secs: u64) -> serde_json::Value {
        wait_for(&format!("sweep {sweep} to be {state}"), secs, || {
            let st = self.status(sweep);
            assert_ne!(st["state"], "failed", "{st}");
            (st["state"] == state).then_some(st)
        })
    }

    /// Runs a client command against this coordinator (`--access` appended).
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--access", s(&self.access)]);
        rgsweep(&all)
    }

    /// Waits for the sweep to reach `state`, whatever it passes through.
    pub fn wait_end(&self, sweep: &str, state: &str, secs: u64) -> serde_json::Value {
        wait_for(&format!("sweep {sweep} to be {state}"), secs, || {
            let st = self.status(sweep);
            (st["state"] == state).then_some(st)
        })
    }

    pub fn results(&self, sweep: &str, out: &Path) {
        let o = rgsweep(&[
            "results",
            sweep,
            "--access",
            s(&self.access),
            "--out",
            s(out),
        ]);
        assert!(
            o.status.success(),
            "results failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// 18 tasks of about 0.1–0.3 s each: long enough to kill things mid-sweep.
pub const E2E_SWEEP: &str = r#"name = "e2e"
seed = 11
model = "ising2d"
sizes = [8, 16, 32]
temperatures = [2.22, 2.27, 2.32]
replicas = 2

[monte_carlo]
algorithm = "metropolis"
thermalize = 500
measurements = 40000
"#;

pub const E2E_TASKS: u64 = 18;

/// The thread-pool outputs of `sweep`, computed once per test binary (`cell` is its static).
pub fn reference_once<'a>(cell: &'a std::sync::OnceLock<PathBuf>, sweep: &str) -> &'a PathBuf {
    cell.get_or_init(|| {
        let dir = scratch("reference");
        let file = write(&dir, "sweep.toml", sweep);
        let out = dir.join("out");
        reference(&file, &out);
        out
    })
}

/// Reference outputs: the thread-pool execution of the same file.
pub fn reference(file: &Path, out: &Path) {
    let o = rgsweep(&[
        "run",
        s(file),
        "--thread-pool",
        "--threads",
        "2",
        "--out",
        s(out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Every file of two output directories, byte for byte.
pub fn assert_same_files(a: &Path, b: &Path) {
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .expect("outputs")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".db") && !n.contains(".db-") && n != "access.json")
            .collect();
        v.sort();
        v
    };
    let (x, y) = (names(a), names(b));
    assert_eq!(x, y, "the same files");
    assert!(x.len() >= 3, "{x:?}");
    for n in &x {
        if WALL_TIME_LAST.contains(&n.as_str()) {
            let read =
                |d: &Path| without_last_column(&std::fs::read_to_string(d.join(n)).expect(n));
            assert_eq!(
                read(a),
                read(b),
                "{n} (wall time aside) differs from the thread-pool run"
            );
            continue;
        }
        assert!(
            std::fs::read(a.join(n)).ok() == std::fs::read(b.join(n)).ok(),
            "{n} differs from the thread-pool run"
        );
    }
}

/// Outputs whose last column is a training's wall time (ARCHITECTURE.md: the one value a rerun
/// does not reproduce); every other column must match byte for byte.
pub const WALL_TIME_LAST: [&str; 1] = ["maze-runs.csv"];

/// A CSV text without its last column.
pub fn without_last_column(text: &str) -> String {
    text.lines()
        .map(|l| l.rsplit_once(',').map_or(l, |(head, _)| head))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn assert_same_outputs(a: &Path, b: &Path, what: &str) {
    for f in ["summary.json", "observables.csv"] {
        let x = std::fs::read(a.join(f)).unwrap_or_else(|e| panic!("{}: {e}", a.join(f).display()));
        let y = std::fs::read(b.join(f)).unwrap_or_else(|e| panic!("{}: {e}", b.join(f).display()));
        assert!(x == y, "{f} differs: {what}");
    }
}

/// (key, workers lost while running it, digest) of a done task.
pub type DoneTask = (Vec<u8>, i64, Vec<u8>);

/// (key, workers lost, digest) of every done task and the number of stored results, read straight
/// from the coordinator's database (the coordinator must not be running or must be between
/// commits; SQLite's WAL makes a read consistent either way).
pub fn done_tasks(db: &Path) -> (Vec<DoneTask>, i64) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open db");
    let mut st = conn
        .prepare("SELECT key, lost, digest FROM tasks WHERE state = 2 ORDER BY key")
        .expect("query");
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    let results: i64 = conn
        .query_row("SELECT count(*) FROM results", [], |r| r.get(0))
        .expect("count");
    (rows, results)
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}

/// (computed, accepted, duplicates) from a worker's exit line
/// "worker done: C computed, A accepted, D duplicates, …".
pub fn worker_counts(log: &str) -> (u64, u64, u64) {
    let line = log
        .lines()
        .find(|l| l.contains("worker done:"))
        .unwrap_or_else(|| panic!("no exit summary in: {log}"));
    let mut n = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse::<u64>().expect("number"));
    (
        n.next().expect("computed"),
        n.next().expect("accepted"),
        n.next().expect("duplicates"),
    )
}

/// Every task also learns the RSMI coarse-graining on its own samples, and measures the RG
/// flow of majority rule, decimation, the learned RSMI rule, both RBM maps and the tanh
/// autoencoder, audited.
pub const RSMI_SWEEP: &str = r#"name = "rsmi-e2e"
seed = 3
model = "ising2d"
sizes = [16]
temperatures = [2.0, 2.2, 2.269, 3.0]
replicas = 2

[monte_carlo]
algorithm = "wolff"
thermalize = 200
measurements = 400

[rsmi]
block = 2
buffers = [0, 2]
env = 2
samples = 200
max_epochs = 10

[rg]
maps = ["majority", "decimation", "rsmi", "rbm", "rbm-dense", "autoencoder-tanh"]
levels = 2
samples = 200
max_epochs = 10
retrain = true
warm_start = true
audit = true

[rg.rbm]
epochs = 5
batch = 10
information_plane = true

[rg.autoencoder]
epochs = 2
batch = 256
information_plane = true
"#;

/// `file` run by four worker processes, and by one worker killed mid-task and a second that
/// finishes: every output file the same bytes as `reference`.
pub fn four_workers_and_a_kill_match(
    dir: &std::path::Path,
    file: &std::path::Path,
    reference: &std::path::Path,
) {
    let four = dir.join("four");
    std::fs::create_dir_all(&four).expect("dir");
    let c = Coord::start(&four, None, "5", "5");
    let id = c.submit(file)["sweep"].as_str().expect("id").to_string();
    let workers: Vec<Proc> = (0..4).map(|i| c.worker("1", &format!("w{i}"))).collect();
    c.wait_state(&id, "done", 120);
    c.results(&id, &four.join("out"));
    drop(workers);
    let killed = dir.join("killed");
    std::fs::create_dir_all(&killed).expect("dir");
    let c = Coord::start(&killed, None, "1", "1");
    c.run_with_a_killed_worker(file, &killed.join("out"));
    for out in [four.join("out"), killed.join("out")] {
        assert_same_files(&out, reference);
    }
}

/// `text` as dir/bad.toml is refused by `rgsweep run` naming `at` (file:line:column) and
/// `field`, and writes no outputs.
pub fn refused_and_nothing_written(dir: &Path, text: &str, at: &str, field: &str) {
    let bad = write(dir, "bad.toml", text);
    let out = dir.join("bad");
    let o = rgsweep(&["run", s(&bad), "--thread-pool", "--out", s(&out)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains(at) && err.contains(field),
        "{err}"
    );
    assert!(!out.join("summary.json").exists());
}
