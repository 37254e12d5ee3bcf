//! The Slurm shell around [`crate::alloc`]: every few seconds, list this coordinator's worker
//! jobs with `squeue`, ask the core how many to add, and submit them with `sbatch`. The
//! decisions (how many, backoff, pause) are the allocator's; this module only runs commands
//! and parses their output.

use crate::alloc::JobState;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// How worker jobs are submitted.
#[derive(Clone, Debug)]
pub struct SlurmConfig {
    /// The site's own `sbatch` arguments (partition, account, time limit, CPUs...).
    pub sbatch_args: Vec<String>,
    /// The worker's command line, run by the job (`rgsweep worker --access … --slots …`).
    pub worker: Vec<String>,
    /// Names this coordinator's jobs, so `squeue` lists only them.
    pub job_name: String,
    /// Where the jobs' output files go.
    pub log_dir: PathBuf,
    pub poll_ms: u64,
}

/// Quotes one word for `sh` (`sbatch --wrap` runs its command through a shell).
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

impl SlurmConfig {
    /// The `sbatch` arguments for one worker job.
    pub fn sbatch_command(&self) -> Vec<String> {
        let mut args = vec![
            "--parsable".to_string(),
            format!("--job-name={}", self.job_name),
            format!("--output={}/%x-%j.log", self.log_dir.display()),
        ];
        args.extend(self.sbatch_args.iter().cloned());
        let worker: Vec<String> = self.worker.iter().map(|w| sh_quote(w)).collect();
        // The job id names the worker in the coordinator's logs.
        args.push(format!(
            "--wrap=exec {} --id slurm-$SLURM_JOB_ID",
            worker.join(" ")
        ));
        args
    }
}

/// Parses `squeue --noheader --format=%i|%T` output: job id → waiting or running (jobs in
/// other states — completing, failed — are about to leave and count as neither).
pub fn parse_squeue(text: &str) -> BTreeMap<String, JobState> {
    text.lines()
        .filter_map(|l| {
            let (id, state) = l.trim().split_once('|')?;
            let state = match state.trim() {
                "PENDING" | "CONFIGURING" | "REQUEUED" | "RESV_DEL_HOLD" => JobState::Waiting,
                "RUNNING" | "SUSPENDED" => JobState::Running,
                _ => return None,
            };
            Some((id.trim().to_string(), state))
        })
        .collect()
}

/// Parses `sbatch --parsable` output (`jobid` or `jobid;cluster`).
pub fn parse_sbatch(stdout: &str) -> Option<String> {
    let id = stdout.trim().split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit() || c == '_')).then(|| id.to_string())
}

/// Submits one worker job: its id, or why not (sbatch's own message).
pub fn submit(config: &SlurmConfig) -> Result<String, String> {
    if let Err(e) = std::fs::create_dir_all(&config.log_dir) {
        return Err(format!("cannot create {}: {e}", config.log_dir.display()));
    }
    let out = Command::new("sbatch")
        .args(config.sbatch_command())
        .output()
        .map_err(|e| format!("cannot run sbatch: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(format!("sbatch exited with {}: {why}", out.status));
    }
    parse_sbatch(&stdout).ok_or_else(|| format!("sbatch printed no job id: {stdout:?}"))
}

/// This coordinator's jobs as Slurm lists them.
pub fn list(config: &SlurmConfig) -> Result<BTreeMap<String, JobState>, String> {
    let out = Command::new("squeue")
        .args([
            "--noheader",
            "--format=%i|%T",
            &format!("--name={}", config.job_name),
        ])
        .output()
        .map_err(|e| format!("cannot run squeue: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "squeue exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(parse_squeue(&String::from_utf8_lossy(&out.stdout)))
}

/// Cancels jobs (allocations still waiting when the coordinator stops).
pub fn cancel(ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    if let Err(e) = Command::new("scancel").args(ids).output() {
        tracing::warn!(error = %e, "cannot run scancel");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_and_sbatch_output_parse() {
        let listed = parse_squeue("  101|PENDING\n102|RUNNING\n103|COMPLETING\nnonsense\n");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed["101"], JobState::Waiting);
        assert_eq!(listed["102"], JobState::Running);
        assert_eq!(parse_sbatch("4242\n"), Some("4242".into()));
        assert_eq!(parse_sbatch("4242;cluster\n"), Some("4242".into()));
        assert_eq!(parse_sbatch("sbatch: error\n"), None);
    }

    #[test]
    fn the_worker_command_survives_the_shell() {
        let c = SlurmConfig {
            sbatch_args: vec!["--partition=debug".into(), "--time=10".into()],
            worker: vec![
                "/opt/rg sweep/rgsweep".into(),
                "worker".into(),
                "--access".into(),
                "/shared/it's/access.json".into(),
            ],
            job_name: "rgsweep-abc".into(),
            log_dir: PathBuf::from("/tmp/logs"),
            poll_ms: 1000,
        };
        let args = c.sbatch_command();
        assert_eq!(args[0], "--parsable");
        assert!(args.contains(&"--partition=debug".to_string()));
        let wrap = args.last().expect("wrap");
        assert_eq!(
            wrap,
            "--wrap=exec '/opt/rg sweep/rgsweep' 'worker' '--access' '/shared/it'\\''s/access.json' --id slurm-$SLURM_JOB_ID"
        );
        // The shell reads it back as the original words.
        let script = wrap.trim_start_matches("--wrap=exec ");
        let out = Command::new("sh")
            .args(["-c", &format!("for w in {script}; do echo \"$w\"; done")])
            .env("SLURM_JOB_ID", "7")
            .output()
            .expect("sh");
        let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(
            words,
            [
                "/opt/rg sweep/rgsweep",
                "worker",
                "--access",
                "/shared/it's/access.json",
                "--id",
                "slurm-7"
            ]
        );
    }
}
