//! Statuses of local accounts: one transaction writes the status, its index entries and the
//! author's counters, so a reader never sees half a post.

use std::collections::HashSet;

use crate::model::{Status, Visibility};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{str_attr_of, Cond, Item, Key, StoreError, Table, TxOp, Update, Value, TTL};

/// How long an `Idempotency-Key` is remembered (Mastodon: one hour).
const IDEMPOTENCY_SECS: i64 = 3600;

fn index_item(key: Key, status_id: &str) -> Item {
    let mut item = key.to_item();
    item.insert("status_id".into(), Value::S(status_id.to_string()));
    item
}

fn account_item(key: Key, account_id: &str) -> Item {
    let mut item = key.to_item();
    item.insert("account_id".into(), Value::S(account_id.to_string()));
    item
}

/// The index entries a status appears under.
fn index_keys(s: &Status) -> Vec<Key> {
    let mut keys = vec![keys::account_status(&s.account_id, &s.id), keys::home_entry(&s.account_id, &s.id)];
    if s.visibility == Visibility::Public {
        keys.push(keys::public_entry(&s.id));
        // Bounded so a post full of hashtags stays within one transaction (100 items).
        keys.extend(s.tags.iter().take(20).map(|t| keys::tag_entry(t, &s.id)));
    }
    if let Some(parent) = &s.in_reply_to_id {
        keys.push(keys::reply(parent, &s.id));
    }
    keys
}

/// What `create` did.
#[derive(Debug)]
pub enum Created {
    /// Written now.
    New(Status),
    /// The Idempotency-Key was used within the hour: the status written then.
    Earlier(Status),
}

/// Writes a new status in one transaction. Should its id clash with another process's (the
/// conditional put says so), it takes a new id and tries again.
pub async fn create(
    table: &dyn Table,
    mut status: Status,
    idempotency_key: Option<&str>,
) -> Result<Created, RepoError> {
    for _ in 0..3 {
        match try_create(table, &status, idempotency_key).await {
            Err(RepoError::Conflict(m)) if m == ID_TAKEN => status.id = crate::ids::snowflake(),
            Ok(earlier) if earlier.id != status.id => return Ok(Created::Earlier(earlier)),
            Ok(_) => return Ok(Created::New(status)),
            Err(e) => return Err(e),
        }
    }
    Err(RepoError::Conflict("no free status id after three tries".into()))
}

const ID_TAKEN: &str = "status id taken";

