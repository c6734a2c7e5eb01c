//! Mastodon-style pagination over any index partition whose sort keys are snowflake ids
//! (`max_id`, `since_id`, `min_id`, `limit`), newest first.

use crate::repo::RepoError;
use crate::store::{str_attr_of, Item, Query, SkRange, Table, SK};

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 40;

#[derive(Debug, Clone, Default)]
pub struct PageParams {
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: Option<u32>,
}

impl PageParams {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }
}

/// Ids in the partition, newest first, within the page the parameters describe. One query in
/// the usual case; more only when a page straddles the 1 MB limit.
pub async fn page_ids(table: &dyn Table, pk: &str, p: &PageParams) -> Result<Vec<String>, RepoError> {
    let items = page_items(table, pk, p).await?;
    Ok(items.iter().filter_map(|i| str_attr_of(i, SK)).map(str::to_string).collect())
}

/// The items of that page themselves, for partitions whose items are the records (not pointers
/// to them): no second read of what the query already returned.
pub async fn page_items(table: &dyn Table, pk: &str, p: &PageParams) -> Result<Vec<Item>, RepoError> {
    let limit = p.limit();
    let ascending = p.min_id.is_some();
    let lower = p.min_id.clone().or_else(|| p.since_id.clone());
    let upper = p.max_id.clone();
    let range = match (&lower, &upper) {
        (Some(lo), Some(hi)) => SkRange::Between(lo.clone(), hi.clone()),
        (Some(lo), None) => SkRange::Gt(lo.clone()),
        (None, Some(hi)) => SkRange::Lt(hi.clone()),
        (None, None) => SkRange::All,
    };
    if let (Some(lo), Some(hi)) = (&lower, &upper) {
        if lo >= hi {
            return Ok(Vec::new());
        }
    }
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let mut q = Query::new(pk).range(range.clone()).limit(limit + 2).cursor(cursor);
        if !ascending {
            q = q.backward();
        }
        let page = table.query(q).await?;
        for item in page.items {
            let Some(id) = str_attr_of(&item, SK) else {
                continue;
            };
            // Between is inclusive; the Mastodon bounds are not.
            if Some(id) == lower.as_deref() || Some(id) == upper.as_deref() {
                continue;
            }
            items.push(item);
        }
        cursor = page.cursor;
        if items.len() >= limit as usize || cursor.is_none() {
            break;
        }
    }
    items.truncate(limit as usize);
    if ascending {
        items.reverse();
    }
    Ok(items)
}

/// About one home insert in this many trims that timeline. Which inserts do is decided by a hash
/// of (account, status id), so no counter has to be written on every insert.
pub const TRIM_EVERY: u64 = 50;

/// At most this many entries are deleted by one trim (a burst beyond it is caught by the next).
pub const MAX_TRIM: u32 = 500;

/// Whether inserting `status_id` into `account_id`'s home timeline trims it (FNV-1a, stable
/// across processes and builds).
pub fn trim_due(account_id: &str, status_id: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account_id.bytes().chain([b'#']).chain(status_id.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h.is_multiple_of(TRIM_EVERY)
}

/// Deletes the entries of a home timeline beyond its newest `cap` (at most `MAX_TRIM` of them);
/// returns how many went. Reads the newest `cap` keys to find the boundary (one query: 800
/// entries of ~60 bytes fit one page), then the older ones (one query), and deletes each (plain
/// deletes: a transaction would bill every item twice). The statuses stay.
pub async fn trim_home(table: &dyn Table, account_id: &str, cap: u32) -> Result<usize, RepoError> {
    let pk = crate::repo::keys::home(account_id);
    let mut seen = 0u32;
    let mut boundary = None;
    let mut cursor = None;
    while seen < cap {
        let page = table.query(Query::new(pk.clone()).backward().limit(cap - seen).cursor(cursor)).await?;
        seen += page.items.len() as u32;
        if let Some(sk) = page.items.last().and_then(|i| str_attr_of(i, SK)) {
            boundary = Some(sk.to_string());
        }
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    let Some(boundary) = boundary.filter(|_| seen >= cap) else {
        return Ok(0);
    };
    let older = table.query(Query::new(pk.clone()).range(SkRange::Lt(boundary)).backward().limit(MAX_TRIM)).await?;
    let keys: Vec<crate::store::Key> = older
        .items
        .iter()
        .filter_map(|i| str_attr_of(i, SK))
        .map(|sk| crate::store::Key::new(pk.clone(), sk))
        .collect();
    for chunk in keys.chunks(16) {
        futures::future::try_join_all(chunk.iter().map(|k| table.delete(k, None))).await?;
    }
    Ok(keys.len())
}
