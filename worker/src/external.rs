//! Registered external samplers (issue 17): programs a worker's operator names on the worker's
//! command line, never a sweep file, run under the protocol below with limits, so that a
//! misbehaving program fails its task and leaves the worker healthy.
//!
//! The protocol: the worker starts the program with no arguments in a fresh directory of its
//! own, writes one JSON object ([`Request`]) on its standard input and closes it. The program
//! writes `configurations.npy` into `output_dir` — `count` configurations of the declared
//! shape, int8/uint8/int32/int64 values — and `energy.npy` (one value per configuration,
//! float64 or integer; an external task needs them integer-valued, see [`Registry::sample`]);
//! anything it prints is kept only as a short tail for the error message. A
//! non-zero exit, a time-out, more output than allowed, a missing or malformed file or a value
//! the configuration type does not allow fails the run with a reason naming it; the
//! directory is removed whatever happened.
//!
//! Why a process group: a program that starts others (a shell script, Julia, MPI) is killed
//! whole on a time-out, so nothing keeps its pipes open or its files growing.

use rgsweep_physics::Task;
use rgsweep_physics::model::external::{Capability, Replica};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a registered program may be asked to sample: the configuration type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Configuration {
    /// Ising spins: every value ±1.
    Ising,
    /// q-state spins: values 0..q.
    Potts { q: u8 },
    /// Bond occupations: values 0 or 1.
    Bonds,
}

impl Configuration {
    fn allows(self, v: i64) -> bool {
        match self {
            Configuration::Ising => v == 1 || v == -1,
            Configuration::Potts { q } => (0..i64::from(q)).contains(&v),
            Configuration::Bonds => v == 0 || v == 1,
        }
    }
}

/// One run's request: written to the program's standard input as JSON.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Request {
    pub sampler: String,
    /// "ising", "potts" or "dimers": what each configuration holds.
    pub configuration: String,
    /// The sweep's named parameters at this point (temperature, couplings, ...).
    pub parameters: BTreeMap<String, f64>,
    pub size: usize,
    /// Dimensions of the lattice (each configuration is size^dim values, then `per_site`).
    pub dim: usize,
    pub replica: u32,
    pub count: usize,
    /// Derived from the sweep seed and the task key: a deterministic program reproduces its
    /// output from it.
    pub seed: u64,
    /// Set by [`run`]: the directory the program writes into.
    pub output_dir: PathBuf,
}

/// Limits on one run.
#[derive(Clone, Debug)]
pub struct Limits {
    pub timeout: Duration,
    /// Bytes the program may print and write, all together.
    pub max_output: u64,
    /// Virtual memory of the program, in bytes (`ulimit -v`); `None`: no limit.
    pub max_memory: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(3600),
            max_output: 4 << 30,
            max_memory: None,
        }
    }
}

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// `count` configurations, each `size^dim` values in row-major order.
    pub configurations: Vec<Vec<i8>>,
    /// Per-configuration energies, when the program wrote them.
    pub energy: Option<Vec<f64>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExternalError {
    #[error("sampler {0:?} is not registered on this worker")]
    Unknown(String),
    #[error("--sampler {0:?}: expected NAME=PROGRAM")]
    Flag(String),
    #[error("sampler {name}: {program}: {why}")]
    Program {
        name: String,
        program: String,
        why: String,
    },
    #[error("sampler {name} exited with {status}; its stderr ends: {stderr}")]
    Exit {
        name: String,
        status: String,
        stderr: String,
    },
    #[error("sampler {name} did not finish within {seconds} s; killed")]
    Timeout { name: String, seconds: f64 },
    #[error("sampler {name} produced more than {limit} bytes of output; killed")]
    TooMuchOutput { name: String, limit: u64 },
    #[error("sampler {name}: {file}: {why}")]
    Malformed {
        name: String,
        file: &'static str,
        why: String,
    },
    #[error("cannot run sampler {name}: {why}")]
    Io { name: String, why: String },
    #[error("sampler {name} on this worker is version {has:?}; the task needs {wants:?}")]
    Version {
        name: String,
        has: String,
        wants: String,
    },
    #[error(
        "sampler {name} returned the same configurations for seeds {first} and {second}: it ignores the seed it is given (or its chains never move), so its replicas are not independent"
    )]
    SeedIgnored {
        name: String,
        first: u64,
        second: u64,
    },
    #[error("sampler {0:?} is registered twice")]
    Twice(String),
}

