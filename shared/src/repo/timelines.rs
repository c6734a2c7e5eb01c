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
