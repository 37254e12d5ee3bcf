//! The distributed commands: `coordinator`, `worker`, and `run` on the embedded coordinator with
//! in-process workers over loopback gRPC (the client commands are `client_cmd`).

use crate::client_cmd::{fetch_results, read_sweep};
use anyhow::{Context, Result, bail};
use rgsweep_coordinator::alloc::AllocPolicy;
use rgsweep_coordinator::queue::Policy;
use rgsweep_coordinator::slurm::SlurmConfig;
use rgsweep_coordinator::{Config, Coordinator, generate_token};
use rgsweep_proto::client::{self, Access, ClientClient};
use rgsweep_proto::v1;
use rgsweep_worker::Drain;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How to reach the coordinator: an access file, or an address and a token.
#[derive(clap::Args, Clone)]
pub(crate) struct Connect {
    /// Access file written by the coordinator (address and token).
    #[arg(long, value_name = "FILE")]
    access: Option<PathBuf>,
    /// Coordinator URL, e.g. http://10.0.0.5:7878 (instead of --access).
    #[arg(long, value_name = "URL")]
    coordinator: Option<String>,
    /// Bearer token (with --coordinator).
    #[arg(long, env = "RGSWEEP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// CA certificate (PEM) to verify a TLS coordinator.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
}

impl Connect {
    fn access(&self) -> Result<Access> {
        match (&self.access, &self.coordinator) {
            (Some(path), None) => Ok(Access::read(path)?),
            (None, Some(address)) => Ok(Access {
                address: address.clone(),
                token: self.token.clone().context(
                    "--coordinator needs --token (or RGSWEEP_TOKEN), or use --access FILE",
                )?,
                worker_token: None,
            }),
            (Some(_), Some(_)) => bail!("give either --access or --coordinator, not both"),
            (None, None) => {
                bail!("say where the coordinator is: --access FILE or --coordinator URL")
            }
        }
    }

    fn ca(&self) -> Result<Option<Vec<u8>>> {
        self.tls_ca
            .as_ref()
            .map(|p| std::fs::read(p).with_context(|| format!("cannot read {}", p.display())))
            .transpose()
    }

