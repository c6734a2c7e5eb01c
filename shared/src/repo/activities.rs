//! Received activities, remembered by id for a week so a redelivered one has one effect.

use crate::repo::{keys, RepoError};
use crate::store::{Cond, StoreError, Table, Value, TTL};

const REMEMBER_SECS: i64 = 7 * 24 * 3600;

/// True the first time an activity id is seen: one conditional put.
pub async fn first_sight(table: &dyn Table, activity_id: &str) -> Result<bool, RepoError> {
    let mut item = keys::seen_activity(activity_id).to_item();
    item.insert(TTL.into(), Value::N((crate::store::table::now_secs() + REMEMBER_SECS).to_string()));
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Forgets an activity whose hand-off failed, so the sender's retry is not taken for a duplicate.
pub async fn forget(table: &dyn Table, activity_id: &str) -> Result<(), RepoError> {
    table.delete(&keys::seen_activity(activity_id), None).await?;
    Ok(())
}
