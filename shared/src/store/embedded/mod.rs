//! Embedded adapters: SQLite (WAL) for Table and Queue, a directory for Blobs. They enforce AWS's
//! limits through the same validators as the AWS adapters, so what passes here passes in AWS.

mod blobs;
mod db;
mod queue;
mod table;

pub use blobs::{blob_routes, EmbeddedBlobs};
pub use db::Db;
pub use queue::{EmbeddedQueue, Redrive};
pub use table::EmbeddedTable;
