//! `/api/v1/polls/…`: read a poll and vote. A poll's id is its status's id.

use axum::extract::{Path, State};
use axum::Json;
use petrel::api::auth::{Auth, MaybeAuth};
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};
use petrel::events::{OutboxEvent, PollWork};
use petrel::mastodon::convert;
use petrel::model::poll::{MAX_EXPIRATION_SECS, MAX_OPTIONS, MAX_OPTION_CHARS, MIN_EXPIRATION_SECS};
use petrel::model::{self, PollParams};
use petrel::repo::{accounts, polls};
use petrel::Ctx;
use serde::Deserialize;
use serde_json::Value;

use super::statuses::get_visible;

/// `poll[options][]`, `poll[expires_in]`, `poll[multiple]`, `poll[hide_totals]` (form or JSON),
/// checked as Mastodon checks them.
pub fn parse_params(v: &Value) -> ApiResult<PollParams> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default, deserialize_with = "lenient::string_list")]
        options: Vec<String>,
        #[serde(default)]
        expires_in: Option<Value>,
        #[serde(default, deserialize_with = "lenient::opt_bool")]
        multiple: Option<bool>,
        #[serde(default, deserialize_with = "lenient::opt_bool")]
        hide_totals: Option<bool>,
    }
    let raw: Raw =
        serde_json::from_value(v.clone()).map_err(|e| ApiError::Unprocessable(format!("Poll is invalid ({e})")))?;
    let invalid = |m: &str| ApiError::Unprocessable(m.to_string());
    if raw.options.len() < 2 {
        return Err(invalid("Poll options must have more than one item"));
    }
    if raw.options.len() > MAX_OPTIONS {
        return Err(invalid(&format!("Poll options can't contain more than {MAX_OPTIONS} items")));
    }
    if raw.options.iter().any(|o| o.trim().is_empty() || o.chars().count() > MAX_OPTION_CHARS) {
        return Err(invalid(&format!("Poll options cannot be longer than {MAX_OPTION_CHARS} characters each")));
    }
    let mut seen = std::collections::HashSet::new();
    if !raw.options.iter().all(|o| seen.insert(o.trim())) {
        return Err(invalid("Poll options contains duplicate items"));
    }
    let expires_in = match &raw.expires_in {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid("Poll expires at can't be blank"))?;
    if expires_in < MIN_EXPIRATION_SECS {
        return Err(invalid("Poll expires at is too soon"));
    }
    if expires_in > MAX_EXPIRATION_SECS {
        return Err(invalid("Poll expires at is too far into the future"));
    }
    Ok(PollParams {
        options: raw.options.iter().map(|o| o.trim().to_string()).collect(),
        expires_in,
        multiple: raw.multiple.unwrap_or(false),
        hide_totals: raw.hide_totals.unwrap_or(false),
    })
}

/// Queues the notification of a poll's end (`voter`: the one local voter of a remote poll to
/// notify; `None`: a local poll's author and all its local voters).
pub async fn queue_end(ctx: &Ctx, s: &model::Status, voter: Option<String>) -> ApiResult<()> {
    let Some(due_at) = s.poll.as_ref().and_then(|p| p.expires_at) else {
        return Ok(());
    };
    let work = OutboxEvent::PollEnded(PollWork { status_id: s.id.clone(), due_at, voter });
    send(ctx, work, due_at).await
}

async fn send(ctx: &Ctx, event: OutboxEvent, due_at: i64) -> ApiResult<()> {
    let message = event.message_due(due_at).map_err(|e| ApiError::Internal(e.to_string()))?;
    ctx.stores.queues.outbox.send(message).await?;
    Ok(())
}

/// After a vote on a local poll: the first vote since the last Update queues the next one.
pub async fn queue_update(ctx: &Ctx, status_id: &str) -> ApiResult<()> {
    Ok(polls::queue_update(ctx.stores.table.as_ref(), ctx.stores.queues.outbox.as_ref(), status_id).await?)
}

async fn visible_poll(ctx: &Ctx, id: &str, viewer: Option<&model::Account>) -> ApiResult<model::Status> {
    let status = get_visible(ctx, id, viewer).await?;
    if status.poll.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(status)
}

/// `GET /api/v1/polls/:id`.
pub async fn get(State(ctx): State<Ctx>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if let Some(a) = &auth.0 {
        a.require("read:statuses")?;
    }
    let status = visible_poll(&ctx, &id, auth.account()).await?;
    let own = match auth.account() {
        Some(v) => {
            let votes = polls::own_votes(ctx.stores.table.as_ref(), &v.id, std::slice::from_ref(&status.id)).await?;
            Some(votes.get(&status.id).cloned().unwrap_or_default())
        }
        None => None,
    };
    convert::poll(&status, own.as_deref()).map(Json).ok_or(ApiError::NotFound)
}

#[derive(Deserialize)]
pub struct Vote {
    #[serde(default, deserialize_with = "lenient::string_list")]
    choices: Vec<String>,
}

/// `POST /api/v1/polls/:id/votes`: records the votes; a remote poll's author is sent each
/// choice as a Note named after the option.
pub async fn vote(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<Vote>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:statuses")?;
    if p.choices.is_empty() {
        return Err(ApiError::BadRequest("param is missing or the value is empty: choices".into()));
    }
    let choices = p
        .choices
        .iter()
        .map(|c| c.trim().parse::<u32>())
        .collect::<Result<Vec<u32>, _>>()
        .map_err(|_| ApiError::Unprocessable(polls::NO_SUCH_OPTION.into()))?;
    let table = ctx.stores.table.as_ref();
    let status = visible_poll(&ctx, &id, Some(me)).await?;
    let all = polls::vote(table, &status, &me.id, true, &choices, petrel::clock::now_ms()).await?;
    // What this request added (the vote refuses any choice made before), and whether it is the
    // account's first vote on the poll.
    let mut new: Vec<u32> = Vec::new();
    for c in choices {
        if !new.contains(&c) {
            new.push(c);
        }
    }
    let first = all.len() == new.len();
    match &status.remote_uri {
        None => queue_update(&ctx, &status.id).await?,
        Some(question) => {
            // Voting is an interaction: the remote status stops expiring (`statuses::keep`).
            petrel::repo::statuses::keep(table, &status).await?;
            let author = accounts::by_id(table, &status.account_id).await?.ok_or(ApiError::NotFound)?;
            let (Some(inbox), Some(remote)) = (author.remote.as_ref().map(|r| r.inbox.clone()), &author.remote) else {
                return Err(ApiError::NotFound);
            };
            let options = status.poll.as_ref().map(|p| p.options.clone()).unwrap_or_default();
            for c in new {
                let Some(name) = options.get(c as usize) else { continue };
                let vote_id = format!("{}-{c}", status.id);
                let activity =
                    petrel::activitypub::convert::poll_vote(&ctx.config, me, question, &remote.uri, name, &vote_id);
                crate::federation::outbox::to_inbox(&ctx, me, &inbox, activity).await?;
            }
            if first {
                queue_end(&ctx, &status, Some(me.id.clone())).await?;
            }
        }
    }
    let fresh = petrel::repo::statuses::get(table, &status.id).await?.ok_or(ApiError::NotFound)?;
    convert::poll(&fresh, Some(&all)).map(Json).ok_or(ApiError::NotFound)
}