/// A program a worker may run, with the version it advertises (its `--version` line, or the
/// executable's SHA-256 when it has none), so that results of two versions never mix.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampler {
    pub name: String,
    pub program: PathBuf,
    pub version: String,
}

/// Parses `NAME=PROGRAM` (the worker's `--sampler` flag). Names are what a sweep file may
/// say, so they are plain: letters, digits, `-`, `_`, `.`.
pub fn parse_flag(flag: &str) -> Result<(String, PathBuf), ExternalError> {
    let (name, program) = flag
        .split_once('=')
        .ok_or_else(|| ExternalError::Flag(flag.into()))?;
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) || program.is_empty() {
        return Err(ExternalError::Flag(flag.into()));
    }
    Ok((name.to_string(), PathBuf::from(program)))
}

impl Sampler {
    /// Registers `program` under `name`: it must be an executable file; its version is read
    /// once, here.
    pub fn register(name: &str, program: &Path) -> Result<Sampler, ExternalError> {
        let bad = |why: String| ExternalError::Program {
            name: name.into(),
            program: program.display().to_string(),
            why,
        };
        let meta = std::fs::metadata(program).map_err(|e| bad(e.to_string()))?;
        use std::os::unix::fs::PermissionsExt;
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(bad("not an executable file".into()));
        }
        let program = std::fs::canonicalize(program).map_err(|e| bad(e.to_string()))?;
        let version = version_line(&program).unwrap_or_else(|| {
            use sha2::{Digest, Sha256};
            let bytes = std::fs::read(&program).unwrap_or_default();
            let digest = Sha256::digest(&bytes);
            let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            format!("sha256:{hex}")
        });
        Ok(Sampler {
            name: name.into(),
            program,
            version,
        })
    }
}

/// The first line `PROGRAM --version` prints within 5 s with exit 0, if any. It runs as a
/// sampler does: in a scratch directory of its own, with its output limited, so a program
/// that ignores the flag cannot write where the worker was started.
fn version_line(program: &Path) -> Option<String> {
    let limits = Limits {
        timeout: Duration::from_secs(5),
        max_output: 64 << 10,
        max_memory: None,
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("rgsweep-version-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let scratch = Scratch(dir);
    let mut cmd = Command::new(program);
    cmd.arg("--version")
        .current_dir(&scratch.0)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let done = supervise(cmd, Some((&[], &scratch.0)), &limits).ok()?;
    let line = done.stdout.lines().next()?.trim().to_string();
    (done.success && !line.is_empty() && line.len() <= 200).then_some(line)
}

/// How a supervised process ended.
struct Done {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

enum Stop {
    Timeout,
    TooMuch,
    Io(String),
}

/// Keeps the last `TAIL` bytes of a stream, counting all of them into `total`.
const TAIL: usize = 2048;

fn drain(
    mut from: impl Read + Send + 'static,
    total: Arc<AtomicU64>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut tail: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            total.fetch_add(n as u64, Ordering::Relaxed);
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 2 * TAIL {
                tail.drain(..tail.len() - TAIL);
            }
        }
        if tail.len() > TAIL {
            tail.drain(..tail.len() - TAIL);
        }
        tail
    })
}

/// Bytes in the files directly in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Runs `cmd` in a process group of its own with `input` on stdin, killing the group past the
/// time limit or when its printed output and the files in `watch` pass the output limit.
///
/// Why a waiting thread: the exit is noticed the moment it happens (a poll loop's sleep added
/// 2.5 ms to every run on average, most of the protocol's cost for a quick program), while the
/// limits are checked twenty times a second.
fn supervise(
    mut cmd: Command,
    input: Option<(&[u8], &Path)>,
    limits: &Limits,
) -> Result<Done, Stop> {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc::RecvTimeoutError;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| Stop::Io(e.to_string()))?;
    let printed = Arc::new(AtomicU64::new(0));
    let out = child.stdout.take().map(|s| drain(s, printed.clone()));
    let err = child.stderr.take().map(|s| drain(s, printed.clone()));
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading its input closes the pipe: that is its
        // business, and shows in its exit status or its output.
        let _ = stdin.write_all(input.map_or(&[][..], |i| i.0));
    }
    let watch = input.map(|i| i.1);
    let started = Instant::now();
    let pid = child.id() as i32;
    let kill = || {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(status)) => break status,
            Ok(Err(e)) => {
                kill();
                return Err(Stop::Io(e.to_string()));
            }
            Err(RecvTimeoutError::Disconnected) => {
                kill();
                return Err(Stop::Io("lost track of the program".into()));
            }
            Err(RecvTimeoutError::Timeout) => {
                let written = watch.map_or(0, dir_bytes);
                let over = printed.load(Ordering::Relaxed) + written > limits.max_output;
                if over || started.elapsed() > limits.timeout {
                    kill();
                    // Reaped by the waiting thread; its answer no longer matters.
                    let _ = rx.recv();
                    return Err(if over { Stop::TooMuch } else { Stop::Timeout });
                }
            }
        }
    };
    // Whatever the program left running in its group goes too, so that the pipes close.
    kill();
    let text = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(Done {
        success: status.success(),
        status: status.to_string(),
        stdout: text(out),
        stderr: text(err),
    })
}

