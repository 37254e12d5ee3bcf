//! rgsweep's command line: a thin shell over the `physics` and `coordinator` crates.
//!
//! Conventions: results go to stdout (`--json`: exactly one JSON value), logs and progress to
//! stderr; exit code 0 on success, 1 on failure (including a bad sweep file), 2 on a usage error.

mod backup_cmd;
mod bench;
mod bench_coordinator;
mod bench_dimers;
mod bench_external;
mod bench_mazes;
mod bench_percolation;
mod client_cmd;
mod lab_cmd;
mod mazes_cmd;
mod prx1d_cmd;
mod rbm_cmd;
mod remote;
mod rsmi_cmd;
mod samplers_cmd;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rgsweep_physics::sweep::{FssSettings, MonteCarlo};
use rgsweep_physics::task::point_data;
use rgsweep_physics::{Algorithm, ModelKind, Sweep, Task};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rgsweep",
    version,
    about = "Statistical-physics parameter sweeps: Monte Carlo, finite-size scaling, RSMI, RG flows"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate one (model, L, T) point and print every observable with its error and τ_int.
    Simulate(SimulateArgs),
    /// Run a whole sweep file on this machine (embedded coordinator and workers) and write its
    /// outputs; rerunning an interrupted run resumes it.
    Run(RunArgs),
    /// Serve sweeps to workers: gRPC coordinator with a durable SQLite store.
    Coordinator(Box<remote::CoordinatorArgs>),
    /// Pull tasks from a coordinator and run them (SIGTERM: finish running tasks, then exit).
    Worker(remote::WorkerArgs),
    /// Learn the RSMI coarse-graining of one point and report I(H:E) and the filters.
    Rsmi(rsmi_cmd::Args),
    /// The exact 1D laboratory of optimal RG: for the Ising chain and two-spin rules (decimation,
    /// majority, an RBM grid over λ₁, λ₂), the information kept, I(H:E) against I(V:E), and the
    /// renormalised couplings, rangeness and m-bodyness (PRX 10, 011037).
    Prx1d(prx1d_cmd::Args),
    /// Stacked restricted Boltzmann machines (CD-k or PCD, L1) on one 2D Ising point — the
    /// Mehta–Schwab network by default — with each layer's held-out pseudo-likelihood, speed
    /// and receptive-field size.
    Rbm(rbm_cmd::Args),
    /// Maze-testing samples (Ringel & de Bem): critical-percolation mazes of one side with their
    /// labels and breadth-first depths, the hand-set network's accuracy, one training run of the
    /// spreading network (`--steps`); `--out` writes them as .npy.
    Mazes(mazes_cmd::Args),
    /// Submit a sweep file to a coordinator; prints the sweep id.
    Submit(client_cmd::SubmitArgs),
    /// Progress of sweeps: task counts, throughput, ETA, T_c so far.
    Status(client_cmd::StatusArgs),
    /// Fetch a sweep's output files (an unfinished sweep's finished points, marked partial).
    Results(client_cmd::ResultsArgs),
    /// Take a sweep's unfinished tasks off the queue.
    Cancel(client_cmd::CancelArgs),
    /// Queue a sweep's failed and cancelled tasks again.
    Retry(client_cmd::RetryArgs),
    /// Copy the coordinator's database while it runs (a consistent snapshot) into a new file.
    Backup(backup_cmd::BackupArgs),
    /// Control the coordinator's automatic worker allocation (`coordinator --slurm`).
    #[command(subcommand)]
    Alloc(client_cmd::AllocCommand),
    /// Regenerate DIR/report.html from the output files in DIR alone.
    Report(ReportArgs),
    /// Measure sampler throughput (ns per spin update) at each model's critical point, or the
    /// coordinator's (`bench coordinator`).
    Bench(bench::BenchArgs),
}

#[derive(clap::Args)]
struct ReportArgs {
    /// An output directory (observables.csv, summary.json, and rsmi.csv, filters.json, flows.csv,
    /// rg-filters.json if any).
    dir: PathBuf,
}

