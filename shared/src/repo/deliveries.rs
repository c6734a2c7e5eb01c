//! Outbound delivery bookkeeping: which inboxes an activity was queued for, and per status how
//! many inboxes were targeted, reached and given up on.

use serde::Serialize;

use crate::repo::{keys, RepoError};
use crate::store::{num_attr_of, Cond, StoreError, Table, Update, Value, TTL};

/// Fan-out marks live long enough to cover SQS redeliveries and retries.
const MARK_SECS: i64 = 3 * 24 * 3600;

/// True the first time `inbox` is claimed for `activity_id`.
pub async fn claim_inbox(table: &dyn Table, activity_id: &str, inbox: &str) -> Result<bool, RepoError> {
    let mut item = keys::fanned_out(activity_id, inbox).to_item();
    item.insert(TTL.into(), Value::N((crate::store::table::now_secs() + MARK_SECS).to_string()));
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Targeted(i64),
    Delivered,
    Failed,
}

pub async fn record(table: &dyn Table, status_id: &str, outcome: Outcome) -> Result<(), RepoError> {
    let update = match outcome {
        Outcome::Targeted(n) => Update::default().add("targeted", n),
        Outcome::Delivered => Update::default().add("delivered", 1),
        Outcome::Failed => Update::default().add("failed", 1),
    };
    table.update(&keys::delivery_report(status_id), update, None).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub targeted: i64,
    pub delivered: i64,
    pub failed: i64,
    pub pending: i64,
}

pub async fn report(table: &dyn Table, status_id: &str) -> Result<Report, RepoError> {
    let Some(item) = table.get(&keys::delivery_report(status_id)).await? else {
        return Ok(Report::default());
    };
    let n = |name: &str| num_attr_of(&item, name).unwrap_or(0);
    let (targeted, delivered, failed) = (n("targeted"), n("delivered"), n("failed"));
    Ok(Report { targeted, delivered, failed, pending: (targeted - delivered - failed).max(0) })
}
