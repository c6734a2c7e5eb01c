//! The inbox function: receives signed activities over HTTP (verify, dedupe, enqueue, answer
//! 202) and processes them from the inbox queue, at least once and idempotently.

pub mod process;
pub mod receive;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use petrel::activitypub::resolve::ResolveError;
use petrel::consumer::{process_batch, Message};
use petrel::events::InboxEvent;
use petrel::repo::RepoError;
use petrel::Ctx;

pub use receive::router;

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("malformed or unknown message: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("queue: {0}")]
    Queue(#[from] petrel::store::StoreError),
}

/// The queue consumer: each message of the batch on its own, failures reported per message.
pub async fn handle(ctx: Ctx, event: SqsEvent) -> SqsBatchResponse {
    process_batch(event, |msg| run(&ctx, msg)).await
}

async fn run(ctx: &Ctx, msg: Message) -> Result<(), InboxError> {
    match msg.decode::<InboxEvent>()? {
        InboxEvent::Activity { activity, signer_id, .. } => match process::activity(ctx, &activity, &signer_id).await {
            // What will never work (a bad document, a gone object) is dropped, not retried.
            Err(InboxError::Resolve(e)) if !e.is_transient() => {
                tracing::info!(error = %e, id = ?activity.get("id"), "activity dropped");
                Ok(())
            }
            other => other,
        },
    }
}
