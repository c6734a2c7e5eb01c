//! Votes on polls. A poll lives in its status's item; each voter's choices are an item in the
//! status's partition, written in one transaction with the counts it adds (a local poll's), so
//! the counts never disagree with the votes. The error messages are Mastodon's (422).

use std::collections::HashMap;

use crate::model::{Poll, PollTally, Status};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{str_attr_of, Cond, Key, Query, SkRange, StoreError, Table, TxOp, Update, Value, SK};

pub const ALREADY_VOTED: &str = "You have already voted on this poll";
pub const ENDED: &str = "The poll has already ended";
pub const NO_SUCH_OPTION: &str = "The chosen vote option does not exist";
pub const SELF_VOTE: &str = "You cannot vote in your own polls";

/// One account's votes on one poll.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VoteRecord {
    pub account_id: String,
    pub choices: Vec<u32>,
    /// How many choices: what a second vote on a multiple-choice poll conditions on.
    pub n: u32,
}

/// Records `voter`'s `choices` on `status`'s poll and returns all of the voter's choices.
/// A single-choice poll takes one vote per account; a multiple-choice one takes more votes, each
/// for options not chosen before. Not on an ended poll, nor on one's own.
pub async fn vote(
    table: &dyn Table,
    status: &Status,
    voter_id: &str,
    local: bool,
    choices: &[u32],
    now_ms: i64,
) -> Result<Vec<u32>, RepoError> {
    let poll = status.poll.as_ref().ok_or_else(|| RepoError::NotFound("poll".into()))?;
    if poll.expired_at(now_ms) {
        return Err(RepoError::Invalid(ENDED.into()));
    }
    if status.account_id == voter_id {
        return Err(RepoError::Invalid(SELF_VOTE.into()));
    }
    let mut new: Vec<u32> = Vec::new();
    for &c in choices {
        if c as usize >= poll.options.len() {
            return Err(RepoError::Invalid(NO_SUCH_OPTION.into()));
        }
        if !new.contains(&c) {
            new.push(c);
        }
    }
    if new.is_empty() {
        return Err(RepoError::Invalid(NO_SUCH_OPTION.into()));
    }
    let key = keys::poll_vote(&status.id, local, voter_id);
    let earlier: Option<VoteRecord> = table.get(&key).await?.map(from_item).transpose()?;
    let before = earlier.as_ref().map(|v| v.choices.clone()).unwrap_or_default();
    if (!poll.multiple && (!before.is_empty() || new.len() > 1)) || new.iter().any(|c| before.contains(c)) {
        return Err(RepoError::Invalid(ALREADY_VOTED.into()));
    }
    let all: Vec<u32> = before.iter().chain(&new).copied().collect();
    let record = VoteRecord { account_id: voter_id.to_string(), choices: all.clone(), n: all.len() as u32 };
    let cond = match &earlier {
        None => Cond::ItemNotExists,
        Some(v) => Cond::AttrEq("n".into(), Value::N(v.n.to_string())),
    };
    let mut ops = vec![TxOp::Put { item: to_item(&key, &record)?, cond: Some(cond) }];
    // The counts bumped in the same transaction. A remote poll is counted by its server; its
    // local tallies hold this server's votes since its last results arrived (shown added to
    // them, reset by `refresh_remote`), so a voter sees their vote counted at once, as on
    // Mastodon. Options past the fourth of a remote poll have no local tally.
    let remote = status.remote_uri.is_some();
    let mut up = Update::default();
    for &c in &new {
        match PollTally::attr(c as usize) {
            Some(attr) => up = up.add(attr, 1),
            None if remote => {}
            None => return Err(RepoError::Invalid(NO_SUCH_OPTION.into())),
        }
    }
    up = up.add("poll_votes_count", new.len() as i64);
    if earlier.is_none() {
        up = up.add("poll_voters_count", 1);
    }
    ops.push(TxOp::Update { key: keys::status(&status.id), update: up, cond: Some(Cond::ItemExists) });
    match table.transact(ops).await {
        Ok(()) => Ok(all),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Err(RepoError::Invalid(ALREADY_VOTED.into())),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("status".into())),
        Err(e) => Err(e.into()),
    }
}

/// The viewer's choices on each of these polls (status ids): one batch get per 100.
pub async fn own_votes(
    table: &dyn Table,
    viewer: &str,
    status_ids: &[String],
) -> Result<HashMap<String, Vec<u32>>, RepoError> {
    let mut out = HashMap::new();
    for chunk in status_ids.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let ks: Vec<Key> = chunk.iter().map(|id| keys::poll_vote(id, true, viewer)).collect();
        for (id, found) in chunk.iter().zip(table.batch_get(&ks).await?) {
            if let Some(item) = found {
                out.insert(id.clone(), from_item::<VoteRecord>(item)?.choices);
            }
        }
    }
    Ok(out)
}

