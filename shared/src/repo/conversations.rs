//! Conversations (direct messages, Mastodon's `/api/v1/conversations`) and thread mutes.
//!
//! A conversation is a thread of direct statuses as one local account sees it, keyed by the
//! thread's root status id (`Status::thread_root`: a reply carries its thread's root, so no
//! walk up the thread is needed). Each participant keeps their own record, so reading or
//! deleting it touches nobody else's. Records are listed through entries sorted by their last
//! status, which move when a newer status arrives; an entry whose record names another last
//! status is stale and skipped.

use std::collections::HashSet;

use crate::model::{Status, Visibility};
use crate::repo::timelines::{self, PageParams};
use crate::repo::{keys, RepoError};
use crate::store::{str_attr_of, Cond, Item, Key, Query, Table, Update, Value, SK};

/// One account's view of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// The thread root's status id: the conversation's id in the API.
    pub id: String,
    pub last_status_id: String,
    pub unread: bool,
    /// The other participants (never the account itself).
    pub account_ids: Vec<String>,
}

fn from_record(item: &Item) -> Option<Conversation> {
    let list = |name: &str| match item.get(name) {
        Some(Value::L(l)) => {
            l.iter().filter_map(|v| if let Value::S(s) = v { Some(s.clone()) } else { None }).collect()
        }
        _ => Vec::new(),
    };
    Some(Conversation {
        id: str_attr_of(item, SK)?.to_string(),
        last_status_id: str_attr_of(item, "last_status_id")?.to_string(),
        unread: matches!(item.get("unread"), Some(Value::Bool(true))),
        account_ids: list("account_ids"),
    })
}

/// Snowflakes compare by length, then digits.
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// Records a direct status in the conversation of each local participant in `locals` (its
/// author, when local, and the local accounts it mentions). Per participant: one read of the
/// record and two or three writes (the entry, the record, and the old entry's removal). Not a
/// transaction: the new entry is written before the record that makes it current, so a list
/// never misses the conversation; a stale entry left by an interruption is skipped on reading.
pub async fn record(table: &dyn Table, status: &Status, locals: &[String]) -> Result<(), RepoError> {
    if status.visibility != Visibility::Direct || status.reblog_of.is_some() {
        return Ok(());
    }
    let root = status.thread_root();
    let everyone: Vec<String> = std::iter::once(status.account_id.clone())
        .chain(status.mentions.iter().map(|m| m.account_id.clone()))
        .collect();
    for local in locals {
        let key = keys::conversation(local, root);
        let current = table.get(&key).await?.as_ref().and_then(from_record);
        let mut others: Vec<String> = current.as_ref().map(|c| c.account_ids.clone()).unwrap_or_default();
        for a in &everyone {
            if a != local && !others.contains(a) {
                others.push(a.clone());
            }
        }
        let is_newest = current.as_ref().is_none_or(|c| newer(&status.id, &c.last_status_id));
        let last = if is_newest {
            status.id.clone()
        } else {
            current.as_ref().map(|c| c.last_status_id.clone()).unwrap_or_default()
        };
        // As in Mastodon: writing in a conversation reads it; anyone else has something new.
        let unread = &status.account_id != local;
        if is_newest {
            let mut entry = keys::conversation_entry(local, &last).to_item();
            entry.insert("conversation".into(), Value::S(root.to_string()));
            table.put(entry, None).await?;
        }
        let mut item = key.to_item();
        item.insert("last_status_id".into(), Value::S(last.clone()));
        item.insert("unread".into(), Value::Bool(unread));
        item.insert("account_ids".into(), Value::L(others.into_iter().map(Value::S).collect()));
        table.put(item, None).await?;
        if let Some(old) = current.filter(|c| c.last_status_id != last) {
            table.delete(&keys::conversation_entry(local, &old.last_status_id), None).await?;
        }
    }
    Ok(())
}

