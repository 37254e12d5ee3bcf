//! What workers can run beyond the built-in models: the capabilities each advertises with its
//! lease requests, and the sampler version an external sweep that names none is pinned to.

use super::*;

impl Core {
    /// What `worker` can run, as its latest lease request says (heartbeats and results do
    /// not repeat it).
    pub(super) fn note_capabilities(&mut self, worker: &WorkerId, caps: &[Capability]) {
        if caps.is_empty() {
            self.capabilities.remove(worker);
        } else if self.capabilities.get(worker).is_none_or(|c| c != caps) {
            tracing::info!(worker = %worker.0, capabilities = ?caps.iter().map(ToString::to_string).collect::<Vec<_>>(), "worker capabilities");
            self.seen.extend(caps.iter().cloned());
            self.capabilities.insert(worker.clone(), caps.to_vec());
        }
    }

    /// The version of sampler `name` a sweep that names none is pinned to: the one connected
    /// workers advertise (or, with none connected, the one ever seen), if there is exactly one.
    pub(super) fn pin_version(&self, now: Millis, name: &str) -> Result<String, String> {
        let connected = self.connected_capabilities(now);
        let versions = |caps: &mut dyn Iterator<Item = &Capability>| -> BTreeSet<String> {
            caps.filter(|c| c.kind == "sampler" && c.name == name)
                .map(|c| c.version.clone())
                .collect()
        };
        let mut found = versions(&mut connected.iter());
        if found.is_empty() {
            found = versions(&mut self.seen.iter());
        }
        match found.len() {
            1 => Ok(found.into_iter().next().unwrap_or_default()),
            0 => Err(format!(
                "no worker has advertised a sampler named {name:?}; name the version it will have (sampler_version = \"...\", its --version line or the sha256 `rgsweep worker --sampler {name}=PROGRAM --list-samplers` prints) to queue the sweep until one connects"
            )),
            _ => Err(format!(
                "workers advertise {} versions of sampler {name:?} ({}): name one with sampler_version",
                found.len(),
                found.into_iter().collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// What the workers connected now advertise.
    pub(crate) fn connected_capabilities(&self, now: Millis) -> BTreeSet<Capability> {
        let window = 3 * self.heartbeat_ms() + 1_000;
        self.capabilities
            .iter()
            .filter(|(w, _)| self.workers.get(*w).is_some_and(|&t| t + window >= now.0))
            .flat_map(|(_, c)| c.iter().cloned())
            .collect()
    }
}
