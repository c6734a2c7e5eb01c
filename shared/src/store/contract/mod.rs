//! Contract suites, one per port, written once and run against every adapter (see
//! shared/tests/contract.rs). They panic on the first broken promise, naming it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod blobs;
pub mod connections;
pub mod queue;
pub mod table;
