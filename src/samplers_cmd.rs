//! The command-line side of registered external samplers: `--sampler NAME=PROGRAM`,
//! `--samplers FILE` and the limits, shared by `rgsweep worker` and `rgsweep run`.

use anyhow::{Context, Result, bail};
use rgsweep_worker::external::{self, Limits, Registry, Sampler};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Clone, Default)]
pub(crate) struct SamplerArgs {
    /// Registers an external program this worker may run, as NAME=PROGRAM (repeatable).
    /// Sweep files name the sampler (model = "external", sampler = "NAME"), never the program.
    #[arg(long = "sampler", value_name = "NAME=PROGRAM")]
    sampler: Vec<String>,
    /// A TOML file registering many: a `[samplers]` table of NAME = "PROGRAM".
    #[arg(long = "samplers", value_name = "FILE")]
    samplers_file: Option<PathBuf>,
    /// Seconds one run of a sampler may take before it is killed and its task fails.
    #[arg(long, default_value_t = 3600.0)]
    sampler_timeout: f64,
    /// Bytes one run may print and write, all together (default 4 GiB).
    #[arg(long)]
    sampler_max_output: Option<u64>,
    /// Virtual memory one run may use, in MiB (default: no limit).
    #[arg(long)]
    sampler_max_memory_mib: Option<u64>,
    /// Print each registered sampler's name and the version it advertises, then exit.
    #[arg(long)]
    list_samplers: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SamplersFile {
    samplers: BTreeMap<String, String>,
}

impl SamplerArgs {
    /// The registry these flags describe (every program checked and its version read now).
    pub(crate) fn registry(&self) -> Result<Registry> {
        let mut pairs = Vec::new();
        for flag in &self.sampler {
            pairs.push(external::parse_flag(flag)?);
        }
        if let Some(path) = &self.samplers_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let file: SamplersFile =
                toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
            for (name, program) in file.samplers {
                pairs.push(
                    external::parse_flag(&format!("{name}={program}"))
                        .with_context(|| format!("{}: [samplers] {name}", path.display()))?,
                );
            }
        }
        let samplers = pairs
            .iter()
            .map(|(name, program)| Sampler::register(name, program))
            .collect::<Result<Vec<_>, _>>()?;
        if !(self.sampler_timeout.is_finite() && self.sampler_timeout > 0.0) {
            bail!("--sampler-timeout must be a positive number of seconds");
        }
        let limits = Limits {
            timeout: Duration::from_secs_f64(self.sampler_timeout),
            max_output: self
                .sampler_max_output
                .unwrap_or(Limits::default().max_output),
            max_memory: self.sampler_max_memory_mib.map(|m| m << 20),
        };
        Ok(Registry::new(samplers, limits, std::env::temp_dir())?)
    }

    /// With `--list-samplers`: prints the registry and says so.
    pub(crate) fn listed(&self, registry: &Registry) -> bool {
        if self.list_samplers {
            for s in registry.samplers() {
                println!("{}\t{}\t{}", s.name, s.version, s.program.display());
            }
        }
        self.list_samplers
    }
}

/// `text` with the version of its sampler written in when the file names none and `registry`
/// has it: `rgsweep run` pins what its own workers run, as a coordinator pins what its
/// connected workers advertise.
pub(crate) fn pin_version(
    text: &str,
    sweep: &rgsweep_physics::Sweep,
    registry: &Registry,
) -> String {
    let Some(e) = sweep.external.as_ref().filter(|e| e.version.is_empty()) else {
        return text.to_string();
    };
    match registry.samplers().find(|s| s.name == e.sampler) {
        // A top-level key before everything else is valid TOML whatever follows.
        Some(s) => format!(
            "sampler_version = {}\n{text}",
            toml::Value::String(s.version.clone())
        ),
        None => text.to_string(),
    }
}