fn report(a: ReportArgs) -> Result<()> {
    let mut files = std::collections::BTreeMap::new();
    let lab = rgsweep_coordinator::report::LAB_INPUTS;
    for name in rgsweep_coordinator::report::INPUTS.iter().chain(&lab) {
        let path = a.dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                files.insert(name.to_string(), text);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    let report = rgsweep_coordinator::report::render(&files)
        .with_context(|| format!("cannot build a report from {}", a.dir.display()))?;
    let mut outputs = vec![("report.html".to_string(), report.html.into_bytes())];
    outputs.extend(report.figures);
    write_outputs(&a.dir, &outputs)?;
    println!("{}", a.dir.join("report.html").display());
    Ok(())
}

/// Writes output files into `dir`, and removes the report figures (`fig-*.png`) an earlier run
/// left there that these outputs do not have: figures are numbered by their place on the page,
/// so a stale one would stand under a wrong number.
pub(crate) fn write_outputs(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let writes_figures = files.iter().any(|(n, _)| n == "report.html");
    if writes_figures && let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("fig-")
                && name.ends_with(".png")
                && !files.iter().any(|(n, _)| *n == name)
            {
                std::fs::remove_file(e.path())
                    .with_context(|| format!("cannot remove {}", e.path().display()))?;
            }
        }
    }
    for (name, body) in files {
        let path = dir.join(name);
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ModelArg {
    Ising2d,
    Ising3d,
    Potts2d,
    Dimer2d,
}

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> Self {
        match m {
            ModelArg::Ising2d => ModelKind::Ising2d,
            ModelArg::Ising3d => ModelKind::Ising3d,
            ModelArg::Potts2d => ModelKind::Potts2d,
            ModelArg::Dimer2d => ModelKind::Dimer2d,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum AlgorithmArg {
    Metropolis,
    Heatbath,
    Wolff,
    SwendsenWang,
    Multispin,
    Worm,
    WormMinimalBounce,
    Plaquette,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Metropolis => Algorithm::Metropolis,
            AlgorithmArg::Heatbath => Algorithm::Heatbath,
            AlgorithmArg::Wolff => Algorithm::Wolff,
            AlgorithmArg::SwendsenWang => Algorithm::SwendsenWang,
            AlgorithmArg::Multispin => Algorithm::Multispin,
            AlgorithmArg::Worm => Algorithm::Worm,
            AlgorithmArg::WormMinimalBounce => Algorithm::WormMinimalBounce,
            AlgorithmArg::Plaquette => Algorithm::Plaquette,
        }
    }
}

pub(crate) fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("must be a positive number, got {v}")),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(clap::Args)]
struct SimulateArgs {
    #[arg(long, value_enum)]
    model: ModelArg,
    /// Potts states (potts2d only), at least 2.
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=64))]
    q: Option<u8>,
    /// Linear lattice size L.
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=8192))]
    size: u64,
    #[arg(long, value_parser = positive_f64)]
    temperature: f64,
    /// Default: wolff for spin models, worm for dimer2d.
    #[arg(long, value_enum)]
    algorithm: Option<AlgorithmArg>,
    /// Measured sweeps (one measurement after each).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(16..=1_000_000_000))]
    sweeps: u64,
    /// Sweeps discarded before measuring.
    #[arg(long, default_value_t = 1_000)]
    thermalize: u64,
    /// Independent replicas (default 1; 64 for multispin).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    replicas: Option<u32>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The sweep file (TOML).
    file: PathBuf,
    /// Output directory (default results/<name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// In-process workers, each talking to the embedded coordinator over loopback gRPC.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    workers: u64,
    /// Tasks at once across all workers (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    threads: Option<u64>,
    /// Run on a plain thread pool instead (no coordinator, no database, not resumable).
    #[arg(long)]
    thread_pool: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// External samplers for the in-process workers (model = "external" sweeps).
    #[command(flatten)]
    samplers: samplers_cmd::SamplerArgs,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RGSWEEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Simulate(a) => simulate(a),
        Command::Run(a) => run(a),
        Command::Bench(a) => bench::run(a),
        Command::Rsmi(a) => rsmi_cmd::run(a),
        Command::Prx1d(a) => prx1d_cmd::run(a),
        Command::Rbm(a) => rbm_cmd::run(a),
        Command::Mazes(a) => mazes_cmd::run(a),
        Command::Coordinator(a) => remote::coordinator(*a),
        Command::Worker(a) => remote::worker(a),
        Command::Submit(a) => client_cmd::submit(a),
        Command::Status(a) => client_cmd::status(a),
        Command::Results(a) => client_cmd::results(a),
        Command::Retry(a) => client_cmd::retry(a),
        Command::Backup(a) => backup_cmd::backup(a),
        Command::Cancel(a) => client_cmd::cancel(a),
        Command::Alloc(c) => client_cmd::alloc(c),
        Command::Report(a) => report(a),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the outermost context and its causes, joined.
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn simulate(a: SimulateArgs) -> Result<()> {
    let model = ModelKind::from(a.model);
    let algorithm = a.algorithm.map_or(
        if model.is_spin() {
            Algorithm::Wolff
        } else {
            Algorithm::Worm
        },
        Algorithm::from,
    );
    let q = match (model, a.q) {
        (ModelKind::Potts2d, Some(q)) => q,
        (ModelKind::Potts2d, None) => bail!("--q is required for potts2d (q >= 2)"),
        (m, Some(_)) => bail!("--q applies to potts2d only, not to {m}"),
        (_, None) => 2,
    };
    if algorithm == Algorithm::Multispin && !model.is_ising() {
        bail!("--algorithm multispin is bit-packed Ising and cannot run {model}");
    }
    if !algorithm.runs(model) {
        bail!(
            "--algorithm {algorithm} cannot sample {model}; use {}",
            Algorithm::names_for(model)
        );
    }
    let size = a.size as usize;
    if let Some(why) = model.size_error(size) {
        bail!("--size: {why}");
    }
    if model.dim() == 3 && size > 406 {
        bail!("--size {size} is too large for a 3D lattice (at most 406)");
    }
    let replicas = a.replicas.unwrap_or(if algorithm == Algorithm::Multispin {
        64
    } else {
        1
    });
    let mc = MonteCarlo {
        algorithm,
        thermalize: a.thermalize,
        measurements: a.sweeps,
        interval: 1,
    };
    let sweep = Sweep {
        name: "simulate".into(),
        seed: a.seed,
        model,
        q: (model == ModelKind::Potts2d).then_some(q),
        sizes: vec![size],
        temperatures: vec![a.temperature],
        replicas,
        monte_carlo: mc,
        fss: FssSettings::default(),
        rsmi: None,
        save_samples: 0,
        rg: None,
        task_seconds: None,
        interaction: (!model.is_spin()).then_some(-1),
        probabilities: Vec::new(),
        mazes: None,
        block_runs: Vec::new(),
        external: None,
    };
    let tasks = sweep.tasks();
    let started = std::time::Instant::now();
    let results = rgsweep_coordinator::local::run(&tasks, a.seed, available_threads(), &|_| {});
    let seconds = started.elapsed().as_secs_f64();
    let refs: Vec<_> = results.iter().collect();
    let point = point_data(&refs).context("no result")?;
    if !model.is_spin() {
        let o = rgsweep_physics::model::dimer2d::analysis::observables(&point)
            .context("the results lack the dimer series")?;
        if a.json {
            let v = serde_json::json!({
                "model": model, "size": size, "temperature": a.temperature,
                "algorithm": algorithm, "replicas": replicas, "seed": a.seed, "seconds": seconds,
                "observables": o,
            });
            println!("{}", serde_json::to_string(&v)?);
        } else {
            println!(
                "{model} L={size} T={} {algorithm}: {} samples from {replicas} replica(s), {seconds:.2} s",
                a.temperature, o.samples
            );
            for (name, e) in [
                ("energy per site", o.energy),
                ("specific heat", o.specific_heat),
                ("<|M_col|^2>", o.columnar_m2),
                ("<W^2>", o.winding2),
            ] {
                println!("  {name:<16} {:>14.8} ± {:.8}", e.value, e.error);
            }
            println!("  tau_int(energy)  {:>14.3} sweeps", o.tau_int_energy);
            println!("  tau_int(M^2)     {:>14.3} sweeps", o.tau_int_m2);
        }
        return Ok(());
    }
    let o = point.observables();
    if a.json {
        let v = serde_json::json!({
            "model": model, "q": sweep.q, "size": size, "temperature": a.temperature,
            "algorithm": algorithm, "replicas": replicas, "seed": a.seed, "seconds": seconds,
            "observables": o,
        });
        println!("{}", serde_json::to_string(&v)?);
    } else {
        println!(
            "{model} L={size} T={} {algorithm}: {} samples from {replicas} replica(s), {seconds:.2} s",
            a.temperature, o.samples
        );
        for (name, e) in [
            ("energy per site", o.energy),
            ("<|m|>", o.abs_m),
            ("<m^2>", o.m2),
            ("Binder U4", o.binder),
            ("susceptibility", o.susceptibility),
            ("specific heat", o.specific_heat),
        ] {
            println!("  {name:<16} {:>14.8} ± {:.8}", e.value, e.error);
        }
        println!("  tau_int(energy)  {:>14.3} sweeps", o.tau_int_energy);
        println!("  tau_int(m^2)     {:>14.3} sweeps", o.tau_int_m2);
        println!("  jackknife blocks {:>14}", o.blocks);
    }
    Ok(())
}

