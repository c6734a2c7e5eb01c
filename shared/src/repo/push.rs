//! Web Push subscriptions: one per access token, kept in their account's partition
//! (`PUSH#{account}` / `{sha256(token)}`), so a new notification reads all of its account's
//! subscriptions with one query, and revoking a token finds its subscription by key.

use crate::crypto::sha256_hex;
use crate::model::{PushPolicy, PushSubscription};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, Query, StoreError, Table, Update, Value, SK};

/// At most this many subscriptions of one account are pushed to (one page of the query).
pub const MAX_PER_ACCOUNT: u32 = 100;

/// Stores `sub` as the token's subscription, replacing the one it had (as Mastodon does).
pub async fn put(table: &dyn Table, account_id: &str, token: &str, sub: &PushSubscription) -> Result<(), RepoError> {
    table.put(to_item(&keys::push_subscription(account_id, &sha256_hex(token)), sub)?, None).await?;
    Ok(())
}

pub async fn get(table: &dyn Table, account_id: &str, token: &str) -> Result<Option<PushSubscription>, RepoError> {
    table.get(&keys::push_subscription(account_id, &sha256_hex(token))).await?.map(from_item).transpose()
}

/// Replaces the alerts and the policy of the token's subscription; `None` when it has none.
pub async fn update_data(
    table: &dyn Table,
    account_id: &str,
    token: &str,
    alerts: &[String],
    policy: PushPolicy,
) -> Result<Option<PushSubscription>, RepoError> {
    let update = Update::default()
        .set("alerts", Value::L(alerts.iter().map(|a| Value::S(a.clone())).collect()))
        .set("policy", Value::S(policy.as_str().into()));
    let key = keys::push_subscription(account_id, &sha256_hex(token));
    match table.update(&key, update, Some(Cond::ItemExists)).await {
        Ok(item) => Ok(Some(from_item(item)?)),
        Err(StoreError::ConditionFailed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Removes the token's subscription, if it has one.
pub async fn delete(table: &dyn Table, account_id: &str, token: &str) -> Result<(), RepoError> {
    delete_by_hash(table, account_id, &sha256_hex(token)).await
}

pub async fn delete_by_hash(table: &dyn Table, account_id: &str, token_hash: &str) -> Result<(), RepoError> {
    table.delete(&keys::push_subscription(account_id, token_hash), None).await?;
    Ok(())
}

/// Removes a subscription the push service called gone, unless it was replaced meanwhile (a new
/// `POST` gives it a new id). True when it was removed.
pub async fn delete_gone(table: &dyn Table, account_id: &str, token_hash: &str, id: &str) -> Result<bool, RepoError> {
    let cond = Cond::AttrEq("id".into(), Value::S(id.into()));
    match table.delete(&keys::push_subscription(account_id, token_hash), Some(cond)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Every subscription of an account with its token hash: one query.
pub async fn of_account(table: &dyn Table, account_id: &str) -> Result<Vec<(String, PushSubscription)>, RepoError> {
    let page = table.query(Query::new(keys::push_subscriptions(account_id)).limit(MAX_PER_ACCOUNT)).await?;
    page.items
        .into_iter()
        .map(|item| {
            let hash = crate::store::str_attr_of(&item, SK).unwrap_or_default().to_string();
            Ok((hash, from_item(item)?))
        })
        .collect()
}
