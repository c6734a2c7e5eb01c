//! Outbound delivery bookkeeping: which pages of an activity's fan-out were queued, and per status how
//! many inboxes were targeted, reached and given up on.

use serde::Serialize;

use crate::repo::{keys, RepoError};
use crate::store::{num_attr_of, str_attr_of, Table, TxOp, Update, Value, TTL};

/// Fan-out marks live long enough to cover SQS redeliveries and retries.
const MARK_SECS: i64 = 3 * 24 * 3600;

/// The mark name of the fan-out page that starts at `cursor` (`first` for the first page): a
/// digest, since a cursor can be longer than a sort key may be.
pub fn page_mark(cursor: Option<&str>) -> String {
    match cursor {
        None => "first".into(),
        Some(c) => crate::crypto::sha256_hex(c),
    }
}

/// A fan-out page that was queued completely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageDone {
    /// The cursor of the page after it, if any.
    pub next: Option<String>,
    /// Whether the message for that page was queued.
    pub continued: bool,
}

/// Whether a page of an activity's fan-out was queued completely already (a redelivered
/// fan-out message then queues nothing), and whether it was continued.
pub async fn page_state(table: &dyn Table, activity_id: &str, mark: &str) -> Result<Option<PageDone>, RepoError> {
    Ok(table.get(&keys::fanned_out(activity_id, mark)).await?.map(|item| PageDone {
        next: str_attr_of(&item, "next").map(str::to_string),
        continued: item.get("continued").is_some(),
    }))
}

/// Marks a page of an activity's fan-out as queued, noting the next page's cursor, and counts
/// the inboxes it targeted in the status's report, in one transaction: one write set per page
/// of up to 500 inboxes, not one per inbox. A fan-out that fails half way is retried whole, and
/// the inboxes it had queued get the activity twice, which receivers ignore (activities are
/// idempotent by id).
pub async fn mark_page_queued(
    table: &dyn Table,
    activity_id: &str,
    mark: &str,
    next: Option<&str>,
    targeted: Option<(&str, i64)>,
) -> Result<(), RepoError> {
    let mut item = keys::fanned_out(activity_id, mark).to_item();
    item.insert(TTL.into(), Value::N((crate::store::table::now_secs() + MARK_SECS).to_string()));
    if let Some(next) = next {
        item.insert("next".into(), Value::S(next.to_string()));
    }
    match targeted {
        Some((status_id, n)) => {
            let count = TxOp::Update {
                key: keys::delivery_report(status_id),
                update: Update::default().add("targeted", n),
                cond: None,
            };
            table.transact(vec![TxOp::Put { item, cond: None }, count]).await?
        }
        None => table.put(item, None).await?,
    }
    Ok(())
}

/// Notes that the message for the page after this one was queued.
pub async fn mark_page_continued(table: &dyn Table, activity_id: &str, mark: &str) -> Result<(), RepoError> {
    let update = Update::default().set("continued", Value::Bool(true));
    table.update(&keys::fanned_out(activity_id, mark), update, None).await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Failed,
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
