//! Remote domains that keep failing: after deliveries failed on seven distinct days a domain is
//! marked unavailable and fan-out skips it, until a delivery to it succeeds or an activity from it
//! arrives (Mastodon's rule). A domain that answered 429 with Retry-After is marked as waiting
//! until then (the same item with `until`), so deliveries queued after it wait instead of asking. Only failures write; a success costs one query, and none while
//! this process saw the domain without failures in the last ten minutes (every inbound activity
//! and every delivery reports a success, so the query would otherwise be paid for each).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::repo::{keys, RepoError};
use crate::store::{str_attr_of, Query, Table, TxOp, Value, SK, TTL};

/// Failure days are kept this long (they only matter while they add up to seven).
const KEEP_SECS: i64 = 30 * 24 * 3600;
pub const FAILURE_DAYS: usize = 7;

/// How long a domain seen without failures is taken to still have none, in this process.
const CLEAR_FOR_MS: i64 = 10 * 60 * 1000;

/// Domains this process found without failure records, and until when that is trusted.
fn clear() -> &'static Mutex<HashMap<String, i64>> {
    static CLEAR: OnceLock<Mutex<HashMap<String, i64>>> = OnceLock::new();
    CLEAR.get_or_init(Default::default)
}

fn known_clear(host: &str) -> bool {
    let now = crate::clock::now_ms();
    clear().lock().map(|c| c.get(host).is_some_and(|until| *until > now)).unwrap_or(false)
}

fn set_clear(host: &str, is_clear: bool) {
    if let Ok(mut c) = clear().lock() {
        if is_clear {
            c.insert(host.to_string(), crate::clock::now_ms() + CLEAR_FOR_MS);
        } else {
            c.remove(host);
        }
    }
}

/// `YYYY-MM-DD` of a time in milliseconds.
pub fn day_of(ms: i64) -> String {
    crate::clock::date_only(ms)
}

/// Records a failed delivery on `day`; true when the domain has just become (or already was)
/// unavailable.
pub async fn record_failure(table: &dyn Table, host: &str, day: &str) -> Result<bool, RepoError> {
    set_clear(host, false);
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
    if known_clear(host) {
        return Ok(());
    }
    let days = table.query(Query::new(keys::domain_failures(host)).limit(99)).await?;
    if days.items.is_empty() {
        set_clear(host, true);
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
    set_clear(host, true);
    Ok(())
}

/// What the table says of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostState {
    Clear,
    /// Failed on seven days: skipped.
    Unavailable,
    /// Asked us (429, Retry-After) not to send before this time (ms).
    WaitUntil(i64),
}

fn state_of(item: Option<&crate::store::Item>) -> HostState {
    match item {
        None => HostState::Clear,
        Some(i) => match crate::store::num_attr_of(i, "until") {
            Some(until) if until > crate::clock::now_ms() => HostState::WaitUntil(until),
            Some(_) => HostState::Clear,
            None => HostState::Unavailable,
        },
    }
}

/// The state of each of these hosts that is not clear: one batch get per 100.
pub async fn states(table: &dyn Table, hosts: &[String]) -> Result<HashMap<String, HostState>, RepoError> {
    let mut out = HashMap::new();
    for chunk in hosts.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let keys: Vec<_> = chunk.iter().map(|h| keys::domain_unavailable(h)).collect();
        // Eventually consistent: a mark set a second ago costs at most one more try.
        for (host, item) in chunk.iter().zip(table.batch_get_eventually(&keys).await?) {
            let state = state_of(item.as_ref());
            if state != HostState::Clear {
                out.insert(host.clone(), state);
            }
        }
    }
    Ok(out)
}

pub async fn state(table: &dyn Table, host: &str) -> Result<HostState, RepoError> {
    Ok(state_of(table.get(&keys::domain_unavailable(host)).await?.as_ref()))
}

pub async fn is_unavailable(table: &dyn Table, host: &str) -> Result<bool, RepoError> {
    Ok(state(table, host).await? == HostState::Unavailable)
}

/// Records that `host` asked not to be sent anything before `until_ms` (a 429's Retry-After).
/// One write; the mark expires on its own.
pub async fn set_wait(table: &dyn Table, host: &str, until_ms: i64) -> Result<(), RepoError> {
    set_clear(host, false);
    let mut item = keys::domain_unavailable(host).to_item();
    item.insert("until".into(), Value::N(until_ms.to_string()));
    item.insert(TTL.into(), Value::N((until_ms / 1000 + 3600).to_string()));
    table.put(item, None).await?;
    Ok(())
}
