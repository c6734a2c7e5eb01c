//! Publishing from the client API: each outward change queues its fan-out in the handler that
//! stored the change, with the feed render it calls for as a message of its own in the same
//! batch (one SQS request), so a failing render never holds up delivery. If that send fails the
//! request fails (503) after the change was stored; the client's retry is then safe because posting honours Idempotency-Key,
//! and follow/unfollow/edit/delete repeat harmlessly.

use petrel::activitypub::convert;
use petrel::api::error::ApiError;
use petrel::events::{Delivery, OutboxEvent, Publish, Render};
use petrel::model::{Account, Status, Visibility};
use petrel::Ctx;
use serde_json::Value;

pub async fn send(ctx: &Ctx, events: Vec<OutboxEvent>) -> Result<(), ApiError> {
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "stored but not published");
        ApiError::Unavailable("saved, but not yet sent to other servers; try again".into())
    };
    let messages =
        events.iter().map(OutboxEvent::message).collect::<Result<Vec<_>, _>>().map_err(|e| unavailable(&e))?;
    for result in ctx.stores.queues.outbox.send_batch(messages).await.map_err(|e| unavailable(&e))? {
        result.map_err(|e| unavailable(&e))?;
    }
    Ok(())
}

/// A status's activity to its audience: followers unless it is direct, plus mentioned remote
/// accounts' inboxes (`inboxes`); `files` changes its media files' lifecycle
/// (`FileWork::keep`/`delete`) in the same batch.
pub async fn status(
    ctx: &Ctx,
    author: &Account,
    s: &Status,
    activity: Value,
    inboxes: Vec<String>,
    render: Option<Render>,
    files: Option<OutboxEvent>,
) -> Result<(), ApiError> {
    let mut events = vec![OutboxEvent::Publish(Publish {
        account_id: author.id.clone(),
        activity,
        to_followers: s.visibility != Visibility::Direct,
        inboxes,
        status_id: Some(s.id.clone()),
        cursor: None,
        over: None,
        render: None,
    })];
    events.extend(render.map(OutboxEvent::Render));
    // The preview card of its first link, made off the request path (same batch: no extra request).
    events.extend(petrel::links::card_event(s));
    events.extend(files);
    send(ctx, events).await
}

/// A new status's Create, and its uploads stop expiring.
pub async fn created(
    ctx: &Ctx,
    author: &Account,
    s: &Status,
    inboxes: Vec<String>,
    render: Option<Render>,
) -> Result<(), ApiError> {
    let files = petrel::events::FileWork::keep(&s.media);
    status(ctx, author, s, convert::create(&ctx.config, author, s), inboxes, render, files).await
}

/// The re-render of the author's feeds, these hashtags' feeds and the status's page.
pub fn render(author: &Account, tags: &[String], s: &Status) -> Option<Render> {
    Some(Render { account_id: author.id.clone(), tags: tags.to_vec(), statuses: vec![s.id.clone()] })
}

/// One activity to one account's inbox (Follow, Undo Follow).
pub async fn to_inbox(ctx: &Ctx, from: &Account, inbox: &str, activity: Value) -> Result<(), ApiError> {
    send(ctx, vec![OutboxEvent::Deliver(Delivery::first(&from.id, inbox, activity, None))]).await
}
