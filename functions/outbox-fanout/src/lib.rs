//! The outbox-fanout function: expands a post's audience into inboxes and delivers signed activities. It consumes the outbox queue; the message kinds (`petrel::events::OutboxEvent`) arrive with outbound federation.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use petrel::consumer::{process_batch, Message};
use petrel::events::OutboxEvent;
use petrel::Ctx;

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error("malformed or unknown message: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// The queue consumer: each message of the batch on its own, failures reported per message.
pub async fn handle(ctx: Ctx, event: SqsEvent) -> SqsBatchResponse {
    process_batch(event, |msg| process(&ctx, msg)).await
}

async fn process(_ctx: &Ctx, msg: Message) -> Result<(), FanoutError> {
    let event: OutboxEvent = msg.decode()?;
    match event {}
}