/// A fresh directory for one run, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `sampler` for `request` under `limits` in a fresh directory below `work`, and reads
/// back its configurations of type `kind`.
pub fn run(
    sampler: &Sampler,
    request: &Request,
    kind: Configuration,
    limits: &Limits,
    work: &Path,
) -> Result<Output, ExternalError> {
    let name = sampler.name.clone();
    let io = |why: String| ExternalError::Io {
        name: name.clone(),
        why,
    };
    let dir = work.join(format!(
        "rgsweep-{}-{}-{:016x}-{}",
        sampler.name,
        std::process::id(),
        request.seed,
        request.replica
    ));
    std::fs::create_dir_all(&dir).map_err(|e| io(format!("{}: {e}", dir.display())))?;
    let scratch = Scratch(dir);
    let mut request = request.clone();
    request.output_dir = scratch.0.clone();
    let json = serde_json::to_vec(&request).map_err(|e| io(e.to_string()))?;
    let mut cmd = match limits.max_memory {
        // ulimit -v takes KiB; `exec` keeps the program the group's leader's only child.
        Some(bytes) => {
            let mut c = Command::new("/bin/sh");
            c.arg("-c")
                .arg(format!("ulimit -v {} && exec \"$0\"", bytes / 1024))
                .arg(&sampler.program);
            c
        }
        None => Command::new(&sampler.program),
    };
    cmd.current_dir(&scratch.0)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let done = match supervise(cmd, Some((&json, &scratch.0)), limits) {
        Ok(done) => done,
        Err(Stop::Timeout) => {
            return Err(ExternalError::Timeout {
                name,
                seconds: limits.timeout.as_secs_f64(),
            });
        }
        Err(Stop::TooMuch) => {
            return Err(ExternalError::TooMuchOutput {
                name,
                limit: limits.max_output,
            });
        }
        Err(Stop::Io(why)) => return Err(io(why)),
    };
    if !done.success {
        return Err(ExternalError::Exit {
            name,
            status: done.status,
            stderr: done.stderr.trim().to_string(),
        });
    }
    if dir_bytes(&scratch.0) > limits.max_output {
        return Err(ExternalError::TooMuchOutput {
            name,
            limit: limits.max_output,
        });
    }
    read_output(&name, &scratch.0, &request, kind)
}

/// The program's files, checked against the request's shape and the configuration type.
fn read_output(
    name: &str,
    dir: &Path,
    request: &Request,
    kind: Configuration,
) -> Result<Output, ExternalError> {
    let malformed = |file: &'static str, why: String| ExternalError::Malformed {
        name: name.into(),
        file,
        why,
    };
    let sites = request
        .size
        .checked_pow(request.dim as u32)
        .ok_or_else(|| malformed("configurations.npy", "lattice too large".into()))?;
    // Bond occupations: two per site, the bonds to +x and to +y.
    let per_site = if kind == Configuration::Bonds { 2 } else { 1 };
    let sites = sites * per_site;
    let want: Vec<usize> = std::iter::once(request.count)
        .chain(std::iter::repeat_n(request.size, request.dim))
        .chain((per_site > 1).then_some(per_site))
        .collect();
    let path = dir.join("configurations.npy");
    let bytes = std::fs::read(&path)
        .map_err(|e| malformed("configurations.npy", format!("cannot read it: {e}")))?;
    let values = npy_integers(&bytes).map_err(|why| malformed("configurations.npy", why))?;
    if values.0 != want {
        return Err(malformed(
            "configurations.npy",
            format!("shape {:?}, expected {want:?}", values.0),
        ));
    }
    if let Some(v) = values.1.iter().find(|&&v| !kind.allows(v)) {
        return Err(malformed(
            "configurations.npy",
            format!("value {v} is not a {kind:?} state"),
        ));
    }
    let configurations = values
        .1
        .chunks(sites.max(1))
        .map(|c| c.iter().map(|&v| v as i8).collect())
        .collect();
    let energy = match std::fs::read(dir.join("energy.npy")) {
        Err(_) => None,
        Ok(bytes) => {
            use ndarray_npy::ReadNpyExt;
            let e = match npy_integers(&bytes) {
                Ok((shape, v)) if shape.len() == 1 => v.into_iter().map(|x| x as f64).collect(),
                _ => ndarray::Array1::<f64>::read_npy(&bytes[..])
                    .map_err(|e| {
                        malformed(
                            "energy.npy",
                            format!("not a float64 or integer vector: {e}"),
                        )
                    })?
                    .to_vec(),
            };
            if e.len() != request.count || e.iter().any(|x| !x.is_finite()) {
                return Err(malformed(
                    "energy.npy",
                    format!("{} values, expected {} finite ones", e.len(), request.count),
                ));
            }
            Some(e)
        }
    };
    Ok(Output {
        configurations,
        energy,
    })
}

