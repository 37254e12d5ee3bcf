//! The client service: submit, follow, fetch, cancel, retry and back up sweeps. Each call is
//! one closure on the core thread (see [`crate::service`]); the heavy parts — aggregating an
//! unfinished sweep's points, copying the database — run on blocking threads beside it.

use crate::core::ResultsPlan;
use crate::jobs;
use crate::service::{Handle, malformed, status_of};
use rgsweep_proto::v1;
use rgsweep_proto::v1::client_server::Client;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

/// Bytes per backup chunk: well under the message limit.
const CHUNK: usize = 1 << 20;

/// Sends a file in chunks; the last one carries the SHA-256 of the whole.
fn stream_file(
    path: &Path,
    tx: &tokio::sync::mpsc::Sender<Result<v1::BackupChunk, Status>>,
) -> std::io::Result<()> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(path)?;
    let total = f.metadata()?.len();
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut sent = 0u64;
    loop {
        let mut n = 0;
        while n < CHUNK {
            let k = f.read(&mut buf[n..])?;
            if k == 0 {
                break;
            }
            n += k;
        }
        hash.update(&buf[..n]);
        sent += n as u64;
        let last = n < CHUNK || sent == total;
        let chunk = v1::BackupChunk {
            data: buf[..n].to_vec(),
            total,
            sha256: if last {
                hash.clone().finalize().to_vec()
            } else {
                Vec::new()
            },
        };
        if tx.blocking_send(Ok(chunk)).is_err() || last {
            return Ok(());
        }
    }
}

pub(crate) struct ClientService {
    core: Handle,
    db: PathBuf,
    /// One backup at a time: each copies the whole database.
    backups: Arc<tokio::sync::Mutex<()>>,
}

impl ClientService {
    pub(crate) fn new(core: Handle, db: PathBuf) -> ClientService {
        ClientService {
            core,
            db,
            backups: Arc::default(),
        }
    }
}

#[tonic::async_trait]
impl Client for ClientService {
    async fn submit(
        &self,
        req: Request<v1::SubmitRequest>,
    ) -> Result<Response<v1::SubmitReply>, Status> {
        let r = req.into_inner();
        let reply = self
            .core
            .call(move |core, now| core.submit(now, &r.file_name, &r.toml))
            .await?
            .map_err(status_of)?;
        tracing::info!(sweep = %reply.sweep_id, name = %reply.name, tasks = reply.tasks, reused = reply.reused, "sweep submitted");
        Ok(Response::new(reply))
    }

    async fn status(
        &self,
        req: Request<v1::StatusRequest>,
    ) -> Result<Response<v1::StatusReply>, Status> {
        let id = req.into_inner().sweep_id;
        let reply = self
            .core
            .call(move |core, now| core.status(now, &id))
            .await?
            .map_err(status_of)?;
        Ok(Response::new(reply))
    }

    type WatchStream = ReceiverStream<Result<v1::SweepStatus, Status>>;

    async fn watch(
        &self,
        req: Request<v1::StatusRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let id = req.into_inner().sweep_id;
        if id.is_empty() {
            return Err(malformed("watch needs a sweep id"));
        }
        let core = self.core.clone();
        let first = {
            let id = id.clone();
            core.call(move |c, now| c.status(now, &id))
                .await?
                .map_err(status_of)?
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut last = first.sweeps.into_iter().next();
            while let Some(s) = last.clone() {
                let ended = !matches!(s.state.as_str(), "running" | "aggregating");
                if tx.send(Ok(s)).await.is_err() || ended {
                    break;
                }
                // Poll the core, send only changes.
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let id = id.clone();
                    let now = match core.call(move |c, now| c.status(now, &id)).await {
                        Ok(Ok(r)) => r.sweeps.into_iter().next(),
                        Ok(Err(e)) => {
                            let _ = tx.send(Err(status_of(e))).await;
                            return;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    };
                    if now != last {
                        last = now;
                        break;
                    }
                    if tx.is_closed() {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn results(
        &self,
        req: Request<v1::ResultsRequest>,
    ) -> Result<Response<v1::ResultsReply>, Status> {
        let id = req.into_inner().sweep_id;
        let plan = self
            .core
            .call(move |core, _| core.results(&id))
            .await?
            .map_err(status_of)?;
        let (files, partial) = match plan {
            ResultsPlan::Stored(files) => (files, None),
            ResultsPlan::Partial(job) => {
                let db = self.db.clone();
                // Aggregation reads every result: off the async threads and the core thread.
                let (files, job) =
                    tokio::task::spawn_blocking(move || (jobs::partial_outputs(&db, &job), job))
                        .await
                        .map_err(|e| Status::internal(format!("aggregation: {e}")))?;
                let files = files.map_err(|e| {
                    Status::failed_precondition(format!("cannot aggregate {}: {e}", job.sweep_id))
                })?;
                (files, Some(job.partial))
            }
        };
        let missing = partial.as_ref().map_or(0, |p| p.missing.len());
        Ok(Response::new(v1::ResultsReply {
            files: files
                .into_iter()
                .map(|(name, content)| v1::OutputFile { name, content })
                .collect(),
            partial: missing > 0,
            state: partial.as_ref().map_or("done", |p| &p.state).to_string(),
            missing_points: missing as u64,
            points: partial.as_ref().map_or(0, |p| p.points as u64),
        }))
    }

    async fn retry(
        &self,
        req: Request<v1::RetryRequest>,
    ) -> Result<Response<v1::RetryReply>, Status> {
        let id = req.into_inner().sweep_id;
        let requeued = self
            .core
            .call(move |core, _| core.retry(&id))
            .await?
            .map_err(status_of)?;
        Ok(Response::new(v1::RetryReply { requeued }))
    }

    type BackupStream = ReceiverStream<Result<v1::BackupChunk, Status>>;

    async fn backup(
        &self,
        _req: Request<v1::BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        let guard = self.backups.clone().lock_owned().await;
        let db = self.db.clone();
        let copy = tokio::task::spawn_blocking(move || crate::backup::copy_beside(&db))
            .await
            .map_err(|e| Status::internal(format!("backup: {e}")))?
            .map_err(|e| {
                tracing::error!(error = %e, "backup failed");
                Status::internal(format!("backup: {e}"))
            })?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            if let Err(e) = stream_file(&copy, &tx) {
                let _ = tx.blocking_send(Err(Status::internal(format!("backup: {e}"))));
            }
            let _ = std::fs::remove_file(&copy);
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn cancel(
        &self,
        req: Request<v1::CancelRequest>,
    ) -> Result<Response<v1::CancelReply>, Status> {
        let id = req.into_inner().sweep_id;
        let cancelled = self
            .core
            .call(move |core, _| core.cancel(&id))
            .await?
            .map_err(status_of)?;
        Ok(Response::new(v1::CancelReply { cancelled }))
    }

    async fn resume_allocation(
        &self,
        _req: Request<v1::ResumeAllocationRequest>,
    ) -> Result<Response<v1::ResumeAllocationReply>, Status> {
        let was_paused = self
            .core
            .call(|core, _| core.alloc_resume())
            .await?
            .map_err(status_of)?;
        Ok(Response::new(v1::ResumeAllocationReply { was_paused }))
    }
}