    pub(crate) fn client(&self) -> Result<ClientClient> {
        let access = self.access()?;
        let channel = client::channel(&access.address, self.ca()?.as_deref())?;
        Ok(client::client_client(channel, &access.token)?)
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A gRPC failure as a one-line error naming what was refused.
pub(crate) fn rpc_error(what: &str, s: tonic::Status) -> anyhow::Error {
    match s.code() {
        tonic::Code::Unavailable => {
            anyhow::anyhow!("{what}: coordinator unavailable: {}", s.message())
        }
        code => anyhow::anyhow!("{what}: {} ({code:?})", s.message()),
    }
}

#[derive(clap::Args)]
pub(crate) struct CoordinatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    /// SQLite database holding sweeps, tasks and results (created if missing).
    #[arg(long, default_value = "rgsweep.db")]
    db: PathBuf,
    /// Access file to write (address and token, mode 0600). Default: <db>.access.json.
    #[arg(long, value_name = "FILE")]
    access: Option<PathBuf>,
    /// Address clients should use, if not the listen address (e.g. behind NAT).
    #[arg(long, value_name = "URL")]
    advertise: Option<String>,
    /// Token for clients (and workers unless --worker-token); generated if absent.
    #[arg(long, env = "RGSWEEP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Separate token for workers.
    #[arg(long, env = "RGSWEEP_WORKER_TOKEN", hide_env_values = true)]
    worker_token: Option<String>,
    /// A lease dies this many seconds after its worker's last heartbeat.
    #[arg(long, default_value_t = 30.0)]
    lease_secs: f64,
    /// After a restart, leases in flight wait this long for their workers (default: one lease).
    #[arg(long)]
    grace_secs: Option<f64>,
    /// Errors a task may report before it is marked failed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    max_attempts: u32,
    /// Workers a task may lose (killed, preempted, unreachable past its lease) before it is
    /// marked failed; a lost worker is not an error of the task.
    #[arg(long, default_value_t = rgsweep_coordinator::queue::DEFAULT_MAX_LOST,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_lost: u32,
    /// TLS certificate chain (PEM); with --tls-key, serve TLS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (no token: keep it cluster-internal).
    #[arg(long, value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    /// Serve KEDA's external-scaler gRPC interface on ADDR (queue depth → desired workers; no
    /// token, as KEDA sends none: keep it cluster-internal).
    #[arg(long, value_name = "ADDR")]
    keda: Option<std::net::SocketAddr>,
    /// Allocate workers from Slurm when open tasks need them: the sbatch arguments of each
    /// worker job, e.g. "--partition=debug --time=60 --cpus-per-task=4" (split on spaces). The
    /// jobs run `rgsweep worker --access <this access file>`, which must be readable on the
    /// compute nodes, and exit when idle.
    #[arg(long, value_name = "SBATCH_ARGS", allow_hyphen_values = true)]
    slurm: Option<String>,
    /// Most worker jobs alive at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    alloc_max_workers: u64,
    /// Most worker jobs waiting in Slurm's queue.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    alloc_backlog: u64,
    /// Tasks each allocated worker runs at once (match --cpus-per-task).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=4096))]
    alloc_slots: u64,
    /// Allocated workers exit after this many idle seconds.
    #[arg(long, default_value_t = 60.0)]
    alloc_idle_exit: f64,
    /// Consecutive failed submissions that pause allocation (reason shown by `status`).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    alloc_max_failures: u32,
    /// Copy the database into this directory every --backup-every seconds while running
    /// (online and consistent); best on other storage than --db, e.g. a shared file system.
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<PathBuf>,
    /// Seconds between backups (with --backup-dir).
    #[arg(long, default_value_t = 3600.0, requires = "backup_dir")]
    backup_every: f64,
    /// Backups kept in --backup-dir (the oldest are removed).
    #[arg(long, default_value_t = 24, requires = "backup_dir",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    backup_keep: u64,
    /// Time limit of each worker job in seconds (passed to sbatch as --time, rounded up to
    /// minutes): its worker takes only tasks expected to finish in time (the sweep's
    /// task_seconds) and drains before the limit.
    #[arg(long)]
    alloc_walltime: Option<f64>,
}

fn secs(v: f64, what: &str) -> Result<u64> {
    if !(v.is_finite() && v > 0.0 && v < 1e9) {
        bail!("{what} must be a positive number of seconds, got {v}");
    }
    Ok((v * 1e3).round().max(1.0) as u64)
}

pub(crate) fn coordinator(a: CoordinatorArgs) -> Result<()> {
    let lease_ms = secs(a.lease_secs, "--lease-secs")?;
    let grace_ms = match a.grace_secs {
        Some(g) => secs(g, "--grace-secs")?,
        None => lease_ms,
    };
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some((
            std::fs::read(c).with_context(|| format!("cannot read {}", c.display()))?,
            std::fs::read(k).with_context(|| format!("cannot read {}", k.display()))?,
        )),
        _ => None,
    };
    let access_path = a.access.clone().unwrap_or_else(|| {
        let mut p = a.db.clone().into_os_string();
        p.push(".access.json");
        PathBuf::from(p)
    });
    // A restarted coordinator keeps the token of its access file, so its workers, which
    // survive the restart, are still let in.
    let previous = Access::read(&access_path).ok();
    let token = match (a.token.clone(), &previous) {
        (Some(t), _) => t,
        (None, Some(p)) => p.token.clone(),
        (None, None) => generate_token().context("cannot generate a token")?,
    };
    let worker_token = a.worker_token.clone().unwrap_or_else(|| token.clone());
    let slurm = match &a.slurm {
        Some(args) => Some(slurm_config(&a, args, &access_path)?),
        None => None,
    };
    let backup = match &a.backup_dir {
        Some(dir) => Some(rgsweep_coordinator::backup::Periodic {
            dir: dir.clone(),
            every: Duration::from_millis(secs(a.backup_every, "--backup-every")?),
            keep: a.backup_keep as usize,
        }),
        None => None,
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let address = a.advertise.clone().unwrap_or_else(|| {
            let host = if addr.ip().is_unspecified() {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .map(|h| h.trim().to_string())
                    .unwrap_or_else(|_| "localhost".into())
            } else {
                addr.ip().to_string()
            };
            format!("{scheme}://{host}:{}", addr.port())
        });
        let mut coordinator = Coordinator::start(
            Config {
                db: a.db.clone(),
                policy: Policy {
                    lease_ms,
                    max_attempts: a.max_attempts,
                    max_lost: a.max_lost,
                },
                grace_ms,
                client_token: token.clone(),
                worker_token: worker_token.clone(),
                tls,
                metrics: a.metrics,
                keda: a.keda,
                slurm,
                backup,
            },
            listener,
        )
        .await
        .with_context(|| format!("cannot start the coordinator on {}", a.db.display()))?;
        Access {
            address: address.clone(),
            token,
            worker_token: a.worker_token.is_some().then_some(worker_token),
        }
        .write(&access_path)?;
        eprintln!(
            "coordinator on {address} (database {}, access file {})",
            a.db.display(),
            access_path.display()
        );
        if let Some(m) = coordinator.metrics_addr {
            eprintln!("metrics on http://{m}/metrics");
        }
        if let Some(k) = coordinator.keda_addr {
            eprintln!("KEDA external scaler on {k}");
        }
        let stop = coordinator.stopper();
        tokio::select! {
            r = coordinator.wait() => r.context("coordinator stopped")?,
            _ = terminated() => {
                tracing::info!("signal received; stopping");
                if let Some(s) = stop { let _ = s.send(()); }
                coordinator.wait().await.context("coordinator stopped")?;
            }
        }
        Ok(())
    })
}

