//! What the core trusts of the network: a result is checked against its own task and key and
//! re-encoded canonically before it counts, and a sweep is named by a hash of its canonical form.

use super::CoreError;
use crate::queue::{LeaseToken, TaskKey};
use prost::Message;
use rgsweep_physics::Sweep;
use rgsweep_physics::task::RESULT_FORMAT;
use rgsweep_proto::v1;
use rgsweep_proto::{result_from_wire, result_to_wire};

/// Checks a result against its own task and key, and encodes it canonically: the stored bytes
/// (and their digest) are then the same whichever worker computed them.
pub fn verify(
    key: TaskKey,
    token: LeaseToken,
    wire: v1::TaskResult,
) -> Result<Verified, CoreError> {
    use sha2::{Digest, Sha256};
    let (result, seed) = result_from_wire(wire)
        .map_err(|e| CoreError::Invalid(format!("result for {key:?}: {e}")))?;
    if result.task.content_key(seed) != key.0 {
        return Err(CoreError::Invalid(format!(
            "result for {key:?} is for another task"
        )));
    }
    let mut canonical = result_to_wire(&result, seed);
    let body = canonical.encode_to_vec();
    // The digest that decides "same result" leaves out training times (RSMI's and a maze
    // run's), the one thing a rerun cannot reproduce; the stored body keeps the first
    // delivery's times.
    for p in &mut canonical.rsmi {
        p.seconds = 0.0;
    }
    if let Some(m) = &mut canonical.maze {
        m.seconds = 0.0;
    }
    let digest: [u8; 32] = Sha256::digest(canonical.encode_to_vec()).into();
    Ok(Verified {
        key,
        token,
        digest,
        body,
    })
}

/// A result checked and encoded by [`verify`], ready for the core.
pub struct Verified {
    pub key: TaskKey,
    pub token: LeaseToken,
    pub digest: [u8; 32],
    pub body: Vec<u8>,
}

/// The id of a sweep: a hash of its canonical form, so resubmitting the same file finds it.
pub fn sweep_id(sweep: &Sweep) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"rgsweep-sweep-v1");
    h.update(RESULT_FORMAT.to_le_bytes());
    h.update(serde_json::to_vec(sweep).unwrap_or_default());
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
