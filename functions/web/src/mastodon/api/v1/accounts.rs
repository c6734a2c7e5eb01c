//! `/api/v1/accounts/…`: the owner's own account and local accounts by id, name or search.

use axum::extract::{Path, State};
use axum::Json;
use petrel::mastodon::convert;
use petrel::mastodon::entities::{Account, Relationship};
use petrel::repo::{accounts, keys, statuses, timelines};
use petrel::Ctx;
use serde::Deserialize;

use crate::pagination::{self, Paged};
use petrel::api::auth::{Auth, MaybeAuth};
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, QueryParams};

pub async fn verify_credentials(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Account>> {
    // `profile` is enough here (Mastodon 4.3); `read:accounts` too.
    if auth.require("profile").is_err() {
        auth.require("read:accounts")?;
    }
    let account =
        auth.account.as_ref().ok_or(ApiError::Unprocessable("This method requires an authenticated user".into()))?;
    Ok(Json(convert::account(&ctx.config, account, true)))
}

pub async fn get(State(ctx): State<Ctx>, _auth: MaybeAuth, Path(id): Path<String>) -> ApiResult<Json<Account>> {
    if !statuses::valid_id(&id) {
        return Err(ApiError::NotFound);
    }
    let account = accounts::by_id(ctx.stores.table.as_ref(), &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(convert::account(&ctx.config, &account, false)))
}

#[derive(Deserialize)]
pub struct Lookup {
    #[serde(default)]
    acct: String,
}

/// `acct` as `name`, `@name` or `name@our-domain`.
fn local_name<'a>(ctx: &Ctx, acct: &'a str) -> Option<&'a str> {
    let acct = acct.trim().trim_start_matches('@');
    match acct.split_once('@') {
        None => Some(acct),
        Some((name, domain))
            if domain.eq_ignore_ascii_case(&ctx.config.handle_domain)
                || domain.eq_ignore_ascii_case(&ctx.config.domain) =>
        {
            Some(name)
        }
        Some(_) => None,
    }
}

pub async fn lookup(State(ctx): State<Ctx>, QueryParams(q): QueryParams<Lookup>) -> ApiResult<Json<Account>> {
    let name = local_name(&ctx, &q.acct).filter(|n| petrel::model::valid_username(n)).ok_or(ApiError::NotFound)?;
    let account = accounts::by_username(ctx.stores.table.as_ref(), name).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(convert::account(&ctx.config, &account, false)))
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    limit: Option<u32>,
}

/// Local accounts whose username or display name contains the query.
pub async fn search_local(ctx: &Ctx, q: &str, limit: usize) -> ApiResult<Vec<Account>> {
    let needle = q.trim().trim_start_matches('@').to_lowercase();
    let needle = local_name(ctx, &needle).unwrap_or(&needle).to_string();
    if needle.is_empty() {
        return Ok(Vec::new());
    }
    let all = accounts::list_local(ctx.stores.table.as_ref()).await?;
    Ok(all
        .iter()
        .filter(|a| a.username.to_lowercase().contains(&needle) || a.display_name.to_lowercase().contains(&needle))
        .take(limit)
        .map(|a| convert::account(&ctx.config, a, false))
        .collect())
}

pub async fn search(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<Search>,
) -> ApiResult<Json<Vec<Account>>> {
    auth.require("read:accounts")?;
    let limit = q.limit.unwrap_or(40).clamp(1, 80) as usize;
    Ok(Json(search_local(&ctx, &q.q, limit).await?))
}

#[derive(Deserialize)]
pub struct AccountStatuses {
    #[serde(flatten)]
    page: pagination::Params,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    exclude_replies: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    only_media: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pinned: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    exclude_reblogs: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    tagged: Option<String>,
}

