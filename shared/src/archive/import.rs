//! Restores an archive quietly: the statuses with their ids, times and media, the profile and
//! the relationships, written straight through the repositories. Nothing is published, queued,
//! delivered or notified: `import` is given the table and the bucket, never a queue.
//!
//! Two steps, so nothing is written from an archive that does not parse: `plan` reads every
//! document and checks every media file is there (no I/O); `import` then checks the account
//! holds nothing the archive would contradict, and writes.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use serde_json::Value;

use super::{invalid, key_of_path, Archive, ArchiveError, Progress};
use crate::activitypub::convert::{parse_time, remote_account, visibility_of};
use crate::activitypub::sanitize;
use crate::activitypub::vocab::{self, id_of, str_prop};
use crate::config::Config;
use crate::mastodon::convert::{account_url, actor_uri};
use crate::model::{valid_username, Account, Dimensions, Media, MentionRef, Status};
use crate::repo::{accounts, actors, follows, statuses};
use crate::store::{Blobs, Table};

/// The profile as the archive has it.
#[derive(Debug, Clone, PartialEq)]
struct Profile {
    display_name: String,
    note: String,
    fields: Vec<(String, String)>,
    locked: bool,
    bot: bool,
    discoverable: bool,
    avatar_key: Option<String>,
    header_key: Option<String>,
    created_at: i64,
}

/// A post as read from the archive; its author, mentions and parent are linked to accounts and
/// statuses of the target store when it is imported.
#[derive(Debug, Clone)]
struct Post {
    status: Status,
    mention_uris: Vec<String>,
    /// The archive's HTML, used only when the post has no `source` text to render again.
    archived_content: String,
}

#[derive(Debug, Clone)]
struct Boost {
    id: String,
    created_at: i64,
    object: String,
}

/// A parsed, checked archive, ready to import.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The username as the archive spells it.
    pub username: String,
    profile: Profile,
    posts: Vec<Post>,
    boosts: Vec<Boost>,
    followers: Vec<Account>,
    following: Vec<Account>,
    mentioned: Vec<Account>,
    /// Ids of the posts favourited and bookmarked.
    likes: Vec<String>,
    bookmarks: Vec<String>,
    /// Media files by blob key.
    files: BTreeMap<String, Bytes>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub account_created: bool,
    pub profile_updated: bool,
    pub posts_restored: usize,
    pub posts_already_there: usize,
    pub boosts_restored: usize,
    /// Boosts of posts this server does not hold (they are not fetched: the import is quiet).
    pub boosts_skipped: usize,
    pub followers_added: usize,
    pub following_added: usize,
    pub files_stored: usize,
    /// Favourites and bookmarks of posts this server holds (others are skipped, not fetched).
    pub likes_restored: usize,
    pub bookmarks_restored: usize,
    /// Mentions whose account neither the archive nor the table knows; the post keeps its link.
    pub mentions_unresolved: usize,
}