pub(crate) fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn run(a: RunArgs) -> Result<()> {
    let file = a.file.display().to_string();
    let text = std::fs::read_to_string(&a.file).with_context(|| format!("cannot read {file}"))?;
    let threads = a.threads.map_or_else(available_threads, |t| t as usize);
    if rgsweep_physics::sweep::lab::Lab::is_lab(&text) {
        return lab_cmd::run(&text, &file, a.out, threads, a.json);
    }
    // A bad file is refused before anything is created.
    let sweep = Sweep::parse(&text, &file)?;
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("results").join(&sweep.name));
    if a.thread_pool {
        if sweep.external.is_some() {
            bail!("{file}: an external sampler runs through workers: drop --thread-pool");
        }
        return run_thread_pool(&sweep, &out, threads, a.json);
    }
    let registry = std::sync::Arc::new(a.samplers.registry()?);
    let workers = a.workers as usize;
    let slots = threads.div_ceil(workers).max(1);
    let (_, seconds, tasks) = remote::run_embedded(&a.file, &out, workers, slots, registry)?;
    let text = std::fs::read_to_string(out.join("summary.json"))
        .context("the run wrote no summary.json")?;
    if a.json {
        print!("{text}");
    } else {
        let summary: SummaryFile = serde_json::from_str(&text).context("summary.json")?;
        print_summary(&sweep.name, summary.fss.as_ref(), &out, seconds, tasks);
        print_flows(summary.rg.as_ref());
        print_dimers(summary.dimers.as_ref());
    }
    Ok(())
}

