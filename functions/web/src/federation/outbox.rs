//! Publishing from the client API: each outward change sends one message to the outbox queue in
//! the handler that stored the change. The message also carries the feed render request, which
//! outbox-fanout passes on to the feed queue, so a post costs one queue send here. If that send fails the request fails (503) after the
//! change was stored; the client's retry is then safe because posting honours Idempotency-Key,
//! and follow/unfollow/edit/delete repeat harmlessly.

use petrel::activitypub::convert;
use petrel::api::error::ApiError;
use petrel::events::{Delivery, FeedEvent, OutboxEvent, Publish};
use petrel::model::{Account, Status, Visibility};
use petrel::store::OutMessage;
use petrel::Ctx;
use serde_json::Value;

async fn send(ctx: &Ctx, event: OutboxEvent) -> Result<(), ApiError> {
    let body = serde_json::to_string(&event).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    ctx.stores.queues.outbox.send(OutMessage::new(body)).await.map_err(|e| {
        tracing::error!(error = %e, "stored but not published");
        ApiError::Unavailable("saved, but not yet sent to other servers; try again".into())
    })?;
    Ok(())
}

/// A status's activity to its audience: followers unless it is direct, plus mentioned remote
/// accounts' inboxes (`inboxes`).
pub async fn status(
    ctx: &Ctx,
    author: &Account,
    s: &Status,
    activity: Value,
    inboxes: Vec<String>,
    render: Option<FeedEvent>,
) -> Result<(), ApiError> {
    send(
        ctx,
        OutboxEvent::Publish(Publish {
            account_id: author.id.clone(),
            activity,
            to_followers: s.visibility != Visibility::Direct,
            inboxes,
            status_id: Some(s.id.clone()),
            cursor: None,
            render,
        }),
    )
    .await
}

pub async fn created(
    ctx: &Ctx,
    author: &Account,
    s: &Status,
    inboxes: Vec<String>,
    render: Option<FeedEvent>,
) -> Result<(), ApiError> {
    status(ctx, author, s, convert::create(&ctx.config, author, s), inboxes, render).await
}

/// The re-render of the author's feeds, these hashtags' feeds and the status's page.
pub fn render(author: &Account, tags: &[String], s: &Status) -> Option<FeedEvent> {
    Some(FeedEvent::Render { account_id: author.id.clone(), tags: tags.to_vec(), statuses: vec![s.id.clone()] })
}

/// One activity to one account's inbox (Follow, Undo Follow).
pub async fn to_inbox(ctx: &Ctx, from: &Account, inbox: &str, activity: Value) -> Result<(), ApiError> {
    send(ctx, OutboxEvent::Deliver(Delivery::first(&from.id, inbox, activity, None))).await
}
