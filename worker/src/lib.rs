//! The worker: a pull loop that leases tasks, runs them with the `physics` crate on blocking
//! threads, heartbeats its leases and delivers results.
//!
//! It holds nothing that matters: a lost worker costs the coordinator one lease expiry. What it
//! does hold — results not yet acknowledged — it keeps re-delivering, with backoff, until the
//! coordinator answers, so a coordinator restart loses no computed work either.
//!
//! Draining (SIGTERM): take no new work, finish what runs, deliver, exit. Draining harder (a
//! second signal, or `drain_timeout`): hand the running leases back without counting an attempt
//! and exit at once.

pub mod external;

use rgsweep_physics::TaskResult;
use rgsweep_proto::client::{self, WorkerClient};
use rgsweep_proto::{result_to_wire, task_from_wire, v1};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tonic::Code;

pub struct Config {
    pub address: String,
    pub token: String,
    pub ca_pem: Option<Vec<u8>>,
    /// Tasks run at once.
    pub slots: usize,
    pub worker_id: String,
    /// Exit after this long without work (none: wait for work forever).
    pub idle_exit: Option<Duration>,
    /// Once draining, hand back what still runs after this long (none: finish it).
    pub drain_timeout: Option<Duration>,
    /// The job running this worker ends this long after it starts (a scheduler's time limit):
    /// ask only for tasks expected to finish before then, less a margin, and drain at the end.
    pub walltime: Option<Duration>,
    /// Registered external samplers (advertised with every lease request) and their limits.
    pub samplers: Arc<external::Registry>,
}

/// What is kept back from a time limit: a tenth of it, at most a minute.
fn margin(walltime: Duration) -> Duration {
    (walltime / 10).min(Duration::from_secs(60))
}

/// How hard to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Drain {
    Run,
    /// Finish running tasks, take no new ones.
    Finish,
    /// Hand running leases back now.
    Abandon,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub computed: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub failed: u64,
    pub released: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Client(#[from] client::ClientError),
    #[error("the coordinator refused this worker: {0}")]
    Refused(String),
    #[error(
        "task {key} was planned by a coordinator running other code (its key does not match this worker's); \
         run workers built from the same version"
    )]
    VersionMismatch { key: String },
}

/// A name unique enough to tell workers apart in logs: host, process id and a random suffix.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    let mut b = [0u8; 3];
    let _ = getrandom::fill(&mut b);
    format!(
        "{host}-{}-{:02x}{:02x}{:02x}",
        std::process::id(),
        b[0],
        b[1],
        b[2]
    )
}

struct Running {
    key: Vec<u8>,
    token: u64,
}

type Finished = (Running, Result<(TaskResult, u64), String>);