pub async fn statuses(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<AccountStatuses>,
) -> ApiResult<Paged<petrel::mastodon::entities::Status>> {
    if !statuses::valid_id(&id) {
        return Err(ApiError::NotFound);
    }
    let table = ctx.stores.table.as_ref();
    accounts::by_id(table, &id).await?.ok_or(ApiError::NotFound)?;
    if q.pinned == Some(true) {
        let page = petrel::repo::timelines::PageParams {
            limit: Some(petrel::repo::statuses::MAX_PINS as u32),
            ..Default::default()
        };
        let ids = timelines::page_ids(table, &keys::pins(&id), &page).await?;
        let list = crate::mastodon::api::v1::statuses::render_many(&ctx, auth.account(), &ids).await?;
        return Ok(Paged::new(&ctx, list, &[], ""));
    }
    // What the viewer may not see is left out by rendering (the one visibility rule); the page is
    // filled from further on, and its links name only what it returns.
    let pk = keys::account_statuses(&id);
    let (viewer, ctx_ref, pk, q_ref) = (auth.account(), &ctx, pk.as_str(), &q);
    let filters = crate::mastodon::api::v1::statuses::viewer_filters(&ctx, viewer).await?;
    let filters = &filters;
    let list = pagination::fill(q.page.clone().into_page_params(), |params| async move {
        let ids = timelines::page_ids(table, pk, &params).await?;
        let list =
            crate::mastodon::api::v1::statuses::render_in(ctx_ref, viewer, &ids, false, "account", Some(filters))
                .await?;
        let kept = list
            .into_iter()
            // As Mastodon: replies to the author's own posts (threads) stay.
            .filter(|s| {
                q_ref.exclude_replies != Some(true)
                    || s.in_reply_to_id.is_none()
                    || s.in_reply_to_account_id.as_deref() == Some(s.account.id.as_str())
            })
            .filter(|s| q_ref.only_media != Some(true) || !s.media_attachments.is_empty())
            .filter(|s| q_ref.exclude_reblogs != Some(true) || s.reblog.is_none())
            // Boosts carry no tags of their own, so `tagged` leaves them out, as Mastodon does.
            .filter(|s| {
                q_ref.tagged.as_deref().is_none_or(|t| {
                    let t = t.trim_start_matches('#');
                    s.tags.iter().any(|tag| tag.name.eq_ignore_ascii_case(t))
                })
            })
            .collect();
        Ok((ids, kept))
    })
    .await?;
    Ok(Paged::statuses(&ctx, list, &format!("/api/v1/accounts/{id}/statuses")))
}

/// Followers or following of an account, newest first, with Link paging.
async fn follow_list(ctx: &Ctx, id: &str, q: pagination::Params, followers: bool) -> ApiResult<Paged<Account>> {
    let table = ctx.stores.table.as_ref();
    accounts::by_id(table, id).await?.ok_or(ApiError::NotFound)?;
    let pk = if followers { keys::followers(id) } else { keys::followings(id) };
    let ids = timelines::page_ids(table, &pk, &q.into_page_params()).await?;
    let found = accounts::by_ids(table, &ids).await?;
    let list = found.iter().map(|a| convert::account(&ctx.config, a, false)).collect();
    let which = if followers { "followers" } else { "following" };
    Ok(Paged::new(ctx, list, &ids, &format!("/api/v1/accounts/{id}/{which}")))
}