async fn try_create(table: &dyn Table, status: &Status, idempotency_key: Option<&str>) -> Result<Status, RepoError> {
    let idem_key = idempotency_key.map(|k| keys::idempotency(&status.account_id, &super::oauth::sha256_hex(k)));
    let mut ops = Vec::new();
    if let Some(key) = &idem_key {
        let mut item = index_item(key.clone(), &status.id);
        item.insert(TTL.into(), Value::N((crate::store::table::now_secs() + IDEMPOTENCY_SECS).to_string()));
        ops.push(TxOp::Put { item, cond: Some(Cond::ItemNotExists) });
    }
    let status_index = ops.len();
    ops.push(TxOp::Put { item: to_item(&keys::status(&status.id), &status)?, cond: Some(Cond::ItemNotExists) });
    for key in index_keys(status) {
        ops.push(TxOp::Put { item: index_item(key, &status.id), cond: None });
    }
    ops.push(TxOp::Update {
        key: keys::account(&status.account_id),
        update: Update::default()
            .add("statuses_count", 1)
            .set("last_status_at", Value::N(status.created_at.to_string())),
        cond: Some(Cond::ItemExists),
    });
    if let Some(parent) = &status.in_reply_to_id {
        ops.push(TxOp::Update {
            key: keys::status(parent),
            update: Update::default().add("replies_count", 1),
            cond: Some(Cond::ItemExists),
        });
    }
    let parent_index = ops.len() - 1;
    let media_start = ops.len();
    ops.extend(status.media.iter().map(|m| super::media::attach_op(m, &status.id)));
    match table.transact(ops).await {
        Ok(()) => Ok(status.clone()),
        Err(StoreError::ConditionFailed { index: Some(i) }) if i >= media_start => {
            Err(RepoError::Invalid("a media attachment is unknown or already used by another status".into()))
        }
        Err(StoreError::ConditionFailed { index: Some(0) }) if idem_key.is_some() => {
            let earlier = match &idem_key {
                Some(key) => table.get(key).await?.and_then(|i| str_attr_of(&i, "status_id").map(str::to_string)),
                None => None,
            };
            match earlier {
                Some(id) => get(table, &id).await?.ok_or_else(|| RepoError::NotFound("status".into())),
                None => Err(RepoError::Conflict("the same Idempotency-Key is being used by another request".into())),
            }
        }
        Err(StoreError::ConditionFailed { index: Some(i) }) if status.in_reply_to_id.is_some() && i == parent_index => {
            Err(RepoError::NotFound("the status replied to".into()))
        }
        Err(StoreError::ConditionFailed { index: Some(i) }) if i == status_index => {
            Err(RepoError::Conflict(ID_TAKEN.into()))
        }
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("account".into())),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(table: &dyn Table, id: &str) -> Result<Option<Status>, RepoError> {
    if !valid_id(id) {
        return Ok(None);
    }
    table.get(&keys::status(id)).await?.map(from_item).transpose()
}

/// Statuses by id in the given order, skipping missing ones: one batch get per 100.
pub async fn get_many(table: &dyn Table, ids: &[String]) -> Result<Vec<Status>, RepoError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut seen = HashSet::new();
    let unique: Vec<&String> = ids.iter().filter(|id| valid_id(id) && seen.insert(*id)).collect();
    for chunk in unique.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let keys: Vec<Key> = chunk.iter().map(|id| keys::status(id)).collect();
        for item in table.batch_get(&keys).await?.into_iter().flatten() {
            out.push(from_item::<Status>(item)?);
        }
    }
    Ok(out)
}

/// Deletes a status with its index entries and counters, in one transaction.
pub async fn delete(table: &dyn Table, status: &Status) -> Result<(), RepoError> {
    let mut ops = vec![TxOp::Delete { key: keys::status(&status.id), cond: Some(Cond::ItemExists) }];
    if let Some(uri) = &status.remote_uri {
        ops.push(TxOp::Delete { key: keys::status_uri(uri), cond: None });
        ops.push(TxOp::Delete { key: Key::new(PUBLIC_REMOTE, &status.id), cond: None });
    }
    for key in index_keys(status) {
        ops.push(TxOp::Delete { key, cond: None });
    }
    for m in &status.media {
        ops.push(TxOp::Delete { key: keys::media(&m.id), cond: None });
    }
    // Its earlier versions and the author's own markers go with it.
    for v in versions(table, &status.id).await? {
        ops.push(TxOp::Delete { key: keys::status_version(&status.id, v.at), cond: None });
    }
    for key in [
        keys::pin(&status.account_id, &status.id),
        keys::bookmark(&status.account_id, &status.id),
        keys::favourite(&status.account_id, &status.id),
        keys::favourited_by(&status.id, &status.account_id),
    ] {
        ops.push(TxOp::Delete { key, cond: None });
    }
    ops.push(TxOp::Update {
        key: keys::account(&status.account_id),
        update: Update::default().add("statuses_count", -1),
        cond: Some(Cond::ItemExists),
    });
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("status".into())),
        Err(e) => Err(e.into()),
    }
}

