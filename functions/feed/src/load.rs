//! Reading what feeds and pages show: the only place the feed function reads the table. Polls
//! never come here; renders (on a queue message, or once on a miss) and archive pages do.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use petrel::model::{Account, Status, Visibility};
use petrel::repo::{accounts, keys, statuses, RepoError};
use petrel::store::{str_attr_of, Query, SkRange, SK};
use petrel::Ctx;

use crate::view::{is_listed, Author, Channel, Item, Page};

/// Items per feed page: Mastodon's default; `PETREL_FEED_ITEMS` may raise it to `MAX_ITEMS`.
pub const DEFAULT_ITEMS: usize = 20;
pub const MAX_ITEMS: usize = 200;
/// How many index entries one render may look at, so an account of mostly private posts costs
/// a bounded number of reads.
const SCAN_CAP: usize = 2000;

/// Snowflake ids sort by time when compared as numbers: longer is newer, then by digits.
pub fn newest_first(a: &str, b: &str) -> Ordering {
    b.len().cmp(&a.len()).then_with(|| b.cmp(a))
}

/// Statuses from an index partition (newest first, older than `max_id`), kept when `keep` says so,
/// until `enough` is satisfied or the partition ends. `known` ids (the statuses a render message
/// names) are read by key as well, so a post is shown even while the eventually consistent index
/// query does not list it yet. Returns the statuses, newest first, and whether the partition ended.
async fn scan(
    ctx: &Ctx,
    pk: &str,
    max_id: Option<&str>,
    known: &[String],
    keep: impl Fn(&Status) -> bool,
    enough: impl Fn(&[Status]) -> bool,
    batch: u32,
) -> Result<(Vec<Status>, bool), RepoError> {
    let table = ctx.stores.table.as_ref();
    let mut found: Vec<Status> = Vec::new();
    let mut seen = HashSet::new();
    let mut cursor = None;
    let mut scanned = 0;
    let mut oldest: Option<String> = None;
    let ended = loop {
        let range = max_id.map_or(SkRange::All, |m| SkRange::Lt(m.to_string()));
        let page = table.query(Query::new(pk).range(range).backward().limit(batch).cursor(cursor)).await?;
        let ids: Vec<String> = page
            .items
            .iter()
            .filter_map(|i| str_attr_of(i, SK))
            .filter(|id| seen.insert(id.to_string()))
            .map(str::to_string)
            .collect();
        scanned += ids.len();
        if let Some(last) = ids.last() {
            oldest = Some(last.clone());
        }
        found.extend(statuses::get_many(table, &ids).await?.into_iter().filter(&keep));
        cursor = page.cursor;
        if cursor.is_none() {
            break true;
        }
        if enough(&found) || scanned >= SCAN_CAP {
            break false;
        }
    };
    // Known statuses within the range scanned (all of it when the partition ended).
    let extra: Vec<String> = known
        .iter()
        .filter(|id| statuses::valid_id(id) && !seen.contains(*id))
        .filter(|id| max_id.is_none_or(|m| newest_first(id, m) == Ordering::Greater))
        .filter(|id| ended || oldest.as_deref().is_none_or(|o| newest_first(id, o) == Ordering::Less))
        .cloned()
        .collect();
    if !extra.is_empty() {
        found.extend(statuses::get_many(table, &extra).await?.into_iter().filter(&keep));
    }
    found.sort_by(|a, b| newest_first(&a.id, &b.id));
    Ok((found, ended))
}

fn page_of(channel: Channel, mut items: Vec<Item>, n: usize, more: bool, max_id: Option<&str>) -> Page {
    let more = more || items.len() > n;
    items.truncate(n);
    let older = if more { items.last().map(|i| i.id.clone()) } else { None };
    Page { channel, items, max_id: max_id.map(str::to_string), older }
}

/// An account's two feeds: posts without replies, and posts with replies.
pub struct AccountFeeds {
    pub posts: Page,
    pub with_replies: Page,
}

/// An account's public and unlisted posts, newest first (or older than `max_id`), `n` per feed.
pub async fn account_feeds(
    ctx: &Ctx,
    account: &Account,
    max_id: Option<&str>,
    n: usize,
    known: &[String],
) -> Result<AccountFeeds, RepoError> {
    let own = |s: &Status| s.account_id == account.id && is_listed(s);
    let enough =
        |found: &[Status]| found.len() >= n && found.iter().filter(|s| s.in_reply_to_id.is_none()).count() >= n;
    let batch = (n + n / 2 + 5).min(300) as u32;
    let pk = keys::account_statuses(&account.id);
    let (found, ended) = scan(ctx, &pk, max_id, known, own, enough, batch).await?;
    let author = Author::of(&ctx.config, account);
    let all: Vec<Item> = found.iter().map(|s| Item::of(&ctx.config, &author, s)).collect();
    let posts: Vec<Item> = all.iter().filter(|i| i.in_reply_to.is_none()).cloned().collect();
    Ok(AccountFeeds {
        posts: page_of(Channel::account(&ctx.config, account, false), posts, n, !ended, max_id),
        with_replies: page_of(Channel::account(&ctx.config, account, true), all, n, !ended, max_id),
    })
}

/// This server's public posts under a hashtag, newest first (or older than `max_id`). As in
/// Mastodon, a tag feed holds local posts only: the tag's index also lists public posts received
/// from other servers, which are not this server's to publish (and would be shown as its own).
pub async fn tag_feed(
    ctx: &Ctx,
    tag: &str,
    max_id: Option<&str>,
    n: usize,
    known: &[String],
) -> Result<Page, RepoError> {
    let keep = |s: &Status| {
        s.visibility == Visibility::Public && s.remote_uri.is_none() && is_listed(s) && s.tags.iter().any(|t| t == tag)
    };
    let batch = (n + 5).min(300) as u32;
    let (found, ended) = scan(ctx, &keys::tag_timeline(tag), max_id, known, keep, |f| f.len() >= n, batch).await?;
    let mut author_ids: Vec<String> = found.iter().map(|s| s.account_id.clone()).collect();
    author_ids.sort();
    author_ids.dedup();
    let authors: HashMap<String, Author> = accounts::by_ids(ctx.stores.table.as_ref(), &author_ids)
        .await?
        .iter()
        .filter(|a| a.is_local())
        .map(|a| (a.id.clone(), Author::of(&ctx.config, a)))
        .collect();
    let items: Vec<Item> =
        found.iter().filter_map(|s| authors.get(&s.account_id).map(|a| Item::of(&ctx.config, a, s))).collect();
    Ok(page_of(Channel::tag(&ctx.config, tag), items, n, !ended, max_id))
}