/// Reads and checks everything in the archive for `username`, without touching any store.
pub fn plan(archive: &Archive, username: &str) -> Result<Plan, ArchiveError> {
    let actor = archive.document(super::ACTOR).ok_or_else(|| ArchiveError::Missing(super::ACTOR.into()))?;
    let archived_name = str_prop(actor, "preferredUsername")
        .filter(|n| valid_username(n))
        .ok_or_else(|| invalid(super::ACTOR, "no valid preferredUsername"))?;
    if !archived_name.eq_ignore_ascii_case(username) {
        return Err(ArchiveError::WrongAccount { archive: archived_name.into(), requested: username.into() });
    }
    let actor_id = str_prop(actor, "id").ok_or_else(|| invalid(super::ACTOR, "no id"))?;
    let followers_uri = str_prop(actor, "followers").unwrap_or_default();
    let files: BTreeMap<String, Bytes> =
        archive.files.iter().filter_map(|(p, b)| Some((key_of_path(p)?.to_string(), b.clone()))).collect();
    let file_key = |doc: &str, url: &str| -> Result<String, ArchiveError> {
        let key = key_of_path(url).ok_or_else(|| invalid(doc, format!("`{url}` is not a media path")))?;
        if !files.contains_key(key) {
            return Err(ArchiveError::Missing(url.to_string()));
        }
        Ok(key.to_string())
    };
    let image_key = |prop: &str| -> Result<Option<String>, ArchiveError> {
        match actor.get(prop).and_then(|i| str_prop(i, "url")) {
            Some(url) => file_key(super::ACTOR, url).map(Some),
            None => Ok(None),
        }
    };
    let profile = Profile {
        display_name: str_prop(actor, "name").unwrap_or_default().chars().take(100).collect(),
        note: sanitize::clean(str_prop(actor, "summary").unwrap_or_default()),
        fields: vocab::list(actor.get("attachment"))
            .into_iter()
            .filter(|a| vocab::type_of(a) == "PropertyValue")
            .filter_map(|a| Some((str_prop(a, "name")?.to_string(), sanitize::clean(str_prop(a, "value")?))))
            .take(16)
            .collect(),
        locked: actor.get("manuallyApprovesFollowers").and_then(Value::as_bool).unwrap_or(false),
        bot: matches!(vocab::type_of(actor), "Service" | "Application"),
        discoverable: actor.get("discoverable").and_then(Value::as_bool).unwrap_or(true),
        avatar_key: image_key("icon")?,
        header_key: image_key("image")?,
        created_at: parse_time(str_prop(actor, "published")).unwrap_or_else(crate::clock::now_ms),
    };

    let outbox = archive.document(super::OUTBOX).ok_or_else(|| ArchiveError::Missing(super::OUTBOX.into()))?;
    let items = outbox
        .get("orderedItems")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(super::OUTBOX, "no orderedItems"))?;
    let mut posts = Vec::new();
    let mut boosts = Vec::new();
    let mut seen = HashSet::new();
    for item in items {
        match vocab::type_of(item) {
            "Create" => {
                let note = item.get("object").ok_or_else(|| invalid(super::OUTBOX, "a Create has no object"))?;
                let post = read_note(note, actor_id, followers_uri, &files, &file_key)?;
                if !seen.insert(post.status.id.clone()) {
                    return Err(invalid(super::OUTBOX, format!("status {} appears twice", post.status.id)));
                }
                posts.push(post);
            }
            "Announce" => {
                let id = str_prop(item, "id").and_then(local_id).ok_or_else(|| {
                    invalid(super::OUTBOX, format!("Announce {} is not a Petrel status id", id_of(item).unwrap_or("?")))
                })?;
                let object = item.get("object").and_then(id_of).ok_or_else(|| invalid(super::OUTBOX, "no object"))?;
                if !seen.insert(id.to_string()) {
                    return Err(invalid(super::OUTBOX, format!("status {id} appears twice")));
                }
                boosts.push(Boost {
                    id: id.to_string(),
                    created_at: parse_time(str_prop(item, "published")).unwrap_or(0),
                    object: object.to_string(),
                });
            }
            // Other activities (none that Petrel writes) have nothing to restore.
            _ => {}
        }
    }
    posts.sort_by(|a, b| snowflake_order(&a.status.id, &b.status.id));
    boosts.sort_by(|a, b| snowflake_order(&a.id, &b.id));

    let actors_in = |name: &str| -> Result<Vec<Account>, ArchiveError> {
        let Some(doc) = archive.document(name) else { return Ok(Vec::new()) };
        vocab::list(doc.get("orderedItems"))
            .into_iter()
            .map(|a| remote_account(a, crate::ids::snowflake(), 0).map_err(|e| invalid(name, e.to_string())))
            .collect()
    };
    Ok(Plan {
        username: archived_name.to_string(),
        profile,
        posts,
        boosts,
        followers: actors_in(super::FOLLOWERS)?,
        following: actors_in(super::FOLLOWING)?,
        mentioned: actors_in(super::MENTIONED)?,
        likes: ids_in(archive, super::LIKES),
        bookmarks: ids_in(archive, super::BOOKMARKS),
        files,
    })
}

fn ids_in(archive: &Archive, name: &str) -> Vec<String> {
    let Some(doc) = archive.document(name) else { return Vec::new() };
    vocab::ids(doc.get("orderedItems")).into_iter().map(str::to_string).collect()
}

