//! Chaos: a sweep of 108 tasks on three worker processes survives 15 `kill -9` of workers, 3
//! of the coordinator (restarted on the same database and port) and a worker stopped
//! (SIGSTOP) mid-task and resumed late, and ends finished with every output file byte-identical
//! to the thread-pool run and exactly one stored result per task. The schedule is fixed: each
//! event waits for a number of finished tasks, read from the database, and a worker kill waits
//! until its victim holds a lease, so every kill lands mid-task.

mod common;

use common::*;
use std::path::Path;

/// 3 sizes × 6 temperatures × 6 replicas: 108 tasks of 0.02–0.2 s.
const SWEEP: &str = r#"name = "chaos"
seed = 2026
model = "ising2d"
sizes = [8, 16, 32]
temperatures = { start = 2.1, stop = 2.35, count = 6 }
replicas = 6

[monte_carlo]
algorithm = "metropolis"
thermalize = 200
measurements = 30000
"#;

const TASKS: usize = 108;

#[derive(Clone, Copy, Debug)]
enum Event {
    KillWorker,
    KillCoordinator,
    Stop,
    Resume,
}

/// (finished tasks to wait for, what then happens).
fn schedule() -> Vec<(usize, Event)> {
    use Event::*;
    let mut s: Vec<(usize, Event)> = (0..15).map(|k| (2 + 5 * k, KillWorker)).collect();
    s.extend([
        (18, Stop),
        (25, KillCoordinator),
        (45, KillCoordinator),
        (62, Resume),
        (70, KillCoordinator),
    ]);
    s.sort_by_key(|&(n, _)| n);
    s
}

fn query(db: &Path, sql: &str, arg: &str) -> i64 {
    // Read-only beside the coordinator (WAL); retried, since a restart may hold a lock.
    wait_for("a database read", 30, || {
        let conn =
            rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        if arg.is_empty() {
            conn.query_row(sql, [], |r| r.get(0)).ok()
        } else {
            conn.query_row(sql, [arg], |r| r.get(0)).ok()
        }
    })
}

fn done(db: &Path) -> usize {
    query(db, "SELECT count(*) FROM tasks WHERE state = 2", "") as usize
}

fn holds_a_lease(db: &Path, worker: &str) -> bool {
    query(
        db,
        "SELECT count(*) FROM tasks WHERE state = 1 AND worker = ?1",
        worker,
    ) > 0
}

#[test]
fn a_sweep_survives_killed_workers_and_coordinators_and_a_stopped_worker() {
    let dir = scratch("chaos");
    let file = write(&dir, "sweep.toml", SWEEP);
    let reference_out = dir.join("reference");
    reference(&file, &reference_out);

    let db = db(&dir);
    let mut coord = Coord::start(&dir, None, "2", "2");
    let id = coord.submit(&file)["sweep"]
        .as_str()
        .expect("id")
        .to_string();
    let mut named = 0;
    let mut spawn = |coord: &Coord| {
        named += 1;
        let name = format!("w{named}");
        (name.clone(), coord.worker("1", &name))
    };
    let mut workers: Vec<(String, Proc)> = (0..3).map(|_| spawn(&coord)).collect();
    let mut stopped: Option<usize> = None;
    let (mut worker_kills, mut coordinator_kills) = (0, 0);
    for (k, (at, event)) in schedule().into_iter().enumerate() {
        wait_for(
            &format!("{at} finished tasks (event {event:?})"),
            120,
            || (done(&db) >= at).then_some(()),
        );
        match event {
            Event::KillWorker | Event::Stop => {
                // The k-th event's victim among the running workers, once it is mid-task.
                let running: Vec<usize> =
                    (0..workers.len()).filter(|&i| Some(i) != stopped).collect();
                let i = running[k % running.len()];
                let name = workers[i].0.clone();
                wait_for(&format!("{name} to hold a lease"), 60, || {
                    holds_a_lease(&db, &name).then_some(())
                });
                if matches!(event, Event::Stop) {
                    workers[i].1.signal("-STOP");
                    stopped = Some(i);
                } else {
                    workers[i].1.kill9();
                    worker_kills += 1;
                    workers[i] = spawn(&coord);
                }
            }
            Event::Resume => {
                let i = stopped.take().expect("a stopped worker");
                workers[i].1.signal("-CONT");
            }
            Event::KillCoordinator => {
                let port = coord.port;
                coord.proc.kill9();
                coordinator_kills += 1;
                // Same database and port: the workers re-attach by themselves.
                coord = Coord::start(&dir, Some(port), "2", "2");
            }
        }
    }
    assert_eq!((worker_kills, coordinator_kills), (15, 3));
    let st = coord.wait_state(&id, "done", 300);
    assert!(done(&db) == TASKS && st["done"].as_u64() == Some(TASKS as u64));
    // Lost workers are not errors: no task reported one, and none failed.
    assert_eq!(st["task_errors"], 0, "{st}");
    assert_eq!(st["failed"], 0, "{st}");
    // Each worker kill and the stop cost one lease, unless the victim finished its task in the
    // instant between the database read and the signal; a coordinator restart costs none (its
    // workers re-attach within the grace), so more than 16 would be a bug.
    let lost = st["workers_lost"].as_u64().expect("lost");
    assert!((10..=16).contains(&lost), "lost workers: {st}");
    let (rows, results) = done_tasks(&db);
    assert_eq!(
        (rows.len(), results as usize),
        (TASKS, TASKS),
        "one stored result per task"
    );
    let out = dir.join("out");
    coord.results(&id, &out);
    assert_same_files(&out, &reference_out);
    eprintln!(
        "chaos: {worker_kills} worker kills, {coordinator_kills} coordinator kills, 1 stop; \
         {lost} lost workers"
    );
}
