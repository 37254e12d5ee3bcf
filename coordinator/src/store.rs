//! The durable store: SQLite in WAL mode, written only by the coordinator's core thread.
//!
//! The in-memory [`crate::queue::Queue`] is the working copy; this file is the truth after a
//! crash. Every batch of changes is written in one transaction and committed before any reply
//! that depends on it leaves the process (group commit), so a worker or client is never told
//! something the disk does not know.
//!
//! Tables: `meta` (schema version, next fencing token), `sweeps`, `tasks` (spec and queue
//! state), `sweep_tasks` (which sweeps need which task: tasks are shared by content key),
//! `results` (canonical result bytes, one row per task, never rewritten) and `outputs` (the
//! aggregated files of finished sweeps).

use crate::queue::{Entry, TaskKey, TaskState};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database {path}: {message}")]
    Corrupt { path: String, message: String },
}

/// Version 2: a task's `attempts` became `errors` (errors it reported) beside `lost` (workers
/// lost while running it).
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    toml TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    key BLOB PRIMARY KEY,
    spec BLOB NOT NULL,
    cost REAL NOT NULL,
    state INTEGER NOT NULL,
    worker TEXT,
    token INTEGER,
    expires INTEGER,
    errors INTEGER NOT NULL,
    last_error TEXT,
    digest BLOB,
    lost INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sweep_tasks (
    sweep TEXT NOT NULL,
    key BLOB NOT NULL,
    PRIMARY KEY (sweep, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results (
    key BLOB PRIMARY KEY,
    body BLOB NOT NULL,
    digest BLOB NOT NULL,
    worker TEXT NOT NULL,
    token INTEGER NOT NULL,
    committed_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outputs (
    sweep TEXT NOT NULL,
    name TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (sweep, name)
) WITHOUT ROWID;
";

/// A sweep row.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepRow {
    pub id: String,
    pub name: String,
    pub file: String,
    pub toml: String,
    pub state: String,
    pub submitted_ms: u64,
}

/// A task row: its wire spec (a prost-encoded `v1::Task`), cost and queue entry.
pub struct TaskRow {
    pub key: TaskKey,
    pub spec: Vec<u8>,
    pub entry: Entry,
}

/// A committed result.
pub struct ResultRow {
    pub key: TaskKey,
    pub body: Vec<u8>,
    pub digest: [u8; 32],
    pub worker: String,
    pub token: u64,
    pub committed_ms: u64,
}

/// Everything one group commit writes.
#[derive(Default)]
pub struct Batch {
    pub sweeps: Vec<SweepRow>,
    pub new_tasks: Vec<TaskRow>,
    /// Tasks whose queue entry changed (written from the entry as it is at commit time).
    pub changed: Vec<(TaskKey, Entry)>,
    pub memberships: Vec<(String, TaskKey)>,
    pub results: Vec<ResultRow>,
    pub outputs: Vec<(String, String, Vec<u8>)>,
    pub next_token: Option<u64>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.sweeps.is_empty()
            && self.new_tasks.is_empty()
            && self.changed.is_empty()
            && self.memberships.is_empty()
            && self.results.is_empty()
            && self.outputs.is_empty()
            && self.next_token.is_none()
    }
}

pub struct Store {
    pub(crate) conn: Connection,
}

fn state_code(s: &TaskState) -> i64 {
    match s {
        TaskState::Queued => 0,
        TaskState::Leased { .. } => 1,
        TaskState::Done { .. } => 2,
        TaskState::Failed { .. } => 3,
        TaskState::Cancelled => 4,
    }
}

/// Opens a connection with the settings every user of the file shares.
pub fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    // WAL: readers (aggregation, status) never block the writer. synchronous=FULL: a commit is
    // on disk before the call returns, so "committed" survives a power cut, not just a crash.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = connect(path)?;
        conn.execute_batch(SCHEMA)?;
        let version: Option<i64> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match version {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                    [SCHEMA_VERSION],
                )?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(1) => migrate_from_v1(&conn)?,
            Some(v) => {
                return Err(StoreError::Corrupt {
                    path: path.display().to_string(),
                    message: format!(
                        "schema version {v}; this rgsweep reads version {SCHEMA_VERSION}"
                    ),
                });
            }
        }
        Ok(Store { conn })
    }

    /// Makes finished sweeps aggregate again if their outputs were written by an older
    /// aggregation (`format` is [`crate::aggregate::AGGREGATE_FORMAT`]): outputs are a function
    /// of the results *and* of the aggregation code, and the results are kept. One
    /// transaction, so a crash leaves either the old state or the sweeps marked for
    /// re-aggregation with the new format recorded.
    pub fn reaggregate_if_older(&mut self, format: i64) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let stored: Option<i64> = tx
            .query_row("SELECT value FROM meta WHERE key = 'aggregate'", [], |r| {
                r.get(0)
            })
            .optional()?;
        let mut changed = 0;
        if stored != Some(format) {
            changed = tx.execute(
                "UPDATE sweeps SET state = 'aggregating' WHERE state = 'done'",
                [],
            )?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('aggregate', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [format],
            )?;
        }
        tx.commit()?;
        Ok(changed)
    }

    pub fn next_token(&self) -> Result<u64, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'next_token'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(v.unwrap_or(0) as u64)
    }

    pub fn sweeps(&self) -> Result<Vec<SweepRow>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT id, name, file, toml, state, submitted_ms FROM sweeps ORDER BY submitted_ms, id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(SweepRow {
                id: r.get(0)?,
                name: r.get(1)?,
                file: r.get(2)?,
                toml: r.get(3)?,
                state: r.get(4)?,
                submitted_ms: r.get::<_, i64>(5)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls `f` for every task row, in key order.
    pub fn for_each_task(&self, mut f: impl FnMut(TaskRow)) -> Result<(), StoreError> {
        let mut st = self.conn.prepare(
            "SELECT key, spec, cost, state, worker, token, expires, errors, last_error, digest, lost
             FROM tasks ORDER BY key",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let key: Vec<u8> = r.get(0)?;
            let key = TaskKey(
                key.try_into()
                    .map_err(|_| self.corrupt("task key length"))?,
            );
            let code: i64 = r.get(3)?;
            let state = match code {
                0 => TaskState::Queued,
                1 => TaskState::Leased {
                    worker: crate::queue::WorkerId(
                        r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    ),
                    token: crate::queue::LeaseToken(r.get::<_, Option<i64>>(5)?.unwrap_or(0) as u64),
                    expires: crate::queue::Millis(r.get::<_, Option<i64>>(6)?.unwrap_or(0) as u64),
                },
                2 => {
                    let d: Vec<u8> = r.get::<_, Option<Vec<u8>>>(9)?.unwrap_or_default();
                    TaskState::Done {
                        digest: d.try_into().map_err(|_| self.corrupt("digest length"))?,
                    }
                }
                3 => TaskState::Failed {
                    error: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                },
                4 => TaskState::Cancelled,
                other => return Err(self.corrupt(&format!("task state {other}"))),
            };
            f(TaskRow {
                key,
                spec: r.get(1)?,
                entry: Entry {
                    cost: r.get(2)?,
                    // Derived from the spec by the caller: not a column.
                    needs: None,
                    errors: r.get::<_, i64>(7)? as u32,
                    lost: r.get::<_, i64>(10)? as u32,
                    state,
                    last_error: r.get(8)?,
                },
            });
        }
        Ok(())
    }

    /// Every (sweep, task key) membership.
    pub fn memberships(&self) -> Result<Vec<(String, TaskKey)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT sweep, key FROM sweep_tasks ORDER BY sweep, key")?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let key: Vec<u8> = r.get(1)?;
            out.push((
                r.get(0)?,
                TaskKey(
                    key.try_into()
                        .map_err(|_| self.corrupt("task key length"))?,
                ),
            ));
        }
        Ok(out)
    }

    /// The output files of a finished sweep, by name.
    pub fn outputs(&self, sweep: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        outputs(&self.conn, sweep)
    }

    fn corrupt(&self, message: &str) -> StoreError {
        StoreError::Corrupt {
            path: self.conn.path().unwrap_or("?").to_string(),
            message: message.to_string(),
        }
    }

    /// Writes a batch in one transaction and commits it.
    pub fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO sweeps (id, name, file, toml, state, submitted_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET state = excluded.state",
            )?;
            for s in &batch.sweeps {
                st.execute(params![
                    s.id,
                    s.name,
                    s.file,
                    s.toml,
                    s.state,
                    s.submitted_ms as i64
                ])?;
            }
            let mut st = tx.prepare_cached(
                "INSERT INTO tasks (key, spec, cost, state, worker, token, expires, errors, last_error, digest, lost)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for t in &batch.new_tasks {
                let (worker, token, expires, digest) = state_columns(&t.entry.state);
                st.execute(params![
                    &t.key.0[..],
                    t.spec,
                    t.entry.cost,
                    state_code(&t.entry.state),
                    worker,
                    token,
                    expires,
                    t.entry.errors,
                    t.entry.last_error,
                    digest,
                    t.entry.lost
                ])?;
            }
            let mut st = tx.prepare_cached(
                "UPDATE tasks SET state = ?2, worker = ?3, token = ?4, expires = ?5, errors = ?6,
                 last_error = ?7, digest = ?8, lost = ?9 WHERE key = ?1",
            )?;
            for (key, entry) in &batch.changed {
                let (worker, token, expires, digest) = state_columns(&entry.state);
                st.execute(params![
                    &key.0[..],
                    state_code(&entry.state),
                    worker,
                    token,
                    expires,
                    entry.errors,
                    entry.last_error,
                    digest,
                    entry.lost
                ])?;
            }
            let mut st = tx
                .prepare_cached("INSERT OR IGNORE INTO sweep_tasks (sweep, key) VALUES (?1, ?2)")?;
            for (sweep, key) in &batch.memberships {
                st.execute(params![sweep, &key.0[..]])?;
            }
            // A result row is written once and never replaced: the first result wins.
            let mut st = tx.prepare_cached(
                "INSERT OR IGNORE INTO results (key, body, digest, worker, token, committed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in &batch.results {
                st.execute(params![
                    &r.key.0[..],
                    r.body,
                    &r.digest[..],
                    r.worker,
                    r.token as i64,
                    r.committed_ms as i64
                ])?;
            }
            let mut st = tx.prepare_cached(
                "INSERT OR REPLACE INTO outputs (sweep, name, content) VALUES (?1, ?2, ?3)",
            )?;
            for (sweep, name, content) in &batch.outputs {
                st.execute(params![sweep, name, content])?;
            }
            if let Some(t) = batch.next_token {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('next_token', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [t as i64],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

type StateColumns<'a> = (Option<&'a str>, Option<i64>, Option<i64>, Option<&'a [u8]>);

fn state_columns(s: &TaskState) -> StateColumns<'_> {
    match s {
        TaskState::Leased {
            worker,
            token,
            expires,
        } => (
            Some(worker.0.as_str()),
            Some(token.0 as i64),
            Some(expires.0 as i64),
            None,
        ),
        TaskState::Done { digest } => (None, None, None, Some(&digest[..])),
        _ => (None, None, None, None),
    }
}

/// Checks a copy made by [`Reader::backup`]: SQLite's integrity check passes and the schema is
/// one this rgsweep reads. Opens the file read-only: checking changes nothing.
pub fn check_copy(path: &Path) -> Result<(), StoreError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let corrupt = |message: String| StoreError::Corrupt {
        path: path.display().to_string(),
        message,
    };
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(corrupt(format!("integrity check: {verdict}")));
    }
    let version: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match version {
        Some(1 | SCHEMA_VERSION) => Ok(()),
        other => Err(corrupt(format!("schema version {other:?}"))),
    }
}

