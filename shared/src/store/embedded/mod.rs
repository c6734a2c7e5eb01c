//! Embedded adapters: SQLite (WAL) for Table and Queue, a directory for Blobs. They enforce AWS's
//! limits through the same validators as the AWS adapters, so what passes here passes in AWS.

mod blobs;
mod connections;
mod db;
mod queue;
mod table;

pub use blobs::{blob_routes, EmbeddedBlobs};
pub use connections::EmbeddedConnections;

/// How many messages may wait for one local client (see `EmbeddedConnections`).
pub fn connections_backlog() -> usize {
    connections::BACKLOG
}
pub use db::Db;
pub use queue::{EmbeddedQueue, Redrive};
pub use table::EmbeddedTable;