fn snowflake_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a.len(), a).cmp(&(b.len(), b))
}

/// The status id at the end of `…/statuses/{id}` (or `…/statuses/{id}/activity`).
fn local_id(uri: &str) -> Option<&str> {
    let rest = uri.rsplit_once("/statuses/")?.1;
    let id = rest.strip_suffix("/activity").unwrap_or(rest);
    statuses::valid_id(id).then_some(id)
}

fn read_note(
    note: &Value,
    actor_id: &str,
    followers_uri: &str,
    files: &BTreeMap<String, Bytes>,
    file_key: &dyn Fn(&str, &str) -> Result<String, ArchiveError>,
) -> Result<Post, ArchiveError> {
    let file = super::OUTBOX;
    let uri = str_prop(note, "id").ok_or_else(|| invalid(file, "a Note has no id"))?;
    let id = local_id(uri).ok_or_else(|| invalid(file, format!("{uri} is not a Petrel status id")))?;
    if note.get("attributedTo").and_then(id_of) != Some(actor_id) {
        return Err(invalid(file, format!("{uri} is not attributed to {actor_id}")));
    }
    let visibility = visibility_of(note, Some(followers_uri).filter(|f| !f.is_empty()));
    let mut tags = Vec::new();
    let mut mention_uris = Vec::new();
    for t in vocab::list(note.get("tag")) {
        match (vocab::type_of(t), str_prop(t, "name"), str_prop(t, "href")) {
            ("Hashtag", Some(name), _) => tags.push(name.trim_start_matches('#').to_string()),
            ("Mention", _, Some(href)) => mention_uris.push(href.to_string()),
            _ => {}
        }
    }
    let created_at =
        parse_time(str_prop(note, "published")).ok_or_else(|| invalid(file, format!("{uri} has no published time")))?;
    let mut media = Vec::new();
    for a in vocab::list(note.get("attachment")) {
        media.push(read_attachment(a, id, created_at, files, file_key)?);
    }
    let text = note
        .get("source")
        .filter(|s| str_prop(s, "mediaType").is_none_or(|t| t == "text/plain"))
        .and_then(|s| str_prop(s, "content"))
        .unwrap_or_default();
    Ok(Post {
        status: Status {
            id: id.to_string(),
            account_id: String::new(),
            text: text.to_string(),
            content: String::new(),
            spoiler_text: str_prop(note, "summary").unwrap_or_default().to_string(),
            visibility,
            sensitive: note.get("sensitive").and_then(Value::as_bool).unwrap_or(false),
            language: note.get("contentMap").and_then(|m| m.as_object()?.keys().next().cloned()),
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            in_reply_to_uri: note.get("inReplyTo").and_then(id_of).map(str::to_string),
            created_at,
            edited_at: parse_time(str_prop(note, "updated")),
            tags,
            mentions: Vec::new(),
            favourites_count: 0,
            reblogs_count: 0,
            replies_count: 0,
            media,
            application: None,
            application_website: None,
            remote_uri: None,
            remote_url: None,
            reblog_of: None,
            conversation: None,
            poll: None,
            poll_tally: Default::default(),
            emojis: Vec::new(),
            card: None,
            ttl: None,
        },
        mention_uris,
        archived_content: str_prop(note, "content").unwrap_or_default().to_string(),
    })
}

