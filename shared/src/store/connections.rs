//! The Connections port: WebSocket connections that someone else holds open — API Gateway's
//! WebSocket API on AWS, `petrel serve`'s own server locally. The code that creates an event
//! sends it to the connections that want it (`crate::streaming`); who is connected, and to
//! what, is kept in the table, not here.

use async_trait::async_trait;

use super::error::{StoreError, StoreResult};

/// API Gateway's limit on one WebSocket message (128 KB, sent as 32 KB frames); both adapters
/// refuse more, so what passes locally passes on AWS.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

#[async_trait]
pub trait Connections: Send + Sync {
    /// Sends one text message to the connection. `NotFound` when the connection is gone
    /// (API Gateway's 410 GoneException): the caller drops its record. (Connections end by the
    /// client or by API Gateway's limits; nothing here closes one, so no DeleteConnection code
    /// is linked into the functions.)
    async fn send(&self, connection_id: &str, text: &str) -> StoreResult<()>;
}

pub fn validate_message(connection_id: &str, text: &str) -> StoreResult<()> {
    if connection_id.is_empty() || connection_id.len() > 128 {
        return Err(StoreError::InvalidInput("a connection id is 1 to 128 characters".into()));
    }
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(StoreError::LimitExceeded(format!(
            "message is {} bytes; API Gateway allows {MAX_MESSAGE_BYTES}",
            text.len()
        )));
    }
    Ok(())
}
