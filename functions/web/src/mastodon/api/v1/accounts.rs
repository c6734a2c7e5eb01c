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

/// Local accounts whose username or display name contains the query. Remote resolution
/// (`@user@domain` via WebFinger) arrives with federation.
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
    let account = accounts::by_id(table, &id).await?.ok_or(ApiError::NotFound)?;
    if q.pinned == Some(true) {
        let page = petrel::repo::timelines::PageParams {
            limit: Some(petrel::repo::statuses::MAX_PINS as u32),
            ..Default::default()
        };
        let ids = timelines::page_ids(table, &keys::pins(&id), &page).await?;
        let list = crate::mastodon::api::v1::statuses::render_many(&ctx, auth.account(), &ids).await?;
        return Ok(Paged::new(&ctx, list, &[], ""));
    }
    let params = q.page.into_page_params();
    let ids = timelines::page_ids(table, &keys::account_statuses(&id), &params).await?;
    let viewer = auth.account().map(|a| a.id.clone());
    let is_owner = viewer.as_deref() == Some(account.id.as_str());
    let list = crate::mastodon::api::v1::statuses::render_many(&ctx, auth.account(), &ids).await?;
    let list = list
        .into_iter()
        .filter(|s| q.exclude_replies != Some(true) || s.in_reply_to_id.is_none())
        // Filtered within the page: a page may hold fewer than `limit`; its links still continue.
        .filter(|s| q.only_media != Some(true) || !s.media_attachments.is_empty())
        // Others see public and unlisted posts; followers-only and direct need the relationship.
        .filter(|s| is_owner || s.visibility == "public" || s.visibility == "unlisted")
        .collect();
    Ok(Paged::new(&ctx, list, &ids, &format!("/api/v1/accounts/{id}/statuses")))
}

/// Followers and following: follows arrive with federation; until then the lists are empty,
/// read from the same partitions they will be written to.
pub async fn followers(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Json<Vec<Account>>> {
    accounts::by_id(ctx.stores.table.as_ref(), &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(Vec::new()))
}

#[derive(Deserialize)]
pub struct Relationships {
    #[serde(default, deserialize_with = "lenient::string_list")]
    id: Vec<String>,
}

pub async fn relationships(
    auth: Auth,
    QueryParams(q): QueryParams<Relationships>,
) -> ApiResult<Json<Vec<Relationship>>> {
    auth.user("read:follows")?;
    Ok(Json(
        q.id.into_iter()
            .take(40)
            .map(|id| Relationship {
                id,
                following: false,
                showing_reblogs: false,
                notifying: false,
                languages: None,
                followed_by: false,
                blocking: false,
                blocked_by: false,
                muting: false,
                muting_notifications: false,
                requested: false,
                requested_by: false,
                domain_blocking: false,
                endorsed: false,
                note: String::new(),
            })
            .collect(),
    ))
}