/// The Slurm allocation of `rgsweep coordinator --slurm ARGS`.
fn slurm_config(
    a: &CoordinatorArgs,
    sbatch_args: &str,
    access: &std::path::Path,
) -> Result<(SlurmConfig, AllocPolicy)> {
    let absolute = |p: &std::path::Path| -> Result<PathBuf> {
        Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir()?.join(p)
        })
    };
    let access = absolute(access)?;
    let db = absolute(&a.db)?;
    let exe = std::env::current_exe().context("cannot find the rgsweep binary")?;
    let idle = secs(a.alloc_idle_exit, "--alloc-idle-exit")? as f64 / 1e3;
    // One name per database, so `squeue --name` lists this coordinator's jobs only.
    let name = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        db.hash(&mut h);
        format!("rgsweep-{:08x}", h.finish() as u32)
    };
    let mut sbatch: Vec<String> = sbatch_args.split_whitespace().map(String::from).collect();
    let mut walltime = Vec::new();
    if let Some(w) = a.alloc_walltime {
        let ms = secs(w, "--alloc-walltime")?;
        sbatch.push(format!("--time={}", ms.div_ceil(60_000)));
        walltime = vec!["--walltime".to_string(), (ms as f64 / 1e3).to_string()];
    }
    let mut config = SlurmConfig {
        sbatch_args: sbatch,
        worker: vec![
            exe.display().to_string(),
            "worker".into(),
            "--access".into(),
            access.display().to_string(),
            "--slots".into(),
            a.alloc_slots.to_string(),
            "--idle-exit".into(),
            idle.to_string(),
        ],
        job_name: name,
        log_dir: db
            .parent()
            .map_or_else(|| PathBuf::from("."), |d| d.to_path_buf())
            .join("slurm-logs"),
        poll_ms: 2_000,
    };
    config.worker.extend(walltime);
    let policy = AllocPolicy {
        max_workers: a.alloc_max_workers as usize,
        backlog: a.alloc_backlog as usize,
        slots: a.alloc_slots as usize,
        max_failures: a.alloc_max_failures,
        ..AllocPolicy::default()
    };
    Ok((config, policy))
}