/// Favourites a status; favouriting twice is one favourite. The caller renders the result.
pub async fn favourite(table: &dyn Table, account_id: &str, status_id: &str) -> Result<(), RepoError> {
    let ops = vec![
        TxOp::Put {
            item: index_item(keys::favourite(account_id, status_id), status_id),
            cond: Some(Cond::ItemNotExists),
        },
        TxOp::Update {
            key: keys::status(status_id),
            update: Update::default().add("favourites_count", 1),
            cond: Some(Cond::ItemExists),
        },
        TxOp::Put { item: account_item(keys::favourited_by(status_id, account_id), account_id), cond: None },
    ];
    match table.transact(ops).await {
        Ok(()) | Err(StoreError::ConditionFailed { index: Some(0) }) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(RepoError::NotFound("status".into())),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

pub async fn unfavourite(table: &dyn Table, account_id: &str, status_id: &str) -> Result<(), RepoError> {
    let ops = vec![
        TxOp::Delete { key: keys::favourite(account_id, status_id), cond: Some(Cond::ItemExists) },
        TxOp::Update {
            key: keys::status(status_id),
            update: Update::default().add("favourites_count", -1),
            cond: Some(Cond::ItemExists),
        },
        TxOp::Delete { key: keys::favourited_by(status_id, account_id), cond: None },
    ];
    match table.transact(ops).await {
        Ok(()) | Err(StoreError::ConditionFailed { index: Some(0) }) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(RepoError::NotFound("status".into())),
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Which of these statuses the account has favourited: one batch get.
pub async fn favourited(table: &dyn Table, account_id: &str, ids: &[String]) -> Result<HashSet<String>, RepoError> {
    let mut out = HashSet::new();
    let mut seen = HashSet::new();
    let unique: Vec<&String> = ids.iter().filter(|id| seen.insert(*id)).collect();
    for chunk in unique.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let keys: Vec<Key> = chunk.iter().map(|id| keys::favourite(account_id, id)).collect();
        for (id, found) in chunk.iter().zip(table.batch_get(&keys).await?) {
            if found.is_some() {
                out.insert((*id).clone());
            }
        }
    }
    Ok(out)
}

/// Ids are snowflakes: digits only, which also keeps them from shaping keys.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Replies below a status, breadth first, at most `max`: one query per status with replies.
pub async fn descendants(table: &dyn Table, id: &str, max: usize) -> Result<Vec<String>, RepoError> {
    let mut out = Vec::new();
    let mut queue = std::collections::VecDeque::from([id.to_string()]);
    while let Some(parent) = queue.pop_front() {
        let page = table.query(crate::store::Query::new(keys::replies(&parent)).limit(max as u32 + 1)).await?;
        for item in &page.items {
            if let Some(reply) = str_attr_of(item, "status_id") {
                if out.len() >= max {
                    return Ok(out);
                }
                out.push(reply.to_string());
                queue.push_back(reply.to_string());
            }
        }
    }
    Ok(out)
}

/// Accounts that favourited a status, at most `limit`.
pub async fn favourited_by(table: &dyn Table, status_id: &str, limit: u32) -> Result<Vec<String>, RepoError> {
    let page = table.query(crate::store::Query::new(keys::favouriters(status_id)).limit(limit)).await?;
    Ok(page.items.iter().filter_map(|i| str_attr_of(i, "account_id")).map(str::to_string).collect())
}

/// What the viewer has done to a status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub favourited: bool,
    pub bookmarked: bool,
    pub pinned: bool,
}

/// Statuses by id in the given order, each with the viewer's favourite, bookmark and pin: the
/// statuses and the markers come in the same batch get (25 ids per call).
pub async fn get_many_for(
    table: &dyn Table,
    viewer: Option<&str>,
    ids: &[String],
) -> Result<Vec<(Status, Marks)>, RepoError> {
    let mut seen = HashSet::new();
    let unique: Vec<&String> = ids.iter().filter(|id| valid_id(id) && seen.insert(*id)).collect();
    let mut out = Vec::with_capacity(unique.len());
    for chunk in unique.chunks(crate::store::table::MAX_BATCH_GET_KEYS / 4) {
        let mut keys: Vec<Key> = chunk.iter().map(|id| keys::status(id)).collect();
        if let Some(v) = viewer {
            keys.extend(chunk.iter().map(|id| keys::favourite(v, id)));
            keys.extend(chunk.iter().map(|id| keys::bookmark(v, id)));
            keys.extend(chunk.iter().map(|id| keys::pin(v, id)));
        }
        let got = table.batch_get(&keys).await?;
        let n = chunk.len();
        let found = |i: usize| got.get(i).is_some_and(Option::is_some);
        for (i, item) in got.iter().take(n).enumerate() {
            if let Some(item) = item {
                let marks = Marks { favourited: found(n + i), bookmarked: found(2 * n + i), pinned: found(3 * n + i) };
                out.push((from_item::<Status>(item.clone())?, marks));
            }
        }
    }
    Ok(out)
}

/// Bookmarks and pins: a marker item per (account, status); setting twice is setting once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Bookmark,
    Pin,
}

/// Mastodon's limit on pinned statuses.
pub const MAX_PINS: usize = 5;

pub async fn set_mark(
    table: &dyn Table,
    mark: Mark,
    account_id: &str,
    status_id: &str,
    on: bool,
) -> Result<(), RepoError> {
    let key = match mark {
        Mark::Bookmark => keys::bookmark(account_id, status_id),
        Mark::Pin => keys::pin(account_id, status_id),
    };
    if !on {
        table.delete(&key, None).await?;
        return Ok(());
    }
    if mark == Mark::Pin {
        let pinned = table.query(crate::store::Query::new(keys::pins(account_id)).limit(MAX_PINS as u32 + 1)).await?;
        let already = pinned.items.iter().any(|i| str_attr_of(i, crate::store::SK) == Some(status_id));
        if !already && pinned.items.len() >= MAX_PINS {
            return Err(RepoError::Invalid(format!("You can pin at most {MAX_PINS} statuses")));
        }
    }
    // The status must still exist when the marker is written.
    let ops = vec![
        TxOp::Check { key: keys::status(status_id), cond: Cond::ItemExists },
        TxOp::Put { item: index_item(key, status_id), cond: None },
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("status".into())),
        Err(e) => Err(e.into()),
    }
}

