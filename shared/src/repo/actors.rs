//! Remote actors: cached as accounts with `remote` set, found by actor id or key id.

use crate::config::Retention;
use crate::model::Account;
use crate::repo::{keys, to_item, Freshness, RepoError};
use crate::store::{str_attr_of, Cond, Item, StoreError, Table, TxOp, Update, Value, TTL};

/// A cached actor older than this is fetched again before it is trusted for a new key.
pub const REFRESH_MS: i64 = 24 * 3600 * 1000;

/// A pointer to an account, expiring with it (`ttl`: the account's).
fn pointer(key: crate::store::Key, account_id: &str, ttl: Option<i64>) -> Item {
    let mut item = key.to_item();
    item.insert("account_id".into(), Value::S(account_id.to_string()));
    if let Some(t) = ttl {
        item.insert(TTL.into(), Value::N(t.to_string()));
    }
    item
}

/// The expiry of an actor stored or refetched now: every use renews it (`touch`), so it outlives
/// the posts and notifications it stands behind; `None` when those never expire.
pub fn fresh_ttl(retention: &Retention) -> Option<i64> {
    retention.actor_secs().map(|s| crate::store::table::now_secs() + s)
}

/// Writes an actor's expiry on its three items (the profile and both pointers): `None` keeps it
/// for good. 3 writes.
async fn set_ttl(table: &dyn Table, account: &Account, ttl: Option<i64>) -> Result<(), RepoError> {
    let Some(remote) = &account.remote else {
        return Ok(());
    };
    let update = match ttl {
        Some(t) => Update::default().set(TTL, Value::N(t.to_string())),
        None => Update::default().remove(TTL),
    };
    match table.update(&keys::account(&account.id), update, Some(Cond::ItemExists)).await {
        Ok(_) => {}
        // Gone (expired or forgotten) meanwhile: the next use fetches it afresh.
        Err(StoreError::ConditionFailed { .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    futures::future::try_join_all([
        table.put(pointer(keys::actor_uri(&remote.uri), &account.id, ttl), None),
        table.put(pointer(keys::key_owner(&remote.key_id), &account.id, ttl), None),
    ])
    .await?;
    Ok(())
}

/// Keeps a cached actor for good: one with a relationship to a local account (follows either
/// way, follow requests, blocks, mutes) or behind a kept post. 3 writes the first time, none
/// after (a kept actor has no `ttl`).
pub async fn keep(table: &dyn Table, account: &Account) -> Result<(), RepoError> {
    if account.ttl.is_none() || account.remote.is_none() {
        return Ok(());
    }
    set_ttl(table, account, None).await
}

/// `keep` by account id: 1 read more.
pub async fn keep_by_id(table: &dyn Table, account_id: &str) -> Result<(), RepoError> {
    match table.get(&keys::account(account_id)).await? {
        Some(item) => keep(table, &crate::repo::from_item(item)?).await,
        None => Ok(()),
    }
}

/// Renews an expiring actor that is being used (it signed an activity, or wrote a post being
/// stored) once less than `Retention::actor_renew_below_secs` is left: 3 writes at most once a
/// month per actor in use, none otherwise.
pub async fn touch(table: &dyn Table, account: &Account, retention: &Retention) -> Result<(), RepoError> {
    let Some(ttl) = account.ttl else {
        return Ok(());
    };
    match retention.actor_renew_below_secs() {
        // Retention turned off since: keep it like everything else.
        None => set_ttl(table, account, None).await,
        Some(below) if ttl < crate::store::table::now_secs() + below => {
            set_ttl(table, account, fresh_ttl(retention)).await
        }
        Some(_) => Ok(()),
    }
}

async fn by_pointer(
    table: &dyn Table,
    key: &crate::store::Key,
    freshness: Freshness,
) -> Result<Option<Account>, RepoError> {
    let get = |key: crate::store::Key| async move {
        match freshness {
            Freshness::Strong => table.get(&key).await,
            Freshness::Eventual => table.get_eventually(&key).await,
        }
    };
    let Some(item) = get(key.clone()).await? else {
        return Ok(None);
    };
    let id =
        str_attr_of(&item, "account_id").ok_or_else(|| StoreError::Corrupt(format!("{} has no account id", key.pk)))?;
    get(keys::account(id)).await?.map(crate::repo::from_item).transpose()
}

/// Two reads: the pointer, then the account.
pub async fn by_uri(table: &dyn Table, uri: &str) -> Result<Option<Account>, RepoError> {
    by_pointer(table, &keys::actor_uri(uri), Freshness::Strong).await
}

/// The actor that owns a key, as cached: two eventually consistent reads (half the units), as
/// every inbound activity makes them to check its signature. A cache miss only means a fetch.
pub async fn by_key_id(table: &dyn Table, key_id: &str) -> Result<Option<Account>, RepoError> {
    by_pointer(table, &keys::key_owner(key_id), Freshness::Eventual).await
}

/// Points `key_id` at `account_id` unless it already points at another account: an actor document
/// is not enough to take a key over from whoever holds it (`set_key_owner` is, after checking
/// the key's own document). True when the key is now this account's.
pub async fn claim_key(table: &dyn Table, key_id: &str, account_id: &str, ttl: Option<i64>) -> Result<bool, RepoError> {
    let key = keys::key_owner(key_id);
    let points_here = |item: Option<Item>| item.is_some_and(|i| str_attr_of(&i, "account_id") == Some(account_id));
    if let Some(item) = table.get(&key).await? {
        return Ok(points_here(Some(item)));
    }
    match table.put(pointer(key.clone(), account_id, ttl), Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(points_here(table.get(&key).await?)),
        Err(e) => Err(e.into()),
    }
}

/// Points `key_id` at `account_id`, whatever it pointed at before. Only for an owner established
/// from the key's own host: the key document (or the actor document the key id names) fetched
/// from there, naming this actor, whose document names this key.
pub async fn set_key_owner(
    table: &dyn Table,
    key_id: &str,
    account_id: &str,
    ttl: Option<i64>,
) -> Result<(), RepoError> {
    Ok(table.put(pointer(keys::key_owner(key_id), account_id, ttl), None).await?)
}

/// Stores a freshly fetched actor. An actor seen before keeps its id and counters (and the blocks
/// and mutes local accounts hold on it, which an update leaves alone); a new one gets its
/// pointer and profile in one transaction, so a race between two first sights leaves one
/// account. Its key is claimed after (`claim_key`): never taken from another account.
pub async fn save(table: &dyn Table, mut fresh: Account) -> Result<Account, RepoError> {
    let remote = fresh.remote.clone().ok_or_else(|| RepoError::Invalid("not a remote account".into()))?;
    for _ in 0..2 {
        if let Some(existing) = by_uri(table, &remote.uri).await? {
            fresh.id = existing.id.clone();
            fresh.statuses_count = existing.statuses_count;
            fresh.followers_count = existing.followers_count;
            fresh.following_count = existing.following_count;
            fresh.last_status_at = existing.last_status_at;
            // A kept actor stays kept; an expiring one is renewed by the refetch (a use).
            fresh.ttl = existing.ttl.and(fresh.ttl);
            // Only the actor's own fields are written: counters move by atomic adds and blocks
            // and mutes by conditional updates elsewhere, and a refetch racing with a block must
            // not put back the list it read before the block (a whole-item put would).
            table.update(&keys::account(&fresh.id), profile_update(&fresh)?, Some(Cond::ItemExists)).await?;
            claim_key(table, &remote.key_id, &fresh.id, fresh.ttl).await?;
            // The pointers follow once the expiry has moved by the renewal margin (not every day).
            if let (Some(old), Some(new)) = (existing.ttl, fresh.ttl) {
                if new - old > i64::from(crate::config::ACTOR_MARGIN_DAYS) * 86_400 {
                    set_ttl(table, &fresh, fresh.ttl).await?;
                }
            }
            if fresh.delivery_inbox() != existing.delivery_inbox() {
                let inbox = fresh.delivery_inbox().unwrap_or_default();
                crate::repo::follows::move_delivery_inbox(table, &fresh.id, inbox).await?;
            }
            fresh.blocked_by = existing.blocked_by;
            fresh.muted_by = existing.muted_by;
            return Ok(fresh);
        }
        let ops = vec![
            TxOp::Put {
                item: pointer(keys::actor_uri(&remote.uri), &fresh.id, fresh.ttl),
                cond: Some(Cond::ItemNotExists),
            },
            TxOp::Put { item: to_item(&keys::account(&fresh.id), &fresh)?, cond: Some(Cond::ItemNotExists) },
        ];
        match table.transact(ops).await {
            Ok(()) => {
                claim_key(table, &remote.key_id, &fresh.id, fresh.ttl).await?;
                return Ok(fresh);
            }
            // Someone stored it first: take that one's id on the next pass.
            Err(StoreError::ConditionFailed { index: Some(0) }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(RepoError::Conflict(format!("actor {} changed while being stored", remote.uri)))
}

/// What a refetch of an actor changes: every attribute of the fetched profile except the counters
/// and the local accounts' blocks and mutes.
fn profile_update(fresh: &Account) -> Result<Update, RepoError> {
    const KEPT: [&str; 6] =
        ["statuses_count", "followers_count", "following_count", "last_status_at", "blocked_by", "muted_by"];
    let item = to_item(&keys::account(&fresh.id), fresh)?;
    let mut update = Update::default();
    for (name, value) in item.into_inner() {
        if !KEPT.contains(&name.as_str()) && !crate::store::PK_SK_ATTRS.contains(&name.as_str()) {
            update = update.set(&name, value);
        }
    }
    Ok(update)
}

/// Forgets a deleted actor: its profile and pointers (its statuses expire from timelines as they
/// are read; follows are removed by the caller).
pub async fn forget(table: &dyn Table, account: &Account) -> Result<(), RepoError> {
    let Some(remote) = &account.remote else {
        return Err(RepoError::Invalid("a local account cannot be forgotten this way".into()));
    };
    table
        .transact(vec![
            TxOp::Delete { key: keys::account(&account.id), cond: None },
            TxOp::Delete { key: keys::actor_uri(&remote.uri), cond: None },
            TxOp::Delete { key: keys::key_owner(&remote.key_id), cond: None },
        ])
        .await?;
    Ok(())
}
