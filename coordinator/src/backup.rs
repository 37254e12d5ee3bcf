//! Backups of the coordinator's database while it runs: the `Backup` RPC streams one to a
//! client (`rgsweep backup`), and `--backup-dir` keeps periodic ones in a directory, which is
//! best on other storage than the database's (a shared file system), so that losing the
//! coordinator's disk loses at most one interval of results.
//!
//! Both copy with SQLite's online backup API from a reader connection ([`Reader::backup`]),
//! beside the core thread, which keeps committing meanwhile.

use crate::store::{Reader, StoreError};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Periodic backups: every `every`, into `dir`, keeping the newest `keep`.
#[derive(Clone, Debug)]
pub struct Periodic {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// Backup files in `dir` are named `rgsweep-<unix ms>.db`: zero-padded, so that names sort
/// by age.
const PREFIX: &str = "rgsweep-";

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Copies `db` into `dest` through a temporary file beside it, renamed only once whole, so a
/// crash mid-copy never leaves a file that looks like a backup.
pub fn copy_to(db: &Path, dest: &Path) -> Result<(), StoreError> {
    let mut part = dest.as_os_str().to_owned();
    part.push(format!(".{}.part", random_suffix()));
    let part = PathBuf::from(part);
    let outcome = Reader::open(db)
        .and_then(|r| r.backup(&part))
        .and_then(|()| std::fs::rename(&part, dest).map_err(|e| io(dest, e)));
    if outcome.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    outcome
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Corrupt {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A copy beside the database (same file system: as much room as the database had), for the
/// `Backup` RPC to stream and then delete.
pub fn copy_beside(db: &Path) -> Result<PathBuf, String> {
    let mut name = db.as_os_str().to_owned();
    name.push(format!(".backup-{}.tmp", random_suffix()));
    let copy = PathBuf::from(name);
    let started = std::time::Instant::now();
    copy_to(db, &copy).map_err(|e| e.to_string())?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "database copied for a backup"
    );
    Ok(copy)
}

/// One periodic backup: a new file in `p.dir`, then the oldest beyond `p.keep` removed.
/// Returns the new file.
pub fn once(db: &Path, p: &Periodic, now: SystemTime) -> Result<PathBuf, StoreError> {
    std::fs::create_dir_all(&p.dir).map_err(|e| io(&p.dir, e))?;
    let ms = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let dest = p.dir.join(format!("{PREFIX}{ms:015}.db"));
    copy_to(db, &dest)?;
    let mut old: Vec<PathBuf> = std::fs::read_dir(&p.dir)
        .map_err(|e| io(&p.dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|f| {
            f.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(PREFIX)
                    && n.ends_with(".db")
                    && n[PREFIX.len()..n.len() - 3]
                        .bytes()
                        .all(|b| b.is_ascii_digit())
            })
        })
        .collect();
    old.sort();
    let excess = old.len().saturating_sub(p.keep.max(1));
    for f in &old[..excess] {
        if let Err(e) = std::fs::remove_file(f) {
            tracing::warn!(file = %f.display(), error = %e, "cannot remove an old backup");
        }
    }
    Ok(dest)
}

/// Backs up every `p.every` until aborted. A failed backup is logged and tried again at the
/// next interval: it never stops the coordinator.
pub async fn periodic(db: PathBuf, p: Periodic) {
    loop {
        tokio::time::sleep(p.every).await;
        let (db, p2) = (db.clone(), p.clone());
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || once(&db, &p2, SystemTime::now())).await {
            Ok(Ok(f)) => tracing::info!(
                file = %f.display(),
                seconds = started.elapsed().as_secs_f64(),
                "database backed up"
            ),
            Ok(Err(e)) => tracing::error!(dir = %p.dir.display(), error = %e, "backup failed"),
            Err(e) => tracing::error!(error = %e, "backup task failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Batch, Store, check_copy};

    #[test]
    fn periodic_backups_keep_the_newest_and_each_is_sound() {
        let dir = std::env::temp_dir().join(format!("rgsweep-backup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let db = dir.join("db");
        let mut store = Store::open(&db).expect("open");
        let p = Periodic {
            dir: dir.join("backups"),
            every: Duration::from_secs(1),
            keep: 2,
        };
        let mut made = Vec::new();
        for n in 1..=3u64 {
            store
                .commit(&Batch {
                    next_token: Some(n),
                    ..Batch::default()
                })
                .expect("commit");
            let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000 + n);
            made.push(once(&db, &p, t).expect("backup"));
        }
        let mut left: Vec<PathBuf> = std::fs::read_dir(&p.dir)
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        left.sort();
        assert_eq!(left, made[1..], "the oldest went; no temporary files stay");
        for (f, token) in left.iter().zip([2, 3]) {
            check_copy(f).expect("sound");
            assert_eq!(
                Store::open(f).expect("opens").next_token().expect("meta"),
                token
            );
        }
    }
}
