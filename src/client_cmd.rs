//! The client commands: `submit`, `status`, `results`, `retry`, `alloc` and `cancel`, each one
//! RPC (or a few) to a coordinator through [`Connect`].

use crate::remote::{Connect, rpc_error, runtime};
use anyhow::{Context, Result, bail};
use rgsweep_proto::client::ClientClient;
use rgsweep_proto::v1;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub(crate) struct SubmitArgs {
    /// The sweep file (TOML).
    file: PathBuf,
    #[command(flatten)]
    connect: Connect,
    #[arg(long)]
    json: bool,
}

pub(crate) fn read_sweep(file: &Path) -> Result<(String, String)> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {name}"))?;
    Ok((name, text))
}

pub(crate) fn submit(a: SubmitArgs) -> Result<()> {
    let (name, text) = read_sweep(&a.file)?;
    // Refuse a bad file here with its location; the coordinator checks again, so an older or
    // newer client can never queue what the coordinator's code would reject.
    rgsweep_physics::Sweep::parse(&text, &name)?;
    let rt = runtime()?;
    let reply = rt.block_on(async {
        let mut c = a.connect.client()?;
        c.submit(v1::SubmitRequest {
            file_name: name.clone(),
            toml: text,
        })
        .await
        .map(tonic::Response::into_inner)
        .map_err(|s| rpc_error(&format!("submit {name}"), s))
    })?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"sweep": reply.sweep_id, "name": reply.name, "tasks": reply.tasks, "reused": reply.reused})
        );
    } else {
        println!("{}", reply.sweep_id);
        eprintln!(
            "sweep {} ({}): {} tasks, {} already done or running",
            reply.sweep_id, reply.name, reply.tasks, reply.reused
        );
    }
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct StatusArgs {
    /// A sweep id (default: every sweep).
    sweep: Option<String>,
    #[command(flatten)]
    connect: Connect,
    /// Follow the sweep until it ends.
    #[arg(long, requires = "sweep")]
    watch: bool,
    #[arg(long)]
    json: bool,
}

fn status_json(s: &v1::SweepStatus) -> serde_json::Value {
    serde_json::json!({
        "sweep": s.sweep_id, "name": s.name, "state": s.state, "tasks": s.tasks,
        "queued": s.queued, "leased": s.leased, "done": s.done, "failed": s.failed,
        "cancelled": s.cancelled, "task_errors": s.task_errors, "workers_lost": s.workers_lost,
        "tasks_per_second": s.tasks_per_second, "eta_seconds": s.eta_seconds,
        "progress": s.progress,
        "partial_tc": s.partial_tc.map(|e| serde_json::json!({"value": e.value, "error": e.error})),
        "errors": s.errors,
        "waiting": s.waiting.iter().map(|w| {
            let c = w.capability.clone().unwrap_or_default();
            serde_json::json!({"kind": c.kind, "name": c.name, "version": c.version, "tasks": w.tasks})
        }).collect::<Vec<_>>(),
    })
}

fn status_line(s: &v1::SweepStatus) -> String {
    let mut line = format!(
        "{} {:<20} {:<11} {:>5.1}%  queued {} leased {} done {} failed {}",
        s.sweep_id,
        s.name,
        s.state,
        100.0 * s.progress,
        s.queued,
        s.leased,
        s.done,
        s.failed,
    );
    if s.cancelled > 0 {
        line += &format!(" cancelled {}", s.cancelled);
    }
    // Two budgets per task: errors it reported, workers lost under it.
    line += &format!(
        "  errors {} lost workers {}  ({:.1} tasks/s",
        s.task_errors, s.workers_lost, s.tasks_per_second
    );
    if let Some(eta) = s.eta_seconds {
        line += &format!(", eta {eta:.0} s");
    }
    line.push(')');
    if let Some(tc) = s.partial_tc {
        line += &format!("  T_c so far {:.5} ± {:.5}", tc.value, tc.error);
    }
    for w in &s.waiting {
        let c = w.capability.clone().unwrap_or_default();
        line += &format!(
            "\n    waiting: {} task(s) need {} {} ({}), which no connected worker has",
            w.tasks, c.kind, c.name, c.version
        );
    }
    for e in &s.errors {
        line += &format!("\n    error: {e}");
    }
    line
}

pub(crate) fn status(a: StatusArgs) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut c = a.connect.client()?;
        let id = a.sweep.clone().unwrap_or_default();
        if a.watch {
            let mut stream = c
                .watch(v1::StatusRequest { sweep_id: id })
                .await
                .map_err(|s| rpc_error("watch", s))?
                .into_inner();
            while let Some(s) = stream.message().await.map_err(|s| rpc_error("watch", s))? {
                if a.json {
                    println!("{}", status_json(&s));
                } else {
                    println!("{}", status_line(&s));
                }
            }
            return Ok(());
        }
        let r = c
            .status(v1::StatusRequest { sweep_id: id })
            .await
            .map_err(|s| rpc_error("status", s))?
            .into_inner();
        if a.json {
            let v = serde_json::json!({
                "workers": r.workers,
                "sweeps": r.sweeps.iter().map(status_json).collect::<Vec<_>>(),
                "allocation": r.allocation.as_ref().map(|x| serde_json::json!({
                    "state": x.state, "reason": x.reason, "waiting": x.waiting,
                    "running": x.running, "submitted": x.submitted, "failures": x.failures,
                })),
            });
            println!("{v}");
        } else {
            println!("{} worker(s) connected", r.workers);
            if let Some(x) = &r.allocation {
                println!(
                    "allocation {}: {} waiting, {} running, {} submitted{}",
                    x.state,
                    x.waiting,
                    x.running,
                    x.submitted,
                    if x.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", x.reason)
                    }
                );
            }
            for s in &r.sweeps {
                println!("{}", status_line(s));
            }
        }
        Ok(())
    })
}

