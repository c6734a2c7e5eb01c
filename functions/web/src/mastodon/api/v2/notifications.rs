//! `/api/v2/notifications`: grouped notifications, as Mastodon 4.3+ serves them. Favourites,
//! boosts and follows of the same status (or of the account) within a 12-hour window are one
//! group (`repo::notifications::group_key`); everything else is a group of one.
//!
//! A page is a run of the account's notifications, newest first, holding at most `limit` groups;
//! each group counts its notifications within that run (`page_min_id`…`page_max_id`), as
//! Mastodon's do, so a group spanning pages shows on each with the part it has there.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, State};
use axum::http::header::LINK;
use axum::response::{IntoResponse, Response};
use axum::Json;
use petrel::api::auth::Auth;
use petrel::api::error::{ApiError, ApiResult};
use petrel::api::params::{lenient, QueryParams};
use petrel::clock::iso8601_ms;
use petrel::mastodon::convert;
use petrel::model::{Account, Notification};
use petrel::repo::notifications::{self, Group, GROUPABLE};
use petrel::repo::timelines::PageParams;
use petrel::repo::{accounts, keys, Freshness, RepoError};
use petrel::store::Table;
use petrel::Ctx;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::mastodon::api::v1::statuses::render_in;
use crate::pagination;

pub const DEFAULT_GROUPS: u32 = 40;
pub const MAX_GROUPS: u32 = 80;
/// Notifications read for one page at most (ten queries of 40): a page of many small groups
/// is found, and one enormous group cannot make a request unbounded.
const MAX_SCAN: usize = 400;
/// Accounts shown per group, newest first (Mastodon shows 8).
const SAMPLE_ACCOUNTS: usize = 8;

/// The filters v1 and v2 share.
#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub account_id: Option<String>,
}

impl Filters {
    pub fn keeps(&self, n: &Notification) -> bool {
        (self.types.is_empty() || self.types.contains(&n.kind))
            && !self.exclude_types.contains(&n.kind)
            && self.account_id.as_ref().is_none_or(|a| *a == n.from_account_id)
    }
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: pagination::Params,
    #[serde(flatten)]
    filters: Filters,
    /// Types to group; by default every groupable type.
    #[serde(default, deserialize_with = "lenient::string_list")]
    grouped_types: Vec<String>,
    /// `partial_avatars` asks for `partial_accounts`; Petrel sends full accounts either way
    /// (clients take both), and an empty `partial_accounts`.
    #[serde(default)]
    expand_accounts: Option<String>,
}

fn grouped(asked: &[String]) -> Vec<&str> {
    if asked.is_empty() {
        GROUPABLE.to_vec()
    } else {
        asked.iter().map(String::as_str).filter(|t| GROUPABLE.contains(t)).collect()
    }
}

/// The run of notifications a page covers, newest first, and the keys of its groups in order.
async fn scan(
    table: &dyn Table,
    me: &Account,
    page: PageParams,
    filters: &Filters,
    grouped: &[&str],
    limit: usize,
) -> Result<Vec<Notification>, RepoError> {
    let ascending = page.min_id.is_some();
    let mut next = PageParams { limit: Some(petrel::repo::timelines::MAX_LIMIT), ..page };
    let mut groups: HashSet<String> = HashSet::new();
    let mut run: Vec<Notification> = Vec::new();
    let mut read = 0;
    'pages: while read < MAX_SCAN {
        let batch = notifications::page(table, &me.id, &next).await?;
        read += batch.len();
        let full = batch.len() == petrel::repo::timelines::MAX_LIMIT as usize;
        // Newest first as read; a page above `min_id` grows from its oldest end.
        let (newest, oldest) = (batch.first().map(|n| n.id.clone()), batch.last().map(|n| n.id.clone()));
        let ordered: Box<dyn Iterator<Item = Notification>> =
            if ascending { Box::new(batch.into_iter().rev()) } else { Box::new(batch.into_iter()) };
        for n in ordered {
            if !filters.keeps(&n) {
                continue;
            }
            let key = notifications::group_key(&n, grouped);
            if !groups.contains(&key) {
                if groups.len() == limit {
                    break 'pages;
                }
                groups.insert(key);
            }
            run.push(n);
        }
        if !full {
            break;
        }
        if ascending {
            next.min_id = newest;
        } else {
            next.max_id = oldest;
        }
    }
    run.sort_by(|a, b| b.id.cmp(&a.id));
    Ok(run)
}

