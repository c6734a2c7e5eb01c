//! `/api/v1/statuses/…`: post, read, delete, context, favourite.

use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use petrel::mastodon::convert::{self, Viewer};
use petrel::mastodon::entities as e;
use petrel::model::{self, MentionRef, Visibility};
use petrel::repo::{accounts, polls, statuses, visibility};
use petrel::text::{self, ResolvedMention};
use petrel::Ctx;

use crate::federation::outbox;
use serde::Deserialize;

use super::instance::MAX_MEDIA;
use petrel::api::auth::{Auth, MaybeAuth};
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params};

pub use petrel::mastodon::render::{render_in, render_many, render_one, render_timeline, viewer_filters};

/// The status if `viewer` may see it (`repo::visibility`, the one rule); a boost also needs its
/// boosted status to be visible. Not found otherwise, as Mastodon answers.
pub async fn get_visible(ctx: &Ctx, id: &str, viewer: Option<&model::Account>) -> ApiResult<model::Status> {
    let table = ctx.stores.table.as_ref();
    let status = statuses::get(table, id).await?.ok_or(ApiError::NotFound)?;
    if !visibility::may_see(table, &status, viewer).await? {
        return Err(ApiError::NotFound);
    }
    if let Some(of) = &status.reblog_of {
        let original = statuses::get(table, of).await?.ok_or(ApiError::NotFound)?;
        if !visibility::may_see(table, &original, viewer).await? {
            return Err(ApiError::NotFound);
        }
    }
    Ok(status)
}

#[derive(Deserialize)]
pub struct CreateStatus {
    #[serde(default)]
    status: Option<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    media_ids: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    in_reply_to_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    sensitive: Option<bool>,
    #[serde(default)]
    spoiler_text: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    language: Option<String>,
    #[serde(default)]
    scheduled_at: Option<String>,
    #[serde(default)]
    poll: Option<serde_json::Value>,
}

/// What a ScheduledStatus's `params` say: the request as Mastodon echoes it.
fn params_echo(p: &CreateStatus, poll: Option<&petrel::model::PollParams>) -> serde_json::Value {
    serde_json::json!({
        "text": p.status.clone().unwrap_or_default(),
        "poll": poll,
        "media_ids": if p.media_ids.is_empty() { None } else { Some(&p.media_ids) },
        "sensitive": p.sensitive,
        "spoiler_text": p.spoiler_text,
        "visibility": p.visibility.clone().filter(|v| !v.is_empty()).unwrap_or_else(|| "public".into()),
        // Mastodon keeps it as a number.
        "in_reply_to_id": p.in_reply_to_id.as_deref().and_then(|id| id.parse::<i64>().ok()),
        "language": p.language,
        // Deprecated ("can be ignored") but required; Petrel's apps have no numeric id.
        "application_id": 0,
        "scheduled_at": null,
        "idempotency": null,
        "with_rate_limit": false,
    })
}

/// Local mentions resolve to their accounts; `@user@domain` elsewhere waits for WebFinger
/// resolution, which arrives with federation, and stays plain text until then.
/// Inboxes of the remote accounts a status mentions (one batch get), so its Delete reaches them.
async fn mention_inboxes(ctx: &Ctx, s: &model::Status) -> ApiResult<Vec<String>> {
    let ids: Vec<String> = s.mentions.iter().map(|m| m.account_id.clone()).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = accounts::by_ids(ctx.stores.table.as_ref(), &ids).await?;
    Ok(found.iter().filter_map(|a| a.delivery_inbox().map(str::to_string)).collect())
}

/// Mentions a status makes, resolved to accounts, and the inboxes of the remote ones.
struct Mentions {
    resolved: Vec<ResolvedMention>,
    refs: Vec<MentionRef>,
    inboxes: Vec<String>,
    /// The local accounts among them (a direct message joins their conversations).
    locals: Vec<String>,
}

/// At most this many remote accounts are looked up (WebFinger) for one post.
const MAX_REMOTE_MENTIONS: usize = 10;

