//! Remote actors: cached as accounts with `remote` set, found by actor id or key id.

use crate::model::Account;
use crate::repo::{keys, to_item, Freshness, RepoError};
use crate::store::{str_attr_of, Cond, Item, StoreError, Table, TxOp, Update, Value};

/// A cached actor older than this is fetched again before it is trusted for a new key.
pub const REFRESH_MS: i64 = 24 * 3600 * 1000;

fn pointer(key: crate::store::Key, account_id: &str) -> Item {
    let mut item = key.to_item();
    item.insert("account_id".into(), Value::S(account_id.to_string()));
    item
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
pub async fn claim_key(table: &dyn Table, key_id: &str, account_id: &str) -> Result<bool, RepoError> {
    let key = keys::key_owner(key_id);
    let points_here = |item: Option<Item>| item.is_some_and(|i| str_attr_of(&i, "account_id") == Some(account_id));
    if let Some(item) = table.get(&key).await? {
        return Ok(points_here(Some(item)));
    }
    match table.put(pointer(key.clone(), account_id), Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(points_here(table.get(&key).await?)),
        Err(e) => Err(e.into()),
    }
}

/// Points `key_id` at `account_id`, whatever it pointed at before. Only for an owner established
/// from the key's own host: the key document (or the actor document the key id names) fetched
/// from there, naming this actor, whose document names this key.
pub async fn set_key_owner(table: &dyn Table, key_id: &str, account_id: &str) -> Result<(), RepoError> {
    Ok(table.put(pointer(keys::key_owner(key_id), account_id), None).await?)
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
            // Only the actor's own fields are written: counters move by atomic adds and blocks
            // and mutes by conditional updates elsewhere, and a refetch racing with a block must
            // not put back the list it read before the block (a whole-item put would).
            table.update(&keys::account(&fresh.id), profile_update(&fresh)?, Some(Cond::ItemExists)).await?;
            claim_key(table, &remote.key_id, &fresh.id).await?;
            if fresh.delivery_inbox() != existing.delivery_inbox() {
                let inbox = fresh.delivery_inbox().unwrap_or_default();
                crate::repo::follows::move_delivery_inbox(table, &fresh.id, inbox).await?;
            }
            fresh.blocked_by = existing.blocked_by;
            fresh.muted_by = existing.muted_by;
            return Ok(fresh);
        }
        let ops = vec![
            TxOp::Put { item: pointer(keys::actor_uri(&remote.uri), &fresh.id), cond: Some(Cond::ItemNotExists) },
            TxOp::Put { item: to_item(&keys::account(&fresh.id), &fresh)?, cond: Some(Cond::ItemNotExists) },
        ];
        match table.transact(ops).await {
            Ok(()) => {
                claim_key(table, &remote.key_id, &fresh.id).await?;
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