/// An earlier version of a status, kept when it is edited.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Version {
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    /// When this version was written.
    pub at: i64,
}

/// The new text of an edit.
pub struct Edit {
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub tags: Vec<String>,
    pub mentions: Vec<crate::model::MentionRef>,
}

/// Edits a status: the previous version is kept in the status's partition, the status and its
/// hashtag entries change, all in one transaction that fails if someone edited in between.
pub async fn edit(table: &dyn Table, current: &Status, e: Edit) -> Result<Status, RepoError> {
    let now = crate::clock::now_ms().max(current.edited_at.unwrap_or(current.created_at) + 1);
    let previous = Version {
        text: current.text.clone(),
        content: current.content.clone(),
        spoiler_text: current.spoiler_text.clone(),
        sensitive: current.sensitive,
        at: current.edited_at.unwrap_or(current.created_at),
    };
    let mut next = current.clone();
    next.text = e.text;
    next.content = e.content;
    next.spoiler_text = e.spoiler_text;
    next.sensitive = e.sensitive;
    next.language = e.language;
    next.tags = e.tags;
    next.mentions = e.mentions;
    next.edited_at = Some(now);
    let guard = match current.edited_at {
        Some(at) => Cond::AttrEq("edited_at".into(), Value::N(at.to_string())),
        None => Cond::And(vec![Cond::ItemExists, Cond::AttrNotExists("edited_at".into())]),
    };
    let mut ops = vec![
        TxOp::Put { item: to_item(&keys::status(&current.id), &next)?, cond: Some(guard) },
        TxOp::Put { item: to_item(&keys::status_version(&current.id, previous.at), &previous)?, cond: None },
    ];
    let old: HashSet<Key> = index_keys(current).into_iter().collect();
    let new: HashSet<Key> = index_keys(&next).into_iter().collect();
    for k in old.difference(&new) {
        ops.push(TxOp::Delete { key: k.clone(), cond: None });
    }
    for k in new.difference(&old) {
        ops.push(TxOp::Put { item: index_item(k.clone(), &current.id), cond: None });
    }
    match table.transact(ops).await {
        Ok(()) => Ok(next),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(RepoError::Conflict("the status was changed at the same time; try again".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Earlier versions of a status, oldest first (the current one is the status itself).
pub async fn versions(table: &dyn Table, status_id: &str) -> Result<Vec<Version>, RepoError> {
    let q = crate::store::Query::new(keys::status_partition(status_id))
        .range(crate::store::SkRange::Prefix("EDIT#".into()))
        .limit(100);
    table.query(q).await?.items.into_iter().map(from_item).collect()
}

/// Every status id in an account's `POSTS#` index (its own posts and boosts), oldest first: one
/// query per page. For the export and the import's check of what is already there.
pub async fn all_ids_of(table: &dyn Table, account_id: &str) -> Result<Vec<String>, RepoError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            table.query(crate::store::Query::new(keys::account_statuses(account_id)).limit(500).cursor(cursor)).await?;
        out.extend(page.items.iter().filter_map(|i| str_attr_of(i, crate::store::SK)).map(str::to_string));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Writes a status restored from an archive exactly as given (id, times, counters), with its
/// index entries, its media records (attached, not expiring) and the author's counters, in one
/// transaction, and without the queue message a new post sends. Returns false when a status with
/// this id is already stored (the caller has checked it is the same one).
pub async fn restore(table: &dyn Table, status: &Status) -> Result<bool, RepoError> {
    let mut ops =
        vec![TxOp::Put { item: to_item(&keys::status(&status.id), status)?, cond: Some(Cond::ItemNotExists) }];
    for key in index_keys(status) {
        ops.push(TxOp::Put { item: index_item(key, &status.id), cond: None });
    }
    for m in &status.media {
        let mut m = m.clone();
        m.status_id = Some(status.id.clone());
        m.ttl = None;
        ops.push(TxOp::Put { item: to_item(&keys::media(&m.id), &m)?, cond: None });
    }
    ops.push(TxOp::Update {
        key: keys::account(&status.account_id),
        update: Update::default()
            .add("statuses_count", 1)
            .set("last_status_at", Value::N(status.created_at.to_string())),
        cond: Some(Cond::ItemExists),
    });
    if let Some(parent) = &status.in_reply_to_id {
        ops.push(TxOp::Update {
            key: keys::status(parent),
            update: Update::default().add("replies_count", 1),
            cond: Some(Cond::ItemExists),
        });
    }
    match table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(false),
        Err(StoreError::ConditionFailed { .. }) => {
            Err(RepoError::NotFound(format!("the account or the parent of status {}", status.id)))
        }
        Err(e) => Err(e.into()),
    }
}

/// Partition of public remote statuses (`/api/v1/timelines/public?remote=true`).
pub const PUBLIC_REMOTE: &str = "PUBLIC#remote";

/// Where a received status goes: home timelines of the local accounts that follow its author or
/// are addressed, and notifications.
#[derive(Debug, Default)]
pub struct Delivery {
    pub home_of: Vec<String>,
    pub notify: Vec<(String, crate::model::Notification)>,
}

/// Stores a remote status with its timeline entries and notifications in one transaction.
/// Returns `None` when a status with this URI is already stored (a redelivery).
pub async fn store_remote(table: &dyn Table, status: &Status, to: &Delivery) -> Result<Option<()>, RepoError> {
    let uri = status.remote_uri.as_deref().ok_or_else(|| RepoError::Invalid("not a remote status".into()))?;
    let mut pointer = keys::status_uri(uri).to_item();
    pointer.insert("status_id".into(), Value::S(status.id.clone()));
    let mut ops = vec![
        TxOp::Put { item: pointer, cond: Some(Cond::ItemNotExists) },
        TxOp::Put { item: to_item(&keys::status(&status.id), status)?, cond: Some(Cond::ItemNotExists) },
        TxOp::Put { item: index_item(keys::account_status(&status.account_id, &status.id), &status.id), cond: None },
        TxOp::Update {
            key: keys::account(&status.account_id),
            update: Update::default()
                .add("statuses_count", 1)
                .set("last_status_at", Value::N(status.created_at.to_string())),
            cond: Some(Cond::ItemExists),
        },
    ];
    // Boosts stay out of the public and hashtag timelines, as in Mastodon.
    if status.visibility == Visibility::Public && status.reblog_of.is_none() {
        ops.push(TxOp::Put { item: index_item(Key::new(PUBLIC_REMOTE, &status.id), &status.id), cond: None });
        ops.extend(
            status
                .tags
                .iter()
                .take(10)
                .map(|t| TxOp::Put { item: index_item(keys::tag_entry(t, &status.id), &status.id), cond: None }),
        );
    }
    if let Some(parent) = &status.in_reply_to_id {
        ops.push(TxOp::Put { item: index_item(keys::reply(parent, &status.id), &status.id), cond: None });
        ops.push(TxOp::Update {
            key: keys::status(parent),
            update: Update::default().add("replies_count", 1),
            cond: Some(Cond::ItemExists),
        });
    }
    // Bounded so the transaction stays within 100 items (an instance has a handful of accounts).
    for local in to.home_of.iter().take(40) {
        ops.push(TxOp::Put { item: index_item(keys::home_entry(local, &status.id), &status.id), cond: None });
    }
    for (local, n) in to.notify.iter().take(20) {
        ops.push(crate::repo::notifications::put_op(local, n)?);
    }
    match table.transact(ops).await {
        Ok(()) => Ok(Some(())),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(None),
        // The parent vanished between lookup and write: store it as a plain status.
        Err(StoreError::ConditionFailed { .. }) if status.in_reply_to_id.is_some() => {
            let mut orphan = status.clone();
            orphan.in_reply_to_id = None;
            orphan.in_reply_to_account_id = None;
            Box::pin(store_remote(table, &orphan, to)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A status by its ActivityPub id (remote ones only: local ids are derived from the URL).
pub async fn by_uri(table: &dyn Table, uri: &str) -> Result<Option<Status>, RepoError> {
    let Some(pointer) = table.get(&keys::status_uri(uri)).await? else {
        return Ok(None);
    };
    match str_attr_of(&pointer, "status_id") {
        Some(id) => get(table, id).await,
        None => Err(StoreError::Corrupt(format!("status pointer {uri} has no id")).into()),
    }
}

/// Replaces a remote status's content after an Update, keeping its counters and id.
pub async fn replace_remote(table: &dyn Table, current: &Status, mut fresh: Status) -> Result<Status, RepoError> {
    fresh.id = current.id.clone();
    fresh.account_id = current.account_id.clone();
    fresh.favourites_count = current.favourites_count;
    fresh.reblogs_count = current.reblogs_count;
    fresh.replies_count = current.replies_count;
    fresh.in_reply_to_id = current.in_reply_to_id.clone();
    fresh.in_reply_to_account_id = current.in_reply_to_account_id.clone();
    fresh.edited_at = Some(fresh.edited_at.unwrap_or_else(crate::clock::now_ms));
    table.put(to_item(&keys::status(&current.id), &fresh)?, Some(Cond::ItemExists)).await?;
    Ok(fresh)
}

/// A remote account's Like or Announce of a status: counted once, with a notification for the
/// status's local author. Returns false for a repeat.
pub async fn add_reaction(
    table: &dyn Table,
    status: &Status,
    kind: &str,
    account_id: &str,
    activity_id: &str,
    notify: Option<crate::model::Notification>,
) -> Result<bool, RepoError> {
    let counter = if kind == "like" { "favourites_count" } else { "reblogs_count" };
    let mut item = keys::reaction(&status.id, kind, account_id).to_item();
    item.insert("activity_id".into(), Value::S(activity_id.to_string()));
    let mut ops = vec![
        TxOp::Put { item, cond: Some(Cond::ItemNotExists) },
        TxOp::Update {
            key: keys::status(&status.id),
            update: Update::default().add(counter, 1),
            cond: Some(Cond::ItemExists),
        },
    ];
    if kind == "like" {
        ops.push(TxOp::Put { item: account_item(keys::favourited_by(&status.id, account_id), account_id), cond: None });
    }
    if let Some(n) = notify {
        ops.push(crate::repo::notifications::put_op(&status.account_id, &n)?);
    }
    match table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(false),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("status".into())),
        Err(e) => Err(e.into()),
    }
}

/// Undoes a reaction; false when there was none.
pub async fn remove_reaction(
    table: &dyn Table,
    status_id: &str,
    kind: &str,
    account_id: &str,
) -> Result<bool, RepoError> {
    let counter = if kind == "like" { "favourites_count" } else { "reblogs_count" };
    let mut ops = vec![
        TxOp::Delete { key: keys::reaction(status_id, kind, account_id), cond: Some(Cond::ItemExists) },
        TxOp::Update {
            key: keys::status(status_id),
            update: Update::default().add(counter, -1),
            cond: Some(Cond::ItemExists),
        },
    ];
    if kind == "like" {
        ops.push(TxOp::Delete { key: keys::favourited_by(status_id, account_id), cond: None });
    }
    match table.transact(ops).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The id of `account_id`'s boost of `status_id`, if any (one read).
pub async fn reblog_by(table: &dyn Table, status_id: &str, account_id: &str) -> Result<Option<String>, RepoError> {
    let item = table.get(&keys::reaction(status_id, "announce", account_id)).await?;
    Ok(item.as_ref().and_then(|i| str_attr_of(i, "reblog_id")).map(str::to_string))
}

/// Writes a local account's boost of `original`: the boost (a status with `reblog_of`), its place
/// in the booster's profile and home timeline, the reaction that makes a second boost a no-op,
/// the counters and the original author's notification, in one transaction. `None` when the
/// account had boosted it already.
pub async fn create_reblog(
    table: &dyn Table,
    reblog: &Status,
    original: &Status,
    notify: Option<crate::model::Notification>,
) -> Result<Option<()>, RepoError> {
    let booster = &reblog.account_id;
    let mut reaction = keys::reaction(&original.id, "announce", booster).to_item();
    reaction.insert("reblog_id".into(), Value::S(reblog.id.clone()));
    let mut ops = vec![
        TxOp::Put { item: reaction, cond: Some(Cond::ItemNotExists) },
        TxOp::Put { item: to_item(&keys::status(&reblog.id), reblog)?, cond: Some(Cond::ItemNotExists) },
        TxOp::Put { item: index_item(keys::account_status(booster, &reblog.id), &reblog.id), cond: None },
        TxOp::Put { item: index_item(keys::home_entry(booster, &reblog.id), &reblog.id), cond: None },
        TxOp::Update {
            key: keys::status(&original.id),
            update: Update::default().add("reblogs_count", 1),
            cond: Some(Cond::ItemExists),
        },
        TxOp::Update {
            key: keys::account(booster),
            update: Update::default().add("statuses_count", 1),
            cond: Some(Cond::ItemExists),
        },
    ];
    if let Some(n) = notify {
        ops.push(crate::repo::notifications::put_op(&original.account_id, &n)?);
    }
    match table.transact(ops).await {
        Ok(()) => Ok(Some(())),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(None),
        Err(StoreError::ConditionFailed { .. }) => Err(RepoError::NotFound("status".into())),
        Err(e) => Err(e.into()),
    }
}

/// Removes a local account's boost; returns the boost that was removed.
pub async fn delete_reblog(table: &dyn Table, original_id: &str, booster: &str) -> Result<Option<String>, RepoError> {
    let Some(reblog_id) = reblog_by(table, original_id, booster).await? else {
        return Ok(None);
    };
    let ops = vec![
        TxOp::Delete { key: keys::reaction(original_id, "announce", booster), cond: Some(Cond::ItemExists) },
        TxOp::Delete { key: keys::status(&reblog_id), cond: None },
        TxOp::Delete { key: keys::account_status(booster, &reblog_id), cond: None },
        TxOp::Delete { key: keys::home_entry(booster, &reblog_id), cond: None },
        TxOp::Update { key: keys::status(original_id), update: Update::default().add("reblogs_count", -1), cond: None },
        TxOp::Update {
            key: keys::account(booster),
            update: Update::default().add("statuses_count", -1),
            cond: Some(Cond::ItemExists),
        },
    ];
    match table.transact(ops).await {
        Ok(()) => Ok(Some(reblog_id)),
        Err(StoreError::ConditionFailed { index: Some(0) }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Accounts that boosted a status (local boosts and remote Announces alike), at most `limit`.
pub async fn reblogged_by(table: &dyn Table, status_id: &str, limit: u32) -> Result<Vec<String>, RepoError> {
    let q = crate::store::Query::new(keys::reactions(status_id))
        .range(crate::store::SkRange::Prefix("announce#".into()))
        .limit(limit);
    let page = table.query(q).await?;
    Ok(page
        .items
        .iter()
        .filter_map(|i| str_attr_of(i, crate::store::SK)?.strip_prefix("announce#").map(str::to_string))
        .collect())
}