fn hex(key: &[u8]) -> String {
    key.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Runs until drained (or idle past `idle_exit`). Connection failures are retried forever.
pub async fn run(
    config: Config,
    mut drain: watch::Receiver<Drain>,
) -> Result<Summary, WorkerError> {
    let channel = client::channel(&config.address, config.ca_pem.as_deref())?;
    let capabilities: Vec<v1::Capability> = config
        .samplers
        .capabilities()
        .iter()
        .map(rgsweep_proto::capability_to_wire)
        .collect();
    let mut rpc = client::worker_client(channel, &config.token)?;
    let slots = config.slots.max(1);
    let id = config.worker_id.clone();
    let mut summary = Summary::default();
    let mut running: JoinSet<Finished> = JoinSet::new();
    // Tokens of running leases, shared with the heartbeat task.
    let live: Arc<Mutex<BTreeMap<u64, Vec<u8>>>> = Arc::default();
    let heartbeat_ms = Arc::new(std::sync::atomic::AtomicU64::new(1_000));
    let heartbeat = tokio::spawn(heartbeats(
        rpc.clone(),
        id.clone(),
        live.clone(),
        heartbeat_ms.clone(),
    ));
    let mut outbox: Vec<v1::Completed> = Vec::new();
    let mut failures: Vec<v1::FailRequest> = Vec::new();
    // After a failed exchange, wait `backoff` (doubling to 5 s) before talking again.
    let mut backoff = Duration::ZERO;
    let mut retry_at: Option<tokio::time::Instant> = None;
    let mut poll = Duration::from_millis(50);
    let mut idle_since = tokio::time::Instant::now();
    let mut drain_started: Option<tokio::time::Instant> = None;
    let deadline = config
        .walltime
        .map(|w| tokio::time::Instant::now() + w.saturating_sub(margin(w)));
    tracing::info!(worker = %id, slots, coordinator = %config.address, "worker started");
    // A dropped drain sender means nobody can tell us to stop any more: finish and leave.
    let mut orphaned = false;
    let outcome = loop {
        // Milliseconds left before the time limit (0: none set); past it, drain.
        let time_left = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
        let out_of_time = time_left.is_some_and(|t| t.is_zero());
        let mode = if orphaned || out_of_time {
            (*drain.borrow()).max(Drain::Finish)
        } else {
            *drain.borrow()
        };
        let time_left_ms = time_left.map_or(0, |t| (t.as_millis() as u64).max(1));
        if mode >= Drain::Finish && drain_started.is_none() {
            tracing::info!(worker = %id, running = running.len(), "draining");
            drain_started = Some(tokio::time::Instant::now());
        }
        let abandon = mode == Drain::Abandon
            || drain_started
                .zip(config.drain_timeout)
                .is_some_and(|(t, d)| t.elapsed() >= d);
        if abandon && !running.is_empty() {
            // Hand back what still runs; the blocking threads finish on their own and their
            // results are dropped with the process.
            let tokens: Vec<(u64, Vec<u8>)> =
                lock(&live).iter().map(|(t, k)| (*t, k.clone())).collect();
            for (token, key) in tokens {
                failures.push(v1::FailRequest {
                    worker_id: id.clone(),
                    key,
                    token,
                    reason: "worker drained".into(),
                    release: true,
                });
                summary.released += 1;
            }
            lock(&live).clear();
            running.detach_all();
        }
        let want = if mode == Drain::Run {
            slots - running.len()
        } else {
            0
        };
        let may_talk = retry_at.is_none_or(|t| tokio::time::Instant::now() >= t);
        let has_news = !outbox.is_empty() || !failures.is_empty();
        let mut asked = false;
        let mut got_work = false;
        if may_talk && (has_news || want > 0) {
            asked = want > 0;
            match exchange(
                &mut rpc,
                &id,
                &mut outbox,
                &mut failures,
                (want, time_left_ms, &capabilities),
                &mut summary,
            )
            .await
            {
                Ok((leases, hb)) => {
                    heartbeat_ms.store(hb.max(1), std::sync::atomic::Ordering::Relaxed);
                    backoff = Duration::ZERO;
                    retry_at = None;
                    got_work = !leases.is_empty();
                    // Leave through the loop's exit, which also stops the heartbeat task.
                    if let Err(e) = leases.into_iter().try_for_each(|l| {
                        start(&mut running, &live, l, &mut failures, &config.samplers)
                    }) {
                        break Err(e);
                    }
                }
                Err(status)
                    if matches!(
                        status.code(),
                        Code::Unauthenticated | Code::PermissionDenied
                    ) =>
                {
                    break Err(WorkerError::Refused(status.message().to_string()));
                }
                Err(status) => {
                    // Never wait longer than a heartbeat: a restarted coordinator keeps this
                    // worker's leases for one lease time, and results waiting here must reach
                    // it within that, however long it was down.
                    let cap = Duration::from_millis(
                        heartbeat_ms.load(std::sync::atomic::Ordering::Relaxed),
                    )
                    .clamp(Duration::from_millis(100), Duration::from_secs(5));
                    backoff = (backoff * 2).clamp(Duration::from_millis(100), cap);
                    retry_at = Some(tokio::time::Instant::now() + backoff);
                    tracing::warn!(worker = %id, error = %status.message(), retry_in = ?backoff,
                        undelivered = outbox.len(), "coordinator unreachable; will retry");
                }
            }
        }
        if got_work || !running.is_empty() {
            idle_since = tokio::time::Instant::now();
            poll = Duration::from_millis(50);
        }
        if mode >= Drain::Finish && running.is_empty() && outbox.is_empty() && failures.is_empty() {
            break Ok(());
        }
        if mode == Drain::Run
            && running.is_empty()
            && outbox.is_empty()
            && config.idle_exit.is_some_and(|d| idle_since.elapsed() >= d)
        {
            tracing::info!(worker = %id, "idle; exiting");
            break Ok(());
        }
        // Wait for a finished task, a signal, or the time to talk again.
        let delay = if let Some(t) = retry_at {
            t.saturating_duration_since(tokio::time::Instant::now())
        } else if asked && !got_work {
            // No work now: ask again, less and less often.
            let d = poll;
            poll = (poll * 2).min(Duration::from_secs(2));
            d
        } else if got_work && running.len() < slots && mode == Drain::Run {
            // Got some but not all slots filled: ask again at once.
            Duration::ZERO
        } else if !outbox.is_empty() || !failures.is_empty() {
            Duration::ZERO
        } else {
            Duration::from_secs(3600)
        };
        if delay.is_zero() {
            continue;
        }
        tokio::select! {
            Some(done) = running.join_next(), if !running.is_empty() => {
                collect(done, &live, &mut outbox, &mut failures, &mut summary);
                // Take every other finished task too: one round trip delivers them all.
                while let Some(done) = running.try_join_next() {
                    collect(done, &live, &mut outbox, &mut failures, &mut summary);
                }
            }
            changed = drain.changed(), if !orphaned => orphaned |= changed.is_err(),
            _ = tokio::time::sleep(delay) => {}
        }
    };
    heartbeat.abort();
    tracing::info!(worker = %id, ?summary, "worker stopped");
    outcome.map(|()| summary)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn collect(
    done: Result<Finished, tokio::task::JoinError>,
    live: &Mutex<BTreeMap<u64, Vec<u8>>>,
    outbox: &mut Vec<v1::Completed>,
    failures: &mut Vec<v1::FailRequest>,
    summary: &mut Summary,
) {
    let Ok((r, outcome)) = done else {
        // Only a cancelled join errors here (panics are caught inside the task).
        return;
    };
    lock(live).remove(&r.token);
    match outcome {
        Ok((result, seed)) => {
            summary.computed += 1;
            outbox.push(v1::Completed {
                key: r.key,
                token: r.token,
                result: Some(result_to_wire(&result, seed)),
            });
        }
        Err(reason) => {
            summary.failed += 1;
            failures.push(v1::FailRequest {
                worker_id: String::new(),
                key: r.key,
                token: r.token,
                reason,
                release: false,
            });
        }
    }
}

fn start(
    running: &mut JoinSet<Finished>,
    live: &Mutex<BTreeMap<u64, Vec<u8>>>,
    lease: v1::Lease,
    failures: &mut Vec<v1::FailRequest>,
    samplers: &Arc<external::Registry>,
) -> Result<(), WorkerError> {
    let checked = lease
        .task
        .as_ref()
        .ok_or_else(|| "lease without a task".to_string())
        .and_then(|t| task_from_wire(t).map_err(|e| e.to_string()));
    let (task, seed) = match checked {
        Ok(x) => x,
        Err(reason) => {
            failures.push(v1::FailRequest {
                worker_id: String::new(),
                key: lease.key,
                token: lease.token,
                reason: format!("invalid task: {reason}"),
                release: false,
            });
            return Ok(());
        }
    };
    if task.content_key(seed)[..] != lease.key[..] {
        failures.push(v1::FailRequest {
            worker_id: String::new(),
            key: lease.key.clone(),
            token: lease.token,
            reason: "worker runs other code than the coordinator".into(),
            release: true,
        });
        return Err(WorkerError::VersionMismatch {
            key: hex(&lease.key),
        });
    }
    lock(live).insert(lease.token, lease.key.clone());
    tracing::debug!(task = %hex(&lease.key), size = task.size, temperature = task.temperature, "task started");
    let r = Running {
        key: lease.key,
        token: lease.token,
    };
    let samplers = samplers.clone();
    running.spawn_blocking(move || {
        let clock = std::time::Instant::now();
        let elapsed = || clock.elapsed().as_secs_f64();
        // An external task's configurations come from its registered program; a program that
        // misbehaves fails the task with the reason, never the worker.
        let samples = match task.external {
            Some(_) => match samplers.sample(&task, seed) {
                Ok(s) => Some(s),
                Err(e) => return (r, Err(e.to_string())),
            },
            None => None,
        };
        let outcome = std::panic::catch_unwind(|| match &samples {
            Some(s) => task.run_on_samples(seed, s, &elapsed),
            None => task.run_timed(seed, &elapsed),
        })
        .map(|res| (res, seed))
        .map_err(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            format!("task panicked: {msg}")
        });
        (r, outcome)
    });
    Ok(())
}

/// One round trip: deliver results and failures, ask for `want` new tasks. On error nothing is
/// lost: undelivered results stay in the outbox.
async fn exchange(
    rpc: &mut WorkerClient,
    id: &str,
    outbox: &mut Vec<v1::Completed>,
    failures: &mut Vec<v1::FailRequest>,
    (want, time_left_ms, capabilities): (usize, u64, &[v1::Capability]),
    summary: &mut Summary,
) -> Result<(Vec<v1::Lease>, u64), tonic::Status> {
    while let Some(f) = failures.first() {
        let mut f = f.clone();
        f.worker_id = id.to_string();
        let reply = rpc.fail(f).await?.into_inner();
        tracing::info!(outcome = %reply.outcome, "lease given up");
        failures.remove(0);
    }
    if outbox.is_empty() {
        if want == 0 {
            return Ok((Vec::new(), 1_000));
        }
        let r = rpc
            .lease(v1::LeaseRequest {
                worker_id: id.to_string(),
                slots: want as u32,
                time_left_ms,
                capabilities: capabilities.to_vec(),
            })
            .await?
            .into_inner();
        return Ok((r.leases, r.heartbeat_ms));
    }
    let r = rpc
        .complete(v1::CompleteRequest {
            worker_id: id.to_string(),
            results: outbox.clone(),
            lease_slots: want as u32,
            time_left_ms,
            capabilities: capabilities.to_vec(),
        })
        .await?
        .into_inner();
    for (c, o) in outbox.iter().zip(&r.outcomes) {
        match v1::Outcome::try_from(*o) {
            Ok(v1::Outcome::Accepted | v1::Outcome::AcceptedLate) => summary.accepted += 1,
            Ok(v1::Outcome::Duplicate) => summary.duplicates += 1,
            other => {
                tracing::warn!(task = %hex(&c.key), outcome = ?other, "result not accepted")
            }
        }
    }
    outbox.clear();
    Ok((r.leases, r.heartbeat_ms))
}

async fn heartbeats(
    mut rpc: WorkerClient,
    id: String,
    live: Arc<Mutex<BTreeMap<u64, Vec<u8>>>>,
    every_ms: Arc<std::sync::atomic::AtomicU64>,
) {
    loop {
        let ms = every_ms.load(std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let leases: Vec<v1::LeaseRef> = lock(&live)
            .iter()
            .map(|(t, k)| v1::LeaseRef {
                key: k.clone(),
                token: *t,
            })
            .collect();
        if leases.is_empty() {
            continue;
        }
        match rpc
            .heartbeat(v1::HeartbeatRequest {
                worker_id: id.clone(),
                leases,
            })
            .await
        {
            // The computation cannot be interrupted; its result is still delivered (the
            // coordinator takes the first result for a task, whichever lease it came from).
            Ok(r) if !r.get_ref().dead_tokens.is_empty() => {
                tracing::info!(dead = ?r.get_ref().dead_tokens, "leases expired or cancelled")
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e.message(), "heartbeat failed"),
        }
    }
}
