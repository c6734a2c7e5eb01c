//! The outbox-fanout function: expands an activity's audience into inboxes (`fanout.rs`),
//! delivers each signed, politely per host (`hosts.rs`), with retries for about two days
//! (`deliver.rs`), sends Web Push notifications (`push.rs`), and re-renders the feeds and pages a
//! change calls for, makes link preview cards and profile link checks (`cards.rs`), and keeps or
//! deletes the media files of posted and deleted statuses (`files.rs`).
//! It consumes the outbox queue, Petrel's only work queue.

pub mod cards;
pub mod deliver;
pub mod fanout;
pub mod files;
pub mod hosts;
pub mod push;
pub mod timed;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use petrel::activitypub::resolve::ResolveError;
use petrel::consumer::{process_batch, Message, Settled};
use petrel::events::OutboxEvent;
use petrel::repo::{deliveries, RepoError};
use petrel::Ctx;

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error("malformed or unknown message: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The queue or the bucket.
    #[error("store: {0}")]
    Store(#[from] petrel::store::StoreError),
    #[error("{0} of {1} deliveries could not be queued")]
    PartialSend(usize, usize),
    #[error(transparent)]
    Render(#[from] feed::FeedError),
    #[error("push: {0}")]
    Push(String),
    #[error(transparent)]
    PushSetup(#[from] petrel::push::PushError),
}

/// The queue consumer: each message of the batch on its own, failures reported per message.
/// Delivery outcomes are tallied over the batch and written once per status at its end.
pub async fn handle(ctx: Ctx, event: SqsEvent) -> SqsBatchResponse {
    let tally = deliveries::Tally::default();
    let response = process_batch(event, |msg| process(&ctx, &tally, msg)).await;
    tally.flush(ctx.stores.table.as_ref()).await;
    response
}

fn receipt_of(msg: &Message) -> deliver::Receipt {
    deliver::Receipt { handle: msg.receipt.clone(), receive_count: msg.receive_count }
}

async fn process(ctx: &Ctx, tally: &deliveries::Tally, msg: Message) -> Result<Settled, FanoutError> {
    match msg.decode::<OutboxEvent>()? {
        OutboxEvent::Publish(p) => fanout::publish(ctx, p).await,
        OutboxEvent::Deliver(d) => {
            let receipt = deliver::Receipt { handle: msg.receipt.clone(), receive_count: msg.receive_count };
            deliver::deliver(ctx, tally, d, &receipt).await
        }
        OutboxEvent::Push(p) => push::send(ctx, p).await.map(|()| Settled::Done),
        OutboxEvent::Render(r) => fanout::render(ctx, r).await,
        OutboxEvent::PollUpdate(w) => timed::poll_update(ctx, w, &receipt_of(&msg)).await,
        OutboxEvent::PollEnded(w) => timed::poll_ended(ctx, w, &receipt_of(&msg)).await,
        OutboxEvent::PublishScheduled(w) => timed::publish_scheduled(ctx, w, &receipt_of(&msg)).await,
        OutboxEvent::Card(w) => cards::card(ctx, w).await,
        OutboxEvent::VerifyLinks(w) => cards::verify_links(ctx, w).await,
        OutboxEvent::Files(w) => files::files(ctx, w).await,
    }
}
