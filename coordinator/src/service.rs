//! The network shell around [`Core`]: tonic services that turn each RPC into a closure run on
//! the core thread, and the core thread's loop, which applies every closure waiting in its
//! channel, commits them as one batch (group commit), and only then sends the replies.
//!
//! Why one thread owns the core: SQLite has one writer anyway, and a single owner makes every
//! decision sequential and the batch boundary obvious; the async side only validates, encodes
//! and waits.

use crate::alloc::AllocPolicy;
use crate::client_api::ClientService;
use crate::core::{Core, CoreError, Verified};
use crate::jobs::{self, JobOutput};
use crate::monitor;
use crate::queue::{LeaseToken, Millis, Policy, TaskKey, WorkerId};
use crate::slurm::{self, SlurmConfig};
use prost::Message;
use rgsweep_proto::client::MAX_MESSAGE_BYTES;
use rgsweep_proto::externalscaler;
use rgsweep_proto::externalscaler::external_scaler_server::{ExternalScaler, ExternalScalerServer};
use rgsweep_proto::v1;
use rgsweep_proto::v1::client_server::ClientServer;
use rgsweep_proto::v1::worker_server::{Worker, WorkerServer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::oneshot;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic::{Request, Response, Status};

pub struct Config {
    pub db: PathBuf,
    pub policy: Policy,
    /// How long leases found in flight at start-up wait for their workers to re-attach.
    pub grace_ms: u64,
    pub client_token: String,
    pub worker_token: String,
    /// PEM certificate chain and key: serve TLS.
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
    /// Serve Prometheus metrics over plain HTTP at `/metrics` on this address (no token:
    /// counts only; keep it inside the cluster).
    pub metrics: Option<SocketAddr>,
    /// Serve KEDA's external-scaler gRPC interface on this address (no token: KEDA cannot send
    /// one; it learns queue depth only).
    pub keda: Option<SocketAddr>,
    /// Allocate workers from Slurm as open tasks need them.
    pub slurm: Option<(SlurmConfig, AllocPolicy)>,
    /// Back the database up periodically.
    pub backup: Option<crate::backup::Periodic>,
}

impl Config {
    /// A coordinator whose workers live and die with this process (`rgsweep run`, benchmarks):
    /// one token, no TLS, and leases found in flight at start-up requeued at once, since their
    /// workers died with the previous process.
    pub fn embedded(db: PathBuf, token: String) -> Config {
        Config {
            db,
            policy: Policy::default(),
            grace_ms: 0,
            client_token: token.clone(),
            worker_token: token,
            tls: None,
            metrics: None,
            keda: None,
            slurm: None,
            backup: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection: {0}")]
    Reflection(String),
    #[error("the core thread stopped: {0}")]
    CoreStopped(String),
    #[error("cannot listen: {0}")]
    Bind(String),
}

fn now_ms() -> Millis {
    Millis(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    )
}

type Reply = Box<dyn FnOnce() + Send>;
type Op = Box<dyn FnOnce(&mut Core, Millis) -> Reply + Send>;

enum Msg {
    Op(Op),
    Stop,
}

/// The async side's way into the core.
#[derive(Clone)]
pub(crate) struct Handle(mpsc::Sender<Msg>);

impl Handle {
    pub(crate) async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Core, Millis) -> T + Send + 'static,
    ) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        let op: Op = Box::new(move |core, now| {
            let v = f(core, now);
            Box::new(move || {
                let _ = tx.send(v);
            })
        });
        self.0
            .send(Msg::Op(op))
            .map_err(|_| Status::unavailable("the coordinator is shutting down"))?;
        // A dropped reply means the batch did not commit: the caller must not assume anything.
        rx.await.map_err(|_| {
            Status::unavailable("the coordinator could not commit (see its log); retry")
        })
    }
}

