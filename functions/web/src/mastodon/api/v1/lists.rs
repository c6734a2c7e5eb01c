//! `/api/v1/lists/…`, `/api/v1/timelines/list/:id` and `/api/v1/accounts/:id/lists`: lists of
//! followed accounts (`repo::lists`), each with a timeline the inbox fills as it fills home.

use axum::extract::{Path, State};
use axum::Json;
use petrel::mastodon::convert;
use petrel::mastodon::entities as e;
use petrel::repo::lists::{self, List, RepliesPolicy};
use petrel::repo::{accounts, keys, statuses};
use petrel::Ctx;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::pagination::{self, Paged};
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params, QueryParams};

fn entity(l: &List) -> Value {
    json!({ "id": l.id, "title": l.title, "replies_policy": l.replies_policy.as_str(), "exclusive": l.exclusive })
}

async fn owned(ctx: &Ctx, owner: &str, id: &str) -> ApiResult<List> {
    lists::get(ctx.stores.table.as_ref(), owner, id).await?.ok_or(ApiError::NotFound)
}

pub async fn index(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:lists")?;
    Ok(Json(lists::all(ctx.stores.table.as_ref(), &me.id).await?.iter().map(entity).collect()))
}

pub async fn show(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:lists")?;
    Ok(Json(entity(&owned(&ctx, &me.id, &id).await?)))
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    exclusive: Option<bool>,
}

fn title_of(t: Option<String>) -> ApiResult<Option<String>> {
    match t.map(|t| t.trim().to_string()) {
        Some(t) if t.is_empty() => Err(ApiError::Unprocessable("Title can't be blank".into())),
        Some(t) if t.chars().count() > 256 => Err(ApiError::Unprocessable("Title is too long".into())),
        other => Ok(other),
    }
}

fn policy_of(p: Option<&str>) -> ApiResult<Option<RepliesPolicy>> {
    p.map(|p| RepliesPolicy::parse(p).ok_or_else(|| ApiError::Unprocessable(format!("`{p}` is not a replies policy"))))
        .transpose()
}

pub async fn create(State(ctx): State<Ctx>, auth: Auth, Params(p): Params<ListParams>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:lists")?;
    let title = title_of(p.title)?.ok_or_else(|| ApiError::Unprocessable("Title can't be blank".into()))?;
    let list = List {
        id: petrel::ids::snowflake(),
        title,
        replies_policy: policy_of(p.replies_policy.as_deref())?.unwrap_or(RepliesPolicy::List),
        exclusive: p.exclusive.unwrap_or(false),
    };
    lists::create(ctx.stores.table.as_ref(), &me.id, &list).await?;
    Ok(Json(entity(&list)))
}

pub async fn update(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<ListParams>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:lists")?;
    let mut list = owned(&ctx, &me.id, &id).await?;
    if let Some(t) = title_of(p.title)? {
        list.title = t;
    }
    if let Some(policy) = policy_of(p.replies_policy.as_deref())? {
        list.replies_policy = policy;
    }
    if let Some(x) = p.exclusive {
        list.exclusive = x;
    }
    lists::update(ctx.stores.table.as_ref(), &me.id, &list).await?;
    Ok(Json(entity(&list)))
}

pub async fn delete(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:lists")?;
    let list = owned(&ctx, &me.id, &id).await?;
    lists::delete(ctx.stores.table.as_ref(), &me.id, &list.id).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct MemberPage {
    #[serde(flatten)]
    page: pagination::Params,
}

/// Members, in id order (Mastodon pages them by membership; `limit=0` gives all).
pub async fn accounts(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<MemberPage>,
) -> ApiResult<Paged<e::Account>> {
    let me = auth.user("read:lists")?;
    let list = owned(&ctx, &me.id, &id).await?;
    let table = ctx.stores.table.as_ref();
    let limit = q.page.limit();
    let mut params = q.page.into_page_params();
    let all = limit == Some(0);
    params.limit = if all { None } else { Some(limit.unwrap_or(40).clamp(1, 80)) };
    let ids = if all {
        let mut ids = lists::members(table, &list.id).await?;
        ids.reverse();
        ids
    } else {
        // Member partitions are keyed by account id (a snowflake), so pages work as on timelines,
        // at most 40 a page there; read in pages of up to 80 here.
        let mut ids = Vec::new();
        let mut p = params.clone();
        let want = params.limit.unwrap_or(40) as usize;
        loop {
            let got = petrel::repo::timelines::page_ids(table, &keys::list_members(&list.id), &p).await?;
            let n = got.len();
            ids.extend(got);
            if ids.len() >= want || n < p.limit() as usize {
                break;
            }
            if p.min_id.is_some() {
                p.min_id = ids.first().cloned();
            } else {
                p.max_id = ids.last().cloned();
            }
        }
        ids.truncate(want);
        ids
    };
    let found = accounts::by_ids(table, &ids).await?;
    let list_out = found.iter().map(|a| convert::account(&ctx.config, a, false)).collect();
    if all {
        return Ok(Paged::new(&ctx, list_out, &[], ""));
    }
    Ok(Paged::new(&ctx, list_out, &ids, &format!("/api/v1/lists/{}/accounts", list.id)))
}

#[derive(Deserialize)]
pub struct MemberIds {
    #[serde(default, deserialize_with = "lenient::string_list")]
    account_ids: Vec<String>,
}

/// Adds followed accounts: an account not followed (or unknown) is a 404, as in Mastodon; one
/// already in the list a 422.
pub async fn add_accounts(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<MemberIds>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:lists")?;
    let list = owned(&ctx, &me.id, &id).await?;
    if p.account_ids.is_empty() {
        return Err(ApiError::Unprocessable("account_ids can't be blank".into()));
    }
    let table = ctx.stores.table.as_ref();
    let current = lists::members(table, &list.id).await?;
    if let Some(dup) = p.account_ids.iter().find(|a| current.contains(a)) {
        return Err(ApiError::Unprocessable(format!("Account {dup} has already been taken")));
    }
    if p.account_ids.iter().any(|a| !statuses::valid_id(a)) {
        return Err(ApiError::NotFound);
    }
    lists::add_members(table, &me.id, &list, &p.account_ids).await?;
    Ok(Json(json!({})))
}

pub async fn remove_accounts(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    Params(p): Params<MemberIds>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("write:lists")?;
    let list = owned(&ctx, &me.id, &id).await?;
    let ids: Vec<String> = p.account_ids.into_iter().filter(|a| statuses::valid_id(a)).collect();
    lists::remove_members(ctx.stores.table.as_ref(), &me.id, &list.id, &ids).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/timelines/list/:id`: paged like home, through the same rendering (the one
/// visibility rule, mutes and blocks, the viewer's filters in the `home` context).
pub async fn timeline(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(id): Path<String>,
    QueryParams(p): QueryParams<pagination::Params>,
) -> ApiResult<Paged<e::Status>> {
    let me = auth.user("read:lists")?;
    let list = owned(&ctx, &me.id, &id).await?;
    let items =
        super::timelines::indexed_timeline(&ctx, me, &keys::list_timeline(&list.id), p.into_page_params()).await?;
    Ok(Paged::statuses(&ctx, items, &format!("/api/v1/timelines/list/{}", list.id)))
}

/// `GET /api/v1/accounts/:id/lists`: the caller's lists that hold the account.
pub async fn of_account(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:lists")?;
    if !statuses::valid_id(&id) {
        return Err(ApiError::NotFound);
    }
    let table = ctx.stores.table.as_ref();
    accounts::by_id(table, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(lists::containing(table, &me.id, &id).await?.iter().map(entity).collect()))
}
