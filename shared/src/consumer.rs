//! Queue consumption with Lambda's event shapes: an `SqsEvent` in, an `SqsBatchResponse` naming
//! the failed messages out (`ReportBatchItemFailures`). The Lambda runtime and `petrel serve`'s
//! local poller both call consumers through here, so they behave the same.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::Instrument;

use crate::store::{Queue, Received, StoreError};

/// How many messages of one batch are processed at once.
pub const CONCURRENCY: usize = 10;

/// One message as a consumer sees it.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub body: String,
    pub receive_count: u32,
    /// Names this receipt of the message, for `Queue::change_visibility` (empty when unknown).
    pub receipt: String,
}

/// How a message whose handler did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Done: the message is deleted.
    Done,
    /// To be received again later: the handler set the message's visibility timeout to the wait
    /// (a wait longer than SQS's 15-minute delay costs no new message). Reported to SQS as a
    /// batch item failure, which leaves the message in the queue; not an error.
    Later,
}

impl From<()> for Settled {
    fn from(_: ()) -> Settled {
        Settled::Done
    }
}

impl Message {
    /// Decodes the JSON body; a malformed body is a permanent failure of this message.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

fn from_sqs(m: &SqsMessage) -> Option<Message> {
    Some(Message {
        id: m.message_id.clone()?,
        body: m.body.clone().unwrap_or_default(),
        receive_count: m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1),
        receipt: m.receipt_handle.clone().unwrap_or_default(),
    })
}

/// Runs `handle` over every message of the batch, `CONCURRENCY` at a time, each in its own span.
/// Messages whose handler fails, or settles them for later, are reported, so SQS redelivers only
/// those.
pub async fn process_batch<F, Fut, R, E>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(Message) -> Fut,
    Fut: Future<Output = Result<R, E>>,
    R: Into<Settled>,
    E: std::fmt::Display,
{
    let messages: Vec<Message> = event
        .records
        .iter()
        .filter_map(|raw| {
            let msg = from_sqs(raw);
            if msg.is_none() {
                // Without an id a message cannot be reported; SQS always sends one.
                tracing::error!("SQS record without a message id skipped");
            }
            msg
        })
        .collect();
    let failed: Vec<BatchItemFailure> = futures::stream::iter(messages)
        .map(|msg| {
            let span = tracing::info_span!("message", id = %msg.id, receives = msg.receive_count);
            let id = msg.id.clone();
            handle(msg).map(move |r| (id, r)).instrument(span)
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|(id, result)| async move {
            match result.map(Into::into) {
                Ok(Settled::Done) => return None,
                Ok(Settled::Later) => tracing::debug!(message_id = %id, "message held for later"),
                Err(e) => tracing::warn!(message_id = %id, error = %e, "message failed; SQS will redeliver it"),
            }
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            Some(f)
        })
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed;
    response
}

/// The event Lambda would deliver for these received messages.
pub fn sqs_event(queue: &str, received: &[Received]) -> SqsEvent {
    let records = received
        .iter()
        .map(|r| {
            let mut m = SqsMessage::default();
            m.message_id = Some(r.id.clone());
            m.receipt_handle = Some(r.receipt.clone());
            m.body = Some(r.body.clone());
            m.attributes.insert("ApproximateReceiveCount".into(), r.receive_count.to_string());
            m.attributes.insert("SentTimestamp".into(), r.sent_at_ms.to_string());
            m.event_source = Some("aws:sqs".into());
            m.event_source_arn = Some(format!("arn:aws:sqs:local:000000000000:{queue}"));
            m
        })
        .collect();
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

/// Settings of the local event source mapping.
#[derive(Debug, Clone, Copy)]
pub struct PollSettings {
    pub batch_size: u32,
    pub visibility: Duration,
    pub wait: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings { batch_size: 10, visibility: Duration::from_secs(30), wait: Duration::from_secs(1) }
    }
}

/// One poll of the local event source mapping: receive a batch, hand it to the consumer, delete
/// what succeeded. Failed messages reappear after the visibility timeout, and the queue's redrive
/// moves them to the dead-letter queue after `MAX_RECEIVES`. Returns how many were received.
pub async fn poll_once<F, Fut>(queue: &dyn Queue, settings: PollSettings, consumer: &F) -> Result<usize, StoreError>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let received = queue.receive(settings.batch_size, settings.visibility, settings.wait).await?;
    if received.is_empty() {
        return Ok(0);
    }
    let response = consumer(sqs_event(queue.name(), &received)).await;
    for r in &received {
        if !response.batch_item_failures.iter().any(|f| f.item_identifier == r.id) {
            queue.delete(&r.receipt).await?;
        }
    }
    Ok(received.len())
}

/// Polls until the task is dropped, as Lambda's event source mapping does.
pub async fn poll_forever<F, Fut>(queue: Arc<dyn Queue>, settings: PollSettings, consumer: F)
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    loop {
        if let Err(e) = poll_once(queue.as_ref(), settings, &consumer).await {
            tracing::error!(queue = queue.name(), error = %e, "polling failed; retrying in 1 s");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
