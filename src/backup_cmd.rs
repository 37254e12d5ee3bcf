//! `rgsweep backup`: an online copy of a coordinator's database, streamed to this machine and
//! checked before it is given its name.

use crate::remote::{Connect, rpc_error, runtime};
use anyhow::{Context, Result, bail};
use rgsweep_proto::v1;
use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct BackupArgs {
    /// Where to write the copy (a new SQLite file; an existing one is refused).
    out: PathBuf,
    #[command(flatten)]
    connect: Connect,
    #[arg(long)]
    json: bool,
}

/// Streams an online copy of the coordinator's database into `out`: written to a temporary
/// file beside it, checked (size, SHA-256, SQLite's integrity check), then renamed, so `out`
/// is either a whole, consistent database or absent.
pub(crate) fn backup(a: BackupArgs) -> Result<()> {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    if a.out.exists() {
        bail!("{} exists; give a new file name", a.out.display());
    }
    let mut tmp_name = a.out.clone().into_os_string();
    tmp_name.push(".part");
    let tmp = PathBuf::from(tmp_name);
    let rt = runtime()?;
    let outcome = rt.block_on(async {
        let mut c = a.connect.client()?;
        let mut stream = c
            .backup(v1::BackupRequest {})
            .await
            .map_err(|s| rpc_error("backup", s))?
            .into_inner();
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut hash = Sha256::new();
        let (mut got, mut total, mut digest) = (0u64, 0u64, Vec::new());
        while let Some(chunk) = stream.message().await.map_err(|s| rpc_error("backup", s))? {
            hash.update(&chunk.data);
            f.write_all(&chunk.data)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            got += chunk.data.len() as u64;
            total = chunk.total;
            if !chunk.sha256.is_empty() {
                digest = chunk.sha256;
                break;
            }
        }
        f.sync_all()
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        if digest.is_empty() || got != total {
            bail!("backup stream ended early ({got} of {total} bytes)");
        }
        if hash.finalize()[..] != digest[..] {
            bail!("backup corrupted in transit (SHA-256 mismatch)");
        }
        rgsweep_coordinator::store::check_copy(&tmp)
            .with_context(|| format!("the copy in {} is not a sound database", tmp.display()))?;
        Ok((got, digest))
    });
    match outcome {
        Ok((bytes, digest)) => {
            std::fs::rename(&tmp, &a.out).with_context(|| {
                format!("cannot rename {} to {}", tmp.display(), a.out.display())
            })?;
            if a.json {
                let sha: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                let path = a.out.display().to_string();
                println!(
                    "{}",
                    serde_json::json!({"path": path, "bytes": bytes, "sha256": sha})
                );
            }
            eprintln!(
                "backup of {:.1} MiB written to {} (start a coordinator with --db {} to carry on from it)",
                bytes as f64 / (1u64 << 20) as f64,
                a.out.display(),
                a.out.display()
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
