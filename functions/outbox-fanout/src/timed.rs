//! Work due at a time: a poll's results after a burst of votes, a poll's end, a scheduled
//! status. Each is one message on the outbox queue, delayed up to SQS's 15 minutes and then held
//! by its visibility timeout until due (`deliver::plan`: a receive per 12 hours, a new message
//! before the redrive count), so a wait costs a few requests a day and nothing polls for it.
//! Every handler is idempotent: the message may come again.

use std::time::Duration;

use petrel::activitypub::convert;
use petrel::consumer::Settled;
use petrel::events::{OutboxEvent, PollWork, Publish, Render, ScheduledWork};
use petrel::model::{Notification, Status, Visibility};
use petrel::repo::scheduled::{self, Publishing};
use petrel::repo::{accounts, notifications, polls, statuses, RepoError};
use petrel::Ctx;

use crate::deliver::{plan, Next, Receipt};
use crate::FanoutError;

/// `Some` when the work is not due yet and the message was held or sent again for later.
pub async fn hold(
    ctx: &Ctx,
    due_at: i64,
    event: &OutboxEvent,
    receipt: &Receipt,
) -> Result<Option<Settled>, FanoutError> {
    let wait_ms = due_at - petrel::clock::now_ms();
    if wait_ms <= 0 {
        return Ok(None);
    }
    if let Next::Hold(ms) = plan(wait_ms, receipt) {
        match ctx.stores.queues.outbox.change_visibility(&receipt.handle, Duration::from_millis(ms as u64)).await {
            Ok(()) => return Ok(Some(Settled::Later)),
            Err(e) => tracing::info!(error = %e, "could not hold the message; sending it again"),
        }
    }
    ctx.stores.queues.outbox.send(event.message_due(due_at)?).await?;
    Ok(Some(Settled::Done))
}

async fn send(ctx: &Ctx, events: Vec<OutboxEvent>) -> Result<(), FanoutError> {
    let total = events.len();
    let messages = events.iter().map(OutboxEvent::message).collect::<Result<Vec<_>, _>>()?;
    let failed = ctx.stores.queues.outbox.send_batch(messages).await?.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        return Err(FanoutError::PartialSend(failed, total));
    }
    Ok(())
}

/// An Update(Question) with a local poll's results, to the author's followers and the inboxes
/// of remote voters.
async fn publish_results(ctx: &Ctx, s: &Status) -> Result<(), FanoutError> {
    let table = ctx.stores.table.as_ref();
    let Some(author) = accounts::by_id(table, &s.account_id).await? else {
        return Ok(());
    };
    let voters = polls::voters(table, &s.id, false).await?;
    let mut inboxes: Vec<String> = Vec::new();
    for a in accounts::by_ids(table, &voters).await? {
        if let Some(inbox) = a.delivery_inbox() {
            if !inboxes.iter().any(|i| i == inbox) {
                inboxes.push(inbox.to_string());
            }
        }
    }
    let activity = convert::poll_update(&ctx.config, &author, s, petrel::clock::now_ms());
    send(
        ctx,
        vec![OutboxEvent::Publish(Publish {
            account_id: author.id.clone(),
            activity,
            to_followers: s.visibility != Visibility::Direct,
            inboxes,
            // Not counted in the status's delivery report, which is about the post itself.
            status_id: None,
            cursor: None,
            over: None,
            render: None,
        })],
    )
    .await
}

/// `PollUpdate`: the mark comes off first, so a vote counted after the read below queues
/// another Update.
pub async fn poll_update(ctx: &Ctx, w: PollWork, receipt: &Receipt) -> Result<Settled, FanoutError> {
    let event = OutboxEvent::PollUpdate(w.clone());
    if let Some(later) = hold(ctx, w.due_at, &event, receipt).await? {
        return Ok(later);
    }
    let table = ctx.stores.table.as_ref();
    polls::release_update(table, &w.status_id).await?;
    match statuses::get(table, &w.status_id).await? {
        Some(s) if s.poll.is_some() && s.remote_uri.is_none() => publish_results(ctx, &s).await?,
        _ => {}
    }
    Ok(Settled::Done)
}

/// The id of a poll's end notification: at the end's time, the same on every receipt of the
/// message (so a repeat overwrites it), apart per poll in its low bits.
fn end_notification_id(status_id: &str, due_at: i64) -> String {
    let low = status_id.bytes().fold(0u16, |h, b| h.wrapping_mul(31).wrapping_add(u16::from(b)));
    format!("{:018}", ((due_at.max(0) as u64) << 16) | u64::from(low))
}

