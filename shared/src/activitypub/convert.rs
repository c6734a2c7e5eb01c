//! Stored types ↔ ActivityPub documents, in one place: what Petrel publishes (actors, Notes and
//! the activities around them) and what it keeps of what others send (actors, Notes).

use serde_json::{json, Value};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;

use super::extras;
use super::sanitize;
use super::vocab::{self, id_of, str_prop, PUBLIC};
use crate::clock::iso8601_ms;
use crate::config::Config;
use crate::mastodon::convert::{account_url, actor_uri, status_uri, status_url};
use crate::model::{Account, Dimensions, Media, RemoteActor, Status, Visibility};

#[derive(Debug, Error, PartialEq)]
pub enum ApError {
    #[error("invalid {what}: {problem}")]
    Invalid { what: &'static str, problem: String },
}

fn invalid(what: &'static str, problem: impl Into<String>) -> ApError {
    ApError::Invalid { what, problem: problem.into() }
}

pub fn key_id(cfg: &Config, username: &str) -> String {
    format!("{}#main-key", actor_uri(cfg, username))
}

pub fn followers_uri(cfg: &Config, username: &str) -> String {
    format!("{}/followers", actor_uri(cfg, username))
}

/// The shared inbox every local actor names.
pub fn shared_inbox(cfg: &Config) -> String {
    format!("{}/inbox", cfg.base_url())
}

fn image(url: String, media_type: Option<&str>) -> Value {
    let mut v = json!({ "type": "Image", "url": url });
    if let Some(mt) = media_type {
        v["mediaType"] = json!(mt);
    }
    v
}

fn media_type_of_key(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "image/jpeg",
    }
}

/// A local account as its actor document (Mastodon's shape, so Mastodon shows everything).
pub fn actor(cfg: &Config, a: &Account) -> Value {
    let id = actor_uri(cfg, &a.username);
    let mut doc = json!({
        "@context": vocab::context(),
        "id": id,
        "type": if a.bot { "Service" } else { "Person" },
        "preferredUsername": a.username,
        "name": a.display_name,
        "summary": a.note,
        "url": account_url(cfg, &a.username),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "followers": format!("{id}/followers"),
        "following": format!("{id}/following"),
        "featured": format!("{id}/collections/featured"),
        "featuredTags": format!("{id}/collections/tags"),
        "endpoints": { "sharedInbox": shared_inbox(cfg) },
        "manuallyApprovesFollowers": a.locked,
        "discoverable": a.discoverable,
        "indexable": a.discoverable,
        "published": iso8601_ms(a.created_at - a.created_at.rem_euclid(86_400_000)),
        "publicKey": { "id": key_id(cfg, &a.username), "owner": id, "publicKeyPem": a.public_key_pem },
        "attachment": a.fields.iter().map(|(name, value)| json!({
            "type": "PropertyValue", "name": name, "value": value,
        })).collect::<Vec<_>>(),
    });
    if let Some(k) = &a.avatar_key {
        doc["icon"] = image(format!("{}/{k}", cfg.media_base), Some(media_type_of_key(k)));
    }
    if let Some(k) = &a.header_key {
        doc["image"] = image(format!("{}/{k}", cfg.media_base), Some(media_type_of_key(k)));
    }
    doc
}

/// `to` and `cc` of a status, as Mastodon addresses each visibility.
pub fn audience(cfg: &Config, author: &Account, s: &Status) -> (Vec<String>, Vec<String>) {
    let followers = followers_uri(cfg, &author.username);
    let mentioned: Vec<String> = s.mentions.iter().map(|m| m.uri.clone().unwrap_or_else(|| m.url.clone())).collect();
    match s.visibility {
        Visibility::Public => (vec![PUBLIC.into()], [vec![followers], mentioned].concat()),
        Visibility::Unlisted => (vec![followers], [vec![PUBLIC.into()], mentioned].concat()),
        Visibility::Private => (vec![followers], mentioned),
        Visibility::Direct => (mentioned, Vec::new()),
    }
}