/// (shape, values) of an integer .npy array of any of the widths the protocol allows.
fn npy_integers(bytes: &[u8]) -> Result<(Vec<usize>, Vec<i64>), String> {
    use ndarray::ArrayD;
    use ndarray_npy::ReadNpyExt;
    fn go<T: ndarray_npy::ReadableElement + Copy + Into<i64>>(
        bytes: &[u8],
    ) -> Option<(Vec<usize>, Vec<i64>)> {
        let a = ArrayD::<T>::read_npy(bytes).ok()?;
        let a = a.as_standard_layout().into_owned();
        Some((a.shape().to_vec(), a.iter().map(|&v| v.into()).collect()))
    }
    go::<i8>(bytes)
        .or_else(|| go::<u8>(bytes))
        .or_else(|| go::<i32>(bytes))
        .or_else(|| go::<i64>(bytes))
        .ok_or_else(|| "not an .npy array of int8, uint8, int32 or int64".into())
}

/// The samplers a worker registered, its limits, and what it remembers to catch a program
/// that ignores its seed.
pub struct Registry {
    samplers: BTreeMap<String, Sampler>,
    pub limits: Limits,
    /// Where each run's scratch directory is made.
    pub work: PathBuf,
    /// Samplers (name, version) already probed with a second seed on this worker.
    probed: std::sync::Mutex<std::collections::BTreeSet<(String, String)>>,
    /// Digests of recent outputs with the seed that made them.
    recent: std::sync::Mutex<std::collections::VecDeque<([u8; 32], u64)>>,
}

/// Outputs remembered per worker for the seed check.
const RECENT: usize = 256;

/// Largest |energy| kept exactly: integers past 2^53 do not survive a float64 file.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

impl Registry {
    pub fn new(
        samplers: Vec<Sampler>,
        limits: Limits,
        work: PathBuf,
    ) -> Result<Registry, ExternalError> {
        let mut by_name = BTreeMap::new();
        for s in samplers {
            if by_name.contains_key(&s.name) {
                return Err(ExternalError::Twice(s.name));
            }
            by_name.insert(s.name.clone(), s);
        }
        Ok(Registry {
            samplers: by_name,
            limits,
            work,
            probed: Default::default(),
            recent: Default::default(),
        })
    }

    pub fn samplers(&self) -> impl Iterator<Item = &Sampler> {
        self.samplers.values()
    }

    /// What this worker advertises: one capability per sampler.
    pub fn capabilities(&self) -> Vec<Capability> {
        self.samplers
            .values()
            .map(|s| Capability {
                kind: "sampler".into(),
                name: s.name.clone(),
                version: s.version.clone(),
            })
            .collect()
    }