#[derive(clap::Args)]
pub(crate) struct ResultsArgs {
    sweep: String,
    #[command(flatten)]
    connect: Connect,
    /// Directory to write the output files into.
    #[arg(long)]
    out: PathBuf,
    /// Print what was written (and whether it is partial) as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Fetches a sweep's output files into `out`. An unfinished sweep's files hold its finished
/// points only: that is said on stderr, never silently.
pub(crate) async fn fetch_results(
    c: &mut ClientClient,
    id: &str,
    out: &Path,
) -> Result<v1::ResultsReply> {
    let r = c
        .results(v1::ResultsRequest {
            sweep_id: id.to_string(),
        })
        .await
        .map_err(|s| rpc_error(&format!("results of {id}"), s))?
        .into_inner();
    // Names come from the coordinator; never let one escape the output directory.
    if let Some(f) = r
        .files
        .iter()
        .find(|f| f.name.contains('/') || f.name.contains('\\') || f.name.starts_with('.'))
    {
        bail!("coordinator sent a bad file name {:?}", f.name);
    }
    let files: Vec<(String, Vec<u8>)> = r
        .files
        .iter()
        .map(|f| (f.name.clone(), f.content.clone()))
        .collect();
    crate::write_outputs(out, &files)?;
    if r.partial {
        eprintln!(
            "partial results: sweep {id} is {}; {} of {} points missing (listed with reasons \
             under \"partial\" in {})",
            r.state,
            r.missing_points,
            r.points,
            out.join("summary.json").display()
        );
    }
    Ok(r)
}

pub(crate) fn results(a: ResultsArgs) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut c = a.connect.client()?;
        let r = fetch_results(&mut c, &a.sweep, &a.out).await?;
        if a.json {
            let files: Vec<String> = r
                .files
                .iter()
                .map(|f| a.out.join(&f.name).display().to_string())
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "sweep": a.sweep, "state": r.state, "partial": r.partial,
                    "missing_points": r.missing_points, "points": r.points, "files": files,
                })
            );
        } else {
            for f in r.files {
                eprintln!("wrote {}", a.out.join(&f.name).display());
            }
        }
        Ok(())
    })
}

#[derive(clap::Args)]
pub(crate) struct RetryArgs {
    sweep: String,
    #[command(flatten)]
    connect: Connect,
    #[arg(long)]
    json: bool,
}

pub(crate) fn retry(a: RetryArgs) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut c = a.connect.client()?;
        let r = c
            .retry(v1::RetryRequest {
                sweep_id: a.sweep.clone(),
            })
            .await
            .map_err(|s| rpc_error(&format!("retry {}", a.sweep), s))?
            .into_inner();
        if a.json {
            println!(
                "{}",
                serde_json::json!({"sweep": a.sweep, "requeued": r.requeued})
            );
        } else {
            println!("sweep {}: {} task(s) queued again", a.sweep, r.requeued);
        }
        Ok(())
    })
}

#[derive(clap::Subcommand)]
pub(crate) enum AllocCommand {
    /// Allocate workers again after repeated failed submissions paused allocation (`status`
    /// shows the reason; fix the cause first, or the queue pauses again).
    Resume {
        #[command(flatten)]
        connect: Connect,
    },
}

pub(crate) fn alloc(command: AllocCommand) -> Result<()> {
    let AllocCommand::Resume { connect } = command;
    let rt = runtime()?;
    rt.block_on(async {
        let mut c = connect.client()?;
        let r = c
            .resume_allocation(v1::ResumeAllocationRequest {})
            .await
            .map_err(|s| rpc_error("resume allocation", s))?
            .into_inner();
        if r.was_paused {
            println!("allocation resumed");
        } else {
            println!("allocation was not paused");
        }
        Ok(())
    })
}

#[derive(clap::Args)]
pub(crate) struct CancelArgs {
    sweep: String,
    #[command(flatten)]
    connect: Connect,
}

pub(crate) fn cancel(a: CancelArgs) -> Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let mut c = a.connect.client()?;
        let r = c
            .cancel(v1::CancelRequest {
                sweep_id: a.sweep.clone(),
            })
            .await
            .map_err(|s| rpc_error(&format!("cancel {}", a.sweep), s))?
            .into_inner();
        println!(
            "sweep {}: {} task(s) taken off the queue",
            a.sweep, r.cancelled
        );
        Ok(())
    })
}
