//! `rgsweep bench coordinator`: how many tasks per second the coordinator takes from lease to
//! durable completion, with many simulated workers over real gRPC on 127.0.0.1, and how much
//! memory it holds per queued task.
//!
//! The tasks are real but trivial (2D Ising, L = 4, 16 measurements: a few microseconds), so
//! the numbers measure the coordinator: RPC handling, the core's decisions, result checks and
//! SQLite group commits (synchronous = FULL). Clients and server share this machine's cores.

use anyhow::{Context, Result, bail};
use rgsweep_coordinator::core::Core;
use rgsweep_coordinator::queue::{Millis, Policy};
use rgsweep_coordinator::{Config, Coordinator, generate_token};
use rgsweep_proto::client;
use rgsweep_proto::{result_to_wire, task_from_wire, v1};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Simulated workers, each on its own connection, one task at a time.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    workers: u64,
    /// Tasks run through lease → complete.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1_000..=10_000_000))]
    tasks: u64,
    /// Tasks queued for the memory measurement (0: skip it).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    queued: u64,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    workers: u64,
    tasks: u64,
    seconds: f64,
    tasks_per_second: f64,
    /// Round trip of one Complete (deliver a result, lease the next task), client side.
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
    /// Group commits are visible as fewer transactions than tasks.
    queued_tasks: u64,
    submit_seconds: f64,
    rss_bytes_per_queued_task: Option<f64>,
}

/// A sweep of `tasks` trivial tasks (1000 replicas per temperature).
fn sweep_text(name: &str, tasks: u64) -> String {
    let replicas = 1000.min(tasks);
    let temps = tasks.div_ceil(replicas);
    let list: Vec<String> = (0..temps)
        .map(|i| format!("{}", 1.0 + i as f64 * 0.001))
        .collect();
    format!(
        "name = \"{name}\"\nseed = 1\nmodel = \"ising2d\"\nsizes = [4]\ntemperatures = [{}]\n\
         replicas = {replicas}\n\n[monte_carlo]\nalgorithm = \"wolff\"\nthermalize = 0\nmeasurements = 16\n",
        list.join(", ")
    )
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn run(a: Args) -> Result<()> {
    let dir =
        std::env::temp_dir().join(format!("rgsweep-bench-coordinator-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let outcome = bench(&a, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let report = outcome?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "coordinator: {} tasks, {} workers: {:.0} tasks/s lease→durable complete; \
             round trip p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
            report.tasks,
            report.workers,
            report.tasks_per_second,
            report.latency_p50_ms,
            report.latency_p99_ms,
            report.latency_max_ms
        );
        if let Some(b) = report.rss_bytes_per_queued_task {
            println!(
                "memory: {b:.0} bytes of resident memory per queued task at {} queued (submitted in {:.1} s)",
                report.queued_tasks, report.submit_seconds
            );
        }
    }
    Ok(())
}

fn bench(a: &Args, dir: &std::path::Path) -> Result<Report> {
    // Memory first, in a fresh core, before the runtime and the throughput run allocate.
    let (rss, submit_seconds) = if a.queued > 0 {
        let db = dir.join("memory.db");
        let mut core = Core::open(&db, Policy::default(), Millis(0), 0)?;
        let text = sweep_text("memory", a.queued);
        let before = rss_bytes();
        let t = Instant::now();
        let r = core.submit(Millis(0), "memory.toml", &text)?;
        core.commit()?;
        let seconds = t.elapsed().as_secs_f64();
        let after = rss_bytes();
        if r.tasks < a.queued {
            bail!("planned {} tasks, wanted {}", r.tasks, a.queued);
        }
        let per = before
            .zip(after)
            .map(|(b, f)| f.saturating_sub(b) as f64 / r.tasks as f64);
        drop(core);
        (per, seconds)
    } else {
        (None, 0.0)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (seconds, mut latencies) = rt.block_on(throughput(a, dir))?;
    latencies.sort_by(f64::total_cmp);
    Ok(Report {
        workers: a.workers,
        tasks: a.tasks,
        seconds,
        tasks_per_second: a.tasks as f64 / seconds,
        latency_p50_ms: percentile(&latencies, 0.5),
        latency_p99_ms: percentile(&latencies, 0.99),
        latency_max_ms: latencies.last().copied().unwrap_or(f64::NAN),
        queued_tasks: a.queued,
        submit_seconds,
        rss_bytes_per_queued_task: rss,
    })
}

async fn throughput(a: &Args, dir: &std::path::Path) -> Result<(f64, Vec<f64>)> {
    let token = generate_token()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let coordinator = Coordinator::start(
        Config::embedded(dir.join("throughput.db"), token.clone()),
        listener,
    )
    .await?;
    let address = format!("http://{}", coordinator.addr);
    let mut c = client::client_client(client::channel(&address, None)?, &token)?;
    let reply = c
        .submit(v1::SubmitRequest {
            file_name: "bench.toml".into(),
            toml: sweep_text("throughput", a.tasks),
        })
        .await?
        .into_inner();
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..a.workers {
        // Each simulated worker has its own HTTP/2 connection, as separate processes would.
        let rpc = client::worker_client(client::channel(&address, None)?, &token)?;
        workers.push(tokio::spawn(simulated_worker(rpc, format!("sim-{w}"))));
    }
    let mut latencies = Vec::with_capacity(a.tasks as usize);
    let mut done = 0;
    for w in workers {
        let (n, l) = w.await??;
        done += n;
        latencies.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    let status = c
        .status(v1::StatusRequest {
            sweep_id: reply.sweep_id.clone(),
        })
        .await?
        .into_inner();
    let s = status.sweeps.first().context("sweep status")?;
    if done != reply.tasks || s.done != reply.tasks {
        bail!(
            "workers completed {done} and the coordinator counts {} of {} tasks",
            s.done,
            reply.tasks
        );
    }
    // Leave before the sweep's aggregation (not part of the measurement) takes the cores.
    drop(c);
    let _ = tokio::time::timeout(Duration::from_secs(30), coordinator.shutdown()).await;
    Ok((seconds, latencies))
}

/// Lease one task, run it, deliver it while leasing the next: one round trip per task.
async fn simulated_worker(mut rpc: client::WorkerClient, id: String) -> Result<(u64, Vec<f64>)> {
    let mut latencies = Vec::new();
    let mut leases = rpc
        .lease(v1::LeaseRequest {
            worker_id: id.clone(),
            slots: 1,
            time_left_ms: 0,
            capabilities: Vec::new(),
        })
        .await?
        .into_inner()
        .leases;
    let mut done = 0;
    while let Some(lease) = leases.pop() {
        let (task, seed) = task_from_wire(lease.task.as_ref().context("task")?)?;
        let result = result_to_wire(&task.run(seed), seed);
        let t = Instant::now();
        let reply = rpc
            .complete(v1::CompleteRequest {
                worker_id: id.clone(),
                results: vec![v1::Completed {
                    key: lease.key,
                    token: lease.token,
                    result: Some(result),
                }],
                lease_slots: 1,
                time_left_ms: 0,
                capabilities: Vec::new(),
            })
            .await?
            .into_inner();
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        if reply.outcomes.first().copied() != Some(v1::Outcome::Accepted as i32) {
            bail!("result not accepted: {:?}", reply.outcomes);
        }
        done += 1;
        leases = reply.leases;
    }
    Ok((done, latencies))
}