    /// Runs the task's program once per replica and returns their configurations, checked:
    /// the declared type and shape, integer energies, and a seed that matters — the first run
    /// of each sampler version on this worker is repeated with another seed, and every output
    /// is compared with the recent ones, so a program that ignores its seed fails its task.
    pub fn sample(&self, task: &Task, seed: u64) -> Result<Vec<Replica>, ExternalError> {
        let Some(sampling) = task.external.as_deref() else {
            return Err(ExternalError::Unknown(String::new()));
        };
        let sampler = self
            .samplers
            .get(&sampling.sampler)
            .ok_or_else(|| ExternalError::Unknown(sampling.sampler.clone()))?;
        if sampler.version != sampling.version {
            return Err(ExternalError::Version {
                name: sampler.name.clone(),
                has: sampler.version.clone(),
                wants: sampling.version.clone(),
            });
        }
        let (kind, configuration) = if task.model == rgsweep_physics::ModelKind::Dimer2d {
            (Configuration::Bonds, "dimers")
        } else if task.q == 2 {
            (Configuration::Ising, "ising")
        } else {
            (Configuration::Potts { q: task.q }, "potts")
        };
        let mut out = Vec::with_capacity(task.replicas as usize);
        for r in task.first_replica..task.first_replica + task.replicas {
            let request = Request {
                sampler: sampler.name.clone(),
                configuration: configuration.into(),
                parameters: sampling.parameters_at(task.temperature),
                size: task.size,
                dim: task.model.dim(),
                replica: r,
                count: task.monte_carlo.measurements as usize,
                seed: task.program_seed(seed, r),
                output_dir: PathBuf::new(),
            };
            let output = run(sampler, &request, kind, &self.limits, &self.work)?;
            let digest = digest(&output);
            self.check_seed(sampler, &request, kind, digest)?;
            out.push(replica(&sampler.name, output, kind, task.size)?);
        }
        Ok(out)
    }

    fn check_seed(
        &self,
        sampler: &Sampler,
        request: &Request,
        kind: Configuration,
        digest: [u8; 32],
    ) -> Result<(), ExternalError> {
        let ignored = |other: u64| ExternalError::SeedIgnored {
            name: sampler.name.clone(),
            first: other,
            second: request.seed,
        };
        {
            let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, other)) = recent
                .iter()
                .find(|(d, s)| *d == digest && *s != request.seed)
            {
                return Err(ignored(*other));
            }
        }
        let first = self
            .probed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((sampler.name.clone(), sampler.version.clone()));
        if first {
            let mut probe = request.clone();
            probe.seed = request.seed ^ 0x9e37_79b9_7f4a_7c15;
            let other = run(sampler, &probe, kind, &self.limits, &self.work)?;
            if self::digest(&other) == digest {
                return Err(ExternalError::SeedIgnored {
                    name: sampler.name.clone(),
                    first: request.seed,
                    second: probe.seed,
                });
            }
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= RECENT {
            recent.pop_front();
        }
        recent.push_back((digest, request.seed));
        Ok(())
    }
}

fn digest(o: &Output) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for c in &o.configurations {
        h.update(c.iter().map(|&v| v as u8).collect::<Vec<u8>>());
    }
    for e in o.energy.iter().flatten() {
        h.update(e.to_le_bytes());
    }
    h.finalize().into()
}

/// One run's output as the physics crate takes it: site states and integer energies.
fn replica(
    name: &str,
    o: Output,
    kind: Configuration,
    size: usize,
) -> Result<Replica, ExternalError> {
    let malformed = |file: &'static str, why: String| ExternalError::Malformed {
        name: name.into(),
        file,
        why,
    };
    let Some(energy) = o.energy else {
        return Err(malformed(
            "energy.npy",
            "missing: finite-size scaling reweights with the program's energies; write one energy per configuration".into(),
        ));
    };
    let energy = energy
        .iter()
        .map(|&e| {
            (e.fract() == 0.0 && e.abs() < MAX_EXACT)
                .then_some(e as i64)
                .ok_or_else(|| {
                    malformed(
                        "energy.npy",
                        format!(
                            "{e} is not an integer: energies are integers in units where the weight is exp(-E/T) (for Ising, E = -sum of s_i s_j over bonds)"
                        ),
                    )
                })
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let q = match kind {
        Configuration::Potts { q } => q,
        _ => 2,
    };
    let states = o
        .configurations
        .iter()
        .enumerate()
        .map(|(k, c)| match kind {
            Configuration::Bonds => {
                let bonds: Vec<u8> = c.iter().map(|&v| v as u8).collect();
                rgsweep_physics::model::dimer2d::Dimers::from_bonds(size, bonds.clone(), 1.0)
                    .map(|_| bonds)
                    .ok_or_else(|| {
                        malformed(
                            "configurations.npy",
                            format!("configuration {k} is not a close-packed covering: every site needs exactly one dimer"),
                        )
                    })
            }
            _ => rgsweep_physics::model::external::states(c, q)
                .ok_or_else(|| malformed("configurations.npy", "a value outside the type".into())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Replica { states, energy })
}
