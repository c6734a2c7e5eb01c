//! Queue message types: the only way one function hands work to another. Each queue carries one
//! enum, tagged by `type`, so a consumer rejects (and after `MAX_RECEIVES` dead-letters) any
//! message it does not know instead of guessing.
//!
//! The foundation defines the queues and their plumbing; the message kinds arrive with the
//! features that produce them (federation inbound and outbound, feeds). Until then each enum has
//! no variant, so every message is refused as unknown — which is the correct behaviour for a
//! message nobody can handle.

use serde::{Deserialize, Serialize};

/// Verified inbound activities, processed by the inbox function.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum InboxEvent {}

/// Fan-out and delivery work, processed by outbox-fanout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OutboxEvent {}

/// Render requests for feeds and pages, processed by the feed function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FeedEvent {
    /// Re-render an account's feeds and profile page, the feeds of `tags`, and the post pages of
    /// `statuses` (a status that is gone or not public any more loses its page). The statuses are
    /// read by key, so a post is in its feed even while the (eventually consistent) index query
    /// does not show it yet.
    Render {
        account_id: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        statuses: Vec<String>,
    },
}

impl FeedEvent {
    /// Sends the event on the feed queue: one queue request.
    pub async fn send(&self, queue: &dyn crate::store::Queue) -> crate::store::StoreResult<()> {
        let body = serde_json::to_string(self)
            .map_err(|e| crate::store::StoreError::InvalidInput(format!("feed event does not encode: {e}")))?;
        queue.send(crate::store::OutMessage::new(body)).await.map(|_| ())
    }
}