/// The part of `summary.json` the text report prints.
#[derive(serde::Deserialize)]
struct SummaryFile {
    #[serde(default)]
    fss: Option<rgsweep_physics::fss::FssSummary>,
    #[serde(default)]
    rg: Option<serde_json::Value>,
    #[serde(default)]
    dimers: Option<serde_json::Value>,
}

/// A dimer sweep's α_d(T) per size pair, T_KT and notes (`summary.json`'s `dimers` block).
fn print_dimers(d: Option<&serde_json::Value>) {
    let Some(d) = d.filter(|d| d.is_object()) else {
        return;
    };
    let show = |e: &serde_json::Value| match (e["value"].as_f64(), e["error"].as_f64()) {
        (Some(v), Some(err)) => format!("{v:.4} ± {err:.4}"),
        _ => "n/a".to_string(),
    };
    for e in d["alpha_d"].as_array().into_iter().flatten() {
        println!(
            "  alpha_d L={}/{} T={}: {}",
            e["size"],
            e["against"],
            e["temperature"],
            show(&e["alpha_d"])
        );
    }
    println!("  T_KT (alpha_d = 1/4)  {}", show(&d["t_kt"]));
    for n in d["notes"].as_array().into_iter().flatten() {
        println!("  note: {}", n.as_str().unwrap_or_default());
    }
}

