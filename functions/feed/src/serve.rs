//! Serving feeds and pages: each newest page is **one object read and no table read**, with
//! `ETag`, `Last-Modified`, `Cache-Control` and 304 answers to conditional requests. Older pages
//! (`?max_id=`) are rendered from the table on demand. axum's matcher takes `/@{name}` but not a
//! parameter followed by a suffix (`/@{name}.rss`), so the suffix is parsed here.

use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use petrel::mastodon::convert;
use petrel::model::valid_username;
use petrel::repo::{accounts, statuses};
use petrel::store::Blob;
use petrel::Ctx;
use serde::Deserialize;

use crate::objects::{self, Format};
use crate::view::{is_listed, Author, Item};
use crate::{load, pages, render, FeedError};

/// Readers poll often; a minute keeps a CDN useful without hiding a new post for long.
const CACHE_NEWEST: &str = "public, max-age=60";
/// An archive page changes only when an old post is edited or deleted.
const CACHE_ARCHIVE: &str = "public, max-age=3600";

/// What a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Profile(String),
    Post(String, String),
    AccountFeed { username: String, with_replies: bool, format: Format },
    TagFeed { tag: String, format: Format },
}

impl Target {
    pub fn key(&self) -> String {
        match self {
            Target::Profile(u) => objects::profile(u),
            Target::Post(u, id) => objects::post(u, id),
            Target::AccountFeed { username, with_replies, format } => {
                objects::account_feed(username, *with_replies, *format)
            }
            Target::TagFeed { tag, format } => objects::tag_feed(tag, *format),
        }
    }
}

/// `/@{name}` with an optional `.rss`, `.atom` or `.json`.
pub fn parse_account(segment: &str) -> Option<Target> {
    let (name, ext) = match segment.rsplit_once('.') {
        Some((name, ext)) => (name, Some(ext)),
        None => (segment, None),
    };
    if !valid_username(name) {
        return None;
    }
    match ext {
        None => Some(Target::Profile(name.to_string())),
        Some(ext) => Format::from_ext(ext).map(|format| Target::AccountFeed {
            username: name.into(),
            with_replies: false,
            format,
        }),
    }
}

/// `/@{name}/{id}`, `/@{name}/feed.json`, `/@{name}/with_replies.{rss,atom,json}`.
pub fn parse_account_sub(name: &str, rest: &str) -> Option<Target> {
    if !valid_username(name) {
        return None;
    }
    let username = name.to_string();
    if statuses::valid_id(rest) {
        return Some(Target::Post(username, rest.to_string()));
    }
    match rest.rsplit_once('.')? {
        ("feed", "json") => Some(Target::AccountFeed { username, with_replies: false, format: Format::Json }),
        ("with_replies", ext) => {
            Format::from_ext(ext).map(|format| Target::AccountFeed { username, with_replies: true, format })
        }
        _ => None,
    }
}

/// `/tags/{tag}.rss` and `.atom`.
pub fn parse_tag(segment: &str) -> Option<Target> {
    let (tag, ext) = segment.rsplit_once('.')?;
    let format = Format::from_ext(ext).filter(|f| *f != Format::Json)?;
    let tag = tag.to_lowercase();
    let ok = !tag.is_empty() && tag.chars().count() <= 100 && tag.chars().all(|c| c.is_alphanumeric() || c == '_');
    ok.then_some(Target::TagFeed { tag, format })
}

/// Asks for ActivityPub JSON: `application/activity+json`, or `application/ld+json` with the
/// ActivityStreams profile.
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|part| {
        let p = part.trim().to_ascii_lowercase();
        p.starts_with("application/activity+json")
            || (p.starts_with("application/ld+json") && p.contains("https://www.w3.org/ns/activitystreams"))
    })
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    max_id: Option<String>,
}

pub async fn account(
    State(ctx): State<Ctx>,
    Path(segment): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(target) = parse_account(&segment) else { return not_found(&ctx) };
    if let Target::Profile(name) = &target {
        if wants_activity_json(&headers) {
            return redirect(&convert::actor_uri(&ctx.config, name));
        }
    }
    serve(&ctx, target, q.max_id, &headers).await
}

