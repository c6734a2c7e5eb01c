//! The Queue port: SQS standard queues. Delivery is at least once, so every consumer is
//! idempotent. A queue with a dead-letter queue moves a message there once it has been received
//! `max_receives` times without being deleted.

use std::time::Duration;

use async_trait::async_trait;

use super::error::{StoreError, StoreResult};

/// SQS limits, enforced by both adapters. (SQS raised its own message limit to 1 MiB in 2025;
/// Petrel keeps to 256 KiB, which every SQS endpoint and emulator accepts.)
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
pub const MAX_BATCH: usize = 10;
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);
pub const MAX_WAIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub body: String,
    pub delay: Duration,
}

impl OutMessage {
    pub fn new(body: impl Into<String>) -> Self {
        OutMessage { body: body.into(), delay: Duration::ZERO }
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub id: String,
    /// Names this receipt of the message, for delete and change_visibility.
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
    /// When the message was first sent, in milliseconds since the epoch.
    pub sent_at_ms: i64,
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// The queue's name, for logs and event source ARNs.
    fn name(&self) -> &str;
    async fn send(&self, msg: OutMessage) -> StoreResult<String>;
    /// Up to ten messages; the outer error is for the batch as a whole, the inner results are per
    /// message, in order.
    async fn send_batch(&self, msgs: Vec<OutMessage>) -> StoreResult<Vec<StoreResult<String>>>;
    /// Up to ten messages, hidden from other receivers for `visibility`; waits up to `wait` for one.
    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Received>>;
    async fn delete(&self, receipt: &str) -> StoreResult<()>;
    async fn change_visibility(&self, receipt: &str, visibility: Duration) -> StoreResult<()>;
}

pub fn validate_message(msg: &OutMessage) -> StoreResult<()> {
    if msg.body.is_empty() {
        return Err(StoreError::InvalidInput("a message body must not be empty".into()));
    }
    if msg.body.len() > MAX_MESSAGE_BYTES {
        return Err(StoreError::LimitExceeded(format!(
            "message is {} bytes; the limit is {MAX_MESSAGE_BYTES}",
            msg.body.len()
        )));
    }
    if msg.delay > MAX_DELAY {
        return Err(StoreError::LimitExceeded(format!(
            "delay of {} s; SQS allows at most {} s (re-apply the delay per hop for longer waits)",
            msg.delay.as_secs(),
            MAX_DELAY.as_secs()
        )));
    }
    // SQS accepts only these characters in a body.
    let bad = msg.body.chars().any(|c| {
        !matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    });
    if bad {
        return Err(StoreError::InvalidInput("message body holds characters SQS refuses".into()));
    }
    Ok(())
}

pub fn validate_batch(msgs: &[OutMessage]) -> StoreResult<()> {
    if msgs.is_empty() || msgs.len() > MAX_BATCH {
        return Err(StoreError::LimitExceeded(format!("a batch holds 1 to {MAX_BATCH} messages, not {}", msgs.len())));
    }
    let total: usize = msgs.iter().map(|m| m.body.len()).sum();
    if total > MAX_MESSAGE_BYTES {
        return Err(StoreError::LimitExceeded(format!("batch is {total} bytes; the limit is {MAX_MESSAGE_BYTES}")));
    }
    Ok(())
}

pub fn validate_receive(max: u32, visibility: Duration, wait: Duration) -> StoreResult<()> {
    if !(1..=MAX_BATCH as u32).contains(&max) {
        return Err(StoreError::InvalidInput(format!("receive takes 1 to {MAX_BATCH} messages, not {max}")));
    }
    if visibility > MAX_VISIBILITY {
        return Err(StoreError::LimitExceeded("visibility timeout over 12 hours".into()));
    }
    if wait > MAX_WAIT {
        return Err(StoreError::LimitExceeded("wait time over 20 seconds".into()));
    }
    Ok(())
}
