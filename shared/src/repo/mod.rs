//! Domain operations over the Table port, written once for every backend.

pub mod accounts;
pub mod actors;
pub mod cards;
pub mod conversations;
pub mod deliveries;
pub mod domain_blocks;
pub mod domains;
pub mod filters;
pub mod follows;
pub mod keys;
pub mod lists;
pub mod logins;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod polls;
pub mod push;
pub mod relations;
pub mod scheduled;
pub mod site;
pub mod statuses;
pub mod streaming;
pub mod tags;
pub mod timelines;
pub mod visibility;

use thiserror::Error;

use crate::store::{Item, Key, StoreError, PK_SK_ATTRS};

/// How fresh a read for rendering must be. `Eventual` costs half the read units and may miss a
/// write of the last second: for pages of what an index already lists (timelines). `Strong`
/// where a write just made must be read back (a status opened right after posting it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Strong,
    Eventual,
}

pub(crate) async fn batch_get(
    table: &dyn crate::store::Table,
    keys: &[Key],
    freshness: Freshness,
) -> Result<Vec<Option<Item>>, StoreError> {
    match freshness {
        Freshness::Strong => table.batch_get(keys).await,
        Freshness::Eventual => table.batch_get_eventually(keys).await,
    }
}

/// Replaces the string-list attribute `field` of an item, `current` → `next`, under a condition
/// on its previous value, so two changes at once cannot lose one (an empty list is no attribute).
pub(crate) fn replace_list(
    field: &str,
    current: &[String],
    next: &[String],
) -> (crate::store::Cond, crate::store::Update) {
    use crate::store::{Cond, Update, Value};
    let list = |l: &[String]| Value::L(l.iter().cloned().map(Value::S).collect());
    let guard = if current.is_empty() {
        Cond::And(vec![Cond::ItemExists, Cond::AttrNotExists(field.into())])
    } else {
        Cond::AttrEq(field.into(), list(current))
    };
    let update =
        if next.is_empty() { Update::default().remove(field) } else { Update::default().set(field, list(next)) };
    (guard, update)
}

/// Which of `ids` have an item at `key_of(id)` (marker items: favourites, thread mutes, marks):
/// one batch get per 100 distinct ids.
pub(crate) async fn present<'a>(
    table: &dyn crate::store::Table,
    ids: impl IntoIterator<Item = &'a String>,
    key_of: impl Fn(&str) -> Key,
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<&String> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
    let mut out = std::collections::HashSet::new();
    for chunk in unique.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let keys: Vec<Key> = chunk.iter().map(|id| key_of(id)).collect();
        for (id, found) in chunk.iter().zip(table.batch_get(&keys).await?) {
            if found.is_some() {
                out.insert((*id).clone());
            }
        }
    }
    Ok(out)
}

/// Every item of a query, page after page: for lists that are small by nature (local accounts,
/// the local followers of one remote account) but must not be cut at one page.
pub async fn query_all(table: &dyn crate::store::Table, query: crate::store::Query) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(query.clone().limit(1000).cursor(cursor)).await?;
        items.extend(page.items);
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok(items);
        }
    }
}

#[derive(Debug, Error)]
pub enum RepoError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stored record: the model's fields plus its key.
pub(crate) fn to_item<T: serde::Serialize>(key: &Key, value: &T) -> Result<Item, RepoError> {
    let mut item: Item =
        serde_dynamo::to_item(value).map_err(|e| RepoError::Invalid(format!("cannot store record: {e}")))?;
    item.extend(key.to_item().into_inner());
    Ok(item)
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(mut item: Item) -> Result<T, RepoError> {
    for attr in PK_SK_ATTRS {
        item.remove(attr);
    }
    serde_dynamo::from_item(item)
        .map_err(|e| RepoError::Store(StoreError::Corrupt(format!("stored record does not decode: {e}"))))
}