pub async fn account_sub(
    State(ctx): State<Ctx>,
    Path((name, rest)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(target) = parse_account_sub(&name, &rest) else { return not_found(&ctx) };
    if let Target::Post(name, id) = &target {
        if wants_activity_json(&headers) {
            return redirect(&convert::status_uri(&ctx.config, name, id));
        }
    }
    serve(&ctx, target, q.max_id, &headers).await
}

pub async fn tag(
    State(ctx): State<Ctx>,
    Path(segment): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(target) = parse_tag(&segment) else { return not_found(&ctx) };
    serve(&ctx, target, q.max_id, &headers).await
}

fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_string()), (header::VARY, "Accept".to_string())])
        .into_response()
}

async fn serve(ctx: &Ctx, target: Target, max_id: Option<String>, headers: &HeaderMap) -> Response {
    let result = match max_id {
        Some(max_id) if !matches!(target, Target::Post(..)) => archive(ctx, &target, &max_id).await,
        _ => newest(ctx, &target).await,
    };
    match result {
        Ok(Some(found)) => respond(found, headers),
        Ok(None) => not_found(ctx),
        Err(e) => {
            tracing::error!(error = %e, "serving a feed or page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain")], "internal error")
                .into_response()
        }
    }
}

/// A document to send, with its validators.
struct Found {
    blob: Blob,
    cache: &'static str,
}

/// The newest page: one object read. Only when nothing was rendered yet (an account from
/// before feeds existed, a hashtag not posted to since) is it rendered now from the table.
async fn newest(ctx: &Ctx, target: &Target) -> Result<Option<Found>, FeedError> {
    let key = target.key();
    if let Some(blob) = ctx.stores.blobs.get(&key).await? {
        return Ok(Some(Found { blob, cache: CACHE_NEWEST }));
    }
    if !render_missing(ctx, target).await? {
        return Ok(None);
    }
    Ok(ctx.stores.blobs.get(&key).await?.map(|blob| Found { blob, cache: CACHE_NEWEST }))
}

/// Renders the objects a missing one belongs to; false when there is nothing public to show.
async fn render_missing(ctx: &Ctx, target: &Target) -> Result<bool, FeedError> {
    let table = ctx.stores.table.as_ref();
    match target {
        Target::Profile(name) | Target::AccountFeed { username: name, .. } => {
            let Some(account) = accounts::by_username(table, name).await? else { return Ok(false) };
            render::render(ctx, &account.id, &[], &[]).await?;
            Ok(true)
        }
        Target::Post(name, id) => {
            let Some(account) = accounts::by_username(table, name).await? else { return Ok(false) };
            let Some(status) = statuses::get(table, id).await?.filter(|s| s.account_id == account.id && is_listed(s))
            else {
                return Ok(false);
            };
            let item = Item::of(&ctx.config, &Author::of(&ctx.config, &account), &status);
            render::put_all(ctx, vec![render::post_object(&ctx.config, &account, &item)]).await?;
            Ok(true)
        }
        Target::TagFeed { tag, .. } => {
            // Only hashtags with posts get objects, so probing random tags stores nothing.
            let page = load::tag_feed(ctx, tag, None, crate::items(), &[]).await?;
            if page.items.is_empty() {
                return Ok(false);
            }
            render::put_all(ctx, render::tag_objects(tag, &page)?).await?;
            Ok(true)
        }
    }
}

/// An older page of a feed or the profile, rendered from the table.
async fn archive(ctx: &Ctx, target: &Target, max_id: &str) -> Result<Option<Found>, FeedError> {
    if !statuses::valid_id(max_id) {
        return Ok(None);
    }
    let table = ctx.stores.table.as_ref();
    let n = crate::items();
    let (bytes, content_type, updated) = match target {
        Target::Post(..) => return Ok(None),
        Target::TagFeed { tag, format } => {
            let page = load::tag_feed(ctx, tag, Some(max_id), n, &[]).await?;
            (render::feed(&page, *format)?, format.content_type(), page.updated_ms())
        }
        Target::Profile(name) | Target::AccountFeed { username: name, .. } => {
            let Some(account) = accounts::by_username(table, name).await? else { return Ok(None) };
            let feeds = load::account_feeds(ctx, &account, Some(max_id), n, &[]).await?;
            match target {
                Target::AccountFeed { with_replies, format, .. } => {
                    let page = if *with_replies { &feeds.with_replies } else { &feeds.posts };
                    (render::feed(page, *format)?, format.content_type(), page.updated_ms())
                }
                _ => {
                    (pages::profile(&ctx.config, &account, &feeds.posts), pages::CONTENT_TYPE, feeds.posts.updated_ms())
                }
            }
        }
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let etag = format!("\"{}\"", digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect::<String>());
    let last_modified = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(updated.max(0) as u64);
    let blob = Blob { bytes: bytes.into(), content_type: content_type.to_string(), etag, last_modified };
    Ok(Some(Found { blob, cache: CACHE_ARCHIVE }))
}

/// RFC 9110 §13.1: If-None-Match wins over If-Modified-Since; ETags compare weakly for GET.
fn not_modified(blob: &Blob, headers: &HeaderMap) -> bool {
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        let ours = blob.etag.trim_start_matches("W/");
        return inm.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == ours);
    }
    if let Some(since) = headers.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()) {
        if let Ok(since) = httpdate::parse_http_date(since) {
            // HTTP dates have whole seconds.
            let modified = blob.last_modified.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            let since = since.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            return modified <= since;
        }
    }
    false
}

