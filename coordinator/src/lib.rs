//! The coordinator: turns a sweep into tasks, gets them run, and aggregates their results into
//! the sweep's output files.
//!
//! Today the tasks run on a local thread pool ([`local`]); the distributed issue puts a gRPC
//! service and a durable store between planning and running without changing [`aggregate`],
//! whose output bytes depend only on the sweep and the set of task results.

pub mod aggregate;
pub mod local;

pub use aggregate::{Outputs, aggregate};