/// Version 1 counted leases handed out (`attempts`), which mixed a task's errors with lost
/// workers and the lease in flight. A failed task keeps its count (it stays failed); every
/// other task starts with fresh budgets, the only reading that never fails a task for
/// workers it lost. One transaction: a crash leaves version 1 or version 2, never a mix.
fn migrate_from_v1(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "BEGIN;
         ALTER TABLE tasks RENAME COLUMN attempts TO errors;
         ALTER TABLE tasks ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
         UPDATE tasks SET errors = 0 WHERE state != 3;
         UPDATE meta SET value = 2 WHERE key = 'schema';
         COMMIT;",
    )?;
    Ok(())
}

fn backup(src: &Connection, dest: &Path) -> Result<(), StoreError> {
    let mut out = Connection::open(dest)?;
    let b = rusqlite::backup::Backup::new(src, &mut out)?;
    // -1: every page in one step, so the copy cannot straddle two commits.
    loop {
        match b.step(-1)? {
            rusqlite::backup::StepResult::Done => break,
            // The source was locked for a moment (a checkpoint): try again.
            rusqlite::backup::StepResult::Busy | rusqlite::backup::StepResult::Locked => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            rusqlite::backup::StepResult::More => {}
            _ => {}
        }
    }
    drop(b);
    out.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// Read-side queries, on their own connection (WAL lets them run beside the writer).
pub struct Reader {
    conn: Connection,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader, StoreError> {
        Ok(Reader {
            conn: connect(path)?,
        })
    }

    /// A consistent copy of the whole database at `dest` (which must not exist), taken while
    /// the coordinator keeps committing: SQLite's online backup API copies every page in one
    /// step, inside one read transaction, so the copy is the database as of one commit (WAL
    /// lets the writer go on meanwhile; a step-by-step copy would restart at every commit).
    /// From a reader, so the core thread never waits on a copy.
    pub fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        backup(&self.conn, dest)
    }

    /// The committed result bodies of a sweep's tasks, in key order.
    pub fn sweep_results(&self, sweep: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT r.body FROM sweep_tasks s JOIN results r ON r.key = s.key
             WHERE s.sweep = ?1 ORDER BY s.key",
        )?;
        let rows = st.query_map([sweep], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn outputs(conn: &Connection, sweep: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let mut st =
        conn.prepare("SELECT name, content FROM outputs WHERE sweep = ?1 ORDER BY name")?;
    let rows = st.query_map([sweep], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rgsweep-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn entries(store: &Store) -> Vec<Entry> {
        let mut out = Vec::new();
        store.for_each_task(|t| out.push(t.entry)).expect("tasks");
        out
    }

    #[test]
    fn a_version_1_database_is_migrated_with_fresh_budgets_for_unfailed_tasks() {
        let db = temp("v1").join("db");
        {
            let conn = connect(&db).expect("open");
            // The version-1 tasks table, as rgsweep wrote it.
            let (a, b) = ("01".repeat(32), "02".repeat(32));
            conn.execute_batch(&format!(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 INSERT INTO meta VALUES ('schema', 1);
                 CREATE TABLE tasks (key BLOB PRIMARY KEY, spec BLOB NOT NULL, cost REAL NOT NULL,
                     state INTEGER NOT NULL, worker TEXT, token INTEGER, expires INTEGER,
                     attempts INTEGER NOT NULL, last_error TEXT, digest BLOB) WITHOUT ROWID;
                 INSERT INTO tasks VALUES (x'{a}', x'', 1.0, 0, NULL, NULL, NULL, 2, 'expired', NULL);
                 INSERT INTO tasks VALUES (x'{b}', x'', 1.0, 3, NULL, NULL, NULL, 3, 'boom', NULL);"
            ))
            .expect("v1 schema");
        }
        let store = Store::open(&db).expect("migrates");
        let counts: Vec<(u32, u32)> = entries(&store).iter().map(|e| (e.errors, e.lost)).collect();
        // The queued task starts afresh; the failed one keeps its count.
        assert_eq!(counts, vec![(0, 0), (3, 0)]);
        drop(store);
        let store = Store::open(&db).expect("version 2 opens as it is");
        assert_eq!(entries(&store).len(), 2);
    }

    #[test]
    fn a_backup_taken_beside_a_writer_is_a_sound_copy_of_one_commit() {
        let dir = temp("backup");
        let db = dir.join("db");
        let mut store = Store::open(&db).expect("open");
        let commit = |store: &mut Store, n: u64| {
            store
                .commit(&Batch {
                    next_token: Some(n),
                    ..Batch::default()
                })
                .expect("commit")
        };
        commit(&mut store, 7);
        let reader = Reader::open(&db).expect("reader");
        let copy = dir.join("copy.db");
        reader.backup(&copy).expect("backup");
        // The writer goes on; the copy stays what it was.
        commit(&mut store, 8);
        check_copy(&copy).expect("sound");
        assert_eq!(
            Store::open(&copy)
                .expect("opens")
                .next_token()
                .expect("meta"),
            7
        );
        assert_eq!(store.next_token().expect("meta"), 8);
        // A file that is not a database is refused, not opened as an empty one.
        let junk = dir.join("junk.db");
        std::fs::write(&junk, b"not a database at all, just text").expect("write");
        assert!(check_copy(&junk).is_err());
    }
}
