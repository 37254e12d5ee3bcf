//! `rgsweep bench external`: what the external-sampler protocol costs a task, and a registered
//! sampler's speed beside the built-in one.
//!
//! Overhead: a trivial program (`bench/trivial_sampler.py`) run through the worker's registry —
//! request, scratch directory, process group, supervision, .npy reading and every check — against
//! the same program spawned bare with the same request, in one run; the difference is what the
//! protocol adds to each task. Throughput: a registered Ising sampler (`--sampler`, such as
//! `examples/samplers/ising_numpy.py`) against the built-in Metropolis on the same lattice, in
//! single-spin updates per second.

use anyhow::{Context, Result, bail};
use rgsweep_physics::Sweep;
use rgsweep_worker::external::{self, Limits, Registry, Request, Sampler};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The trivial sampler timed for the protocol's overhead.
    #[arg(long, default_value = "bench/trivial_sampler.py")]
    trivial: PathBuf,
    /// A registered Ising sampler to set beside the built-in Metropolis, as NAME=PROGRAM (it
    /// reads T, thermalize and interval, as the example does).
    #[arg(long, value_name = "NAME=PROGRAM")]
    sampler: Option<String>,
    /// Lattice side of the throughput comparison.
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Configurations (one sweep apart) of the throughput comparison.
    #[arg(long, default_value_t = 2000)]
    configurations: usize,
    /// Timed runs of the trivial sampler, each way.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Overhead {
    runs: usize,
    /// Median milliseconds of one run through the registry, and of the bare spawn.
    registry_ms: f64,
    bare_ms: f64,
    overhead_ms: f64,
}

#[derive(Serialize)]
struct Throughput {
    sampler: String,
    size: usize,
    configurations: usize,
    /// ns per single-spin update, and the external sampler's over the built-in's.
    external_ns: f64,
    built_in_ns: f64,
    external_over_built_in: f64,
}

#[derive(Serialize)]
struct Report {
    overhead: Overhead,
    #[serde(skip_serializing_if = "Option::is_none")]
    throughput: Option<Throughput>,
}

/// The first task of a one-point external sweep through `sampler`.
fn task(sampler: &Sampler, size: usize, count: usize) -> Result<rgsweep_physics::Task> {
    let text = format!(
        "name = \"bench\"\nseed = 1\nmodel = \"external\"\nsampler = \"{}\"\nsampler_version = {}\nconfiguration = \"ising\"\nsizes = [{size}]\nconfigurations = {count}\n[parameters]\nT = [2.269185]\nthermalize = 0\ninterval = 1\n",
        sampler.name,
        toml::Value::String(sampler.version.clone())
    );
    let sweep = Sweep::parse(&text, "bench")?;
    sweep.tasks().pop().context("one task")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn registry(sampler: Sampler) -> Result<Registry> {
    let limits = Limits {
        timeout: Duration::from_secs(600),
        ..Limits::default()
    };
    Ok(Registry::new(vec![sampler], limits, std::env::temp_dir())?)
}

fn overhead(program: &std::path::Path, runs: usize) -> Result<Overhead> {
    let sampler = Sampler::register("trivial", program)?;
    let t = task(&sampler, 8, 16)?;
    let reg = registry(sampler.clone())?;
    // The first run of a sampler on a worker is repeated with a second seed (the seed check):
    // a one-time cost, taken before timing.
    reg.sample(&t, 1)?;
    let mut through = Vec::with_capacity(runs);
    for k in 0..runs {
        let started = Instant::now();
        reg.sample(&t, 2 + k as u64)?;
        through.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let dir = std::env::temp_dir().join(format!("rgsweep-bench-external-{}", std::process::id()));
    let mut bare = Vec::with_capacity(runs);
    for k in 0..runs {
        std::fs::create_dir_all(&dir)?;
        let request = Request {
            sampler: "trivial".into(),
            configuration: "ising".into(),
            parameters: t
                .external
                .as_ref()
                .map(|e| e.parameters_at(t.temperature))
                .unwrap_or_default(),
            size: t.size,
            dim: 2,
            replica: 0,
            count: 16,
            seed: 2 + k as u64,
            output_dir: dir.clone(),
        };
        let json = serde_json::to_vec(&request)?;
        let started = Instant::now();
        let mut child = std::process::Command::new(&sampler.program)
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin.write_all(&json)?;
        }
        if !child.wait()?.success() {
            bail!("the trivial sampler failed");
        }
        bare.push(started.elapsed().as_secs_f64() * 1e3);
        std::fs::remove_dir_all(&dir)?;
    }
    let (registry_ms, bare_ms) = (median(through), median(bare));
    Ok(Overhead {
        runs,
        registry_ms,
        bare_ms,
        overhead_ms: registry_ms - bare_ms,
    })
}

fn throughput(flag: &str, size: usize, count: usize) -> Result<Throughput> {
    let (name, program) = external::parse_flag(flag)?;
    let sampler = Sampler::register(&name, &program)?;
    let reg = registry(sampler.clone())?;
    reg.sample(&task(&sampler, size, 16)?, 1)?;
    let t = task(&sampler, size, count)?;
    let started = Instant::now();
    reg.sample(&t, 2)?;
    let external_s = started.elapsed().as_secs_f64();
    let mut built_in = t.clone();
    built_in.external = None;
    built_in.monte_carlo.algorithm = rgsweep_physics::Algorithm::Metropolis;
    let started = Instant::now();
    let r = built_in.run(2);
    let built_in_s = started.elapsed().as_secs_f64();
    if r.replicas.first().map(|s| s.energy.len()) != Some(count) {
        bail!("the built-in run measured nothing");
    }
    let updates = (size * size * count) as f64;
    let (external_ns, built_in_ns) = (external_s / updates * 1e9, built_in_s / updates * 1e9);
    Ok(Throughput {
        sampler: format!("{} ({})", sampler.name, sampler.version),
        size,
        configurations: count,
        external_ns,
        built_in_ns,
        external_over_built_in: external_ns / built_in_ns,
    })
}

pub(crate) fn run(a: Args) -> Result<()> {
    if a.runs < 3 || a.size < 4 || !a.size.is_multiple_of(2) || a.configurations < 16 {
        bail!("--runs >= 3, an even --size >= 4 and --configurations >= 16, please");
    }
    let report = Report {
        overhead: overhead(&a.trivial, a.runs)?,
        throughput: a
            .sampler
            .as_deref()
            .map(|s| throughput(s, a.size, a.configurations))
            .transpose()?,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let o = &report.overhead;
    println!(
        "protocol: {:.2} ms a run through the registry, {:.2} ms spawned bare: {:.2} ms overhead (median of {})",
        o.registry_ms, o.bare_ms, o.overhead_ms, o.runs
    );
    if let Some(t) = &report.throughput {
        println!(
            "{} at L = {}, {} configurations: {:.1} ns per spin update, built-in Metropolis {:.2}: {:.0}x slower",
            t.sampler,
            t.size,
            t.configurations,
            t.external_ns,
            t.built_in_ns,
            t.external_over_built_in
        );
    }
    Ok(())
}
