//! `/api/v1/notifications`: follows, follow requests, mentions, favourites and boosts of the
//! owner's statuses, as the inbox function records them.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::QueryParams;
use petrel::clock::iso8601_ms;
use petrel::mastodon::convert;
use petrel::model::{Account, Notification};
use petrel::repo::{accounts, notifications, Freshness};
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

/// Notifications as Mastodon entities: one batch get of the accounts, one of the statuses.
async fn render(ctx: &Ctx, me: &Account, list: Vec<Notification>) -> ApiResult<Vec<Value>> {
    let table = ctx.stores.table.as_ref();
    let mut account_ids: Vec<String> = list.iter().map(|n| n.from_account_id.clone()).collect();
    account_ids.dedup();
    let senders: HashMap<String, Account> = accounts::by_ids_with(table, &account_ids, Freshness::Eventual)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let status_ids: Vec<String> = list.iter().filter_map(|n| n.status_id.clone()).collect();
    let statuses: HashMap<String, Value> =
        super::statuses::render_in(ctx, Some(me), &status_ids, false, "notifications", None)
            .await?
            .into_iter()
            .filter_map(|s| Some((s.id.clone(), serde_json::to_value(s).ok()?)))
            .collect();
    Ok(list
        .into_iter()
        .filter_map(|n| {
            // A notification whose sender or status is gone is not shown (Mastodon drops them too).
            let from = senders.get(&n.from_account_id).filter(|a| !a.hidden_from(&me.id))?;
            let status = match &n.status_id {
                Some(id) => Some(statuses.get(id)?.clone()),
                None => None,
            };
            Some(json!({
                "id": n.id,
                "type": n.kind,
                "created_at": iso8601_ms(n.created_at),
                "group_key": format!("ungrouped-{}", n.id),
                "account": convert::account(&ctx.config, from, false),
                "status": status,
            }))
        })
        .collect())
}

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
