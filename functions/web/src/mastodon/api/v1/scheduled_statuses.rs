//! Scheduled statuses: `scheduled_at` on `POST /api/v1/statuses`, and
//! `/api/v1/scheduled_statuses[/:id]`. A scheduled status waits as one item plus one queue
//! message held until its time (infra/deploy.md, "Scheduled statuses and poll ends", says why this
//! and not a scheduler); outbox-fanout publishes it.

use axum::extract::{Path, State};
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{Params, QueryParams};
use petrel::config::Config;
use petrel::events::{OutboxEvent, ScheduledWork};
use petrel::model::{self, PollParams, ScheduledStatus};
use petrel::repo::scheduled;
use petrel::Ctx;
use serde::Deserialize;
use serde_json::{json, Value};

const TOO_SOON: &str = "Scheduled at The scheduled date must be in the future";

/// When to publish: `None` to publish now (no `scheduled_at`, or one already past, which
/// Mastodon also publishes at once); a time less than five minutes ahead is refused, as Mastodon
/// refuses it.
pub fn parse_time(raw: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let at = parse(raw)?;
    let now = petrel::clock::now_ms();
    if at <= now {
        return Ok(None);
    }
    if at < now + scheduled::MIN_AHEAD_MS {
        return Err(ApiError::Unprocessable(TOO_SOON.into()));
    }
    Ok(Some(at))
}

fn parse(raw: &str) -> ApiResult<i64> {
    petrel::clock::parse_rfc3339_ms(raw)
        .ok_or_else(|| ApiError::Unprocessable(format!("`{raw}` is not a date and time (ISO 8601)")))
}

/// The ScheduledStatus entity.
pub fn entity(cfg: &Config, s: &ScheduledStatus) -> Value {
    json!({
        "id": s.id,
        "scheduled_at": petrel::clock::iso8601_ms(s.scheduled_at),
        "params": s.params,
        "media_attachments": s.prepared.media.iter().map(|m| petrel::mastodon::convert::media(cfg, m)).collect::<Vec<_>>(),
    })
}

/// Stores `status` (prepared now, published later with a new id and time) to publish at `at`.
pub async fn schedule(
    ctx: &Ctx,
    account: &model::Account,
    mut status: model::Status,
    poll: Option<PollParams>,
    at: i64,
    params: Value,
    inboxes: Vec<String>,
) -> ApiResult<Value> {
    let table = ctx.stores.table.as_ref();
    if let Some(message) = scheduled::over_limit(&scheduled::list(table, &account.id).await?, at) {
        return Err(ApiError::Unprocessable(message));
    }
    // The poll starts when the status is published.
    status.poll = None;
    let s = ScheduledStatus {
        id: petrel::ids::snowflake(),
        account_id: account.id.clone(),
        scheduled_at: at,
        params,
        prepared: status,
        poll,
        inboxes,
        status_id: None,
    };
    // The message goes before the item, so an item never waits without one (a message without
    // its item does nothing). The files stop expiring by a message in the same batch: they must
    // outlive the wait, not just the day an unused upload is kept.
    queue(ctx, &s, at, petrel::events::FileWork::keep(&s.prepared.media)).await?;
    scheduled::create(table, &s).await?;
    Ok(entity(&ctx.config, &s))
}

async fn queue(ctx: &Ctx, s: &ScheduledStatus, at: i64, files: Option<OutboxEvent>) -> ApiResult<()> {
    let work = OutboxEvent::PublishScheduled(ScheduledWork {
        account_id: s.account_id.clone(),
        scheduled_id: s.id.clone(),
        scheduled_at: at,
    });
    let internal = |e: serde_json::Error| ApiError::Internal(e.to_string());
    let mut messages = vec![work.message_due(at).map_err(internal)?];
    if let Some(files) = files {
        messages.push(files.message().map_err(internal)?);
    }
    for sent in ctx.stores.queues.outbox.send_batch(messages).await? {
        sent?;
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    max_id: Option<String>,
    #[serde(default)]
    since_id: Option<String>,
    #[serde(default)]
    min_id: Option<String>,
    #[serde(default, deserialize_with = "petrel::api::params::lenient::opt_u32")]
    limit: Option<u32>,
}

/// `GET /api/v1/scheduled_statuses`: newest id first, paged by id (one query).
pub async fn list(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(p): QueryParams<ListParams>,
) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:statuses")?;
    let mut all = scheduled::list(ctx.stores.table.as_ref(), &me.id).await?;
    let newer = |id: &str, than: &Option<String>| than.as_ref().is_none_or(|t| id > t.as_str());
    all.retain(|s| p.max_id.as_ref().is_none_or(|m| s.id < *m) && newer(&s.id, &p.since_id) && newer(&s.id, &p.min_id));
    let limit = p.limit.unwrap_or(20).clamp(1, 40) as usize;
    if p.min_id.is_some() {
        all.truncate(limit);
        all.reverse();
    } else {
        all.reverse();
        all.truncate(limit);
    }
    Ok(Json(all.iter().map(|s| entity(&ctx.config, s)).collect()))
}

async fn find(ctx: &Ctx, me: &model::Account, id: &str) -> ApiResult<ScheduledStatus> {
    scheduled::get(ctx.stores.table.as_ref(), &me.id, id).await?.ok_or(ApiError::NotFound)
}

pub async fn get(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:statuses")?;
    Ok(Json(entity(&ctx.config, &find(&ctx, me, &id).await?)))
}

#[derive(Deserialize)]
pub struct Update {
    #[serde(default)]
    scheduled_at: Option<String>,
}

/// `PUT /api/v1/scheduled_statuses/:id`: a new time (at least five minutes ahead). The message
/// queued for the old time finds the time changed and does nothing.
pub async fn update(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<Update>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:statuses")?;
    let s = find(&ctx, me, &id).await?;
    let Some(raw) = p.scheduled_at.as_deref().map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(Json(entity(&ctx.config, &s)));
    };
    let at = parse(raw)?;
    if at < petrel::clock::now_ms() + scheduled::MIN_AHEAD_MS {
        return Err(ApiError::Unprocessable(TOO_SOON.into()));
    }
    let mut others = scheduled::list(ctx.stores.table.as_ref(), &me.id).await?;
    others.retain(|o| o.id != s.id);
    if let Some(message) = scheduled::over_limit(&others, at) {
        return Err(ApiError::Unprocessable(message));
    }
    queue(&ctx, &s, at, None).await?;
    let moved = scheduled::reschedule(ctx.stores.table.as_ref(), &s, at).await?;
    Ok(Json(entity(&ctx.config, &moved)))
}

/// `DELETE /api/v1/scheduled_statuses/:id`: it will not be published; its media go with it.
pub async fn delete(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:statuses")?;
    let s = find(&ctx, me, &id).await?;
    scheduled::delete(ctx.stores.table.as_ref(), &s).await?;
    // Its files go by the fan-out worker. Should the message not be sent, the files stay as
    // orphans (logged): the scheduled status is gone either way, as the caller asked.
    if let Some(files) = petrel::events::FileWork::delete(&s.prepared.media) {
        let sent = match files.message() {
            Ok(m) => ctx.stores.queues.outbox.send(m).await.map(drop).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = sent {
            tracing::warn!(scheduled = %s.id, error = %e, "media files of a deleted scheduled status were not queued for removal");
        }
    }
    Ok(Json(json!({})))
}
