//! Follow relationships between local and remote accounts. Each change is one transaction that
//! also moves the counters, so counts and lists never disagree.

use crate::model::Account;
use crate::repo::{keys, RepoError};
use crate::store::{str_attr_of, Cond, Item, Query, StoreError, Table, TxOp, Update, Value, SK};

fn entry(key: crate::store::Key, attrs: &[(&str, &str)]) -> Item {
    let mut item = key.to_item();
    for (name, value) in attrs {
        item.insert((*name).into(), Value::S((*value).to_string()));
    }
    item
}

fn count(account_id: &str, field: &str, by: i64) -> TxOp {
    TxOp::Update {
        key: keys::account(account_id),
        update: Update::default().add(field, by),
        cond: Some(Cond::ItemExists),
    }
}

/// Records `follower` as following `local`. Returns false when it already was (a redelivered
/// Follow), which changes nothing.
pub async fn add_follower(
    table: &dyn Table,
    local: &Account,
    follower: &Account,
    follow_id: &str,
) -> Result<bool, RepoError> {
    let inbox = follower.delivery_inbox().unwrap_or_default();
    let mut ops = vec![
        TxOp::Put {
            item: entry(keys::follower(&local.id, &follower.id), &[("inbox", inbox), ("follow_id", follow_id)]),
            cond: Some(Cond::ItemNotExists),
        },
        count(&local.id, "followers_count", 1),
        count(&follower.id, "following_count", 1),
        TxOp::Delete { key: keys::follow_request(&local.id, &follower.id), cond: None },
    ];
    if !inbox.is_empty() {
        ops.push(inbox_count(&local.id, inbox, 1));
    }
    match table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes a follower; false when it was not one.
pub async fn remove_follower(table: &dyn Table, local_id: &str, follower_id: &str) -> Result<bool, RepoError> {
    // The entry names the inbox it counts towards; the delete is conditional on it still naming
    // that one, so a concurrent inbox move cannot make the counts drift. Two tries cover a race.
    for _ in 0..2 {
        let Some(item) = table.get(&keys::follower(local_id, follower_id)).await? else {
            return Ok(false);
        };
        let inbox = str_attr_of(&item, "inbox").unwrap_or_default().to_string();
        let mut ops = vec![
            TxOp::Delete {
                key: keys::follower(local_id, follower_id),
                cond: Some(Cond::AttrEq("inbox".into(), Value::S(inbox.clone()))),
            },
            count(local_id, "followers_count", -1),
            count(follower_id, "following_count", -1),
        ];
        if !inbox.is_empty() {
            ops.push(inbox_count(local_id, &inbox, -1));
        }
        match table.transact(ops).await {
            Ok(()) => {
                drop_if_unused(table, local_id, &inbox).await?;
                return Ok(true);
            }
            Err(StoreError::ConditionFailed { index: Some(0) }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

/// Moves `by` followers' worth of deliveries to `inbox` in a local account's inbox set.
fn inbox_count(local_id: &str, inbox: &str, by: i64) -> TxOp {
    TxOp::Update {
        key: keys::delivery_inbox(local_id, inbox),
        update: Update::default().set("inbox", Value::S(inbox.to_string())).add("followers", by),
        cond: None,
    }
}

/// Deletes an inbox no follower stands for any more (conditional, so a follow arriving at the
/// same moment keeps it).
async fn drop_if_unused(table: &dyn Table, local_id: &str, inbox: &str) -> Result<(), RepoError> {
    if inbox.is_empty() {
        return Ok(());
    }
    let unused = Cond::AttrEq("followers".into(), Value::N("0".into()));
    match table.delete(&keys::delivery_inbox(local_id, inbox), Some(unused)).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// A remote follower's delivery inbox changed (it gained or moved its shared inbox): every local
/// account it follows counts it towards the new inbox. Rare (an actor refetch that changed its
/// endpoints), so it reads the follower entry of each local account (an instance has a few).
pub async fn move_delivery_inbox(table: &dyn Table, follower_id: &str, new_inbox: &str) -> Result<(), RepoError> {
    for local_id in crate::repo::accounts::local_ids(table).await? {
        let Some(item) = table.get(&keys::follower(&local_id, follower_id)).await? else {
            continue;
        };
        let old = str_attr_of(&item, "inbox").unwrap_or_default().to_string();
        if old == new_inbox {
            continue;
        }
        let mut ops = vec![TxOp::Update {
            key: keys::follower(&local_id, follower_id),
            update: Update::default().set("inbox", Value::S(new_inbox.to_string())),
            cond: Some(Cond::AttrEq("inbox".into(), Value::S(old.clone()))),
        }];
        if !old.is_empty() {
            ops.push(inbox_count(&local_id, &old, -1));
        }
        if !new_inbox.is_empty() {
            ops.push(inbox_count(&local_id, new_inbox, 1));
        }
        match table.transact(ops).await {
            Ok(()) => drop_if_unused(table, &local_id, &old).await?,
            // Unfollowed or moved meanwhile: whoever changed it kept the counts right.
            Err(StoreError::ConditionFailed { index: Some(0) }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// One page of a local account's distinct delivery inboxes, and the cursor of the next page.
/// The set is built from the followers on first use (accounts that had followers before the set
/// was kept), then maintained by every follower change.
pub async fn delivery_inboxes_page(
    table: &dyn Table,
    local_id: &str,
    cursor: Option<String>,
    limit: u32,
) -> Result<(Vec<String>, Option<String>), RepoError> {
    if cursor.is_none() && table.get(&keys::delivery_inboxes_built(local_id)).await?.is_none() {
        build_delivery_inboxes(table, local_id).await?;
    }
    let page = table.query(Query::new(keys::delivery_inboxes(local_id)).limit(limit).cursor(cursor)).await?;
    let inboxes = page
        .items
        .iter()
        .filter(|i| crate::store::num_attr_of(i, "followers").unwrap_or(0) > 0)
        .filter_map(|i| str_attr_of(i, "inbox").filter(|s| !s.is_empty()).map(str::to_string))
        .collect();
    Ok((inboxes, page.cursor))
}

/// Counts the followers per delivery inbox and writes the set (one put per distinct inbox), then
/// marks it built. A follow landing while this runs can be overwritten by the count read before
/// it; the window is the length of this one-time pass.
async fn build_delivery_inboxes(table: &dyn Table, local_id: &str) -> Result<(), RepoError> {
    use futures::StreamExt;
    let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
    let mut cursor = None;
    loop {
        let (page, next) = followers_page(table, local_id, cursor, 1000).await?;
        for (_, inbox) in page.into_iter().filter(|(_, i)| !i.is_empty()) {
            *counts.entry(inbox).or_default() += 1;
        }
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    let puts = counts.into_iter().map(|(inbox, n)| async move {
        let mut item = keys::delivery_inbox(local_id, &inbox).to_item();
        item.insert("inbox".into(), Value::S(inbox));
        item.insert("followers".into(), Value::N(n.to_string()));
        table.put(item, None).await
    });
    let results: Vec<_> = futures::stream::iter(puts).buffer_unordered(16).collect().await;
    for r in results {
        r?;
    }
    table.put(keys::delivery_inboxes_built(local_id).to_item(), None).await?;
    tracing::info!(account = local_id, "delivery inbox set built from the followers");
    Ok(())
}

pub async fn is_follower(table: &dyn Table, local_id: &str, follower_id: &str) -> Result<bool, RepoError> {
    Ok(table.get(&keys::follower(local_id, follower_id)).await?.is_some())
}

/// One page of a local account's followers: (follower account id, delivery inbox), and the
/// cursor of the next page.
pub async fn followers_page(
    table: &dyn Table,
    local_id: &str,
    cursor: Option<String>,
    limit: u32,
) -> Result<(Vec<(String, String)>, Option<String>), RepoError> {
    let page = table.query(Query::new(keys::followers(local_id)).limit(limit).cursor(cursor)).await?;
    let list = page
        .items
        .iter()
        .filter_map(|i| {
            Some((str_attr_of(i, SK)?.to_string(), str_attr_of(i, "inbox").unwrap_or_default().to_string()))
        })
        .collect();
    Ok((list, page.cursor))
}

/// A local account's follow of another account: `pending` until the Accept arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Following {
    pub target_id: String,
    pub follow_id: String,
    pub accepted: bool,
}

pub async fn following(table: &dyn Table, local_id: &str, target_id: &str) -> Result<Option<Following>, RepoError> {
    let Some(item) = table.get(&keys::following(local_id, target_id)).await? else {
        return Ok(None);
    };
    Ok(Some(Following {
        target_id: target_id.to_string(),
        follow_id: str_attr_of(&item, "follow_id").unwrap_or_default().to_string(),
        accepted: str_attr_of(&item, "state") == Some("accepted"),
    }))
}

/// Records a follow request sent by `local`. False when one is already recorded.
pub async fn request_following(
    table: &dyn Table,
    local_id: &str,
    target_id: &str,
    follow_id: &str,
) -> Result<bool, RepoError> {
    let item = entry(keys::following(local_id, target_id), &[("state", "pending"), ("follow_id", follow_id)]);
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The target accepted: the follow counts from now on, and the target's posts reach `local`'s
/// home timeline. Accepting twice changes nothing.
pub async fn accept_following(table: &dyn Table, local_id: &str, target_id: &str) -> Result<bool, RepoError> {
    let ops = vec![
        TxOp::Update {
            key: keys::following(local_id, target_id),
            update: Update::default().set("state", Value::S("accepted".into())),
            cond: Some(Cond::AttrEq("state".into(), Value::S("pending".into()))),
        },
        TxOp::Put { item: entry(keys::followed_by_local(target_id, local_id), &[]), cond: None },
        count(local_id, "following_count", 1),
        count(target_id, "followers_count", 1),
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Ends a follow (unfollow, Reject, or a block); false when there was none.
pub async fn remove_following(
    table: &dyn Table,
    local_id: &str,
    target_id: &str,
) -> Result<Option<Following>, RepoError> {
    let Some(current) = following(table, local_id, target_id).await? else {
        return Ok(None);
    };
    let mut ops = vec![
        TxOp::Delete { key: keys::following(local_id, target_id), cond: Some(Cond::ItemExists) },
        TxOp::Delete { key: keys::followed_by_local(target_id, local_id), cond: None },
    ];
    // The account leaves the local account's lists with the follow (Mastodon's rule too).
    if let Some(entry) = table.get(&keys::followed_by_local(target_id, local_id)).await? {
        ops.extend(
            crate::repo::lists::member_keys_of_follow(&entry, target_id)
                .into_iter()
                .map(|key| TxOp::Delete { key, cond: None }),
        );
    }
    if current.accepted {
        ops.push(count(local_id, "following_count", -1));
        ops.push(count(target_id, "followers_count", -1));
    }
    match table.transact(ops).await {
        Ok(()) => Ok(Some(current)),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Local accounts whose follow of `target_id` was accepted (an instance has a handful; paged all
/// the same).
pub async fn local_followers_of(table: &dyn Table, target_id: &str) -> Result<Vec<String>, RepoError> {
    let items = crate::repo::query_all(table, Query::new(keys::local_followers(target_id))).await?;
    Ok(items.iter().filter_map(|i| str_attr_of(i, SK).map(str::to_string)).collect())
}

/// A Follow waiting for a locked account's decision.
pub async fn add_request(
    table: &dyn Table,
    local_id: &str,
    requester_id: &str,
    follow_id: &str,
) -> Result<bool, RepoError> {
    let item = entry(keys::follow_request(local_id, requester_id), &[("follow_id", follow_id)]);
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The Follow id of a pending request, removing it.
pub async fn take_request(table: &dyn Table, local_id: &str, requester_id: &str) -> Result<Option<String>, RepoError> {
    let key = keys::follow_request(local_id, requester_id);
    let Some(item) = table.get(&key).await? else {
        return Ok(None);
    };
    table.delete(&key, None).await?;
    Ok(Some(str_attr_of(&item, "follow_id").unwrap_or_default().to_string()))
}
