//! Remote domains that keep failing: after deliveries failed on seven distinct days a domain is
//! marked unavailable and fan-out skips it, until a delivery to it succeeds or an activity from it
//! arrives (Mastodon's rule). Only failures write; a success costs one query.

use std::collections::HashSet;

use crate::repo::{keys, RepoError};
use crate::store::{str_attr_of, Query, Table, TxOp, Value, SK, TTL};

/// Failure days are kept this long (they only matter while they add up to seven).
const KEEP_SECS: i64 = 30 * 24 * 3600;
pub const FAILURE_DAYS: usize = 7;

/// `YYYY-MM-DD` of a time in milliseconds.
pub fn day_of(ms: i64) -> String {
    crate::clock::date_only(ms)
}

/// Records a failed delivery on `day`; true when the domain has just become (or already was)
/// unavailable.
pub async fn record_failure(table: &dyn Table, host: &str, day: &str) -> Result<bool, RepoError> {
    let mut item = keys::domain_failure(host, day).to_item();
    item.insert(TTL.into(), Value::N((crate::store::table::now_secs() + KEEP_SECS).to_string()));
    table.put(item, None).await?;
    let days = table.query(Query::new(keys::domain_failures(host)).limit(FAILURE_DAYS as u32)).await?;
    if days.items.len() < FAILURE_DAYS {
        return Ok(false);
    }
    table.put(keys::domain_unavailable(host).to_item(), None).await?;
    Ok(true)
}

/// A delivery succeeded (or the domain spoke to us): forget its failures and the mark.
pub async fn record_success(table: &dyn Table, host: &str) -> Result<(), RepoError> {
    let days = table.query(Query::new(keys::domain_failures(host)).limit(99)).await?;
    if days.items.is_empty() {
        return Ok(());
    }
    let mut ops: Vec<TxOp> = days
        .items
        .iter()
        .filter_map(|i| str_attr_of(i, SK))
        .map(|day| TxOp::Delete { key: keys::domain_failure(host, day), cond: None })
        .collect();
    ops.push(TxOp::Delete { key: keys::domain_unavailable(host), cond: None });
    table.transact(ops).await?;
    Ok(())
}

/// Which of these hosts are marked unavailable: one batch get per 100.
pub async fn unavailable(table: &dyn Table, hosts: &[String]) -> Result<HashSet<String>, RepoError> {
    let mut out = HashSet::new();
    for chunk in hosts.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let keys: Vec<_> = chunk.iter().map(|h| keys::domain_unavailable(h)).collect();
        for (host, item) in chunk.iter().zip(table.batch_get(&keys).await?) {
            if item.is_some() {
                out.insert(host.clone());
            }
        }
    }
    Ok(out)
}

pub async fn is_unavailable(table: &dyn Table, host: &str) -> Result<bool, RepoError> {
    Ok(table.get(&keys::domain_unavailable(host)).await?.is_some())
}
