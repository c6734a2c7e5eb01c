//! Scheduled statuses of local accounts. Each is one item; its media stop expiring while it
//! waits. Publishing is one transaction that writes the status and marks the scheduled item with
//! the status's id, conditioned on the time it was scheduled for: a redelivered message finds the
//! mark (and only re-sends the fan-out), a rescheduled or deleted one finds no match.

use crate::model::{ScheduledStatus, Status};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{Cond, Query, StoreError, Table, TxOp, Update, Value, TTL};

/// Mastodon's limits: at least five minutes ahead; at most 300 scheduled per account and 25 on
/// one day (UTC).
pub const MIN_AHEAD_MS: i64 = 5 * 60 * 1000;
pub const MAX_PER_ACCOUNT: usize = 300;
pub const MAX_PER_DAY: usize = 25;

/// Why one more status may not be scheduled at `at_ms` beside `waiting` (the account's others,
/// the one being moved left out), in Mastodon's words; `None` when it may.
pub fn over_limit(waiting: &[ScheduledStatus], at_ms: i64) -> Option<String> {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    if waiting.len() >= MAX_PER_ACCOUNT {
        return Some(format!("Validation failed: You have exceeded the limit of {MAX_PER_ACCOUNT} scheduled posts"));
    }
    let day = at_ms.div_euclid(DAY_MS);
    if waiting.iter().filter(|s| s.scheduled_at.div_euclid(DAY_MS) == day).count() >= MAX_PER_DAY {
        return Some(format!(
            "Validation failed: You have exceeded the limit of {MAX_PER_DAY} scheduled posts for today"
        ));
    }
    None
}

pub async fn create(table: &dyn Table, s: &ScheduledStatus) -> Result<(), RepoError> {
    let mut ops = vec![TxOp::Put {
        item: to_item(&keys::scheduled_status(&s.account_id, &s.id), s)?,
        cond: Some(Cond::ItemNotExists),
    }];
    // The uploads stop expiring and are claimed by this scheduled status.
    for m in &s.prepared.media {
        ops.push(TxOp::Update {
            key: keys::media(&m.id),
            update: Update::default().set("scheduled_id", Value::S(s.id.clone())).remove(TTL),
            cond: Some(Cond::And(vec![
                Cond::AttrEq("account_id".into(), Value::S(s.account_id.clone())),
                Cond::AttrNotExists("status_id".into()),
                Cond::AttrNotExists("scheduled_id".into()),
            ])),
        });
    }
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { index: Some(i) }) if i > 0 => {
            Err(RepoError::Invalid("a media attachment is unknown or already used by another status".into()))
        }
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::Conflict("scheduled status id taken".into())),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(table: &dyn Table, account_id: &str, id: &str) -> Result<Option<ScheduledStatus>, RepoError> {
    if !super::statuses::valid_id(id) {
        return Ok(None);
    }
    let found: Option<ScheduledStatus> =
        table.get(&keys::scheduled_status(account_id, id)).await?.map(from_item).transpose()?;
    // Published ones are on their way out.
    Ok(found.filter(|s| s.status_id.is_none()))
}

/// A scheduled status, published or not (the publisher's view).
pub async fn get_any(table: &dyn Table, account_id: &str, id: &str) -> Result<Option<ScheduledStatus>, RepoError> {
    table.get(&keys::scheduled_status(account_id, id)).await?.map(from_item).transpose()
}

/// The account's scheduled statuses, by id (one query; at most `MAX_PER_ACCOUNT` exist).
pub async fn list(table: &dyn Table, account_id: &str) -> Result<Vec<ScheduledStatus>, RepoError> {
    let q = Query::new(keys::scheduled_statuses(account_id)).limit(MAX_PER_ACCOUNT as u32 + 10);
    let page = table.query(q).await?;
    let all: Vec<ScheduledStatus> = page.items.into_iter().map(from_item).collect::<Result<_, _>>()?;
    Ok(all.into_iter().filter(|s| s.status_id.is_none()).collect())
}

