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
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FeedEvent {}