fn read_attachment(
    a: &Value,
    status_id: &str,
    created_at: i64,
    files: &BTreeMap<String, Bytes>,
    file_key: &dyn Fn(&str, &str) -> Result<String, ArchiveError>,
) -> Result<Media, ArchiveError> {
    let file = super::OUTBOX;
    let url = str_prop(a, "url").ok_or_else(|| invalid(file, format!("an attachment of {status_id} has no url")))?;
    let content_type = str_prop(a, "mediaType").unwrap_or("application/octet-stream").to_string();
    let dim = |v: &Value, name: &str| v.get(name).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
    let kind = match content_type.split('/').next() {
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ => "unknown",
    };
    let mut m = Media {
        id: crate::ids::snowflake(),
        account_id: String::new(),
        kind: kind.into(),
        content_type,
        original_key: String::new(),
        small_key: String::new(),
        original: Dimensions { width: dim(a, "width").unwrap_or(0), height: dim(a, "height").unwrap_or(0), size: 0 },
        small: Dimensions { width: 0, height: 0, size: 0 },
        blurhash: str_prop(a, "blurhash").unwrap_or_default().to_string(),
        description: str_prop(a, "name").map(str::to_string),
        focus: a
            .get("focalPoint")
            .and_then(Value::as_array)
            .and_then(|p| Some((p.first()?.as_f64()?.clamp(-1.0, 1.0), p.get(1)?.as_f64()?.clamp(-1.0, 1.0)))),
        created_at,
        status_id: Some(status_id.to_string()),
        ttl: None,
        remote_url: None,
    };
    if vocab::host_of(url).is_some() {
        // Linked, not held (Petrel never writes these for its own posts, but keeps them if found).
        m.remote_url = Some(url.to_string());
        return Ok(m);
    }
    m.original_key = file_key(file, url)?;
    // The upload's id is in its key (`media/{id}/original.…`), so it comes back as it was.
    m.id = m
        .original_key
        .split('/')
        .nth(1)
        .filter(|id| m.original_key.starts_with("media/") && statuses::valid_id(id))
        .map_or(m.id, str::to_string);
    m.original.size = files.get(&m.original_key).map_or(0, |b| b.len() as u64);
    // No icon: audio and video uploaded without a thumbnail have no preview.
    if let Some((icon, small_url)) = a.get("icon").and_then(|i| Some((i, str_prop(i, "url")?))) {
        m.small_key = file_key(file, small_url)?;
        m.small = Dimensions {
            width: dim(icon, "width").unwrap_or(0),
            height: dim(icon, "height").unwrap_or(0),
            size: files.get(&m.small_key).map_or(0, |b| b.len() as u64),
        };
    }
    Ok(m)
}

/// What must match between a stored post and the archive's for the import to count it as the
/// same post (counters, the app and derived HTML may differ).
fn same_post(stored: &Status, archived: &Status) -> bool {
    let media = |s: &Status| -> Vec<(String, String, String, String, Option<String>)> {
        s.media
            .iter()
            .map(|m| {
                (m.id.clone(), m.original_key.clone(), m.small_key.clone(), m.blurhash.clone(), m.description.clone())
            })
            .collect()
    };
    stored.text == archived.text
        && stored.spoiler_text == archived.spoiler_text
        && stored.visibility == archived.visibility
        && stored.sensitive == archived.sensitive
        && stored.created_at == archived.created_at
        && stored.edited_at == archived.edited_at
        && stored.tags == archived.tags
        && stored.in_reply_to_uri == archived.in_reply_to_uri
        && stored.reblog_of.is_none()
        && media(stored) == media(archived)
}

