//! Registered external samplers (issue 17, first part): programs a worker's operator names on
//! the worker's command line, never a sweep file, run under the protocol below with limits, so
//! that a misbehaving program fails its task and leaves the worker healthy.
//!
//! The protocol: the worker starts the program with no arguments in a fresh directory of its
//! own, writes one JSON object ([`Request`]) on its standard input and closes it. The program
//! writes `configurations.npy` into `output_dir` — `count` configurations of the declared
//! shape, int8/uint8/int32/int64 values — and may write `energy.npy` (float64, one value per
//! configuration); anything it prints is kept only as a short tail for the error message. A
//! non-zero exit, a time-out, more output than allowed, a missing or malformed file or a value
//! the configuration type does not allow fails the run with a reason naming it; the
//! directory is removed whatever happened.
//!
//! Why a process group: a program that starts others (a shell script, Julia, MPI) is killed
//! whole on a time-out, so nothing keeps its pipes open or its files growing.

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
fn supervise(
    mut cmd: Command,
    input: Option<(&[u8], &Path)>,
    limits: &Limits,
) -> Result<Done, Stop> {
    use std::os::unix::process::CommandExt;
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
    let mut polls = 0u64;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                kill();
                let _ = child.wait();
                return Err(Stop::Io(e.to_string()));
            }
        }
        let over = |extra: u64| printed.load(Ordering::Relaxed) + extra > limits.max_output;
        // The directory is listed every 20th poll (10 times a second): cheap, and a program
        // writing a gigabyte a second overshoots the limit by at most a tenth of that.
        polls += 1;
        let written = if polls.is_multiple_of(20) {
            watch.map_or(0, dir_bytes)
        } else {
            0
        };
        if started.elapsed() > limits.timeout || over(written) {
            let stop = if over(written) {
                Stop::TooMuch
            } else {
                Stop::Timeout
            };
            kill();
            let _ = child.wait();
            return Err(stop);
        }
        std::thread::sleep(Duration::from_millis(5));
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
    let want: Vec<usize> = std::iter::once(request.count)
        .chain(std::iter::repeat_n(request.size, request.dim))
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
            let e = ndarray::Array1::<f64>::read_npy(&bytes[..])
                .map_err(|e| malformed("energy.npy", format!("not a float64 vector: {e}")))?;
            if e.len() != request.count || e.iter().any(|x| !x.is_finite()) {
                return Err(malformed(
                    "energy.npy",
                    format!("{} values, expected {} finite ones", e.len(), request.count),
                ));
            }
            Some(e.to_vec())
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
