//! The coordinator: turns sweeps into tasks, hands them to workers, keeps every task's state in
//! SQLite, and aggregates results into each sweep's output files.
//!
//! Layers, from pure to impure: [`queue`] (leases, fencing, retries: plain data, time as an
//! argument) and [`aggregate`] (results → bytes) → [`core`] (sweeps and tasks over the queue,
//! writing through [`store`]) → [`service`] (tonic services and the core thread's group-commit
//! loop). [`local`] is the in-process thread pool `rgsweep run --thread-pool` and `simulate` use.

pub mod aggregate;
pub mod alloc;
pub mod backup;
mod client_api;
pub mod core;
pub mod dimers;
pub mod jobs;
pub mod layers;
pub mod local;
pub mod mazes;
pub mod monitor;
pub mod percolation;
pub mod queue;
pub mod report;
pub mod service;
pub mod slurm;
pub mod store;

pub use aggregate::{Outputs, aggregate};
pub use service::{Config, Coordinator, generate_token};
