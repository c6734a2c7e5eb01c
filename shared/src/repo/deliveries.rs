//! Outbound delivery bookkeeping: which pages of an activity's fan-out were queued, and per status how
//! many inboxes were targeted, reached and given up on.

use serde::Serialize;

use crate::repo::{keys, RepoError};
use crate::store::{num_attr_of, Table, Update, Value, TTL};

/// Fan-out marks live long enough to cover SQS redeliveries and retries.
const MARK_SECS: i64 = 3 * 24 * 3600;

/// Whether a page of an activity's fan-out was queued completely already (a redelivered
/// fan-out message then queues nothing).
pub async fn page_queued(table: &dyn Table, activity_id: &str, page: &str) -> Result<bool, RepoError> {
    Ok(table.get(&keys::fanned_out(activity_id, page)).await?.is_some())
}

/// Marks a page of an activity's fan-out as queued: one write per page of up to 500 followers,
/// not one per inbox. A fan-out that fails half way is retried whole, and the inboxes it had
/// queued get the activity twice, which receivers ignore (activities are idempotent by id).
pub async fn mark_page_queued(table: &dyn Table, activity_id: &str, page: &str) -> Result<(), RepoError> {
    let mut item = keys::fanned_out(activity_id, page).to_item();
    item.insert(TTL.into(), Value::N((crate::store::table::now_secs() + MARK_SECS).to_string()));
    table.put(item, None).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
}

/// Counts `n` more inboxes a status's activity was queued for (once per fan-out page).
pub async fn record_targeted(table: &dyn Table, status_id: &str, n: i64) -> Result<(), RepoError> {
    table.update(&keys::delivery_report(status_id), Update::default().add("targeted", n), None).await?;
    Ok(())
}

/// Delivery outcomes of one consumer invocation, written as one update per status when the
/// batch is done rather than one per delivery (a post to 150 inboxes would otherwise cost 150
/// writes for its report alone).
#[derive(Debug, Default)]
pub struct Tally(std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>);

impl Tally {
    pub fn add(&self, status_id: &str, outcome: Outcome) {
        // A poisoned lock only means another message's handler panicked; its counts are still good.
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = counts.entry(status_id.to_string()).or_default();
        match outcome {
            Outcome::Delivered => entry.0 += 1,
            Outcome::Failed => entry.1 += 1,
        }
    }

    /// Writes the tallies. A failure loses only report counts (the deliveries are done), so it
    /// is logged, not retried.
    pub async fn flush(&self, table: &dyn Table) {
        let counts = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        for (status_id, (delivered, failed)) in counts {
            let update = Update::default().add("delivered", delivered).add("failed", failed);
            if let Err(e) = table.update(&keys::delivery_report(&status_id), update, None).await {
                tracing::error!(status_id, delivered, failed, error = %e, "delivery report not updated");
            }
        }
    }
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
