//! Audience → inboxes: followers (deduplicated by shared inbox) plus addressed inboxes, a page of
//! followers per message so a large audience never runs one invocation out of time. A page is
//! marked once queued, so a redelivered fan-out message queues nobody twice.

use std::collections::BTreeSet;

use petrel::events::{Delivery, FeedEvent, OutboxEvent, Publish};
use petrel::repo::{deliveries, domains, follows};
use petrel::store::OutMessage;
use petrel::Ctx;

use crate::FanoutError;

/// Followers read per message.
const FOLLOWERS_PAGE: u32 = 500;

pub async fn publish(ctx: &Ctx, p: Publish) -> Result<(), FanoutError> {
    let table = ctx.stores.table.as_ref();
    let activity_id = p.activity.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let page = p.cursor.clone().unwrap_or_else(|| "first".into());
    if deliveries::page_queued(table, &activity_id, &page).await? {
        return Ok(()); // A redelivery of a message that was done.
    }
    let mut inboxes: BTreeSet<String> = p.inboxes.iter().cloned().collect();
    if p.cursor.is_none() {
        // Rendered here rather than by the feed function from a queue of its own: a second
        // event source mapping would poll all month (infra/deploy.md, "Why one queue"). Renders
        // are idempotent, so a retried message renders again harmlessly.
        if let Some(FeedEvent::Render { account_id, tags, statuses }) = &p.render {
            feed::render::render(ctx, account_id, tags, statuses).await?;
        }
    }
    let mut next = None;
    if p.to_followers {
        let (page, cursor) = follows::followers_page(table, &p.account_id, p.cursor.clone(), FOLLOWERS_PAGE).await?;
        inboxes.extend(page.into_iter().map(|(_, inbox)| inbox).filter(|i| !i.is_empty()));
        next = cursor;
    }
    // The rest of the followers go on in a message of their own, before this page is queued, so
    // a failure below retries only this page.
    if let Some(cursor) = next {
        let more =
            OutboxEvent::Publish(Publish { inboxes: Vec::new(), cursor: Some(cursor), render: None, ..p.clone() });
        ctx.stores.queues.outbox.send(OutMessage::new(serde_json::to_string(&more)?)).await?;
    }
    let local_base = format!("{}/", ctx.config.base_url());
    inboxes.retain(|i| !i.starts_with(&local_base));
    // Domains marked unavailable are skipped until they answer again.
    let hosts: BTreeSet<String> = inboxes.iter().filter_map(|i| petrel::activitypub::vocab::host_of(i)).collect();
    let down = domains::unavailable(table, &hosts.into_iter().collect::<Vec<_>>()).await?;
    if !down.is_empty() {
        tracing::info!(domains = ?down, "unavailable domains skipped");
        inboxes.retain(|i| petrel::activitypub::vocab::host_of(i).is_none_or(|h| !down.contains(&h)));
    }
    let mut messages = Vec::with_capacity(inboxes.len());
    for inbox in &inboxes {
        let d = OutboxEvent::Deliver(Delivery::first(&p.account_id, inbox, p.activity.clone(), p.status_id.clone()));
        messages.push(OutMessage::new(serde_json::to_string(&d)?));
    }
    let total = messages.len();
    let mut failed = 0;
    for chunk in messages.chunks(10) {
        for result in ctx.stores.queues.outbox.send_batch(chunk.to_vec()).await? {
            if let Err(e) = result {
                tracing::warn!(error = %e, "delivery not queued");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        // The page is not marked done: the retry queues it again, whole.
        tracing::error!(failed, total, activity = %activity_id, "some deliveries were not queued");
        return Err(FanoutError::PartialSend(failed, total));
    }
    if let (Some(status_id), true) = (&p.status_id, total > 0) {
        deliveries::record_targeted(table, status_id, total as i64).await?;
    }
    deliveries::mark_page_queued(table, &activity_id, &page).await?;
    Ok(())
}
