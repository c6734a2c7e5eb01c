//! `/api/v1/conversations`: direct-message threads as the caller sees them
//! (`petrel::repo::conversations` keeps them; a direct status sent or received updates them).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::QueryParams;
use petrel::mastodon::{convert, entities as e};
use petrel::repo::accounts;
use petrel::repo::conversations::{self, Conversation};
use petrel::Ctx;
use serde::Serialize;

use crate::pagination::{self, Paged};

#[derive(Debug, Clone, Serialize)]
pub struct ConversationEntity {
    pub id: String,
    pub unread: bool,
    pub accounts: Vec<e::Account>,
    pub last_status: Option<e::Status>,
}

/// Renders conversations: their last statuses in one render (a batch get and the viewer's marks;
/// a status the viewer may no longer see is left out), the participants in one batch get.
async fn render(ctx: &Ctx, me: &petrel::model::Account, list: Vec<Conversation>) -> ApiResult<Vec<ConversationEntity>> {
    let last_ids: Vec<String> = list.iter().map(|c| c.last_status_id.clone()).collect();
    let statuses: HashMap<String, e::Status> =
        super::statuses::render_many(ctx, Some(me), &last_ids).await?.into_iter().map(|s| (s.id.clone(), s)).collect();
    let mut ids: Vec<String> = list.iter().flat_map(|c| c.account_ids.iter().cloned()).collect();
    ids.sort();
    ids.dedup();
    let found: HashMap<String, e::Account> = accounts::by_ids(ctx.stores.table.as_ref(), &ids)
        .await?
        .iter()
        .map(|a| (a.id.clone(), convert::account(&ctx.config, a, false)))
        .collect();
    Ok(list
        .into_iter()
        .map(|c| ConversationEntity {
            accounts: c.account_ids.iter().filter_map(|id| found.get(id).cloned()).collect(),
            last_status: statuses.get(&c.last_status_id).cloned(),
            id: c.id,
            unread: c.unread,
        })
        .collect())
}

/// `GET /api/v1/conversations`: newest activity first, paged by last status id (Link header).
pub async fn list(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<pagination::Params>,
) -> ApiResult<Paged<ConversationEntity>> {
    let me = auth.user("read:statuses")?;
    let page = conversations::page(ctx.stores.table.as_ref(), &me.id, &q.into_page_params()).await?;
    let last_ids: Vec<String> = page.iter().map(|c| c.last_status_id.clone()).collect();
    let items = render(&ctx, me, page).await?;
    Ok(Paged::new(&ctx, items, &last_ids, "/api/v1/conversations"))
}

/// `POST /api/v1/conversations/:id/read`.
pub async fn read(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<ConversationEntity>> {
    let me = auth.user("write:conversations")?;
    let c = conversations::mark_read(ctx.stores.table.as_ref(), &me.id, &id).await?;
    render(&ctx, me, vec![c]).await?.into_iter().next().map(Json).ok_or(ApiError::NotFound)
}

/// `DELETE /api/v1/conversations/:id`: removes it for the caller only; answers `{}`.
pub async fn remove(State(ctx): State<Ctx>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let me = auth.user("write:conversations")?;
    conversations::remove(ctx.stores.table.as_ref(), &me.id, &id).await?;
    Ok(Json(serde_json::json!({})))
}
