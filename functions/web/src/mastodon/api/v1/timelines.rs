//! Timelines: home, public (local), hashtag; and the favourites list. Each page is one query
//! on an index partition, then the statuses by batch get.

use axum::extract::{Path, State};
use petrel::mastodon::entities::Status;
use petrel::repo::{keys, timelines};
use petrel::Ctx;
use serde::Deserialize;

use super::statuses::{render_in, render_many, viewer_filters};
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
    let list = indexed_timeline(&ctx, account, &keys::home(&account.id), p.into_page_params()).await?;
    Ok(Paged::statuses(&ctx, list, "/api/v1/timelines/home"))
}

/// A page of a timeline of the viewer's own (home, a list) in the `home` filter context.
pub async fn indexed_timeline(
    ctx: &Ctx,
    viewer: &petrel::model::Account,
    pk: &str,
    params: timelines::PageParams,
) -> ApiResult<Vec<Status>> {
    indexed(ctx, Some(viewer), pk, params, Some("home")).await
}

/// A page of the index partition `pk` as the viewer may see it, filled from further on when
/// statuses are left out (`pagination::fill`). Timelines (`context` set: the filter context)
/// leave out muted and blocked authors and what the viewer's `hide` filters match there.
async fn indexed(
    ctx: &Ctx,
    viewer: Option<&petrel::model::Account>,
    pk: &str,
    params: timelines::PageParams,
    context: Option<&str>,
) -> ApiResult<Vec<Status>> {
    let table = ctx.stores.table.as_ref();
    // Read once for the page, however many rounds fill it.
    let filters = viewer_filters(ctx, viewer).await?;
    let filters = &filters;
    pagination::fill(params, |params| async move {
        let ids = timelines::page_ids(table, pk, &params).await?;
        let list = match context {
            Some(c) => render_in(ctx, viewer, &ids, true, c, Some(filters)).await?,
            None => render_many(ctx, viewer, &ids).await?,
        };
        Ok((ids, list))
    })
    .await
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
    let (want_local, want_remote) = (p.remote != Some(true), p.local != Some(true));
    let local_ids = if want_remote { petrel::repo::accounts::local_ids(table).await? } else { Vec::new() };
    let local_prefix = format!("{}/", ctx.config.base_url());
    let (local_prefix, local_ids, viewer, ctx) = (&local_prefix, &local_ids, auth.account(), &ctx);
    let only_media = p.only_media == Some(true);
    let filters = viewer_filters(ctx, viewer).await?;
    let filters = &filters;
    let list = pagination::fill(p.page.into_page_params(), |params| async move {
        let mut ids = Vec::new();
        if want_local {
            ids.extend(timelines::page_ids(table, keys::PUBLIC_LOCAL, &params).await?);
        }
        for local in local_ids {
            ids.extend(timelines::page_ids(table, &keys::home(local), &params).await?);
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
        let mut list = render_in(ctx, viewer, &ids, true, "public", Some(filters)).await?;
        list.retain(|s| {
            let local = s.uri.starts_with(local_prefix.as_str());
            s.visibility == "public" && s.reblog.is_none() && if local { want_local } else { want_remote }
        });
        if only_media {
            list.retain(|s| !s.media_attachments.is_empty());
        }
        Ok((ids, list))
    })
    .await?;
    Ok(Paged::statuses(ctx, list, "/api/v1/timelines/public"))
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
    let mut list =
        indexed(&ctx, auth.account(), &keys::tag_timeline(&tag), p.page.into_page_params(), Some("public")).await?;
    if p.only_media == Some(true) {
        list.retain(|s| !s.media_attachments.is_empty());
    }
    Ok(Paged::statuses(&ctx, list, &format!("/api/v1/timelines/tag/{tag}")))
}

pub async fn favourites(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(p): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Status>> {
    let account = auth.user("read:favourites")?;
    let list = indexed(&ctx, Some(account), &keys::favourites(&account.id), p.into_page_params(), None).await?;
    Ok(Paged::statuses(&ctx, list, "/api/v1/favourites"))
}

pub async fn bookmarks(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(p): QueryParams<pagination::Params>,
) -> ApiResult<Paged<Status>> {
    let account = auth.user("read:bookmarks")?;
    let list = indexed(&ctx, Some(account), &keys::bookmarks(&account.id), p.into_page_params(), None).await?;
    Ok(Paged::statuses(&ctx, list, "/api/v1/bookmarks"))
}
