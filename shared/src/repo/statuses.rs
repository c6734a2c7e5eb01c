//! Statuses of local accounts: one transaction writes the status, its index entries and the
//! author's counters, so a reader never sees half a post.

use std::collections::HashSet;

use crate::model::{Status, Visibility};
use crate::repo::{from_item, keys, to_item, RepoError};
use crate::store::{str_attr_of, Cond, Item, Key, Query, SkRange, StoreError, Table, TxOp, Update, Value, SK, TTL};

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

/// A hashtag entry names the status's author, so a tag's history counts accounts from the
/// entries alone (`repo::tags::history`).
fn tag_entry_author(item: &mut Item, status: &Status) {
    if str_attr_of(item, crate::store::PK).is_some_and(|pk| pk.starts_with("TAG#")) {
        item.insert("account_id".into(), Value::S(status.account_id.clone()));
    }
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
pub async fn create(table: &dyn Table, status: Status, idempotency_key: Option<&str>) -> Result<Created, RepoError> {
    create_with(table, status, idempotency_key, &[], Vec::new()).await
}

/// `create`, with an entry in the home timeline of each of `also_home` (local accounts that
/// follow one of its hashtags) and `extra` writes (featured-tag counters), in the same
/// transaction.
pub async fn create_with(
    table: &dyn Table,
    mut status: Status,
    idempotency_key: Option<&str>,
    also_home: &[String],
    extra: Vec<TxOp>,
) -> Result<Created, RepoError> {
    let mut extra = extra;
    extra.extend(
        also_home
            .iter()
            .map(|local| TxOp::Put { item: index_item(keys::home_entry(local, &status.id), &status.id), cond: None }),
    );
    for _ in 0..3 {
        // The extra entries name the status: a new id renames them.
        for op in &mut extra {
            if let TxOp::Put { item, .. } = op {
                if item.contains_key("status_id") {
                    let pk = str_attr_of(item, crate::store::PK).unwrap_or_default().to_string();
                    *item = index_item(Key::new(pk, status.id.clone()), &status.id);
                }
            }
        }
        match try_create(table, &status, idempotency_key, &extra).await {
            Err(RepoError::Conflict(m)) if m == ID_TAKEN => status.id = crate::ids::snowflake(),
            Ok(earlier) if earlier.id != status.id => return Ok(Created::Earlier(earlier)),
            Ok(_) => return Ok(Created::New(status)),
            Err(e) => return Err(e),
        }
    }
    Err(RepoError::Conflict("no free status id after three tries".into()))
}

const ID_TAKEN: &str = "status id taken";

async fn try_create(
    table: &dyn Table,
    status: &Status,
    idempotency_key: Option<&str>,
    extra: &[TxOp],
) -> Result<Status, RepoError> {
    let idem_key = idempotency_key.map(|k| keys::idempotency(&status.account_id, &crate::crypto::sha256_hex(k)));
    let mut ops = Vec::new();
    if let Some(key) = &idem_key {
        let mut item = index_item(key.clone(), &status.id);
        item.insert(TTL.into(), Value::N((crate::store::table::now_secs() + IDEMPOTENCY_SECS).to_string()));
        ops.push(TxOp::Put { item, cond: Some(Cond::ItemNotExists) });
    }
    let status_index = ops.len();
    ops.extend(status_ops(status)?);
    let parent_index = ops.len() - 1;
    let media_start = ops.len();
    ops.extend(status.media.iter().map(|m| super::media::attach_op(m, &status.id)));
    let media_end = ops.len();
    ops.extend(extra.iter().cloned());
    match table.transact(ops).await {
        Ok(()) => Ok(status.clone()),
        Err(StoreError::ConditionFailed { index: Some(i) }) if i >= media_start && i < media_end => {
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

/// The writes of a local status: the status (not to exist yet, the first op), its index entries,
/// the author's counters and, last, the parent's reply count (both items must exist).
pub(crate) fn status_ops(status: &Status) -> Result<Vec<TxOp>, RepoError> {
    let mut ops =
        vec![TxOp::Put { item: to_item(&keys::status(&status.id), status)?, cond: Some(Cond::ItemNotExists) }];
    for key in index_keys(status) {
        let mut item = index_item(key, &status.id);
        tag_entry_author(&mut item, status);
        ops.push(TxOp::Put { item, cond: None });
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
    Ok(ops)
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

/// Deletes a status with its index entries and counters, in one transaction (a remote status:
/// see `delete_remote`).
pub async fn delete(table: &dyn Table, status: &Status) -> Result<(), RepoError> {
    if status.remote_uri.is_some() {
        return delete_remote(table, status).await;
    }
    let mut ops = vec![TxOp::Delete { key: keys::status(&status.id), cond: Some(Cond::ItemExists) }];
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

/// Deletes a remote status (a Delete from its author, or the Undo of a boost) without a
/// transaction, the mirror of `store_remote`: the status item goes first, so it disappears from
/// every page at once (pages skip entries without their status), then its URI pointer and the
/// entries `store_remote` wrote. An interruption leaves only such skipped entries behind.
async fn delete_remote(table: &dyn Table, status: &Status) -> Result<(), RepoError> {
    match table.delete(&keys::status(&status.id), Some(Cond::ItemExists)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(RepoError::NotFound("status".into())),
        Err(e) => return Err(e.into()),
    }
    let mut rest = vec![keys::account_status(&status.account_id, &status.id)];
    if let Some(uri) = &status.remote_uri {
        rest.push(keys::status_uri(uri));
    }
    if status.visibility == Visibility::Public {
        rest.extend(status.tags.iter().take(10).map(|t| keys::tag_entry(t, &status.id)));
    }
    if let Some(parent) = &status.in_reply_to_id {
        rest.push(keys::reply(parent, &status.id));
    }
    rest.extend(status.media.iter().map(|m| keys::media(&m.id)));
    futures::future::try_join_all(rest.iter().map(|key| table.delete(key, None))).await?;
    Ok(())
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
    Ok(crate::repo::present(table, ids, |id| keys::favourite(account_id, id)).await?)
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
    /// The viewer boosted it (`BOOSTED#` entries, written with the boost).
    pub reblogged: bool,
    /// The viewer muted its thread.
    pub muted: bool,
}

/// Statuses by id in the given order, each with the viewer's favourite, bookmark, pin, boost and
/// thread mute: one batch get of the statuses (100 ids per call) and one query per kind of mark,
/// all at once (five queries, whatever the page's size; a viewer with more than 100 muted
/// threads adds one batch get of the page's thread roots).
pub async fn get_many_for(
    table: &dyn Table,
    viewer: Option<&str>,
    ids: &[String],
    freshness: crate::repo::Freshness,
) -> Result<Vec<(Status, Marks)>, RepoError> {
    let mut seen = HashSet::new();
    let unique: Vec<&String> = ids.iter().filter(|id| valid_id(id) && seen.insert(*id)).collect();
    let marks = async {
        match viewer {
            Some(v) => futures::try_join!(
                marked(table, keys::favourites(v), &unique),
                marked(table, keys::bookmarks(v), &unique),
                marked(table, keys::pins(v), &unique),
                marked(table, keys::boosts(v), &unique),
                crate::repo::conversations::muted_threads(table, v),
            ),
            None => Ok(Default::default()),
        }
    };
    let items = async {
        let mut items = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
            let keys: Vec<Key> = chunk.iter().map(|id| keys::status(id)).collect();
            items.extend(crate::repo::batch_get(table, &keys, freshness).await?.into_iter().flatten());
        }
        Ok::<_, RepoError>(items)
    };
    // The six reads go out together.
    let ((favourited, bookmarked, pinned, reblogged, muted), items) = futures::try_join!(marks, items)?;
    let found: Vec<Status> = items.into_iter().map(from_item::<Status>).collect::<Result<_, _>>()?;
    // More muted threads than one query returns: read the page's roots instead.
    let muted = match (viewer, muted) {
        (_, Some(m)) => m,
        (Some(v), None) => {
            let roots: Vec<String> = found.iter().map(|s| s.thread_root().to_string()).collect();
            crate::repo::conversations::muted_among(table, v, &roots).await?
        }
        (None, None) => HashSet::new(),
    };
    Ok(found
        .into_iter()
        .map(|status| {
            let marks = Marks {
                favourited: favourited.contains(&status.id),
                bookmarked: bookmarked.contains(&status.id),
                pinned: pinned.contains(&status.id),
                reblogged: reblogged.contains(&status.id),
                muted: muted.contains(status.thread_root()),
            };
            (status, marks)
        })
        .collect())
}

/// Marks held in a viewer's partition `pk` (sort key: status id) at most this many per query.
const MARKS_PER_QUERY: u32 = 100;

/// Which of `ids` the viewer marked: one query over the ids' range rather than a read per id,
/// because most statuses carry no mark and DynamoDB bills a read unit for every missing item.
/// A range holding more marks than one query returns falls back to reading each id.
async fn marked(table: &dyn Table, pk: String, ids: &[&String]) -> Result<HashSet<String>, RepoError> {
    let (Some(lo), Some(hi)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(HashSet::new());
    };
    let wanted: HashSet<&str> = ids.iter().map(|id| id.as_str()).collect();
    let range = SkRange::Between(lo.to_string(), hi.to_string());
    let page = table.query(Query::new(pk.clone()).range(range).limit(MARKS_PER_QUERY)).await?;
    if page.cursor.is_none() {
        return Ok(page
            .items
            .iter()
            .filter_map(|i| str_attr_of(i, SK))
            .filter(|sk| wanted.contains(sk))
            .map(str::to_string)
            .collect());
    }
    Ok(crate::repo::present(table, ids.iter().copied(), |id| Key::new(pk.clone(), id)).await?)
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
    /// The attachments with their descriptions and focus as edited (`media_attributes[]`); the
    /// set of attachments itself does not change.
    pub media: Vec<crate::model::Media>,
    /// The poll after the edit (`None` removes it) and whether its counts start over (its
    /// options changed; the caller clears the votes).
    pub poll: Option<crate::model::Poll>,
    pub poll_reset: bool,
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
    // Changed descriptions and focus points reach the uploads' records in the same transaction.
    let changed_media: Vec<crate::model::Media> = e
        .media
        .iter()
        .filter(|m| {
            current.media.iter().any(|c| c.id == m.id && (c.description != m.description || c.focus != m.focus))
        })
        .cloned()
        .collect();
    next.media = e.media;
    next.poll = e.poll;
    if e.poll_reset || next.poll.is_none() {
        next.poll_tally = Default::default();
    }
    next.edited_at = Some(now);
    if next.content != current.content {
        // The first link may have changed: the card is made again.
        next.card = None;
    }
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
    for m in &changed_media {
        ops.push(crate::repo::media::describe_op(m)?);
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
    let mut ops = status_ops(status)?;
    for m in &status.media {
        let mut m = m.clone();
        m.status_id = Some(status.id.clone());
        m.ttl = None;
        ops.push(TxOp::Put { item: to_item(&keys::media(&m.id), &m)?, cond: None });
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

/// Where a received status goes: home timelines of the local accounts that follow its author or
/// are addressed, and notifications.
#[derive(Debug, Default)]
pub struct Delivery {
    pub home_of: Vec<String>,
    pub notify: Vec<(String, crate::model::Notification)>,
    /// The entries a home timeline keeps (`config::Retention::home_timeline_max`); `None`: no trim.
    pub home_cap: Option<u32>,
}

/// The expiry of a received post (`Status::ttl`): none when a local account takes part in its
/// conversation from the start — it mentions one, or replies to a local post or to a kept one
/// (`parent`, when stored) — else the configured retention.
pub fn remote_ttl(
    retention: &crate::config::Retention,
    parent: Option<&Status>,
    mentions_local: bool,
    now_secs: i64,
) -> Option<i64> {
    let in_kept_thread = parent.is_some_and(|p| p.ttl.is_none());
    if mentions_local || in_kept_thread {
        return None;
    }
    retention.remote_status_ttl(now_secs)
}

/// At most this many ancestors are kept with a post a local account interacts with.
pub const MAX_KEPT_ANCESTORS: usize = 20;

/// Makes an expiring remote post permanent because a local account interacts with it (favourite,
/// boost, bookmark, pin, reply, vote), with the items that find it again — its URI pointer (or
/// its author's Delete could not reach it), its entry in the author's statuses and in its
/// parent's replies — its author (`actors::keep`), and its ancestors up to the first kept one, so
/// the conversation stays whole. Home and hashtag entries keep their expiry: those timelines
/// only show recent posts. Nothing is written when the post is already kept (a local post, or
/// one kept before), so the usual cost is zero; the first time it is 1 read of the author (+3
/// writes the first time that author is kept) and 2–3 puts and 1 update per post kept. The
/// status item is updated last: while it still carries `ttl`, a retry does it all again.
pub async fn keep(table: &dyn Table, status: &Status) -> Result<usize, RepoError> {
    let mut kept = 0;
    let mut next = Some(status.clone());
    while let Some(s) = next.take() {
        if s.ttl.is_none() || kept > MAX_KEPT_ANCESTORS {
            break;
        }
        super::actors::keep_by_id(table, &s.account_id).await?;
        let mut entries = vec![index_item(keys::account_status(&s.account_id, &s.id), &s.id)];
        if let Some(uri) = &s.remote_uri {
            entries.push(index_item(keys::status_uri(uri), &s.id));
        }
        if let Some(parent) = &s.in_reply_to_id {
            entries.push(index_item(keys::reply(parent, &s.id), &s.id));
        }
        futures::future::try_join_all(entries.into_iter().map(|item| table.put(item, None))).await?;
        match table.update(&keys::status(&s.id), Update::default().remove(TTL), Some(Cond::ItemExists)).await {
            Ok(_) => kept += 1,
            // Expired or deleted meanwhile: nothing left to keep.
            Err(StoreError::ConditionFailed { .. }) => break,
            Err(e) => return Err(e.into()),
        }
        if let Some(parent) = &s.in_reply_to_id {
            next = get(table, parent).await?;
        }
    }
    Ok(kept)
}

/// Stores a remote status with its timeline entries and notifications. Returns the id it was
/// stored under (the notifications' id too), or `None` when a status with this URI is already
/// stored (a redelivery).
///
/// Not one transaction, unlike a local post: every item of a transaction bills twice, and this is
/// the busiest write of a server (every post of every followed account). Instead the order makes
/// it safe. The URI pointer is claimed first; then the index entries and notifications; the
/// status item itself comes last. Every page skips entries whose status is missing, so nothing
/// shows before the post is complete. A retry after an interruption finds the pointer without
/// its status and completes the store under the pointer's id; every write is a plain put of the
/// same item, so repeating one is harmless. The parent's reply count is bumped after the status
/// is stored (a retry cannot bump it twice). The remote author's post count is left alone:
/// Mastodon reports a remote account's own counts, not what reached this server.
pub async fn store_remote(table: &dyn Table, status: &Status, to: &Delivery) -> Result<Option<String>, RepoError> {
    store_remote_into(table, status, to, &[]).await
}

/// `store_remote`, with an entry in each of the index partitions `also` (list timelines),
/// written with the home entries, before the status.
pub async fn store_remote_into(
    table: &dyn Table,
    status: &Status,
    to: &Delivery,
    also: &[String],
) -> Result<Option<String>, RepoError> {
    let uri = status.remote_uri.as_deref().ok_or_else(|| RepoError::Invalid("not a remote status".into()))?;
    let mut status = status.clone();
    // Every item written here expires with the status (when it does); notifications carry their own.
    let expiring = |mut item: Item, ttl: Option<i64>| {
        if let Some(t) = ttl {
            item.insert(TTL.into(), Value::N(t.to_string()));
        }
        item
    };
    let pointer = expiring(index_item(keys::status_uri(uri), &status.id), status.ttl);
    match table.put(pointer, Some(Cond::ItemNotExists)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => {
            let claimed = table.get(&keys::status_uri(uri)).await?;
            let Some(id) = claimed.as_ref().and_then(|p| str_attr_of(p, "status_id")) else {
                return Err(StoreError::Corrupt(format!("status pointer {uri} has no id")).into());
            };
            if table.get(&keys::status(id)).await?.is_some() {
                return Ok(None);
            }
            // An earlier attempt stopped half way: finish it under the id it claimed.
            status.id = id.to_string();
        }
        Err(e) => return Err(e.into()),
    }

    let mut entries = vec![index_item(keys::account_status(&status.account_id, &status.id), &status.id)];
    // Boosts stay out of the hashtag timelines, as in Mastodon. (The public timeline of remote
    // posts reads the home timelines: no entry of its own.)
    if status.visibility == Visibility::Public && status.reblog_of.is_none() {
        entries.extend(status.tags.iter().take(10).map(|t| {
            let mut item = index_item(keys::tag_entry(t, &status.id), &status.id);
            tag_entry_author(&mut item, &status);
            item
        }));
    }
    if let Some(parent) = &status.in_reply_to_id {
        entries.push(index_item(keys::reply(parent, &status.id), &status.id));
    }
    entries.extend(to.home_of.iter().map(|local| index_item(keys::home_entry(local, &status.id), &status.id)));
    entries.extend(also.iter().map(|pk| index_item(Key::new(pk.clone(), status.id.clone()), &status.id)));
    let mut entries: Vec<Item> = entries.into_iter().map(|i| expiring(i, status.ttl)).collect();
    for (local, n) in &to.notify {
        // Keyed by the status, so completing an interrupted store does not notify twice.
        let n = crate::model::Notification { id: status.id.clone(), status_id: Some(status.id.clone()), ..n.clone() };
        entries.push(crate::repo::notifications::item(local, &n)?);
    }
    futures::future::try_join_all(entries.into_iter().map(|item| table.put(item, None))).await?;
    table.put(to_item(&keys::status(&status.id), &status)?, None).await?;
    if let Some(cap) = to.home_cap {
        for local in to.home_of.iter().filter(|l| super::timelines::trim_due(l, &status.id)) {
            super::timelines::trim_home(table, local, cap).await?;
        }
    }

    if let Some(parent) = &status.in_reply_to_id {
        let bump = Update::default().add("replies_count", 1);
        match table.update(&keys::status(parent), bump, Some(Cond::ItemExists)).await {
            // The parent was deleted meanwhile: the reply stays, its parent is gone.
            Ok(_) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(status.id))
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
    // An edit neither keeps a post nor shortens its life.
    fresh.ttl = current.ttl;
    if fresh.content == current.content {
        fresh.card = current.card.clone();
    }
    table.put(to_item(&keys::status(&current.id), &fresh)?, Some(Cond::ItemExists)).await?;
    Ok(fresh)
}

/// Records a remote account's Like or Announce of a local status: the reaction (which makes a
/// repeat a no-op), the counter, the favourited-by entry and the author's notification. False
/// when it was recorded already.
///
/// Not a transaction (each item would bill twice, and reactions are among the most frequent
/// activities): the reaction is claimed with a condition first, so a repeat costs one refused
/// write; if a later write fails, the claim is withdrawn, so the sender's retry does it all again
/// (a counter already bumped may then end one too high, the price of not paying double).
pub async fn add_reaction(
    table: &dyn Table,
    status: &Status,
    kind: &str,
    account_id: &str,
    activity_id: &str,
    notify: Option<crate::model::Notification>,
) -> Result<bool, RepoError> {
    let counter = if kind == "like" { "favourites_count" } else { "reblogs_count" };
    let reaction = keys::reaction(&status.id, kind, account_id);
    let mut item = reaction.to_item();
    item.insert("activity_id".into(), Value::S(activity_id.to_string()));
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let rest = async {
        let bump = Update::default().add(counter, 1);
        match table.update(&keys::status(&status.id), bump, Some(Cond::ItemExists)).await {
            Ok(_) => {}
            Err(StoreError::ConditionFailed { .. }) => return Err(RepoError::NotFound("status".into())),
            Err(e) => return Err(e.into()),
        }
        if kind == "like" {
            table.put(account_item(keys::favourited_by(&status.id, account_id), account_id), None).await?;
        }
        if let Some(n) = notify {
            crate::repo::notifications::create(table, &status.account_id, &n).await?;
        }
        Ok(())
    };
    match rest.await {
        Ok(()) => Ok(true),
        Err(e) => {
            if let Err(undo) = table.delete(&reaction, None).await {
                tracing::error!(error = %undo, "a failed reaction's claim could not be withdrawn");
            }
            Err(e)
        }
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
        TxOp::Put { item: index_item(keys::boosted(booster, &original.id), &reblog.id), cond: None },
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
        TxOp::Delete { key: keys::boosted(booster, original_id), cond: None },
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
