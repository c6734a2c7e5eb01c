//! Statuses, notifications and filter results as a viewer sees them: the one rendering the REST
//! timelines and the streaming API share, so that visibility, mutes, blocks and filters apply to
//! a streamed event exactly as to a page of a timeline.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::api::error::{ApiError, ApiResult};
use crate::clock::iso8601_ms;
use crate::mastodon::convert;
use crate::mastodon::entities as e;
use crate::model::{self, Account, Notification};
use crate::repo::filters::{self, Filter, FilteredStatus, Keyword, Matched};
use crate::repo::{accounts, polls, statuses, visibility, Freshness};
use crate::Ctx;

/// Statuses as entities, in the order of `ids`, with the viewer's favourites: one batch get for
/// the statuses and favourite flags together, and one for authors other than the viewer (none
/// on a single-user instance).
pub async fn render_many(ctx: &Ctx, viewer: Option<&model::Account>, ids: &[String]) -> ApiResult<Vec<e::Status>> {
    render(ctx, viewer, ids, false, None, None).await
}

/// As `render_many`, leaving out authors the viewer blocks or mutes (timelines do; a status
/// opened directly still shows).
pub async fn render_timeline(ctx: &Ctx, viewer: Option<&model::Account>, ids: &[String]) -> ApiResult<Vec<e::Status>> {
    render(ctx, viewer, ids, true, None, None).await
}

/// The viewer's filters (`repo::filters`): one query, made only when the account has some.
pub async fn viewer_filters(ctx: &Ctx, viewer: Option<&model::Account>) -> ApiResult<Vec<Filter>> {
    match viewer {
        Some(v) if v.filters_count > 0 => Ok(filters::all(ctx.stores.table.as_ref(), &v.id).await?),
        _ => Ok(Vec::new()),
    }
}

/// As `render_many` (or `render_timeline`, with `timeline`), shown in a filter context (`home`,
/// `notifications`, `public`, `thread`, `account`): statuses a `hide` filter of the viewer
/// matches in that context are left out. `filters`: the viewer's, when the caller read them
/// already (a page read in rounds reads them once).
pub async fn render_in(
    ctx: &Ctx,
    viewer: Option<&model::Account>,
    ids: &[String],
    timeline: bool,
    context: &str,
    filters: Option<&[Filter]>,
) -> ApiResult<Vec<e::Status>> {
    render(ctx, viewer, ids, timeline, Some(context), filters).await
}

