//! Notifications of local accounts, newest last in their partition.

use crate::model::Notification;
use crate::repo::timelines::{page_items, PageParams};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Item, Query, Table, TxOp, SK};

pub fn new(kind: &str, from_account_id: &str, status_id: Option<&str>) -> Notification {
    Notification {
        id: crate::ids::snowflake(),
        kind: kind.into(),
        from_account_id: from_account_id.into(),
        status_id: status_id.map(str::to_string),
        created_at: crate::clock::now_ms(),
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
