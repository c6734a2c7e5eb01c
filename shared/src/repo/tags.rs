//! Hashtags: follows by local accounts (whose home timelines then get public posts with the
//! tag), featured tags on profiles, and a tag's recent history from its `TAG#` index.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::repo::{keys, RepoError};
use crate::store::table::num_attr;
use crate::store::{str_attr_of, Cond, Key, Query, SkRange, StoreError, Table, TxOp, Update, Value, SK};

/// At most this many of a post's hashtags are looked up for followers (as the `TAG#` index
/// takes at most 10 of a received post's tags).
pub const MAX_TAGS_ROUTED: usize = 10;

/// A hashtag as Mastodon normalises it for lookups: lower case; only letters, digits and `_`.
pub fn normalize(name: &str) -> Option<String> {
    let name = name.trim_start_matches('#').to_lowercase();
    (!name.is_empty() && name.len() <= 200 && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
}

fn follower_attr(account_id: &str) -> String {
    format!("f{account_id}")
}

/// Follows a tag (following twice is one follow): the account's entry and its attribute on the
/// tag's follower item, in one transaction.
pub async fn follow(table: &dyn Table, account_id: &str, tag: &str) -> Result<(), RepoError> {
    let mut entry = keys::followed_tag(account_id, tag).to_item();
    entry.insert("name".into(), Value::S(tag.to_string()));
    let ops = vec![
        TxOp::Put { item: entry, cond: None },
        TxOp::Update {
            key: keys::tag_followers(tag),
            update: Update::default().set(follower_attr(account_id), Value::N("1".into())),
            cond: None,
        },
    ];
    Ok(table.transact(ops).await?)
}

pub async fn unfollow(table: &dyn Table, account_id: &str, tag: &str) -> Result<(), RepoError> {
    let mut ops = vec![TxOp::Delete { key: keys::followed_tag(account_id, tag), cond: None }];
    // An update would create the follower item if it is missing: only when it exists.
    if table.get(&keys::tag_followers(tag)).await?.is_some() {
        ops.push(TxOp::Update {
            key: keys::tag_followers(tag),
            update: Update::default().remove(follower_attr(account_id)),
            cond: Some(Cond::ItemExists),
        });
    }
    match table.transact(ops).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn is_following(table: &dyn Table, account_id: &str, tag: &str) -> Result<bool, RepoError> {
    Ok(table.get(&keys::followed_tag(account_id, tag)).await?.is_some())
}

/// The tags an account follows, in name order, after `after` (a page of at most `limit`), and
/// whether more follow.
pub async fn followed(
    table: &dyn Table,
    account_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<String>, bool), RepoError> {
    let mut q = Query::new(keys::followed_tags(account_id)).limit(limit + 1);
    if let Some(a) = after {
        q = q.range(SkRange::Gt(a.to_string()));
    }
    let page = table.query(q).await?;
    let mut names: Vec<String> = page.items.iter().filter_map(|i| str_attr_of(i, SK).map(str::to_string)).collect();
    let more = names.len() > limit as usize || page.cursor.is_some();
    names.truncate(limit as usize);
    Ok((names, more))
}

/// Local accounts following any of `tags`: one batch get of the tags' follower items.
pub async fn followers_of(table: &dyn Table, tags: &[String]) -> Result<Vec<String>, RepoError> {
    let unique: BTreeSet<&String> = tags.iter().take(MAX_TAGS_ROUTED).collect();
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Key> = unique.iter().map(|t| keys::tag_followers(t)).collect();
    let mut out = BTreeSet::new();
    for item in table.batch_get(&keys).await?.into_iter().flatten() {
        for name in item.keys() {
            if let Some(id) = name.strip_prefix('f').filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
            {
                out.insert(id.to_string());
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// One day of a tag's use: posts and distinct authors (Mastodon's Tag `history`).
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    /// The day's start, epoch seconds (UTC).
    pub day: i64,
    pub uses: u64,
    pub accounts: u64,
}

/// At most this many index entries are read for a tag's week (a tag busier than that shows the
/// most recent ones).
const HISTORY_READ: u32 = 2000;

/// The last 7 days of a tag, newest first, from its `TAG#` index: one query over the week's
/// entries (their sort keys are snowflakes, so the week is a range); entries written before they
/// named their author are looked up (one batch get per 100).
pub async fn history(table: &dyn Table, tag: &str, now_ms: i64) -> Result<Vec<Day>, RepoError> {
    const DAY_MS: i64 = 86_400_000;
    let today = now_ms.div_euclid(DAY_MS) * DAY_MS;
    let start = today - 6 * DAY_MS;
    // The smallest snowflake of the week's first millisecond.
    let since = format!("{:018}", (start.max(0) as u64) << 16);
    let page = table
        .query(Query::new(keys::tag_timeline(tag)).range(SkRange::Ge(since)).backward().limit(HISTORY_READ))
        .await?;
    let mut entries: Vec<(i64, Option<String>, String)> = Vec::new();
    for item in &page.items {
        let Some(id) = str_attr_of(item, SK) else { continue };
        let Ok(n) = id.parse::<u64>() else { continue };
        let at = (n >> 16) as i64;
        entries.push((at, str_attr_of(item, "account_id").map(str::to_string), id.to_string()));
    }
    let unknown: Vec<String> = entries.iter().filter(|e| e.1.is_none()).map(|e| e.2.clone()).collect();
    if !unknown.is_empty() {
        let found: HashMap<String, String> =
            crate::repo::statuses::get_many(table, &unknown).await?.into_iter().map(|s| (s.id, s.account_id)).collect();
        for e in &mut entries {
            if e.1.is_none() {
                e.1 = found.get(&e.2).cloned();
            }
        }
    }
    let mut days = Vec::new();
    for d in 0..7 {
        let from = today - d * DAY_MS;
        let on_day: Vec<&(i64, Option<String>, String)> =
            entries.iter().filter(|e| e.0 >= from && e.0 < from + DAY_MS).collect();
        let accounts: HashSet<&String> = on_day.iter().filter_map(|e| e.1.as_ref()).collect();
        days.push(Day { day: from / 1000, uses: on_day.len() as u64, accounts: accounts.len() as u64 });
    }
    Ok(days)
}

/// A hashtag featured on a profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Featured {
    pub id: String,
    pub name: String,
    pub statuses_count: i64,
    pub last_status_at: Option<i64>,
}

fn featured_of(item: &crate::store::Item) -> Option<Featured> {
    Some(Featured {
        id: str_attr_of(item, "id")?.to_string(),
        name: str_attr_of(item, SK)?.to_string(),
        statuses_count: num_attr(item, "statuses_count").unwrap_or(0).max(0),
        last_status_at: num_attr(item, "last_status_at"),
    })
}

/// At most this many featured tags per account (Mastodon's limit).
pub const MAX_FEATURED: usize = 10;

pub async fn featured(table: &dyn Table, account_id: &str) -> Result<Vec<Featured>, RepoError> {
    let items = crate::repo::query_all(table, Query::new(keys::featured_tags(account_id))).await?;
    Ok(items.iter().filter_map(featured_of).collect())
}

/// Features a tag with the counts so far (`statuses_count`, `last_status_at`: the caller counts
/// them once); featuring it again returns the existing one.
pub async fn feature(
    table: &dyn Table,
    account_id: &str,
    tag: &str,
    statuses_count: i64,
    last_status_at: Option<i64>,
) -> Result<Featured, RepoError> {
    let current = featured(table, account_id).await?;
    if let Some(f) = current.iter().find(|f| f.name == tag) {
        return Ok(f.clone());
    }
    if current.len() >= MAX_FEATURED {
        return Err(RepoError::Invalid(format!("at most {MAX_FEATURED} featured tags")));
    }
    let f = Featured { id: crate::ids::snowflake(), name: tag.to_string(), statuses_count, last_status_at };
    let mut item = keys::featured_tag(account_id, tag).to_item();
    item.insert("id".into(), Value::S(f.id.clone()));
    item.insert("statuses_count".into(), Value::N(statuses_count.to_string()));
    if let Some(at) = last_status_at {
        item.insert("last_status_at".into(), Value::N(at.to_string()));
    }
    match table.put(item, Some(Cond::ItemNotExists)).await {
        Ok(()) => Ok(f),
        Err(StoreError::ConditionFailed { .. }) => featured(table, account_id)
            .await?
            .into_iter()
            .find(|x| x.name == tag)
            .ok_or(RepoError::NotFound(tag.into())),
        Err(e) => Err(e.into()),
    }
}

/// Unfeatures by id; false when the account has no featured tag with it.
pub async fn unfeature(table: &dyn Table, account_id: &str, id: &str) -> Result<bool, RepoError> {
    let Some(f) = featured(table, account_id).await?.into_iter().find(|f| f.id == id) else {
        return Ok(false);
    };
    table.delete(&keys::featured_tag(account_id, &f.name), None).await?;
    Ok(true)
}

/// Counter updates for the account's featured tags among a new post's `tags` (`by` 1 for a new
/// post, -1 for a deleted one): one batch get to find which of them are featured.
pub async fn featured_counter_ops(
    table: &dyn Table,
    account_id: &str,
    tags: &[String],
    by: i64,
    at: i64,
) -> Result<Vec<TxOp>, RepoError> {
    let unique: BTreeSet<&String> = tags.iter().take(MAX_TAGS_ROUTED).collect();
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Key> = unique.iter().map(|t| keys::featured_tag(account_id, t)).collect();
    let found = table.batch_get(&keys).await?;
    Ok(keys
        .into_iter()
        .zip(found)
        .filter(|(_, f)| f.is_some())
        .map(|(key, _)| {
            let mut update = Update::default().add("statuses_count", by);
            if by > 0 {
                update = update.set("last_status_at", Value::N(at.to_string()));
            }
            TxOp::Update { key, update, cond: Some(Cond::ItemExists) }
        })
        .collect())
}

/// How many of an account's public posts carry `tag`, and the latest one's time, from the tag's
/// index (newest first, at most `max` entries read): for a newly featured tag.
pub async fn count_posts(
    table: &dyn Table,
    account_id: &str,
    tag: &str,
    max: u32,
) -> Result<(i64, Option<i64>), RepoError> {
    let page = table.query(Query::new(keys::tag_timeline(tag)).backward().limit(max)).await?;
    let ids: Vec<String> = page.items.iter().filter_map(|i| str_attr_of(i, SK).map(str::to_string)).collect();
    let mut count = 0;
    let mut last = None;
    for s in crate::repo::statuses::get_many(table, &ids).await? {
        if s.account_id == account_id && s.reblog_of.is_none() {
            count += 1;
            last = Some(last.map_or(s.created_at, |l: i64| l.max(s.created_at)));
        }
    }
    Ok((count, last))
}

/// What a new local post with hashtags needs, in one batch get: the local accounts following its
/// tags (when `public`; Mastodon routes only public posts by tag) and the counter updates of the
/// author's featured tags among them (public and unlisted posts count, as in Mastodon).
pub async fn local_post_routing(
    table: &dyn Table,
    author_id: &str,
    tags: &[String],
    public: bool,
    counts: bool,
    at: i64,
) -> Result<(Vec<String>, Vec<TxOp>), RepoError> {
    let unique: Vec<&String> = tags.iter().take(MAX_TAGS_ROUTED).collect::<BTreeSet<_>>().into_iter().collect();
    let mut keys: Vec<Key> = Vec::new();
    if public {
        keys.extend(unique.iter().map(|t| keys::tag_followers(t)));
    }
    let featured_start = keys.len();
    if counts {
        keys.extend(unique.iter().map(|t| keys::featured_tag(author_id, t)));
    }
    if keys.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let found = table.batch_get(&keys).await?;
    let mut followers = BTreeSet::new();
    let mut ops = Vec::new();
    for (i, (key, item)) in keys.into_iter().zip(found).enumerate() {
        let Some(item) = item else { continue };
        if i < featured_start {
            for name in item.keys() {
                if let Some(id) =
                    name.strip_prefix('f').filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
                {
                    followers.insert(id.to_string());
                }
            }
        } else {
            let update = Update::default().add("statuses_count", 1).set("last_status_at", Value::N(at.to_string()));
            ops.push(TxOp::Update { key, update, cond: Some(Cond::ItemExists) });
        }
    }
    Ok((followers.into_iter().collect(), ops))
}
