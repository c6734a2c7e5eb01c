//! Timelines: home, public (local), hashtag; and the favourites list. Each page is one query
//! on an index partition, then the statuses by batch get.

use axum::extract::{Path, State};
use petrel::mastodon::entities::Status;
use petrel::repo::{keys, timelines};
use petrel::Ctx;
use serde::Deserialize;

use super::statuses::{render_many, render_timeline};
use crate::pagination::{self, Paged};
use petrel::api::auth::{Auth, MaybeAuth};
use petrel::api::error::ApiResult;
use petrel::api::params::{lenient, QueryParams};

pub async fn home(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(p): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Status>> {
    let account = auth.user("read:statuses")?;
    let ids = timelines::page_ids(ctx.stores.table.as_ref(), &keys::home(&account.id), &p.into_page_params()).await?;
    let list = render_timeline(&ctx, Some(account), &ids).await?;
    Ok(Paged::new(&ctx, list, &ids, "/api/v1/timelines/home"))
}

#[derive(Deserialize)]
pub struct PublicParams {
    #[serde(flatten)]
    page: pagination::Params,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    only_media: Option<bool>,
}

/// Public posts: local ones (`local=true`), those received from other servers (`remote=true`), or
/// both merged. `only_media` filters within the page (a page may hold fewer than `limit`).
///
/// Remote posts have no index of their own: every stored remote post is in the home timeline of
/// a local account (a post nobody here follows or is addressed by is not stored), so the local
/// accounts' home timelines hold them all, and the page keeps their public, non-boost posts from
/// other servers. An index of its own would cost a write for each of the server's most frequent
/// writes (infra/deploy.md, "What it costs"); this timeline is read far less often.
pub async fn public(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    QueryParams(p): QueryParams<PublicParams>,
) -> ApiResult<Paged<Status>> {
    let table = ctx.stores.table.as_ref();
    let params = p.page.into_page_params();
    let (want_local, want_remote) = (p.remote != Some(true), p.local != Some(true));
    let mut ids = Vec::new();
    if want_local {
        ids.extend(timelines::page_ids(table, keys::PUBLIC_LOCAL, &params).await?);
    }
    if want_remote {
        for local in petrel::repo::accounts::local_ids(table).await? {
            ids.extend(timelines::page_ids(table, &keys::home(&local), &params).await?);
        }
    }
    // Snowflakes of equal length sort by time: keep the page the parameters ask for.
    ids.sort_by(|a, b| b.len().cmp(&a.len()).then(b.cmp(a)));
    ids.dedup();
    let limit = params.limit() as usize;
    if params.min_id.is_some() {
        let skip = ids.len().saturating_sub(limit);
        ids.drain(..skip);
    } else {
        ids.truncate(limit);
    }
    let local_prefix = format!("{}/", ctx.config.base_url());
    let mut list = render_timeline(&ctx, auth.account(), &ids).await?;
    list.retain(|s| {
        let local = s.uri.starts_with(&local_prefix);
        s.visibility == "public" && s.reblog.is_none() && if local { want_local } else { want_remote }
    });
    if p.only_media == Some(true) {
        list.retain(|s| !s.media_attachments.is_empty());
    }
    Ok(Paged::new(&ctx, list, &ids, "/api/v1/timelines/public"))
}

pub async fn tag(
    State(ctx): State<Ctx>,
    auth: MaybeAuth,
    Path(tag): Path<String>,
    QueryParams(p): QueryParams<PublicParams>,
) -> ApiResult<Paged<Status>> {
    let tag = tag.to_lowercase();
    if tag.is_empty() || !tag.chars().all(|c| c.is_alphanumeric() || c == '_') || p.remote == Some(true) {
        return Ok(Paged::empty());
    }
    let ids =
        timelines::page_ids(ctx.stores.table.as_ref(), &keys::tag_timeline(&tag), &p.page.into_page_params()).await?;
    let mut list = render_timeline(&ctx, auth.account(), &ids).await?;
    if p.only_media == Some(true) {
        list.retain(|s| !s.media_attachments.is_empty());
    }
    Ok(Paged::new(&ctx, list, &ids, &format!("/api/v1/timelines/tag/{tag}")))
}

pub async fn favourites(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(p): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Status>> {
    let account = auth.user("read:favourites")?;
    let ids =
        timelines::page_ids(ctx.stores.table.as_ref(), &keys::favourites(&account.id), &p.into_page_params()).await?;
    let list = render_many(&ctx, Some(account), &ids).await?;
    Ok(Paged::new(&ctx, list, &ids, "/api/v1/favourites"))
}

pub async fn bookmarks(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(p): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Status>> {
    let account = auth.user("read:bookmarks")?;
    let ids =
        timelines::page_ids(ctx.stores.table.as_ref(), &keys::bookmarks(&account.id), &p.into_page_params()).await?;
    let list = render_many(&ctx, Some(account), &ids).await?;
    Ok(Paged::new(&ctx, list, &ids, "/api/v1/bookmarks"))
}