pub async fn followers(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Account>> {
    follow_list(&ctx, &id, q, true).await
}

pub async fn following(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Account>> {
    follow_list(&ctx, &id, q, false).await
}

#[derive(Deserialize)]
pub struct Relationships {
    #[serde(default, deserialize_with = "lenient::string_list")]
    id: Vec<String>,
}

/// Relationships of the caller with each account: one batch get of five items per account (the
/// follow markers, the account, the caller's note on it).
pub async fn relationships_of(ctx: &Ctx, me: &petrel::model::Account, ids: &[String]) -> ApiResult<Vec<Relationship>> {
    let ids: Vec<&String> = ids.iter().filter(|id| statuses::valid_id(id)).take(25).collect();
    let (me_account, me) = (me, me.id.as_str());
    const PER: usize = 5;
    let mut keys_list = Vec::with_capacity(ids.len() * PER);
    for id in &ids {
        keys_list.push(keys::following(me, id));
        keys_list.push(keys::follower(me, id));
        keys_list.push(keys::follow_request(me, id));
        keys_list.push(keys::account(id));
        keys_list.push(keys::account_note(me, id));
    }
    let mut got = Vec::with_capacity(keys_list.len());
    for chunk in keys_list.chunks(petrel::store::table::MAX_BATCH_GET_KEYS) {
        got.extend(ctx.stores.table.batch_get(chunk).await?);
    }
    let mut out = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let at = |k: usize| got.get(i * PER + k).and_then(Option::as_ref);
        let listed = |attr: &str| {
            at(3).and_then(|a| a.get(attr)).is_some_and(|v| matches!(v, petrel::store::Value::L(l) if l.iter().any(|x| matches!(x, petrel::store::Value::S(s) if s == me))))
        };
        let following = at(0);
        let accepted = following.is_some_and(|f| petrel::store::str_attr_of(f, "state") == Some("accepted"));
        out.push(Relationship {
            id: (*id).clone(),
            following: accepted,
            showing_reblogs: accepted,
            notifying: false,
            languages: None,
            followed_by: at(1).is_some(),
            blocking: listed("blocked_by"),
            blocked_by: false,
            muting: listed("muted_by"),
            muting_notifications: listed("muted_by"),
            requested: following.is_some() && !accepted,
            requested_by: at(2).is_some(),
            // The caller's domain blocks came with the caller's account; the target's domain
            // with its item.
            domain_blocking: at(3)
                .and_then(|a| match a.get("remote") {
                    Some(petrel::store::Value::M(r)) => match r.get("domain") {
                        Some(petrel::store::Value::S(d)) => Some(d.as_str()),
                        _ => None,
                    },
                    _ => None,
                })
                .is_some_and(|d| petrel::repo::domain_blocks::blocks_host(me_account, d)),
            endorsed: false,
            note: at(4).and_then(|n| petrel::store::str_attr_of(n, "comment")).unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

pub async fn relationships(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<Relationships>,
) -> ApiResult<Json<Vec<Relationship>>> {
    let me = auth.user("read:follows")?;
    Ok(Json(relationships_of(&ctx, me, &q.id).await?))
}

/// `POST /api/v1/accounts/:id/follow`: a Follow to a remote account, pending until it accepts.
pub async fn follow(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Relationship>> {
    let me = auth.user("write:follows")?;
    let table = ctx.stores.table.as_ref();
    let target = accounts::by_id(table, &id).await?.ok_or(ApiError::NotFound)?;
    let Some(remote) = &target.remote else {
        return Err(ApiError::Unprocessable("following accounts of this server is not supported yet".into()));
    };
    // A followed actor is never dropped from the cache.
    petrel::repo::actors::keep(table, &target).await?;
    let existing = petrel::repo::follows::following(table, &me.id, &target.id).await?;
    if existing.as_ref().is_none_or(|f| !f.accepted) {
        let follow_id = match &existing {
            Some(f) => f.follow_id.clone(),
            None => {
                let fid = petrel::ids::snowflake();
                petrel::repo::follows::request_following(table, &me.id, &target.id, &fid).await?;
                fid
            }
        };
        // A pending follow is sent again: the first Follow may have been lost.
        let activity = petrel::activitypub::convert::follow(&ctx.config, me, &remote.uri, &follow_id);
        crate::federation::outbox::to_inbox(&ctx, me, &remote.inbox, activity).await?;
    }
    let rel = relationships_of(&ctx, me, std::slice::from_ref(&target.id)).await?;
    rel.into_iter().next().map(Json).ok_or(ApiError::NotFound)
}

/// `POST /api/v1/accounts/:id/unfollow`: ends the follow and sends Undo(Follow).
pub async fn unfollow(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Relationship>> {
    let me = auth.user("write:follows")?;
    let table = ctx.stores.table.as_ref();
    let target = accounts::by_id(table, &id).await?.ok_or(ApiError::NotFound)?;
    if let (Some(remote), Some(ended)) =
        (&target.remote, petrel::repo::follows::remove_following(table, &me.id, &target.id).await?)
    {
        let follow = petrel::activitypub::convert::follow(&ctx.config, me, &remote.uri, &ended.follow_id);
        let undo = petrel::activitypub::convert::undo(&ctx.config, me, follow);
        crate::federation::outbox::to_inbox(&ctx, me, &remote.inbox, undo).await?;
    }
    let rel = relationships_of(&ctx, me, std::slice::from_ref(&target.id)).await?;
    rel.into_iter().next().map(Json).ok_or(ApiError::NotFound)
}

/// A remote account named by `@user@domain` or its actor URL, fetched (or taken from the cache)
/// through the safe client. Failures are logged and give no result, as in Mastodon's search.
pub async fn resolve_remote(ctx: &Ctx, q: &str) -> Option<petrel::model::Account> {
    let q = q.trim();
    let uri = if q.starts_with("https://") || q.starts_with("http://") {
        if petrel::activitypub::resolve::is_local_url(ctx, q) {
            return None;
        }
        q.to_string()
    } else {
        let acct = q.trim_start_matches('@');
        let (_, domain) = acct.split_once('@')?;
        if domain.eq_ignore_ascii_case(&ctx.config.handle_domain) || domain.eq_ignore_ascii_case(&ctx.config.domain) {
            return None;
        }
        match petrel::activitypub::resolve::webfinger(ctx, acct).await {
            Ok(uri) => uri,
            Err(e) => {
                tracing::info!(query = q, error = %e, "WebFinger lookup failed");
                return None;
            }
        }
    };
    match petrel::activitypub::resolve::actor(ctx, &uri, false).await {
        Ok(a) => Some(a),
        Err(e) => {
            tracing::info!(query = q, error = %e, "actor lookup failed");
            None
        }
    }
}

async fn relationship(ctx: &Ctx, me: &petrel::model::Account, target_id: &str) -> ApiResult<Json<Relationship>> {
    let rel = relationships_of(ctx, me, &[target_id.to_string()]).await?;
    rel.into_iter().next().map(Json).ok_or(ApiError::NotFound)
}

/// Block or unblock: a block also ends the follows both ways, and a remote account is told
/// (Block, or Undo(Block)) so its server stops delivering.
async fn set_block(ctx: &Ctx, auth: &Auth, id: &str, on: bool) -> ApiResult<Json<Relationship>> {
    let me = auth.user("write:blocks")?;
    let table = ctx.stores.table.as_ref();
    let target = accounts::by_id(table, id).await?.filter(|a| a.id != me.id).ok_or(ApiError::NotFound)?;
    if !petrel::repo::relations::set(table, petrel::repo::relations::Kind::Block, &me.id, &target, on).await? {
        return relationship(ctx, me, &target.id).await;
    }
    if on {
        petrel::repo::follows::remove_follower(table, &me.id, &target.id).await?;
        petrel::repo::follows::remove_following(table, &me.id, &target.id).await?;
    }
    if let Some(remote) = &target.remote {
        let block = petrel::activitypub::convert::block(&ctx.config, me, &remote.uri, &target.id);
        let activity = if on { block } else { petrel::activitypub::convert::undo(&ctx.config, me, block) };
        crate::federation::outbox::to_inbox(ctx, me, &remote.inbox, activity).await?;
    }
    relationship(ctx, me, &target.id).await
}

pub async fn block(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Relationship>> {
    set_block(&ctx, &auth, &id, true).await
}

pub async fn unblock(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Relationship>> {
    set_block(&ctx, &auth, &id, false).await
}

async fn set_mute(ctx: &Ctx, auth: &Auth, id: &str, on: bool) -> ApiResult<Json<Relationship>> {
    let me = auth.user("write:mutes")?;
    let table = ctx.stores.table.as_ref();
    let target = accounts::by_id(table, id).await?.filter(|a| a.id != me.id).ok_or(ApiError::NotFound)?;
    petrel::repo::relations::set(table, petrel::repo::relations::Kind::Mute, &me.id, &target, on).await?;
    relationship(ctx, me, &target.id).await
}

pub async fn mute(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Relationship>> {
    set_mute(&ctx, &auth, &id, true).await
}

pub async fn unmute(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Relationship>> {
    set_mute(&ctx, &auth, &id, false).await
}

/// The caller's blocks, mutes or follow requests: a page of the partition, then one batch get.
async fn own_list(
    ctx: &Ctx,
    auth: &Auth,
    scope: &str,
    pk: &str,
    path: &str,
    q: pagination::Params,
) -> ApiResult<Paged<Account>> {
    let me = auth.user(scope)?;
    let table = ctx.stores.table.as_ref();
    let ids = timelines::page_ids(table, &format!("{pk}#{}", me.id), &q.into_page_params()).await?;
    let found = accounts::by_ids(table, &ids).await?;
    let list = found.iter().map(|a| convert::account(&ctx.config, a, false)).collect();
    Ok(Paged::new(ctx, list, &ids, path))
}

pub async fn blocks(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Account>> {
    own_list(&ctx, &auth, "read:blocks", "BLOCKS", "/api/v1/blocks", q).await
}

pub async fn mutes(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Account>> {
    own_list(&ctx, &auth, "read:mutes", "MUTES", "/api/v1/mutes", q).await
}

pub async fn follow_requests(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Account>> {
    own_list(&ctx, &auth, "read:follows", "FOLLOWREQ", "/api/v1/follow_requests", q).await
}

/// Authorize or reject a follow request to a locked account: the requester's server gets Accept
/// or Reject of its Follow.
async fn answer_request(ctx: &Ctx, auth: &Auth, id: &str, accept: bool) -> ApiResult<Json<Relationship>> {
    let me = auth.user("write:follows")?;
    let table = ctx.stores.table.as_ref();
    let requester = accounts::by_id(table, id).await?.ok_or(ApiError::NotFound)?;
    let follow_id =
        petrel::repo::follows::take_request(table, &me.id, &requester.id).await?.ok_or(ApiError::NotFound)?;
    if accept {
        petrel::repo::follows::add_follower(table, me, &requester, &follow_id).await?;
    }
    if let Some(remote) = &requester.remote {
        let kind = if accept { "Accept" } else { "Reject" };
        let answer = petrel::activitypub::convert::answer_follow(
            &ctx.config,
            me,
            kind,
            &serde_json::json!(follow_id),
            &remote.uri,
        );
        crate::federation::outbox::to_inbox(ctx, me, &remote.inbox, answer).await?;
    }
    relationship(ctx, me, &requester.id).await
}

pub async fn authorize_request(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    answer_request(&ctx, &auth, &id, true).await
}

pub async fn reject_request(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    answer_request(&ctx, &auth, &id, false).await
}

#[derive(Deserialize)]
pub struct Note {
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/accounts/:id/note`: the caller's private note on an account (empty removes it).
pub async fn note(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    petrel::api::params::Params(p): petrel::api::params::Params<Note>,
) -> ApiResult<Json<Relationship>> {
    let me = auth.user("write:accounts")?;
    let table = ctx.stores.table.as_ref();
    if !statuses::valid_id(&id) || accounts::by_id(table, &id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    petrel::repo::relations::set_note(table, &me.id, &id, p.comment.as_deref().unwrap_or_default()).await?;
    relationship(&ctx, me, &id).await
}
