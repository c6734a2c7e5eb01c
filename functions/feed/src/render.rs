//! Rendering into the bucket: what a render message (or a first request) writes.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use petrel::config::Config;
use petrel::model::Account;
use petrel::repo::{accounts, statuses};
use petrel::Ctx;

use crate::load::{self, AccountFeeds};
use crate::objects::{self, Format};
use crate::view::{is_listed, Author, Item, Page};
use crate::{atom, json_feed, pages, rss, FeedError};

/// One object to store.
pub struct Object {
    pub key: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// A feed page in one format.
pub fn feed(page: &Page, f: Format) -> Result<Vec<u8>, FeedError> {
    match f {
        Format::Rss => Ok(rss::render(page)),
        Format::Atom => atom::render(page),
        Format::Json => json_feed::render(page),
    }
}

/// An account's six feeds and its profile page.
pub fn account_objects(cfg: &Config, account: &Account, feeds: &AccountFeeds) -> Result<Vec<Object>, FeedError> {
    let mut out = Vec::with_capacity(7);
    for (page, replies) in [(&feeds.posts, false), (&feeds.with_replies, true)] {
        for f in [Format::Rss, Format::Atom, Format::Json] {
            out.push(Object {
                key: objects::account_feed(&account.username, replies, f),
                bytes: feed(page, f)?,
                content_type: f.content_type(),
            });
        }
    }
    out.push(Object {
        key: objects::profile(&account.username),
        bytes: pages::profile(cfg, account, &feeds.posts),
        content_type: pages::CONTENT_TYPE,
    });
    Ok(out)
}

pub fn post_object(cfg: &Config, account: &Account, item: &Item) -> Object {
    Object {
        key: objects::post(&account.username, &item.id),
        bytes: pages::post(cfg, account, item),
        content_type: pages::CONTENT_TYPE,
    }
}

pub fn tag_objects(tag: &str, page: &Page) -> Result<Vec<Object>, FeedError> {
    [Format::Rss, Format::Atom]
        .into_iter()
        .map(|f| Ok(Object { key: objects::tag_feed(tag, f), bytes: feed(page, f)?, content_type: f.content_type() }))
        .collect()
}

/// Stores the objects, a few at a time.
pub async fn put_all(ctx: &Ctx, objs: Vec<Object>) -> Result<(), FeedError> {
    futures::stream::iter(objs)
        .map(|o| async move { ctx.stores.blobs.put(&o.key, o.bytes.into(), o.content_type).await })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Handles a render message. Re-rendering is idempotent: every object is overwritten with what
/// the table holds now, so a redelivered or repeated message does no harm.
pub async fn render(ctx: &Ctx, account_id: &str, tags: &[String], changed: &[String]) -> Result<(), FeedError> {
    let table = ctx.stores.table.as_ref();
    let Some(account) = accounts::by_id(table, account_id).await? else {
        tracing::info!(account_id, "render for an unknown account: nothing to do");
        return Ok(());
    };
    let n = crate::items();
    let feeds = load::account_feeds(ctx, &account, None, n, changed).await?;
    let mut objs = account_objects(&ctx.config, &account, &feeds)?;
    let author = Author::of(&ctx.config, &account);
    let mut deletes = Vec::new();
    if changed.is_empty() {
        // A profile change: the newest post pages show the new name and avatar too.
        objs.extend(feeds.with_replies.items.iter().map(|i| post_object(&ctx.config, &account, i)));
    } else {
        let found: HashMap<String, _> =
            statuses::get_many(table, changed).await?.into_iter().map(|s| (s.id.clone(), s)).collect();
        for id in changed.iter().filter(|id| statuses::valid_id(id)) {
            match found.get(id) {
                Some(s) if s.account_id == account.id && is_listed(s) => {
                    objs.push(post_object(&ctx.config, &account, &Item::of(&ctx.config, &author, s)))
                }
                // Deleted, or never public: no page.
                _ => deletes.push(objects::post(&account.username, id)),
            }
        }
    }
    let mut tags: Vec<&String> = tags.iter().collect();
    tags.sort();
    tags.dedup();
    for tag in tags {
        let page = load::tag_feed(ctx, tag, None, n, changed).await?;
        if page.items.is_empty() {
            deletes.extend([Format::Rss, Format::Atom].map(|f| objects::tag_feed(tag, f)));
        } else {
            objs.extend(tag_objects(tag, &page)?);
        }
    }
    put_all(ctx, objs).await?;
    for key in deletes {
        ctx.stores.blobs.delete(&key).await?;
    }
    Ok(())
}
