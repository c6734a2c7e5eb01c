//! Audience → inboxes. Followers are reached through the account's set of distinct delivery
//! inboxes (`follows::delivery_inboxes_page`: a shared inbox once, however many followers it
//! stands for), a page per message so a large audience never runs one invocation out of time;
//! addressed inboxes (mentions, the followed) go with the first page and are skipped by the
//! rest. A page is marked once queued, so a redelivered fan-out message queues nobody twice.

use std::collections::BTreeSet;

use petrel::activitypub::vocab::host_of;
use petrel::consumer::Settled;
use petrel::events::{Delivery, OutboxEvent, Publish, Render};
use petrel::repo::domains::HostState;
use petrel::repo::{deliveries, domains, follows};
use petrel::Ctx;

use crate::FanoutError;

/// Delivery inboxes read per message: 50 send batches, well inside the function's time.
pub const PAGE: u32 = 500;
/// What a continuation message's cursor pages over (`Publish::over`).
const OVER_INBOXES: &str = "inboxes";

pub async fn publish(ctx: &Ctx, p: Publish) -> Result<Settled, FanoutError> {
    publish_paged(ctx, p, PAGE).await
}

/// `publish` with another page size (tests use small pages to cross page boundaries).
pub async fn publish_paged(ctx: &Ctx, mut p: Publish, page_size: u32) -> Result<Settled, FanoutError> {
    let table = ctx.stores.table.as_ref();
    let activity_id = p.activity.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    if p.cursor.is_some() && p.over.as_deref() != Some(OVER_INBOXES) {
        // Queued by a version that paged the followers: its cursor means nothing to the inbox
        // set, so the set is gone through from the start (receivers drop repeats by id).
        tracing::info!(activity = %activity_id, "old-style fan-out continuation; starting over the inbox set");
        p.cursor = Some(String::new());
    }
    let first = p.cursor.is_none();
    let mark = deliveries::page_mark(p.cursor.as_deref());
    if let Some(done) = deliveries::page_state(table, &activity_id, &mark).await? {
        // Redelivered after it was queued: only the continuation may still be owed.
        if let (Some(next), false) = (done.next, done.continued) {
            continue_with(ctx, &p, &activity_id, &mark, next).await?;
        }
        return Ok(Settled::Done);
    }
    let addressed: BTreeSet<String> = p.inboxes.iter().cloned().collect();
    let mut inboxes = if first { addressed.clone() } else { BTreeSet::new() };
    let mut next = None;
    if p.to_followers {
        let cursor = p.cursor.clone().filter(|c| !c.is_empty());
        let (page, cursor) = follows::delivery_inboxes_page(table, &p.account_id, cursor, page_size).await?;
        // Addressed inboxes were queued by the first page.
        inboxes.extend(page.into_iter().filter(|i| first || !addressed.contains(i)));
        next = cursor;
    }
    let local_base = format!("{}/", ctx.config.base_url());
    inboxes.retain(|i| !i.starts_with(&local_base));
    // Domain blocks (issue #16): nothing goes to a domain the author blocks.
    petrel::repo::domain_blocks::retain_deliverable(table, &p.account_id, &mut inboxes).await?;
    // Domains marked unavailable are skipped until they answer again; those that asked for a
    // wait (429) get their deliveries queued for then.
    let hosts: BTreeSet<String> = inboxes.iter().filter_map(|i| host_of(i)).collect();
    let states = domains::states(table, &hosts.into_iter().collect::<Vec<_>>()).await?;
    let mut messages = Vec::with_capacity(inboxes.len());
    for inbox in &inboxes {
        let state = host_of(inbox).and_then(|h| states.get(&h).copied()).unwrap_or(HostState::Clear);
        let mut d = Delivery::first(&p.account_id, inbox, p.activity.clone(), p.status_id.clone());
        match state {
            HostState::Unavailable => continue,
            HostState::WaitUntil(until) => d.due_at = until,
            HostState::Clear => {}
        }
        let delay = std::time::Duration::from_millis((d.due_at - d.first_try_at).clamp(0, 900_000) as u64);
        messages.push(OutboxEvent::Deliver(d).message()?.delayed(delay));
    }
    let total = messages.len();
    let mut failed = 0;
    for chunk in messages.chunks(petrel::store::queue::MAX_BATCH) {
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
    // The mark and the report's count in one transaction, so a retry counts nothing twice.
    let targeted = p.status_id.as_deref().filter(|_| total > 0).map(|s| (s, total as i64));
    deliveries::mark_page_queued(table, &activity_id, &mark, next.as_deref(), targeted).await?;
    if first {
        if let Some(render) = p.render.take() {
            // Queued by an older version inside the Publish: passed on as a message of its own.
            // After the deliveries, so it can never hold them up; lost only if SQS refuses it.
            match OutboxEvent::Render(Render::from(render)).message() {
                Ok(m) => {
                    if let Err(e) = ctx.stores.queues.outbox.send(m).await {
                        tracing::error!(error = %e, "feed render not queued");
                    }
                }
                Err(e) => tracing::error!(error = %e, "feed render not queued"),
            }
        }
    }
    if let Some(next) = next {
        continue_with(ctx, &p, &activity_id, &mark, next).await?;
    }
    Ok(Settled::Done)
}

/// Queues the message for the next page, then notes that it was queued.
async fn continue_with(ctx: &Ctx, p: &Publish, activity_id: &str, mark: &str, next: String) -> Result<(), FanoutError> {
    let more = OutboxEvent::Publish(Publish {
        cursor: Some(next),
        over: Some(OVER_INBOXES.into()),
        render: None,
        ..p.clone()
    });
    ctx.stores.queues.outbox.send(more.message()?).await?;
    deliveries::mark_page_continued(ctx.stores.table.as_ref(), activity_id, mark).await?;
    Ok(())
}

/// A render of feeds and pages, on its own message: a failure retries only the render.
pub async fn render(ctx: &Ctx, r: Render) -> Result<Settled, FanoutError> {
    feed::render::render(ctx, &r.account_id, &r.tags, &r.statuses).await?;
    Ok(Settled::Done)
}
