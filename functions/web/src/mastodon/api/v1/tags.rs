//! Hashtags: `/api/v1/tags/:name` (with history, `following`, `featuring`), follow and unfollow,
//! `/api/v1/followed_tags`, and featured tags (`/api/v1/featured_tags…`,
//! `/api/v1/accounts/:id/featured_tags`).

use axum::extract::{Path, State};
use axum::Json;
use petrel::mastodon::convert;
use petrel::model::Account;
use petrel::repo::{accounts, statuses, tags};
use petrel::Ctx;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::pagination::Paged;
use petrel::api::auth::{Auth, MaybeAuth};
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, Params, QueryParams};

fn name_of(raw: &str) -> ApiResult<String> {
    tags::normalize(raw).ok_or(ApiError::NotFound)
}

/// The Tag entity; `viewer` adds `following` and `featuring` (two reads), `history` one query.
async fn entity(ctx: &Ctx, name: &str, viewer: Option<&Account>, with_history: bool) -> ApiResult<Value> {
    let table = ctx.stores.table.as_ref();
    let mut tag =
        serde_json::to_value(convert::tag(&ctx.config, name)).map_err(|e| ApiError::Internal(e.to_string()))?;
    if with_history {
        let days = tags::history(table, name, petrel::clock::now_ms()).await?;
        tag["history"] = days
            .iter()
            .map(
                |d| json!({ "day": d.day.to_string(), "uses": d.uses.to_string(), "accounts": d.accounts.to_string() }),
            )
            .collect();
    }
    if let Some(v) = viewer {
        tag["following"] = json!(tags::is_following(table, &v.id, name).await?);
        let featured = table.get(&petrel::repo::keys::featured_tag(&v.id, name)).await?.is_some();
        tag["featuring"] = json!(featured);
    }
    Ok(tag)
}

pub async fn show(State(ctx): State<Ctx>, auth: MaybeAuth, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let name = name_of(&name)?;
    Ok(Json(entity(&ctx, &name, auth.account(), true).await?))
}

pub async fn follow(State(ctx): State<Ctx>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:follows")?;
    let name = name_of(&name)?;
    tags::follow(ctx.stores.table.as_ref(), &me.id, &name).await?;
    Ok(Json(entity(&ctx, &name, Some(me), true).await?))
}

pub async fn unfollow(State(ctx): State<Ctx>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:follows")?;
    let name = name_of(&name)?;
    tags::unfollow(ctx.stores.table.as_ref(), &me.id, &name).await?;
    Ok(Json(entity(&ctx, &name, Some(me), true).await?))
}

#[derive(Deserialize)]
pub struct FollowedParams {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    max_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    limit: Option<u32>,
}

/// `GET /api/v1/followed_tags`: in name order; `max_id` is the last name of the previous page
/// (Mastodon pages by its own ids; the Link header is what clients follow).
pub async fn followed(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<FollowedParams>,
) -> ApiResult<Paged<Value>> {
    let me = auth.user("read:follows")?;
    let limit = q.limit.unwrap_or(100).clamp(1, 200);
    let after = q.max_id.as_deref().and_then(tags::normalize);
    let (names, more) = tags::followed(ctx.stores.table.as_ref(), &me.id, after.as_deref(), limit).await?;
    let mut out = Vec::with_capacity(names.len());
    for n in &names {
        let mut t =
            serde_json::to_value(convert::tag(&ctx.config, n)).map_err(|e| ApiError::Internal(e.to_string()))?;
        t["following"] = json!(true);
        out.push(t);
    }
    match names.last().filter(|_| more) {
        Some(last) => Ok(Paged::with_link(
            out,
            format!("<{}/api/v1/followed_tags?max_id={last}>; rel=\"next\"", ctx.config.base_url()),
        )),
        None => Ok(Paged::with_link(out, String::new())),
    }
}

// ---- featured tags ----

fn featured_entity(ctx: &Ctx, owner: &Account, f: &tags::Featured) -> Value {
    json!({
        "id": f.id,
        "name": f.name,
        "url": format!("{}/tagged/{}", convert::account_url(&ctx.config, &owner.username), f.name),
        "statuses_count": f.statuses_count.to_string(),
        "last_status_at": f.last_status_at.map(petrel::clock::date_only),
    })
}

