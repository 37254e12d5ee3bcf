//! External sweeps on the wire: a task's sampler and parameters, a worker's capabilities. A
//! task naming a sampler is checked like the sweep file that made it (plain names, finite
//! values, the protocol's fixed schedule), so that what a worker passes to a registered program
//! is what some sweep file could have said.

use super::{WireError, invalid};
use crate::v1;
use rgsweep_physics::model::external::{Capability, Sampling, plain_name};
use std::collections::BTreeMap;

/// Most parameters (as the sweep file) and the longest version line.
const MAX_PARAMETERS: usize = 64;
const MAX_VERSION: usize = 200;

pub(super) fn sampling_to_wire(s: &Sampling) -> v1::ExternalSampling {
    v1::ExternalSampling {
        sampler: s.sampler.clone(),
        version: s.version.clone(),
        temperature: s.temperature.clone(),
        parameters: s
            .parameters
            .iter()
            .map(|(name, &value)| v1::Parameter {
                name: name.clone(),
                value,
            })
            .collect(),
    }
}

fn version_ok(v: &str) -> bool {
    !v.is_empty() && v.len() <= MAX_VERSION && !v.chars().any(char::is_control)
}

pub(super) fn sampling_from_wire(e: &v1::ExternalSampling) -> Result<Sampling, WireError> {
    if !plain_name(&e.sampler) {
        return Err(invalid("external.sampler", format!("{:?}", e.sampler)));
    }
    if !version_ok(&e.version) {
        return Err(invalid("external.version", format!("{:?}", e.version)));
    }
    if !plain_name(&e.temperature) {
        return Err(invalid(
            "external.temperature",
            format!("{:?}", e.temperature),
        ));
    }
    if e.parameters.len() > MAX_PARAMETERS {
        return Err(invalid(
            "external.parameters",
            format!(
                "{} parameters; at most {MAX_PARAMETERS}",
                e.parameters.len()
            ),
        ));
    }
    let mut parameters = BTreeMap::new();
    for p in &e.parameters {
        if !plain_name(&p.name) || p.name == e.temperature || !p.value.is_finite() {
            return Err(invalid(
                "external.parameters",
                format!("{:?} = {}", p.name, p.value),
            ));
        }
        if parameters.insert(p.name.clone(), p.value).is_some() {
            return Err(invalid(
                "external.parameters",
                format!("{:?} twice", p.name),
            ));
        }
    }
    Ok(Sampling {
        sampler: e.sampler.clone(),
        version: e.version.clone(),
        temperature: e.temperature.clone(),
        parameters,
    })
}

pub fn capability_to_wire(c: &Capability) -> v1::Capability {
    v1::Capability {
        kind: c.kind.clone(),
        name: c.name.clone(),
        version: c.version.clone(),
    }
}

/// A worker's advertised capability, checked: plain kind and name, one short version line.
pub fn capability_from_wire(c: &v1::Capability) -> Result<Capability, WireError> {
    if !plain_name(&c.kind) || !plain_name(&c.name) || !version_ok(&c.version) {
        return Err(invalid(
            "capabilities",
            format!("{:?} {:?} {:?}", c.kind, c.name, c.version),
        ));
    }
    Ok(Capability {
        kind: c.kind.clone(),
        name: c.name.clone(),
        version: c.version.clone(),
    })
}

/// Most capabilities one request may list.
pub const MAX_CAPABILITIES: usize = 256;

/// A request's capabilities, checked.
pub fn capabilities_from_wire(cs: &[v1::Capability]) -> Result<Vec<Capability>, WireError> {
    if cs.len() > MAX_CAPABILITIES {
        return Err(invalid(
            "capabilities",
            format!("{} listed; at most {MAX_CAPABILITIES}", cs.len()),
        ));
    }
    cs.iter().map(capability_from_wire).collect()
}