/// A local status as a Note.
pub fn note(cfg: &Config, author: &Account, s: &Status) -> Value {
    let (to, cc) = audience(cfg, author, s);
    let mut tags: Vec<Value> = s
        .mentions
        .iter()
        .map(|m| {
            json!({ "type": "Mention", "href": m.uri.clone().unwrap_or_else(|| m.url.clone()), "name": format!("@{}", m.acct) })
        })
        .collect();
    tags.extend(s.tags.iter().map(
        |t| json!({ "type": "Hashtag", "href": format!("{}/tags/{t}", cfg.base_url()), "name": format!("#{t}") }),
    ));
    let attachments: Vec<Value> = s.media.iter().map(|m| document(cfg, m)).collect();
    let mut note = json!({
        "id": status_uri(cfg, &author.username, &s.id),
        "type": "Note",
        "attributedTo": actor_uri(cfg, &author.username),
        "content": s.content,
        "summary": if s.spoiler_text.is_empty() { Value::Null } else { json!(s.spoiler_text) },
        "sensitive": s.sensitive,
        "published": iso8601_ms(s.created_at),
        "url": status_url(cfg, &author.username, &s.id),
        "to": to,
        "cc": cc,
        "inReplyTo": s.in_reply_to_uri,
        "tag": tags,
        "attachment": attachments,
    });
    if let Some(lang) = &s.language {
        note["contentMap"] = json!({ lang.clone(): s.content });
    }
    if let Some(at) = s.edited_at {
        note["updated"] = json!(iso8601_ms(at));
    }
    if let Some(poll) = &s.poll {
        question(&mut note, s, poll);
    }
    note
}

/// A status with a poll goes out as a Question, as Mastodon sends it: the options under `oneOf`
/// (or `anyOf` for multiple choice), each with its count in `replies.totalItems`.
fn question(note: &mut Value, s: &Status, poll: &crate::model::Poll) {
    let (votes, _, voters) = crate::repo::polls::counts(s).unwrap_or_default();
    let options: Vec<Value> = poll
        .options
        .iter()
        .zip(votes.iter().chain(std::iter::repeat(&0)))
        .map(|(name, n)| json!({ "type": "Note", "name": name, "replies": { "type": "Collection", "totalItems": n } }))
        .collect();
    note["type"] = json!("Question");
    note[if poll.multiple { "anyOf" } else { "oneOf" }] = json!(options);
    note["votersCount"] = json!(voters.unwrap_or(0));
    if let Some(end) = poll.expires_at {
        note["endTime"] = json!(iso8601_ms(end));
        if end <= crate::clock::now_ms() {
            note["closed"] = json!(iso8601_ms(end));
        }
    }
}

/// Update(Question) with a local poll's current results; `at` (ms) makes each one distinct.
pub fn poll_update(cfg: &Config, author: &Account, s: &Status, at: i64) -> Value {
    let note = note(cfg, author, s);
    with_context(json!({
        "id": format!("{}#updates/poll-{at}", status_uri(cfg, &author.username, &s.id)),
        "type": "Update",
        "actor": actor_uri(cfg, &author.username),
        "published": iso8601_ms(at),
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }))
}

/// A local account's vote on a remote poll, as Mastodon sends one: Create of a Note whose `name`
/// is the option, in reply to the Question, addressed to its author only.
pub fn poll_vote(cfg: &Config, voter: &Account, question: &str, author: &str, option: &str, vote_id: &str) -> Value {
    let actor = actor_uri(cfg, &voter.username);
    let id = format!("{actor}#votes/{vote_id}");
    with_context(json!({
        "id": format!("{id}/activity"),
        "type": "Create",
        "actor": actor,
        "to": [author],
        "object": {
            "id": id,
            "type": "Note",
            "name": option,
            "attributedTo": actor,
            "to": [author],
            "inReplyTo": question,
        },
    }))
}