/// Applies queued operations in batches: apply all waiting, commit once, then reply.
fn core_loop(
    mut core: Core,
    rx: mpsc::Receiver<Msg>,
    tx: mpsc::Sender<Msg>,
    db: PathBuf,
) -> Result<(), CoreError> {
    let tick = Duration::from_millis((core.heartbeat_ms() / 2).clamp(50, 1_000));
    let mut next_tick = Instant::now();
    let mut replies: Vec<Reply> = Vec::new();
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        let first = match rx.recv_timeout(wait) {
            Ok(Msg::Op(op)) => Some(op),
            Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => None,
        };
        let now = now_ms();
        let mut stop = false;
        if let Some(op) = first {
            replies.push(op(&mut core, now));
            // Group commit: everything already waiting joins this batch.
            while replies.len() < 4_096 {
                match rx.try_recv() {
                    Ok(Msg::Op(op)) => replies.push(op(&mut core, now)),
                    Ok(Msg::Stop) => {
                        stop = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        if Instant::now() >= next_tick {
            core.tick(now);
            next_tick = Instant::now() + tick;
        }
        // On failure the replies are dropped unsent: their callers see UNAVAILABLE and the
        // in-memory state, now ahead of the disk, dies with this thread (fail-stop; a restart
        // rebuilds from what was committed).
        core.commit()?;
        for r in replies.drain(..) {
            r();
        }
        for job in core.take_jobs() {
            let tx = tx.clone();
            let db = db.clone();
            std::thread::spawn(move || {
                let out = jobs::run(&db, &job);
                let id = job.sweep_id.clone();
                let op: Op = Box::new(move |core, now| {
                    match out {
                        Ok(JobOutput::Final(files)) => core.aggregated(&id, Ok(files)),
                        Ok(JobOutput::Partial(tc)) => core.partial(now, &id, tc),
                        Err(e) if job.final_outputs => core.aggregated(&id, Err(e)),
                        Err(e) => {
                            tracing::warn!(sweep = %id, error = %e, "partial estimate failed");
                            core.partial(now, &id, None);
                        }
                    }
                    Box::new(|| {})
                });
                let _ = tx.send(Msg::Op(op));
            });
        }
        if stop {
            break;
        }
    }
    Ok(())
}

pub(crate) fn status_of(e: CoreError) -> Status {
    match e {
        CoreError::InvalidSweep(m) => {
            tracing::info!(error = %m, "sweep rejected");
            Status::invalid_argument(m)
        }
        CoreError::Invalid(m) => malformed(m),
        e @ CoreError::NoSuchSweep(_) => Status::not_found(e.to_string()),
        e @ CoreError::NoAllocation => Status::failed_precondition(e.to_string()),
        e @ CoreError::Store(_) => Status::internal(e.to_string()),
    }
}

/// A malformed request: refused with INVALID_ARGUMENT, and logged, since it means a client or
/// worker speaks the contract wrongly (or is not who it claims to be).
pub(crate) fn malformed(what: impl Into<String>) -> Status {
    let what = what.into();
    tracing::warn!(error = %what, "malformed request rejected");
    Status::invalid_argument(what)
}

fn key_of(bytes: &[u8]) -> Result<TaskKey, Status> {
    bytes
        .try_into()
        .map(TaskKey)
        .map_err(|_| malformed("task key must be 32 bytes"))
}

fn worker_of(id: &str) -> Result<WorkerId, Status> {
    if id.is_empty() || id.len() > 256 {
        return Err(malformed("worker_id must be 1 to 256 bytes"));
    }
    Ok(WorkerId(id.to_string()))
}

struct WorkerService {
    core: Handle,
}

#[tonic::async_trait]
impl Worker for WorkerService {
    async fn lease(
        &self,
        req: Request<v1::LeaseRequest>,
    ) -> Result<Response<v1::LeaseReply>, Status> {
        let r = req.into_inner();
        let worker = worker_of(&r.worker_id)?;
        let slots = r.slots as usize;
        let time_left = r.time_left_ms;
        let caps = rgsweep_proto::capabilities_from_wire(&r.capabilities)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let reply = self
            .core
            .call(move |core, now| v1::LeaseReply {
                leases: core.lease(now, &worker, slots, time_left, &caps),
                heartbeat_ms: core.heartbeat_ms(),
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn heartbeat(
        &self,
        req: Request<v1::HeartbeatRequest>,
    ) -> Result<Response<v1::HeartbeatReply>, Status> {
        let r = req.into_inner();
        let worker = worker_of(&r.worker_id)?;
        let leases = r
            .leases
            .iter()
            .map(|l| Ok((key_of(&l.key)?, LeaseToken(l.token))))
            .collect::<Result<Vec<_>, Status>>()?;
        let dead = self
            .core
            .call(move |core, now| core.heartbeat(now, &worker, &leases))
            .await?;
        Ok(Response::new(v1::HeartbeatReply { dead_tokens: dead }))
    }

    async fn complete(
        &self,
        req: Request<v1::CompleteRequest>,
    ) -> Result<Response<v1::CompleteReply>, Status> {
        let r = req.into_inner();
        let worker = worker_of(&r.worker_id)?;
        let slots = r.lease_slots as usize;
        let time_left = r.time_left_ms;
        let caps = rgsweep_proto::capabilities_from_wire(&r.capabilities)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        // Checking and re-encoding large results is CPU work: keep it off the async threads.
        let verified = if r.encoded_len() > 1 << 20 {
            tokio::task::spawn_blocking(move || verify(r.results))
                .await
                .map_err(|e| Status::internal(e.to_string()))??
        } else {
            verify(r.results)?
        };
        let reply = self
            .core
            .call(move |core, now| {
                let outcomes = core.complete(now, &worker, verified);
                let leases = if slots > 0 {
                    core.lease(now, &worker, slots, time_left, &caps)
                } else {
                    Vec::new()
                };
                v1::CompleteReply {
                    outcomes: outcomes.into_iter().map(|o| o as i32).collect(),
                    leases,
                    heartbeat_ms: core.heartbeat_ms(),
                }
            })
            .await?;
        Ok(Response::new(reply))
    }

    async fn fail(&self, req: Request<v1::FailRequest>) -> Result<Response<v1::FailReply>, Status> {
        let r = req.into_inner();
        let worker = worker_of(&r.worker_id)?;
        let key = key_of(&r.key)?;
        let mut reason = r.reason;
        reason.truncate(4_096);
        let outcome = self
            .core
            .call(move |core, now| {
                core.fail(now, &worker, key, LeaseToken(r.token), reason, r.release)
            })
            .await?;
        Ok(Response::new(v1::FailReply {
            outcome: outcome.to_string(),
        }))
    }
}

fn verify(results: Vec<v1::Completed>) -> Result<Vec<Verified>, Status> {
    results
        .into_iter()
        .map(|c| {
            let key = key_of(&c.key)?;
            let wire = c.result.ok_or_else(|| malformed("result missing"))?;
            crate::core::verify(key, LeaseToken(c.token), wire)
                .map_err(|e| malformed(e.to_string()))
        })
        .collect()
}

/// Accepts a request only with `authorization: Bearer <one of tokens>`.
#[derive(Clone)]
struct Auth {
    tokens: Arc<Vec<Vec<u8>>>,
    service: &'static str,
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let given = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match given {
            Some(t) if self.tokens.iter().any(|ok| same(ok, t.as_bytes())) => Ok(req),
            _ => {
                tracing::warn!(
                    service = self.service,
                    remote = ?req.remote_addr(),
                    token_given = given.is_some(),
                    "request rejected: missing or wrong bearer token"
                );
                Err(Status::unauthenticated(
                    "missing or wrong bearer token (see --access)",
                ))
            }
        }
    }
}

/// KEDA's external scaler over the core's snapshot (see `monitor::scaling`).
struct KedaService {
    core: Handle,
}

impl KedaService {
    async fn scaling(
        &self,
        r: &externalscaler::ScaledObjectRef,
    ) -> Result<monitor::Scaling, Status> {
        let snapshot = self.core.call(|core, now| core.snapshot(now)).await?;
        monitor::scaling(
            &snapshot,
            r.scaler_metadata.get("tasksPerWorker").map(String::as_str),
        )
        .map_err(malformed)
    }
}

#[tonic::async_trait]
impl ExternalScaler for KedaService {
    async fn is_active(
        &self,
        req: Request<externalscaler::ScaledObjectRef>,
    ) -> Result<Response<externalscaler::IsActiveResponse>, Status> {
        let s = self.scaling(req.get_ref()).await?;
        Ok(Response::new(externalscaler::IsActiveResponse {
            result: s.active,
        }))
    }

    type StreamIsActiveStream = ReceiverStream<Result<externalscaler::IsActiveResponse, Status>>;

    async fn stream_is_active(
        &self,
        req: Request<externalscaler::ScaledObjectRef>,
    ) -> Result<Response<Self::StreamIsActiveStream>, Status> {
        let r = req.into_inner();
        // Checked once up front, so a bad trigger is refused rather than streamed errors.
        let first = self.scaling(&r).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let me = KedaService {
            core: self.core.clone(),
        };
        tokio::spawn(async move {
            let mut last = None;
            let mut next = Ok(first);
            loop {
                match next {
                    Ok(s) if last != Some(s.active) => {
                        let reply = externalscaler::IsActiveResponse { result: s.active };
                        if tx.send(Ok(reply)).await.is_err() {
                            return;
                        }
                        last = Some(s.active);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        // The coordinator is stopping: end the stream; KEDA reconnects.
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                if tx.is_closed() {
                    return;
                }
                next = me.scaling(&r).await;
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_metric_spec(
        &self,
        req: Request<externalscaler::ScaledObjectRef>,
    ) -> Result<Response<externalscaler::GetMetricSpecResponse>, Status> {
        let s = self.scaling(req.get_ref()).await?;
        Ok(Response::new(externalscaler::GetMetricSpecResponse {
            metric_specs: vec![externalscaler::MetricSpec {
                metric_name: monitor::KEDA_METRIC.into(),
                target_size: s.target_per_worker as i64,
                target_size_float: s.target_per_worker as f64,
            }],
        }))
    }

    async fn get_metrics(
        &self,
        req: Request<externalscaler::GetMetricsRequest>,
    ) -> Result<Response<externalscaler::GetMetricsResponse>, Status> {
        let r = req.into_inner();
        let object = r.scaled_object_ref.unwrap_or_default();
        let s = self.scaling(&object).await?;
        Ok(Response::new(externalscaler::GetMetricsResponse {
            metric_values: vec![externalscaler::MetricValue {
                metric_name: monitor::KEDA_METRIC.into(),
                metric_value: s.open_tasks as i64,
                metric_value_float: s.open_tasks as f64,
            }],
        }))
    }
}

/// `GET /metrics`: the Prometheus text of a fresh snapshot.
async fn metrics(
    axum::extract::State(core): axum::extract::State<Handle>,
) -> Result<([(axum::http::HeaderName, &'static str); 1], String), axum::http::StatusCode> {
    let snapshot = core
        .call(|core, now| core.snapshot(now))
        .await
        .map_err(|_| axum::http::StatusCode::SERVICE_UNAVAILABLE)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        monitor::prometheus(&snapshot),
    ))
}

/// The allocation loop: list this coordinator's jobs, ask the core how many more it wants,
/// submit them; stops when the core does.
async fn allocate(core: Handle, config: SlurmConfig) {
    loop {
        let c = config.clone();
        match tokio::task::spawn_blocking(move || slurm::list(&c)).await {
            Ok(Ok(listed)) => {
                if core
                    .call(move |core, _| core.alloc_observe(&listed))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot list worker allocations"),
            Err(e) => tracing::warn!(error = %e, "allocation listing panicked"),
        }
        let Ok(wanted) = core.call(|core, now| core.alloc_plan(now)).await else {
            return;
        };
        for _ in 0..wanted {
            let c = config.clone();
            let outcome = tokio::task::spawn_blocking(move || slurm::submit(&c))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            let failed = outcome.is_err();
            if core
                .call(move |core, now| core.alloc_submitted(now, outcome))
                .await
                .is_err()
            {
                return;
            }
            if failed {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(config.poll_ms)).await;
    }
}

/// Binds `addr` for one of the side servers.
async fn bind(addr: SocketAddr, what: &str) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServeError::Bind(format!("{what} on {addr}: {e}")))
}

/// A running coordinator.
pub struct Coordinator {
    pub addr: SocketAddr,
    /// Where `/metrics` and KEDA's scaler are served, if asked for.
    pub metrics_addr: Option<SocketAddr>,
    pub keda_addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<Result<(), ServeError>>,
}

impl Coordinator {
    /// Opens the database (recovering any previous state) and serves on `listener`.
    pub async fn start(
        config: Config,
        listener: tokio::net::TcpListener,
    ) -> Result<Coordinator, ServeError> {
        let addr = listener
            .local_addr()
            .map_err(|e| ServeError::CoreStopped(format!("listener has no local address: {e}")))?;
        let db = config.db.clone();
        let policy = config.policy.clone();
        let grace = config.grace_ms;
        let mut core =
            tokio::task::spawn_blocking(move || Core::open(&db, policy, now_ms(), grace))
                .await
                .map_err(|e| ServeError::CoreStopped(e.to_string()))??;
        if let Some((_, policy)) = &config.slurm {
            core.enable_allocation(policy.clone());
        }
        let (tx, rx) = mpsc::channel();
        let (dead_tx, dead_rx) = oneshot::channel::<String>();
        {
            let tx = tx.clone();
            let db = config.db.clone();
            std::thread::Builder::new()
                .name("rgsweep-core".into())
                .spawn(move || {
                    let outcome = core_loop(core, rx, tx, db);
                    let why = match outcome {
                        Ok(()) => "stopped".to_string(),
                        Err(e) => {
                            tracing::error!(error = %e, "core stopped; the coordinator must restart");
                            e.to_string()
                        }
                    };
                    let _ = dead_tx.send(why);
                })
                .map_err(|e| ServeError::CoreStopped(e.to_string()))?;
        }
        let handle = Handle(tx.clone());
        let worker_auth = Auth {
            tokens: Arc::new(vec![
                config.worker_token.clone().into_bytes(),
                config.client_token.clone().into_bytes(),
            ]),
            service: "worker",
        };
        let client_auth = Auth {
            tokens: Arc::new(vec![config.client_token.clone().into_bytes()]),
            service: "client",
        };
        let reflection = || {
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(rgsweep_proto::FILE_DESCRIPTOR_SET)
        };
        let reflection_v1 = reflection()
            .build_v1()
            .map_err(|e| ServeError::Reflection(e.to_string()))?;
        // v1alpha too: Python's grpcio-reflection and older tools speak nothing else.
        let reflection_v1alpha = reflection()
            .build_v1alpha()
            .map_err(|e| ServeError::Reflection(e.to_string()))?;
        let mut builder = Server::builder()
            .tcp_nodelay(true)
            .http2_keepalive_interval(Some(Duration::from_secs(30)));
        if let Some((cert, key)) = &config.tls {
            builder = builder
                .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))?;
        }
        let router = builder
            .add_service(InterceptedService::new(
                WorkerServer::new(WorkerService {
                    core: handle.clone(),
                })
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
                worker_auth.clone(),
            ))
            .add_service(InterceptedService::new(
                ClientServer::new(ClientService::new(handle.clone(), config.db.clone()))
                    .max_decoding_message_size(64 << 20)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES),
                client_auth.clone(),
            ))
            .add_service(InterceptedService::new(reflection_v1, worker_auth.clone()))
            .add_service(InterceptedService::new(reflection_v1alpha, worker_auth));
        // Side servers: they end when the main server does.
        let mut side = Vec::new();
        let mut metrics_addr = None;
        if let Some(addr) = config.metrics {
            let l = bind(addr, "metrics").await?;
            metrics_addr = l.local_addr().ok();
            let app = axum::Router::new()
                .route("/metrics", axum::routing::get(metrics))
                .with_state(handle.clone());
            side.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(l, app).await {
                    tracing::error!(error = %e, "metrics server stopped");
                }
            }));
            tracing::info!(addr = ?metrics_addr, "metrics at /metrics");
        }
        let mut keda_addr = None;
        if let Some(addr) = config.keda {
            let l = bind(addr, "KEDA scaler").await?;
            keda_addr = l.local_addr().ok();
            let service = ExternalScalerServer::new(KedaService {
                core: handle.clone(),
            });
            side.push(tokio::spawn(async move {
                let served = Server::builder()
                    .add_service(service)
                    .serve_with_incoming(TcpListenerStream::new(l))
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "KEDA scaler stopped");
                }
            }));
            tracing::info!(addr = ?keda_addr, "KEDA external scaler");
        }
        if let Some(p) = config.backup.clone() {
            tracing::info!(dir = %p.dir.display(), every = ?p.every, keep = p.keep, "periodic backups");
            side.push(tokio::spawn(crate::backup::periodic(config.db.clone(), p)));
        }
        let slurm = config.slurm.as_ref().map(|(c, _)| c.clone());
        if let Some(c) = slurm.clone() {
            tracing::info!(sbatch = ?c.sbatch_command(), "allocating workers from Slurm");
            side.push(tokio::spawn(allocate(handle.clone(), c)));
        }
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let incoming = TcpListenerStream::new(listener);
        let last_handle = handle.clone();
        let server = tokio::spawn(async move {
            let mut died = None;
            let shutdown = async {
                tokio::select! {
                    _ = stop_rx => {}
                    why = dead_rx => { died = why.ok(); }
                }
            };
            let served = router
                .serve_with_incoming_shutdown(incoming, shutdown)
                .await;
            for h in side {
                h.abort();
            }
            if slurm.is_some() {
                // Allocations still waiting would start workers for a stopped coordinator.
                if let Ok(waiting) = last_handle.call(|core, _| core.alloc_waiting()).await {
                    let _ = tokio::task::spawn_blocking(move || slurm::cancel(&waiting)).await;
                }
            }
            let _ = tx.send(Msg::Stop);
            served?;
            match died {
                Some(why) => Err(ServeError::CoreStopped(why)),
                None => Ok(()),
            }
        });
        tracing::info!(%addr, "coordinator listening");
        Ok(Coordinator {
            addr,
            metrics_addr,
            keda_addr,
            stop: Some(stop_tx),
            server,
        })
    }

    /// Stops serving and waits for in-flight requests and the core's last commit.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops (after [`Coordinator::shutdown`] or a core failure).
    pub async fn wait(&mut self) -> Result<(), ServeError> {
        (&mut self.server)
            .await
            .map_err(|e| ServeError::CoreStopped(e.to_string()))?
    }

    /// A handle that stops the server when `stop()` is called on it.
    pub fn stopper(&mut self) -> Option<oneshot::Sender<()>> {
        self.stop.take()
    }
}

/// A fresh random token (256 bits, hex).
pub fn generate_token() -> Result<String, std::io::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