async fn render(
    ctx: &Ctx,
    viewer: Option<&model::Account>,
    ids: &[String],
    timeline: bool,
    context: Option<&str>,
    filters: Option<&[Filter]>,
) -> ApiResult<Vec<e::Status>> {
    let table = ctx.stores.table.as_ref();
    // Every status rendered for a signed-in viewer carries `filtered`, Mastodon's FilterResults.
    let loaded;
    let filters: &[Filter] = match filters {
        Some(f) => f,
        None => {
            loaded = viewer_filters(ctx, viewer).await?;
            &loaded
        }
    };
    let now = crate::clock::now_ms();
    // A timeline page renders what its index lists: eventually consistent reads, half the cost.
    let freshness = if timeline { Freshness::Eventual } else { Freshness::Strong };
    let found = statuses::get_many_for(table, viewer.map(|v| v.id.as_str()), ids, freshness).await?;
    // Boosts show the boosted status inside: one more batch get, only when the page has boosts.
    let boosted_ids: Vec<String> = found.iter().filter_map(|(s, _)| s.reblog_of.clone()).collect();
    let boosted: HashMap<String, (model::Status, statuses::Marks)> = if boosted_ids.is_empty() {
        HashMap::new()
    } else {
        statuses::get_many_for(table, viewer.map(|v| v.id.as_str()), &boosted_ids, freshness)
            .await?
            .into_iter()
            .map(|(s, m)| (s.id.clone(), (s, m)))
            .collect()
    };
    // The one rule decides what the viewer sees, boosts and boosted statuses alike, before
    // anything of a status is rendered.
    let seen =
        visibility::filter_visible(table, found.iter().map(|(s, _)| s).chain(boosted.values().map(|(s, _)| s)), viewer)
            .await?;
    let mut authors: HashMap<String, e::Account> = HashMap::new();
    if let Some(v) = viewer {
        authors.insert(v.id.clone(), convert::account(&ctx.config, v, false));
    }
    let missing: Vec<String> = found
        .iter()
        .map(|(s, _)| s)
        .chain(boosted.values().map(|(s, _)| s))
        .filter(|s| seen.contains(&s.id))
        .map(|s| &s.account_id)
        .filter(|id| !authors.contains_key(*id))
        .cloned()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut hidden = HashSet::new();
    for a in accounts::by_ids_with(table, &missing, freshness).await? {
        if timeline && viewer.is_some_and(|v| a.hidden_from(&v.id) || crate::repo::domain_blocks::hides(v, &a)) {
            hidden.insert(a.id.clone());
        }
        authors.insert(a.id.clone(), convert::account(&ctx.config, &a, false));
    }
    let one = |s: &model::Status, marks: statuses::Marks| -> Option<e::Status> {
        if hidden.contains(&s.account_id) || !seen.contains(&s.id) {
            return None;
        }
        Some(convert::status(&ctx.config, s, authors.get(&s.account_id)?, marks))
    };
    // The viewer's votes: one more batch get, only when the page has polls.
    let own_votes = match viewer {
        Some(v) => {
            let polls: Vec<String> = found
                .iter()
                .map(|(s, _)| s)
                .chain(boosted.values().map(|(s, _)| s))
                .filter(|s| s.poll.is_some() && seen.contains(&s.id))
                .map(|s| s.id.clone())
                .collect();
            let votes = if polls.is_empty() { HashMap::new() } else { polls::own_votes(table, &v.id, &polls).await? };
            Some(votes)
        }
        None => None,
    };
    let with_votes = |s: &model::Status, mut entity: e::Status| -> e::Status {
        if let Some(votes) = &own_votes {
            let own = votes.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
            entity.poll = convert::poll(s, Some(own));
        }
        entity
    };
    Ok(found
        .iter()
        .filter_map(|(s, marks)| {
            let mut status = with_votes(s, one(s, *marks)?);
            let mut original_status = None;
            if let Some(of) = &s.reblog_of {
                // A boost of something gone (or hidden from the viewer) is not shown.
                let (original, original_marks) = boosted.get(of)?;
                let mut inner = with_votes(original, one(original, *original_marks)?);
                inner.reblogged |= viewer.is_some_and(|v| v.id == s.account_id);
                status.reblog = Some(Box::new(inner));
                original_status = Some(original);
            }
            // Filters apply to others' statuses, as Mastodon's do.
            let proper_author = original_status.map_or(&s.account_id, |o| &o.account_id);
            if viewer.is_some_and(|v| !filters.is_empty() && &v.id != proper_author) {
                let matched = filters::matches(filters, s, original_status, now);
                if context
                    .is_some_and(|c| matched.iter().any(|m| m.filter.filter_action == "hide" && m.filter.applies_in(c)))
                {
                    return None;
                }
                let results: Vec<serde_json::Value> = matched.iter().map(filter_result).collect();
                if let Some(inner) = status.reblog.as_mut() {
                    inner.filtered = results.clone();
                }
                status.filtered = results;
            }
            Some(status)
        })
        .collect())
}

pub async fn render_one(ctx: &Ctx, viewer: Option<&model::Account>, id: &str) -> ApiResult<e::Status> {
    render_many(ctx, viewer, &[id.to_string()]).await?.into_iter().next().ok_or(ApiError::NotFound)
}

/// Notifications as Mastodon entities: one batch get of the accounts, one of the statuses.
pub async fn notifications(ctx: &Ctx, me: &Account, list: Vec<Notification>) -> ApiResult<Vec<Value>> {
    let table = ctx.stores.table.as_ref();
    let mut account_ids: Vec<String> = list.iter().map(|n| n.from_account_id.clone()).collect();
    account_ids.dedup();
    let senders: HashMap<String, Account> = accounts::by_ids_with(table, &account_ids, Freshness::Eventual)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let status_ids: Vec<String> = list.iter().filter_map(|n| n.status_id.clone()).collect();
    let statuses: HashMap<String, Value> = render_in(ctx, Some(me), &status_ids, false, "notifications", None)
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

pub fn filter_keyword_entity(k: &Keyword) -> Value {
    json!({ "id": k.id, "keyword": k.keyword, "whole_word": k.whole_word })
}

pub fn filtered_status_entity(s: &FilteredStatus) -> Value {
    json!({ "id": s.id, "status_id": s.status_id })
}

/// The Filter entity (v2).
pub fn filter_entity(f: &Filter) -> Value {
    json!({
        "id": f.id,
        "title": f.title,
        "context": f.context,
        "expires_at": f.expires_at.map(iso8601_ms),
        "filter_action": f.filter_action,
        "keywords": f.keywords.iter().map(filter_keyword_entity).collect::<Vec<_>>(),
        "statuses": f.statuses.iter().map(filtered_status_entity).collect::<Vec<_>>(),
    })
}

/// A FilterResult, as a status's `filtered` lists them.
pub fn filter_result(m: &Matched) -> Value {
    // Without keywords and statuses, as Mastodon's FilterResult carries its filter.
    let mut filter = filter_entity(m.filter);
    if let Some(o) = filter.as_object_mut() {
        o.remove("keywords");
        o.remove("statuses");
    }
    json!({ "filter": filter, "keyword_matches": m.keyword_matches, "status_matches": m.status_matches })
}