/// `PollEnded`: notifies the author (a local poll) and local voters; a local poll's final
/// results go out. Nothing when the poll is gone or its end moved (an edit queued another).
pub async fn poll_ended(ctx: &Ctx, w: PollWork, receipt: &Receipt) -> Result<Settled, FanoutError> {
    let event = OutboxEvent::PollEnded(w.clone());
    if let Some(later) = hold(ctx, w.due_at, &event, receipt).await? {
        return Ok(later);
    }
    let table = ctx.stores.table.as_ref();
    let Some(s) = statuses::get(table, &w.status_id).await? else {
        return Ok(Settled::Done);
    };
    if s.poll.as_ref().and_then(|p| p.expires_at) != Some(w.due_at) {
        return Ok(Settled::Done);
    }
    let Some(author) = accounts::by_id(table, &s.account_id).await? else {
        return Ok(Settled::Done);
    };
    let local_poll = s.remote_uri.is_none();
    let mut notify: Vec<String> = match &w.voter {
        Some(v) => vec![v.clone()],
        None => polls::voters(table, &s.id, true).await?,
    };
    if local_poll && w.voter.is_none() {
        notify.insert(0, s.account_id.clone());
    }
    let n = Notification {
        id: end_notification_id(&s.id, w.due_at),
        kind: "poll".into(),
        from_account_id: s.account_id.clone(),
        status_id: Some(s.id.clone()),
        created_at: w.due_at,
        ttl: ctx.config.retention.notification_ttl(petrel::store::table::now_secs()),
    };
    for local in &notify {
        notifications::create(table, local, &n).await?;
        petrel::push::notify(ctx, local, &n, &author, Some(&s)).await;
    }
    if local_poll && w.voter.is_none() {
        publish_results(ctx, &s).await?;
    }
    Ok(Settled::Done)
}

/// `PublishScheduled`: writes the status with a new id and the time of publication, then queues
/// its fan-out, feed render and poll end. A repeat finds the status written and only queues
/// those again (receivers and the fan-out drop repeats by activity id).
pub async fn publish_scheduled(ctx: &Ctx, w: ScheduledWork, receipt: &Receipt) -> Result<Settled, FanoutError> {
    let event = OutboxEvent::PublishScheduled(w.clone());
    if let Some(later) = hold(ctx, w.scheduled_at, &event, receipt).await? {
        return Ok(later);
    }
    let table = ctx.stores.table.as_ref();
    let Some(sch) = scheduled::get_any(table, &w.account_id, &w.scheduled_id).await? else {
        return Ok(Settled::Done);
    };
    let now = petrel::clock::now_ms();
    let mut status = sch.prepared.clone();
    status.id = petrel::ids::snowflake();
    status.created_at = now;
    status.poll = sch.poll.as_ref().map(|p| p.poll(now));
    let published = match scheduled::publish(table, &w.account_id, &w.scheduled_id, w.scheduled_at, status).await {
        Ok(Publishing::New(s)) => {
            // A scheduled post appears on the streams when it is published, as a post does.
            petrel::streaming::status(ctx, &s, petrel::streaming::StatusEvent::Created).await;
            *s
        }
        Ok(Publishing::Earlier(id)) => match statuses::get(table, &id).await? {
            Some(s) => s,
            None => {
                scheduled::finish(table, &w.account_id, &w.scheduled_id).await?;
                return Ok(Settled::Done);
            }
        },
        Ok(Publishing::Gone) => return Ok(Settled::Done),
        Err(RepoError::NotFound(what)) => {
            // The status replied to, or an attachment, is gone: Mastodon drops such a post too.
            tracing::warn!(scheduled = %w.scheduled_id, what, "scheduled status not published");
            scheduled::finish(table, &w.account_id, &w.scheduled_id).await?;
            return Ok(Settled::Done);
        }
        Err(e) => return Err(e.into()),
    };
    let Some(author) = accounts::by_id(table, &w.account_id).await? else {
        return Ok(Settled::Done);
    };
    let mut events = vec![
        OutboxEvent::Publish(Publish {
            account_id: author.id.clone(),
            activity: convert::create(&ctx.config, &author, &published),
            to_followers: published.visibility != Visibility::Direct,
            inboxes: sch.inboxes.clone(),
            status_id: Some(published.id.clone()),
            cursor: None,
            over: None,
            render: None,
        }),
        OutboxEvent::Render(Render {
            account_id: author.id.clone(),
            tags: published.tags.clone(),
            statuses: vec![published.id.clone()],
        }),
    ];
    events.extend(petrel::links::card_event(&published));
    if let Some(due_at) = published.poll.as_ref().and_then(|p| p.expires_at) {
        let end = OutboxEvent::PollEnded(PollWork { status_id: published.id.clone(), due_at, voter: None });
        ctx.stores.queues.outbox.send(end.message_due(due_at)?).await?;
    }
    send(ctx, events).await?;
    scheduled::finish(table, &w.account_id, &w.scheduled_id).await?;
    Ok(Settled::Done)
}