/// `@name` and `@name@our-domain` name local accounts; `@user@domain` is looked up through
/// WebFinger (cached in the table) and its server gets the post.
async fn resolve_mentions(ctx: &Ctx, text: &str) -> ApiResult<Mentions> {
    let mut m = Mentions { resolved: Vec::new(), refs: Vec::new(), inboxes: Vec::new(), locals: Vec::new() };
    let mut remote_lookups = 0;
    for typed in text::mention_candidates(text) {
        let acct = &typed[1..];
        let (name, domain) = match acct.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (acct, None),
        };
        if !model::valid_username(name) {
            continue;
        }
        let local = domain.is_none_or(|d| {
            d.eq_ignore_ascii_case(&ctx.config.handle_domain) || d.eq_ignore_ascii_case(&ctx.config.domain)
        });
        let found = if local {
            accounts::by_username(ctx.stores.table.as_ref(), name).await?
        } else if remote_lookups < MAX_REMOTE_MENTIONS {
            remote_lookups += 1;
            super::accounts::resolve_remote(ctx, acct).await
        } else {
            continue;
        };
        let Some(a) = found else { continue };
        let (url, uri) = match &a.remote {
            Some(r) => (r.url.clone(), r.uri.clone()),
            None => (convert::account_url(&ctx.config, &a.username), convert::actor_uri(&ctx.config, &a.username)),
        };
        m.resolved.push(ResolvedMention { typed: typed.clone(), url: url.clone(), username: a.username.clone() });
        if !m.refs.iter().any(|r: &MentionRef| r.account_id == a.id) {
            if let Some(inbox) = a.delivery_inbox() {
                m.inboxes.push(inbox.to_string());
            }
            if a.remote.is_none() {
                m.locals.push(a.id.clone());
            }
            m.refs.push(MentionRef {
                account_id: a.id.clone(),
                username: a.username.clone(),
                acct: a.acct(),
                url,
                uri: Some(uri),
            });
        }
    }
    Ok(m)
}

/// At most this many local followers of a post's hashtags get it in their home timeline (the
/// post's transaction has room for them; an instance has a handful of accounts).
const MAX_TAG_HOMES: usize = 50;

