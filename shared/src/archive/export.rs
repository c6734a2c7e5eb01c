//! Builds an account's archive from the table and the bucket (reads only).

use std::collections::{BTreeSet, HashSet};

use serde_json::{json, Value};

use super::{collection, file_path, Archive, ArchiveError, Progress};
use crate::activitypub::convert;
use crate::config::Config;
use crate::mastodon::convert::{actor_uri, status_uri};
use crate::model::{Account, Media, Status};
use crate::repo::{accounts, follows, keys, statuses};
use crate::store::{str_attr_of, Blobs, Query, Table, SK};

/// Everything of `username` an archive holds. Fails, rather than writing an archive that
/// silently lacks something, when a media file is missing from the bucket.
pub async fn export(
    cfg: &Config,
    table: &dyn Table,
    blobs: &dyn Blobs,
    username: &str,
    progress: &dyn Progress,
) -> Result<Archive, ArchiveError> {
    let account = accounts::by_username(table, username)
        .await?
        .filter(Account::is_local)
        .ok_or_else(|| ArchiveError::NoAccount(username.to_string()))?;
    let mut archive = Archive::default();
    let mut keys_needed = BTreeSet::new();

    let mut actor = convert::actor(cfg, &account);
    for (prop, key) in [("icon", &account.avatar_key), ("image", &account.header_key)] {
        if let Some(k) = key {
            actor[prop]["url"] = json!(file_path(k));
            keys_needed.insert(k.clone());
        }
    }
    archive.documents.insert(super::ACTOR.into(), actor);

    let ids = statuses::all_ids_of(table, &account.id).await?;
    progress.phase("reading posts", ids.len() as u64);
    let mut items = Vec::with_capacity(ids.len());
    let mut mentioned = BTreeSet::new();
    for chunk in ids.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        let mut batch = statuses::get_many(table, chunk).await?;
        batch.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        for s in batch {
            match &s.reblog_of {
                Some(original) => {
                    if let Some(item) = announce(cfg, table, &account, &s, original).await? {
                        items.push(item);
                    }
                }
                None => {
                    mentioned.extend(s.mentions.iter().map(|m| m.account_id.clone()));
                    items.push(create(cfg, &account, &s, &mut keys_needed));
                }
            }
            progress.advance(1);
        }
    }
    archive.documents.insert(super::OUTBOX.into(), collection(super::OUTBOX, items));

    progress.phase("reading media", keys_needed.len() as u64);
    for key in keys_needed {
        let blob = blobs.get(&key).await?.ok_or_else(|| ArchiveError::MissingBlob(key.clone()))?;
        archive.files.insert(file_path(&key), blob.bytes);
        progress.advance(1);
    }

    progress.phase("reading followers", account.followers_count.max(0) as u64);
    let mut follower_ids = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = follows::followers_page(table, &account.id, cursor, 100).await?;
        progress.advance(page.len() as u64);
        follower_ids.extend(page.into_iter().map(|(id, _)| id));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let following_ids = accepted_following(table, &account.id).await?;
    let known: HashSet<&String> = follower_ids.iter().chain(&following_ids).collect();
    let mentioned: Vec<String> = mentioned.into_iter().filter(|id| !known.contains(id)).collect();
    for (name, ids) in
        [(super::FOLLOWERS, &follower_ids), (super::FOLLOWING, &following_ids), (super::MENTIONED, &mentioned)]
    {
        let actors = accounts::by_ids(table, ids).await?;
        let docs = actors.iter().filter_map(super::remote_actor_document).collect();
        archive.documents.insert(name.into(), collection(name, docs));
    }

    for (name, pk) in [(super::LIKES, keys::favourites(&account.id)), (super::BOOKMARKS, keys::bookmarks(&account.id))]
    {
        let ids = all_sort_keys(table, &pk).await?;
        let mut uris = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
            for s in statuses::get_many(table, chunk).await? {
                uris.push(json!(uri_of(cfg, table, &s).await?));
            }
        }
        archive.documents.insert(name.into(), collection(name, uris));
    }
    Ok(archive)
}

/// Create(Note) as federation sends it, with the archive's additions: the typed text as
/// `source`, attachments pointing into the archive, and the small rendition as the
/// attachment's `icon`.
fn create(cfg: &Config, author: &Account, s: &Status, keys_needed: &mut BTreeSet<String>) -> Value {
    let mut activity = convert::create(cfg, author, s);
    let note = &mut activity["object"];
    note["source"] = json!({ "content": s.text, "mediaType": "text/plain" });
    if let Some(docs) = note["attachment"].as_array_mut() {
        for (doc, m) in docs.iter_mut().zip(&s.media) {
            archive_attachment(doc, m, keys_needed);
        }
    }
    activity
}

fn archive_attachment(doc: &mut Value, m: &Media, keys_needed: &mut BTreeSet<String>) {
    if m.remote_url.is_some() || m.original_key.is_empty() {
        return;
    }
    doc["url"] = json!(file_path(&m.original_key));
    keys_needed.insert(m.original_key.clone());
    if !m.small_key.is_empty() {
        doc["icon"] = json!({
            "type": "Image",
            "mediaType": m.content_type,
            "url": file_path(&m.small_key),
            "width": m.small.width,
            "height": m.small.height,
        });
        keys_needed.insert(m.small_key.clone());
    }
}

/// Announce of a boost; `None` when the boosted post is gone.
async fn announce(
    cfg: &Config,
    table: &dyn Table,
    account: &Account,
    boost: &Status,
    original_id: &str,
) -> Result<Option<Value>, ArchiveError> {
    let Some(original) = statuses::get(table, original_id).await? else {
        return Ok(None);
    };
    let Some(author) = accounts::by_id(table, &original.account_id).await? else {
        return Ok(None);
    };
    let author_uri = match &author.remote {
        Some(r) => r.uri.clone(),
        None => actor_uri(cfg, &author.username),
    };
    let object = uri_of(cfg, table, &original).await?;
    Ok(Some(convert::announce(cfg, account, boost, &object, &author_uri)))
}

/// A status's ActivityPub id: its remote id, or the one derived from its local author.
async fn uri_of(cfg: &Config, table: &dyn Table, s: &Status) -> Result<String, ArchiveError> {
    if let Some(uri) = &s.remote_uri {
        return Ok(uri.clone());
    }
    let author = accounts::by_id(table, &s.account_id).await?;
    Ok(status_uri(cfg, author.as_ref().map_or("unknown", |a| a.username.as_str()), &s.id))
}

async fn all_sort_keys(table: &dyn Table, pk: &str) -> Result<Vec<String>, ArchiveError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(Query::new(pk).limit(500).cursor(cursor)).await?;
        out.extend(page.items.iter().filter_map(|i| str_attr_of(i, SK)).map(str::to_string));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Accounts whose follow by `local_id` was accepted (pending requests are not relationships yet).
async fn accepted_following(table: &dyn Table, local_id: &str) -> Result<Vec<String>, ArchiveError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(Query::new(keys::followings(local_id)).limit(500).cursor(cursor)).await?;
        out.extend(
            page.items
                .iter()
                .filter(|i| str_attr_of(i, "state") == Some("accepted"))
                .filter_map(|i| str_attr_of(i, SK))
                .map(str::to_string),
        );
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}
