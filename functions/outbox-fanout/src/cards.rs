//! Link preview cards and profile link checks, made here off the request path from `Card` and
//! `VerifyLinks` messages. Pages are fetched through the SSRF-safe client under limits of their
//! own (time, bytes, redirects, HTML only); a card's image is copied into the bucket at thumbnail
//! size through the media function's pipeline (decoded within a pixel budget, re-encoded without
//! metadata), never hotlinked. Every failure of a remote page ends the work quietly: a card is a
//! nicety, and the message is not retried for it.

use std::collections::BTreeMap;
use std::time::Duration;

use media::pipeline::{self, Shape};
use petrel::activitypub::fetch::{FetchError, FetchedPage};
use petrel::activitypub::vocab;
use petrel::consumer::Settled;
use petrel::events::{CardWork, VerifyWork};
use petrel::links::{self, PageMeta};
use petrel::model::PreviewCard;
use petrel::repo::cards::{self, Known};
use petrel::repo::{accounts, statuses};
use petrel::Ctx;
use serde_json::Value;
use url::Url;

use crate::FanoutError;

/// A page is read up to this many bytes (its head is what matters).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// An oEmbed document.
pub const MAX_OEMBED_BYTES: usize = 64 * 1024;
/// A card's image before processing.
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;
/// Pixels a card's image may have (decoded: 32 MB of RGBA at most).
pub const MAX_IMAGE_PIXELS: u64 = 8_000_000;
/// Each fetch, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Thumbnail size of a card image (Mastodon's PreviewCard image: 640×640 at most).
pub const IMAGE_SIDE: u32 = 640;

const ACCEPT_HTML: &str = "text/html, application/xhtml+xml;q=0.9";
const ACCEPT_IMAGE: &str = "image/jpeg, image/png, image/webp, image/gif";
const ACCEPT_OEMBED: &str = "application/json+oembed, application/json;q=0.9";

pub async fn card(ctx: &Ctx, work: CardWork) -> Result<Settled, FanoutError> {
    let table = ctx.stores.table.as_ref();
    let Some(status) = statuses::get(table, &work.status_id).await? else {
        return Ok(Settled::Done);
    };
    let Some(url) = links::card_link(&status) else {
        return Ok(Settled::Done);
    };
    // A link to this server's own pages gets no card (Mastodon's `bad_url?`).
    if vocab::same_host(&url, &ctx.config.base_url()) {
        return Ok(Settled::Done);
    }
    let card = match cards::get(table, &url).await? {
        Some(Known::Card(card)) => Some(*card),
        Some(Known::None) => None,
        None => {
            let made = make_card(ctx, &url).await;
            cards::put(table, &url, made.as_ref()).await?;
            made
        }
    };
    if let Some(card) = card {
        cards::attach(table, &status, &card).await?;
    }
    Ok(Settled::Done)
}

/// Fetches `url` and makes its card; `None` when the page gives none or cannot be had.
pub async fn make_card(ctx: &Ctx, url: &str) -> Option<PreviewCard> {
    let parsed = Url::parse(url).ok()?;
    let page = match fetch(ctx, &parsed, ACCEPT_HTML, &["text/html", "application/xhtml+xml"], MAX_PAGE_BYTES).await {
        Ok(page) => page,
        Err(e) => {
            tracing::info!(url, error = %e, "no preview card: page not fetched");
            return None;
        }
    };
    if page.robots.as_deref().is_some_and(refuses_preview) {
        return None;
    }
    let html = String::from_utf8_lossy(&page.body);
    let meta = links::page_meta(&html, &page.url);
    if meta.no_preview {
        return None;
    }
    let oembed = match &meta.oembed {
        Some(o) => oembed(ctx, o).await,
        None => None,
    };
    let mut card = card_from(url, &page.url, &meta, oembed.as_ref())?;
    let image =
        oembed.as_ref().and_then(|o| vocab::str_prop(o, "thumbnail_url")).and_then(vocab::http_url).or(meta.image);
    if let Some(image) = image {
        if let Some((key, w, h, blurhash)) = copy_image(ctx, url, &image).await {
            card.image_key = Some(key);
            (card.width, card.height, card.blurhash) = (w, h, blurhash);
        }
    }
    Some(card)
}

fn refuses_preview(robots: &str) -> bool {
    let r = robots.to_ascii_lowercase();
    r.contains("noindex") || r.contains("nopreview") || r.split([',', ' ']).any(|w| w.trim() == "none")
}

async fn fetch(
    ctx: &Ctx,
    url: &Url,
    accept: &'static str,
    types: &[&str],
    max: usize,
) -> Result<FetchedPage, FetchError> {
    ctx.http.get_limited(url, accept, types, max, FETCH_TIMEOUT).await
}

async fn oembed(ctx: &Ctx, url: &str) -> Option<Value> {
    let url = Url::parse(url).ok()?;
    let types = ["application/json+oembed", "application/json", "text/javascript"];
    let page = fetch(ctx, &url, ACCEPT_OEMBED, &types, MAX_OEMBED_BYTES).await.ok()?;
    serde_json::from_slice::<Value>(&page.body).ok().filter(Value::is_object)
}