pub async fn create(
    State(ctx): State<Ctx>,
    auth: Auth,
    headers: HeaderMap,
    Params(p): Params<CreateStatus>,
) -> ApiResult<axum::response::Response> {
    let account = auth.user("write:statuses")?;
    let poll = p.poll.as_ref().filter(|v| !v.is_null()).map(super::polls::parse_params).transpose()?;
    let params_echo = params_echo(&p, poll.as_ref());
    let text = p.status.unwrap_or_default();
    let scheduled_at = super::scheduled_statuses::parse_time(p.scheduled_at.as_deref())?;
    if p.media_ids.len() > MAX_MEDIA || (poll.is_some() && !p.media_ids.is_empty()) {
        // Mastodon's message for both: a poll takes the place of attachments.
        return Err(ApiError::Unprocessable(format!("Cannot attach more than {MAX_MEDIA} files")));
    }
    let mut media = Vec::with_capacity(p.media_ids.len());
    if !p.media_ids.is_empty() {
        let mut seen = HashSet::new();
        let ids: Vec<String> = p.media_ids.iter().filter(|id| seen.insert(id.as_str())).cloned().collect();
        for (id, found) in ids.iter().zip(petrel::repo::media::get_many(ctx.stores.table.as_ref(), &ids).await?) {
            match found {
                Some(m) if m.account_id == account.id && m.status_id.is_none() => media.push(m),
                _ => return Err(ApiError::Unprocessable(format!("unknown media id `{id}`"))),
            }
        }
    }
    if text.trim().is_empty() && media.is_empty() {
        return Err(ApiError::Unprocessable("Text can't be blank".into()));
    }
    let spoiler = p.spoiler_text.unwrap_or_default();
    let length = text::weighted_length(&text) + spoiler.chars().count();
    let max = ctx.config.max_characters;
    if length > max {
        return Err(ApiError::Unprocessable(format!("Text character limit of {max} exceeded")));
    }
    // Left out, the account's posting defaults apply (`source[privacy]` etc.).
    let visibility = match p.visibility.as_deref().filter(|v| !v.is_empty()).or(account.posting.privacy.as_deref()) {
        None => Visibility::Public,
        Some(v) => Visibility::parse(v).ok_or_else(|| ApiError::Unprocessable(format!("`{v}` is not a visibility")))?,
    };
    let table = ctx.stores.table.as_ref();
    let (in_reply_to_id, in_reply_to_account_id, in_reply_to_uri, conversation) = match p.in_reply_to_id {
        Some(id) => {
            let parent = get_visible(&ctx, &id, Some(account)).await?;
            // A local reply keeps the conversation it joins (no write when already kept).
            statuses::keep(table, &parent).await?;
            let uri = match &parent.remote_uri {
                Some(uri) => uri.clone(),
                None if parent.account_id == account.id => {
                    convert::status_uri(&ctx.config, &account.username, &parent.id)
                }
                None => {
                    let author = accounts::by_id(table, &parent.account_id).await?.ok_or(ApiError::NotFound)?;
                    convert::status_uri(&ctx.config, &author.username, &parent.id)
                }
            };
            let root = parent.thread_root().to_string();
            (Some(parent.id), Some(parent.account_id), Some(uri), Some(root))
        }
        None => (None, None, None, None),
    };
    let language = p.language.or_else(|| account.posting.language.clone());
    if let Some(lang) = &language {
        if lang.len() > 8 || !lang.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            return Err(ApiError::Unprocessable(format!("`{lang}` is not a language code")));
        }
    }
    let mentions = resolve_mentions(&ctx, &text).await?;
    let rendered = text::render(&text, &ctx.config.base_url(), &mentions.resolved);
    let mention_refs = mentions.refs;
    let conversation_locals: Vec<String> =
        std::iter::once(account.id.clone()).chain(mentions.locals.iter().cloned()).collect();
    let status = model::Status {
        id: petrel::ids::snowflake(),
        account_id: account.id.clone(),
        content: rendered.html,
        text,
        spoiler_text: spoiler.clone(),
        visibility,
        sensitive: p.sensitive.unwrap_or(account.posting.sensitive) || !spoiler.is_empty(),
        language,
        in_reply_to_id,
        in_reply_to_account_id,
        in_reply_to_uri,
        created_at: petrel::clock::now_ms(),
        edited_at: None,
        tags: rendered.tags,
        mentions: mention_refs,
        media,
        favourites_count: 0,
        reblogs_count: 0,
        replies_count: 0,
        application: auth.token.app_name.clone(),
        application_website: auth.token.app_website.clone(),
        remote_uri: None,
        remote_url: None,
        reblog_of: None,
        conversation,
        poll: poll.as_ref().map(|p| p.poll(petrel::clock::now_ms())),
        poll_tally: Default::default(),
        emojis: Vec::new(),
        card: None,
        ttl: None,
    };
    if let Some(at) = scheduled_at {
        let entity =
            super::scheduled_statuses::schedule(&ctx, account, status, poll, at, params_echo, mentions.inboxes).await?;
        return Ok(Json(entity).into_response());
    }
    let idempotency =
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()).filter(|k| !k.is_empty() && k.len() <= 256);
    // Rendered from what was written (or, for a repeated Idempotency-Key, what was found): the
    // author is the caller, and a new post has no favourites yet.
    let mut author_now = account.clone();
    // Local accounts following one of its hashtags get a public post in their home timeline,
    // and the author's featured tags count it, in the post's own transaction.
    let (tag_homes, tag_counts) = if status.tags.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let public = status.visibility == Visibility::Public;
        let counts = public || status.visibility == Visibility::Unlisted;
        let (mut homes, ops) =
            petrel::repo::tags::local_post_routing(table, &account.id, &status.tags, public, counts, status.created_at)
                .await?;
        homes.retain(|l| l != &account.id && !account.hidden_from(l));
        homes.truncate(MAX_TAG_HOMES);
        (homes, ops)
    };
    let (stored, favourited) = match statuses::create_with(table, status, idempotency, &tag_homes, tag_counts).await? {
        statuses::Created::New(s) => {
            author_now.statuses_count += 1;
            author_now.last_status_at = Some(s.created_at);
            (s, false)
        }
        statuses::Created::Earlier(s) => {
            // The first request may have stored the status and then failed to queue its
            // messages: its files are kept again (idempotent), so they never expire under it.
            if let Some(keep) = petrel::events::FileWork::keep(&s.media) {
                outbox::send(&ctx, vec![keep]).await?;
            }
            let fav = statuses::favourited(table, &account.id, std::slice::from_ref(&s.id)).await?.contains(&s.id);
            (s, fav)
        }
    };
    if author_now.statuses_count > account.statuses_count {
        // Only a new status is published; a repeated Idempotency-Key was published the first time.
        let render = outbox::render(account, &stored.tags, &stored);
        outbox::created(&ctx, account, &stored, mentions.inboxes, render).await?;
        // A direct message joins the conversations of its author and the local accounts it names.
        // The post stands either way: a failure here is logged, not answered with an error
        // that would make the app post it again.
        if let Err(e) = petrel::repo::conversations::record(table, &stored, &conversation_locals).await {
            tracing::warn!(status = %stored.id, error = %e, "conversation not updated");
        }
        super::polls::queue_end(&ctx, &stored, None).await?;
        petrel::streaming::status(&ctx, &stored, petrel::streaming::StatusEvent::Created).await;
    }
    let author = convert::account(&ctx.config, &author_now, false);
    let mut entity = convert::status(&ctx.config, &stored, &author, Viewer { favourited, ..Viewer::default() });
    entity.poll = convert::poll(&stored, Some(&[]));
    Ok(Json(entity).into_response())
}