/// The poll of a remote Question (Mastodon's shape): `oneOf` or `anyOf` options with
/// `replies.totalItems`, `votersCount`, `endTime`, `closed`.
pub fn remote_poll(q: &Value) -> Option<crate::model::Poll> {
    let (list, multiple) = match (q.get("oneOf"), q.get("anyOf")) {
        (Some(one), _) => (one, false),
        (None, Some(any)) => (any, true),
        (None, None) => return None,
    };
    let mut options = Vec::new();
    let mut counts = Vec::new();
    for o in vocab::list(Some(list)).into_iter().take(crate::model::poll::MAX_REMOTE_OPTIONS) {
        let Some(name) = str_prop(o, "name") else { continue };
        options.push(capped(sanitize::text(name), MAX_NAME_CHARS * 4));
        counts.push(o.pointer("/replies/totalItems").and_then(Value::as_i64).unwrap_or(0).max(0));
    }
    if options.is_empty() {
        return None;
    }
    let closed = parse_time(str_prop(q, "closed"));
    Some(crate::model::Poll {
        options,
        multiple,
        hide_totals: false,
        expires_at: parse_time(str_prop(q, "endTime")).or(closed),
        remote_counts: counts,
        remote_voters: q.get("votersCount").and_then(Value::as_i64).map(|n| n.max(0)),
        closed: closed.is_some() || q.get("closed").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// An attachment as a Document (what Mastodon sends and reads back).
pub fn document(cfg: &Config, m: &Media) -> Value {
    let mut d = json!({
        "type": "Document",
        "mediaType": m.content_type,
        "url": m.remote_url.clone().unwrap_or_else(|| format!("{}/{}", cfg.media_base, m.original_key)),
        "name": m.description,
    });
    if !m.blurhash.is_empty() {
        d["blurhash"] = json!(m.blurhash);
    }
    // Unprocessed audio and video have no known size.
    if m.original.width > 0 && m.original.height > 0 {
        d["width"] = json!(m.original.width);
        d["height"] = json!(m.original.height);
    }
    if let Some((x, y)) = m.focus {
        d["focalPoint"] = json!([x, y]);
    }
    d
}

fn with_context(mut v: Value) -> Value {
    if let Value::Object(o) = &mut v {
        o.insert("@context".into(), vocab::context());
    }
    v
}

/// Create(Note) for a new status.
pub fn create(cfg: &Config, author: &Account, s: &Status) -> Value {
    let note = note(cfg, author, s);
    with_context(json!({
        "id": format!("{}/activity", status_uri(cfg, &author.username, &s.id)),
        "type": "Create",
        "actor": actor_uri(cfg, &author.username),
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }))
}

/// Update(Note) after an edit; the id names the edit so each one is a distinct activity.
pub fn update(cfg: &Config, author: &Account, s: &Status) -> Value {
    let note = note(cfg, author, s);
    with_context(json!({
        "id": format!("{}#updates/{}", status_uri(cfg, &author.username, &s.id), s.edited_at.unwrap_or(s.created_at)),
        "type": "Update",
        "actor": actor_uri(cfg, &author.username),
        "published": note["updated"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }))
}

/// Delete of a status, with a Tombstone as Mastodon sends it.
pub fn delete(cfg: &Config, author: &Account, s: &Status) -> Value {
    let (to, cc) = audience(cfg, author, s);
    let uri = status_uri(cfg, &author.username, &s.id);
    with_context(json!({
        "id": format!("{uri}#delete"),
        "type": "Delete",
        "actor": actor_uri(cfg, &author.username),
        "to": to,
        "cc": cc,
        "object": { "id": uri, "type": "Tombstone", "atomUri": uri },
    }))
}

/// Update of the actor after a profile change.
pub fn update_actor(cfg: &Config, a: &Account, at_ms: i64) -> Value {
    let id = actor_uri(cfg, &a.username);
    let mut doc = actor(cfg, a);
    if let Value::Object(o) = &mut doc {
        o.remove("@context");
    }
    with_context(json!({
        "id": format!("{id}#updates/{at_ms}"),
        "type": "Update",
        "actor": id,
        "to": [PUBLIC],
        "cc": [followers_uri(cfg, &a.username)],
        "object": doc,
    }))
}

pub fn follow(cfg: &Config, local: &Account, target_uri: &str, follow_id: &str) -> Value {
    with_context(json!({
        "id": format!("{}#follows/{follow_id}", actor_uri(cfg, &local.username)),
        "type": "Follow",
        "actor": actor_uri(cfg, &local.username),
        "object": target_uri,
    }))
}

/// Accept or Reject of a Follow received from `follower_uri`; the Follow is embedded (Mastodon
/// needs its id to match the follow it sent).
pub fn answer_follow(cfg: &Config, local: &Account, kind: &str, follow: &Value, follower_uri: &str) -> Value {
    let actor = actor_uri(cfg, &local.username);
    let follow_id = id_of(follow).unwrap_or_default();
    with_context(json!({
        "id": format!("{actor}#{}/{}", kind.to_ascii_lowercase(), crate::ids::snowflake()),
        "type": kind,
        "actor": actor,
        "to": [follower_uri],
        "object": { "id": follow_id, "type": "Follow", "actor": follower_uri, "object": actor },
    }))
}

/// Announce (boost) of a status: `boost` is the local boost, `object` the boosted status's id.
pub fn announce(cfg: &Config, local: &Account, boost: &Status, object: &str, object_author: &str) -> Value {
    let actor = actor_uri(cfg, &local.username);
    with_context(json!({
        "id": format!("{}/activity", status_uri(cfg, &local.username, &boost.id)),
        "type": "Announce",
        "actor": actor,
        "published": iso8601_ms(boost.created_at),
        "to": [PUBLIC],
        "cc": [object_author, followers_uri(cfg, &local.username)],
        "object": object,
    }))
}

/// Block of a remote account (Mastodon uses it to drop the follow both ways).
pub fn block(cfg: &Config, local: &Account, target_uri: &str, target_id: &str) -> Value {
    let actor = actor_uri(cfg, &local.username);
    with_context(
        json!({ "id": format!("{actor}#blocks/{target_id}"), "type": "Block", "actor": actor, "object": target_uri }),
    )
}

/// Like of a remote status; the id is stable per (account, status), so a repeat is one Like.
pub fn like(cfg: &Config, local: &Account, status_id: &str, object_uri: &str) -> Value {
    let actor = actor_uri(cfg, &local.username);
    with_context(json!({
        "id": format!("{actor}#likes/{status_id}"),
        "type": "Like",
        "actor": actor,
        "object": object_uri,
    }))
}

pub fn undo(cfg: &Config, local: &Account, inner: Value) -> Value {
    let actor = actor_uri(cfg, &local.username);
    let mut inner = inner;
    if let Value::Object(o) = &mut inner {
        o.remove("@context");
    }
    with_context(json!({
        "id": format!("{actor}#undo/{}", crate::ids::snowflake()),
        "type": "Undo",
        "actor": actor,
        "object": inner,
    }))
}

/// A Note's visibility from its audience, Mastodon's way: the public collection in `to` is
/// public, in `cc` unlisted; the author's followers collection is followers-only; else direct.
pub(crate) fn visibility_of(note: &Value, followers: Option<&str>) -> Visibility {
    let to = vocab::ids(note.get("to"));
    let cc = vocab::ids(note.get("cc"));
    let is_public = |l: &[&str]| l.iter().any(|a| *a == PUBLIC || *a == "as:Public" || *a == "Public");
    if is_public(&to) {
        Visibility::Public
    } else if is_public(&cc) {
        Visibility::Unlisted
    } else if followers.is_some_and(|f| to.contains(&f) || cc.contains(&f)) {
        Visibility::Private
    } else {
        Visibility::Direct
    }
}

/// An RFC 3339 time as milliseconds since the epoch.
pub(crate) fn parse_time(v: Option<&str>) -> Option<i64> {
    let t = time::OffsetDateTime::parse(v?, &Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

const ACTOR_TYPES: [&str; 5] = ["Person", "Service", "Application", "Group", "Organization"];

/// A fetched actor document as a remote account. `id` is the id Petrel already gave this actor,
/// or a new one. Checks the key belongs to the actor (`publicKey.owner` is the actor).
/// Caps on what one received post or actor may hold, so each costs a bounded number of reads,
/// writes and bytes (SECURITY.md lists them). Mastodon's own limits are in the same range: 500
/// characters of text by default, 4 attachments, and in practice tens of tags and mentions.
pub const MAX_CONTENT_BYTES: usize = 100_000;
/// Content is stored as received up to this many characters (the byte cap above refuses more).
pub const MAX_CONTENT_CHARS: usize = 50_000;
pub const MAX_ATTACHMENTS: usize = 8;
pub const MAX_MENTIONS: usize = 50;
pub const MAX_TAGS: usize = 30;
pub const MAX_TAG_CHARS: usize = 100;
/// `tag` and `attachment` entries read at all (the rest are ignored).
pub const MAX_TAG_OBJECTS: usize = 200;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_FIELDS: usize = 16;
pub const MAX_FIELD_CHARS: usize = 1_000;
pub const MAX_DESCRIPTION_CHARS: usize = 1_500;
pub const MAX_ALIASES: usize = 10;

/// At most `max` characters of `s`.
fn capped(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => s[..cut].to_string(),
        None => s,
    }
}

/// Mastodon's rule for remote usernames: letters, digits and `_`, with `.` and `-` inside.
pub fn valid_remote_username(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    !b.is_empty()
        && b.len() <= 100
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || *c == b'.' || *c == b'-')
}

pub fn remote_account(doc: &Value, id: String, now_ms: i64) -> Result<Account, ApError> {
    let uri = str_prop(doc, "id").ok_or_else(|| invalid("actor", "no id"))?;
    let kind = vocab::type_of(doc);
    if !ACTOR_TYPES.contains(&kind) {
        return Err(invalid("actor", format!("`{kind}` is not an actor type")));
    }
    let domain = vocab::host_of(uri).ok_or_else(|| invalid("actor", "id is not an http(s) URL"))?;
    let username = str_prop(doc, "preferredUsername").ok_or_else(|| invalid("actor", "no preferredUsername"))?;
    if !valid_remote_username(username) {
        return Err(invalid("actor", "preferredUsername is not a valid username"));
    }
    let inbox = str_prop(doc, "inbox").and_then(vocab::http_url).ok_or_else(|| invalid("actor", "no inbox"))?;
    let key = doc.get("publicKey").and_then(|k| match k {
        Value::Array(a) => a.first(),
        other => Some(other),
    });
    let key = key.ok_or_else(|| invalid("actor", "no publicKey"))?;
    let key_id = str_prop(key, "id").ok_or_else(|| invalid("actor", "publicKey has no id"))?;
    let pem = str_prop(key, "publicKeyPem").ok_or_else(|| invalid("actor", "publicKey has no publicKeyPem"))?;
    if key.get("owner").and_then(id_of).is_some_and(|owner| owner != uri) {
        return Err(invalid("actor", "publicKey.owner is another actor"));
    }
    // A key is established by its own host only: an actor naming a key elsewhere would make the
    // key's id point at this actor, and cut the key's real owner off.
    if !vocab::same_host(key_id, uri) {
        return Err(invalid("actor", "publicKey.id is on another host than the actor"));
    }
    // Links are kept only as absolute http(s) URLs: they reach HTML (profiles, mentions).
    let url_of = |name: &str| {
        doc.get(name).and_then(|v| {
            vocab::list(Some(v)).into_iter().find_map(|i| match i {
                Value::String(s) => vocab::http_url(s),
                Value::Object(o) => o.get("href").or_else(|| o.get("url")).and_then(|u| {
                    vocab::list(Some(u)).into_iter().find_map(|u| match u {
                        Value::String(s) => vocab::http_url(s),
                        other => id_of(other).and_then(vocab::http_url),
                    })
                }),
                _ => None,
            })
        })
    };
    let http_prop = |v: &Value, name: &str| str_prop(v, name).and_then(vocab::http_url);
    let fields: Vec<(String, String)> = vocab::list(doc.get("attachment"))
        .into_iter()
        .filter(|a| vocab::type_of(a) == "PropertyValue")
        .take(MAX_FIELDS)
        .filter_map(|a| Some((sanitize::text(str_prop(a, "name")?), sanitize::clean(str_prop(a, "value")?))))
        .map(|(n, v)| (capped(n, MAX_FIELD_CHARS), capped(v, MAX_FIELD_CHARS)))
        .collect();
    let published = parse_time(str_prop(doc, "published")).unwrap_or(now_ms);
    let display_name = capped(sanitize::text(str_prop(doc, "name").unwrap_or_default()), MAX_NAME_CHARS);
    let note = sanitize::clean(&capped(str_prop(doc, "summary").unwrap_or_default().to_string(), MAX_CONTENT_CHARS));
    let emojis = {
        let mut texts: Vec<&str> = vec![&display_name, &note];
        for (n, v) in &fields {
            texts.push(n);
            texts.push(v);
        }
        extras::emojis(doc.get("tag"), &texts)
    };
    Ok(Account {
        id,
        username: username.to_string(),
        display_name,
        note,
        created_at: published,
        locked: doc.get("manuallyApprovesFollowers").and_then(Value::as_bool).unwrap_or(false),
        bot: kind == "Service" || kind == "Application",
        discoverable: doc.get("discoverable").and_then(Value::as_bool).unwrap_or(false),
        fields,
        avatar_key: None,
        header_key: None,
        statuses_count: 0,
        followers_count: 0,
        following_count: 0,
        last_status_at: None,
        password_hash: String::new(),
        token_generation: 0,
        private_key_pem: String::new(),
        public_key_pem: pem.to_string(),
        remote: Some(RemoteActor {
            uri: uri.to_string(),
            domain,
            url: url_of("url").unwrap_or_else(|| uri.to_string()),
            inbox,
            shared_inbox: doc.get("endpoints").and_then(|e| http_prop(e, "sharedInbox")),
            followers: http_prop(doc, "followers"),
            outbox: http_prop(doc, "outbox"),
            key_id: key_id.to_string(),
            avatar_url: url_of("icon"),
            header_url: url_of("image"),
            also_known_as: vocab::ids(doc.get("alsoKnownAs"))
                .into_iter()
                .filter_map(vocab::http_url)
                .take(MAX_ALIASES)
                .collect(),
            moved_to: doc.get("movedTo").and_then(id_of).and_then(vocab::http_url),
            actor_type: kind.to_string(),
            fetched_at: now_ms,
        }),
        blocked_by: Vec::new(),
        muted_by: Vec::new(),
        posting: Default::default(),
        blocked_domains: Vec::new(),
        ttl: None,
        filters_count: 0,
        emojis,
        verified_links: Default::default(),
    })
}

/// What a remote Note says, before Petrel links it to its own ids.
#[derive(Debug, Clone)]
pub struct RemoteNote {
    pub status: Status,
    /// `href`s of Mention tags (to find local accounts mentioned).
    pub mentioned_uris: Vec<String>,
}

/// A remote Note as a status of `author` (whose id the status gets). The caller has checked that
/// the Note is on the author's host.
pub fn remote_status(note: &Value, author: &Account, id: String) -> Result<RemoteNote, ApError> {
    let uri = str_prop(note, "id").ok_or_else(|| invalid("Note", "no id"))?;
    let kind = vocab::type_of(note);
    if !extras::is_status_type(kind) {
        return Err(invalid("object", format!("`{kind}` is not a Note")));
    }
    let author_uri = author.remote.as_ref().map(|r| r.uri.as_str()).unwrap_or_default();
    if note.get("attributedTo").and_then(|a| vocab::ids(Some(a)).first().copied()) != Some(author_uri) {
        return Err(invalid("Note", "attributedTo is not the actor"));
    }
    let visibility = visibility_of(note, author.remote.as_ref().and_then(|r| r.followers.as_deref()));
    let mut tags = Vec::new();
    let mut mentioned_uris = Vec::new();
    // Only the first MAX_TAG_OBJECTS tags are read: what one post costs stays bounded.
    for t in vocab::list(note.get("tag")).into_iter().take(MAX_TAG_OBJECTS) {
        match vocab::type_of(t) {
            "Hashtag" => {
                if let Some(name) = str_prop(t, "name") {
                    let name = name.trim_start_matches('#').to_lowercase();
                    if !name.is_empty()
                        && name.chars().count() <= MAX_TAG_CHARS
                        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
                        && !tags.contains(&name)
                        && tags.len() < MAX_TAGS
                    {
                        tags.push(name);
                    }
                }
            }
            "Mention" => {
                if let Some(href) = str_prop(t, "href").and_then(vocab::http_url) {
                    if mentioned_uris.len() < MAX_MENTIONS && !mentioned_uris.contains(&href) {
                        mentioned_uris.push(href);
                    }
                }
            }
            _ => {}
        }
    }
    let mut media: Vec<Media> = vocab::list(note.get("attachment"))
        .into_iter()
        .take(MAX_TAG_OBJECTS)
        .filter_map(|a| {
            let url = match a.get("url")? {
                Value::String(s) => vocab::http_url(s)?,
                other => {
                    vocab::list(Some(other)).into_iter().find_map(|u| str_prop(u, "href").and_then(vocab::http_url))?
                }
            };
            let media_type = str_prop(a, "mediaType")
                .filter(|t| t.len() <= 100 && t.bytes().all(|b| b.is_ascii_graphic()))
                .unwrap_or("application/octet-stream")
                .to_string();
            let kind = match media_type.split('/').next() {
                Some("image") => "image",
                Some("video") => "video",
                Some("audio") => "audio",
                _ => "unknown",
            };
            let dim = |name: &str| a.get(name).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
            let dims = Dimensions { width: dim("width"), height: dim("height"), size: 0 };
            let focus = a
                .get("focalPoint")
                .and_then(Value::as_array)
                .and_then(|p| Some((p.first()?.as_f64()?.clamp(-1.0, 1.0), p.get(1)?.as_f64()?.clamp(-1.0, 1.0))));
            Some(Media {
                id: crate::ids::snowflake(),
                account_id: author.id.clone(),
                kind: kind.into(),
                content_type: media_type,
                original_key: String::new(),
                small_key: String::new(),
                original: dims,
                small: dims,
                blurhash: str_prop(a, "blurhash").unwrap_or_default().chars().take(100).collect(),
                description: str_prop(a, "name")
                    .map(|n| capped(sanitize::text(n), MAX_DESCRIPTION_CHARS))
                    .filter(|n| !n.is_empty()),
                focus,
                created_at: 0,
                status_id: Some(id.clone()),
                ttl: None,
                remote_url: Some(url),
            })
        })
        .take(MAX_ATTACHMENTS)
        .collect();
    // A video, audio or image object without attachments is itself the media (PeerTube, Funkwhale).
    if media.is_empty() {
        if let Some((url, media_type, width, height)) = extras::self_media(note) {
            let dims = Dimensions { width, height, size: 0 };
            media.push(Media {
                id: crate::ids::snowflake(),
                account_id: author.id.clone(),
                kind: media_type.split('/').next().unwrap_or("unknown").to_string(),
                content_type: media_type,
                original_key: String::new(),
                small_key: String::new(),
                original: dims,
                small: dims,
                blurhash: String::new(),
                description: extras::mapped_text(note, "name")
                    .map(|n| capped(sanitize::text(n), MAX_DESCRIPTION_CHARS))
                    .filter(|n| !n.is_empty()),
                focus: None,
                created_at: 0,
                status_id: Some(id.clone()),
                ttl: None,
                remote_url: Some(url),
            });
        }
    }
    let remote_url = extras::object_url(note.get("url"));
    let content = str_prop(note, "content")
        .or_else(|| note.get("contentMap").and_then(|m| m.as_object()?.values().next()?.as_str()))
        .unwrap_or_default();
    let language = ["contentMap", "nameMap", "summaryMap"]
        .iter()
        .find_map(|m| note.get(*m).and_then(|m| m.as_object()?.keys().next().cloned()))
        .filter(|l| l.len() <= 8);
    let created_at = parse_time(str_prop(note, "published")).unwrap_or_else(crate::clock::now_ms);
    // Over-long content is refused rather than cut: a cut could break the HTML or the meaning.
    if content.len() > MAX_CONTENT_BYTES {
        return Err(invalid("Note", format!("content over {MAX_CONTENT_BYTES} bytes")));
    }
    // Converted objects (a video, an event, an article…) show what Mastodon shows: the name, the
    // summary and a link, with no content warning; the others their content under the summary.
    let (content, spoiler) = if extras::is_converted(kind) {
        let link = remote_url.clone().or_else(|| vocab::http_url(uri)).unwrap_or_default();
        (extras::converted_content(note, &link), String::new())
    } else {
        let spoiler = extras::mapped_text(note, "summary").unwrap_or_default();
        (content.to_string(), capped(sanitize::text(spoiler), MAX_NAME_CHARS * 4))
    };
    let content = match extras::quote_url(note) {
        Some(quoted) => extras::with_quote_link(&content, &quoted),
        None => content,
    };
    let emojis = extras::emojis(note.get("tag"), &[&content, &spoiler]);
    Ok(RemoteNote {
        status: Status {
            id,
            account_id: author.id.clone(),
            text: String::new(),
            content: sanitize::clean(&content),
            sensitive: note.get("sensitive").and_then(Value::as_bool).unwrap_or(false) || !spoiler.is_empty(),
            spoiler_text: spoiler,
            visibility,
            language,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            in_reply_to_uri: note.get("inReplyTo").and_then(id_of).map(str::to_string),
            created_at,
            edited_at: parse_time(str_prop(note, "updated")).filter(|u| *u > created_at),
            tags,
            mentions: Vec::new(),
            favourites_count: 0,
            reblogs_count: 0,
            replies_count: 0,
            media,
            application: None,
            application_website: None,
            remote_uri: Some(uri.to_string()),
            remote_url,
            reblog_of: None,
            conversation: None,
            poll: if kind == "Question" { remote_poll(note) } else { None },
            poll_tally: Default::default(),
            emojis,
            card: None,
            ttl: None,
        },
        mentioned_uris,
    })
}