/// Moves a scheduled status to `at_ms`; not found once published or deleted.
pub async fn reschedule(table: &dyn Table, s: &ScheduledStatus, at_ms: i64) -> Result<ScheduledStatus, RepoError> {
    let up = Update::default().set("scheduled_at", Value::N(at_ms.to_string()));
    let cond = Cond::And(vec![Cond::ItemExists, Cond::AttrNotExists("status_id".into())]);
    match table.update(&keys::scheduled_status(&s.account_id, &s.id), up, Some(cond)).await {
        Ok(item) => from_item(item),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("scheduled status".into())),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a scheduled status that is not published yet, with its media records (the caller
/// removes the files).
pub async fn delete(table: &dyn Table, s: &ScheduledStatus) -> Result<(), RepoError> {
    let cond = Cond::And(vec![Cond::ItemExists, Cond::AttrNotExists("status_id".into())]);
    let mut ops = vec![TxOp::Delete { key: keys::scheduled_status(&s.account_id, &s.id), cond: Some(cond) }];
    ops.extend(s.prepared.media.iter().map(|m| TxOp::Delete { key: keys::media(&m.id), cond: None }));
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("scheduled status".into())),
        Err(e) => Err(e.into()),
    }
}

/// What `publish` found.
#[derive(Debug)]
pub enum Publishing {
    /// Written now.
    New(Box<Status>),
    /// Written by an earlier receipt of the message: the status (its fan-out may need re-sending).
    Earlier(String),
    /// Deleted, or moved to another time than `scheduled_at`: nothing to do.
    Gone,
}

/// Publishes `s`, scheduled for `scheduled_at`, as `status` (its final id and time set).
pub async fn publish(
    table: &dyn Table,
    account_id: &str,
    id: &str,
    scheduled_at: i64,
    status: Status,
) -> Result<Publishing, RepoError> {
    let key = keys::scheduled_status(account_id, id);
    let current: Option<ScheduledStatus> = table.get(&key).await?.map(from_item).transpose()?;
    let Some(current) = current else { return Ok(Publishing::Gone) };
    if let Some(done) = current.status_id {
        return Ok(Publishing::Earlier(done));
    }
    if current.scheduled_at != scheduled_at {
        return Ok(Publishing::Gone);
    }
    let mark = TxOp::Update {
        key,
        update: Update::default().set("status_id", Value::S(status.id.clone())),
        cond: Some(Cond::And(vec![
            Cond::AttrEq("scheduled_at".into(), Value::N(scheduled_at.to_string())),
            Cond::AttrNotExists("status_id".into()),
        ])),
    };
    let mut ops = vec![mark];
    ops.extend(super::statuses::status_ops(&status)?);
    ops.extend(status.media.iter().map(|m| super::media::attach_op(m, &status.id)));
    match table.transact(ops).await {
        Ok(()) => Ok(Publishing::New(Box::new(status))),
        // Rescheduled, deleted or published meanwhile: read again to tell which.
        Err(StoreError::ConditionFailed { index: Some(0) }) => {
            let again: Option<ScheduledStatus> =
                table.get(&keys::scheduled_status(account_id, id)).await?.map(from_item).transpose()?;
            Ok(match again.and_then(|s| s.status_id) {
                Some(done) => Publishing::Earlier(done),
                None => Publishing::Gone,
            })
        }
        Err(StoreError::ConditionFailed { .. }) => {
            Err(RepoError::NotFound("the author, the parent or a media attachment of a scheduled status".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes a published scheduled status's item.
pub async fn finish(table: &dyn Table, account_id: &str, id: &str) -> Result<(), RepoError> {
    table.delete(&keys::scheduled_status(account_id, id), None).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> ScheduledStatus {
        ScheduledStatus {
            id: ms.to_string(),
            account_id: "a".into(),
            scheduled_at: ms,
            params: serde_json::Value::Null,
            prepared: Status::boost("1".into(), "a".into(), "0".into(), 0),
            poll: None,
            inboxes: Vec::new(),
            status_id: None,
        }
    }

    #[test]
    fn twenty_five_a_utc_day_and_three_hundred_in_all() {
        const DAY: i64 = 24 * 3600 * 1000;
        let day_two = 2 * DAY;
        let full_day: Vec<_> = (0..25).map(|i| at(day_two + i * 60_000)).collect();
        assert!(over_limit(&full_day, day_two + DAY - 1).unwrap().ends_with("25 scheduled posts for today"));
        // The next UTC day and the day before are free.
        assert_eq!(over_limit(&full_day, day_two + DAY), None);
        assert_eq!(over_limit(&full_day, day_two - 1), None);
        assert_eq!(over_limit(&full_day[1..], day_two), None);
        let spread: Vec<_> = (0..300).map(|i| at(i * DAY)).collect();
        assert!(over_limit(&spread, 400 * DAY).unwrap().ends_with("limit of 300 scheduled posts"));
        assert_eq!(over_limit(&spread[1..], 400 * DAY), None);
    }
}