/// A deleted public or unlisted post no longer counts for its author's featured tags (one batch
/// get, and a write per featured tag it had). After the delete, as Mastodon does it: a counter
/// left one too high by a failure here is the lesser harm.
async fn uncount_featured(ctx: &Ctx, status: &model::Status) -> ApiResult<()> {
    if status.tags.is_empty() || !matches!(status.visibility, Visibility::Public | Visibility::Unlisted) {
        return Ok(());
    }
    let table = ctx.stores.table.as_ref();
    let ops = petrel::repo::tags::featured_counter_ops(table, &status.account_id, &status.tags, -1, 0).await?;
    for op in ops {
        if let petrel::store::TxOp::Update { key, update, cond } = op {
            match table.update(&key, update, cond).await {
                Ok(_) | Err(petrel::store::StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

async fn readable(ctx: &Ctx, auth: &MaybeAuth, id: &str) -> ApiResult<model::Status> {
    if let Some(a) = &auth.0 {
        a.require("read:statuses")?;
    }
    get_visible(ctx, id, auth.account()).await
}

pub async fn get(State(ctx): State<Ctx>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    if let Some(a) = &auth.0 {
        a.require("read:statuses")?;
    }
    // One batch read renders it; rendering applies the visibility rule to what it read.
    Ok(Json(render_one(&ctx, auth.account(), &id).await?))
}

pub async fn delete(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    let account = auth.user("write:statuses")?;
    let table = ctx.stores.table.as_ref();
    let status = statuses::get(table, &id).await?.ok_or(ApiError::NotFound)?;
    if status.account_id != account.id {
        return Err(ApiError::NotFound);
    }
    // Deleting a boost is taking it back.
    if let Some(of) = &status.reblog_of {
        let entity = render_one(&ctx, Some(account), &id).await?;
        if let Some(original) = statuses::get(table, of).await? {
            undo_boost(&ctx, account, &original).await?;
        }
        return Ok(Json(entity));
    }
    // Mastodon answers with the deleted status, its source text included, for "delete and redraft".
    let entity = render_one(&ctx, Some(account), &id).await?;
    statuses::delete(table, &status).await?;
    if status.poll.is_some() {
        polls::clear_votes(table, &status.id).await?;
    }
    uncount_featured(&ctx, &status).await?;
    let delete = petrel::activitypub::convert::delete(&ctx.config, account, &status);
    let render = outbox::render(account, &status.tags, &status);
    let inboxes = mention_inboxes(&ctx, &status).await?;
    // The records went with the status; its files follow, deleted by the fan-out worker.
    let files = petrel::events::FileWork::delete(&status.media);
    outbox::status(&ctx, account, &status, delete, inboxes, render, files).await?;
    petrel::streaming::deleted(&ctx, &status).await;
    Ok(Json(entity))
}

pub async fn context(State(ctx): State<Ctx>, auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<e::Context>> {
    let status = readable(&ctx, &auth, &id).await?;
    let table = ctx.stores.table.as_ref();
    // Ancestors: follow in_reply_to upwards, at most 40 hops.
    let mut ancestors = Vec::new();
    let mut next = status.in_reply_to_id.clone();
    while let Some(pid) = next.take() {
        if ancestors.len() >= 40 {
            break;
        }
        match statuses::get(table, &pid).await? {
            Some(p) if visibility::may_see(table, &p, auth.account()).await? => {
                next = p.in_reply_to_id.clone();
                ancestors.push(p.id);
            }
            _ => break,
        }
    }
    ancestors.reverse();
    let descendants = statuses::descendants(table, &status.id, 60).await?;
    let filters = viewer_filters(&ctx, auth.account()).await?;
    Ok(Json(e::Context {
        ancestors: render_in(&ctx, auth.account(), &ancestors, false, "thread", Some(&filters)).await?,
        descendants: render_in(&ctx, auth.account(), &descendants, false, "thread", Some(&filters)).await?,
    }))
}

pub async fn favourite(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    let account = auth.user("write:favourites")?;
    let status = get_visible(&ctx, &id, Some(account)).await?;
    statuses::keep(ctx.stores.table.as_ref(), &status).await?;
    statuses::favourite(ctx.stores.table.as_ref(), &account.id, &status.id).await?;
    send_like(&ctx, account, &status, false).await?;
    Ok(Json(render_one(&ctx, Some(account), &status.id).await?))
}

pub async fn unfavourite(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    let account = auth.user("write:favourites")?;
    let status = get_visible(&ctx, &id, Some(account)).await?;
    statuses::unfavourite(ctx.stores.table.as_ref(), &account.id, &status.id).await?;
    send_like(&ctx, account, &status, true).await?;
    Ok(Json(render_one(&ctx, Some(account), &status.id).await?))
}

/// A favourite of a remote status reaches its author as a Like (or Undo Like); local statuses
/// need nothing sent.
async fn send_like(ctx: &Ctx, account: &model::Account, status: &model::Status, undo: bool) -> ApiResult<()> {
    let Some(uri) = &status.remote_uri else {
        return Ok(());
    };
    let Some(inbox) =
        accounts::by_id(ctx.stores.table.as_ref(), &status.account_id).await?.and_then(|a| a.remote.map(|r| r.inbox))
    else {
        return Ok(());
    };
    let mut activity = petrel::activitypub::convert::like(&ctx.config, account, &status.id, uri);
    if undo {
        activity = petrel::activitypub::convert::undo(&ctx.config, account, activity);
    }
    outbox::to_inbox(ctx, account, &inbox, activity).await
}

/// The boosted status's ActivityPub id, its author's actor id, and the author's inbox when remote.
async fn announce_target(
    ctx: &Ctx,
    me: &model::Account,
    original: &model::Status,
) -> ApiResult<(String, String, Vec<String>)> {
    let author = if original.account_id == me.id {
        me.clone()
    } else {
        accounts::by_id(ctx.stores.table.as_ref(), &original.account_id).await?.ok_or(ApiError::NotFound)?
    };
    let uri =
        original.remote_uri.clone().unwrap_or_else(|| convert::status_uri(&ctx.config, &author.username, &original.id));
    let author_uri =
        author.remote.as_ref().map_or_else(|| convert::actor_uri(&ctx.config, &author.username), |r| r.uri.clone());
    // The shared inbox when there is one, so a follower's server is not sent it twice.
    let inboxes = author.delivery_inbox().map(str::to_string).into_iter().collect();
    Ok((uri, author_uri, inboxes))
}

/// `POST /api/v1/statuses/:id/reblog`: boosts a public or unlisted status (a boost of a boost boosts
/// the original); boosting twice is one boost. Followers and the author's server get Announce.
pub async fn reblog(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    let me = auth.user("write:statuses")?;
    let mut original = get_visible(&ctx, &id, Some(me)).await?;
    if let Some(of) = original.reblog_of.clone() {
        original = get_visible(&ctx, &of, Some(me)).await?;
    }
    if !matches!(original.visibility, Visibility::Public | Visibility::Unlisted) {
        return Err(ApiError::Unprocessable("only public and unlisted statuses can be boosted".into()));
    }
    let table = ctx.stores.table.as_ref();
    let mut boost =
        model::Status::boost(petrel::ids::snowflake(), me.id.clone(), original.id.clone(), petrel::clock::now_ms());
    boost.application = auth.token.app_name.clone();
    boost.application_website = auth.token.app_website.clone();
    // A local author who muted the thread is not told (one read).
    let muted = original.account_id != me.id
        && original.remote_uri.is_none()
        && petrel::repo::conversations::thread_muted(table, &original.account_id, &original).await?;
    let notify = (original.account_id != me.id && !muted)
        .then(|| petrel::repo::notifications::new(&ctx.config.retention, "reblog", &me.id, Some(&original.id)));
    statuses::keep(table, &original).await?;
    let boost_id = match statuses::create_reblog(table, &boost, &original, notify.clone()).await? {
        Some(()) => {
            if let (Some(n), None) = (&notify, &original.remote_uri) {
                petrel::push::notify(&ctx, &original.account_id, n, me, Some(&original)).await;
            }
            let (uri, author_uri, inboxes) = announce_target(&ctx, me, &original).await?;
            let announce = petrel::activitypub::convert::announce(&ctx.config, me, &boost, &uri, &author_uri);
            outbox::status(&ctx, me, &boost, announce, inboxes, None, None).await?;
            petrel::streaming::status(&ctx, &boost, petrel::streaming::StatusEvent::Created).await;
            boost.id
        }
        None => statuses::reblog_by(table, &original.id, &me.id).await?.ok_or(ApiError::NotFound)?,
    };
    Ok(Json(render_one(&ctx, Some(me), &boost_id).await?))
}

/// `POST /api/v1/statuses/:id/unreblog`: removes the boost and sends Undo(Announce).
pub async fn unreblog(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    let me = auth.user("write:statuses")?;
    let original = get_visible(&ctx, &id, Some(me)).await?;
    undo_boost(&ctx, me, &original).await?;
    Ok(Json(render_one(&ctx, Some(me), &original.id).await?))
}

/// Removes `me`'s boost of `original` (if any) and sends Undo(Announce) where the Announce went.
async fn undo_boost(ctx: &Ctx, me: &model::Account, original: &model::Status) -> ApiResult<()> {
    let Some(boost_id) = statuses::delete_reblog(ctx.stores.table.as_ref(), &original.id, &me.id).await? else {
        return Ok(());
    };
    let (uri, author_uri, inboxes) = announce_target(ctx, me, original).await?;
    // The Undo names the Announce by its id, which derives from the boost's id.
    let boost = model::Status { id: boost_id, reblog_of: Some(original.id.clone()), ..original.clone() };
    let announce = petrel::activitypub::convert::announce(&ctx.config, me, &boost, &uri, &author_uri);
    let undo = petrel::activitypub::convert::undo(&ctx.config, me, announce);
    outbox::status(ctx, me, &boost, undo, inboxes, None, None).await?;
    petrel::streaming::deleted(ctx, &boost).await;
    Ok(())
}

pub async fn reblogged_by(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<e::Account>>> {
    let status = readable(&ctx, &auth, &id).await?;
    let table = ctx.stores.table.as_ref();
    let ids = statuses::reblogged_by(table, &status.id, 80).await?;
    let out = accounts::by_ids(table, &ids).await?.iter().map(|a| convert::account(&ctx.config, a, false)).collect();
    Ok(Json(out))
}

pub async fn favourited_by(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<e::Account>>> {
    let status = readable(&ctx, &auth, &id).await?;
    let table = ctx.stores.table.as_ref();
    let ids = statuses::favourited_by(table, &status.id, 80).await?;
    let out = accounts::by_ids(table, &ids).await?.iter().map(|a| convert::account(&ctx.config, a, false)).collect();
    Ok(Json(out))
}

#[derive(Deserialize)]
pub struct EditStatus {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    sensitive: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    language: Option<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    media_ids: Vec<String>,
    #[serde(default)]
    poll: Option<serde_json::Value>,
    /// `media_attributes[][id]`, `[description]`, `[focus]`: new descriptions and focus points
    /// of the status's attachments.
    #[serde(default, deserialize_with = "media_attributes")]
    media_attributes: Vec<MediaAttribute>,
}

#[derive(Deserialize)]
pub struct MediaAttribute {
    #[serde(deserialize_with = "lenient::opt_string")]
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    focus: Option<String>,
}

/// A list, or (from a form's `media_attributes[0][id]=…`) an object keyed by index.
fn media_attributes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<MediaAttribute>, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Array(list) => {
            list.into_iter().map(|v| serde_json::from_value(v).map_err(D::Error::custom)).collect()
        }
        serde_json::Value::Object(map) => {
            map.into_iter().map(|(_, v)| serde_json::from_value(v).map_err(D::Error::custom)).collect()
        }
        other => Err(D::Error::custom(format!("media_attributes must be a list, not {other}"))),
    }
}

/// At most this many characters in a media description (as on upload).
const MAX_DESCRIPTION: usize = 1500;

/// The status's attachments with the edits `attrs` asks for; an id that is not attached is a 422.
fn edited_media(current: &[model::Media], attrs: Vec<MediaAttribute>) -> ApiResult<Vec<model::Media>> {
    let mut media = current.to_vec();
    for a in attrs {
        let id = a.id.unwrap_or_default();
        let m = media
            .iter_mut()
            .find(|m| m.id == id)
            .ok_or_else(|| ApiError::Unprocessable(format!("media `{id}` is not attached to this status")))?;
        if let Some(d) = a.description {
            if d.chars().count() > MAX_DESCRIPTION {
                return Err(ApiError::Unprocessable(format!(
                    "Description is too long (maximum is {MAX_DESCRIPTION} characters)"
                )));
            }
            m.description = (!d.is_empty()).then_some(d);
        }
        if let Some(f) = a.focus.filter(|f| !f.is_empty()) {
            let focus = petrel::repo::media::parse_focus(&f).ok_or_else(|| {
                ApiError::Unprocessable(format!("focus `{f}` must be two numbers from -1.0 to 1.0, like `0.5,-0.2`"))
            })?;
            m.focus = Some(focus);
        }
    }
    Ok(media)
}

/// `PUT /api/v1/statuses/:id`: the author edits the text; earlier versions stay readable.
pub async fn edit(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<EditStatus>,
) -> ApiResult<Json<e::Status>> {
    let account = auth.user("write:statuses")?;
    let table = ctx.stores.table.as_ref();
    let current = statuses::get(table, &id).await?.filter(|s| s.account_id == account.id).ok_or(ApiError::NotFound)?;
    if current.reblog_of.is_some() {
        return Err(ApiError::Unprocessable("a boost cannot be edited".into()));
    }
    let new_poll = p.poll.as_ref().filter(|v| !v.is_null()).map(super::polls::parse_params).transpose()?;
    if new_poll.is_some() && !current.media.is_empty() {
        return Err(ApiError::Unprocessable(format!("Cannot attach more than {MAX_MEDIA} files")));
    }
    // As Mastodon: the poll sent replaces the poll (its votes are cleared when its options or
    // kind change); an edit without one removes it.
    let (poll, poll_reset) = match (&current.poll, &new_poll) {
        (_, None) => (None, current.poll.is_some()),
        (Some(old), Some(new)) if old.options == new.options && old.multiple == new.multiple => {
            let mut kept = new.poll(current.created_at);
            kept.expires_at = Some(petrel::clock::now_ms() + new.expires_in * 1000);
            (Some(kept), false)
        }
        (_, Some(new)) => (Some(new.poll(petrel::clock::now_ms())), true),
    };
    let current_media: Vec<&String> = current.media.iter().map(|m| &m.id).collect();
    if !p.media_ids.is_empty() && p.media_ids.iter().collect::<Vec<_>>() != current_media {
        return Err(ApiError::Unprocessable("changing a status's attachments is not supported".into()));
    }
    let media = edited_media(&current.media, p.media_attributes)?;
    let text = p.status.unwrap_or_else(|| current.text.clone());
    if text.trim().is_empty() && current.media.is_empty() {
        return Err(ApiError::Unprocessable("Text can't be blank".into()));
    }
    let spoiler = p.spoiler_text.unwrap_or_else(|| current.spoiler_text.clone());
    let max = ctx.config.max_characters;
    if text::weighted_length(&text) + spoiler.chars().count() > max {
        return Err(ApiError::Unprocessable(format!("Text character limit of {max} exceeded")));
    }
    let mentions = resolve_mentions(&ctx, &text).await?;
    let rendered = text::render(&text, &ctx.config.base_url(), &mentions.resolved);
    let mention_refs = mentions.refs;
    let edited = statuses::edit(
        table,
        &current,
        statuses::Edit {
            text,
            content: rendered.html,
            sensitive: p.sensitive.unwrap_or(current.sensitive) || !spoiler.is_empty(),
            spoiler_text: spoiler,
            language: p.language.or(current.language.clone()),
            tags: rendered.tags,
            mentions: mention_refs,
            media,
            poll,
            poll_reset,
        },
    )
    .await?;
    if poll_reset {
        polls::clear_votes(table, &edited.id).await?;
    }
    if edited.poll.as_ref().and_then(|p| p.expires_at) != current.poll.as_ref().and_then(|p| p.expires_at) {
        super::polls::queue_end(&ctx, &edited, None).await?;
    }
    let update = petrel::activitypub::convert::update(&ctx.config, account, &edited);
    let tags: Vec<String> = current.tags.iter().chain(&edited.tags).cloned().collect();
    let render = outbox::render(account, &tags, &edited);
    outbox::status(&ctx, account, &edited, update, mentions.inboxes, render, None).await?;
    petrel::streaming::status(&ctx, &edited, petrel::streaming::StatusEvent::Edited).await;
    Ok(Json(render_one(&ctx, Some(account), &edited.id).await?))
}

/// `GET /api/v1/statuses/:id/source`: what the author typed, for the edit box.
pub async fn source(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let account = auth.user("read:statuses")?;
    let status = statuses::get(ctx.stores.table.as_ref(), &id)
        .await?
        .filter(|s| s.account_id == account.id)
        .ok_or(ApiError::NotFound)?;
    Ok(Json(serde_json::json!({ "id": status.id, "text": status.text, "spoiler_text": status.spoiler_text })))
}

/// `GET /api/v1/statuses/:id/card` (deprecated in Mastodon, still answered): the status's preview
/// card, or `{}` when it has none, as Mastodon answers.
pub async fn card(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let status = readable(&ctx, &auth, &id).await?;
    Ok(Json(status.card.as_ref().map_or_else(|| serde_json::json!({}), |c| convert::card(&ctx.config, c))))
}

/// `GET /api/v1/statuses/:id/history`: every version, oldest first, the current one last.
pub async fn history(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let status = readable(&ctx, &auth, &id).await?;
    let table = ctx.stores.table.as_ref();
    let author = accounts::by_id(table, &status.account_id).await?.ok_or(ApiError::NotFound)?;
    let author = convert::account(&ctx.config, &author, false);
    let entry = |content: &str, spoiler: &str, sensitive: bool, at: i64| {
        serde_json::json!({
            "content": content, "spoiler_text": spoiler, "sensitive": sensitive,
            "created_at": petrel::clock::iso8601_ms(at), "account": author,
            "poll": null, "media_attachments": [], "emojis": [],
        })
    };
    let mut out: Vec<serde_json::Value> = statuses::versions(table, &status.id)
        .await?
        .iter()
        .map(|v| entry(&v.content, &v.spoiler_text, v.sensitive, v.at))
        .collect();
    out.push(entry(
        &status.content,
        &status.spoiler_text,
        status.sensitive,
        status.edited_at.unwrap_or(status.created_at),
    ));
    Ok(Json(out))
}

async fn mark(
    ctx: &Ctx,
    auth: &Auth,
    id: &str,
    scope: &str,
    mark: statuses::Mark,
    on: bool,
) -> ApiResult<Json<e::Status>> {
    let account = auth.user(scope)?;
    let table = ctx.stores.table.as_ref();
    let status = get_visible(ctx, id, Some(account)).await?;
    if mark == statuses::Mark::Pin
        && (status.account_id != account.id || !matches!(status.visibility, Visibility::Public | Visibility::Unlisted))
    {
        return Err(ApiError::Unprocessable("Only your own public or unlisted statuses can be pinned".into()));
    }
    if on {
        statuses::keep(table, &status).await?;
    }
    statuses::set_mark(table, mark, &account.id, &status.id, on).await?;
    render_one(ctx, Some(account), &status.id).await.map(Json)
}

pub async fn bookmark(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    mark(&ctx, &auth, &id, "write:bookmarks", statuses::Mark::Bookmark, true).await
}

pub async fn unbookmark(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    mark(&ctx, &auth, &id, "write:bookmarks", statuses::Mark::Bookmark, false).await
}

pub async fn pin(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    mark(&ctx, &auth, &id, "write:accounts", statuses::Mark::Pin, true).await
}

pub async fn unpin(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    mark(&ctx, &auth, &id, "write:accounts", statuses::Mark::Pin, false).await
}

/// `POST /api/v1/statuses/:id/mute` and `unmute`: no notifications from the status's thread for
/// the caller (any status the caller may see, as in Mastodon).
async fn set_thread_mute(ctx: &Ctx, auth: &Auth, id: &str, on: bool) -> ApiResult<Json<e::Status>> {
    let account = auth.user("write:mutes")?;
    let status = get_visible(ctx, id, Some(account)).await?;
    petrel::repo::conversations::mute_thread(ctx.stores.table.as_ref(), &account.id, status.thread_root(), on).await?;
    render_one(ctx, Some(account), &status.id).await.map(Json)
}

pub async fn mute(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    set_thread_mute(&ctx, &auth, &id, true).await
}

pub async fn unmute(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<e::Status>> {
    set_thread_mute(&ctx, &auth, &id, false).await
}

#[derive(Deserialize)]
pub struct ManyIds {
    #[serde(default, deserialize_with = "lenient::string_list")]
    id: Vec<String>,
}

/// At most this many ids in `GET /api/v1/statuses?id[]=` (Mastodon's limit).
const MAX_MANY: usize = 20;

/// `GET /api/v1/statuses?id[]=…`: the statuses the caller may see, in the order asked, leaving
/// out unknown and hidden ones (one render: a batch get and the viewer's marks).
pub async fn get_many(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    petrel::api::params::QueryParams(q): petrel::api::params::QueryParams<ManyIds>,
) -> ApiResult<Json<Vec<e::Status>>> {
    if let Some(a) = &auth.0 {
        a.require("read:statuses")?;
    }
    if q.id.len() > MAX_MANY {
        return Err(ApiError::Unprocessable(format!("at most {MAX_MANY} ids")));
    }
    Ok(Json(render_many(&ctx, auth.account(), &q.id).await?))
}
