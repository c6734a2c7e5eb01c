//! The feed function: renders feeds and public pages into the bucket. It consumes the feed queue; the message kinds (`petrel::events::FeedEvent`) arrive with the feeds.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use petrel::consumer::{process_batch, Message};
use petrel::events::FeedEvent;
use petrel::Ctx;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("malformed or unknown message: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// The queue consumer: each message of the batch on its own, failures reported per message.
pub async fn handle(ctx: Ctx, event: SqsEvent) -> SqsBatchResponse {
    process_batch(event, |msg| process(&ctx, msg)).await
}

async fn process(_ctx: &Ctx, msg: Message) -> Result<(), FeedError> {
    let event: FeedEvent = msg.decode()?;
    match event {}
}