/// Restores the plan into `username`'s account (created when missing, without a password).
/// Refuses, before writing anything, when the account holds posts that are not the archive's.
pub async fn import(
    cfg: &Config,
    table: &dyn Table,
    blobs: &dyn Blobs,
    plan: &Plan,
    progress: &dyn Progress,
) -> Result<Report, ArchiveError> {
    let mut report = Report::default();
    let existing = accounts::by_username(table, &plan.username).await?;
    if existing.as_ref().is_some_and(|a| !a.is_local()) {
        return Err(ArchiveError::Conflict(format!("`{}` is not a local account", plan.username)));
    }

    // Checks first: every post the account has must be the archive's, and no post id of the
    // archive may belong to anyone else.
    let archived_ids: Vec<String> =
        plan.posts.iter().map(|p| p.status.id.clone()).chain(plan.boosts.iter().map(|b| b.id.clone())).collect();
    let archived_set: HashSet<&String> = archived_ids.iter().collect();
    let owner = existing.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
    if let Some(account) = &existing {
        let foreign =
            statuses::all_ids_of(table, &account.id).await?.into_iter().filter(|id| !archived_set.contains(id));
        let foreign: Vec<String> = foreign.collect();
        if !foreign.is_empty() {
            return Err(ArchiveError::Conflict(format!(
                "@{} already has {} posts that are not in this archive (for example {}); import into a new account",
                plan.username,
                foreign.len(),
                foreign[0]
            )));
        }
    }
    let mut stored: HashMap<String, Status> = HashMap::new();
    for chunk in archived_ids.chunks(crate::store::table::MAX_BATCH_GET_KEYS) {
        for s in statuses::get_many(table, chunk).await? {
            if s.account_id != owner {
                return Err(ArchiveError::Conflict(format!("status {} exists and belongs to another account", s.id)));
            }
            stored.insert(s.id.clone(), s);
        }
    }
    for post in &plan.posts {
        if let Some(s) = stored.get(&post.status.id) {
            if !same_post(s, &post.status) {
                return Err(ArchiveError::Conflict(format!(
                    "status {} exists with other content; this archive would overwrite it",
                    s.id
                )));
            }
        }
    }

    let account = match existing {
        Some(a) => a,
        None => {
            report.account_created = true;
            accounts::create_without_password(table, &plan.username, plan.profile.created_at).await?
        }
    };
    let account = restore_profile(table, blobs, plan, account, &mut report).await?;

    progress.phase("restoring accounts", (plan.followers.len() + plan.following.len() + plan.mentioned.len()) as u64);
    let mut by_uri: HashMap<String, Account> = HashMap::new();
    for fresh in plan.followers.iter().chain(&plan.following).chain(&plan.mentioned) {
        let uri = fresh.remote.as_ref().map(|r| r.uri.clone()).unwrap_or_default();
        if by_uri.contains_key(&uri) {
            progress.advance(1);
            continue;
        }
        // A cached actor is kept: it may be fresher than the archive's copy.
        let acct = match actors::by_uri(table, &uri).await? {
            Some(a) => a,
            None => actors::save(table, fresh.clone()).await?,
        };
        by_uri.insert(uri, acct);
        progress.advance(1);
    }
    let uri_of = |a: &Account| a.remote.as_ref().map(|r| r.uri.clone()).unwrap_or_default();
    for f in &plan.followers {
        if let Some(follower) = by_uri.get(&uri_of(f)) {
            // A relationship keeps the actor in the cache (`actors::keep`).
            actors::keep(table, follower).await?;
            if !follows::is_follower(table, &account.id, &follower.id).await?
                && follows::add_follower(table, &account, follower, "").await?
            {
                report.followers_added += 1;
            }
        }
    }
    for f in &plan.following {
        if let Some(target) = by_uri.get(&uri_of(f)) {
            actors::keep(table, target).await?;
            if follows::following(table, &account.id, &target.id).await?.is_none() {
                follows::request_following(table, &account.id, &target.id, &crate::ids::snowflake()).await?;
                follows::accept_following(table, &account.id, &target.id).await?;
                report.following_added += 1;
            }
        }
    }

    progress.phase("restoring posts", (plan.posts.len() + plan.boosts.len()) as u64);
    let local_actor_prefix = format!("{}/users/", cfg.base_url());
    for post in &plan.posts {
        if stored.contains_key(&post.status.id) {
            report.posts_already_there += 1;
            progress.advance(1);
            continue;
        }
        let mut s = post.status.clone();
        s.account_id = account.id.clone();
        for m in &mut s.media {
            m.account_id = account.id.clone();
        }
        for uri in &post.mention_uris {
            let found = match uri.strip_prefix(&local_actor_prefix) {
                Some(name) => accounts::by_username(table, name).await?,
                None => match by_uri.get(uri) {
                    Some(a) => Some(a.clone()),
                    None => actors::by_uri(table, uri).await?,
                },
            };
            match found {
                Some(a) => s.mentions.push(mention_ref(cfg, &a)),
                None => report.mentions_unresolved += 1,
            }
        }
        s.content = if s.text.is_empty() {
            sanitize::clean(&post.archived_content)
        } else {
            render_again(&s.text, cfg, &s.mentions)
        };
        if let Some(parent_uri) = &s.in_reply_to_uri {
            if let Some(p) = held(cfg, table, parent_uri).await? {
                s.in_reply_to_id = Some(p.id);
                s.in_reply_to_account_id = Some(p.account_id);
            }
        }
        // Files first: a status never points at a file that is not there.
        for m in &s.media {
            for key in [&m.original_key, &m.small_key] {
                if let Some(bytes) = plan.files.get(key.as_str()).filter(|_| !key.is_empty()) {
                    blobs.put(key, bytes.clone(), &m.content_type).await?;
                    report.files_stored += 1;
                }
            }
        }
        if statuses::restore(table, &s).await? {
            report.posts_restored += 1;
        } else {
            report.posts_already_there += 1;
        }
        progress.advance(1);
    }

    for b in &plan.boosts {
        progress.advance(1);
        if stored.contains_key(&b.id) {
            continue;
        }
        let Some(original) = held(cfg, table, &b.object).await? else {
            report.boosts_skipped += 1;
            continue;
        };
        let boost = Status::boost(b.id.clone(), account.id.clone(), original.id.clone(), b.created_at);
        if statuses::create_reblog(table, &boost, &original, None).await?.is_some() {
            report.boosts_restored += 1;
        }
    }
    restore_marks(cfg, table, plan, &account, &mut report).await?;
    Ok(report)
}

