//! The inbox function: receives signed activities over HTTP (verify, dedupe, enqueue) and processes them from the inbox queue. The HTTP routes and message kinds (`petrel::events::InboxEvent`) arrive with inbound federation; the queue plumbing is here.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use petrel::consumer::{process_batch, Message};
use petrel::events::InboxEvent;
use petrel::Ctx;

/// The inbox's HTTP routes (`POST /inbox`, `POST /users/{name}/inbox`), not served yet.
pub fn router(ctx: Ctx) -> axum::Router {
    axum::Router::new().with_state(ctx)
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("malformed or unknown message: {0}")]
    Malformed(#[from] serde_json::Error),
}

/// The queue consumer: each message of the batch on its own, failures reported per message.
pub async fn handle(ctx: Ctx, event: SqsEvent) -> SqsBatchResponse {
    process_batch(event, |msg| process(&ctx, msg)).await
}

async fn process(_ctx: &Ctx, msg: Message) -> Result<(), InboxError> {
    let event: InboxEvent = msg.decode()?;
    match event {}
}