/// Voters of a poll, local or remote (account ids): one query per 1,000.
pub async fn voters(table: &dyn Table, status_id: &str, local: bool) -> Result<Vec<String>, RepoError> {
    let prefix = keys::poll_voters_prefix(local);
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = Query::new(keys::status_partition(status_id))
            .range(SkRange::Prefix(prefix.into()))
            .limit(1000)
            .cursor(cursor);
        let page = table.query(q).await?;
        out.extend(page.items.iter().filter_map(|i| str_attr_of(i, SK)?.strip_prefix(prefix)).map(str::to_string));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Removes every vote on a poll (its options changed, or its status is gone).
pub async fn clear_votes(table: &dyn Table, status_id: &str) -> Result<(), RepoError> {
    for local in [true, false] {
        let ks: Vec<Key> =
            voters(table, status_id, local).await?.iter().map(|id| keys::poll_vote(status_id, local, id)).collect();
        futures::future::try_join_all(ks.iter().map(|k| table.delete(k, None))).await?;
    }
    Ok(())
}

/// Debounces the Update that carries new results to other servers: true for the first vote
/// since the last Update (its caller queues the delayed Update), false while one is pending.
pub async fn claim_update(table: &dyn Table, status_id: &str) -> Result<bool, RepoError> {
    let up = Update::default().set(UPDATE_PENDING, Value::N(crate::clock::now_ms().to_string()));
    let cond = Cond::And(vec![Cond::ItemExists, Cond::AttrNotExists(UPDATE_PENDING.into())]);
    match table.update(&keys::status(status_id), up, Some(cond)).await {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Clears the pending mark before the Update is built, so a vote counted after the status is read
/// queues another.
pub async fn release_update(table: &dyn Table, status_id: &str) -> Result<(), RepoError> {
    match table.update(&keys::status(status_id), Update::default().remove(UPDATE_PENDING), Some(Cond::ItemExists)).await
    {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

const UPDATE_PENDING: &str = "poll_update_pending";

/// A poll's new state: a remote poll's new counts (an Update of its Question that changed nothing else).
pub async fn refresh_remote(table: &dyn Table, status: &Status, poll: &Poll) -> Result<(), RepoError> {
    let value = serde_dynamo::to_attribute_value(poll).map_err(|e| RepoError::Invalid(e.to_string()))?;
    let mut update = Update::default().set("poll", value);
    if status.remote_uri.is_some() {
        // A remote poll's new results include the local votes counted until now (see `vote`).
        for attr in (0..4).filter_map(PollTally::attr).chain(["poll_votes_count", "poll_voters_count"]) {
            update = update.remove(attr);
        }
    }
    match table.update(&keys::status(&status.id), update, Some(Cond::ItemExists)).await {
        Ok(_) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Per-option counts and the voter count of a status's poll, local or remote.
pub fn counts(s: &Status) -> Option<(Vec<i64>, i64, Option<i64>)> {
    let poll = s.poll.as_ref()?;
    if s.remote_uri.is_some() {
        let votes: Vec<i64> = (0..poll.options.len())
            .map(|i| poll.remote_counts.get(i).copied().unwrap_or(0) + s.poll_tally.votes(i))
            .collect();
        let total = votes.iter().sum();
        let voters = poll.remote_voters.map(|v| v + s.poll_tally.poll_voters_count);
        return Some((votes, total, voters));
    }
    let votes = (0..poll.options.len()).map(|i| s.poll_tally.votes(i)).collect();
    Some((votes, s.poll_tally.poll_votes_count, Some(s.poll_tally.poll_voters_count)))
}

/// How long after a vote the new results go out (Mastodon waits three minutes too): the votes
/// of that while share one Update.
pub const UPDATE_DELAY_MS: i64 = 3 * 60 * 1000;

/// After a vote on a local poll: the first vote since the last Update queues the next one.
pub async fn queue_update(
    table: &dyn Table,
    queue: &dyn crate::store::Queue,
    status_id: &str,
) -> Result<(), RepoError> {
    if claim_update(table, status_id).await? {
        let due_at = crate::clock::now_ms() + UPDATE_DELAY_MS;
        let work = crate::events::OutboxEvent::PollUpdate(crate::events::PollWork {
            status_id: status_id.to_string(),
            due_at,
            voter: None,
        });
        let message = work.message_due(due_at).map_err(|e| RepoError::Invalid(e.to_string()))?;
        if let Err(e) = queue.send(message).await {
            // Let the next vote try again.
            release_update(table, status_id).await?;
            return Err(e.into());
        }
    }
    Ok(())
}
