//! The coordinator: turns a sweep into tasks, gets them run, and aggregates their results into
//! the sweep's output files.
//!
//! Today the tasks run on a local thread pool ([`local`]); the distributed issue puts a gRPC
//! service and a durable store between planning and running without changing [`aggregate`],
//! whose output bytes depend only on the sweep and the set of task results. Its scheduling
//! decisions (leases, heartbeats, expiry, fencing of late results, retries, restart grace)
//! already live in [`queue`] as plain synchronous state, tested without sockets or clocks.

pub mod aggregate;
pub mod local;
pub mod queue;

pub use aggregate::{Outputs, aggregate};
