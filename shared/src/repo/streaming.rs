//! Streaming connections (`STREAMING` / `{connection id}`): who is connected and to which
//! streams. Written on connect, subscribe and unsubscribe; deleted on disconnect, when a send
//! finds the connection gone, or by TTL.

use serde::{Deserialize, Serialize};

use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, Query, StoreError, Table};

/// API Gateway closes a WebSocket connection after two hours; the record outlives it by a
/// margin, in case the disconnect is never delivered.
pub const MAX_CONNECTION_SECS: i64 = 2 * 3600 + 300;
/// Streams one connection may hold at once (Mastodon does not bound them; a record must stay
/// far below DynamoDB's 400 KB item limit).
pub const MAX_STREAMS: usize = 50;
/// One page of the query: far more connections than a personal instance holds.
pub const MAX_CONNECTIONS: u32 = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Connection {
    #[serde(default)]
    pub id: String,
    pub account_id: String,
    /// The token's scopes, for what the connection subscribes to later.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Each stream as Mastodon names it in a message: `["user"]`, `["hashtag", "rust"]`, `["list", "12"]`.
    pub streams: Vec<Vec<String>>,
    pub connected_at: i64,
    /// Epoch seconds after which the table drops it.
    pub ttl: i64,
}

impl Connection {
    pub fn new(id: &str, account_id: &str, scopes: &[String], streams: Vec<Vec<String>>, now_ms: i64) -> Connection {
        Connection {
            id: id.to_string(),
            account_id: account_id.to_string(),
            scopes: scopes.to_vec(),
            streams,
            connected_at: now_ms,
            ttl: now_ms / 1000 + MAX_CONNECTION_SECS,
        }
    }
}

/// Records a connection (one put).
pub async fn put(table: &dyn Table, c: &Connection) -> Result<(), RepoError> {
    if c.streams.len() > MAX_STREAMS {
        return Err(RepoError::Invalid(format!("at most {MAX_STREAMS} streams per connection")));
    }
    table.put(to_item(&keys::streaming_connection(&c.id), c)?, None).await?;
    Ok(())
}

/// Replaces a connection's streams, unless it is gone (one conditional put). False when gone.
pub async fn set_streams(table: &dyn Table, c: &Connection) -> Result<bool, RepoError> {
    if c.streams.len() > MAX_STREAMS {
        return Err(RepoError::Invalid(format!("at most {MAX_STREAMS} streams per connection")));
    }
    match table.put(to_item(&keys::streaming_connection(&c.id), c)?, Some(Cond::ItemExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(table: &dyn Table, id: &str) -> Result<Option<Connection>, RepoError> {
    let found = table.get(&keys::streaming_connection(id)).await?;
    found.map(|item| from_item::<Connection>(item).map(|c| Connection { id: id.to_string(), ..c })).transpose()
}

pub async fn delete(table: &dyn Table, id: &str) -> Result<(), RepoError> {
    table.delete(&keys::streaming_connection(id), None).await?;
    Ok(())
}

/// Every open connection: one query.
pub async fn all(table: &dyn Table) -> Result<Vec<Connection>, RepoError> {
    let page = table.query(Query::new(keys::STREAMING).limit(MAX_CONNECTIONS)).await?;
    page.items.into_iter().map(from_item).collect()
}