fn text(v: Option<&str>, max: usize) -> String {
    let t = petrel::activitypub::sanitize::text(v.unwrap_or_default());
    let t = html_escape::decode_html_entities(&t);
    t.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(max).collect()
}

/// The card of a page from its oEmbed document (preferred, as Mastodon prefers it) and its
/// OpenGraph / Twitter / HTML data. `None` without a title.
pub fn card_from(url: &str, final_url: &Url, meta: &PageMeta, oembed: Option<&Value>) -> Option<PreviewCard> {
    let o = |name: &str| oembed.and_then(|o| vocab::str_prop(o, name));
    let title = text(o("title").or(meta.title.as_deref()), 300);
    if title.is_empty() {
        return None;
    }
    let host = final_url.host_str().unwrap_or_default().to_string();
    let provider_url = o("provider_url").and_then(vocab::http_url).unwrap_or_default();
    Some(PreviewCard {
        url: url.to_string(),
        title,
        description: text(meta.description.as_deref(), 1000),
        kind: if o("type") == Some("photo") { "photo".into() } else { "link".into() },
        author_name: text(o("author_name").or(meta.author.as_deref()), 200),
        author_url: o("author_url").and_then(vocab::http_url).unwrap_or_default(),
        provider_name: {
            let p = text(o("provider_name").or(meta.site_name.as_deref()), 200);
            if p.is_empty() {
                host
            } else {
                p
            }
        },
        provider_url,
        image_key: None,
        width: 0,
        height: 0,
        blurhash: String::new(),
        language: meta.language.clone(),
        fetched_at: petrel::clock::now_ms(),
    })
}

/// Copies a card's image into the bucket at thumbnail size; its key, size and blurhash.
async fn copy_image(ctx: &Ctx, page_url: &str, image: &str) -> Option<(String, u32, u32, String)> {
    let url = Url::parse(image).ok()?;
    let fetched = match fetch(ctx, &url, ACCEPT_IMAGE, &["image/"], MAX_IMAGE_BYTES).await {
        Ok(f) => f,
        Err(e) => {
            tracing::info!(image, error = %e, "card image not fetched");
            return None;
        }
    };
    let processed =
        match pipeline::process_thumbnail(&fetched.body, Shape::Fit(IMAGE_SIDE, IMAGE_SIDE), MAX_IMAGE_PIXELS) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(image, error = %e, "card image refused");
                return None;
            }
        };
    // One key per page URL: a refreshed card overwrites its old image.
    let key = format!("media/cards/{}.{}", petrel::crypto::sha256_hex(page_url), processed.extension);
    let (w, h) = (processed.original.width, processed.original.height);
    let stored = ctx.stores.blobs.put(&key, processed.original.bytes.into(), processed.content_type).await;
    match stored {
        Ok(_) => Some((key, w, h, processed.blurhash)),
        Err(e) => {
            tracing::warn!(image, error = %e, "card image not stored");
            None
        }
    }
}

/// Checks each https profile field of a local account for a page that links back to the
/// profile with `rel="me"` (Mastodon's rule), and records those that do; values that no longer
/// link back (or changed) lose their mark.
pub async fn verify_links(ctx: &Ctx, work: VerifyWork) -> Result<Settled, FanoutError> {
    let table = ctx.stores.table.as_ref();
    let Some(account) = accounts::by_id(table, &work.account_id).await? else {
        return Ok(Settled::Done);
    };
    if !account.is_local() {
        return Ok(Settled::Done);
    }
    let profile = petrel::mastodon::convert::account_url(&ctx.config, &account.username);
    let actor = petrel::mastodon::convert::actor_uri(&ctx.config, &account.username);
    let mut verified = BTreeMap::new();
    for (_, value) in account.fields.iter().take(petrel::activitypub::convert::MAX_FIELDS) {
        let Some(link) = links::field_link(value, ctx.config.allow_private_network) else { continue };
        if links_back(ctx, &link, &[&profile, &actor]).await {
            // A mark already held keeps its first time, as Mastodon keeps `verified_at`.
            let at = account.verified_links.get(value).copied().unwrap_or_else(petrel::clock::now_ms);
            verified.insert(value.clone(), at);
        }
    }
    if verified != account.verified_links {
        accounts::set_verified_links(table, &account.id, &verified).await?;
    }
    Ok(Settled::Done)
}

/// Whether the page at `link` has a `rel="me"` link to one of `targets`.
pub async fn links_back(ctx: &Ctx, link: &str, targets: &[&str]) -> bool {
    let Ok(url) = Url::parse(link) else { return false };
    let page = match fetch(ctx, &url, ACCEPT_HTML, &["text/html", "application/xhtml+xml"], MAX_PAGE_BYTES).await {
        Ok(page) => page,
        Err(e) => {
            tracing::info!(link, error = %e, "profile link not fetched");
            return false;
        }
    };
    let html = String::from_utf8_lossy(&page.body);
    let same = |a: &str, b: &str| a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'));
    links::rel_me_links(&html, &page.url).iter().any(|me| targets.iter().any(|t| same(me, t)))
}
