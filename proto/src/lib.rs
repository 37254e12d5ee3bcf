//! The wire contract between the coordinator, its workers and its clients, generated from
//! `rgsweep/v1/rgsweep.proto`, plus the conversions to and from the `physics` types.
//!
//! Invariant: `TaskResult` ↔ `physics::TaskResult` round-trips exactly, and the coordinator
//! stores results as the canonical prost encoding of the wire message, so a result's digest is
//! the same wherever it was computed.

#[allow(clippy::all, clippy::unwrap_used)]
pub mod v1 {
    tonic::include_proto!("rgsweep.v1");
}

/// KEDA's external-scaler interface (`keda/externalscaler.proto`), which the coordinator serves
/// so that KEDA can scale worker pods by queue depth.
#[allow(clippy::all, clippy::unwrap_used)]
pub mod externalscaler {
    tonic::include_proto!("externalscaler");
}

/// The compiled descriptor set, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rgsweep_descriptor.bin"));

pub mod client;
mod convert;

pub use convert::external::{capabilities_from_wire, capability_to_wire};
pub use convert::{WireError, result_from_wire, result_to_wire, task_from_wire, task_to_wire};
