//! `/api/v1/notifications`: follows, follow requests, mentions, favourites and boosts of the
//! owner's statuses, as the inbox function records them.

use axum::extract::{Path, State};
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::QueryParams;
use petrel::model::Notification;
use petrel::repo::notifications;
use petrel::Ctx;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::pagination::{self, Paged};

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: pagination::Params,
    #[serde(flatten)]
    filters: crate::mastodon::api::v2::notifications::Filters,
}

use petrel::mastodon::render::notifications as render;

pub async fn list(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<ListParams>,
) -> ApiResult<Paged<Value>> {
    let me = auth.user("read:notifications")?;
    let ids_page = q.page.into_page_params();
    let found = notifications::page(ctx.stores.table.as_ref(), &me.id, &ids_page).await?;
    let ids: Vec<String> = found.iter().map(|n| n.id.clone()).collect();
    // Filtered within the page: a page may hold fewer than `limit`; its links still continue.
    let wanted: Vec<Notification> = found.into_iter().filter(|n| q.filters.keeps(n)).collect();
    let items = render(&ctx, me, wanted).await?;
    Ok(Paged::new(&ctx, items, &ids, "/api/v1/notifications"))
}

pub async fn get(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:notifications")?;
    if !petrel::repo::statuses::valid_id(&id) {
        return Err(ApiError::NotFound);
    }
    let n = notifications::get(ctx.stores.table.as_ref(), &me.id, &id).await?.ok_or(ApiError::NotFound)?;
    render(&ctx, me, vec![n]).await?.into_iter().next().map(Json).ok_or(ApiError::NotFound)
}

pub async fn dismiss(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:notifications")?;
    if petrel::repo::statuses::valid_id(&id) {
        notifications::dismiss(ctx.stores.table.as_ref(), &me.id, &id).await?;
    }
    Ok(Json(json!({})))
}

pub async fn clear(State(ctx): State<Ctx>, auth: Auth) -> ApiResult<Json<Value>> {
    let me = auth.user("write:notifications")?;
    notifications::clear(ctx.stores.table.as_ref(), &me.id).await?;
    Ok(Json(json!({})))
}