/// Each map's T_c, ν and exponents from the flow (`summary.json`'s `rg` block), or why there
/// are none.
fn print_flows(rg: Option<&serde_json::Value>) {
    let Some(maps) = rg.and_then(|v| v.as_object()) else {
        return;
    };
    let show = |e: &serde_json::Value| match (e["value"].as_f64(), e["error"].as_f64()) {
        (Some(v), Some(err)) => format!("{v:.5} ± {err:.5}"),
        _ => "n/a".to_string(),
    };
    for (map, b) in maps {
        if b["tc"]["value"].is_null() {
            println!(
                "  {map} flow: no trustworthy crossing of the couplings (see summary.json notes)"
            );
            continue;
        }
        println!(
            "  {map} flow: T_c = {}, nu = {} (linearised {}), y_t = {}, y_h = {}",
            show(&b["tc"]),
            show(&b["nu"]),
            show(&b["nu_linearised"]),
            show(&b["y_t"]),
            show(&b["y_h"])
        );
    }
}

/// A progress bar over a sweep's cost, in thousandths.
pub(crate) fn sweep_progress() -> ProgressBar {
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {percent}% (eta {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn run_thread_pool(sweep: &Sweep, out: &std::path::Path, threads: usize, json: bool) -> Result<()> {
    let tasks: Vec<Task> = sweep.tasks();
    let total_cost: f64 = tasks.iter().map(Task::cost).sum();
    tracing::info!(sweep = %sweep.name, tasks = tasks.len(), threads, out = %out.display(), "running sweep");
    let bar = sweep_progress();
    bar.set_message(format!("{} tasks", tasks.len()));
    let done_cost = std::sync::Mutex::new(0.0);
    let started = std::time::Instant::now();
    let results = rgsweep_coordinator::local::run(&tasks, sweep.seed, threads, &|t: &Task| {
        if let Ok(mut d) = done_cost.lock() {
            *d += t.cost();
            bar.set_position((*d / total_cost * 1000.0) as u64);
        }
    });
    bar.finish_and_clear();
    if results.len() != tasks.len() {
        bail!(
            "{} of {} tasks failed",
            tasks.len() - results.len(),
            tasks.len()
        );
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "all tasks done; aggregating"
    );
    let outputs = rgsweep_coordinator::aggregate(sweep, &results)?;
    write_outputs(out, &outputs.files())?;
    let seconds = started.elapsed().as_secs_f64();
    if json {
        println!("{}", serde_json::to_string(&outputs.summary)?);
    } else {
        print_summary(
            &sweep.name,
            outputs.summary.fss.as_ref(),
            out,
            seconds,
            tasks.len(),
        );
        let rg = serde_json::to_value(&outputs.summary.rg).ok();
        print_flows(rg.as_ref());
        let dimers = serde_json::to_value(&outputs.summary.dimers).ok();
        print_dimers(dimers.as_ref());
    }
    Ok(())
}

fn print_summary(
    name: &str,
    f: Option<&rgsweep_physics::fss::FssSummary>,
    out: &std::path::Path,
    seconds: f64,
    tasks: usize,
) {
    println!(
        "sweep {name}: {tasks} tasks in {seconds:.1} s -> {}",
        out.display()
    );
    let Some(f) = f else {
        return;
    };
    for c in &f.crossings {
        println!(
            "  Binder crossing L={}/{}: T* = {:.5} ± {:.5}, U4* = {:.4} ± {:.4}",
            c.sizes[0],
            c.sizes[1],
            c.temperature.value,
            c.temperature.error,
            c.binder.value,
            c.binder.error
        );
    }
    for (name, e) in [
        ("T_c", f.tc),
        ("nu (Binder slope)", f.nu),
        ("nu (d ln|m|/dbeta)", f.nu_from_log_m),
        ("gamma/nu", f.gamma_over_nu),
        ("beta/nu", f.beta_over_nu),
    ] {
        match e {
            Some(e) => println!(
                "  {name:<20} {:.5} ± {:.5}{}",
                e.value,
                e.error,
                e.chi2_per_dof
                    .map(|c| format!("  (chi2/dof {c:.2})"))
                    .unwrap_or_default()
            ),
            None => println!("  {name:<20} n/a"),
        }
    }
    for n in &f.notes {
        println!("  note: {n}");
    }
}