/// Resolves at the first SIGTERM or SIGINT.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[derive(clap::Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    connect: Connect,
    /// Tasks run at once (default: all cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    slots: Option<u64>,
    /// Exit after this many seconds without work.
    #[arg(long)]
    idle_exit: Option<f64>,
    /// When draining, hand running tasks back after this many seconds instead of finishing them.
    #[arg(long)]
    drain_timeout: Option<f64>,
    /// Name in the coordinator's logs (default: host-pid-random).
    #[arg(long)]
    id: Option<String>,
    /// This worker's time limit in seconds (its scheduler job's): it takes only tasks expected
    /// to finish before it (per the sweep's task_seconds) and drains at the end.
    #[arg(long)]
    walltime: Option<f64>,
    #[command(flatten)]
    samplers: crate::samplers_cmd::SamplerArgs,
}

pub(crate) fn worker(a: WorkerArgs) -> Result<()> {
    let registry = a.samplers.registry()?;
    if a.samplers.listed(&registry) {
        return Ok(());
    }
    for s in registry.samplers() {
        tracing::info!(sampler = %s.name, version = %s.version, program = %s.program.display(), "sampler registered");
    }
    let registry = std::sync::Arc::new(registry);
    let rt = runtime()?;
    rt.block_on(async move {
        // Workers may start before the coordinator: wait for its access file to appear.
        if let Some(path) = &a.connect.access {
            let mut logged = false;
            while !path.exists() {
                if !logged {
                    eprintln!("waiting for access file {}", path.display());
                    logged = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = terminated() => return Ok(()),
                }
            }
        }
        let access = a.connect.access()?;
        let config = rgsweep_worker::Config {
            address: access.address.clone(),
            token: access.worker_token().to_string(),
            ca_pem: a.connect.ca()?,
            slots: a
                .slots
                .map_or_else(crate::available_threads, |s| s as usize),
            worker_id: a
                .id
                .clone()
                .unwrap_or_else(rgsweep_worker::default_worker_id),
            idle_exit: a
                .idle_exit
                .map(|s| secs(s, "--idle-exit"))
                .transpose()?
                .map(Duration::from_millis),
            drain_timeout: a
                .drain_timeout
                .map(|s| secs(s, "--drain-timeout"))
                .transpose()?
                .map(Duration::from_millis),
            walltime: a
                .walltime
                .map(|s| secs(s, "--walltime"))
                .transpose()?
                .map(Duration::from_millis),
            samplers: registry,
        };
        let (tx, rx) = tokio::sync::watch::channel(Drain::Run);
        // First signal: finish running tasks and leave. Second: hand them back and leave now.
        tokio::spawn(async move {
            terminated().await;
            let _ = tx.send(Drain::Finish);
            terminated().await;
            let _ = tx.send(Drain::Abandon);
        });
        let summary = rgsweep_worker::run(config, rx).await?;
        eprintln!(
            "worker done: {} computed, {} accepted, {} duplicates, {} failed, {} handed back",
            summary.computed,
            summary.accepted,
            summary.duplicates,
            summary.failed,
            summary.released
        );
        Ok(())
    })
}