/// A post this server holds, by its ActivityPub id.
async fn held(cfg: &Config, table: &dyn Table, uri: &str) -> Result<Option<Status>, ArchiveError> {
    let local_actor_prefix = format!("{}/users/", cfg.base_url());
    Ok(match local_id(uri) {
        Some(id) if uri.starts_with(&local_actor_prefix) => statuses::get(table, id).await?,
        _ => statuses::by_uri(table, uri).await?,
    })
}

/// Favourites and bookmarks, each written only when missing so a second import writes nothing.
async fn restore_marks(
    cfg: &Config,
    table: &dyn Table,
    plan: &Plan,
    account: &Account,
    report: &mut Report,
) -> Result<(), ArchiveError> {
    for (uris, bookmark) in [(&plan.likes, false), (&plan.bookmarks, true)] {
        let mut ids = Vec::new();
        for uri in uris {
            if let Some(s) = held(cfg, table, uri).await? {
                ids.push(s.id);
            }
        }
        let marked = statuses::get_many_for(table, Some(&account.id), &ids, crate::repo::Freshness::Strong).await?;
        for (s, marks) in marked {
            if bookmark && !marks.bookmarked {
                statuses::set_mark(table, statuses::Mark::Bookmark, &account.id, &s.id, true).await?;
                report.bookmarks_restored += 1;
            } else if !bookmark && !marks.favourited {
                statuses::favourite(table, &account.id, &s.id).await?;
                report.likes_restored += 1;
            }
        }
    }
    Ok(())
}

/// The profile, with its images stored first; untouched when it already is the archive's.
async fn restore_profile(
    table: &dyn Table,
    blobs: &dyn Blobs,
    plan: &Plan,
    account: Account,
    report: &mut Report,
) -> Result<Account, ArchiveError> {
    let p = &plan.profile;
    let same = account.display_name == p.display_name
        && account.note == p.note
        && account.fields == p.fields
        && account.locked == p.locked
        && account.bot == p.bot
        && account.discoverable == p.discoverable
        && (p.avatar_key.is_none() || account.avatar_key == p.avatar_key)
        && (p.header_key.is_none() || account.header_key == p.header_key);
    if same {
        return Ok(account);
    }
    for key in [&p.avatar_key, &p.header_key].into_iter().flatten() {
        if let Some(bytes) = plan.files.get(key) {
            blobs.put(key, bytes.clone(), media_type_of(key)).await?;
            report.files_stored += 1;
        }
    }
    report.profile_updated = true;
    let update = accounts::ProfileUpdate {
        display_name: Some(p.display_name.clone()),
        note: Some(p.note.clone()),
        locked: Some(p.locked),
        bot: Some(p.bot),
        discoverable: Some(p.discoverable),
        fields: Some(p.fields.clone()),
        avatar_key: p.avatar_key.clone(),
        header_key: p.header_key.clone(),
        posting: None,
    };
    Ok(accounts::update_profile(table, &account.id, update).await?)
}

fn media_type_of(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "image/jpeg",
    }
}

fn mention_ref(cfg: &Config, a: &Account) -> MentionRef {
    let (url, uri) = match &a.remote {
        Some(r) => (r.url.clone(), r.uri.clone()),
        None => (account_url(cfg, &a.username), actor_uri(cfg, &a.username)),
    };
    MentionRef { account_id: a.id.clone(), username: a.username.clone(), acct: a.acct(), url, uri: Some(uri) }
}