pub async fn featured(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:accounts")?;
    let list = tags::featured(ctx.stores.table.as_ref(), &me.id).await?;
    Ok(Json(list.iter().map(|f| featured_entity(&ctx, me, f)).collect()))
}

#[derive(Deserialize)]
pub struct FeatureParams {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    name: Option<String>,
}

/// How many index entries are read to count a newly featured tag's posts.
const COUNT_READ: u32 = 200;

async fn feature_tag(ctx: &Ctx, me: &Account, name: &str) -> ApiResult<tags::Featured> {
    let table = ctx.stores.table.as_ref();
    let (count, last) = tags::count_posts(table, &me.id, name, COUNT_READ).await?;
    Ok(tags::feature(table, &me.id, name, count, last).await?)
}

pub async fn feature(State(ctx): State<Ctx>, auth: Auth, Params(p): Params<FeatureParams>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:accounts")?;
    let name = p.name.as_deref().and_then(tags::normalize);
    let name = name.ok_or_else(|| ApiError::Unprocessable("Name is not a valid hashtag".into()))?;
    let f = feature_tag(&ctx, me, &name).await?;
    Ok(Json(featured_entity(&ctx, me, &f)))
}

pub async fn unfeature(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:accounts")?;
    if !tags::unfeature(ctx.stores.table.as_ref(), &me.id, &id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(Json(json!({})))
}

/// `POST /api/v1/tags/:name/feature` and `unfeature` (Mastodon 4.4): the Tag back.
pub async fn tag_feature(State(ctx): State<Ctx>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:accounts")?;
    let name = name_of(&name)?;
    feature_tag(&ctx, me, &name).await?;
    Ok(Json(entity(&ctx, &name, Some(me), true).await?))
}

pub async fn tag_unfeature(State(ctx): State<Ctx>, auth: Auth, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:accounts")?;
    let name = name_of(&name)?;
    let table = ctx.stores.table.as_ref();
    if let Some(f) = tags::featured(table, &me.id).await?.into_iter().find(|f| f.name == name) {
        tags::unfeature(table, &me.id, &f.id).await?;
    }
    Ok(Json(entity(&ctx, &name, Some(me), true).await?))
}

/// Suggestions: the tags of the account's latest posts not featured yet (Mastodon suggests its
/// most used ones), at most 10, as Tag entities.
pub async fn suggestions(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Vec<Value>>> {
    let me = auth.user("read:accounts")?;
    let table = ctx.stores.table.as_ref();
    let page = petrel::repo::timelines::PageParams { limit: Some(40), ..Default::default() };
    let ids = petrel::repo::timelines::page_ids(table, &petrel::repo::keys::account_statuses(&me.id), &page).await?;
    let featured: Vec<String> = tags::featured(table, &me.id).await?.into_iter().map(|f| f.name).collect();
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in statuses::get_many(table, &ids).await? {
        for t in &s.tags {
            match counts.iter_mut().find(|(n, _)| n == t) {
                Some((_, c)) => *c += 1,
                None if !featured.contains(t) => counts.push((t.clone(), 1)),
                None => {}
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let out =
        counts.iter().take(10).filter_map(|(n, _)| serde_json::to_value(convert::tag(&ctx.config, n)).ok()).collect();
    Ok(Json(out))
}

/// `GET /api/v1/accounts/:id/featured_tags`: a local account's featured tags (a remote account's
/// are not fetched: none).
pub async fn of_account(State(ctx): State<Ctx>, Path(id): Path<String>) -> ApiResult<Json<Vec<Value>>> {
    if !statuses::valid_id(&id) {
        return Err(ApiError::NotFound);
    }
    let table = ctx.stores.table.as_ref();
    let account = accounts::by_id(table, &id).await?.ok_or(ApiError::NotFound)?;
    if account.remote.is_some() {
        return Ok(Json(Vec::new()));
    }
    let list = tags::featured(table, &account.id).await?;
    Ok(Json(list.iter().map(|f| featured_entity(&ctx, &account, f)).collect()))
}
