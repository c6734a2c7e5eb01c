//! Queue message types: the only way one function hands work to another. Each queue carries one
//! enum, tagged by `type`, so a consumer rejects (and after `MAX_RECEIVES` dead-letters) any
//! message it does not know instead of guessing.
//!
//! An enum without variants (feeds, until they arrive) refuses every message as unknown — the
//! correct behaviour for a message nobody can handle.

use serde::{Deserialize, Serialize};

/// Verified inbound activities, processed by the inbox function.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum InboxEvent {
    /// An activity whose signature was verified: `signer_id` is the account of the actor that
    /// signed it (checked to be the activity's `actor`).
    Activity { activity: serde_json::Value, signer_id: String, received_at: i64 },
}

/// Fan-out and delivery work, processed by outbox-fanout.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum OutboxEvent {
    /// Expand an activity's audience into deliveries, a page of followers at a time.
    Publish(Publish),
    /// Sign and POST one activity to one inbox.
    Deliver(Delivery),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Publish {
    /// The local account that signs.
    pub account_id: String,
    pub activity: serde_json::Value,
    /// Whether the account's followers are in the audience.
    pub to_followers: bool,
    /// Inboxes of addressed accounts (mentions, the followed, the followed-back …).
    #[serde(default)]
    pub inboxes: Vec<String>,
    /// The status the activity is about, for its delivery report.
    #[serde(default)]
    pub status_id: Option<String>,
    /// Where the follower listing continues (set on the message that carries on a large fan-out).
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub account_id: String,
    pub inbox: String,
    pub activity: serde_json::Value,
    #[serde(default)]
    pub status_id: Option<String>,
    /// Tries made so far.
    #[serde(default)]
    pub attempt: u32,
    /// Milliseconds since the epoch of the first try: retries stop two days after it.
    pub first_try_at: i64,
    /// Not before this time (ms): longer waits than SQS's 15-minute delay take several hops.
    #[serde(default)]
    pub due_at: i64,
}

/// Render requests for feeds and pages, processed by the feed function.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum FeedEvent {}