/// Notifications as `GroupedNotificationsResults`: the groups (newest first), the accounts and
/// statuses they name. Senders the owner blocks or mutes, and statuses gone or no longer
/// visible, are left out as in v1.
async fn results(ctx: &Ctx, me: &Account, run: Vec<Notification>, grouped: &[&str]) -> ApiResult<Value> {
    let table = ctx.stores.table.as_ref();
    let sender_ids: Vec<String> =
        run.iter().map(|n| n.from_account_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let senders: HashMap<String, Account> = accounts::by_ids_with(table, &sender_ids, Freshness::Eventual)
        .await?
        .into_iter()
        .filter(|a| !a.hidden_from(&me.id))
        .map(|a| (a.id.clone(), a))
        .collect();
    let status_ids: Vec<String> =
        run.iter().filter_map(|n| n.status_id.clone()).collect::<HashSet<_>>().into_iter().collect();
    let statuses: HashMap<String, Value> = render_in(ctx, Some(me), &status_ids, false, "notifications", None)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.id.clone(), serde_json::to_value(s).ok()?)))
        .collect();
    let mut order: Vec<String> = Vec::new();
    let mut members: HashMap<String, Vec<&Notification>> = HashMap::new();
    for n in &run {
        if !senders.contains_key(&n.from_account_id) || n.status_id.as_ref().is_some_and(|s| !statuses.contains_key(s))
        {
            continue;
        }
        let key = notifications::group_key(n, grouped);
        if !members.contains_key(&key) {
            order.push(key.clone());
        }
        members.entry(key).or_default().push(n);
    }
    let mut shown_accounts: Vec<String> = Vec::new();
    let mut shown_statuses: Vec<String> = Vec::new();
    let groups: Vec<Value> = order
        .iter()
        .filter_map(|key| {
            let list = members.get(key)?;
            let (newest, oldest) = (list.first()?, list.last()?);
            let mut samples: Vec<String> = Vec::new();
            for n in list {
                if samples.len() < SAMPLE_ACCOUNTS && !samples.contains(&n.from_account_id) {
                    samples.push(n.from_account_id.clone());
                }
            }
            for a in &samples {
                if !shown_accounts.contains(a) {
                    shown_accounts.push(a.clone());
                }
            }
            if let Some(s) = &newest.status_id {
                if !shown_statuses.contains(s) {
                    shown_statuses.push(s.clone());
                }
            }
            Some(json!({
                "group_key": key,
                "notifications_count": list.len(),
                "type": newest.kind,
                "most_recent_notification_id": newest.id.parse::<u64>().ok(),
                "page_min_id": oldest.id,
                "page_max_id": newest.id,
                "latest_page_notification_at": iso8601_ms(newest.created_at),
                "sample_account_ids": samples,
                "status_id": newest.status_id,
            }))
        })
        .collect();
    let accounts: Vec<Value> = shown_accounts
        .iter()
        .filter_map(|id| serde_json::to_value(convert::account(&ctx.config, senders.get(id)?, false)).ok())
        .collect();
    let statuses: Vec<Value> = shown_statuses.iter().filter_map(|id| statuses.get(id).cloned()).collect();
    Ok(json!({ "accounts": accounts, "partial_accounts": [], "statuses": statuses, "notification_groups": groups }))
}

/// `GET /api/v2/notifications`.
pub async fn list(State(ctx): State<Ctx>, auth: Auth, QueryParams(q): QueryParams<ListParams>) -> ApiResult<Response> {
    let me = auth.user("read:notifications")?;
    let _ = q.expand_accounts;
    let grouped = grouped(&q.grouped_types);
    let limit = q.page.limit().unwrap_or(DEFAULT_GROUPS).clamp(1, MAX_GROUPS) as usize;
    let table = ctx.stores.table.as_ref();
    let run = scan(table, me, q.page.into_page_params(), &q.filters, &grouped, limit).await?;
    // Links continue from the run this page covers (the owner's own notifications).
    let link = match (run.first(), run.last()) {
        (Some(newest), Some(oldest)) => {
            let base = format!("{}/api/v2/notifications", ctx.config.base_url());
            Some(format!("<{base}?max_id={}>; rel=\"next\", <{base}?min_id={}>; rel=\"prev\"", oldest.id, newest.id))
        }
        _ => None,
    };
    let body = results(&ctx, me, run, &grouped).await?;
    let mut response = Json(body).into_response();
    if let Some(link) = link.and_then(|l| l.parse().ok()) {
        response.headers_mut().insert(LINK, link);
    }
    Ok(response)
}