/// A page of an account's conversations, newest last status first (`max_id`/`min_id` are last
/// status ids, as in Mastodon): one query of entries and one batch get of their records.
pub async fn page(table: &dyn Table, account_id: &str, p: &PageParams) -> Result<Vec<Conversation>, RepoError> {
    let entries = timelines::page_items(table, &keys::conversation_entries(account_id), p).await?;
    let wanted: Vec<(String, String)> = entries
        .iter()
        .filter_map(|e| Some((str_attr_of(e, SK)?.to_string(), str_attr_of(e, "conversation")?.to_string())))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = HashSet::new();
    let keys: Vec<Key> = wanted
        .iter()
        .filter(|(_, root)| seen.insert(root.clone()))
        .map(|(_, root)| keys::conversation(account_id, root))
        .collect();
    let mut records = Vec::new();
    for chunk in keys.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        records.extend(table.batch_get(chunk).await?.into_iter().flatten().filter_map(|i| from_record(&i)));
    }
    Ok(wanted
        .iter()
        .filter_map(|(last, root)| records.iter().find(|c| &c.id == root && &c.last_status_id == last).cloned())
        .collect())
}

/// One conversation of an account (one read).
pub async fn get(table: &dyn Table, account_id: &str, id: &str) -> Result<Option<Conversation>, RepoError> {
    if !crate::repo::statuses::valid_id(id) {
        return Ok(None);
    }
    Ok(table.get(&keys::conversation(account_id, id)).await?.as_ref().and_then(from_record))
}

/// Marks a conversation read; not found when the account has no such conversation.
pub async fn mark_read(table: &dyn Table, account_id: &str, id: &str) -> Result<Conversation, RepoError> {
    if !crate::repo::statuses::valid_id(id) {
        return Err(RepoError::NotFound("conversation".into()));
    }
    let update = Update::default().set("unread", Value::Bool(false));
    match table.update(&keys::conversation(account_id, id), update, Some(Cond::ItemExists)).await {
        Ok(item) => from_record(&item).ok_or_else(|| RepoError::NotFound("conversation".into())),
        Err(crate::store::StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("conversation".into())),
        Err(e) => Err(e.into()),
    }
}

/// Removes a conversation for this account only (its statuses and the others' records stay).
/// A later status in the thread brings it back, as in Mastodon.
pub async fn remove(table: &dyn Table, account_id: &str, id: &str) -> Result<(), RepoError> {
    let Some(c) = get(table, account_id, id).await? else {
        return Err(RepoError::NotFound("conversation".into()));
    };
    table.delete(&keys::conversation(account_id, id), None).await?;
    table.delete(&keys::conversation_entry(account_id, &c.last_status_id), None).await?;
    Ok(())
}

/// Thread mutes (`POST /api/v1/statuses/:id/mute`), by the thread's root id.
pub async fn mute_thread(table: &dyn Table, account_id: &str, root_id: &str, on: bool) -> Result<(), RepoError> {
    let key = keys::thread_mute(account_id, root_id);
    if on {
        table.put(key.to_item(), None).await?;
    } else {
        table.delete(&key, None).await?;
    }
    Ok(())
}

/// Whether the account muted the thread of `status`: the one read a notification costs.
pub async fn thread_muted(table: &dyn Table, account_id: &str, status: &Status) -> Result<bool, RepoError> {
    Ok(table.get(&keys::thread_mute(account_id, status.thread_root())).await?.is_some())
}

/// At most this many thread mutes are read in one query for a page's `muted` flags.
const MUTES_PER_QUERY: u32 = 100;

/// All of an account's muted threads when they fit one query (the usual case: a handful), or
/// `None` when there are more (the caller then reads the roots it needs: `muted_among`).
pub async fn muted_threads(table: &dyn Table, account_id: &str) -> Result<Option<HashSet<String>>, RepoError> {
    let page = table.query(Query::new(keys::thread_mutes(account_id)).limit(MUTES_PER_QUERY)).await?;
    if page.cursor.is_some() {
        return Ok(None);
    }
    Ok(Some(page.items.iter().filter_map(|i| str_attr_of(i, SK)).map(str::to_string).collect()))
}

/// Which of these thread roots the account muted: one batch get per 100.
pub async fn muted_among(table: &dyn Table, account_id: &str, roots: &[String]) -> Result<HashSet<String>, RepoError> {
    Ok(crate::repo::present(table, roots, |r| keys::thread_mute(account_id, r)).await?)
}