fn respond(found: Found, headers: &HeaderMap) -> Response {
    let Found { blob, cache } = found;
    let html = blob.content_type.starts_with("text/html");
    let mut h = HeaderMap::new();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(header::ETAG, &blob.etag);
    set(header::LAST_MODIFIED, &httpdate::fmt_http_date(blob.last_modified));
    set(header::CACHE_CONTROL, cache);
    if html {
        // The same URL redirects ActivityPub clients, so caches must key on Accept.
        set(header::VARY, "Accept");
    } else {
        // Web-based readers fetch feeds from other origins.
        set(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    }
    if not_modified(&blob, headers) {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    set(header::CONTENT_TYPE, &blob.content_type);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    (StatusCode::OK, h, blob.bytes).into_response()
}

fn not_found(ctx: &Ctx) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, pages::CONTENT_TYPE), (header::CACHE_CONTROL, "public, max-age=60")],
        pages::not_found(&ctx.config),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_parse_to_their_targets() {
        assert_eq!(parse_account("alice"), Some(Target::Profile("alice".into())));
        assert_eq!(
            parse_account("alice.atom"),
            Some(Target::AccountFeed { username: "alice".into(), with_replies: false, format: Format::Atom })
        );
        assert_eq!(parse_account("alice.html"), None);
        assert_eq!(parse_account("../etc"), None);
        assert_eq!(parse_account_sub("alice", "123"), Some(Target::Post("alice".into(), "123".into())));
        assert_eq!(
            parse_account_sub("alice", "feed.json"),
            Some(Target::AccountFeed { username: "alice".into(), with_replies: false, format: Format::Json })
        );
        assert_eq!(
            parse_account_sub("alice", "with_replies.rss"),
            Some(Target::AccountFeed { username: "alice".into(), with_replies: true, format: Format::Rss })
        );
        assert_eq!(parse_account_sub("alice", "feed.rss"), None);
        assert_eq!(parse_tag("Rust.rss"), Some(Target::TagFeed { tag: "rust".into(), format: Format::Rss }));
        assert_eq!(parse_tag("rust.json"), None);
        assert_eq!(parse_tag("a-b.rss"), None);
    }

    #[test]
    fn activity_json_is_recognised_in_accept() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static("text/html, application/activity+json"));
        assert!(wants_activity_json(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""),
        );
        assert!(wants_activity_json(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/ld+json, text/html"));
        assert!(!wants_activity_json(&h));
    }

    #[test]
    fn conditional_requests() {
        let modified = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let blob = Blob {
            bytes: "x".into(),
            content_type: "text/plain".into(),
            etag: "\"abc\"".into(),
            last_modified: modified,
        };
        let mut h = HeaderMap::new();
        assert!(!not_modified(&blob, &h));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"zzz\", W/\"abc\""));
        assert!(not_modified(&blob, &h));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"zzz\""));
        h.insert(header::IF_MODIFIED_SINCE, HeaderValue::from_str(&httpdate::fmt_http_date(modified)).unwrap());
        assert!(!not_modified(&blob, &h), "If-None-Match decides when present");
        h.remove(header::IF_NONE_MATCH);
        assert!(not_modified(&blob, &h));
        let earlier = modified - std::time::Duration::from_secs(1);
        h.insert(header::IF_MODIFIED_SINCE, HeaderValue::from_str(&httpdate::fmt_http_date(earlier)).unwrap());
        assert!(!not_modified(&blob, &h));
    }
}