async fn group_of(ctx: &Ctx, me: &Account, key: &str) -> ApiResult<(Group, Vec<Notification>)> {
    let group = notifications::parse_group_key(key).ok_or(ApiError::NotFound)?;
    let list = notifications::of_group(ctx.stores.table.as_ref(), &me.id, &group).await?;
    if list.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok((group, list))
}

/// `GET /api/v2/notifications/:group_key`: the whole group.
pub async fn get(State(ctx): State<Ctx>, auth: Auth, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("read:notifications")?;
    let (_, list) = group_of(&ctx, me, &key).await?;
    let body = results(&ctx, me, list, &GROUPABLE).await?;
    if body["notification_groups"].as_array().is_none_or(Vec::is_empty) {
        return Err(ApiError::NotFound);
    }
    Ok(Json(body))
}

/// `GET /api/v2/notifications/:group_key/accounts`: everyone in the group, newest first.
pub async fn group_accounts(
    State(ctx): State<Ctx>,
    auth: Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<Vec<petrel::mastodon::entities::Account>>> {
    let me = auth.user("read:notifications")?;
    let (_, list) = group_of(&ctx, me, &key).await?;
    let mut ids: Vec<String> = Vec::new();
    for n in &list {
        if !ids.contains(&n.from_account_id) {
            ids.push(n.from_account_id.clone());
        }
    }
    let found: HashMap<String, Account> =
        accounts::by_ids(ctx.stores.table.as_ref(), &ids).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
    Ok(Json(
        ids.iter()
            .filter_map(|id| found.get(id))
            .filter(|a| !a.hidden_from(&me.id))
            .map(|a| convert::account(&ctx.config, a, false))
            .collect(),
    ))
}

/// `POST /api/v2/notifications/:group_key/dismiss`: every notification of the group goes.
pub async fn dismiss(State(ctx): State<Ctx>, auth: Auth, Path(key): Path<String>) -> ApiResult<Json<Value>> {
    let me = auth.user("write:notifications")?;
    let table = ctx.stores.table.as_ref();
    if let Some(group) = notifications::parse_group_key(&key) {
        for n in notifications::of_group(table, &me.id, &group).await? {
            notifications::dismiss(table, &me.id, &n.id).await?;
        }
    }
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
pub struct CountParams {
    #[serde(flatten)]
    filters: Filters,
    #[serde(default, deserialize_with = "lenient::opt_u32")]
    limit: Option<u32>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    grouped_types: Vec<String>,
}

pub const DEFAULT_COUNT_LIMIT: u32 = 100;
pub const MAX_COUNT_LIMIT: u32 = 1000;

/// Notifications newer than the owner's read marker (`/api/v1/markers`, `notifications`), up to
/// `limit`: one read of the marker and one query.
async fn unread(ctx: &Ctx, me: &Account, q: &CountParams) -> ApiResult<Vec<Notification>> {
    let table = ctx.stores.table.as_ref();
    let marker = table.get(&keys::marker(&me.id, "notifications")).await?;
    let last_read = marker.as_ref().and_then(|m| petrel::store::str_attr_of(m, "last_read_id")).map(str::to_string);
    let limit = q.limit.unwrap_or(DEFAULT_COUNT_LIMIT).clamp(1, MAX_COUNT_LIMIT);
    let list = notifications::newer_than(table, &me.id, last_read.as_deref(), limit).await?;
    Ok(list.into_iter().filter(|n| q.filters.keeps(n)).collect())
}

/// `GET /api/v2/notifications/unread_count`: unread groups.
pub async fn unread_count(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<CountParams>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("read:notifications")?;
    let grouped = grouped(&q.grouped_types);
    let groups: HashSet<String> =
        unread(&ctx, me, &q).await?.iter().map(|n| notifications::group_key(n, &grouped)).collect();
    Ok(Json(json!({ "count": groups.len() })))
}

/// `GET /api/v1/notifications/unread_count`: unread notifications.
pub async fn unread_count_v1(
    State(ctx): State<Ctx>,
    auth: Auth,
    QueryParams(q): QueryParams<CountParams>,
) -> ApiResult<Json<Value>> {
    let me = auth.user("read:notifications")?;
    Ok(Json(json!({ "count": unread(&ctx, me, &q).await?.len() })))
}
