//! Notifications of local accounts, newest last in their partition.

use crate::config::Retention;
use crate::model::Notification;
use crate::repo::timelines::{page_items, PageParams};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Item, Query, Table, TxOp, SK};

/// A new notification, expiring after the configured retention (`ttl` in the item).
pub fn new(retention: &Retention, kind: &str, from_account_id: &str, status_id: Option<&str>) -> Notification {
    Notification {
        id: crate::ids::snowflake(),
        kind: kind.into(),
        from_account_id: from_account_id.into(),
        status_id: status_id.map(str::to_string),
        created_at: crate::clock::now_ms(),
        ttl: retention.notification_ttl(crate::store::table::now_secs()),
    }
}

/// A local account's notification as stored.
pub fn item(local_id: &str, n: &Notification) -> Result<Item, RepoError> {
    to_item(&keys::notification(local_id, &n.id), n)
}

/// The write of a notification, to go into the transaction of what caused it.
pub fn put_op(local_id: &str, n: &Notification) -> Result<TxOp, RepoError> {
    Ok(TxOp::Put { item: item(local_id, n)?, cond: None })
}

pub async fn create(table: &dyn Table, local_id: &str, n: &Notification) -> Result<(), RepoError> {
    table.put(item(local_id, n)?, None).await?;
    Ok(())
}

/// A page of notifications, newest first: one query, which returns the notifications themselves.
pub async fn page(table: &dyn Table, local_id: &str, p: &PageParams) -> Result<Vec<Notification>, RepoError> {
    page_items(table, &keys::notifications(local_id), p).await?.into_iter().map(from_item).collect()
}

pub async fn get(table: &dyn Table, local_id: &str, id: &str) -> Result<Option<Notification>, RepoError> {
    table.get(&keys::notification(local_id, id)).await?.map(from_item).transpose()
}

pub async fn dismiss(table: &dyn Table, local_id: &str, id: &str) -> Result<(), RepoError> {
    table.delete(&keys::notification(local_id, id), None).await?;
    Ok(())
}

/// Deletes every notification, in transactions of up to 100.
pub async fn clear(table: &dyn Table, local_id: &str) -> Result<(), RepoError> {
    loop {
        let page = table.query(Query::new(keys::notifications(local_id)).limit(100)).await?;
        let ops: Vec<TxOp> = page
            .items
            .iter()
            .filter_map(|i| crate::store::str_attr_of(i, SK))
            .map(|sk| TxOp::Delete { key: keys::notification(local_id, sk), cond: None })
            .collect();
        if ops.is_empty() {
            return Ok(());
        }
        table.transact(ops).await?;
        if page.cursor.is_none() {
            return Ok(());
        }
    }
}

/// Types Mastodon groups (4.3+): several of them about the same status (or, for follows, the
/// account) within a span of hours make one group.
pub const GROUPABLE: [&str; 3] = ["favourite", "reblog", "follow"];

/// How long one group may span. Mastodon starts a group at its first notification and keeps it
/// open 12 hours (a per-account marker in Redis); here the span is a fixed 12-hour window, which
/// needs no state and no read when a notification is written, and differs only for events that
/// straddle a window's edge.
pub const GROUP_SPAN_MS: i64 = 12 * 3600 * 1000;

/// The group a notification belongs to when `grouped` lists its type (Mastodon's key shape:
/// `favourite-<status id>-<window>`, `follow--<window>`), else `ungrouped-<id>`.
pub fn group_key(n: &Notification, grouped: &[&str]) -> String {
    if GROUPABLE.contains(&n.kind.as_str()) && grouped.contains(&n.kind.as_str()) {
        let window = n.created_at.div_euclid(GROUP_SPAN_MS);
        format!("{}-{}-{window}", n.kind, n.status_id.as_deref().unwrap_or_default())
    } else {
        format!("ungrouped-{}", n.id)
    }
}

/// What a group key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    One(String),
    Many { kind: String, status_id: Option<String>, window: i64 },
}

/// Reads a group key back; `None` for anything not made by [`group_key`].
pub fn parse_group_key(key: &str) -> Option<Group> {
    if let Some(id) = key.strip_prefix("ungrouped-") {
        return crate::repo::statuses::valid_id(id).then(|| Group::One(id.to_string()));
    }
    let (kind, rest) = key.split_once('-')?;
    let (status, window) = rest.rsplit_once('-')?;
    if !GROUPABLE.contains(&kind) || (!status.is_empty() && !crate::repo::statuses::valid_id(status)) {
        return None;
    }
    let window: i64 = window.parse().ok().filter(|w| *w >= 0)?;
    let status_id = (!status.is_empty()).then(|| status.to_string());
    Some(Group::Many { kind: kind.to_string(), status_id, window })
}