/// `rgsweep run` on the distributed machinery: an embedded coordinator whose database lives in
/// the output directory (so an interrupted run resumes), `workers` in-process workers talking
/// to it over loopback gRPC, then the same output files as the thread pool writes.
pub(crate) fn run_embedded(
    file: &Path,
    out: &Path,
    workers: usize,
    slots: usize,
    samplers: std::sync::Arc<rgsweep_worker::external::Registry>,
) -> Result<(String, f64, usize)> {
    let (name, text) = read_sweep(file)?;
    let sweep = rgsweep_physics::Sweep::parse(&text, &name)?;
    if let Some(e) = &sweep.external {
        match samplers.samplers().find(|s| s.name == e.sampler) {
            None => {
                let (line, column) =
                    rgsweep_physics::sweep::key_position(&text, "sampler").unwrap_or((1, 1));
                bail!(
                    "{name}:{line}:{column}: field `sampler`: {:?} is not registered here: add --sampler {}=PROGRAM",
                    e.sampler,
                    e.sampler
                )
            }
            Some(s) if !e.version.is_empty() && s.version != e.version => bail!(
                "{name}: the file asks for sampler {} version {:?}; {} is {:?}",
                e.sampler,
                e.version,
                s.program.display(),
                s.version
            ),
            Some(_) => {}
        }
    }
    let text = crate::samplers_cmd::pin_version(&text, &sweep, &samplers);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let db = out.join("rgsweep.db");
    let token = generate_token().context("cannot generate a token")?;
    let rt = runtime()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on 127.0.0.1")?;
        let coordinator = Coordinator::start(Config::embedded(db.clone(), token.clone()), listener)
            .await
        .with_context(|| format!("cannot open {}", db.display()))?;
        let address = format!("http://{}", coordinator.addr);
        // Lets `rgsweep status --access OUT/access.json` follow the run from another terminal.
        Access {
            address: address.clone(),
            token: token.clone(),
            worker_token: None,
        }
        .write(&out.join("access.json"))?;
        let mut c = client::client_client(client::channel(&address, None)?, &token)?;
        let started = std::time::Instant::now();
        let reply = c
            .submit(v1::SubmitRequest {
                file_name: name.clone(),
                toml: text,
            })
            .await
            .map_err(|s| rpc_error(&format!("submit {name}"), s))?
            .into_inner();
        tracing::info!(sweep = %reply.sweep_id, tasks = reply.tasks, reused = reply.reused, workers, slots, "running sweep");
        if reply.done > 0 {
            eprintln!(
                "resuming: {} of {} tasks already done (database {})",
                reply.done,
                reply.tasks,
                db.display()
            );
        }
        let (drain_tx, drain_rx) = tokio::sync::watch::channel(Drain::Run);
        let mut handles = Vec::new();
        for w in 0..workers {
            let config = rgsweep_worker::Config {
                address: address.clone(),
                token: token.clone(),
                ca_pem: None,
                slots,
                worker_id: format!("local-{w}"),
                idle_exit: None,
                drain_timeout: None,
                walltime: None,
                samplers: samplers.clone(),
            };
            handles.push(tokio::spawn(rgsweep_worker::run(config, drain_rx.clone())));
        }
        let bar = crate::sweep_progress();
        let final_status = loop {
            let r = c
                .status(v1::StatusRequest {
                    sweep_id: reply.sweep_id.clone(),
                })
                .await
                .map_err(|s| rpc_error("status", s))?
                .into_inner();
            let s = r.sweeps.into_iter().next().context("sweep vanished")?;
            bar.set_position((s.progress * 1000.0) as u64);
            bar.set_message(format!("{}/{} tasks", s.done, s.tasks));
            if !matches!(s.state.as_str(), "running" | "aggregating") {
                break s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        bar.finish_and_clear();
        let _ = drain_tx.send(Drain::Finish);
        for h in handles {
            h.await.context("worker task")??;
        }
        if final_status.state != "done" {
            // What did finish is written, marked partial; `rgsweep run` again retries the rest.
            let partial = fetch_results(&mut c, &reply.sweep_id, out).await;
            bail!(
                "sweep {} ended {}: {}{}",
                final_status.sweep_id,
                final_status.state,
                final_status.errors.join("; "),
                match partial {
                    Ok(_) => format!(
                        "\nthe finished points are in {} (marked partial); run the same command \
                         again to retry the rest",
                        out.display()
                    ),
                    Err(e) => format!("\nno partial outputs: {e:#}"),
                }
            );
        }
        fetch_results(&mut c, &reply.sweep_id, out).await?;
        drop(c);
        coordinator.shutdown().await.context("coordinator")?;
        Ok((reply.sweep_id, started.elapsed().as_secs_f64(), reply.tasks as usize))
    })
}