/// The post's HTML rendered from its text again, as posting rendered it: safe whatever the
/// archive's HTML says, and the same links for the same mentions.
fn render_again(text: &str, cfg: &Config, mentions: &[MentionRef]) -> String {
    let resolved: Vec<crate::text::ResolvedMention> = crate::text::mention_candidates(text)
        .into_iter()
        .filter_map(|typed| {
            let acct = typed.get(1..)?;
            let (name, domain) = acct.split_once('@').map_or((acct, None), |(n, d)| (n, Some(d)));
            let local = domain
                .is_none_or(|d| d.eq_ignore_ascii_case(&cfg.handle_domain) || d.eq_ignore_ascii_case(&cfg.domain));
            let m = mentions.iter().find(|m| {
                if local {
                    !m.acct.contains('@') && m.username.eq_ignore_ascii_case(name)
                } else {
                    m.acct.eq_ignore_ascii_case(acct)
                }
            })?;
            Some(crate::text::ResolvedMention {
                typed: typed.clone(),
                url: m.url.clone(),
                username: m.username.clone(),
            })
        })
        .collect();
    crate::text::render(text, &cfg.base_url(), &resolved).html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Visibility;
    use serde_json::json;

    fn archive(attachment_url: &str, attributed_to: &str) -> Archive {
        let actor = "https://p.example/users/ann";
        let mut a = Archive::default();
        a.documents.insert(
            super::super::ACTOR.into(),
            json!({ "id": actor, "type": "Person", "preferredUsername": "ann", "followers": format!("{actor}/followers") }),
        );
        let note = json!({
            "id": format!("{actor}/statuses/123456"), "type": "Note", "attributedTo": attributed_to,
            "content": "<p>hi</p>", "published": "2026-01-02T03:04:05.678Z", "to": [format!("{actor}/followers")],
            "cc": [], "source": { "content": "hi", "mediaType": "text/plain" },
            "attachment": [{ "type": "Document", "mediaType": "image/png", "url": attachment_url, "width": 3, "height": 2 }],
        });
        a.documents.insert(
            super::super::OUTBOX.into(),
            json!({ "type": "OrderedCollection", "orderedItems": [{ "type": "Create", "object": note }] }),
        );
        a.files.insert("media_attachments/files/media/99/original.png".into(), Bytes::from_static(b"png"));
        a
    }

    #[test]
    fn a_note_reads_back_as_the_status_it_was() {
        let plan =
            plan(&archive("media_attachments/files/media/99/original.png", "https://p.example/users/ann"), "ANN")
                .unwrap();
        assert_eq!(plan.username, "ann");
        let s = &plan.posts[0].status;
        assert_eq!((s.id.as_str(), s.text.as_str(), s.visibility), ("123456", "hi", Visibility::Private));
        assert_eq!(s.created_at, 1_767_323_045_678);
        let m = &s.media[0];
        assert_eq!((m.id.as_str(), m.original_key.as_str(), m.original.size), ("99", "media/99/original.png", 3));
    }

    #[test]
    fn missing_files_foreign_notes_and_other_accounts_are_refused() {
        let missing =
            plan(&archive("media_attachments/files/media/98/original.png", "https://p.example/users/ann"), "ann");
        assert!(matches!(missing, Err(ArchiveError::Missing(_))), "{missing:?}");
        let foreign =
            plan(&archive("media_attachments/files/media/99/original.png", "https://q.example/users/x"), "ann");
        assert!(matches!(foreign, Err(ArchiveError::Invalid { .. })), "{foreign:?}");
        let escape = plan(&archive("media_attachments/files/../../etc/passwd", "https://p.example/users/ann"), "ann");
        assert!(matches!(escape, Err(ArchiveError::Invalid { .. })), "{escape:?}");
        let other =
            plan(&archive("media_attachments/files/media/99/original.png", "https://p.example/users/ann"), "bob");
        assert!(matches!(other, Err(ArchiveError::WrongAccount { .. })), "{other:?}");
    }
}