/// The notification ids a window's notifications fall between (snowflakes carry their time).
fn window_bounds(window: i64) -> (String, String) {
    let start = u64::try_from(window.saturating_mul(GROUP_SPAN_MS)).unwrap_or(0);
    let end = u64::try_from((window.saturating_add(1)).saturating_mul(GROUP_SPAN_MS)).unwrap_or(u64::MAX >> 16);
    (format!("{:018}", start << 16), format!("{:018}", (end << 16).saturating_sub(1)))
}

/// At most this many notifications are read for one group (a group of more still shows its
/// count up to here, and its newest accounts).
pub const MAX_GROUP_READ: u32 = 400;

/// The notifications of a group, newest first: one query over the group's window.
pub async fn of_group(table: &dyn Table, local_id: &str, group: &Group) -> Result<Vec<Notification>, RepoError> {
    match group {
        Group::One(id) => Ok(get(table, local_id, id).await?.into_iter().collect()),
        Group::Many { kind, status_id, window } => {
            let (lo, hi) = window_bounds(*window);
            let mut out = Vec::new();
            let mut cursor = None;
            loop {
                let q = Query::new(keys::notifications(local_id))
                    .range(crate::store::SkRange::Between(lo.clone(), hi.clone()))
                    .backward()
                    .limit(100)
                    .cursor(cursor);
                let page = table.query(q).await?;
                for item in page.items {
                    let n: Notification = from_item(item)?;
                    if n.kind == *kind && n.status_id == *status_id {
                        out.push(n);
                    }
                }
                cursor = page.cursor;
                if cursor.is_none() || out.len() >= MAX_GROUP_READ as usize {
                    return Ok(out);
                }
            }
        }
    }
}

/// Notifications newer than `since_id` (the read marker), newest first, at most `limit`: one
/// query in the usual case.
pub async fn newer_than(
    table: &dyn Table,
    local_id: &str,
    since_id: Option<&str>,
    limit: u32,
) -> Result<Vec<Notification>, RepoError> {
    let range = match since_id {
        Some(id) => crate::store::SkRange::Gt(id.to_string()),
        None => crate::store::SkRange::All,
    };
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = Query::new(keys::notifications(local_id)).range(range.clone()).backward().limit(limit).cursor(cursor);
        let page = table.query(q).await?;
        for item in page.items {
            out.push(from_item(item)?);
        }
        cursor = page.cursor;
        if cursor.is_none() || out.len() >= limit as usize {
            out.truncate(limit as usize);
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: &str, kind: &str, status: Option<&str>, at: i64) -> Notification {
        Notification {
            id: id.into(),
            kind: kind.into(),
            from_account_id: "1".into(),
            status_id: status.map(str::to_string),
            created_at: at,
            ttl: None,
        }
    }

    #[test]
    fn group_keys_read_back_and_bound_their_window() {
        let at = 1_700_000_000_000;
        let fav = n(&crate::ids::snowflake_at(at as u64), "favourite", Some("123456789012345678"), at);
        let key = group_key(&fav, &GROUPABLE);
        let Some(Group::Many { kind, status_id, window }) = parse_group_key(&key) else { panic!("{key}") };
        assert_eq!((kind.as_str(), status_id.as_deref()), ("favourite", Some("123456789012345678")));
        let (lo, hi) = window_bounds(window);
        assert!(lo <= fav.id && fav.id <= hi, "{lo} {} {hi}", fav.id);
        // Not grouped when the client does not ask for it, nor for types that never group.
        assert!(group_key(&fav, &["reblog"]).starts_with("ungrouped-"));
        let mention = n("000000000000000042", "mention", Some("1"), at);
        assert_eq!(group_key(&mention, &GROUPABLE), "ungrouped-000000000000000042");
        assert_eq!(parse_group_key("ungrouped-000000000000000042"), Some(Group::One("000000000000000042".into())));
        let follow = n("000000000000000043", "follow", None, at);
        assert!(matches!(parse_group_key(&group_key(&follow, &GROUPABLE)), Some(Group::Many { status_id: None, .. })));
        for bad in ["", "ungrouped-x", "mention-1-2", "favourite-1-", "favourite--x", "favourite-a-1", "follow--1-1"] {
            assert_eq!(parse_group_key(bad), None, "{bad}");
        }
    }
}
