//! [`Core::open`]: the in-memory state rebuilt from the store when a coordinator starts —
//! sweeps, tasks, results and leases in flight, which get a grace period to re-attach.

use super::*;

impl Core {
    /// Opens (or creates) the database and rebuilds the in-memory state from it. Leases found in
    /// flight get `grace_ms` from `now` for their workers to re-attach.
    pub fn open(
        path: &Path,
        policy: Policy,
        now: Millis,
        grace_ms: u64,
    ) -> Result<Core, CoreError> {
        let mut store = Store::open(path)?;
        let again = store.reaggregate_if_older(crate::aggregate::AGGREGATE_FORMAT)?;
        if again > 0 {
            tracing::info!(
                sweeps = again,
                "outputs were written by an older aggregation: aggregating again"
            );
        }
        let mut queue = Queue::new(policy);
        let next_token = store.next_token()?;
        let mut specs = HashMap::new();
        let mut bad = None;
        store.for_each_task(|row: TaskRow| {
            let spec = v1::Task::decode(&row.spec[..])
                .map_err(|e| e.to_string())
                .and_then(|t| task_from_wire(&t).map_err(|e| e.to_string()));
            match spec {
                Ok((task, seed)) => {
                    let mut entry = row.entry;
                    entry.needs = task
                        .external
                        .as_ref()
                        .map(|e| std::sync::Arc::new(e.capability()));
                    specs.insert(
                        row.key,
                        Spec {
                            task,
                            seed,
                            sweeps: Vec::new(),
                        },
                    );
                    queue.restore(row.key, entry, next_token);
                }
                Err(e) => bad = Some(format!("task {}: {e}", row.key)),
            }
        })?;
        if let Some(message) = bad {
            return Err(StoreError::Corrupt {
                path: path.display().to_string(),
                message,
            }
            .into());
        }
        let orphaned = queue.recover(now, grace_ms);
        let mut core = Core {
            queue,
            specs,
            sweeps: Vec::new(),
            by_id: HashMap::new(),
            workers: HashMap::new(),
            capabilities: HashMap::new(),
            seen: BTreeSet::new(),
            store,
            batch: Batch::default(),
            dirty: BTreeSet::new(),
            jobs: Vec::new(),
            token_written: next_token,
            counters: Counters::default(),
            started_ms: now.0,
            alloc: None,
            lease_started: HashMap::new(),
        };
        if !orphaned.is_empty() {
            // Their workers died with the previous process: expected, not trouble.
            tracing::info!(
                tasks = orphaned.len(),
                "requeued the tasks that were running when the previous process stopped"
            );
            core.dirty.extend(orphaned);
        }
        for row in core.store.sweeps()? {
            let sweep = Sweep::parse(&row.toml, &row.file).map_err(|e| StoreError::Corrupt {
                path: path.display().to_string(),
                message: format!("sweep {}: {e}", row.id),
            })?;
            let state = SweepState::parse(&row.state).unwrap_or(SweepState::Running);
            core.push_sweep(row.id, row.file, row.toml, sweep, state, row.submitted_ms);
        }
        for (id, key) in core.store.memberships()? {
            let (Some(&i), Some(spec)) = (core.by_id.get(&id), core.specs.get_mut(&key)) else {
                continue;
            };
            spec.sweeps.push(i as u32);
            let s = &mut core.sweeps[i];
            // A sampler version pinned at submit is not in the file: its tasks carry it.
            if let (Some(e), Some(t)) = (&mut s.sweep.external, &spec.task.external)
                && e.version.is_empty()
            {
                e.version = t.version.clone();
            }
            s.keys.push(key);
            s.total_cost += spec.task.cost();
            s.max_cost = s.max_cost.max(spec.task.cost());
            match core.queue.entry(&key).map(|e| &e.state) {
                Some(TaskState::Done { .. }) => s.done += 1,
                Some(TaskState::Failed { .. }) => {}
                _ => s.open += 1,
            }
        }
        for i in 0..core.sweeps.len() {
            match core.sweeps[i].state {
                // The coordinator died while aggregating: do it again.
                SweepState::Aggregating => core.start_final(i),
                SweepState::Running => core.check_finished(i),
                _ => {}
            }
        }
        Ok(core)
    }
}
