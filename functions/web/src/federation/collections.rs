//! An actor's outbox, followers, following and featured collections, paged as Mastodon pages
//! them: the collection gives `totalItems` and `first`; each page links the `next` one.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use petrel::activitypub::{convert, vocab};
use petrel::mastodon::convert::actor_uri;
use petrel::model::Account;
use petrel::repo::timelines::{page_ids, PageParams};
use petrel::repo::visibility::{self, Decision};
use petrel::repo::{accounts, keys, statuses};
use petrel::Ctx;
use serde::Deserialize;
use serde_json::{json, Value};

use super::actor::local_account;
use super::{activity_json, not_found};

const PAGE: u32 = 20;

#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<String>,
    max_id: Option<String>,
}

fn internal(e: petrel::repo::RepoError) -> Response {
    petrel::api::error::ApiError::from(e).into_response()
}

async fn owner(ctx: &Ctx, name: &str) -> Result<Account, Response> {
    local_account(ctx, name).await?.ok_or_else(not_found)
}

fn collection(id: &str, total: i64, first: Option<String>) -> Value {
    let mut c =
        json!({ "@context": vocab::AS_CONTEXT, "id": id, "type": "OrderedCollection", "totalItems": total.max(0) });
    if let Some(first) = first {
        c["first"] = json!(first);
    }
    c
}

fn page(id: &str, part_of: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut p = json!({
        "@context": vocab::context(), "id": id, "type": "OrderedCollectionPage", "partOf": part_of, "orderedItems": items,
    });
    if let Some(next) = next {
        p["next"] = json!(next);
    }
    p
}

pub async fn outbox(State(ctx): State<Ctx>, Path(name): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let account = match owner(&ctx, &name).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let id = format!("{}/outbox", actor_uri(&ctx.config, &account.username));
    if q.page.is_none() {
        return activity_json(collection(&id, account.statuses_count, Some(format!("{id}?page=true"))));
    }
    let table = ctx.stores.table.as_ref();
    let params = PageParams { max_id: q.max_id.clone(), limit: Some(PAGE), ..Default::default() };
    let ids = match page_ids(table, &keys::account_statuses(&account.id), &params).await {
        Ok(ids) => ids,
        Err(e) => return internal(e),
    };
    let list = match statuses::get_many(table, &ids).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let items: Vec<Value> = list
        .iter()
        // Boosts are left out of the outbox page (their Announce names a status Petrel may not hold).
        .filter(|s| visibility::decide(s, None) == Decision::Yes && s.reblog_of.is_none())
        .map(|s| {
            let mut c = convert::create(&ctx.config, &account, s);
            if let Value::Object(o) = &mut c {
                o.remove("@context");
            }
            c
        })
        .collect();
    let next =
        (ids.len() == PAGE as usize).then(|| ids.last().map(|last| format!("{id}?page=true&max_id={last}"))).flatten();
    let this = match &q.max_id {
        Some(m) => format!("{id}?page=true&max_id={m}"),
        None => format!("{id}?page=true"),
    };
    activity_json(page(&this, &id, items, next))
}

async fn account_list(ctx: &Ctx, name: &str, q: PageQuery, which: &str) -> Response {
    let account = match owner(ctx, name).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let id = format!("{}/{which}", actor_uri(&ctx.config, &account.username));
    let (pk, total) = if which == "followers" {
        (keys::followers(&account.id), account.followers_count)
    } else {
        (keys::followings(&account.id), account.following_count)
    };
    if q.page.is_none() {
        return activity_json(collection(&id, total, Some(format!("{id}?page=1"))));
    }
    let table = ctx.stores.table.as_ref();
    let params = PageParams { max_id: q.max_id.clone(), limit: Some(PAGE), ..Default::default() };
    let ids = match page_ids(table, &pk, &params).await {
        Ok(ids) => ids,
        Err(e) => return internal(e),
    };
    let found = match accounts::by_ids(table, &ids).await {
        Ok(a) => a,
        Err(e) => return internal(e),
    };
    let items = found.iter().filter_map(|a| a.remote.as_ref().map(|r| json!(r.uri))).collect();
    let next =
        (ids.len() == PAGE as usize).then(|| ids.last().map(|last| format!("{id}?page=1&max_id={last}"))).flatten();
    activity_json(page(&format!("{id}?page=1"), &id, items, next))
}

pub async fn followers(State(ctx): State<Ctx>, Path(name): Path<String>, Query(q): Query<PageQuery>) -> Response {
    account_list(&ctx, &name, q, "followers").await
}

pub async fn following(State(ctx): State<Ctx>, Path(name): Path<String>, Query(q): Query<PageQuery>) -> Response {
    account_list(&ctx, &name, q, "following").await
}

/// Pinned statuses as Notes (at most five, so one page).
pub async fn featured(State(ctx): State<Ctx>, Path(name): Path<String>) -> Response {
    let account = match owner(&ctx, &name).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let table = ctx.stores.table.as_ref();
    let ids = match page_ids(table, &keys::pins(&account.id), &PageParams::default()).await {
        Ok(ids) => ids,
        Err(e) => return internal(e),
    };
    let list = match statuses::get_many(table, &ids).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let items: Vec<Value> = list
        .iter()
        .filter(|s| visibility::decide(s, None) == Decision::Yes)
        .map(|s| convert::note(&ctx.config, &account, s))
        .collect();
    let id = format!("{}/collections/featured", actor_uri(&ctx.config, &account.username));
    activity_json(json!({
        "@context": vocab::context(), "id": id, "type": "OrderedCollection", "totalItems": items.len(), "orderedItems": items,
    }))
}

/// Featured hashtags (Mastodon's `featuredTags`): a Collection of Hashtag objects.
pub async fn featured_tags(State(ctx): State<Ctx>, Path(name): Path<String>) -> Response {
    let account = match owner(&ctx, &name).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let list = match petrel::repo::tags::featured(ctx.stores.table.as_ref(), &account.id).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let base = ctx.config.base_url();
    let items: Vec<Value> = list
        .iter()
        .map(
            |f| json!({ "type": "Hashtag", "href": format!("{base}/tags/{}", f.name), "name": format!("#{}", f.name) }),
        )
        .collect();
    let id = format!("{}/collections/tags", actor_uri(&ctx.config, &account.username));
    activity_json(json!({
        "@context": vocab::AS_CONTEXT, "id": id, "type": "Collection", "totalItems": items.len(), "items": items,
    }))
}
